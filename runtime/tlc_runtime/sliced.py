"""Sliced contraction: loop over the values of some summed indices so every intermediate fits a memory limit."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from tlc_runtime.contraction import contract


def evaluate_sliced(
    terms: Sequence[str],
    output: str,
    sizes: dict[str, int],
    arrays: Sequence[Any],
    path: Sequence[tuple[int, ...]],
    sliced: Sequence[str],
) -> Any:
    """Contract checked ``terms -> output`` along ``path`` one slice of ``sliced`` at a time, summing the slices."""
    if not sliced:
        return contract(",".join(terms) + "->" + output, *arrays, optimize=list(path))
    eq = ",".join("".join(c for c in t if c not in sliced) for t in terms) + "->" + output
    total = None
    for values in itertools.product(*(range(sizes[c]) for c in sliced)):
        at = dict(zip(sliced, values))
        # An axis of extent 1 broadcasts, so every slice reads its single entry.
        views = [
            a[tuple((at[c] if n != 1 else 0) if c in at else slice(None) for c, n in zip(t, a.shape))]
            for t, a in zip(terms, arrays)
        ]
        part = contract(eq, *views, optimize=list(path))
        total = part if total is None else total + part
    return total


def contract_sliced(subscripts: str, *operands, path, sliced):
    """Evaluate explicit ``subscripts`` (as tlc emits them) along ``path``, slicing the ``sliced`` indices."""
    arrays = [np.asarray(op) for op in operands]
    inputs, _, output = subscripts.partition("->")
    terms = inputs.split(",")
    sizes: dict[str, int] = {}
    for term, array in zip(terms, arrays):
        for c, n in zip(term, array.shape):
            sizes[c] = max(sizes.get(c, 1), n)
    return evaluate_sliced(terms, output, sizes, arrays, [tuple(step) for step in path], tuple(sliced))
