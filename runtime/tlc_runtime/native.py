"""Call native kernels compiled by tlc's llvm backend: argument passing, threads, shared libraries.

A kernel is a C function ``void f(out, count, array0, ..., params, ints)`` (see
``tlc.backends.llvm.kernel``). Emitted code describes each kernel with a ``Spec`` and calls it as
``_k1(out, count, (arrays...), (params...), (ints...))``; ``bind`` turns specs into callables from
function addresses (the JIT) or from a shared library written ahead of time (``load_library``).
This module never imports tlc: a compiled program runs without the compiler.
"""

from __future__ import annotations

import ctypes
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from tlc_runtime.addresses import data_address
from tlc_runtime.errors import RuntimeFailure

PARALLEL_WORK = 1 << 17
"""Loop iterations below which splitting a kernel over threads costs more than it gains (~100 µs)."""
_DTYPES = {"f64": np.dtype(np.float64), "u8": np.dtype(np.bool_)}
INT_BUFFERS = 64
"""Distinct ``ints`` a kernel keeps converted (a recurrence's calls differ by their step; the cache then restarts)."""


@dataclass(frozen=True)
class Spec:
    """What the caller needs to know about a compiled kernel."""

    symbol: str
    arrays: tuple[str, ...]
    """Element type per input array: ``f64`` or ``u8`` (NumPy bool)."""
    out: str
    n_vars: int
    """Number of loop variables: ``ints`` starts with ``lo, hi`` for each."""
    split: int | None = None
    """Index of the variable whose range threads may split (its writes are disjoint), or None."""


def default_threads() -> int:
    """Threads for kernels: ``TLC_NUM_THREADS`` if set, else the number of CPUs usable when that setting was first
    read (a kernel call asks, so the answer is kept per setting rather than asked of the system every time)."""
    raw = _raw_setting()
    known = _threads_for.get(raw)
    if known is None:
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else (raw or "")
        known = _threads_for[raw] = _read_threads(text.strip())
    return known


def _raw_setting():
    """``TLC_NUM_THREADS`` as the environment holds it (None when unset): on CPython the bytes in ``os.environ``'s own
    table, a dictionary look-up (``os.environ.get`` decodes a new string each time, a fifth of a small kernel's
    call); elsewhere ``os.environ.get``."""
    return _environ_table.get(_SETTING) if _environ_table is not None else os.environ.get("TLC_NUM_THREADS")


_environ_table = getattr(os.environ, "_data", None)
_SETTING = os.environ.encodekey("TLC_NUM_THREADS") if _environ_table is not None else None
if not isinstance(_environ_table, dict) or not isinstance(_SETTING, bytes):
    _environ_table = None        # not CPython's POSIX environ: read it the portable way


def _read_threads(text: str) -> int:
    if text:
        try:
            return max(1, int(text))
        except ValueError:
            raise RuntimeFailure(f"TLC_NUM_THREADS must be a positive integer, not {text!r}") from None
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:     # not on Linux
        return max(1, os.cpu_count() or 1)


_threads_for: dict = {}
"""``default_threads`` per raw value of ``TLC_NUM_THREADS`` seen (None: unset)."""


_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < workers:
            # a smaller pool is dropped, not shut down: another thread may still be submitting to it
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tlc-kernel")
            _pool_size = workers
        return _pool


def in_threads(call, chunks: list[tuple], keep: tuple = ()) -> list:
    """``call(*chunk)`` for each of ``chunks``, the first on this thread and the others on the kernel threads
    (ctypes releases the GIL); the results in order.

    Every pooled task holds ``keep`` (the arrays its call reads or writes by address) until it has run: a caller
    interrupted while it waits (a time limit's exception) unwinds and drops its own references, and the kernel
    threads would otherwise go on writing into freed memory.
    """
    pool = _executor(len(chunks) - 1) if len(chunks) > 1 else None
    futures = [pool.submit(_holding, call, chunk, keep) for chunk in chunks[1:]]
    first = call(*chunks[0])
    return [first, *(future.result() for future in futures)]


def _holding(call, chunk: tuple, keep: tuple):
    """``call(*chunk)``; ``keep`` is only held, alive, for as long as the call runs."""
    return call(*chunk)


