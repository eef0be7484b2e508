"""The llvm backend: equations fused into native loop nests, compiled with llvmlite (MCJIT).

Layers: ``kernel`` (kernel IR) <- ``from_ir`` (tlc IR equation -> kernel, cost rules; ``parallel``
picks the loop threads split) <- ``emit`` (the NumPy module with kernel calls); ``codegen`` (kernel ->
LLVM IR) and ``jit`` (host-tuned O3, one MCJIT engine, cache) need llvmlite; ``program`` runs programs
(``load``); ``aot`` writes LLVM IR, assembly, objects and shared libraries; ``closure`` and ``semiring`` are the fixed
kernels: the closure strategy's loop over strong components (and a traversal per source for sparse closures), and
the semiring strategy's relaxation over CSR and label setting; ``bitsets`` holds the kernels dense semi-naive strata
run on as bitset rows. Emitted
code calls kernels through ``tlc_runtime.native``, which also splits them over threads.
"""

from __future__ import annotations

from tlc.backends.llvm.emit import emit_llvm
from tlc.backends.registry import Backend
from tlc.analysis.relation_plan import NATIVE_BITSETS, NATIVE_CLOSURE, NATIVE_JOINS
from tlc.analysis.semiring_plan import NATIVE_SEMIRING
from tlc.driver.plan import FUSED_FOLDS


def _load(planned, emitted):
    """JIT-compile the kernels and bind them (``program.load``; needs llvmlite)."""
    from tlc.backends.llvm.program import load
    return load(planned, emitted)


BACKEND = Backend("llvm", "native kernels through llvmlite (MCJIT), threads, ahead-of-time artefacts", emit_llvm,
                  _load,
                  extra="llvm", requires=("llvmlite",),
                  capabilities=frozenset({FUSED_FOLDS, NATIVE_BITSETS, NATIVE_CLOSURE, NATIVE_JOINS, NATIVE_SEMIRING}),
                  function_fallbacks={"not": "negation of a numeric tensor has no kernel form yet (rt.negate)",
                                      "concat": "concat reshapes (a view in NumPy)"})
