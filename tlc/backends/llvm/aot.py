"""Ahead of time: an emitted llvm-backend module as a Python file plus a shared library of its
kernels, which ``tlc_runtime.native.load_module`` runs without the compiler (or llvmlite), scipy or
opt_einsum. Every artefact is built for ``cpu`` (``target.resolve_cpu``): by default the portable
``x86-64-v2``, so a library runs on other x86-64 machines; ``cpu="host"`` for this one."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from tlc.backends.registry import Emitted
from tlc.backends.llvm.jit import llvm_section, lower, optimise
from tlc.backends.llvm.kernel import symbol_for
from tlc.backends.llvm.target import target_machine
from tlc.errors import TlcError


def _optimised(kernel, tm):
    return optimise(lower(kernel, symbol_for(kernel)), tm, kernel.label)


def object_code(kernels, cpu: str | None = None) -> bytes:
    """One relocatable object file (PIC) holding every kernel, built for ``cpu``."""
    tm = target_machine(cpu)
    merged = None
    with llvm_section():
        for kernel in dict.fromkeys(kernels):
            mod = _optimised(kernel, tm)
            if merged is None:
                merged = mod
            else:
                merged.link_in(mod)
        if merged is None:
            import llvmlite.binding as llvm
            merged = llvm.parse_assembly("")
            merged.triple = tm.triple
        return tm.emit_object(merged)


def write_shared(kernels, path: str, cpu: str | None = None) -> str:
    """Compile ``kernels`` (Kernel objects) for ``cpu`` into the shared library ``path`` with the system
    C compiler as linker; returns ``path``."""
    linker = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")
    if linker is None:
        raise TlcError("writing a shared library needs a C compiler or linker (cc) on PATH")
    obj = object_code(list(kernels), cpu)
    with tempfile.TemporaryDirectory() as tmp:
        obj_path = os.path.join(tmp, "kernels.o")
        with open(obj_path, "wb") as handle:
            handle.write(obj)
        result = subprocess.run([linker, "-shared", "-o", path, obj_path, "-lm"], capture_output=True, text=True)
    if result.returncode != 0:
        raise TlcError(f"linking {path} failed: {result.stderr.strip()}")
    return path


def write_module(emitted: Emitted, source_path: str, library_path: str, cpu: str | None = None) -> None:
    """Write the module's Python source and its kernels' shared library (built for ``cpu``)."""
    with open(source_path, "w", encoding="utf-8") as handle:
        handle.write(emitted.source)
    write_shared(emitted.kernels.values(), library_path, cpu)


def artifact(emitted: Emitted, kind: str, cpu: str | None = None) -> str | bytes:
    """Every kernel of a module as ``llvm-ir`` (optimised, text), ``asm`` (assembly, text) or ``obj``
    (a relocatable object, bytes), built for ``cpu``: what ``tlc compile --target llvm --emit KIND`` writes."""
    if kind not in ("llvm-ir", "asm", "obj"):
        raise TlcError(f"unknown --emit kind {kind!r}; choose llvm-ir, asm, obj or shared")
    kernels = list(dict.fromkeys(emitted.kernels.values()))
    if kind == "obj":
        return object_code(kernels, cpu)
    tm = target_machine(cpu)
    with llvm_section():
        if kind == "llvm-ir":
            return "\n".join(str(_optimised(k, tm)) for k in kernels)
        return "\n".join(tm.emit_assembly(_optimised(k, tm)) for k in kernels)
