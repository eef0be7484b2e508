"""The JIT's object code on disk, so a later process loads a kernel instead of optimising and compiling it again.

An entry is keyed by the SHA-256 of the kernel's IR as lowered (before optimisation) together with everything else
the object code depends on (``salt``: the cache format, LLVM's and llvmlite's versions, the host's triple, CPU name
and features, and the optimiser's settings), and lives in ``$TLC_CACHE_DIR/jit`` (default ``~/.cache/tlc/jit``),
a directory checked like every cache of tlc (``tlc_runtime.module_cache``: 0700, ours, not a link, not writable by
others). A file holds a header (a magic line, the key, the SHA-256 of the object bytes) and the object; it is
handed to LLVM only when the header names the key asked for and the bytes hash to the recorded digest, so a
truncated, corrupt or planted file is ignored (and rewritten by the compile that follows). Files are written to a
temporary name and renamed, so processes writing the same entry at once are safe.

The cache holds at most ``TLC_JIT_CACHE_SIZE`` bytes of entries (``512M``, ``1G``; default 256 MiB): after each
store the least recently used entries go (a load marks its entry used), as ccache does.

``TLC_JIT_CACHE=0`` turns the cache off (``1``, the default, on). A cache directory that is refused or cannot be
created or written is not an error: the kernel is compiled as without a cache, and a ``TlcWarning`` naming the
directory says why, once per process.
"""

from __future__ import annotations

import hashlib
import os
import warnings

from tlc.errors import TlcError, TlcWarning
from tlc.memory_limit import parse_bytes
from tlc_runtime.errors import RuntimeFailure
from tlc_runtime.module_cache import cache_dir, cache_root, read_private, write_private

FORMAT = 1
"""Bumped when the file layout or what goes into the key changes."""

MAGIC = b"tlc jit object %d\n" % FORMAT
HEADER = len(MAGIC) + 2 * 65
"""Bytes before the object: the magic line, the key's line and the object digest's line (64 hex digits each)."""
KIND = "jit"
SWITCH = "TLC_JIT_CACHE"
SIZE = "TLC_JIT_CACHE_SIZE"
DEFAULT_SIZE = 256 * 2**20


def enabled() -> bool:
    """Whether the disk cache is on: ``TLC_JIT_CACHE`` unset, empty or ``1``; ``0`` turns it off."""
    value = os.environ.get(SWITCH, "").strip()
    if value not in ("", "0", "1"):
        raise TlcError(f"{SWITCH} must be 0 (no disk cache of compiled kernels) or 1 (the default), not {value!r}")
    return value != "0"


def size_limit() -> int:
    """The bytes the cache's entries may hold together: ``TLC_JIT_CACHE_SIZE``, else 256 MiB."""
    value = os.environ.get(SIZE, "").strip()
    if not value:
        return DEFAULT_SIZE
    try:
        return parse_bytes(value)
    except TlcError:
        raise TlcError(f"{SIZE} must be a size such as 256M or 1G, not {value!r}") from None


def evict(directory: str, limit: int) -> None:
    """Remove the least recently used entries of ``directory`` until those left hold at most ``limit`` bytes."""
    entries = []
    with os.scandir(directory) as found:
        for entry in found:
            try:
                if entry.name.endswith(".o") and entry.is_file(follow_symlinks=False):
                    info = entry.stat(follow_symlinks=False)
                    entries.append((info.st_mtime_ns, info.st_size, entry.path))
            except OSError:         # removed by another process meanwhile
                continue
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries):
        if total <= limit:
            break
        try:
            os.unlink(path)
        except OSError:
            pass
        total -= size


class ObjectCache:
    """Object files of compiled kernels by key, in the checked cache directory (see the module docstring)."""

    def __init__(self, salt: str):
        self._salt = salt.encode("utf-8")
        self._warned = False

    def key(self, ir_text: str) -> str:
        """The entry's name for a kernel lowered to ``ir_text``: SHA-256 of the salt and the text, in hex."""
        return hashlib.sha256(self._salt + b"\0" + ir_text.encode("utf-8")).hexdigest()

    def load(self, key: str) -> bytes | None:
        """The object code stored under ``key``, or None when the cache is off or has no sound entry for it."""
        directory = self._directory()
        if directory is None:
            return None
        path = os.path.join(directory, key + ".o")
        data = read_private(path)
        if data is None:
            return None
        body = data[HEADER:]
        if not body or data[:HEADER] != _header(key, body):
            return None
        try:
            os.utime(path)          # used now: the last to be evicted
        except OSError:
            pass
        return body

    def store(self, key: str, obj: bytes) -> None:
        """Write ``obj`` under ``key`` (atomically; a failure to write warns once and is otherwise ignored)."""
        directory = self._directory()
        if directory is None:
            return
        try:
            write_private(os.path.join(directory, key + ".o"), _header(key, obj) + obj)
            evict(directory, size_limit())
        except OSError as err:
            self._warn(directory, f"cannot write to the JIT cache: {err.strerror or err}")

    def _directory(self) -> str | None:
        """The checked cache directory, or None when the cache is off or the directory cannot be used (warned)."""
        if not enabled():
            return None
        try:
            return cache_dir(KIND)
        except OSError as err:
            self._warn(os.path.join(cache_root(), KIND), f"cannot create the JIT cache: {err.strerror or err}")
        except RuntimeFailure as err:
            self._warn(os.path.join(cache_root(), KIND), str(err))
        return None

    def _warn(self, where: str, why: str) -> None:
        if not self._warned:
            self._warned = True
            warnings.warn(TlcWarning(f"{why}; compiling kernels without it", filename=where,
                                     help=f"set TLC_CACHE_DIR to a directory of yours, or {SWITCH}=0"),
                          stacklevel=2)


def _header(key: str, obj: bytes) -> bytes:
    return MAGIC + key.encode("ascii") + b"\n" + hashlib.sha256(obj).hexdigest().encode("ascii") + b"\n"
