"""Turn emitted Python source into a callable, with located errors."""

from __future__ import annotations

import builtins
import functools

from tlc.errors import TlcError

CODE_CACHE = 256
"""Compiled module code objects kept, by their whole source text (like ``.pyc`` files: the program is still
parsed, planned and emitted every time; only Python's compilation of identical emitted text is reused)."""
CODE_CACHE_TEXT = 200_000
"""Longest source (characters) whose code is kept: larger modules are compiled each time, not held in memory."""


def load_emitted(source: str, filename: str | None):
    """Compile emitted Python source and return its ``run`` function (each call gets a module of its own)."""
    namespace: dict = {}
    try:
        name = f"<tlc:{filename or 'source'}>"
        code = _code(source, name) if len(source) <= CODE_CACHE_TEXT else builtins.compile(source, name, "exec")
    except (SyntaxError, RecursionError, MemoryError):
        raise TlcError("the program is nested too deeply to compile") from None
    exec(code, namespace)  # noqa: S102 - code tlc emitted
    return namespace["run"]


@functools.lru_cache(maxsize=CODE_CACHE)
def _code(source: str, name: str):
    """Python's code object for the module ``source`` (immutable: every call execs it in a fresh namespace)."""
    return builtins.compile(source, name, "exec")
