"""Small random graphs of named nodes and their transitive closure computed by brute force, the reference of the
tests that store relations in a database file."""

from __future__ import annotations

import numpy as np


def named_edges(seed: int, n: int = 25, m: int = 60) -> list[tuple[str, str]]:
    """Up to ``m`` distinct random edges between ``n`` nodes named ``n0``, ``n1``, ..."""
    pairs = np.random.default_rng(seed).integers(0, n, size=(m, 2))
    return sorted({(f"n{a}", f"n{b}") for a, b in pairs})


def closure(edges) -> set:
    """The transitive closure of ``edges``, by repeated joins of Python sets."""
    path = set(edges)
    while True:
        more = {(a, d) for a, b in path for c, d in edges if b == c} - path
        if not more:
            return path
        path |= more
