"""The runtime of modules emitted by the Dask backend: ``tlc_runtime``'s names over Dask arrays.

An emitted Dask module imports this module as ``rt`` (``tlc_runtime`` itself never imports dask). Every function
returns a lazy Dask array: nothing is computed until the caller asks (``np.asarray``, ``.compute()``), except the
round checks of recursions (``Fixpoint.settled``, ``round_limit``), which compute a few scalars on the cluster.
Reads at computed positions and scatters (pooling, ``Image[x+dx]`` reads past an edge) run NumPy's versions
blockwise, one task per block of their result (or value) and the box of the array it reaches. Dense semi-naive
strata run here (``persist_round``); the other relational strategies run in memory, so their progress reports
are ``tlc_runtime``'s own (``SemiNaiveProgress``, re-exported here).
"""

from __future__ import annotations

import itertools
import math
import operator

import dask
import dask.array as da
import numpy as np
from dask.array.core import normalize_chunks
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from tlc_runtime import ops as numpy_ops
from tlc_runtime.attention import AttentionReport, attention as numpy_attention
from tlc_runtime.errors import RuntimeFailure
from tlc_runtime.fixpoint import Fixpoint as NumpyFixpoint
from tlc_runtime.progress import SemiNaiveProgress  # noqa: F401 - emitted relational strata call rt.SemiNaiveProgress
from tlc_runtime.symbols import symbol_table  # noqa: F401 - emitted modules with many named constants call it

LNORM_EPS = numpy_ops.LNORM_EPS


def lazy(x, chunks="auto"):
    """``x`` as a Dask array: a Dask array as it is, anything else (NumPy data, a sparse relation) split into
    ``chunks``."""
    if isinstance(x, da.Array):
        return x
    return da.from_array(np.asarray(x), chunks=chunks)


def as_number(x, chunks="auto"):
    """A relation (bool) or numeric array as a float64 Dask array."""
    x = lazy(x, chunks)
    return x if x.dtype == np.float64 else x.astype(np.float64)


def diagonal_ready(x, letters: str):
    """``x`` rechunked so the axes an einsum reads with one index (``letters``, one per axis: ``'aab'`` for
    ``T[j, j, m]``) share their chunks: Dask's ``einsum`` of one operand takes a diagonal block by block and fails
    (NumPy's "dimensions in single operand for collapsing index") where they were split differently."""
    chunks = {}
    for axis, letter in enumerate(letters):
        chunks.setdefault(letter, x.chunks[axis])
    wanted = {axis: chunks[letter] for axis, letter in enumerate(letters) if x.chunks[axis] != chunks[letter]}
    return x.rechunk(wanted) if wanted else x


def as_relation(x, chunks="auto"):
    """A relation's data as a bool Dask array."""
    x = lazy(x, chunks)
    return x if x.dtype == bool else x.astype(bool)


def zeros(shape, chunks="auto", dtype=np.float64):
    """A lazy array of zeros."""
    return da.zeros(shape, chunks=chunks, dtype=dtype)


def full(shape, value, chunks="auto"):
    """A lazy float64 array filled with ``value``."""
    return da.full(shape, value, chunks=chunks, dtype=np.float64)


def persist(*arrays):
    """The arrays computed and kept in (cluster) memory, so a recursion's next round starts from values."""
    return dask.persist(*arrays)


def persist_round(*news):
    """A semi-naive round's arrays of new facts persisted together with whether each holds a fact (computed on the
    cluster), then those flags fetched in one call: ``((arrays...), any new)``."""
    *kept, flags = dask.persist(*news, [da.any(n) for n in news])
    return tuple(kept), any(dask.compute(*flags))


def eager(function, supplied, *arrays):
    """``function(tlc_runtime, supplied, *arrays)`` on the values of ``supplied`` (a dict) and ``arrays``, computed
    in one call: a stratum run in NumPy by the client; its results as one-chunk Dask arrays."""
    import tlc_runtime
    supplied, *values = dask.compute(supplied, *arrays)
    return tuple(da.from_array(v, chunks=-1) if isinstance(v, np.ndarray) else v
                 for v in function(tlc_runtime, supplied, *values))


