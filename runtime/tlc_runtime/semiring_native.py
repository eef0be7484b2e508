"""The semiring recursion's native kernels (``tlc.backends.llvm.semiring``): relaxation and label setting.

``SemiringKernel.relax`` runs ``tlc_runtime.semiring._relax``'s rounds natively, a slice at a time: slices never
read each other, so a slice's rounds are the global loop's restricted to it, the global loop's round count is the
most any slice takes, and threads take disjoint ranges of slices. A slice still changing in the last allowed
round is the dense loop's failure: ``relax`` then says so, with the state after that round, and the state after
the round before (``relax`` again with one round less) gives the dense loop's message.

``SemiringKernel.label_setting`` is Dijkstra's algorithm with a 4-ary heap, generalised: it is exact when
extending a path never makes it better (``x ⊗ w`` is never better than ``x``) and ``⊗`` is monotone, since then
the best unsettled label cannot be improved by any path through unsettled elements, and a best path needs no
cycle (removing one never makes it worse), so the dense rounds settle within ``n`` rounds, the bound under which
it runs. That holds for ``min=`` by ``+`` with non-negative weights, ``max=`` by ``min`` (widest paths: ``min(x,
w) <= x``) and ``max=`` by ``*`` with weights in ``[0, 1]`` (``x * w <= x`` for ``x >= 0``, also after
rounding); every label is the same floating-point value as the rounds' (the best candidate ``x ⊗ w`` over the
settled predecessors' final values), and min/max are exact.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np

from tlc_runtime.native import default_threads, in_threads

SLICE_WORK = 1 << 16
"""Edges times slices below which a semiring kernel runs on one thread."""


@dataclass(frozen=True)
class SemiringSpec:
    """The kernels of one (fold, combine) compiled as ``symbol`` (relaxation) and ``symbol_dijkstra``."""

    symbol: str
    fold: str
    combine: str

    @property
    def dijkstra_symbol(self) -> str:
        """The label-setting kernel's function name."""
        return f"{self.symbol}_dijkstra"

    def bind(self, address_of, threads: int | None = None, owner=None) -> "SemiringKernel":
        """The callable kernels, with addresses from ``address_of(symbol)``."""
        return SemiringKernel(self, (address_of(self.symbol), address_of(self.dijkstra_symbol)), threads, owner)


class SemiringKernel:
    """Both kernels of one semiring; ``edges`` is the CSR ``(indptr, indices, data)`` of the live weights and the
    value arrays are ``slices × n`` float64."""

    def __init__(self, spec: SemiringSpec, addresses: tuple[int, int], threads: int | None = None, owner=None):
        if not all(addresses):
            raise ValueError(f"no code for kernel {spec.symbol}")
        self.spec = spec
        self.threads = threads
        self._owner = owner          # keeps the engine or library holding the code alive
        relax, dijkstra = addresses
        pointer = ctypes.c_void_p
        self._relax = ctypes.CFUNCTYPE(ctypes.c_int64, *([pointer] * 5), *([ctypes.c_int64] * 4),
                                       *([pointer] * 4))(relax)
        self._dijkstra = ctypes.CFUNCTYPE(None, *([pointer] * 5), *([ctypes.c_int64] * 3), pointer)(dijkstra)

    def __repr__(self) -> str:
        return f"SemiringKernel({self.spec.symbol})"

    def relax(self, start: np.ndarray, first: np.ndarray, edges, limit: int) -> tuple[np.ndarray, int | None]:
        """The fixpoint from ``start`` (the state) and ``first`` (the base) and the rounds it took; or, when some
        slice still changed in round ``limit``, the state after that round and None."""
        slices, n = first.shape
        start = np.ascontiguousarray(start, dtype=np.float64)
        values = np.array(first, dtype=np.float64, order="C")
        indptr, indices, data = _checked(edges, n, self.spec.symbol)
        common = (values.ctypes.data, start.ctypes.data, indptr.ctypes.data, indices.ctypes.data, data.ctypes.data)

        def run(lo: int, hi: int) -> int:
            frontier, changed, stamp = (np.empty(n, dtype=np.int64) for _ in range(3))
            stamp.fill(-1)
            extended = np.empty(n)
            return self._relax(*common, n, lo, hi, limit, frontier.ctypes.data, changed.ctypes.data,
                               extended.ctypes.data, stamp.ctypes.data)

        rounds = split_slices(slices, len(data), run, self.threads, (values, start, indptr, indices, data))
        return values, None if min(rounds) < 0 else max(rounds)

    def label_setting(self, first: np.ndarray, edges) -> np.ndarray:
        """The best path values from ``first`` (the base) by label setting (see the module docstring)."""
        slices, n = first.shape
        first = np.ascontiguousarray(first, dtype=np.float64)
        indptr, indices, data = _checked(edges, n, self.spec.dijkstra_symbol)
        values = np.full((slices, n), np.nan)
        values[~np.isnan(first).all(axis=1)] = _worst(self.spec)      # reached slices reach every element
        common = (values.ctypes.data, first.ctypes.data, indptr.ctypes.data, indices.ctypes.data, data.ctypes.data)

        def run(lo: int, hi: int) -> int:
            heap = np.empty((n + len(data), 2), dtype=np.int64)
            self._dijkstra(*common, n, lo, hi, heap.ctypes.data)
            return 0

        split_slices(slices, len(data), run, self.threads, (values, first, indptr, indices, data))
        return values


def split_slices(slices: int, edges: int, run, threads: int | None = None, keep: tuple = ()) -> list[int]:
    """``run(lo, hi)`` over disjoint ranges of slices, one per thread (at most ``threads``, default all) when the
    work (``slices`` times ``edges``) pays for threads, holding ``keep`` (``native.in_threads``); the results in
    slice order."""
    threads = threads or default_threads()
    parts = max(1, min(threads, slices)) if slices * max(edges, 1) >= SLICE_WORK else 1
    bounds = [slices * p // parts for p in range(parts + 1)]
    return in_threads(run, list(zip(bounds, bounds[1:])), keep)


def _worst(spec: SemiringSpec) -> float:
    return 0.0 if spec.combine == "mul" else np.inf if spec.fold == "min" else -np.inf


def _checked(edges, n: int, symbol: str):
    """The CSR arrays as contiguous int64/float64, after the checks the kernels trust."""
    indptr, indices = (np.ascontiguousarray(a, dtype=np.int64) for a in edges[:2])
    data = np.ascontiguousarray(edges[2], dtype=np.float64)
    if len(indptr) != n + 1 or indptr[0] != 0 or indptr[-1] != len(indices) or len(data) != len(indices) or \
            np.any(np.diff(indptr) < 0) or (len(indices) and (indices.min() < 0 or indices.max() >= n)):
        raise ValueError(f"kernel {symbol}: the weights' CSR does not match {n} nodes")
    return indptr, indices, data
