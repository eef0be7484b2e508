"""The process-wide JIT: host target machine, O3 pass pipeline, one MCJIT engine, a kernel cache.

Facts obeyed (see TOOLCHAINS.md, llvmlite 0.50): only ``initialize_native_target`` and
``initialize_native_asmprinter``; the module's triple and data layout come from a target machine
built for the host CPU name and features before optimising (else the vectoriser targets generic
x86-64); the new pass builder at speed level 3 with loop/SLP vectorisation; the MCJIT engine takes
ownership of its target machine, so it gets its own, and every kernel is added to that one engine
with ``add_module`` (the engine lives as long as the process, so addresses stay valid). IR is
verified before the pass pipeline runs: invalid IR crashes LLVM instead of raising. Ahead-of-time
artefacts are built for a chosen (by default portable) CPU instead: ``aot.py`` and ``target.py``.

Object code is also kept on disk (``object_cache.py``), through the engine's object cache: a kernel whose lowered
IR was compiled before, by any process on this host with this LLVM, is loaded from there, skipping the optimiser
and code generation; it is added to the engine as an empty module whose name is the entry's key, and LLVM asks the
cache for that module's object instead of compiling it.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from dataclasses import dataclass

from tlc.backends.llvm.join_plan import JoinLoop, SetOps
from tlc.backends.llvm.kernel import (BitsetOps, ClosureLoop, CountingLoop, Kernel, KernelError, SemiringLoop,
                                     symbol_for)
from tlc.backends.llvm.object_cache import FORMAT, ObjectCache
from tlc.errors import TlcError
from tlc.interrupts import deferred

try:
    import llvmlite.binding as llvm
except ImportError:   # pragma: no cover - the extra is optional
    llvm = None


LLVM_LOCK = threading.RLock()
"""Held by every parse, optimisation, link and code emission of this process: llvmlite's modules live in LLVM's one
global context, which is not thread-safe (the JIT and ahead-of-time builds in two threads would share it)."""


SPEED_LEVEL = 3
PIPELINE = {"loop_vectorization": True, "slp_vectorization": True, "loop_unrolling": True, "loop_interleaving": True}
"""The pass builder's tuning options, with ``SPEED_LEVEL`` (the code generator's level too); both are part of the
disk cache's key."""


@contextlib.contextmanager
def llvm_section():
    """Hold ``LLVM_LOCK`` with signal handlers' exceptions deferred to the end (``tlc.interrupts``): an exception
    between two llvmlite calls can leave a module owned by both the engine and Python, which then frees it."""
    with LLVM_LOCK, deferred():
        yield


@dataclass(frozen=True)
class Compiled:
    """One compiled kernel: its symbol, address in the engine, IR as lowered (before optimisation), the seconds it
    took to lower and compile (or load) and whether its object code came from the disk cache."""

    symbol: str
    address: int
    source: str
    seconds: float
    cached: bool = False

    @property
    def llvm_ir(self) -> str:
        """The optimised IR, optimised again on demand (a kernel loaded from the disk cache never was)."""
        return str(optimise(self.source, _target_machine()))


def _target_machine():
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                        features=llvm.get_host_cpu_features().flatten(),
                                        opt=SPEED_LEVEL, jit=True)


def _salt(tm) -> str:
    """Everything but the IR that the JIT's object code depends on: the disk cache's format, LLVM's and llvmlite's
    versions, the host's triple, CPU name and features, and the optimiser's settings."""
    import llvmlite
    return repr((FORMAT, llvmlite.__version__, llvm.llvm_version_info, tm.triple, llvm.get_host_cpu_name(),
                 llvm.get_host_cpu_features().flatten(), SPEED_LEVEL, sorted(PIPELINE.items())))


def optimise(module_text: str, tm, label: str = "kernel"):
    """Parse, verify and optimise LLVM IR text for ``tm``; LLVM failures become ``TlcError``."""
    with llvm_section():
        try:
            mod = llvm.parse_assembly(module_text)
            mod.verify()
        except RuntimeError as err:
            raise TlcError(f"LLVM rejected the kernel for {label}: {str(err).strip()}") from None
        mod.triple = tm.triple
        mod.data_layout = str(tm.target_data)
        pto = llvm.create_pipeline_tuning_options(speed_level=SPEED_LEVEL)
        for option, value in PIPELINE.items():
            setattr(pto, option, value)
        if vectoriser_aborts(module_text):
            pto.loop_vectorization = False
        builder = llvm.create_pass_builder(tm, pto)
        builder.getModulePassManager().run(mod, builder)
        return mod


