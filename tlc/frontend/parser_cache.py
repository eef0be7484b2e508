"""Built Lark parsers on disk, so a new process loads a grammar's LALR tables (a few ms) instead of building them
(50-250 ms, most of the start of tlc's first call).

An entry is keyed by the SHA-256 of the cache format, Lark's and Python's versions, the options and the grammar
text, and lives in ``$TLC_CACHE_DIR/parser`` (default ``~/.cache/tlc/parser``), a directory checked like every cache
of tlc (``tlc_runtime.module_cache``: 0700, ours, not a link, not writable by others). A file holds a header (a
magic line, the key, the SHA-256 of the body) and the body, Lark's own ``Lark.save`` pickle; the body is unpickled
only when the header names the key asked for and the bytes hash to the recorded digest, so a truncated or corrupt
file is ignored and rebuilt (and a planted one cannot be there: nobody else may write the directory). Files are
written to a temporary name and renamed, so processes writing the same entry at once are safe.

A cache directory that is refused or cannot be created or written is not an error: the parser is built as without
a cache, and a ``TlcWarning`` naming the directory says why, once per process.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import threading
import warnings

import lark
from lark import Lark

from tlc.errors import TlcWarning
from tlc_runtime.errors import RuntimeFailure
from tlc_runtime.module_cache import cache_dir, cache_root, read_private, write_private

FORMAT = 1
"""Bumped when the file layout or what goes into the key changes."""
MAGIC = b"tlc lark parser %d\n" % FORMAT
HEADER = len(MAGIC) + 2 * 65
"""Bytes before the body: the magic line, the key's line and the body digest's line (64 hex digits each)."""
KIND = "parser"

_warned = threading.Event()


def cached_lark(grammar: str, **options) -> Lark:
    """``Lark(grammar, parser="lalr", **options)``, loaded from the disk cache when an entry for exactly this
    grammar, these options and these versions is there, else built and stored."""
    key = _key(grammar, options)
    directory = _directory()
    path = None if directory is None else os.path.join(directory, key + ".lark")
    if path is not None:
        data = read_private(path)
        body = None if data is None else data[HEADER:]
        if body and data[:HEADER] == _header(key, body):
            return Lark.load(io.BytesIO(body))
    parser = Lark(grammar, parser="lalr", **options)
    if path is not None:
        out = io.BytesIO()
        parser.save(out)
        try:
            write_private(path, _header(key, out.getvalue()) + out.getvalue())
        except OSError as err:
            _warn(directory, f"cannot write to the parser cache: {err.strerror or err}")
    return parser


def _key(grammar: str, options: dict) -> str:
    """SHA-256 of everything the built parser depends on; a post-lexer by its class, which the pickle names."""
    described = sorted((name, f"{type(v).__module__}.{type(v).__qualname__}" if name == "postlex" else repr(v))
                       for name, v in options.items())
    text = f"{FORMAT}\0{lark.__version__}\0{sys.version_info[:2]}\0{described}\0{grammar}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _directory() -> str | None:
    """The checked cache directory, or None when it cannot be used (warned once)."""
    try:
        return cache_dir(KIND)
    except OSError as err:
        _warn(os.path.join(cache_root(), KIND), f"cannot create the parser cache: {err.strerror or err}")
    except RuntimeFailure as err:
        _warn(os.path.join(cache_root(), KIND), str(err))
    return None


def _warn(where: str, why: str) -> None:
    if not _warned.is_set():
        _warned.set()
        warnings.warn(TlcWarning(f"{why}; building the parser without it", filename=where,
                                 help="set TLC_CACHE_DIR to a directory of yours"), stacklevel=3)


def _header(key: str, body: bytes) -> bytes:
    return MAGIC + key.encode("ascii") + b"\n" + hashlib.sha256(body).hexdigest().encode("ascii") + b"\n"
