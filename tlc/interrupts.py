"""Sections of native work that a signal handler's exception must not split: it is raised when they end.

A signal handler's exception (the fuzz oracle's ``time_limit`` alarm) surfaces between any two bytecodes, e.g. after
llvmlite handed a module to the JIT engine but before it marked the module as the engine's, and Python then frees a
module LLVM still owns. Code that changes such native state runs inside ``deferred()``; a handler calls
``interrupt(error)``, which raises at once outside a section and, inside one, when the outermost section of the
interrupted thread ends. Sections hold only native calls and their glue, so the delay is bounded by calls that a
signal could not interrupt anyway.
"""

from __future__ import annotations

import contextlib
import threading

_local = threading.local()


@contextlib.contextmanager
def deferred():
    """Run the block with ``interrupt``'s exceptions held back until it ends (sections nest)."""
    depth = getattr(_local, "depth", 0)
    _local.depth = depth + 1
    try:
        yield
    finally:
        _local.depth = depth
        if not depth:
            pending, _local.pending = getattr(_local, "pending", None), None
            if pending is not None:
                raise pending


def interrupt(error: BaseException) -> None:
    """Raise ``error`` now, or at the end of the outermost ``deferred()`` section this thread is in."""
    if getattr(_local, "depth", 0):
        if getattr(_local, "pending", None) is None:
            _local.pending = error
        return
    raise error
