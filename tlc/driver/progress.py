"""Showing progress reports on a terminal: the runtime's loops (``tlc_runtime.progress``) and the contraction-order
search (``tlc.contract.progress``), a tqdm bar each when tqdm is installed, else one line rewritten in place;
nothing when the stream is not a terminal."""

from __future__ import annotations

import contextlib
import logging

from tlc_runtime.progress import LOGGER, describe

from tlc.contract.progress import LOGGER as SEARCH_LOGGER

LOGGERS = (LOGGER, SEARCH_LOGGER)


class TerminalProgress(logging.Handler):
    """Draws each loop's reports on ``stream``: a tqdm bar (with the round bound as its total) or a plain line.

    A record's ``progress`` is ``(what, done, total, detail, finished, unit)``: rounds, strong components, or
    seconds (``s``) for the contraction-order search."""

    def __init__(self, stream):
        super().__init__(logging.INFO)
        self.stream = stream
        self.bars: dict[str, object] = {}
        try:
            from tqdm import tqdm
            self.tqdm = tqdm
        except ImportError:
            self.tqdm = None

    def emit(self, record: logging.LogRecord) -> None:
        what, done, total, detail, finished, unit = getattr(record, "progress",
                                                            (record.getMessage(), None, None, "", False, "round"))
        if self.tqdm is not None:
            bar = self.bars.get(what)
            if finished:
                if bar is not None:
                    self.bars.pop(what).close()
                return
            if bar is None:
                bar = self.bars[what] = self.tqdm(total=total, desc=what, unit=unit, file=self.stream, leave=False)
            bar.set_postfix_str(detail, refresh=False)
            bar.n = done
            bar.refresh()       # reports come at most every INTERVAL seconds: draw each
            return
        text = f"{what}: done" if finished else describe(what, done, total, detail, unit)
        self.stream.write(f"\r\x1b[K{text}" + ("\n" if finished else ""))
        self.stream.flush()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()
        super().close()


@contextlib.contextmanager
def progress_on(stream, enabled: bool = True):
    """Show progress reports on ``stream`` while in the block, when ``enabled`` and ``stream`` is a terminal."""
    isatty = getattr(stream, "isatty", None)
    if not enabled or not (isatty and isatty()):
        yield
        return
    handler = TerminalProgress(stream)
    levels = [logger.level for logger in LOGGERS]
    for logger in LOGGERS:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        for logger, level in zip(LOGGERS, levels):
            logger.removeHandler(handler)
            logger.setLevel(level)
        handler.close()
