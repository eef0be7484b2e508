"""Ahead of time: an emitted llvm-backend module as a Python file plus a shared library of its
kernels, which ``tlc_runtime.native.load_module`` runs without the compiler (or llvmlite)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from tlc.backends.llvm.emit import EmittedLlvm
from tlc.backends.llvm.jit import jit
from tlc.errors import TlcError


def write_shared(kernels, path: str) -> str:
    """Compile ``kernels`` (Kernel objects) into the shared library ``path`` with the system C
    compiler as linker; returns ``path``."""
    linker = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")
    if linker is None:
        raise TlcError("writing a shared library needs a C compiler or linker (cc) on PATH")
    obj = jit().object_code(list(kernels))
    with tempfile.TemporaryDirectory() as tmp:
        obj_path = os.path.join(tmp, "kernels.o")
        with open(obj_path, "wb") as handle:
            handle.write(obj)
        result = subprocess.run([linker, "-shared", "-o", path, obj_path, "-lm"], capture_output=True, text=True)
    if result.returncode != 0:
        raise TlcError(f"linking {path} failed: {result.stderr.strip()}")
    return path


def write_module(emitted: EmittedLlvm, source_path: str, library_path: str) -> None:
    """Write the module's Python source and its kernels' shared library."""
    with open(source_path, "w", encoding="utf-8") as handle:
        handle.write(emitted.source)
    write_shared(emitted.kernels.values(), library_path)


def artifact(emitted: EmittedLlvm, kind: str) -> str | bytes:
    """Every kernel of a module as ``llvm-ir`` (optimised, text), ``asm`` (host assembly, text) or
    ``obj`` (a relocatable object, bytes): what ``tlc compile --target llvm --emit KIND`` writes."""
    kernels = list(dict.fromkeys(emitted.kernels.values()))
    if kind == "llvm-ir":
        return "\n".join(jit().compile(k).llvm_ir for k in kernels)
    if kind == "asm":
        return "\n".join(jit().assembly(k) for k in kernels)
    if kind == "obj":
        return jit().object_code(kernels)
    raise TlcError(f"unknown --emit kind {kind!r}; choose llvm-ir, asm, obj or shared")