def step(x):
    """1 where x > 0, else 0 (for a number too)."""
    return (_array(x) > 0).astype(np.float64)


def negate(x):
    """1 where x <= 0, else 0 (for a number too)."""
    return (_array(x) <= 0).astype(np.float64)


def _array(x):
    """A Dask array as it is, anything else (a number) as a NumPy array."""
    return x if isinstance(x, da.Array) else np.asarray(x)


def relu(x):
    """max(x, 0)."""
    return da.maximum(x, 0.0)


def sig(x, temperature=1.0):
    """Logistic sigmoid 1/(1+exp(-x/T)); T = 0 is exactly ``step``."""
    if not isinstance(temperature, da.Array) and np.all(np.asarray(temperature) == 0):
        return step(x)
    return da.exp(-da.logaddexp(0.0, -(x / temperature)))


def softmax(x, axis):
    """Numerically stable softmax along ``axis``."""
    shifted = x - da.max(x, axis=axis, keepdims=True)
    e = da.exp(shifted)
    return e / da.sum(e, axis=axis, keepdims=True)


def lnorm(x, axis):
    """Layer normalisation along ``axis`` (biased variance, eps 1e-5, no affine)."""
    mean = da.mean(x, axis=axis, keepdims=True)
    var = da.var(x, axis=axis, keepdims=True)
    return (x - mean) / da.sqrt(var + LNORM_EPS)


def align(x, source: str, target: str, sizes: dict[str, int] | None = None):
    """``tlc_runtime.ops.align`` over a Dask array (lazy)."""
    return numpy_ops.arrange(lazy(x), source, target, sizes)


def merged(x, shape: tuple[int, ...]):
    """``tlc_runtime.ops.merged`` over a Dask array (lazy)."""
    return lazy(x).reshape(shape)


def window(x, bounds):
    """``x[start:stop, ...]`` per axis ``(start, stop)`` (or an int position); the part outside ``x`` reads 0."""
    x = lazy(x)
    if x.dtype == bool:
        x = x.astype(np.float64)
    shape = [stop - start for b in bounds if not isinstance(b, int) for start, stop in [b]]
    src, pads = [], []
    for axis, b in enumerate(bounds):
        if isinstance(b, int):
            if not 0 <= b < x.shape[axis]:
                return da.zeros(shape, dtype=x.dtype)
            src.append(b)
            continue
        start, stop = b
        lo, hi = max(start, 0), min(stop, x.shape[axis])
        if hi <= lo:
            return da.zeros(shape, dtype=x.dtype)
        src.append(slice(lo, hi))
        pads.append((lo - start, stop - hi))
    inside = x[tuple(src)]
    return da.pad(inside, pads, mode="constant") if any(p != (0, 0) for p in pads) else inside


SMALLEST_BLOCK = 512
"""Bytes (64 float64s) below which ``gather`` and ``scatter`` do not make a block smaller, whatever ``like``'s chunks:
each block is a task (and, for ``scatter``, a box the target's chunks combine). Dask's ``einsum`` leaves 1-element
chunks along new axes, and the differential campaign (TLC_FUZZ_SEED=20261208) spent minutes in a scatter of such a
value into such a target; with inputs in 1-element chunks, ``T0[i + k, j, l, m] = X0[i, j] X1[k, l] X2[m]`` over 54
elements wrote 54 boxes in 81 s (1.5 s now, with the scatter's one graph too). No useful chunk is that small."""


def _blocks(shape: tuple[int, ...], like) -> list[list[tuple[int, int]]]:
    """Per axis of an array of ``shape``, its blocks' (start, stop) when split into chunks of about the bytes of
    ``like``'s chunks, or of ``SMALLEST_BLOCK`` where those are smaller."""
    limit = max(math.prod(like.chunksize) * like.dtype.itemsize, SMALLEST_BLOCK)
    chunks = normalize_chunks("auto", shape, limit=limit, dtype=np.float64)
    return [[(int(a), int(b)) for a, b in zip(np.cumsum((0,) + c[:-1]), np.cumsum(c))] for c in chunks]


