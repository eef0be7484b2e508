"""Semi-naive relational evaluation on compiled join kernels (the llvm backend's ``tlc.backends.llvm.joins``).

The same operations as ``tlc_runtime.sparse`` (``conjunction``, ``union``, ``minus``) on the same ``Tuples``
(sorted unique int64 keys), with every pass over tuples in native code: pairwise joins by one compiled
``JoinKernel`` per join shape (merge or hash join, split over threads by left rows), and deduplication, union,
difference and anti-join membership by the shape-free ``SetKernel``. NumPy only packs join keys, sorts, gathers
and filters (vectorised; no Python loop over tuples). ``tlc_runtime.sparse`` stays the reference: the results are
the same sets. This module never imports tlc.
"""

from __future__ import annotations

import ctypes
import math
import threading
from dataclasses import dataclass

import numpy as np

from tlc_runtime.native import default_threads, in_threads
from tlc_runtime.sparse import SPARSE, Tuples, _atom_table, minus as sparse_minus, store, union as sparse_union

JOIN_WORK = 1 << 15
"""Left rows (or keys looked up) below which a join (or a membership test) runs on one thread."""
INNER_CACHE = 4
"""Inner sides a join kernel keeps prepared (``JoinKernel.inner``)."""
RADIX_SORT = 1 << 10
"""Keys from which ``SetKernel.unique`` sorts by the native radix sort rather than ``numpy.sort``."""
RADIX = 1 << 11
"""Buckets of a radix sort pass (``tlc.backends.llvm.joins.RADIX``)."""
HASH_SLOTS = 2
"""Hash table slots per inner row (at most half full: short linear probes)."""
_P, _I = ctypes.c_void_p, ctypes.c_int64


@dataclass(frozen=True)
class JoinSpec:
    """A compiled join shape (``tlc.backends.llvm.join_plan.JoinLoop``): ``symbol_count`` and ``symbol_write``."""

    symbol: str
    left: int
    right: int
    left_kept: tuple[int, ...]
    kept: tuple[int, ...]
    method: str

    def bind(self, address_of, threads: int | None = None, owner=None) -> JoinKernel:
        """The callable kernel, with addresses from ``address_of(symbol)``."""
        return JoinKernel(self, address_of, threads, owner)


@dataclass(frozen=True)
class SetSpec:
    """The compiled set kernels (``tlc.backends.llvm.join_plan.SetOps``)."""

    symbol: str

    def bind(self, address_of, threads: int | None = None, owner=None) -> SetKernel:
        """The callable kernels, with addresses from ``address_of(symbol)``."""
        return SetKernel(self, address_of, threads, owner)


def _function(address_of, symbol: str, restype, *argtypes):
    address = address_of(symbol)
    if not address:
        raise ValueError(f"no code for kernel {symbol}")
    return ctypes.CFUNCTYPE(restype, *argtypes)(address)


