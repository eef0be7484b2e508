"""A Boolean matrix product on bitset rows by the closure's compiled word-OR loop (``native.ClosureKernel``).

``H(x, z) = A(x, y) B(y, z)`` holds where some ``y`` has ``A[x, y]`` and ``B[y, z]``: row ``x`` of the product is the
OR of the rows ``B[y]`` over the ``y`` of row ``x`` of ``A``. The rows of ``B`` become bitsets (64 columns a word) in
one ``(ys + xs, words)`` uint64 array whose first ``ys`` rows they are; the closure kernel, given row ``ys + x`` with
successors ``A[x]`` (and the rows of ``B`` with none), ORs them into the last ``xs`` rows, threads taking ranges of
words, and those rows are the product's. The work is ``nnz(A) × words`` word ORs where a float product (what
``tlc_runtime.sparse`` runs for a dense operand) takes ``xs × ys × zs`` multiply-adds; both give the same bits.
"""

from __future__ import annotations

import numpy as np

WORD = 64


def product(left, right, kernel) -> np.ndarray:
    """``left @ right > 0`` as a dense Boolean array: ``left`` a scipy sparse matrix or an array (true where
    nonzero), ``right`` an array (true where nonzero) with as many rows as ``left`` has columns, ``kernel`` a
    ``native.ClosureKernel``."""
    xs, ys = left.shape
    zs = right.shape[1]
    if right.shape[0] != ys:
        raise ValueError(f"a product of {left.shape} and {right.shape} matrices")
    if isinstance(left, np.ndarray):
        rows, cols = np.nonzero(left)
    else:
        coo = left.tocoo()
        keep = coo.data != 0
        rows, cols = coo.row[keep], coo.col[keep]
    indptr = np.zeros(ys + xs + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=xs), out=indptr[ys + 1:])
    successors = cols[np.argsort(rows, kind="stable")].astype(np.int64)
    words = max(1, -(-zs // WORD))
    closed = np.zeros((ys + xs, words), dtype=np.uint64)
    packed = np.packbits(np.asarray(right) != 0, axis=1, bitorder="little")      # little-endian words
    closed[:ys].view(np.uint8)[:, :packed.shape[1]] = packed
    kernel(closed, ys + np.arange(xs, dtype=np.int64), indptr, successors)
    return np.unpackbits(closed[ys:].view(np.uint8), axis=1, count=zs, bitorder="little").view(bool)
