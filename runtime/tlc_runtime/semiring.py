"""Semiring fixpoints (shortest, widest, longest, most reliable paths) by sparse relaxation or Dijkstra.

Emitted code for a stratum ``T[..., z] fold= T[..., y] combine W[y, z]`` (``tlc.analysis.semiring_plan``) computes
the non-recursive contributions once (``base``, NaN where none) and calls ``fixpoint``, which returns exactly what
the dense naive loop returns, with the same failures after the same number of rounds: that loop computes
``D(k) = base ⊕ D(k-1) ⊗ W`` (NaN: not reached, skipped by the fold). When ``⊗`` is monotone and never gives NaN,
``D(k)`` improves on ``D(k-1)`` elementwise, so ``D(k+1) = D(k) ⊕ Δ(k) ⊗ W`` where ``Δ(k)`` holds the elements
that changed in round k: only they are relaxed, over the CSR of W's live edges (each candidate is the same
floating-point operation as the dense loop's, and min/max are exact, so the values are identical). A weight whose
contribution is the worst value whatever it extends (+inf for min-plus: the *idle* weight) is not an edge, but
as the dense matrix has an entry for every pair, a slice with any element reached reaches all its others in the
next round, with the worst value. Weights with NaN, values that could make ``⊗`` give NaN (``-inf + inf``,
``inf * 0``, an overflow) or break its monotonicity (a negative factor) run the dense rounds here instead.
Shortest paths with non-negative live weights under a bound that proves a negative cycle (``Fixpoint.proof``)
run Dijkstra (scipy's csgraph, one super-source per slice whose edges carry the base values).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

FOLD = {"min": np.fmin, "max": np.fmax}
"""A fold's elementwise combination, skipping NaN (no contribution) as the dense code's does."""
COMBINE = {"add": np.add, "mul": np.multiply, "min": np.minimum, "max": np.maximum}
IDLE = {("min", "add"): math.inf, ("max", "add"): -math.inf, ("max", "min"): -math.inf,
        ("min", "max"): math.inf, ("max", "mul"): 0.0}
"""Per (fold, combine), the weight whose contribution is the fold's worst value whatever it extends."""
BLOCK = 2**22
"""Most elements of one intermediate of the dense rounds."""
HUGE = 1e307
"""Magnitudes below this cannot overflow when added to another below it."""
DENSE_LIMIT = 2**31
"""Most elements ``Weights`` turns into a dense array (for a reader other than a semiring recursion)."""


class Weights:
    """A numeric matrix given by its entries (a scipy.sparse matrix; duplicates add up, as scipy's do) and the
    value ``absent`` of every other element: ``prog(W=tlc.Weights(csr, absent=np.inf))``. A semiring recursion
    whose idle weight is ``absent`` reads only the entries; any other reader gets the dense array."""

    __slots__ = ("matrix", "absent", "shape")

    def __init__(self, matrix, absent: float = math.inf):
        from scipy import sparse

        if not sparse.issparse(matrix) or matrix.ndim != 2:
            raise TypeError(f"Weights takes a 2-d scipy.sparse matrix, not {type(matrix).__name__}")
        self.matrix = sparse.csr_matrix(matrix, dtype=np.float64)
        self.matrix.sum_duplicates()
        self.absent = float(absent)
        self.shape = tuple(int(n) for n in self.matrix.shape)

    def __repr__(self) -> str:
        return f"Weights({self.shape[0]}x{self.shape[1]}, {self.matrix.nnz} entries, absent={self.absent})"

    def __array__(self, dtype=None, copy=None):
        if math.prod(self.shape) > DENSE_LIMIT:
            raise MemoryError(f"Weights of shape {self.shape} read densely would have {math.prod(self.shape):.3g} "
                              f"elements")
        dense = np.full(self.shape, self.absent)
        coo = self.matrix.tocoo()
        dense[coo.row, coo.col] = coo.data
        return dense if dtype is None else dense.astype(dtype, copy=False)

    def csr(self, idle: float):
        """The CSR (indptr, indices, data) of the entries other than ``idle``, when ``absent`` is ``idle``; else
        None (every absent pair is then an edge)."""
        if self.absent != idle:
            return None
        keep = self.matrix.data != idle
        if keep.all():
            return self.matrix.indptr.astype(np.int64), self.matrix.indices.astype(np.int64), self.matrix.data
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.matrix.indptr))[keep]
        indptr = np.zeros(self.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=self.shape[0]), out=indptr[1:])
        return indptr, self.matrix.indices[keep].astype(np.int64), self.matrix.data[keep]

    def transposed(self) -> "Weights":
        """The transposed matrix, with the same absent value."""
        return Weights(self.matrix.T.tocsr(), self.absent)


