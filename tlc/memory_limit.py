"""Memory limits as users write them (``4096``, ``512M``, ``2G``, ``"none"``) and as the planner counts them
(elements); without one, the default budget is half the memory this machine has available."""

from __future__ import annotations

import functools
import math
import numbers
import os
import re
from dataclasses import dataclass

from tlc.errors import TlcError

ELEMENT_BYTES = 8
"""Bytes per element the limit is counted in: float64, the widest dtype tlc allocates."""

DEFAULT_FRACTION = 0.5
"""The default budget is this fraction of the memory available when this process first compiles a program
(read once, so that every program of a process has the same budget and contraction plans stay cached)."""

FALLBACK_BYTES = 4 * 2**30
"""The memory assumed available where the machine's cannot be read (no /proc/meminfo, no sysconf)."""

NO_LIMIT = "none"
"""``memory_limit="none"`` (``--memory-limit none``) turns the budget off."""

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
        raise TlcError(f"memory limit must be a number of bytes, text such as 512M or 2G, or 'none', not {value!r}")
    if amount < ELEMENT_BYTES:
        raise TlcError(f"memory limit {value!r} is below one {ELEMENT_BYTES}-byte element")
    return amount


def parse_limit(value) -> int | str:
    """Bytes as ``parse_bytes`` reads them, or ``"none"`` (any case): the command line's ``--memory-limit``."""
    if isinstance(value, str) and value.strip().lower() == NO_LIMIT:
        return NO_LIMIT
    return parse_bytes(value)


def available_bytes() -> int | None:
    """Memory this process may still use: MemAvailable (else free pages), capped by what a cgroup v2 memory.max
    and an address-space rlimit (``ulimit -v``) leave when those are set; None when none of them can be read."""
    found = []
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
                    break
    except (OSError, ValueError, IndexError):
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as handle:
            text = handle.read().strip()
        if text.isdigit():
            found.append(int(text) - _read_int("/sys/fs/cgroup/memory.current"))
    except OSError:
        pass
    try:
        import resource
        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY and soft > 0:    # less the address space this process already maps
            found.append(soft - _read_int("/proc/self/statm", first=True) * os.sysconf("SC_PAGE_SIZE"))
    except (ImportError, OSError, ValueError):
        pass
    found = [b for b in found if b > 0]
    return min(found) if found else None


def _read_int(path: str, first: bool = False) -> int:
    """The integer in a one-line /proc or /sys file (its first field with ``first``); 0 when unreadable."""
    try:
        with open(path, encoding="ascii") as handle:
            text = handle.read().split()
        return int(text[0]) if text and (first or len(text) == 1) else 0
    except (OSError, ValueError):
        return 0


@dataclass(frozen=True)
class Budget:
    """The largest tensor, temporary or contraction intermediate a program may allocate, in elements
    (None: no limit), and where it came from (for messages)."""

    elements: int | None
    kind: str = "memory limit"
    """``memory limit`` (given by the user) or ``memory budget`` (the default)."""
    note: str = ""
    """How a default budget was found, for messages."""

    @property
    def bytes(self) -> int | None:
        """The budget in bytes (elements of ``ELEMENT_BYTES``)."""
        return None if self.elements is None else self.elements * ELEMENT_BYTES

    def describe(self) -> str:
        """``the memory budget of 11.8 GiB (50% of the available memory; ...)`` or ``the memory limit of 2 GiB``."""
        if self.elements is None:
            return "no memory budget"
        return f"the {self.kind} of {format_bytes(self.bytes)}{f' ({self.note})' if self.note else ''}"


def default_budget() -> Budget:
    """``DEFAULT_FRACTION`` of ``available_bytes()`` (of ``FALLBACK_BYTES`` when unreadable), read now."""
    available = available_bytes()
    amount = int((available if available is not None else FALLBACK_BYTES) * DEFAULT_FRACTION)
    return Budget(max(1, amount // ELEMENT_BYTES), "memory budget",
                  f"{DEFAULT_FRACTION:.0%} of the available memory{'' if available is not None else ', assumed 4 GiB'}"
                  f"; memory_limit= or --memory-limit changes it")


@functools.lru_cache(maxsize=1)
def process_budget() -> Budget:
    """``default_budget()`` as first read in this process."""
    return default_budget()


def resolve(value) -> Budget:
    """The budget for a user's ``memory_limit``: None is the default budget (``process_budget()``), ``"none"``
    no limit, otherwise bytes as ``parse_bytes`` reads them."""
    if value is None:
        return process_budget()
    if isinstance(value, Budget):
        return value
    if parse_limit(value) == NO_LIMIT:
        return Budget(None)
    return Budget(parse_bytes(value) // ELEMENT_BYTES)


def limit_elements(value) -> int | None:
    """The planner's limit in elements for a user's ``memory_limit`` (None: the default budget; ``"none"``:
    no limit)."""
    return resolve(value).elements


def format_bytes(amount: float) -> str:
    """``1.5 GiB``, ``512 MiB``, ``800 B``: powers of 1024, three significant digits."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if amount >= size:
            return f"{amount / size:.3g} {unit}"
    return f"{int(amount)} B"
