"""Fused (flash) attention for the triton backend: ``softmax(Q K^T * scale) V`` in one kernel.

Each program owns a block of query rows and streams key/value blocks through an online softmax (a
running row maximum, a running normaliser and a rescaled accumulator), so the n x m score matrix is
never stored: extra memory is O(n·e) for the output. Leading (batch, head) axes are flattened into
the grid. ``causal=True`` lets query i see keys 0..i only.

Two entry points for a fused-attention IR node:
- ``emit_attention()``: source text defining ``attention_kernel`` and its launcher
  ``flash_attention(Q, K, V, scale, causal=False)``, to place once in an emitted module (which
  imports numpy as np, triton, triton.language as tl, and tlc_runtime.triton_host as th); emitted
  ``run`` code then calls ``flash_attention(...)``.
- ``launch_attention(Q, K, V, scale, causal=False)``: runs that kernel on NumPy arrays now.
"""

from __future__ import annotations

import numpy as np

import tlc_runtime.triton_host as th

_SOURCE = '''
@triton.jit
def attention_kernel(O_ptr, Q_ptr, K_ptr, V_ptr, scale_ptr, n, m, D: tl.constexpr, E: tl.constexpr,
                     CAUSAL: tl.constexpr, BLOCK_Q: tl.constexpr, BLOCK_KV: tl.constexpr,
                     BLOCK_D: tl.constexpr, BLOCK_E: tl.constexpr):
    """O[b, i, :] = softmax_j(Q[b, i, :] . K[b, j, :] * scale) V[b, j, :], one block of rows i per program."""
    pid = tl.program_id(0)
    scale = tl.load(scale_ptr)
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
    if CAUSAL:      # keys after the block's last query are masked for every row
        hi = tl.minimum(m, (pid % tiles + 1) * BLOCK_Q)
    for k0 in range(0, hi, BLOCK_KV):
        ok = k0 + tl.arange(0, BLOCK_KV)
        mk = ok < m
        k = tl.load(K_ptr + batch * m * D + ok[:, None] * D + od[None, :], mask=mk[:, None] & (od[None, :] < D),
                    other=0.0)
        s = tl.dot(q, tl.trans(k)) * scale
        visible = mk[None, :]
        if CAUSAL:
            visible = visible & (ok[None, :] <= oq[:, None])
        s = tl.where(visible, s, -float('inf'))
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


def flash_attention(Q, K, V, scale, causal=False):
    """softmax(Q K^T * scale) V over the last two axes of Q [..., n, d], K [..., m, d], V [..., m, e]
    (leading axes equal, flattened into the grid); returns a float64 array [..., n, e]."""
    Q, K, V = (np.ascontiguousarray(x, dtype=np.float64) for x in (Q, K, V))
    *lead, n, d = Q.shape
    m, e = V.shape[-2], V.shape[-1]
    out = np.zeros((*lead, n, e))
    batches = int(np.prod(lead, dtype=np.int64))
    if out.size == 0:
        return out
    block_q = max(16, min(64, triton.next_power_of_2(n)))
    grid = batches * triton.cdiv(n, block_q)
    th.launch(attention_kernel, grid, (out,), (Q, K, V, scale), (n, m), D=d, E=e, CAUSAL=bool(causal),
              BLOCK_Q=block_q, BLOCK_KV=max(16, min(64, triton.next_power_of_2(m))),
              BLOCK_D=max(16, triton.next_power_of_2(d)), BLOCK_E=max(16, triton.next_power_of_2(e)))
    return out
'''


def emit_attention() -> str:
    """Source of ``attention_kernel`` and its launcher ``flash_attention(Q, K, V, scale, causal=False)`` for an
    emitted module (place it once, before ``run``)."""
    return _SOURCE.strip("\n") + "\n"


_HEADER = ('"""tlc fused attention (triton backend)."""\nimport numpy as np\nimport triton\n'
           'import triton.language as tl\n\nimport tlc_runtime.triton_host as th\n\n')


def launch_attention(Q, K, V, scale: float, causal: bool = False) -> np.ndarray:
    """Run the fused attention kernel now: ``softmax(Q K^T * scale) V`` (see ``flash_attention``); raises
    ``tlc_runtime.triton_host.TritonUnavailable`` when kernels cannot run here."""
    Q, K, V = (np.asarray(x) for x in (Q, K, V))
    if Q.ndim < 2 or K.ndim != Q.ndim or V.ndim != Q.ndim or len({Q.shape[:-2], K.shape[:-2], V.shape[:-2]}) != 1 \
            or Q.shape[-1] != K.shape[-1] or K.shape[-2] != V.shape[-2]:
        raise ValueError(f"attention needs Q [..., n, d], K [..., m, d], V [..., m, e] with equal leading axes; got "
                         f"{Q.shape}, {K.shape}, {V.shape}")
    th.route()
    return th.load_module(_HEADER + emit_attention()).flash_attention(Q, K, V, scale, causal)
