"""Symbol tables (a program's named constants, in position order) written into emitted modules."""

from __future__ import annotations

import json

COMPACT = 256
"""Named constants from which an emitted module holds its table as one JSON string (``symbol_table``): parsing a
tuple literal of 25,000 names took Python's compiler 50 ms, a string of them 6."""


def compact(symbols: tuple) -> str | None:
    """``symbols`` (names and integers) as the JSON text ``symbol_table`` reads back, or None when there are fewer
    than ``COMPACT`` of them or one is of another type (then the module spells them as a tuple)."""
    if len(symbols) < COMPACT or not all(type(s) in (str, int) for s in symbols):
        return None
    return json.dumps(symbols)


def symbol_table(text: str) -> tuple:
    """The named constants ``compact`` wrote as ``text``."""
    return tuple(json.loads(text))
