"""The llvm backend: equations fused into native loop nests, compiled with llvmlite (MCJIT).

Layers: ``kernel`` (kernel IR) <- ``from_ir`` (tlc IR equation -> kernel, cost rules; ``parallel``
picks the loop threads split) <- ``emit`` (the NumPy module with kernel calls); ``codegen`` (kernel ->
LLVM IR) and ``jit`` (host-tuned O3, one MCJIT engine, cache) need llvmlite; ``program`` runs programs
(``build_module``); ``aot`` writes LLVM IR, assembly, objects and shared libraries. Emitted code calls
kernels through ``tlc_runtime.native``, which also splits them over threads.
"""

from __future__ import annotations


def compile_llvm(src_or_path, opt_level: int = 2, threads: int | None = None, **options):
    """``tlc.compile(src_or_path, backend="llvm", ...)``: ``threads`` (default ``TLC_NUM_THREADS``, else
    the CPU count) bounds the threads per kernel."""
    from tlc.api import compile as compile_program
    return compile_program(src_or_path, "llvm", opt_level, threads, **options)


__all__ = ["compile_llvm"]
