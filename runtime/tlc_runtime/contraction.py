"""Contractions along a precomputed path with NumPy alone, so emitted code needs no opt_einsum.

``numpy.einsum`` takes an explicit path (``optimize=["einsum_path", (0, 1), ...]``, the same pairs as
opt_einsum's path format) and then contracts pair by pair, through BLAS (``tensordot``) where a pair
allows it. Given the same path it is about as fast as ``opt_einsum.contract`` on large contractions and
2-4x faster on small ones (less per-call work): ``python benchmarks/bench_runtime_contract.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def contract(subscripts: str, *operands, optimize: Sequence[Sequence[int]]):
    """``numpy.einsum(subscripts, *operands)`` contracted along the path ``optimize`` (opt_einsum's format).

    NumPy spells indices only with the 52 ASCII letters; subscripts with other symbols (opt_einsum's
    names for larger networks, never emitted by tlc's backends) go to ``opt_einsum.contract``,
    imported only then."""
    path = [tuple(step) for step in optimize]
    if subscripts.isascii():
        if not path:    # numpy.einsum returns the operand unchanged for an empty explicit path
            return np.einsum(subscripts, *operands)
        return np.einsum(subscripts, *operands, optimize=["einsum_path", *path])
    import opt_einsum   # only for more than 52 distinct indices
    return opt_einsum.contract(subscripts, *operands, optimize=path)