SCALARISED = ("llvm.pow.", "llvm.sin.", "llvm.cos.", "llvm.log.")
"""The calls LLVM's loop vectoriser can only scalarise (no vector math library): where they meet a ``max``/``min``
reduction, its two cost models can disagree on a loop, which this llvmlite's LLVM (built with assertions) aborts the
process on."""


def vectoriser_aborts(module_text: str) -> bool:
    """Whether the module has a ``max``/``min`` (``llvm.maxnum``/``minnum``) and a call in ``SCALARISED``, which LLVM's
    loop vectoriser aborted the process on: a power of a power under ``max=`` (``max= (x^3)^3``; the hostile-names
    campaign's TLC_FUZZ_SEED=3770761251), ``cos`` of ``cos`` (or any ``sin``/``cos`` pair) under ``max=``/``min=``
    (the gradient campaign's TLC_FUZZ_SEED=206: ``T0[n] max= cos(cos(X0[n, p]))``); such a module's loops are left
    scalar (decided from the text alone, so the disk cache's key, which holds the text, still decides the code)."""
    return any(call in module_text for call in SCALARISED) and \
        ("llvm.maxnum." in module_text or "llvm.minnum." in module_text)


def lower(kernel: Kernel | ClosureLoop | SemiringLoop | CountingLoop | JoinLoop | SetOps, symbol: str) -> str:
    """LLVM IR text of a kernel (before optimisation); ``KernelError`` becomes ``TlcError``."""
    if isinstance(kernel, (JoinLoop, SetOps)):
        from tlc.backends.llvm.joins import join_module, sets_module    # needs llvmlite, which is optional
        return str(join_module(kernel) if isinstance(kernel, JoinLoop) else sets_module(kernel))
    if isinstance(kernel, BitsetOps):
        from tlc.backends.llvm.bitsets import bitsets_module    # needs llvmlite, which is optional
        return str(bitsets_module(kernel))
    if isinstance(kernel, ClosureLoop):
        from tlc.backends.llvm.closure import closure_module    # needs llvmlite, which is optional
        return str(closure_module(kernel, symbol))
    if isinstance(kernel, SemiringLoop):
        from tlc.backends.llvm.semiring import semiring_module    # needs llvmlite, which is optional
        return str(semiring_module(kernel, symbol))
    if isinstance(kernel, CountingLoop):
        from tlc.backends.llvm.counting import counting_module    # needs llvmlite, which is optional
        return str(counting_module(kernel, symbol))
    from tlc.backends.llvm.codegen import kernel_module    # needs llvmlite, which is optional
    try:
        return str(kernel_module(kernel, symbol))
    except KernelError as err:
        raise TlcError(f"cannot compile {kernel.label or 'a kernel'} to native code: {err}") from None


