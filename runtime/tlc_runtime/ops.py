"""Array operations used by emitted NumPy code: nonlinearities, normalisers, gathers and scatters."""

from __future__ import annotations

import math

import numpy as np

LNORM_EPS = 1e-5
NUMBERS = (float, np.float64)
"""The types of a number that ``owned`` makes a 0-d array of directly."""


def as_number(x) -> np.ndarray:
    """A relation (bool array) or numeric array as float64 for arithmetic."""
    return np.asarray(x, dtype=np.float64)


def owned(value, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` as a float64 array of ``shape`` that nothing else holds: itself when it is one (the new result of
    an operation), else a copy (a view, a broadcast, a number or another dtype)."""
    if type(value) is np.ndarray and value.base is None and value.dtype == np.float64 and value.shape == shape:
        return value
    if not shape and type(value) in NUMBERS:    # (broadcast_to took 3 of a loss's 6 us)
        return np.array(value, dtype=np.float64)
    return np.array(np.broadcast_to(value, shape), dtype=np.float64)


def step(x, out=None):
    """1 where x > 0, else 0 (into the float64 array ``out`` when given)."""
    if out is not None:
        return np.greater(x, 0, out=out)
    return (np.asarray(x) > 0).astype(np.float64)


def negate(x, out=None):
    """Logical negation: 1 where x <= 0, else 0 (``~R(x)`` is the complement of a relation; into ``out`` when
    given)."""
    if out is not None:
        return np.less_equal(x, 0, out=out)
    return (np.asarray(x) <= 0).astype(np.float64)


def relu(x, out=None):
    """max(x, 0) (into ``out`` when given)."""
    return np.maximum(x, 0.0, out=out)


def sig(x, temperature=1.0):
    """Logistic sigmoid 1/(1+exp(-x/T)); T = 0 is exactly ``step``."""
    if np.all(np.asarray(temperature) == 0):
        return step(x)
    z = np.asarray(x, dtype=np.float64) / temperature
    return np.exp(-np.logaddexp(0.0, -z))


SHIFT_SPAN = 700.0
"""A span of values that one softmax shift may cover: ``exp`` of 0 down to -700 is a normal double (it underflows
below -708), so no exponential overflows and none loses precision or vanishes."""


def softmax(x, axis, out=None):
    """Numerically stable softmax along ``axis`` (into the float64 array ``out`` when given, which may be ``x``).

    The values are shifted by their largest value along ``axis``, or by the largest of all when every value is
    within ``SHIFT_SPAN`` of it (the same quotients: a max along a short last axis took 5x a whole-array max); a
    last axis is summed by ``matmul`` with ones (4x faster than ``numpy.sum`` along 10 or 16 values)."""
    x = np.asarray(x, dtype=np.float64)
    top = np.max(x) if x.size else None
    shift = top if top is not None and top - np.min(x) < SHIFT_SPAN else np.max(x, axis=axis, keepdims=True)
    e = np.subtract(x, shift, out=out)   # a new array (or out), then in place (NaN and inf spans take the max per row)
    np.exp(e, out=e)
    if isinstance(axis, (int, np.integer)) and axis in (-1, e.ndim - 1) and e.size:
        e /= np.matmul(e, np.ones(e.shape[-1]))[..., None]
    else:
        e /= np.sum(e, axis=axis, keepdims=True)
    return e


def lnorm(x, axis: int, out=None):
    """Layer normalisation along ``axis``: zero mean, unit (biased) variance, eps 1e-5, no affine (into the float64
    array ``out`` when given, which may be ``x``)."""
    x = np.asarray(x, dtype=np.float64)
    centred = np.subtract(x, np.mean(x, axis=axis, keepdims=True), out=out)   # new (or out), divided in place
    centred /= np.sqrt(np.mean(centred * centred, axis=axis, keepdims=True) + LNORM_EPS)   # numpy.var's steps
    return centred


def align(x, source: str, target: str, sizes: dict[str, int] | None = None):
    """Transpose ``x`` (axes named by the letters of ``source``) to ``target`` order, inserting
    broadcast axes for letters it lacks (expanded to ``sizes`` when given)."""
    return arrange(np.asarray(x), source, target, sizes)


def arrange(x, source: str, target: str, sizes: dict[str, int] | None = None):
    """``align`` of an array NumPy's functions dispatch on (NEP 18): a Dask array stays a lazy Dask array."""
    present = [c for c in target if c in source]
    if present != list(source):
        x = np.transpose(x, [source.index(c) for c in present])
    shape = [x.shape[present.index(c)] if c in source else 1 for c in target]
    x = x.reshape(shape)
    if sizes is not None:
        x = np.broadcast_to(x, [sizes[c] if c not in source else shape[k] for k, c in enumerate(target)])
    return x


def unmerged(x, axis: int, shape: tuple[int, ...]):
    """``x`` with its axis ``axis`` split into axes of ``shape`` (row-major: the inverse of ``merged``), a view when
    ``x`` is C-contiguous (concat's adjoint: the sum of ``x`` times a 0/1 selector of one element per position)."""
    x = np.asarray(x)
    return x.reshape(x.shape[:axis] + tuple(shape) + x.shape[axis + 1:])


def merged(x, shape: tuple[int, ...]):
    """``x`` with its last axes merged into one, as ``x.reshape(shape)`` (``concat``; ``shape`` ends with -1): a view
    when ``x`` is C-contiguous, else one new array that nothing else holds (``reshape`` copies into a hidden array and
    returns a view of it, which ``owned`` then copied again: two copies of a transposed concat)."""
    x = np.asarray(x)
    kept = len(shape) - 1
    flat = x.shape[:kept] + (math.prod(x.shape[kept:]),)     # (-1 cannot be worked out when an extent is 0)
    if x.flags.c_contiguous:
        return x.reshape(flat)
    out = np.empty(flat, dtype=x.dtype)
    np.copyto(out.reshape(x.shape), x)
    return out


def window(x, bounds):
    """``x[start:stop, ...]`` with each axis given as ``(start, stop)`` (or an int position), where the
    part outside ``x`` reads as 0."""
    x = np.asarray(x)
    shape = [stop - start for b in bounds if not isinstance(b, int) for start, stop in [b]]
    out = np.zeros(shape, dtype=np.float64 if x.dtype == bool else x.dtype)
    src, dst = [], []
    for axis, b in enumerate(bounds):
        if isinstance(b, int):
            if not 0 <= b < x.shape[axis]:
                return out
            src.append(b)
            continue
        start, stop = b
        lo, hi = max(start, 0), min(stop, x.shape[axis])
        if hi <= lo:
            return out
        src.append(slice(lo, hi))
        dst.append(slice(lo - start, hi - start))
    out[tuple(dst)] = x[tuple(src)]
    return out


def _grid(spec, ranges: dict[str, tuple[int, int]], order: str):
    """Integer index array for one axis spec ``(terms, offset, divisor)`` over the variables ``order``."""
    terms, offset, divisor = spec
    total = np.asarray(offset)
    for var, coef in terms:
        lo, hi = ranges[var]
        shape = [1] * len(order)
        shape[order.index(var)] = hi - lo
        total = total + coef * np.arange(lo, hi).reshape(shape)
    return total // divisor if divisor != 1 else total


def _strided_view(x: np.ndarray, specs, ranges, order: str):
    """A zero-copy view for reads whose every axis is a sum of distinct variables (``Image[x+dx]``),
    each variable on one axis with coefficient +1; None when the reads need a gather."""
    seen: set[str] = set()
    start, strides = 0, {}
    for axis, (terms, offset, divisor) in enumerate(specs):
        if divisor != 1 or any(c != 1 or v in seen for v, c in terms):
            return None
        position = offset + sum(ranges[v][0] for v, _ in terms)
        last = offset + sum(ranges[v][1] - 1 for v, _ in terms)
        empty = any(ranges[v][1] <= ranges[v][0] for v, _ in terms)
        if not empty and not 0 <= position <= last < x.shape[axis]:
            return None   # reads reach past the tensor: the gather reads 0 there
        start += position * x.strides[axis]
        for v, _ in terms:
            seen.add(v)
            strides[v] = x.strides[axis]
    if seen != set(order):
        return None
    shape = [ranges[v][1] - ranges[v][0] for v in order]
    base = x.reshape(-1)[start // x.itemsize:] if x.size and all(n > 0 for n in shape) else None
    if base is None:
        return np.zeros(shape, dtype=x.dtype)
    return np.lib.stride_tricks.as_strided(base, shape, [strides[v] for v in order], writeable=False)


def gather(x, specs, ranges: dict[str, tuple[int, int]], order: str):
    """Read ``x`` at computed positions: one ``(terms, offset, divisor)`` per axis, variables ranging
    over ``ranges``; the result has one axis per letter of ``order`` (a strided view when it can be)."""
    x = np.ascontiguousarray(x)
    view = _strided_view(x, specs, ranges, order)
    if view is not None:
        return view
    index = tuple(_grid(spec, ranges, order) for spec in specs)
    shape = [ranges[v][1] - ranges[v][0] for v in order]
    if not index:
        return np.broadcast_to(x, shape) if order else x
    inside = np.ones((), dtype=bool)
    for axis, positions in enumerate(index):
        if positions.size and (positions.min() < 0 or positions.max() >= x.shape[axis]):
            inside = inside & (positions >= 0) & (positions < x.shape[axis])
    if inside.all():
        out = x[index]
    elif x.size == 0:
        out = np.zeros(np.broadcast_shapes(*(p.shape for p in index)), dtype=x.dtype)
    else:   # positions outside the tensor (a recursive read past its current extent) read as 0
        clipped = tuple(np.clip(p, 0, n - 1) for p, n in zip(index, x.shape))
        out = np.where(inside, x[clipped], np.zeros((), dtype=x.dtype))
    return np.broadcast_to(out, shape) if order else out


def scatter(target, value, specs, ranges: dict[str, tuple[int, int]], order: str, reduction: str,
            count=None, weight: float = 1.0):
    """Combine ``value`` (axes ``order``) into ``target`` at computed positions with ``reduction``
    (sum, max, min, avg, or); values landing on one position are reduced together, and ``count``
    (for avg) gains ``weight`` per value."""
    value = np.asarray(value)
    index = tuple(np.broadcast_to(_grid(spec, ranges, order), value.shape) for spec in specs)
    ufunc = {"sum": np.add, "avg": np.add, "max": np.fmax, "min": np.fmin, "or": np.logical_or}
    ufunc[reduction].at(target, index, value)
    if count is not None:
        np.add.at(count, index, weight)
