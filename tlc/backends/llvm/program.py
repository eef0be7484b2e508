"""Build the llvm backend's module for one specialisation: emit, JIT-compile the kernels, bind them."""

from __future__ import annotations

import tlc_runtime.native as native
from tlc.backends.source import load_emitted
from tlc.backends.llvm.emit import emit_llvm
from tlc.backends.llvm.jit import jit


def build_module(program, strata, shapes, symbols: tuple, supplied: dict, symbolic: frozenset,
                 threads: int | None = None, memory_limit: int | None = None, plan=None,
                 max_rounds: int | None = None):
    """Emit, compile and load the llvm-backend module (the arguments of ``emit_numpy``, plus threads):
    returns ``(source, run, emitted)`` where ``run(prepared_inputs)`` evaluates the program."""
    emitted = emit_llvm(program, strata, shapes, symbols, supplied, symbolic, memory_limit, plan, max_rounds)
    run = load_emitted(emitted.source, program.filename)
    run_globals = run.__globals__
    engine = jit()
    addresses = {}
    for kernel in emitted.kernels.values():
        compiled = engine.compile(kernel)
        addresses[compiled.symbol] = compiled.address
    run_globals.update(native.bind(run_globals["KERNELS"], addresses.__getitem__, threads, owner=engine))
    return emitted.source, run, emitted