def _reach(spec, ranges) -> tuple[int, int]:
    """The first and last position one axis spec ``(terms, offset, divisor)`` computes over ``ranges``."""
    terms, offset, divisor = spec
    low = offset + sum(min(c * lo, c * (hi - 1)) for v, c in terms for lo, hi in [ranges[v]])
    high = offset + sum(max(c * lo, c * (hi - 1)) for v, c in terms for lo, hi in [ranges[v]])
    return low // divisor, high // divisor


def _pieces(shape, like, ranges, order: str):
    """Per block of an array of ``shape`` over the variables ``order`` (blocks the size of ``like``'s chunks):
    the block's slices and its variables' sub-ranges."""
    grid = _blocks(shape, like)
    for index in np.ndindex(*(len(b) for b in grid)):
        bounds = [grid[a][k] for a, k in enumerate(index)]
        sub = dict(ranges) | {v: (ranges[v][0] + lo, ranges[v][0] + hi) for v, (lo, hi) in zip(order, bounds)}
        yield index, tuple(slice(lo, hi) for lo, hi in bounds), sub


def _moved(specs, starts):
    """``specs`` read relative to a box starting at ``starts`` (one start per axis)."""
    return [(terms, offset - start * divisor, divisor) for (terms, offset, divisor), start in zip(specs, starts)]


def gather(x, specs, ranges, order: str):
    """Read ``x`` at computed positions (``tlc_runtime.ops.gather``) blockwise: per block of the result (blocks
    the size of ``x``'s chunks), one task on the box of ``x`` the block's positions reach."""
    x = lazy(x)
    shape = tuple(ranges[v][1] - ranges[v][0] for v in order)
    if not order or 0 in shape or any(divisor <= 0 for _, _, divisor in specs):
        task = dask.delayed(numpy_ops.gather, pure=True)(x, specs, ranges, order)
        return da.from_delayed(task, shape if order else x.shape, dtype=x.dtype)
    grid = _blocks(shape, x)
    blocks = np.empty([len(b) for b in grid], dtype=object)
    # each block's task takes the chunks of x its box overlaps, from one ``to_delayed`` (x's graph optimised once):
    # passing x[box] itself would optimise x's whole graph again for every block (quadratic in the blocks where x is
    # itself the result of a blockwise scatter; 8x8 chunks of a 33x26 image took 769 optimisations for one gather)
    pieces = x.to_delayed()
    edges = _edges(x)
    for index, where, sub in _pieces(shape, x, ranges, order):
        box = []
        for spec, n in zip(specs, x.shape):     # positions outside x read 0: the box is clipped to x
            low, high = _reach(spec, sub)
            start = min(max(low, 0), n)
            box.append(slice(start, max(min(high + 1, n), start)))
        if any(b.stop == b.start for b in box):
            part = np.zeros([b.stop - b.start for b in box], dtype=x.dtype)
        else:
            spans = _overlapping(edges, box)
            origin = [int(e[span[0]]) for e, span in zip(edges, spans)]
            part = dask.delayed(_box_of, pure=True)(pieces[np.ix_(*spans)].tolist(),
                                                    tuple(slice(b.start - o, b.stop - o) for b, o in zip(box, origin)))
        task = dask.delayed(numpy_ops.gather, pure=True)(part, _moved(specs, [b.start for b in box]), sub, order)
        blocks[index] = da.from_delayed(task, tuple(w.stop - w.start for w in where), dtype=x.dtype)
    return da.block(blocks.tolist())


def _edges(array) -> list[np.ndarray]:
    """Per axis of the Dask ``array``, its chunk boundaries: 0, then each chunk's end."""
    return [np.cumsum((0,) + c) for c in array.chunks]


def _overlapping(edges, box) -> list[range]:
    """Per axis, the chunks (by index) that the slices ``box`` overlap, for chunk boundaries ``edges`` (``_edges``)."""
    return [range(int(np.searchsorted(e, b.start, "right")) - 1, int(np.searchsorted(e, b.stop, "left")))
            for e, b in zip(edges, box)]


def _box_of(chunks, box):
    """The box (slices from the first chunk's corner) of the array whose adjacent chunks are the nested lists
    ``chunks``."""
    return np.block(chunks)[box]


