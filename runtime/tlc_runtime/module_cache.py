"""A private, content-keyed cache of generated Python modules (Triton compiles only kernels defined in a file).

The cache directory is created with mode 0700 and refused unless it is a real directory owned by this user
that nobody else may write; a module's file name is the SHA-256 of its text, and the file is read back and
compared with the text before it is imported, so a stale, truncated or planted file is rewritten, never run.
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
        raise RuntimeFailure(f"the module cache {path} is not a directory (a link or a file): refusing to use it")
    if info.st_uid != os.getuid():
        raise RuntimeFailure(f"the module cache {path} belongs to another user (uid {info.st_uid}): refusing to "
                             "import code from it; set TLC_CACHE_DIR to a directory of yours")
    if info.st_mode & 0o022:
        raise RuntimeFailure(f"the module cache {path} is writable by others (mode {stat.S_IMODE(info.st_mode):o}): "
                             "refusing to import code from it; chmod go-w it or set TLC_CACHE_DIR")
    return path


def cache_root() -> str:
    """``TLC_CACHE_DIR``, else ``$XDG_CACHE_HOME/tlc`` (``~/.cache/tlc``)."""
    explicit = os.environ.get("TLC_CACHE_DIR")
    if explicit:
        return os.path.abspath(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tlc")


def private_dir(kind: str) -> str:
    """The cache directory for ``kind`` (e.g. ``triton``), created 0700 and checked; a fresh private
    temporary directory when the usual place cannot be created."""
    root = cache_root()
    path = os.path.join(root, kind)
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError:
        return _checked(tempfile.mkdtemp(prefix=f"tlc-{kind}-"))
    _checked(root)
    return _checked(path)


def load(source: str, kind: str):
    """Import ``source`` as a module from the private cache (written there if missing or different)."""
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    name = f"tlc_{kind}_{digest}"
    directory = private_dir(kind)
    path = os.path.join(directory, name + ".py")
    if _read(path) != source:
        handle, partial = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(source)
        os.replace(partial, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module      # Triton looks kernels' globals up through their module
    spec.loader.exec_module(module)
    return module


def _read(path: str) -> str | None:
    """The text of a cached file, or None when it is missing, not a regular file of ours, or unreadable."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            os.unlink(path)
            return None
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None