class NativeKernel:
    """A compiled kernel: call it with ``(out, count, arrays, params, ints)``; ``count`` may be None."""

    def __init__(self, spec: Spec, address: int, threads: int | None = None, owner=None):
        if not address:
            raise ValueError(f"no code for kernel {spec.symbol}")
        self.spec = spec
        self.address = address
        self.threads = threads
        self._owner = owner          # keeps the engine or library holding the code alive
        n = len(spec.arrays) + 4
        self._fn = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * n))(address)
        self._out = _DTYPES[spec.out]
        self._dtypes = tuple(_DTYPES[kind] for kind in spec.arrays)
        self._ints: dict[tuple, ctypes.Array] = {}     # the ints of calls so far, as the kernel reads them
        self._params: dict[tuple, ctypes.Array] = {}   # the params of calls so far, likewise

    def __repr__(self) -> str:
        return f"NativeKernel({self.spec.symbol})"

    def __call__(self, out, count, arrays, params, ints) -> None:
        # (every check stays, each as cheap as it can be: a small kernel's call took 3-5x its loop's time)
        spec = self.spec
        flags = out.flags if isinstance(out, np.ndarray) else None
        if flags is None or not (flags.c_contiguous and flags.writeable) or \
                (out.dtype is not self._out and out.dtype != self._out):
            raise ValueError(f"kernel {spec.symbol} needs a writable C-contiguous {spec.out} output array")
        if count is not None and not (isinstance(count, np.ndarray) and count.shape == out.shape and
                                      count.flags.c_contiguous and count.dtype == np.float64):
            raise ValueError(f"kernel {spec.symbol} needs a C-contiguous float64 count array shaped like its output")
        keep = []
        pointers = [data_address(out), None if count is None else data_address(count)]
        extents = out.shape
        for array, dtype in zip(arrays, self._dtypes):
            a = array if type(array) is np.ndarray else np.asarray(array)
            if a.dtype is not dtype and a.dtype != dtype:
                a = a.astype(dtype) if dtype == np.float64 else (a != 0)
            if not a.flags.c_contiguous:
                a = np.ascontiguousarray(a)
            keep.append(a)
            pointers.append(data_address(a))
            extents += a.shape
        ints = tuple(ints)
        first = 2 * spec.n_vars
        if ints[first:first + len(extents)] != extents:      # the kernel trusts these: a mismatch would corrupt memory
            raise ValueError(f"kernel {spec.symbol}: arrays have extents {list(extents)}, the call says "
                             f"{list(ints[first:first + len(extents)])}")
        try:
            params_buf = self._params.get(params)
        except TypeError:           # a list, or an unhashable parameter (a 0-d array)
            params_buf = None
        if params_buf is None:
            params_buf = self._param_buffer(params)
        buffer, work = self._int_buffer(ints)
        split = spec.split
        if split is not None:
            lo, hi = ints[2 * split], ints[2 * split + 1]
            parts = min(self.threads or default_threads(), hi - lo)     # (asked every call: a bad setting fails)
            if parts > 1 and work >= PARALLEL_WORK:
                self._parallel(pointers, params_buf, ints, split, lo, hi, parts, (out, count, keep))
                return
        self._fn(*pointers, params_buf, buffer)

    def _param_buffer(self, params) -> ctypes.Array:
        """``params`` as the kernel reads them (doubles), kept for the next call with the same params (emitted code
        passes the same constants and hyperparameters call after call); read-only to the kernel, like the ints."""
        params = tuple(params)
        buffer = (ctypes.c_double * max(1, len(params)))(*params)
        try:
            hash(params)
        except TypeError:
            return buffer
        if 0.0 in params:       # -0.0 == 0.0 as a key, but not to a kernel that divides by it: not kept
            return buffer
        if len(self._params) >= INT_BUFFERS:
            self._params.clear()
        self._params[params] = buffer
        return buffer

    def _int_buffer(self, ints: tuple) -> tuple[ctypes.Array, int]:
        """``ints`` as the kernel reads them (int64s) and the loop's iterations, kept for the next call with the same
        ints (emitted code passes the same constants call after call); read-only to the kernel, so threads may share
        it."""
        known = self._ints.get(ints)
        if known is None:
            if len(self._ints) >= INT_BUFFERS:
                self._ints.clear()
            work = math.prod(max(0, ints[2 * k + 1] - ints[2 * k]) for k in range(self.spec.n_vars))
            known = self._ints[ints] = ((ctypes.c_int64 * len(ints))(*ints), work)
        return known

    def _parallel(self, pointers, params_buf, ints, split, lo, hi, parts, keep) -> None:
        edges = [lo + (hi - lo) * p // parts for p in range(parts + 1)]
        buffers = []
        for a, b in zip(edges, edges[1:]):
            chunk = list(ints)
            chunk[2 * split], chunk[2 * split + 1] = a, b
            buffers.append(((ctypes.c_int64 * len(chunk))(*chunk),))
        in_threads(lambda buf: self._fn(*pointers, params_buf, buf), buffers, keep)


@dataclass(frozen=True)
class ClosureSpec:
    """The closure loop of ``tlc_runtime.reach`` compiled as ``symbol`` and its row expansion as ``symbol_rows``
    (``tlc.backends.llvm.kernel.ClosureLoop``)."""

    symbol: str

    @property
    def rows_symbol(self) -> str:
        """The expansion's function name."""
        return f"{self.symbol}_rows"

    @property
    def reach_symbol(self) -> str:
        """The sparse traversal's function name."""
        return f"{self.symbol}_reach"

    @property
    def levels_symbol(self) -> str:
        """The levels' function name."""
        return f"{self.symbol}_levels"


CLOSURE_WORK = 1 << 20
"""Word ORs (condensed edges times words per row) below which the closure loop runs on one thread (~0.3 ms): on
a loaded machine two threads made a 3,000-node chain's loop (141k ORs, 0.09 ms) 2.6x slower."""
CLOSURE_CHUNK = 8
"""Threads splitting words take them in multiples of this many words (one 64-byte cache line), so none shares a
line."""
WIDE_LEVELS = 16
"""Components per level (on average, levels counted from the sinks) from which threads claim components in turn,
level by level, rather than split the words of every row: a claim waits only for a successor still being ORed,
which in a level order is one of the level before."""
REACH_CHUNKS = 16
"""Chunks of sources per thread in the sparse traversal, dealt out in turn (balances uneven reach)."""
ROWS_WORK = 1 << 20
"""Result bytes below which the expansion of bitset rows runs on one thread."""


class ClosureKernel:
    """The compiled closure loop: ``kernel(closed, order, indptr, successors, rep, bounds)`` ORs each component's
    successors' rows into its own row of ``closed`` (``count × words`` uint64, C order), components in ``order`` (sinks
    first), skipping a successor whose representative bit ``rep[s]`` (-1: none) the row holds already. ``bounds``
    (``count × 2`` int64, or None: every row's whole width) gives, per row, words ``[first, end)`` outside which the
    row holds no bit (the caller vouches for it); only those words of a successor's row are read, and each row's
    bounds are widened in place by its successors' as they are ORed in. Threads claim components in turn, level by
    level from the sinks, each waiting for its successors' rows; where levels hold a few components each (a chain),
    they split the words of every row instead. The result does not depend on their number."""

    def __init__(self, spec: ClosureSpec, addresses: tuple[int, int, int, int], threads: int | None = None,
                 owner=None):
        if not all(addresses):
            raise ValueError(f"no code for kernel {spec.symbol}")
        self.spec = spec
        self.threads = threads
        self._owner = owner          # keeps the engine or library holding the code alive
        loop, rows, reach, levels = addresses
        self._levels = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * 4), ctypes.c_int64)(levels)
        self._fn = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * 8), *([ctypes.c_int64] * 4))(loop)
        self._rows = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * 3), *([ctypes.c_int64] * 4))(rows)
        self._reach = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * 7), *([ctypes.c_int64] * 3))(reach)

    def __repr__(self) -> str:
        return f"ClosureKernel({self.spec.symbol})"

    def __call__(self, closed: np.ndarray, order: np.ndarray, indptr: np.ndarray, successors: np.ndarray,
                 rep: np.ndarray | None = None, bounds: np.ndarray | None = None) -> None:
        count, words = closed.shape
        if not (closed.dtype == np.uint64 and closed.flags.c_contiguous and closed.flags.writeable):
            raise ValueError(f"kernel {self.spec.symbol} needs a writable C-contiguous uint64 array of rows")
        order, indptr, successors = (np.ascontiguousarray(a, dtype=np.int64) for a in (order, indptr, successors))
        rep = np.full(count, -1, dtype=np.int64) if rep is None else np.ascontiguousarray(rep, dtype=np.int64)
        if bounds is None:
            bounds = np.empty((count, 2), dtype=np.int64)
            bounds[:] = (0, words)
        if not _in_range(order, count) or not _in_range(successors, count) or len(indptr) != count + 1 or \
                indptr[0] != 0 or indptr[-1] != len(successors) or np.any(np.diff(indptr) < 0) or \
                len(rep) != count or (count and (rep.min() < -1 or rep.max() >= words * 64)) or \
                not _word_bounds(bounds, count, words):     # the loop trusts them
            raise ValueError(f"kernel {self.spec.symbol}: components and edges do not match {count} rows")
        done = _done_flags(order, indptr, successors, count)
        threads = self.threads or default_threads()
        parts = min(threads, len(order)) if len(successors) * words >= CLOSURE_WORK else 1
        if parts > 1:
            level = np.zeros(count, dtype=np.int64)
            self._levels(order.ctypes.data, indptr.ctypes.data, successors.ctypes.data, level.ctypes.data, len(order))
            if len(order) < WIDE_LEVELS * (int(level.max()) + 1):      # a few components a level: split the words
                self._split((closed, order, indptr, successors, rep, bounds, done), words,
                            min(parts, max(1, words // CLOSURE_CHUNK)))
                return
            # claims wait only where a level ends; levels as 16-bit keys take NumPy's radix sort (0.25 ms for
            # 16,384 components against 1.2 ms as int64)
            keys = level[order]
            order = order[np.argsort(keys.astype(np.uint16) if len(keys) and keys.max() < 1 << 16 else keys,
                                     kind="stable")]
        keep = (closed, order, indptr, successors, rep, bounds, done)
        claimed = np.zeros(1, dtype=np.int64)
        pointers = tuple(a.ctypes.data for a in (*keep, claimed))
        in_threads(lambda: self._fn(*pointers, len(order), words, 0, words), [()] * parts, (*keep, claimed))

    def _split(self, keep: tuple, words: int, parts: int) -> None:
        """Run the loop on ``parts`` threads each over its own range of words of every row, every component in turn
        (none waits: every flag set)."""
        closed, order, indptr, successors, rep, bounds, done = keep
        claimed, done[:] = np.zeros(parts, dtype=np.int64), 1
        pointers = tuple(a.ctypes.data for a in keep)
        chunks = -(-words // CLOSURE_CHUNK)
        edges = [min(words, chunks * p // parts * CLOSURE_CHUNK) for p in range(parts + 1)]
        edges[-1] = words
        in_threads(lambda p, lo, hi: self._fn(*pointers, claimed[p:].ctypes.data, len(order), words, lo, hi),
                   [(p, lo, hi) for p, (lo, hi) in enumerate(zip(edges, edges[1:]))], (*keep, claimed))

    def rows(self, closed: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
        """The dense ``(n, n)`` Boolean rows: node ``i``'s is the bitset ``closed[labels[i]]``, little-endian;
        threads take disjoint ranges of nodes."""
        count, words = closed.shape
        labels = np.ascontiguousarray(labels, dtype=np.int64)
        if not (closed.dtype == np.uint64 and closed.flags.c_contiguous) or words * 64 < n or len(labels) != n or \
                not _in_range(labels, count):
            raise ValueError(f"kernel {self.spec.rows_symbol}: rows and labels do not match {n} nodes")
        out = np.empty((n, n), dtype=bool)
        pointers = (out.ctypes.data, closed.ctypes.data, labels.ctypes.data)
        threads = self.threads or default_threads()
        parts = min(threads, n) if n * n >= ROWS_WORK else 1
        edges = [n * p // parts for p in range(parts + 1)]
        in_threads(lambda lo, hi: self._rows(*pointers, n, words, lo, hi), list(zip(edges, edges[1:])),
                   (out, closed, labels))
        return out

    def reach(self, indptr: np.ndarray, successors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The closure (paths of length >= 1) of the CSR graph ``indptr``/``successors`` as CSR ``(indptr,
        targets)``, each row's targets in the order a depth-first traversal found them. Two passes over the
        sources, split over threads: one counts each source's targets, the other writes them."""
        n = len(indptr) - 1
        indptr, successors = (np.ascontiguousarray(a, dtype=np.int64) for a in (indptr, successors))
        if n < 0 or not _in_range(successors, n) or indptr[0] != 0 or indptr[-1] != len(successors) or \
                np.any(np.diff(indptr) < 0):
            raise ValueError(f"kernel {self.spec.reach_symbol}: the graph's rows and edges do not match")
        threads = self.threads or default_threads()
        parts = max(1, min(threads, n)) if len(successors) >= CLOSURE_WORK // 16 else 1
        counts = np.zeros(n, dtype=np.int64)
        starts = np.zeros(n + 1, dtype=np.int64)
        scratch = [np.full(n, -1, dtype=np.int64) for _ in range(parts)], [np.empty(n + 1, dtype=np.int64)
                                                                            for _ in range(parts)]
        self._sources(parts, indptr, successors, counts, starts, starts, scratch, 0)
        np.cumsum(counts, out=starts[1:])
        targets = np.empty(int(starts[-1]), dtype=np.int64)
        for stamp in scratch[0]:
            stamp.fill(-1)
        self._sources(parts, indptr, successors, counts, starts, targets, scratch, 1)
        return starts, targets

    def _sources(self, parts, indptr, successors, counts, starts, targets, scratch, write) -> None:
        """One pass over every source: thread ``p`` takes the chunks ``p, p + parts, ...`` of ``REACH_CHUNKS``
        chunks per thread, so sources that reach much (often numbered together) are shared out; one thread takes
        them all in one call."""
        n = len(counts)
        chunks = min(n, parts * REACH_CHUNKS if parts > 1 else 1)
        edges = [n * c // chunks for c in range(chunks + 1)]
        common = (indptr.ctypes.data, successors.ctypes.data, counts.ctypes.data, starts.ctypes.data,
                  targets.ctypes.data)

        def thread(p: int) -> None:
            stamp, stack = scratch[0][p].ctypes.data, scratch[1][p].ctypes.data
            for c in range(p, chunks, parts):
                self._reach(*common, stamp, stack, edges[c], edges[c + 1], write)

        in_threads(thread, [(p,) for p in range(parts)], (indptr, successors, counts, starts, targets))


def _done_flags(order: np.ndarray, indptr: np.ndarray, successors: np.ndarray, count: int) -> np.ndarray:
    """The closure loop's flags: 1 for each component outside ``order`` (its row is final), 0 for those in it; a
    ValueError unless ``order`` has each at most once, after all its successors in it (else the loop would wait
    forever)."""
    position = np.full(count, -1, dtype=np.int64)
    position[order] = np.arange(len(order), dtype=np.int64)
    heads = np.repeat(np.arange(count, dtype=np.int64), np.diff(indptr))
    after = position[successors]
    mine = position[heads]
    if np.count_nonzero(position >= 0) != len(order) or np.any((mine >= 0) & (after >= mine)):
        raise ValueError("the closure loop needs each component once, after its successors")
    return (position < 0).astype(np.int64)


def _word_bounds(bounds: np.ndarray, count: int, words: int) -> bool:
    """True when ``bounds`` is a writable C-contiguous ``count × 2`` int64 array of word ranges within ``0..words``
    (an empty row may have ``first >= end``)."""
    return isinstance(bounds, np.ndarray) and bounds.dtype == np.int64 and bounds.shape == (count, 2) and \
        bounds.flags.c_contiguous and bounds.flags.writeable and (not count or (
            int(bounds.min()) >= 0 and int(bounds.max()) <= words))


def _in_range(indices: np.ndarray, count: int) -> bool:
    return not len(indices) or (0 <= int(indices.min()) and int(indices.max()) < count)


def bind(specs: dict, address_of, threads: int | None = None,
         owner=None) -> dict[str, NativeKernel | ClosureKernel]:
    """Callables for ``specs`` (name -> Spec, ClosureSpec, or a spec with its own ``bind``, such as
    ``tlc_runtime.semiring_native.SemiringSpec`` and ``tlc_runtime.native_joins``'s), with addresses from
    ``address_of(symbol)``."""
    return {name: ClosureKernel(spec, (address_of(spec.symbol), address_of(spec.rows_symbol),
                                       address_of(spec.reach_symbol), address_of(spec.levels_symbol)), threads, owner)
            if isinstance(spec, ClosureSpec) else NativeKernel(spec, address_of(spec.symbol), threads, owner)
            if isinstance(spec, Spec) else spec.bind(address_of, threads, owner)
            for name, spec in specs.items()}


def load_library(path: str, specs: dict[str, Spec | ClosureSpec], threads: int | None = None) -> dict:
    """Kernels from a shared library written ahead of time (``tlc.backends.llvm.aot``)."""
    library = ctypes.CDLL(os.path.abspath(path))

    def address_of(symbol: str) -> int:
        return ctypes.cast(getattr(library, symbol), ctypes.c_void_p).value
    return bind(specs, address_of, threads, owner=library)


def load_module(source_path: str, library_path: str, threads: int | None = None) -> dict:
    """Run an emitted llvm-backend module file with its kernels from ``library_path``; returns the
    module namespace (call ``namespace["run"](inputs)``)."""
    with open(source_path, encoding="utf-8") as handle:
        code = compile(handle.read(), source_path, "exec")
    namespace: dict = {"__name__": "tlc_compiled"}
    exec(code, namespace)   # noqa: S102 - the file is code tlc emitted
    namespace.update(load_library(library_path, namespace["KERNELS"], threads))
    return namespace