def _scattered(target, value, specs, ranges, order, reduction, weight):
    """NumPy's scatter on copies; returns the new target and the counts it added (for avg)."""
    target = np.array(target)
    counts = np.zeros(target.shape) if reduction == "avg" else None
    numpy_ops.scatter(target, value, specs, ranges, order, reduction, counts, weight)
    return target, counts


SCATTER_FILL = {"sum": 0.0, "avg": 0.0, "max": np.nan, "min": np.nan, "or": False}
"""What a block's box holds where it scatters nothing: the identity of combining it into the target."""
SCATTER_UFUNC = {"sum": np.add, "avg": np.add, "max": np.fmax, "min": np.fmin, "or": np.logical_or}
"""How a box's values combine into the target's (the identity ``SCATTER_FILL`` where the box scattered nothing)."""


def _scattered_box(value, specs, ranges, order, reduction, weight, shape, dtype):
    """One block's scatter into a box of ``shape`` filled with the reduction's identity; and its counts (avg)."""
    box = np.full(shape, SCATTER_FILL[reduction], dtype=dtype)
    counts = np.zeros(shape) if reduction == "avg" else None
    numpy_ops.scatter(box, value, specs, ranges, order, reduction, counts, weight)
    return box, counts


def scatter(target, value, specs, ranges, order: str, reduction: str, count=None, weight: float = 1.0):
    """Combine ``value`` into the Dask array ``target`` at computed positions (``tlc_runtime.ops.scatter``):
    ``target`` (and ``count``) are updated in place, as the emitted code expects, blockwise: per block of
    ``value`` (the size of its chunks), one task scatters into the box of ``target`` the block reaches, and each of
    ``target``'s chunks is combined with the parts of the boxes that overlap it (``_combined``). The blocks reach
    their tasks as one delayed value per block, the value's graph optimised once: ``value[where]`` per block would
    optimise its whole graph again for every block (quadratic in the blocks, which Dask's ``einsum`` makes tiny
    along new axes: 61 s for 24 blocks of 48 elements)."""
    value = lazy(value)
    shape = tuple(ranges[v][1] - ranges[v][0] for v in order)
    boxes = []
    if order and 0 not in shape and value.shape == shape and all(divisor > 0 for _, _, divisor in specs):
        for index, _, sub in _pieces(shape, value, ranges, order):
            reach = [_reach(spec, sub) for spec in specs]
            boxes.append((index, sub, tuple(slice(low, high + 1) for low, high in reach)))
    if not boxes or any(b.start < 0 or b.stop > n for _, _, box in boxes for b, n in zip(box, target.shape)):
        task = dask.delayed(_scattered, pure=True, nout=2)(target, value, specs, ranges, order, reduction, weight)
        _assign(target, da.from_delayed(task[0], target.shape, dtype=target.dtype).rechunk(target.chunks))
        if count is not None:
            _assign(count, count + da.from_delayed(task[1], count.shape, dtype=np.float64))
        return
    blocks = tuple(tuple(stop - start for start, stop in axis) for axis in _blocks(shape, value))
    parts = value.rechunk(blocks).to_delayed()
    tasks = [(dask.delayed(_scattered_box, pure=True, nout=2)(parts[index], _moved(specs, [b.start for b in box]), sub,
                                                             order, reduction, weight,
                                                             tuple(b.stop - b.start for b in box), target.dtype), box)
             for index, sub, box in boxes]
    _assign(target, _combined(target, tasks, 0, reduction))
    if count is not None:
        _assign(count, _combined(count.rechunk(target.chunks), tasks, 1, "sum"))


SCATTER_GROUP = 8
"""Boxes combined into one chunk by one task: a chunk more boxes overlap is combined from partial chunks of as many,
in a tree, so that no task holds more than this many boxes (a pooling of many blocks into a small result)."""


