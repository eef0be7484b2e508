"""The CPU that ahead-of-time code is built for: a portable baseline unless asked otherwise.

The JIT always builds for the host (``jit.py``). A shared library may run on another machine, so
artefacts default to ``x86-64-v2`` (SSE4.2 and POPCNT, which every x86-64 server of the last decade has;
no AVX) on x86-64 hosts and to LLVM's ``generic`` CPU elsewhere, with features implied by the CPU name,
never taken from the host. ``host`` builds for this machine (its name and features); any other name must
be one LLVM knows for the target: LLVM aborts the process on some unknown names instead of raising, so
names are checked against the list LLVM prints for ``-mcpu=help``, read once in a child process.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys

from tlc.errors import TlcError

try:
    import llvmlite.binding as llvm
except ImportError:   # pragma: no cover - the extra is optional
    llvm = None

HOST = "host"
PORTABLE_X86 = "x86-64-v2"

_PROBE = ("import llvmlite.binding as llvm; llvm.initialize_native_target(); "
          "llvm.Target.from_default_triple().create_target_machine(cpu='help')")


def _llvm():
    if llvm is None:
        raise TlcError("the llvm backend needs llvmlite: pip install 'tlc[llvm]'")
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    return llvm


def default_cpu() -> str:
    """The CPU artefacts are built for when none is named: ``x86-64-v2`` on x86-64, else ``generic``."""
    triple = _llvm().get_default_triple()
    return PORTABLE_X86 if triple.startswith(("x86_64", "amd64")) else "generic"


@functools.lru_cache(maxsize=None)
def cpu_names() -> tuple[str, ...]:
    """The CPU names LLVM knows for the default target (``llc -mcpu=help``), sorted; empty if unreadable."""
    _llvm()
    try:
        probe = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return ()
    text = probe.stderr + probe.stdout
    start = text.find("Available CPUs")
    end = text.find("Available features", start)
    if start < 0:
        return ()
    block = text[start:end if end > 0 else len(text)]
    return tuple(sorted(set(re.findall(r"^\s+(\S+)\s+- ", block, flags=re.MULTILINE))))


def resolve_cpu(cpu: str | None = None) -> tuple[str, str]:
    """``(cpu name, feature string)`` for ``cpu``: None for the portable default, ``host``, or an LLVM
    CPU name (checked; an unknown one is a ``TlcError`` listing the valid names)."""
    binding = _llvm()
    if cpu is None or cpu == default_cpu():
        return default_cpu(), ""
    if cpu == HOST:
        return binding.get_host_cpu_name(), binding.get_host_cpu_features().flatten()
    names = cpu_names()
    if cpu not in names:
        triple = binding.get_default_triple()
        if not names:
            raise TlcError(f"cannot check the CPU name {cpu!r} (LLVM's list of CPUs for {triple} could not be "
                           f"read); use {HOST!r} or {default_cpu()!r}")
        raise TlcError(f"unknown CPU {cpu!r} for {triple}: use {HOST!r} (this machine), {default_cpu()!r} "
                       f"(the portable default) or one of the names LLVM knows for this target "
                       f"(`llc -mcpu=help` lists them too): {', '.join(names)}")
    return cpu, ""


def target_machine(cpu: str | None = None):
    """A target machine for position-independent ahead-of-time code for ``cpu`` (see ``resolve_cpu``)."""
    name, features = resolve_cpu(cpu)
    target = _llvm().Target.from_default_triple()
    return target.create_target_machine(cpu=name, features=features, opt=3, reloc="pic", codemodel="default")
