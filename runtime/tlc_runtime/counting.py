"""Path counting (``T[..., z] = T[..., y] W[y, z]`` by sum) by one native pass in topological order, when exact.

The dense loop computes ``D(k) = base + D(k-1) W`` from the state ``D(0)`` until two rounds agree. With no data
supplied for the tensor (``D(0) = 0``), non-negative integer weights and base counts, and no cycle among the
nodes the base reaches (over the weights that are not 0), it settles once every path from the base is counted:
``D = base (I + W + W^2 + ...)``, which a pass over the reached nodes in topological order computes a slice at a
time (``tlc.backends.llvm.counting``). While every count stays below 2^53 each sum and product, the pass's and
the dense rounds' in whatever order, is exact, so the results are identical; the round in which the dense loop
would last change a slice is 1 + its longest path from a base count, so the round bound fails exactly when it
would. Otherwise (data supplied, fractional, negative or special values, a reachable cycle, a count that reaches
2^53, the bound reached) ``count_paths`` returns None and the emitted code runs the dense loop, which gives the
reference's values or its error (a cycle: values that grow until the bound or infinity).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np

from tlc_runtime.semiring import _edges
from tlc_runtime.semiring_native import split_slices


@dataclass(frozen=True)
class CountingSpec:
    """The kernels compiled as ``symbol`` (the pass) and ``symbol_order`` (reach and topological order)."""

    symbol: str

    @property
    def order_symbol(self) -> str:
        """The ordering kernel's function name."""
        return f"{self.symbol}_order"

    def bind(self, address_of, threads: int | None = None, owner=None) -> "CountingKernel":
        """The callable kernels, with addresses from ``address_of(symbol)``."""
        return CountingKernel(self, (address_of(self.symbol), address_of(self.order_symbol)), threads, owner)


class CountingKernel:
    """Both kernels; ``count`` runs them on a ``slices × n`` base and the CSR of the weights."""

    def __init__(self, spec: CountingSpec, addresses: tuple[int, int], threads: int | None = None, owner=None):
        if not all(addresses):
            raise ValueError(f"no code for kernel {spec.symbol}")
        self.spec = spec
        self.threads = threads
        self._owner = owner          # keeps the engine or library holding the code alive
        count, order = addresses
        pointer, i64 = ctypes.c_void_p, ctypes.c_int64
        self._count = ctypes.CFUNCTYPE(i64, *([pointer] * 5), *([i64] * 4), pointer)(count)
        self._order = ctypes.CFUNCTYPE(i64, *([pointer] * 3), i64, *([pointer] * 3))(order)

    def __repr__(self) -> str:
        return f"CountingKernel({self.spec.symbol})"

    def count(self, first: np.ndarray, edges) -> tuple[np.ndarray, int] | None:
        """The counts from the base ``first`` (non-negative integers) over ``edges`` (CSR, weights non-negative
        integers other than 0) and the last round the dense loop would change them in (0: none); None when the
        reached nodes include a cycle or a count reaches 2^53."""
        slices, n = first.shape
        indptr, indices = (np.ascontiguousarray(a, dtype=np.int64) for a in edges[:2])
        data = np.ascontiguousarray(edges[2], dtype=np.float64)
        if len(indptr) != n + 1 or indptr[-1] != len(indices) or len(data) != len(indices) or \
                (len(indices) and (indices.min() < 0 or indices.max() >= n)):
            raise ValueError(f"kernel {self.spec.symbol}: the weights' CSR does not match {n} nodes")
        values = np.add(first, 0.0, order="C")    # a copy; -0.0 becomes 0.0, as in the dense rounds' sums
        seeds = np.flatnonzero(values.any(axis=0)).astype(np.int64)
        degree = np.full(n, -1, dtype=np.int64)
        reached, topo = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
        r = self._order(indptr.ctypes.data, indices.ctypes.data, seeds.ctypes.data, len(seeds), degree.ctypes.data,
                        reached.ctypes.data, topo.ctypes.data)
        if r < 0:
            return None
        common = (values.ctypes.data, indptr.ctypes.data, indices.ctypes.data, data.ctypes.data, topo.ctypes.data)

        def run(lo: int, hi: int) -> int:
            depth = np.empty(n, dtype=np.int64)
            return self._count(*common, r, n, lo, hi, depth.ctypes.data)

        lasts = split_slices(slices, max(int(indptr[-1]), r), run, self.threads,
                             (values, indptr, indices, data, topo))
        return None if min(lasts) < 0 else (values, max(lasts))


def count_paths(state, base, weights, axis: int, forward: bool, rounds: int, native: CountingKernel):
    """The fixpoint of ``T = base + T W`` along ``axis`` of ``T`` from ``state`` by ``native``'s pass, or None when
    it would not be the dense loop's (see the module docstring); ``weights`` is ``W[y, z]`` (an edge y -> z) when
    ``forward``, else ``W[z, y]``, and ``rounds`` the loop's bound."""
    if np.asarray(state).any():        # data supplied for the tensor (NaN counts too)
        return None
    weights = np.asarray(weights, dtype=np.float64)
    weights = weights if forward else weights.T
    n = weights.shape[0]
    moved = np.moveaxis(np.asarray(base, dtype=np.float64), axis, -1)
    first = moved.reshape(-1, n)
    if not _counts(first):
        return None
    edges = _edges(weights, 0.0)
    if not _counts(edges[2]):
        return None
    found = native.count(first, edges)
    if found is None or found[1] >= rounds:
        return None
    return np.ascontiguousarray(np.moveaxis(found[0].reshape(moved.shape), -1, axis))


def _counts(values: np.ndarray) -> bool:
    """True when every value is a finite non-negative integer."""
    return bool(np.all(np.isfinite(values) & (values >= 0) & (values == np.floor(values))))