def _combined(array, tasks, item: int, reduction: str):
    """``array`` with each box of ``tasks`` (``(delayed pair, box)``; element ``item`` of the pair is the box's
    values) combined into it by ``reduction``, one task per chunk the boxes overlap (the others kept as they are): a
    single graph, where a ``setitem`` per box had to walk the target's whole graph, every box extending it (a 2x2
    pooling of a 4096x4096 image in 256x256 chunks took 49 s to build)."""
    edges = _edges(array)
    overlaps: dict[tuple, list] = {}
    for task, box in tasks:
        for chunk in itertools.product(*_overlapping(edges, box)):
            low = [max(b.start, int(e[k])) for b, e, k in zip(box, edges, chunk)]
            high = [min(b.stop, int(e[k + 1])) for b, e, k in zip(box, edges, chunk)]
            source = tuple(slice(lo - b.start, hi - b.start) for lo, hi, b in zip(low, high, box))
            into = tuple(slice(lo - int(e[k]), hi - int(e[k])) for lo, hi, e, k in zip(low, high, edges, chunk))
            overlaps.setdefault(chunk, []).append(((operator.getitem, task.key, item), source, into))
    name = f"scattered-{tokenize(array.name, [task.key for task, _ in tasks], item, reduction)}"
    graph = {}
    for chunk in np.ndindex(*array.numblocks):
        parts = overlaps.get(chunk)
        key = (name, *chunk)
        if parts is None:
            graph[key] = (array.name, *chunk)
            continue
        shape = tuple(int(e[k + 1] - e[k]) for e, k in zip(edges, chunk))
        level = 0
        while len(parts) > SCATTER_GROUP:       # partial chunks of SCATTER_GROUP boxes each, then those combined
            whole = tuple(slice(0, n) for n in shape)
            partial = []
            for g in range(0, len(parts), SCATTER_GROUP):
                graph[(f"{name}-part", level, g, *chunk)] = _combine_task(None, shape, array.dtype, reduction,
                                                                          parts[g:g + SCATTER_GROUP])
                partial.append(((f"{name}-part", level, g, *chunk), whole, whole))
            parts, level = partial, level + 1
        graph[key] = _combine_task((array.name, *chunk), shape, array.dtype, reduction, parts)
    layers = HighLevelGraph.from_collections(name, graph, dependencies=[array, *(task for task, _ in tasks)])
    return da.Array(layers, name, chunks=array.chunks, dtype=array.dtype, meta=array._meta)


def _combine_task(chunk, shape, dtype, reduction: str, parts) -> tuple:
    """The graph's task of ``_combine`` for ``parts`` (``(values task or key, source, into)``): the values in one
    list, which Dask evaluates, the slices in others, which it keeps as they are."""
    return (_combine, chunk, shape, dtype, reduction, [values for values, _, _ in parts],
            [source for _, source, _ in parts], [into for _, _, into in parts])


def _combine(chunk, shape, dtype, reduction: str, values, sources, intos):
    """A copy of ``chunk`` (or, for None, a chunk of ``shape`` holding the reduction's identity) with each of
    ``values`` combined in: ``values[k][sources[k]]`` into its slices ``intos[k]``."""
    out = np.full(shape, SCATTER_FILL[reduction], dtype=dtype) if chunk is None else np.array(chunk, dtype=dtype)
    combine = SCATTER_UFUNC[reduction]
    for box, source, into in zip(values, sources, intos):
        combine(out[into], box[source], out=out[into])
    return out


def _assign(array, new) -> None:
    """Make the Dask array ``array`` the array ``new`` in place (as its ``__setitem__`` does), for emitted code that
    holds ``array``."""
    array._meta, array.dask, array._name, array._chunks = new._meta, new.dask, new.name, new.chunks


