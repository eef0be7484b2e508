"""Fused softmax attention for emitted code: never materialises the score tensor.

``attention(q, keys, values, ...)`` computes, per batch element,

    out[p, e] = Σ_{p1..pm} softmax(scale · Σ_d q[p,d] k1[p1,d] ⋯ km[pm,d] + mask − C·[p1 > p]) v1[p1,e] ⋯ vm[pm,e]

with the softmax over (p1, …, pm) jointly: m = 1 is ordinary attention, m = 2 the Alman–Song tensor
attention. The exact path streams over blocks of keys (or of key pairs) with an online softmax
(flash-attention style: running maximum, running denominator, rescaled accumulator), so the extra
memory is a few blocks plus O(n·e) state, and each block is two BLAS matrix products. With a
tolerance, the polynomial path (``tlc_runtime.polynomial``) is taken when its error bound, computed
from the inputs' norms, meets it; the decision is recorded in a report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from tlc_runtime.polynomial import PolynomialPlan, plan, polynomial_attention

QUERY_BLOCK = 2048
BLOCK_ELEMENTS = 1 << 20
"""Scores held at once per query block (8 MiB of float64); smaller blocks make BLAS slow on a busy machine."""
SAMPLE_ROWS = 8


@dataclass
class AttentionReport:
    """How one fused attention ran: the method, and for a tolerance the bound it used."""

    where: str
    keys: int
    """1 for softmax attention, 2 for tensor attention."""
    method: str
    """``exact`` (blocked online softmax), ``polynomial``, or ``per block`` (on Dask: each block chose)."""
    reason: str
    tolerance: float | None = None
    degree: int | None = None
    entry_bound: float | None = None
    error_bound: float | None = None
    measured_error: float | None = None
    """Max |approximate − exact| over sampled query rows, after ``measure()``."""
    _operands: tuple = field(default=(), repr=False, compare=False)

    def measure(self, rows: int = SAMPLE_ROWS) -> float:
        """Evaluate up to ``rows`` evenly spaced query rows of each batch element exactly and return
        (and record) the largest absolute difference from the approximate result; 0 for an exact run, NaN when the
        operands were not kept (a run on Dask, whose blocks chose where they ran)."""
        if self.method == "exact":
            self.measured_error = 0.0
            return 0.0
        if not self._operands:
            self.measured_error = math.nan
            return math.nan
        q, keys, values, scale, out = self._operands
        worst = 0.0
        for index in np.ndindex(out.shape[:-2]):
            qb, kb, vb = _select(q, index), [_select(k, index) for k in keys], [_select(v, index) for v in values]
            picked = np.unique(np.linspace(0, qb.shape[0] - 1, min(rows, qb.shape[0])).astype(int))
            exact = _exact(qb[picked], kb, vb, scale, None, None, picked)
            worst = max(worst, float(np.max(np.abs(exact - out[index][picked]), initial=0.0)))
        self.measured_error = worst
        return worst

    def describe(self) -> str:
        """One line for explain and the command line."""
        kind = "tensor attention" if self.keys == 2 else "attention"
        text = f"{self.where}: {kind} ran {self.method}: {self.reason}"
        if self.measured_error is not None:
            text += f"; measured max error {self.measured_error:.3g}"
        return text


def attention(q, keys, values, *, scale: float = 1.0, mask=None, causal: float | None = None,
              tolerance: float | None = None, report: list | None = None, where: str = "") -> np.ndarray:
    """Fused attention over leading batch axes (broadcast): q (*B, n, d), keys[i] (*B, m_i, d),
    values[i] (*B, m_i, e), mask broadcastable to (*B, n, m_1, …, m_k); ``causal`` is the penalty C
    subtracted where the key position exceeds the query position (one key only). Returns (*B, n, e)."""
    q = np.asarray(q, dtype=np.float64)
    keys = [np.asarray(k, dtype=np.float64) for k in keys]
    values = [np.asarray(v, dtype=np.float64) for v in values]
    m = len(keys)
    batch = np.broadcast_shapes(q.shape[:-2], *(k.shape[:-2] for k in keys), *(v.shape[:-2] for v in values),
                                *(() if mask is None else (np.shape(mask)[:-(1 + m)],)))
    out = np.empty(batch + (q.shape[-2], values[0].shape[-1]))
    chosen = _choose(q, keys, values, scale, mask, causal, tolerance)
    for index in np.ndindex(batch):
        qb, kb, vb = _select(q, index), [_select(k, index) for k in keys], [_select(v, index) for v in values]
        if chosen.degree is not None:
            out[index] = polynomial_attention(qb, kb, vb, scale, chosen.degree)
        else:
            mb = None if mask is None else _select(np.asarray(mask, dtype=np.float64), index, 1 + m)
            out[index] = _exact(qb, kb, vb, scale, mb, causal)
    if report is not None:
        method = "exact" if chosen.degree is None else "polynomial"
        operands = (q, keys, values, scale, out) if chosen.degree is not None else ()
        report.append(AttentionReport(where, m, method, chosen.reason, tolerance, chosen.degree,
                                      chosen.entry_bound, chosen.error_bound, _operands=operands))
    return out


def _choose(q, keys, values, scale, mask, causal, tolerance) -> PolynomialPlan:
    """The polynomial plan when a tolerance allows one, else an exact plan saying why."""
    blocked = "blocked online softmax; the scores are never materialised"
    if tolerance is None:
        return PolynomialPlan(None, math.nan, None, 0, f"{blocked} (no tolerance given)")
    if mask is not None or causal is not None:
        return PolynomialPlan(None, math.nan, None, 0, f"{blocked}: a mask prevents the polynomial factorisation")
    flat = lambda x: x.reshape(-1, x.shape[-1])   # noqa: E731 - the bound holds over every batch element
    batch = math.prod(np.broadcast_shapes(q.shape[:-2], *(k.shape[:-2] for k in keys)))
    chosen = plan(flat(q), [flat(k) for k in keys], [flat(v) for v in values], tolerance, scale, batch,
                  [k.shape[-2] for k in keys])
    if chosen.degree is None:
        return PolynomialPlan(None, chosen.entry_bound, None, chosen.features,
                              f"{blocked}: tolerance not guaranteed ({chosen.reason})")
    return chosen


def _select(x: np.ndarray, index: tuple, core: int = 2) -> np.ndarray:
    """Batch element ``index`` of ``x``, whose leading axes (all but the last ``core``) broadcast
    against the batch."""
    own = x.shape[:x.ndim - core]
    offset = len(index) - len(own)
    return x[tuple(0 if size == 1 else index[offset + a] for a, size in enumerate(own))]


def _key_blocks(keys, values):
    """(key slices, keys block (P, d), values block (P, e)) covering every key
    combination in blocks of about ``BLOCK_ELEMENTS / QUERY_BLOCK`` rows; for two keys a block is a
    rectangle of (p1, p2) pairs flattened row-major, its keys k1∘k2 and values v1∘v2."""
    target = max(1, BLOCK_ELEMENTS // QUERY_BLOCK)
    if len(keys) == 1:
        k, v = keys[0], values[0]
        for j0 in range(0, k.shape[0], target):
            yield (slice(j0, min(j0 + target, k.shape[0])),), k[j0:j0 + target], v[j0:j0 + target]
        return
    (k1, k2), (v1, v2) = keys, values
    width = min(k2.shape[0], target)
    height = max(1, target // max(width, 1))
    for a0 in range(0, k1.shape[0], height):
        for c0 in range(0, k2.shape[0], width):
            rows = slice(a0, min(a0 + height, k1.shape[0]))
            cols = slice(c0, min(c0 + width, k2.shape[0]))
            kk = (k1[rows, None, :] * k2[None, cols, :]).reshape(-1, k1.shape[1])
            vv = (v1[rows, None, :] * v2[None, cols, :]).reshape(-1, v1.shape[1])
            yield (rows, cols), kk, vv


def _exact(q, keys, values, scale, mask, causal, positions=None) -> np.ndarray:
    """Exact attention of one batch element by blocks with an online softmax; ``positions`` are the
    query rows' positions (for the mask and the causal penalty) when ``q`` is a selection of rows."""
    n, e = q.shape[0], values[0].shape[1]
    positions = np.arange(n) if positions is None else np.asarray(positions)
    out = np.empty((n, e))
    for i0 in range(0, n, QUERY_BLOCK):
        rows = positions[i0:i0 + QUERY_BLOCK]
        qs = q[i0:i0 + QUERY_BLOCK] * scale
        top = np.full(len(rows), -np.inf)
        total = np.zeros(len(rows))
        acc = np.zeros((len(rows), e))
        for where, kk, vv in _key_blocks(keys, values):
            s = qs @ kk.T
            if mask is not None:
                s += _mask_block(mask, rows, where)
            if causal is not None:
                later = np.arange(where[0].start, where[0].start + kk.shape[0])[None, :] > rows[:, None]
                s -= causal * later
            new_top = np.maximum(top, s.max(axis=1))
            # rows whose running maximum is still -inf keep a zero state (no finite score yet)
            shift = np.where(np.isfinite(new_top), new_top, 0.0)
            rescale = np.exp(top - shift)
            s -= shift[:, None]
            np.exp(s, out=s)
            total = total * rescale + s.sum(axis=1)
            acc *= rescale[:, None]
            acc += s @ vv
            top = new_top
        out[i0:i0 + QUERY_BLOCK] = acc / total[:, None]
    return out


def _mask_block(mask, rows, where) -> np.ndarray:
    """The additive mask of one batch element for these query rows and this key block, flattened like
    the scores block (axes of extent 1 broadcast)."""
    picks = (rows if mask.shape[0] != 1 else slice(None),
             *(w if mask.shape[1 + a] != 1 else slice(None) for a, w in enumerate(where)))
    shape = (len(rows), *(w.stop - w.start for w in where))
    return np.broadcast_to(mask[picks], shape).reshape(len(rows), -1)