class Jit:
    """Compiles kernels into one MCJIT engine, caching by kernel structure in memory and by IR on disk
    (thread-safe)."""

    def __init__(self):
        if llvm is None:
            raise TlcError("the llvm backend needs llvmlite: pip install 'tlc[llvm]'")
        with llvm_section():       # the engine takes ownership of the module and its target machine
            llvm.initialize_native_target()
            llvm.initialize_native_asmprinter()
            self._tm = _target_machine()                 # ours: the pass builder and emitted assembly
            self._engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), _target_machine())
        self._lock = LLVM_LOCK
        self._cache: dict[Kernel, Compiled] = {}
        self._addresses: dict[str, int] = {}
        """Functions' addresses found by ``address``, by symbol."""
        self._objects = ObjectCache(_salt(self._tm))
        self._loading: tuple[str, bytes | None] | None = None
        """While a module is finalised: its key and the object code the disk cache gave for it (or None)."""
        self._emitted: bytes | None = None
        """The object code LLVM compiled for the module being finalised (to store on disk)."""
        self._engine.set_object_cache(self._notify, self._object_for)
        self.compilations = 0
        """Number of kernels added to the engine (misses of the in-memory cache), ``loaded`` of them from disk."""
        self.loaded = 0

    def compile(self, kernel: Kernel | ClosureLoop | SemiringLoop | CountingLoop | JoinLoop | SetOps) -> Compiled:
        """The compiled kernel, compiling it on first use or loading its object code from the disk cache (a join or
        set kernel's address is 0: its functions are found by ``address``)."""
        with self._lock:
            found = self._cache.get(kernel)
            if found is not None:
                return found
            start = time.perf_counter()
            symbol = symbol_for(kernel)
            label = kernel.label or symbol
            source = lower(kernel, symbol)
            key = self._objects.key(source)
            stored = self._objects.load(key)
            with llvm_section():       # from parsing to the cache entry: the engine and the cache agree
                mod = llvm.parse_assembly("") if stored is not None else optimise(source, self._tm, label)
                mod.name = key                         # how the object cache's hooks know the module
                self._loading, self._emitted = (key, stored), None
                try:
                    self._engine.add_module(mod)       # the engine owns the module from here on
                    self._engine.finalize_object()
                    address = self._engine.get_function_address(symbol)
                except RuntimeError as err:
                    raise TlcError(f"LLVM failed to compile the kernel for {label}: {str(err).strip()}") from None
                finally:
                    emitted, self._loading, self._emitted = self._emitted, None, None
                if not address and not isinstance(kernel, (JoinLoop, SetOps, BitsetOps)):
                    raise TlcError(f"LLVM produced no code for the kernel of {label}")
                if emitted is not None:
                    self._objects.store(key, emitted)
                compiled = Compiled(symbol, address, source, time.perf_counter() - start, stored is not None)
                self._cache[kernel] = compiled
                self.compilations += 1
                self.loaded += stored is not None
            return compiled

    def records(self) -> dict:
        """Every kernel compiled (or loaded) so far, with its ``Compiled`` record (a copy)."""
        with self._lock:
            return dict(self._cache)

    def _object_for(self, module) -> bytes | None:
        """The engine's hook before compiling a module: the disk cache's object code for it, if any."""
        loading = self._loading
        return loading[1] if loading is not None and module.name == loading[0] else None

    def _notify(self, module, obj: bytes) -> None:
        """The engine's hook after compiling a module: keep its object code for the disk cache."""
        loading = self._loading
        if loading is not None and module.name == loading[0]:
            self._emitted = obj

    def address(self, symbol: str) -> int:
        """The address of a function of a compiled kernel's module (0 when there is none)."""
        found = self._addresses.get(symbol)
        if found is None:
            with llvm_section():       # MCJIT searches every module it holds (~20 us, more as they add up)
                found = self._engine.get_function_address(symbol)
            if found:       # the engine keeps every module it was given: a function found stays where it is
                self._addresses[symbol] = found
        return found


@functools.lru_cache(maxsize=None)
def jit() -> Jit:
    """The process-wide JIT (created on first use)."""
    return Jit()


def ints_for(kernel: Kernel, ranges: dict[str, tuple[int, int]], out, arrays) -> list[int]:
    """The run-time ``ints`` of a kernel: ``ranges[var] = (lo, hi)`` per variable, then extents."""
    import numpy as np
    ints = [x for var in kernel.variables for x in ranges[var]]
    ints += list(np.shape(out))
    for array in arrays:
        ints += list(np.shape(array))
    ints += [ranges[var][0] for var in kernel.local_variables]
    return ints


def native_kernel(kernel: Kernel, threads: int | None = None, engine: Jit | None = None):
    """A ``tlc_runtime.native.NativeKernel`` for ``kernel``, compiled (or found) in ``engine`` (by default the
    process JIT)."""
    from tlc_runtime.native import NativeKernel, Spec
    engine = engine or jit()
    compiled = engine.compile(kernel)
    spec = Spec(compiled.symbol, tuple(a.dtype for a in kernel.arrays), kernel.output.dtype,
                len(kernel.variables), kernel.variables.index(kernel.split) if kernel.split else None)
    return NativeKernel(spec, compiled.address, threads, owner=engine)


def call(kernel: Kernel, out, arrays=(), params=(), ranges=None, count=None, threads: int | None = None) -> None:
    """Run ``kernel`` once: ``out`` (and ``count``) updated in place; ``ranges`` default to ``(0, n)`` with
    ``n`` taken from the first array axis or output axis a variable indexes plainly."""
    ranges = dict(ranges or {})
    for var in kernel.variables:
        if var not in ranges:
            ranges[var] = (0, _extent_of(kernel, var, out, arrays))
    native_kernel(kernel, threads)(out, count, arrays, params, ints_for(kernel, ranges, out, arrays))


def _extent_of(kernel: Kernel, var: str, out, arrays) -> int:
    import numpy as np
    from tlc.backends.llvm.kernel import Read, walk
    for pos, n in zip(kernel.output.pos, np.shape(out)):
        if pos.terms == ((var, 1),) and pos.divisor == 1:
            return n - pos.offset
    for node in walk(kernel.value):
        if isinstance(node, Read):
            for pos, n in zip(node.pos, np.shape(arrays[node.array])):
                if pos.terms == ((var, 1),) and pos.divisor == 1:
                    return n - pos.offset
    raise ValueError(f"give a range for {var}")