def attention(q, keys, values, *, scale=1.0, mask=None, causal=None, tolerance=None, report=None, where=""):
    """Fused attention (``tlc_runtime.attention``) blockwise: one NumPy fused call per block of query rows (all
    rows at once under a causal penalty, which depends on the row's position), keys and values whole. A
    ``tolerance`` is passed to every block, which chooses exact or the polynomial path from its own rows' bound, so
    every row's error stays within it; which each block chose is known only where it ran, so the report says so."""
    q, keys, values = lazy(q), [lazy(k) for k in keys], [lazy(v) for v in values]
    m = len(keys)
    batch = np.broadcast_shapes(q.shape[:-2], *(k.shape[:-2] for k in keys), *(v.shape[:-2] for v in values),
                                *(() if mask is None else (np.shape(mask)[:-(1 + m)],)))
    rows = q.shape[-2]
    whole = {a: -1 for a in range(len(batch))} | {len(batch) + 1: -1}
    q = da.broadcast_to(q, batch + q.shape[-2:]).rechunk(whole | {len(batch): -1 if causal is not None else "auto"})
    rows_index = tuple(f"b{a}" for a in range(len(batch))) + ("p",)
    arguments = [q, rows_index + ("d",)]
    out_index = rows_index + ("e",)
    for k, array in enumerate(keys + values):
        arguments += [array.rechunk(-1), tuple(f"o{k}_{a}" for a in range(array.ndim))]
    if mask is not None:
        mask = da.broadcast_to(lazy(mask), batch + (rows,) + tuple(k.shape[-2] for k in keys))
        arguments += [mask.rechunk({a: -1 for a in range(mask.ndim) if a != len(batch)}),
                      rows_index + tuple(f"m{a}" for a in range(m))]

    def block(qb, *rest):
        masked = rest[2 * m] if mask is not None else None
        return numpy_attention(qb, rest[:m], rest[m:2 * m], scale=scale, mask=masked, causal=causal,
                               tolerance=tolerance)

    out = da.blockwise(block, out_index, *arguments, new_axes={"e": values[0].shape[-1]}, concatenate=True,
                       dtype=np.float64)
    if report is not None and tolerance is None:
        report.append(AttentionReport(where, m, "exact", "exact blocked online softmax per block of query rows "
                                                          "(Dask)", tolerance))
    elif report is not None:
        report.append(AttentionReport(where, m, "per block", "each block of query rows ran exact or polynomial "
                                      "within the tolerance, chosen from its own rows' bound when computed (Dask)",
                                      tolerance))
    return out


def _same(a, b):
    """A lazy bool: ``a`` equals ``b`` (NaNs equal)."""
    if a.dtype == bool or b.dtype == bool:
        return (a == b).all()
    return ((a == b) | (da.isnan(a) & da.isnan(b))).all()


class Fixpoint(NumpyFixpoint):
    """``tlc_runtime.Fixpoint`` over Dask arrays: a round's checks are computed together on the cluster, and
    the arrays themselves only to describe a failure."""

    def settled(self, new, old) -> bool:
        """True when ``new`` equals ``old``; raises on divergence, oscillation or the round bound."""
        self.round += 1
        new = [lazy(a) for a in new]
        old = [lazy(a) for a in old]
        finite = [da.isfinite(a).all() if kind in ("sum", "avg") else True for kind, a in zip(self.kinds, new)]
        same = [_same(a, b) for a, b in zip(new, old)]
        back = [_same(a, b) for a, b in zip(new, self.back)] if self.back is not None else []
        finite, same, back = dask.compute(finite, same, back)
        for name, ok, at in zip(self.names, finite, self.where):
            if not ok:
                raise RuntimeFailure(f"{name} diverges: no fixpoint (values became infinite in round "
                                     f"{self.round})", *at)
        changed = [k for k, ok in enumerate(same) if not ok]
        if not changed:
            return True
        k = changed[0]
        if back and all(back):
            raise RuntimeFailure(self.oscillation_message(k, np.asarray(new[k]), np.asarray(old[k])), *self.where[k])
        if self.round >= self.rounds:
            raise RuntimeFailure(self._failure(k, np.asarray(new[k]), np.asarray(old[k])), *self.where[k])
        if self.oscillation:
            self.back = old
        return False


def round_limit(round_: int, rounds: int, names, news, where) -> None:
    """In a semi-naive loop: raise once round ``rounds`` still derived new tuples (counted on the cluster)."""
    if round_ < rounds:
        return
    counts = [int(c) for c in dask.compute(*(da.count_nonzero(lazy(new)) for new in news))]
    for name, count, at in zip(names, counts, where):
        if count:
            raise RuntimeFailure(f"{name} did not converge after {rounds} rounds (the last derived {count} new "
                                 f"tuple{'s' * (count != 1)}): the limit is max_rounds={rounds}", *at)
