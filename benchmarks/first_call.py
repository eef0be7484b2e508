"""A call's time in a new process, with the llvm backend's disk cache of compiled kernels cold, then warm.

Benchmarks run as scripts (``python benchmarks/bench_x.py``), so this module is imported by its plain name. Each
measurement spawns a fresh interpreter (nothing compiled in memory; tlc, NumPy and the benchmark imported before the
clock starts, lazily imported parts such as llvmlite not); ``TLC_CACHE_DIR`` names a temporary directory that is
empty for the cold run and holds what the cold run compiled for the warm one. Each result says how many kernels
were compiled and how many loaded from the disk cache, so the cache's state is on record, not assumed, and the
seconds the JIT took for them (lowering, then compiling or loading; the rest of a first call is tlc's own start:
building the parser, importing llvmlite, planning and emitting).
"""

from __future__ import annotations

import os
import tempfile
import time

from child import in_child


def cold_and_warm(call, *args, limit: float = 600.0) -> dict:
    """``{"cold": ..., "warm": ...}``: ``call(*args)`` (a module-level function) timed in a new process with an empty
    disk cache, then in another with the cache the first one filled: seconds, kernels compiled and loaded."""
    with tempfile.TemporaryDirectory(prefix="tlc-bench-cache-") as directory:
        return {state: _in_new_process(call, args, directory, limit) for state in ("cold", "warm")}


def describe(result: dict) -> str:
    """One line: the cold and warm seconds, with the kernels compiled or loaded in each and the JIT's share."""
    return "; ".join(f"{state} disk cache {r['seconds'] * 1e3:.2f} ms ({r['compiled']} kernels compiled, "
                     f"{r['loaded']} loaded: {r['jit_seconds'] * 1e3:.2f} ms of it in the JIT)" if "seconds" in r
                     else f"{state} disk cache: {r['skipped']}" for state, r in result.items())


def _in_new_process(call, args, directory: str, limit: float) -> dict:
    result = in_child(_child, (call, args, directory), limit, start="spawn")
    return result if result is not None else {"skipped": f"stopped after {limit:.0f} s"}


def _child(call, args, directory: str, pipe) -> None:
    os.environ["TLC_CACHE_DIR"] = directory
    os.environ.pop("TLC_JIT_CACHE", None)
    from tlc.backends.llvm.jit import jit
    start = time.perf_counter()
    call(*args)
    seconds = time.perf_counter() - start
    engine = jit()
    pipe.send({"seconds": seconds, "compiled": engine.compilations - engine.loaded, "loaded": engine.loaded,
               "jit_seconds": sum(c.seconds for c in engine.records().values())})
