"""Turn emitted Python source into a callable, with located errors."""

from __future__ import annotations

import builtins

from tlc.errors import TlcError


def load_emitted(source: str, filename: str | None):
    """Compile emitted Python source and return its ``run`` function."""
    namespace: dict = {}
    try:
        code = builtins.compile(source, f"<tlc:{filename or 'source'}>", "exec")
    except (SyntaxError, RecursionError, MemoryError):
        raise TlcError("the program is nested too deeply to compile") from None
    exec(code, namespace)  # noqa: S102 - code tlc emitted
    return namespace["run"]