def _parts(length: int, threads: int | None) -> list[int]:
    """Edges of the ranges ``[0, length)`` is split into: one per thread above ``JOIN_WORK``."""
    parts = max(1, min(threads or default_threads(), length // JOIN_WORK)) if length >= JOIN_WORK else 1
    return [length * p // parts for p in range(parts + 1)]


def _each(call, edges: list[int], keep: tuple) -> list:
    """``call(lo, hi)`` for each range, on the kernel pool's threads, holding ``keep`` (``native.in_threads``)."""
    return in_threads(call, list(zip(edges, edges[1:])), keep)


def _sorted(keys: np.ndarray) -> bool:
    return len(keys) < 2 or bool(np.all(keys[1:] >= keys[:-1]))


class SetKernel:
    """Sorted int64 key sets in native code: unique, union, difference, membership, the hash join's table."""

    def __init__(self, spec: SetSpec, address_of, threads: int | None = None, owner=None):
        self.spec = spec
        self.threads = threads
        self._owner = owner          # keeps the engine or library holding the code alive
        s = spec.symbol
        self._sort = _function(address_of, f"{s}_sort", _I, _P, _I, _P, _P)
        self._unique = _function(address_of, f"{s}_unique", _I, _P, _I, _P)
        self._union = _function(address_of, f"{s}_union", _I, _P, _I, _P, _I, _P)
        self._difference = _function(address_of, f"{s}_difference", _I, _P, _I, _P, _I, _P)
        self._member = _function(address_of, f"{s}_member", None, _P, _I, _I, _P, _I, _P)
        self._build = _function(address_of, f"{s}_build", None, _P, _I, _P, _I)

    def __repr__(self) -> str:
        return f"SetKernel({self.spec.symbol})"

    def unique(self, keys: np.ndarray) -> np.ndarray:
        """The distinct keys of ``keys``, sorted."""
        keys = self.sort(keys)
        out = np.empty(len(keys), dtype=np.int64)
        return out[:self._unique(keys.ctypes.data, len(keys), out.ctypes.data)]

    def sort(self, keys: np.ndarray) -> np.ndarray:
        """A sorted copy of ``keys``: by radix sort from ``RADIX_SORT`` keys when none is negative."""
        if len(keys) < RADIX_SORT:
            return np.sort(np.asarray(keys, dtype=np.int64))
        keys = np.array(keys, dtype=np.int64, order="C")
        tmp, counts = np.empty_like(keys), np.empty(RADIX, dtype=np.int64)
        if self._sort(keys.ctypes.data, len(keys), tmp.ctypes.data, counts.ctypes.data) < 0:
            keys.sort()
        return keys

    def union(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Sorted unique ``a ∪ b`` of sorted unique keys (the smaller placed into the larger)."""
        a, b = (np.ascontiguousarray(x, dtype=np.int64) for x in ((a, b) if len(a) >= len(b) else (b, a)))
        out = np.empty(len(a) + len(b), dtype=np.int64)
        return out[:self._union(a.ctypes.data, len(a), b.ctypes.data, len(b), out.ctypes.data)]

    def difference(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Sorted unique ``a \\ b`` of sorted unique keys."""
        a, b = (np.ascontiguousarray(x, dtype=np.int64) for x in (a, b))
        out = np.empty(len(a), dtype=np.int64)
        return out[:self._difference(a.ctypes.data, len(a), b.ctypes.data, len(b), out.ctypes.data)]

    def member(self, keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
        """Which of ``keys`` (any order) occur in ``sorted_keys``, split over threads above ``JOIN_WORK`` keys."""
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        out = np.zeros(len(keys), dtype=np.bool_)
        if len(keys) and len(sorted_keys):
            _each(lambda lo, hi: self._member(keys.ctypes.data, lo, hi, sorted_keys.ctypes.data, len(sorted_keys),
                                              out.ctypes.data), _parts(len(keys), self.threads),
                  (keys, sorted_keys, out))
        return out

    def table(self, rk: np.ndarray) -> tuple[np.ndarray, int]:
        """The hash table of the runs of sorted ``rk`` and its mask (slots: 1 + a run's start, 0 when empty)."""
        size = 1 << max(1, int(HASH_SLOTS * len(rk)).bit_length())
        slots = np.zeros(size, dtype=np.int64)
        self._build(rk.ctypes.data, len(rk), slots.ctypes.data, size - 1)
        return slots, size - 1


@dataclass(frozen=True)
class Inner:
    """A join's inner side, ready to probe: rows sorted by their packed join keys, the keys, and for a hash join
    the table of the keys' runs (``SetKernel.table``)."""

    rows: np.ndarray
    keys: np.ndarray
    slots: np.ndarray
    mask: int


class JoinKernel:
    """One compiled join shape: ``kernel(L, lk, inner)`` is the array of rows ``L[i][left_kept] + R[j][kept]`` for
    every pair with ``lk[i] == rk[j]`` (``L`` C-contiguous int64 rows, ``lk`` their packed join keys; ``R`` and ``rk``
    the ``inner`` side's), in no particular order. Threads split the left rows: a counting pass, then each writes
    its pairs at its offset."""

    def __init__(self, spec: JoinSpec, address_of, threads: int | None = None, owner=None):
        self.spec = spec
        self.threads = threads
        self._owner = owner
        self._inner: dict[tuple, tuple] = {}
        self._inner_lock = threading.Lock()      # a program may run in several threads at once
        scan = (_P, _P, _P, _I, _I, _I, _I)
        self._count = _function(address_of, f"{spec.symbol}_count", _I, *scan)
        self._write = _function(address_of, f"{spec.symbol}_write", None, *scan, _P, _P, _P, _I)

    def __repr__(self) -> str:
        return f"JoinKernel({self.spec.symbol})"

    def inner(self, relation, spec, shared: list[str], sizes: list[int], sets: SetKernel) -> tuple[list[str], Inner]:
        """The inner side of a join with the atom ``relation``/``spec`` on the ``shared`` variables (of extents
        ``sizes``): its columns and its ``Inner``. Kept for the last ``INNER_CACHE`` sparse relations, which do not
        change, so a semi-naive loop prepares a lower stratum's relation once, not once a round."""
        names = list(dict.fromkeys(v for v in spec if isinstance(v, str)))
        key = (id(relation), tuple(names.index(v) if isinstance(v, str) else (v,) for v in spec),
               tuple(names.index(v) for v in shared), tuple(sizes))
        cached = self._inner.get(key)
        if cached is not None and cached[0] is relation:
            return names, cached[1]
        _, rows = _rows(relation, spec)      # its columns are ``names``
        keys = _pack(rows[:, [names.index(v) for v in shared]], sizes)
        if not _sorted(keys):
            order = np.argsort(keys, kind="stable")
            keys, rows = keys[order], rows[order]
        keys, rows = np.ascontiguousarray(keys, dtype=np.int64), np.ascontiguousarray(rows, dtype=np.int64)
        slots, mask = sets.table(keys) if self.spec.method == "hash" else (np.zeros(1, dtype=np.int64), 0)
        inner = Inner(rows, keys, slots, mask)
        if isinstance(relation, Tuples):      # immutable (a dense array might be changed in place)
            with self._inner_lock:
                while len(self._inner) >= INNER_CACHE:
                    self._inner.pop(next(iter(self._inner)))
                self._inner[key] = (relation, inner)    # holds the relation, so its id is not reused
        return names, inner

    def __call__(self, left: np.ndarray, lk: np.ndarray, inner: Inner) -> np.ndarray:
        spec = self.spec
        width = len(spec.left_kept) + len(spec.kept)
        right, rk = inner.rows, inner.keys
        if left.shape[1:] != (spec.left,) or right.shape[1:] != (spec.right,) or len(lk) != len(left) or \
                len(rk) != len(right):        # the kernel trusts the shapes: a mismatch would corrupt memory
            raise ValueError(f"kernel {spec.symbol}: rows {left.shape} and {right.shape} do not fit the join shape")
        if not len(left) or not len(right):
            return np.zeros((0, width), dtype=np.int64)
        if spec.method == "merge" and not _sorted(lk):
            order = np.argsort(lk, kind="stable")
            lk, left = lk[order], left[order]
        left, lk = (np.ascontiguousarray(a, dtype=np.int64) for a in (left, lk))
        common = (lk.ctypes.data, rk.ctypes.data, inner.slots.ctypes.data, inner.mask, len(rk))
        edges = _parts(len(left), self.threads)
        held = (lk, rk, inner.slots, left, right)
        counts = _each(lambda lo, hi: self._count(*common, lo, hi), edges, held)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        out = np.empty((int(offsets[-1]), width), dtype=np.int64)
        parts = {lo: int(at) for lo, at in zip(edges, offsets)}
        _each(lambda lo, hi: self._write(*common, lo, hi, left.ctypes.data, right.ctypes.data, out.ctypes.data,
                                         parts[lo]), edges, (*held, out))
        return out


def _pack(columns: np.ndarray, sizes: list[int]) -> np.ndarray:
    """One int64 key per row of ``columns`` (C order over ``sizes``), as ``tlc_runtime.sparse`` packs keys."""
    if columns.shape[1] == 0:
        return np.zeros(len(columns), dtype=np.int64)
    if columns.shape[1] == 1:
        return np.ascontiguousarray(columns[:, 0])
    return np.ravel_multi_index(tuple(columns.T), tuple(sizes)).astype(np.int64, copy=False)


def _distinct(rows: np.ndarray, sizes: list[int], sets: SetKernel) -> np.ndarray:
    """The distinct rows (a join that projected a variable out may repeat some), when their keys fit in int64."""
    if len(rows) < 2 or not sizes or math.prod(sizes) >= 2**63:
        return rows
    keys = sets.unique(_pack(rows, sizes))
    return np.stack(np.unravel_index(keys, sizes), axis=1).astype(np.int64) if len(sizes) > 1 else keys[:, None]


def _rows(relation, spec) -> tuple[list[str], np.ndarray]:
    """An atom's bindings: its distinct variables and one C-contiguous int64 row per binding."""
    if isinstance(relation, Tuples) and all(isinstance(v, str) for v in spec) and len(set(spec)) == len(spec):
        return list(spec), np.ascontiguousarray(relation.rows(), dtype=np.int64)   # every row, as it is
    table = _atom_table(relation, spec)
    names = list(table.columns)
    rows = np.stack([table.columns[v] for v in names], axis=1) if names else np.zeros((table.length, 0))
    return names, np.ascontiguousarray(rows, dtype=np.int64)


def conjunction(head, shape: tuple[int, ...], atoms, negated=(), joins=(), sets: SetKernel | None = None) -> Tuples:
    """``tlc_runtime.sparse.conjunction`` in sparse storage, by compiled kernels: ``atoms`` in join order, ``joins``
    the kernel of each pairwise join (``tlc.backends.llvm.join_plan.join_shapes``), ``sets`` the set kernels."""
    head = tuple(head)
    if len(atoms) == 1 and not negated and tuple(atoms[0][1]) == head and len(set(head)) == len(head) and \
            all(isinstance(v, str) for v in head):    # a copy rule: P(x, y) = E(x, y)
        return store(atoms[0][0], shape, SPARSE)
    if len(joins) != len(atoms) - 1:
        raise ValueError(f"{len(atoms)} atoms need {len(atoms) - 1} join kernels, not {len(joins)}")
    sizes: dict[str, int] = {}
    for relation, spec in [*atoms, *negated]:
        for axis, item in enumerate(spec):
            if isinstance(item, str):
                sizes[item] = max(sizes.get(item, 0), relation.shape[axis])
    names, rows = _rows(*atoms[0])
    for (relation, spec), kernel in zip(atoms[1:], joins):
        shared = [v for v in names if v in spec]
        extents = [sizes[v] for v in shared]
        right_names, inner = kernel.inner(relation, spec, shared, extents, sets)
        rows = kernel(rows, _pack(rows[:, [names.index(v) for v in shared]], extents), inner)
        projected = len(kernel.spec.left_kept) < len(names)
        names = [names[k] for k in kernel.spec.left_kept] + [right_names[k] for k in kernel.spec.kept]
        if projected:
            rows = _distinct(rows, [sizes[v] for v in names], sets)
    for relation, spec in negated:
        other_names, other = _rows(relation, spec)
        variables = [names.index(v) for v in other_names]
        extents = [sizes[v] for v in other_names]
        found = sets.member(_pack(rows[:, variables], extents), sets.unique(_pack(other, extents)))
        rows = rows[~found]
    out = np.stack([rows[:, names.index(v)] if isinstance(v, str) else np.full(len(rows), v, dtype=np.int64)
                    for v in head], axis=1) if head else np.zeros((len(rows), 0), dtype=np.int64)
    if not head:
        return Tuples.from_rows(out, shape)
    if any(isinstance(v, str) and sizes[v] > extent for v, extent in zip(head, shape)) or \
            any(not isinstance(v, str) and not 0 <= v < extent for v, extent in zip(head, shape)):
        out = out[np.all((out >= 0) & (out < np.asarray(shape, dtype=np.int64)), axis=1)]
    keys = np.ravel_multi_index(tuple(out.T), shape).astype(np.int64, copy=False) if len(out) else \
        np.zeros(0, dtype=np.int64)
    return Tuples(sets.unique(keys), shape)


class Runs(Tuples):
    """A sparse relation held as sorted, pairwise disjoint runs of keys, merged into one sorted array when its
    ``keys`` are first read. ``union`` appends a round's new tuples as a run instead of copying the relation each
    round, and merges runs of similar length as they come (so each key is copied about log2(rounds) times);
    ``minus`` looks keys up run by run."""

    __slots__ = ("runs",)

    def __init__(self, runs: list[np.ndarray], shape: tuple[int, ...]):
        super().__init__(None, shape)
        self.runs = runs

    @property
    def keys(self) -> np.ndarray:
        """The sorted int64 keys (the runs merged: a stable sort finds and merges sorted runs)."""
        if self._keys is None:
            self._keys = np.sort(np.concatenate(self.runs), kind="stable")
        return self._keys

    def __len__(self) -> int:
        return sum(len(r) for r in self.runs)


class Fresh(Tuples):
    """Tuples known to share none with the relation ``outside`` (a semi-naive delta: new tuples minus the relation),
    so ``union(outside, fresh)`` need not look them up again."""

    __slots__ = ("outside",)

    def __init__(self, keys: np.ndarray, shape: tuple[int, ...], outside: Tuples):
        super().__init__(keys, shape)
        self.outside = outside


def _runs(relation: Tuples) -> list[np.ndarray]:
    """A sparse relation's sorted, disjoint runs of keys."""
    return list(relation.runs) if isinstance(relation, Runs) and relation._keys is None else [relation.keys]


def _difference(keys: np.ndarray, relation: Tuples, sets: SetKernel) -> np.ndarray:
    """The sorted ``keys`` not in ``relation``, looked up run by run."""
    for run in _runs(relation):
        if not len(keys):
            break
        keys = sets.difference(keys, run)
    return keys


def union(a, b, sets: SetKernel):
    """``a ∪ b`` (``tlc_runtime.sparse.union``): for sparse relations, ``a``'s runs and a run of ``b``'s keys not
    in ``a`` (``Runs``)."""
    if not (isinstance(a, Tuples) and isinstance(b, Tuples)):
        return sparse_union(a, b)
    b = store(b, a.shape, SPARSE)
    if not len(a) or not len(b):
        return b if not len(a) else a
    fresh = np.ascontiguousarray(b.keys, dtype=np.int64)
    if not (isinstance(b, Fresh) and b.outside is a):
        fresh = _difference(fresh, a, sets)
    if not len(fresh):
        return a
    runs = [*_runs(a), fresh]
    while len(runs) > 1 and len(runs[-2]) <= 2 * len(runs[-1]):
        last = runs.pop()
        runs[-1] = sets.union(runs[-1], last)
    return Runs(runs, a.shape) if len(runs) > 1 else Tuples(runs[0], a.shape)


def minus(a, b, sets: SetKernel):
    """``a \\ b`` (``tlc_runtime.sparse.minus``): the new tuples of a semi-naive round, a sorted set difference."""
    if not (isinstance(a, Tuples) and isinstance(b, Tuples) and a.shape == b.shape):
        return sparse_minus(a, b)
    if not len(a) or not len(b):
        return a
    return Fresh(_difference(np.ascontiguousarray(a.keys, dtype=np.int64), b, sets), a.shape, b)
