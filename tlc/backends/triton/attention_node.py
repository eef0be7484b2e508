"""A fused ``Attention`` IR node on the triton backend: the flash-attention kernel where the node fits it,
else ``tlc_runtime.attention`` (the NumPy backend's blocked online softmax), with the reason for ``explain``.

The kernel fits two-way attention (one key axis) whatever its scale, causal penalty and additive mask, when
no tolerance may choose the polynomial path and the head sizes and extents suit a tile. The
emitted ``run`` aligns the operands to ``(batch.., row, feature)`` with NumPy on the host, calls the
launcher ``flash_attention`` (batch and head axes flattened into the grid), and the result is transposed
into the target like any other value.
"""

from __future__ import annotations

import math

from tlc.backends.shared.arrays import Value
from tlc.backends.shared.attention import REPORT, aligned_operands, child_code, where
from tlc.backends.triton.attention import SIGNATURE, attention_meta, emit_attention
from tlc.backends.triton.kernels import TritonKernel
from tlc.ir import nodes as ir

KERNEL = "attention_kernel"
"""The kernel's name in the emitted module (defined once, whatever the number of attention nodes)."""
MAX_HEAD = 256
"""Largest head size (feature or value extent) a kernel tile holds; larger heads stay on the runtime."""
MAX_ELEMENTS = 2 ** 31 - 1
"""The kernel's offsets are 32-bit."""


def unfit(node: ir.Attention, tolerance: float | None) -> str | None:
    """Why ``node`` cannot run on the kernel whatever the shapes, or None when it can."""
    if len(node.keys) != 1:
        return "tensor attention: two key axes, the kernel has one"
    if tolerance is not None and node.mask is None and not node.causal:     # a mask keeps the runtime exact
        return "a tolerance: tlc_runtime.attention chooses the polynomial or the exact path at call time"
    return None


def extents(body, node: ir.Attention) -> dict[str, int]:
    """The node's extents by role in equation emitter ``body``: batches (their product), n, m, d, e."""
    size = body.size
    return {"batches": math.prod(size(b) for b in node.batch_axes), "n": size(node.query_axis),
            "m": size(node.key_axes[0]), "d": size(node.feature_axis), "e": size(node.value_axis)}


def unfit_shapes(sizes: dict[str, int]) -> str | None:
    """Why extents ``sizes`` (see ``extents``) do not suit the kernel, or None."""
    if max(sizes["d"], sizes["e"]) > MAX_HEAD:
        return f"head sizes d = {sizes['d']}, e = {sizes['e']}: the kernel's tiles hold at most {MAX_HEAD}"
    if sizes["m"] == 0:
        return "no keys"
    largest = sizes["batches"] * max(sizes["n"], sizes["m"]) * max(sizes["d"], sizes["e"])
    if largest > MAX_ELEMENTS:
        return "an operand of more than 2^31 elements: the kernel's offsets are 32-bit"
    return None


def describe_run(node: ir.Attention, tolerance: float | None) -> str:
    """How the triton backend runs ``node`` (one line for ``explain``)."""
    why = unfit(node, tolerance)
    if why is None:
        return (f"runs on the Triton flash-attention kernel {KERNEL} (batch and head indices flattened into its "
                f"grid, transposes on the host), unless its shapes do not suit it (see the triton backend section)")
    return f"runs tlc_runtime.attention, not the Triton kernel ({why})"


def emit_kernel_call(body, node: ir.Attention, path: tuple[int, ...], sizes: dict[str, int]):
    """Emit the launcher call for ``node`` inside ``body``; returns its value and the kernel (configured for
    these extents, for ahead-of-time compilation)."""
    query, (key,), (value,) = aligned_operands(body, node)
    scale = child_code(body, node, node.scale, path).code if node.scale is not None else "1.0"
    args = [query, key, value, scale]
    if node.causal:
        args += ["causal=True", f"penalty={child_code(body, node, node.causal_penalty, path).code}"]
    if node.mask is not None:
        mask = child_code(body, node, node.mask, path)
        args.append(f"mask={body.aligned(mask, node.batch_axes + (node.query_axis, node.key_axes[0]))}")
    call = f"flash_attention({', '.join(args)})"
    result = body.bind(call)
    meta = attention_meta(sizes["n"], sizes["m"], sizes["d"], sizes["e"], node.causal, node.mask is not None)
    grid = sizes["batches"] * -(-sizes["n"] // meta["BLOCK_Q"])
    batches = f"{sizes['batches']} batch{'es' if sizes['batches'] != 1 else ''}"
    description = (f"{KERNEL}: flash attention, {batches} x {sizes['n']} queries x {sizes['m']} keys, "
                   f"d = {sizes['d']}, e = {sizes['e']}, {grid} program{'s' if grid != 1 else ''} of "
                   f"{meta['BLOCK_Q']} queries, key blocks of "
                   f"{meta['BLOCK_KV']}" + (", causal" if node.causal else "") + (", additive mask" if node.mask else ""))
    body.out.append(f"{REPORT}.append(rt.AttentionReport({where(body)!r}, 1, 'exact', "
                    f"{'Triton kernel ' + KERNEL + ': online softmax over key blocks'!r}))")
    kernel = TritonKernel(emit_attention().rstrip("\n"), call, description,
                          {**SIGNATURE, **{k: "constexpr" for k in meta}}, meta)
    return Value(result, node.batch_axes + (node.query_axis, node.value_axis)), kernel
