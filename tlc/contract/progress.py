"""Reports of a running contraction-order search: printed lines for ``contract_path(progress=True)``, and records
on the ``tlc.contract.progress`` logger, which the ``tlc`` command draws on a terminal while it plans a program."""

from __future__ import annotations

import contextlib
import logging
import math
import sys
from collections.abc import Iterator

from tlc.contract.search import Progress

LOGGER = logging.getLogger("tlc.contract.progress")
GAP = 0.5
"""Seconds between two records of one search (improvements come in bursts)."""


def printed() -> Progress:
    """A callback printing the best cost to standard error each time it improves."""
    best = math.inf

    def report(seconds: float, score: float, strategy: str) -> None:
        nonlocal best
        if score < best:
            best = score
            print(f"contract_path: {seconds:8.2f} s  best 10^{math.log10(max(score, 1)):.3f}  ({strategy})",
                  file=sys.stderr, flush=True)

    return report


@contextlib.contextmanager
def logged(operands: int) -> Iterator[Progress | None]:
    """A callback sending each report to :data:`LOGGER` (None when nobody listens), and a last 'done' record."""
    if not LOGGER.isEnabledFor(logging.INFO):
        yield None
        return
    what = f"contraction order of {operands} operands"
    reported = False
    last = -math.inf

    def report(seconds: float, score: float, strategy: str) -> None:
        nonlocal reported, last
        if seconds - last < GAP:
            return
        reported, last = True, seconds
        detail = f"best 10^{math.log10(max(score, 1)):.2f} FLOPs ({strategy})"
        LOGGER.info("%s: %.0f s, %s", what, seconds, detail,
                    extra={"progress": (what, int(seconds), None, detail, False, "s")})

    try:
        yield report
    finally:
        if reported:
            LOGGER.info("%s: done", what, extra={"progress": (what, None, None, "", True, "s")})
