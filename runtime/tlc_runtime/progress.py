"""Progress of long loops (fixpoint and semi-naive rounds), reported through the ``tlc_runtime.progress`` logger: silent
unless someone listens (``tlc`` listens when standard error is a terminal), and at most every ``INTERVAL``
seconds, so a quick loop costs one clock read per round."""

from __future__ import annotations

import logging
import time

from tlc_runtime.sparse import count

LOGGER = logging.getLogger("tlc_runtime.progress")
INTERVAL = 0.5
"""Seconds between two reports of one loop."""


class Ticker:
    """Reports one loop's progress in ``unit``s (rounds, components): ``due()`` says whether a report is wanted
    now, ``report`` sends it."""

    def __init__(self, what: str, total: int | None = None, unit: str = "round"):
        self.what, self.total, self.unit = what, total, unit
        self.last = time.monotonic()
        self.reported = False

    def due(self) -> bool:
        """True at most every ``INTERVAL`` seconds, and only when a handler listens to ``LOGGER``."""
        now = time.monotonic()
        if now - self.last < INTERVAL or not LOGGER.isEnabledFor(logging.INFO):
            return False
        self.last = now
        return True

    def report(self, done: int, detail: str = "") -> None:
        """Send ``what: unit done/total, detail`` (the record carries the parts as ``progress``)."""
        self.reported = True
        LOGGER.info("%s", describe(self.what, done, self.total, detail, self.unit),
                    extra={"progress": (self.what, done, self.total, detail, False, self.unit)})

    def close(self) -> None:
        """Say the loop ended (only when it was reported at all)."""
        if self.reported:
            LOGGER.info("%s: done", self.what,
                        extra={"progress": (self.what, None, self.total, "", True, self.unit)})
            self.reported = False


def describe(what: str, done: int, total: int | None, detail: str, unit: str = "round") -> str:
    """One report as a line: ``fixpoint of X: round 12/10000, X last changed by 0.5`` (a time: ``search: 12 s``)."""
    count = f"{done} {unit}" if unit == "s" else f"{unit} {done}{f'/{total}' if total else ''}"
    return f"{what}: {count}{f', {detail}' if detail else ''}"


class SemiNaiveProgress:
    """Reports a semi-naive loop's rounds and the tuples each derived (emitted code calls ``round`` with the
    round's deltas, then ``close``)."""

    def __init__(self, names, limit: int | None = None):
        self.names = tuple(names)
        self.ticker = Ticker(f"semi-naive rounds of {', '.join(self.names)}", limit)
        self.rounds = 0

    def round(self, deltas) -> None:
        """Record one round; ``deltas`` are its new tuples per relation (counted only when a report is due)."""
        self.rounds += 1
        if self.ticker.due():
            new = sum(count(d) for d in deltas)
            self.ticker.report(self.rounds, f"{new} new tuple{'s' * (new != 1)}")

    def close(self) -> None:
        """The loop ended."""
        self.ticker.close()
