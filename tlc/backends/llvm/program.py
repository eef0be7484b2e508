"""Load the llvm backend's module for one specialisation: JIT-compile its kernels and bind them."""

from __future__ import annotations

import tlc_runtime.native as native
from tlc.backends.llvm.jit import jit
from tlc.backends.registry import Emitted
from tlc.backends.shared.load import load_emitted
from tlc.driver.planned import PlannedProgram


def load(planned: PlannedProgram, emitted: Emitted):
    """Compile the emitted kernels (one MCJIT engine, cached) and return the module's ``run``, whose kernel
    calls go through ``tlc_runtime.native`` with at most ``planned.threads`` threads each."""
    run = load_emitted(emitted.source, emitted.filename)
    run_globals = run.__globals__
    engine = jit()
    for kernel in emitted.kernels.values():
        engine.compile(kernel)
    run_globals.update(native.bind(run_globals["KERNELS"], engine.address, planned.threads, owner=engine))
    return run