def fixpoint(state, base, weights, fold: str, combine: str, axis: int, forward: bool, watch,
             native=None) -> np.ndarray:
    """The fixpoint of ``T = base ⊕ T ⊗ W`` along ``axis`` of ``T``, starting from ``state`` (NaN where no data
    was supplied); ``weights`` is ``W[y, z]`` (an edge y -> z) when ``forward``, else ``W[z, y]``; ``watch`` is the
    dense loop's ``Fixpoint`` (its bound, and its messages when the bound is reached); ``native``, a
    ``tlc_runtime.semiring_native.SemiringKernel`` for this fold and combine, runs the relaxation and label
    setting natively (same values, rounds and failures)."""
    if isinstance(weights, Weights):
        weights = weights if forward else weights.transposed()
        edges = weights.csr(IDLE[fold, combine])
    else:
        weights = np.asarray(weights, dtype=np.float64)
        weights = weights if forward else weights.T
        edges = None
    n = weights.shape[0]
    moved = np.moveaxis(np.asarray(state, dtype=np.float64), axis, -1)
    shape = moved.shape
    start = moved.reshape(-1, n).copy()
    first = np.moveaxis(np.asarray(base, dtype=np.float64), axis, -1).reshape(-1, n).copy()

    def unflatten(flat):
        return np.moveaxis(flat.reshape(shape), -1, axis)

    if edges is None:
        weights = np.asarray(weights, dtype=np.float64)
        edges = _edges(weights, IDLE[fold, combine])
    if not _monotone(start, first, edges[2], fold, combine, watch.rounds):
        weights = np.asarray(weights, dtype=np.float64)
        result = _dense_rounds(start, first, weights, fold, combine, watch, unflatten)
    elif fold == "min" and combine == "add" and watch.proof and watch.rounds > n and not (edges[2] < 0).any():
        result = _dijkstra(first, edges) if native is None else native.label_setting(first, edges)
    elif native is not None and watch.proof and watch.rounds > n and _label_setting(fold, combine, edges[2]):
        result = native.label_setting(first, edges)
    elif native is None:
        result = _relax(start, first, edges, fold, combine, watch, unflatten)
    else:
        result = _native_relax(native, start, first, edges, watch, unflatten)
    return unflatten(result)


def _native_relax(native, start, first, edges, watch, unflatten) -> np.ndarray:
    """``_relax`` by the native kernel; when round ``watch.rounds`` still changes values, the dense loop's failure
    from the states after it and after the round before (the state before round 1 is ``start``)."""
    values, rounds = native.relax(start, first, edges, watch.rounds)
    if rounds is None:
        previous = start if watch.rounds == 1 else native.relax(start, first, edges, watch.rounds - 1)[0]
        watch.round = watch.rounds - 1
        watch.settled((unflatten(values),), (unflatten(previous),))     # raises
    watch.ticker.close()
    return values


def _label_setting(fold: str, combine: str, live) -> bool:
    """True when extending a path never makes it better, besides shortest paths (``tlc_runtime.semiring_native``):
    widest paths, and most reliable ones with weights in [0, 1] (values are >= 0 there: ``_monotone``)."""
    return fold == "max" and (combine == "min" or combine == "mul" and not (live > 1).any())


def _monotone(start, first, live, fold: str, combine: str, rounds: int) -> bool:
    """True when every contribution is a monotone function of the value it extends and is never NaN (``live``: the
    weights other than the idle one; a NaN weight is among them)."""
    if np.isnan(live).any():
        return False
    values = np.concatenate([start[~np.isnan(start)], first[~np.isnan(first)]])
    if combine == "add":
        bad = -math.inf if fold == "min" else math.inf      # bad + idle is NaN
        if (live == bad).any() or (values == bad).any():
            return False
        largest = np.abs(live[np.isfinite(live)]).max(initial=0.0)
        return np.abs(values[np.isfinite(values)]).max(initial=0.0) + rounds * largest < HUGE
    if combine == "mul":
        if not (np.isfinite(live).all() and np.isfinite(values).all()) or (live < 0).any() or (values < 0).any():
            return False
        top, gain = max(values.max(initial=0.0), 1.0), max(live.max(initial=0.0), 1.0)
        return math.log(top) + rounds * math.log(gain) < math.log(HUGE)
    return True


