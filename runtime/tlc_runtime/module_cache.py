"""Private, content-keyed caches: generated Python modules (Triton compiles only kernels defined in a file) and the
checked directories and files every cache of tlc keeps (the llvm backend's object cache is another).

A cache directory is created with mode 0700 and refused unless it is a real directory owned by this user that
nobody else may write; a module's file name is the SHA-256 of its text, and the file is read back and compared
with the text before it is imported, so a stale, truncated or planted file is rewritten, never run. Files are
written whole to a temporary file and renamed into place, so a reader never sees a partly written one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import stat
import sys
import tempfile

from tlc_runtime.errors import RuntimeFailure


def _checked(path: str) -> str:
    """``path`` after checking it is a directory of ours that only we can write."""
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise RuntimeFailure(f"the cache directory {path} is not a directory (a link or a file): refusing to use it")
    if info.st_uid != os.getuid():
        raise RuntimeFailure(f"the cache directory {path} belongs to another user (uid {info.st_uid}): refusing to "
                             "load code from it; set TLC_CACHE_DIR to a directory of yours")
    if info.st_mode & 0o022:
        raise RuntimeFailure(f"the cache directory {path} is writable by others (mode "
                             f"{stat.S_IMODE(info.st_mode):o}): refusing to load code from it; chmod go-w it or set "
                             "TLC_CACHE_DIR")
    return path


def cache_root() -> str:
    """``TLC_CACHE_DIR``, else ``$XDG_CACHE_HOME/tlc`` (``~/.cache/tlc``)."""
    explicit = os.environ.get("TLC_CACHE_DIR")
    if explicit:
        return os.path.abspath(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tlc")


def cache_dir(kind: str) -> str:
    """The cache directory for ``kind`` (e.g. ``triton``) under ``cache_root()``, created 0700 and checked with
    the root: ``OSError`` when it cannot be created, ``RuntimeFailure`` when it is refused."""
    root = cache_root()
    path = os.path.join(root, kind)
    os.makedirs(path, mode=0o700, exist_ok=True)
    _checked(root)
    return _checked(path)


def private_dir(kind: str) -> str:
    """``cache_dir(kind)``, or a fresh private temporary directory when the usual place cannot be created."""
    try:
        return cache_dir(kind)
    except OSError:
        return _checked(tempfile.mkdtemp(prefix=f"tlc-{kind}-"))


def load(source: str, kind: str):
    """Import ``source`` as a module from the private cache (written there if missing or different)."""
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    name = f"tlc_{kind}_{digest}"
    directory = private_dir(kind)
    path = os.path.join(directory, name + ".py")
    data = source.encode("utf-8")
    if read_private(path) != data:
        write_private(path, data)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module      # Triton looks kernels' globals up through their module
    spec.loader.exec_module(module)
    return module


def read_private(path: str) -> bytes | None:
    """The bytes of a cached file, or None when it is missing, unreadable, or not a regular file of ours (which is
    removed)."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            os.unlink(path)
            return None
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def write_private(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file (mode 0600) in the same directory, renamed over it."""
    handle, partial = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(partial, path)
    except BaseException:
        try:
            os.unlink(partial)
        except OSError:
            pass
        raise
