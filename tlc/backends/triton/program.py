"""Build the triton backend's module for one specialisation: emit it, and load it on first use."""

from __future__ import annotations

import tlc_runtime.triton_host as th
from tlc.backends.triton.emit import emit_triton


def build_module(program, strata, shapes, symbols: tuple, supplied: dict, symbolic: frozenset,
                 memory_limit: int | None = None, plan=None, max_rounds: int | None = None):
    """Emit the triton-backend module (the arguments of ``emit_numpy``): returns ``(source, run, emitted)``;
    ``run(prepared_inputs)`` loads the module (checking that kernels can run here) when first called."""
    emitted = emit_triton(program, strata, shapes, symbols, supplied, symbolic, memory_limit, plan, max_rounds)
    return emitted.source, th.runner(emitted.source), emitted