def _dense_rounds(start, first, weights, fold: str, combine: str, watch, unflatten) -> np.ndarray:
    """The dense naive loop itself (for weights or values the relaxation cannot take)."""
    slices, n = start.shape
    step = max(1, BLOCK // max(slices * n, 1))
    join, reduce = COMBINE[combine], FOLD[fold]
    current = start
    while True:
        new = first.copy()
        for lo in range(0, n, step):
            block = join(current[:, lo:lo + step, None], weights[None, lo:lo + step, :])
            new = reduce(new, reduce.reduce(block, axis=1))
        if watch.settled((unflatten(new),), (unflatten(current),)):
            return new
        current = new


def _edges(weights, idle: float):
    """The CSR (indptr, indices, data) of the weights other than ``idle`` (edges in row-major order)."""
    n = weights.shape[0]
    flat = np.flatnonzero(weights != idle)
    rows, cols = np.divmod(flat, n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, cols, weights.ravel()[flat]


def _relax(start, first, edges, fold: str, combine: str, watch, unflatten) -> np.ndarray:
    """Semi-naive relaxation: each round extends only the elements the last one changed."""
    slices, n = start.shape
    worst = math.inf if fold == "min" else -math.inf
    worst = 0.0 if combine == "mul" else worst         # values are >= 0 there (``_monotone``)
    indptr, indices, data = edges
    before = start.ravel()
    values = first.ravel().copy()
    reached = ~np.isnan(start).all(axis=1)
    filled = np.zeros(slices, dtype=bool)
    frontier = np.flatnonzero(~np.isnan(before) & (before != worst))
    extended = before[frontier]
    rounds = 0
    while True:
        rounds += 1
        targets, candidates = _extend(frontier, extended, indptr, indices, data, n, COMBINE[combine])
        improved, old = _improve(values, targets, candidates, fold)
        fill = reached & ~filled           # every pair is an entry of W: reached slices reach all their elements
        filled |= fill
        gaps = np.flatnonzero((np.isnan(values.reshape(slices, n)) & fill[:, None]).ravel())
        values[gaps] = worst
        if rounds == 1:     # round 1 starts from the base, not from the state before it
            changed = np.flatnonzero(~((values == before) | (np.isnan(values) & np.isnan(before))))
            old = before[changed]
        else:
            changed, old = np.concatenate([improved, gaps]), np.concatenate([old, np.full(len(gaps), np.nan)])
        if not len(changed):
            watch.ticker.close()
            return values
        reached[changed // n] = True
        if watch.ticker.due():
            watch.ticker.report(rounds, f"{len(changed)} elements changed")
        if rounds >= watch.rounds:      # the dense loop's failure, with its message: settled raises
            previous = values.copy()
            previous[changed] = old
            watch.round = rounds - 1
            watch.settled((unflatten(values),), (unflatten(previous),))
        frontier = changed[values[changed] != worst]
        extended = values[frontier]


def _extend(frontier, extended, indptr, indices, data, n: int, join):
    """Per live edge leaving a frontier element: the target's flat position and the candidate value."""
    slices, nodes = np.divmod(frontier, n)
    starts = indptr[nodes]
    counts = indptr[nodes + 1] - starts
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    owner = np.repeat(np.arange(len(frontier)), counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    edge = starts[owner] + offsets
    return slices[owner] * n + indices[edge], join(extended[owner], data[edge])


def _improve(values, targets, candidates, fold: str):
    """Fold candidates into ``values`` in place; returns the positions that improved and their old values."""
    if not len(targets):
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    order = np.argsort(targets, kind="stable")
    targets, candidates = targets[order], candidates[order]
    heads = np.flatnonzero(np.concatenate([[True], targets[1:] != targets[:-1]]))
    best = (np.minimum if fold == "min" else np.maximum).reduceat(candidates, heads)
    where = targets[heads]
    old = values[where]
    better = np.isnan(old) | ((best < old) if fold == "min" else (best > old))
    values[where[better]] = best[better]
    return where[better], old[better]


def _dijkstra(first, edges) -> np.ndarray:
    """Shortest paths from the base values (non-negative live weights): scipy's Dijkstra from one super-source
    per slice whose edge to each element carries its finite base value (0 + b is b)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    slices, n = first.shape
    indptr, indices, data = edges
    result = np.full((slices, n), np.nan)
    result[~np.isnan(first).all(axis=1)] = math.inf      # reached slices reach every element
    sources = np.flatnonzero(np.isfinite(first).any(axis=1))
    chunk = max(1, BLOCK // (2 * n + 2))
    for lo in range(0, len(sources), chunk):
        part = sources[lo:lo + chunk]
        rows, cols = np.nonzero(np.isfinite(first[part]))    # row-major: the super-sources' rows in order
        tail = np.zeros(len(part) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(part)), out=tail[1:])
        graph = csr_matrix((np.concatenate([data, first[part][rows, cols]]), np.concatenate([indices, cols]),
                            np.concatenate([indptr, indptr[-1] + tail[1:]])), shape=(n + len(part),) * 2)
        with warnings.catch_warnings():     # negative base values leave only the super-sources
            warnings.simplefilter("ignore")
            result[part] = dijkstra(graph, directed=True, indices=n + np.arange(len(part)))[:, :n]
    return result
