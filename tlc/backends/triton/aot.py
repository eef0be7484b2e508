"""Compile the triton backend's kernels for a GPU target on a machine without a GPU.

Triton compiles a kernel all the way to PTX and a cubin without a device, which catches kernels that
only the interpreter accepts. The interpreter is chosen when a module is imported, so this must run in
a process without ``TRITON_INTERPRET=1``.
"""

from __future__ import annotations

import os

import tlc_runtime.triton_host as th
from tlc.backends.triton.attention import SIGNATURE, attention_meta, load_attention

CUDA_TARGET = ("cuda", 80, 32)
"""Backend, compute capability, warp size: an A100."""


def _compile(fn, signature: dict, constexprs: dict, target: tuple) -> dict:
    if os.environ.get("TRITON_INTERPRET") == "1":
        raise RuntimeError("compiling for a GPU target needs a process without TRITON_INTERPRET=1")
    os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource
    return triton.compile(ASTSource(fn=fn, signature=signature, constexprs=constexprs), target=GPUTarget(*target)).asm


def compile_kernels(emitted, target: tuple = CUDA_TARGET) -> dict[str, dict]:
    """Every kernel of an emitted triton module (``registry.Emitted``) compiled for ``target``: name -> asm (``ttir``, ``ttgir``, ``llir``,
    ``ptx``, ``cubin``)."""
    module = th.load_module(emitted.source)
    return {name: _compile(getattr(module, name), kernel.signature, kernel.constexprs, target)
            for name, kernel in emitted.kernels.items()}


def compile_attention(d: int, e: int, causal: bool, mask: bool = False, extents: tuple[int, int] = (64, 64),
                      target: tuple = CUDA_TARGET) -> dict:
    """The fused attention kernel for head sizes ``d`` (queries, keys) and ``e`` (values), with or without a causal
    and an additive mask, configured as its launcher would for ``extents`` (queries, keys), compiled for ``target``."""
    module = load_attention()
    constexprs = attention_meta(*extents, d, e, causal, mask)
    return _compile(module.attention_kernel, {**SIGNATURE, **{k: "constexpr" for k in constexprs}}, constexprs, target)
