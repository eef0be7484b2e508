"""Fused (flash) attention for the triton backend: ``softmax(Q K^T * scale) V`` in one kernel.

Each program owns a block of query rows and streams key/value blocks through an online softmax (a
running row maximum, a running normaliser and a rescaled accumulator), so the n x m score matrix is
never stored: extra memory is O(n·e) for the output. Leading (batch, head) axes are flattened into
the grid. An additive mask is read through strides, 0 along the axes it broadcasts over.
``causal=True`` subtracts ``penalty`` from the scores of keys after the query position, as
``- C step(p' - p)`` in the source does (``penalty=None``: a hard mask); key blocks wholly after a
query block are skipped when the penalty provably zeroes their weights.

Two entry points for a fused-attention IR node:
- ``emit_attention()``: source text defining ``attention_kernel``, ``attention_meta`` and the
  launcher ``flash_attention(Q, K, V, scale, causal=False, penalty=None, mask=None)``, to place once
  in an emitted module (which imports numpy as np, triton, triton.language as tl, and
  tlc_runtime.triton_host as th); emitted ``run`` code then calls ``flash_attention(...)``.
- ``launch_attention(Q, K, V, scale, causal=False, penalty=None, mask=None)``: runs that kernel on
  NumPy arrays now.
"""

from __future__ import annotations

import inspect

import numpy as np

import tlc_runtime.triton_host as th

_SOURCE = '''
@triton.jit
def attention_kernel(O_ptr, Q_ptr, K_ptr, V_ptr, M_ptr, scale_ptr, penalty_ptr, n, m, skip_later, mask_batch,
                     mask_row, mask_col, D: tl.constexpr, E: tl.constexpr, CAUSAL: tl.constexpr, MASK: tl.constexpr,
                     BLOCK_Q: tl.constexpr, BLOCK_KV: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_E: tl.constexpr):
    """O[b, i, :] = softmax_j(Q[b, i, :] . K[b, j, :] * scale [+ M[b, i, j] if MASK] [- penalty if CAUSAL and
    j > i]) V[b, j, :], one block of rows i per program; M is read through its strides (0 where it broadcasts);
    ``skip_later``: the penalty zeroes later keys, so skip their blocks."""
    pid = tl.program_id(0)
    scale = tl.load(scale_ptr)
    penalty = tl.load(penalty_ptr)
    tiles = tl.cdiv(n, BLOCK_Q)
    batch = pid // tiles
    oq = (pid % tiles) * BLOCK_Q + tl.arange(0, BLOCK_Q)
    mq = oq < n
    od = tl.arange(0, BLOCK_D)
    oe = tl.arange(0, BLOCK_E)
    q = tl.load(Q_ptr + batch * n * D + oq[:, None] * D + od[None, :], mask=mq[:, None] & (od[None, :] < D),
                other=0.0)
    row_max = tl.full([BLOCK_Q], -float('inf'), tl.float64)
    row_sum = tl.zeros([BLOCK_Q], dtype=tl.float64)
    acc = tl.zeros([BLOCK_Q, BLOCK_E], dtype=tl.float64)
    hi = m
    if CAUSAL:
        if skip_later != 0:     # keys after the block's last query weigh nothing in any of its rows
            hi = tl.minimum(m, (pid % tiles + 1) * BLOCK_Q)
    for k0 in range(0, hi, BLOCK_KV):
        ok = k0 + tl.arange(0, BLOCK_KV)
        mk = ok < m
        k = tl.load(K_ptr + batch * m * D + ok[:, None] * D + od[None, :], mask=mk[:, None] & (od[None, :] < D),
                    other=0.0)
        s = tl.dot(q, tl.trans(k)) * scale
        if MASK:
            s += tl.load(M_ptr + batch * mask_batch + oq[:, None] * mask_row + ok[None, :] * mask_col,
                         mask=mq[:, None] & mk[None, :], other=0.0)
        if CAUSAL:
            s = tl.where(ok[None, :] > oq[:, None], s - penalty, s)
        s = tl.where(mk[None, :], s, -float('inf'))
        new_max = tl.maximum(row_max, tl.max(s, axis=1))
        safe_max = tl.where(new_max == -float('inf'), 0.0, new_max)   # rows that have seen no key yet
        p = tl.exp(s - safe_max[:, None])
        rescale = tl.exp(row_max - safe_max)
        row_sum = row_sum * rescale + tl.sum(p, axis=1)
        v = tl.load(V_ptr + batch * m * E + ok[:, None] * E + oe[None, :], mask=mk[:, None] & (oe[None, :] < E),
                    other=0.0)
        acc = acc * rescale[:, None] + tl.dot(p, v)
        row_max = new_max
    out = acc / row_sum[:, None]
    tl.store(O_ptr + batch * n * E + oq[:, None] * E + oe[None, :], out, mask=mq[:, None] & (oe[None, :] < E))


def flash_attention(Q, K, V, scale, causal=False, penalty=None, mask=None):
    """softmax(Q K^T * scale [+ mask] [- penalty where key > query, if causal; None: a hard mask]) V over the
    last two axes of Q [..., n, d], K [..., m, d], V [..., m, e], mask [..., n or 1, m or 1]; leading axes
    broadcast together (a broadcast operand is copied, the mask only over leading axes it partly has) and
    are flattened into the grid. Returns a float64 array [..., n, e]."""
    lead = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2], V.shape[:-2])
    Q, K, V = (np.ascontiguousarray(np.broadcast_to(x, lead + x.shape[-2:]), dtype=np.float64) for x in (Q, K, V))
    n, d = Q.shape[-2:]
    m, e = V.shape[-2:]
    out = np.zeros((*lead, n, e))
    if out.size == 0:
        return out
    if causal and penalty is not None and not np.isfinite(penalty):
        out[...] = np.nan   # - C step(p' - p) with C infinite or NaN: C * 0 makes every visible score NaN
        return out
    penalty = float('inf') if penalty is None else penalty
    meta = attention_meta(n, m, d, e, causal, mask is not None)
    M, strides, spread = np.zeros(1), (0, 0, 0), 0.0
    if mask is not None:
        M = np.asarray(mask, dtype=np.float64)
        M = M.reshape((1,) * (len(lead) + 2 - M.ndim) + M.shape)
        if any(size != 1 for size in M.shape[:-2]):
            M = np.broadcast_to(M, lead + M.shape[-2:])
        M = np.ascontiguousarray(M)
        rows, cols = M.shape[-2:]
        strides = (rows * cols if M.size > rows * cols else 0, cols if rows > 1 else 0, 1 if cols > 1 else 0)
        spread = float(np.max(M) - np.min(M))
    # every score lies in [-bound, bound] (Cauchy-Schwarz) plus the mask's range, and key 0 is visible to every
    # row, so a penalty beyond 2 bound + spread + 746 makes exp underflow to exactly 0 for every later key
    bound = abs(float(scale)) * np.sqrt(np.max(np.sum(Q * Q, axis=-1))) * np.sqrt(np.max(np.sum(K * K, axis=-1)))
    skip = bool(causal) and float(penalty) > 2.0 * bound * (1 + 1e-9) + spread + 746.0
    grid = int(np.prod(lead, dtype=np.int64)) * triton.cdiv(n, meta["BLOCK_Q"])
    th.launch(attention_kernel, grid, (out,), (Q, K, V, M, scale, penalty), (n, m, int(skip), *strides), **meta)
    return out
'''


