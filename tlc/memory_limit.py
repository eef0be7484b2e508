"""Memory limits as users write them (``4096``, ``512M``, ``2G``) and as the planner counts them (elements)."""

from __future__ import annotations

import math
import numbers
import re

from tlc.errors import TlcError

ELEMENT_BYTES = 8
"""Bytes per element the limit is counted in: float64, the widest dtype tlc allocates."""

_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_TEXT = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*([KMGT]?)(?:i?B)?\s*\Z", re.IGNORECASE)


def parse_bytes(value) -> int:
    """Bytes from an int or text such as ``1048576``, ``512M``, ``2G``, ``1.5GiB`` (K/M/G/T are powers of 1024)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        amount = int(value)
    elif isinstance(value, str) and _TEXT.match(value):
        number, unit = _TEXT.match(value).groups()
        amount = math.floor(float(number) * _UNITS[unit.upper()])
    else:
        raise TlcError(f"memory limit must be a number of bytes or text such as 512M or 2G, not {value!r}")
    if amount < ELEMENT_BYTES:
        raise TlcError(f"memory limit {value!r} is below one {ELEMENT_BYTES}-byte element")
    return amount


def limit_elements(value) -> int | None:
    """The planner's limit in elements for a user's ``memory_limit`` (None: no limit)."""
    return None if value is None else parse_bytes(value) // ELEMENT_BYTES
