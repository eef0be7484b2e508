"""The compiled bitset kernels (``tlc.backends.llvm.bitsets``) behind checked calls, split over threads.

Every array is a C-contiguous uint64 ``rows × words`` array of bitset rows (``tlc_runtime.bitsets``). The kernels
trust their arguments; these wrappers check shapes and types first, and split rows (products, word operations,
selections, columns gathered and placed), 64-row blocks (transposes, 64 rows of one batch; projections: each thread
writes its own words)
or words (the semi-naive step) over threads when the work pays for them (``native.in_threads``).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np

from tlc_runtime.addresses import data_address
from tlc_runtime.native import default_threads, in_threads

WORK = 1 << 18
"""Words a call touches below which it runs on one thread (about 0.1 ms of word operations)."""
OPERATIONS = ("and", "andnot", "or")
"""The word-wise operations of ``BitsetKernels.combine``."""


@dataclass(frozen=True)
class BitsetSpec:
    """The bitset kernels compiled under the prefix ``symbol``."""

    symbol: str

    def bind(self, address_of, threads: int | None = None, owner=None) -> BitsetKernels:
        """The callable kernels, with addresses from ``address_of(symbol)``."""
        names = ("product", "scatter", "transpose", "any", *OPERATIONS, "select", "gather", "place", "advance")
        return BitsetKernels(self, {n: address_of(f"{self.symbol}_{n}") for n in names}, threads, owner)


def words_for(bits: int) -> int:
    """The 64-bit words a row of ``bits`` bits takes."""
    return -(-bits // 64)


class BitsetKernels:
    """The compiled kernels as methods over bitset arrays (see the module docstring)."""

    def __init__(self, spec: BitsetSpec, addresses: dict[str, int], threads: int | None = None, owner=None):
        if not all(addresses.values()):
            raise ValueError(f"no code for kernel {spec.symbol}")
        self.spec = spec
        self.threads = threads
        self._owner = owner          # keeps the engine or library holding the code alive
        pointer, i64 = ctypes.c_void_p, ctypes.c_int64
        self._product = ctypes.CFUNCTYPE(None, *[pointer] * 4, *[i64] * 6)(addresses["product"])
        self._scatter = ctypes.CFUNCTYPE(None, *[pointer] * 5, *[i64] * 4)(addresses["scatter"])
        self._transpose = ctypes.CFUNCTYPE(None, *[pointer] * 2, *[i64] * 6)(addresses["transpose"])
        self._any = ctypes.CFUNCTYPE(None, *[pointer] * 2, *[i64] * 3)(addresses["any"])
        self._combine = {op: ctypes.CFUNCTYPE(None, *[pointer] * 3, *[i64] * 4)(addresses[op]) for op in OPERATIONS}
        self._select = ctypes.CFUNCTYPE(None, *[pointer] * 3, *[i64] * 5)(addresses["select"])
        self._gather = ctypes.CFUNCTYPE(None, *[pointer] * 3, *[i64] * 8)(addresses["gather"])
        self._place = ctypes.CFUNCTYPE(None, *[pointer] * 3, *[i64] * 7)(addresses["place"])
        self._advance = ctypes.CFUNCTYPE(i64, *[pointer] * 2, *[i64] * 2)(addresses["advance"])

    def __repr__(self) -> str:
        return f"BitsetKernels({self.spec.symbol})"

    def _split(self, call, count: int, work: int, keep: tuple, block: int = 1) -> list:
        """``call(lo, hi)`` over ``[0, count)`` in ranges of whole ``block``s, one per thread when ``work`` pays."""
        threads = self.threads or default_threads()
        blocks = -(-count // block)
        parts = max(1, min(threads, blocks)) if work >= WORK else 1
        edges = [min(count, blocks * p // parts * block) for p in range(parts + 1)]
        return in_threads(call, list(zip(edges, edges[1:])), keep)

    def product(self, out: np.ndarray, left: np.ndarray, right: np.ndarray, live: np.ndarray,
                batches: int = 1) -> None:
        """``out[x] |= right[y]`` for each bit ``y`` of ``left[x] & live``; ``live`` (one row as wide as ``left``'s)
        marks rows of ``right`` (at most ``64 × left``'s words of them), ``out`` is as wide as ``right``. With
        ``batches``, ``left``'s and ``right``'s rows are that many equal batches, ``live`` a row per batch, and a row
        of ``left`` reads the rows of ``right`` of its own batch."""
        _check(out, left, right, live)
        rows, lwords = left.shape
        per, rper = (rows // batches, right.shape[0] // batches) if batches > 0 else (0, 0)
        if batches < 1 or rows != per * batches or right.shape[0] != rper * batches or \
                out.shape != (rows, right.shape[1]) or live.shape != (batches, lwords) or rper > 64 * lwords or \
                np.may_share_memory(out, right) or np.may_share_memory(out, left) or \
                (rper < 64 * lwords and _past(live, rper)):
            raise ValueError(f"kernel {self.spec.symbol}_product: operands {left.shape}, {right.shape}, "
                             f"{live.shape} in {batches} batches do not give {out.shape}")
        pointers = tuple(data_address(a) for a in (out, left, right, live))
        self._split(lambda lo, hi: self._product(*pointers, lwords, right.shape[1], max(per, 1), rper, lo, hi), rows,
                    rows * max(lwords, right.shape[1]), (out, left, right, live))

    def scatter(self, out: np.ndarray, left: np.ndarray, indptr: np.ndarray, columns: np.ndarray,
                live: np.ndarray) -> None:
        """``product`` with the right side as CSR (``indptr``, ``columns``; its rows at most ``64 ×`` ``left``'s
        words, its columns within ``out``'s words)."""
        _check(out, left, live)
        rows, lwords = left.shape
        indptr, columns = (np.ascontiguousarray(a, dtype=np.int64) for a in (indptr, columns))
        if out.shape[0] != rows or live.shape != (1, lwords) or len(indptr) - 1 > 64 * lwords or \
                indptr[0] != 0 or indptr[-1] != len(columns) or np.any(np.diff(indptr) < 0) or \
                (len(columns) and (columns.min() < 0 or columns.max() >= 64 * out.shape[1])) or \
                (len(indptr) - 1 < 64 * lwords and _past(live, len(indptr) - 1)) or np.may_share_memory(out, left):
            raise ValueError(f"kernel {self.spec.symbol}_scatter: operands {left.shape}, {len(indptr) - 1} CSR rows "
                             f"and {live.shape} do not give {out.shape}")
        pointers = tuple(data_address(a) for a in (out, left, live, indptr, columns))
        self._split(lambda lo, hi: self._scatter(*pointers, lwords, out.shape[1], lo, hi), rows, rows * lwords,
                    (out, left, live, indptr, columns))

    def transpose(self, source: np.ndarray, columns: int, per: int | None = None) -> np.ndarray:
        """The transpose of each batch of ``per`` rows (default: all of them) of ``columns`` bits of ``source``: ``rows
        / per`` batches of ``columns`` rows of ``per`` bits, in the batches' order."""
        _check(source)
        rows, words = source.shape
        per = rows if per is None else per
        if words != words_for(columns) or per < 0 or (rows and (per == 0 or rows % per)):
            raise ValueError(f"kernel {self.spec.symbol}_transpose: {source.shape} rows of {columns} columns in "
                             f"batches of {per}")
        batches = rows // per if per else 1
        out = np.zeros((batches * columns, words_for(per)), dtype=np.uint64)
        units = batches * -(-per // 64)
        pointers = (data_address(out), data_address(source))
        self._split(lambda lo, hi: self._transpose(*pointers, words, out.shape[1], per, columns, lo, hi), units,
                    rows * words, (out, source))
        return out

    def any(self, source: np.ndarray) -> np.ndarray:
        """One row: bit ``x`` set when row ``x`` of ``source`` holds a bit."""
        _check(source)
        rows, words = source.shape
        out = np.zeros((1, words_for(rows)), dtype=np.uint64)
        pointers = (data_address(out), data_address(source))
        self._split(lambda lo, hi: self._any(*pointers, words, lo, hi), rows, rows * words, (out, source), block=64)
        return out

    def combine(self, operation: str, out: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        """``out = a op b`` word by word (``op`` of ``OPERATIONS``), ``b`` with ``a``'s rows or one row for all;
        ``out`` may be ``a``."""
        _check(out, a, b)
        rows, words = a.shape
        if out.shape != a.shape or b.shape[1] != words or b.shape[0] not in (rows, 1) or operation not in OPERATIONS:
            raise ValueError(f"kernel {self.spec.symbol}_{operation}: operands {a.shape}, {b.shape} and {out.shape}")
        stride = words if b.shape[0] == rows else 0
        pointers = (data_address(out), data_address(a), data_address(b))
        fn = self._combine[operation]
        self._split(lambda lo, hi: fn(*pointers, words, stride, lo, hi), rows, rows * words, (out, a, b))

    def select(self, out: np.ndarray, m: np.ndarray, u: np.ndarray, invert: bool = False) -> None:
        """``out[x] = m[x]`` (``m``'s one row when it has one) where bit ``x`` of ``u`` is set (clear with
        ``invert``), else 0."""
        _check(out, m, u)
        rows, words = out.shape
        if m.shape[1] != words or m.shape[0] not in (rows, 1) or u.shape[0] != 1 or 64 * u.shape[1] < rows:
            raise ValueError(f"kernel {self.spec.symbol}_select: operands {m.shape}, {u.shape} and {out.shape}")
        stride = words if m.shape[0] == rows else 0
        pointers = (data_address(out), data_address(m), data_address(u))
        self._split(lambda lo, hi: self._select(*pointers, words, stride, int(invert), lo, hi), rows,
                    rows * words, (out, m, u))

    def gather(self, source: np.ndarray, rows: int, per: int, column: int, step: int = 0,
               base: np.ndarray | None = None, stride: int = 1) -> np.ndarray:
        """``rows`` rows of ``per`` bits: bit ``j`` of row ``r`` is bit ``column + step × j`` of ``source[base[r] +
        stride × j]``, ``base[r]`` by default ``r × per`` (a binary relation's column: one row of ``per`` its rows; its
        diagonal: ``column`` 0, ``step`` 1; a relation of more arguments' last-argument column, ``per`` its
        second-to-last extent, or its diagonal over another argument and the last, read in place by ``base`` and
        ``stride``)."""
        _check(source)
        count, words = source.shape
        given = _rows(base, rows, per)
        base = np.arange(rows, dtype=np.int64) * per if given is None else given
        if (given is None and rows * per != count) or column < 0 or step < 0 or stride < 0 or \
                (rows and per and (column + step * (per - 1) >= 64 * words or base.min() < 0 or
                                   base.max() + stride * (per - 1) >= count)):
            raise ValueError(f"kernel {self.spec.symbol}_gather: {rows} × {per} bits at {column} + {step} × j "
                             f"from {source.shape}")
        out = np.zeros((rows, words_for(per)), dtype=np.uint64)
        pointers = (data_address(out), data_address(source), data_address(base))
        self._split(lambda lo, hi: self._gather(*pointers, words, out.shape[1], per, stride, column, step, lo, hi),
                    rows, rows * per, (out, source, base))
        return out

    def place(self, out: np.ndarray, u: np.ndarray, column: int, step: int = 0, per: int | None = None,
              base: np.ndarray | None = None, stride: int = 1) -> None:
        """Bit ``column + step × x`` of ``out[x]`` set for each bit ``x`` of ``u`` (one row, at most ``out``'s rows
        of bits): ``gather``'s inverse. With ``per``, each row ``r`` of ``u`` holds ``per`` bits: bit ``column + step
        × j`` of ``out[base[r] + stride × j]`` set for bit ``j`` of ``u[r]``, ``base[r]`` by default ``r × per`` (the
        rows so named distinct: threads write them)."""
        _check(out, u)
        rows, words = out.shape
        if per is None:
            wrong, span, base = u.shape[0] != 1 or _past(u, rows), rows, np.zeros(1, np.int64)
        else:
            given = _rows(base, u.shape[0], per)
            span = per
            wrong = per < 0 or stride < 0 or 64 * u.shape[1] < per or _past(u, per) or \
                (given is None and u.shape[0] * per != rows) or \
                (given is not None and per and len(given) and
                 (given.min() < 0 or given.max() + stride * (per - 1) >= rows))
            base = np.arange(u.shape[0], dtype=np.int64) * per if given is None else given
        if wrong or column < 0 or step < 0 or (span and column + step * (span - 1) >= 64 * words):
            raise ValueError(f"kernel {self.spec.symbol}_place: {u.shape} at {column} + {step} × x into {out.shape}"
                             + (f" in rows of {per}" if per is not None else ""))
        pointers = (data_address(out), data_address(u), data_address(base))
        self._split(lambda lo, hi: self._place(*pointers, words, u.shape[1], stride, column, step, lo, hi),
                    u.shape[0], u.size, (out, u, base))

    def advance(self, new: np.ndarray, known: np.ndarray) -> int:
        """One semi-naive step: ``new &= ~known``, ``known |= new``; returns the bits ``new`` keeps."""
        _check(new, known)
        if new.shape != known.shape or new is known:
            raise ValueError(f"kernel {self.spec.symbol}_advance: operands {new.shape} and {known.shape}")
        flat_new, flat_known = new.reshape(-1), known.reshape(-1)
        pointers = (data_address(flat_new), data_address(flat_known))
        counts = self._split(lambda lo, hi: self._advance(*pointers, lo, hi), flat_new.size, flat_new.size,
                             (new, known), block=8)
        return int(sum(counts))


def _check(*arrays) -> None:
    for a in arrays:
        if not (isinstance(a, np.ndarray) and a.dtype == np.uint64 and a.ndim == 2 and a.flags.c_contiguous):
            raise ValueError("bitset kernels take C-contiguous 2-d uint64 arrays")


def _rows(base, rows: int, per: int) -> np.ndarray | None:
    """``base`` (the first row read or written per row, or None) as ``rows`` int64 entries; ValueError otherwise."""
    if base is None:
        return None
    base = np.ascontiguousarray(base, dtype=np.int64)
    if base.shape != (rows,) or per < 0:
        raise ValueError(f"{base.shape} first rows for {rows} rows of {per} bits")
    return base


def _past(rows: np.ndarray, bits: int) -> bool:
    """True when some row of ``rows`` has a bit at ``bits`` or after."""
    word, offset = divmod(bits, 64)
    tail = rows[:, word:].copy()
    if offset and tail.shape[1]:
        tail[:, 0] &= ~np.uint64((1 << offset) - 1)
    return bool(tail.any())