def attention_meta(n, m, d, e, causal, mask=False):
    """The compile-time parameters of ``attention_kernel`` for n queries, m keys, head sizes d (queries and keys)
    and e (values), with or without a causal and an additive mask: blocks of 16..64 rows, head blocks the next
    power of two of at least 16."""
    def pow2(x, low, high):
        return max(low, min(high, 1 << max(x - 1, 0).bit_length()))
    return {"D": d, "E": e, "CAUSAL": bool(causal), "MASK": bool(mask), "BLOCK_Q": pow2(n, 16, 64), "BLOCK_KV": pow2(m, 16, 64),
            "BLOCK_D": pow2(d, 16, 1 << 30), "BLOCK_E": pow2(e, 16, 1 << 30)}


SIGNATURE = {"O_ptr": "*fp64", "Q_ptr": "*fp64", "K_ptr": "*fp64", "V_ptr": "*fp64", "M_ptr": "*fp64",
             "scale_ptr": "*fp64", "penalty_ptr": "*fp64", "n": "i32", "m": "i32", "skip_later": "i32",
             "mask_batch": "i32", "mask_row": "i32", "mask_col": "i32"}
"""Run-time parameters of ``attention_kernel`` and their Triton types (for ahead-of-time compilation)."""


def emit_attention() -> str:
    """Source of ``attention_kernel``, ``attention_meta`` and the launcher ``flash_attention(Q, K, V, scale,
    causal=False, penalty=None, mask=None)`` for an emitted module (place it once, before ``run``)."""
    kernel, launcher = _SOURCE.strip("\n").split("\n\n\ndef flash_attention")
    return f"{kernel}\n\n\n{inspect.getsource(attention_meta)}\n\ndef flash_attention{launcher}\n"


_HEADER = ('"""tlc fused attention (triton backend)."""\nimport numpy as np\nimport triton\n'
           'import triton.language as tl\n\nimport tlc_runtime.triton_host as th\n\n')


def launch_attention(Q, K, V, scale: float, causal: bool = False, penalty: float | None = None,
                     mask=None) -> np.ndarray:
    """Run the fused attention kernel now: ``softmax(Q K^T * scale) V`` (see ``flash_attention``); raises
    ``tlc_runtime.triton_host.TritonUnavailable`` when kernels cannot run here."""
    Q, K, V = (np.asarray(x) for x in (Q, K, V))
    if Q.ndim < 2 or K.ndim != Q.ndim or V.ndim != Q.ndim or Q.shape[-1] != K.shape[-1] or K.shape[-2] != V.shape[-2]:
        raise ValueError(f"attention needs Q [..., n, d], K [..., m, d], V [..., m, e]; got {Q.shape}, {K.shape}, "
                         f"{V.shape}")
    try:
        np.broadcast_shapes(Q.shape[:-2], K.shape[:-2], V.shape[:-2])
    except ValueError:
        raise ValueError(f"attention needs leading axes that broadcast; got {Q.shape}, {K.shape}, {V.shape}") from None
    th.route()
    return load_attention().flash_attention(Q, K, V, scale, causal, penalty, mask)


def load_attention():
    """The kernel, ``attention_meta`` and the launcher as an imported module (kernels compile only from a file)."""
    return th.load_module(_HEADER + emit_attention())
