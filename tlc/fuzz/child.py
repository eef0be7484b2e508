"""Run checks in a reused child process, so that a crash in native code (a signal, an abort) or a hang in it is a
finding that names its case instead of the end of the run.

``Child().run(fn, *args)`` is ``fn(*args)`` run in the child (``fn`` and ``args`` are pickled: ``fn`` must be a
module-level function or a ``functools.partial`` of one). The child is started with ``spawn`` (a fresh interpreter:
forking a parent that has threads, as a test session does, breaks locks in the child) on the first call and reused
until it dies; the next call starts a new one. Its standard error goes to a file (with ``faulthandler`` on, so a fatal
signal prints the Python stack there), and a death raises ``ChildDied`` with what the child wrote during that call.
"""

from __future__ import annotations

import faulthandler
import multiprocessing as mp
import os
import signal
import sys
import tempfile
import traceback

STDERR_TAIL = 6000
"""Characters of a dead child's standard error kept in ``ChildDied``."""


class ChildDied(Exception):
    """The child died, or was killed by the watchdog, while it ran a call."""

    def __init__(self, how: str, stderr: str):
        super().__init__(f"the child process {how}; its standard error:\n{stderr.rstrip() or '(empty)'}")
        self.how = how
        """``killed by SIGABRT``, ``exited with status 3`` or ``gave no answer after N s (killed)``."""
        self.stderr = stderr


class ChildError(Exception):
    """The call raised in the child; the message is the child's traceback."""


class Child:
    """One reusable child process; ``watchdog`` (seconds, None for no limit) bounds each call."""

    def __init__(self, watchdog: float | None = None):
        self.watchdog = watchdog
        self._context = mp.get_context("spawn")
        self._process = None
        self._conn = None
        self._stderr = None
        self.started = 0
        """Child processes started so far (one, unless some died)."""

    def run(self, fn, *args):
        """``fn(*args)`` in the child; raises ``ChildDied`` when the child dies or overruns the watchdog, and
        ``ChildError`` when the call raised."""
        if self._process is None:
            self._start()
        offset = os.path.getsize(self._stderr)
        try:
            self._conn.send((fn, args))
            answered = self._conn.poll(self.watchdog)
            outcome, value = self._conn.recv() if answered else (None, None)
        except (EOFError, OSError, BrokenPipeError):
            answered, outcome = True, None
        if outcome is None:
            path = self._stderr
            how = self._stop(answered)
            raise ChildDied(how, _tail(path, offset))
        if outcome == "raised":
            raise ChildError(value)
        return value

    def close(self) -> None:
        """Stop the child (it finishes nothing more) and remove its standard error file."""
        if self._process is not None:
            try:
                self._conn.send(None)
            except OSError:
                pass
            self._process.join(5)
            path = self._stderr
            self._stop(True)
            os.unlink(path)

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> None:
        handle, self._stderr = tempfile.mkstemp(prefix="tlc-child-", suffix=".stderr")
        os.close(handle)
        self._conn, theirs = self._context.Pipe()
        self._process = self._context.Process(target=_serve, args=(theirs, self._stderr), daemon=True)
        self._process.start()
        theirs.close()
        self.started += 1

    def _stop(self, answered: bool) -> str:
        """Kill the child if it still runs, forget it (its standard error file stays), and say how it ended."""
        process, self._process, self._stderr = self._process, None, None
        if process.is_alive():
            process.kill()
        process.join()
        self._conn.close()
        if not answered:
            return f"gave no answer after {self.watchdog:g} s (killed)"
        if process.exitcode is not None and process.exitcode < 0:
            return f"was killed by {signal.Signals(-process.exitcode).name}"
        return f"exited with status {process.exitcode}"


def _tail(path: str, offset: int) -> str:
    """What the dead child wrote to ``path`` from ``offset`` on (the last ``STDERR_TAIL`` characters); removes it."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", "replace")
    finally:
        os.unlink(path)
    return text if len(text) <= STDERR_TAIL else "…" + text[-STDERR_TAIL:]


def _serve(conn, stderr_path: str) -> None:
    """The child's loop: run each ``(fn, args)`` received and answer ``("ok", result)`` or ``("raised", trace)``."""
    fd = os.open(stderr_path, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stderr = open(2, "w", buffering=1, closefd=False, encoding="utf-8", errors="replace")  # noqa: SIM115
    faulthandler.enable(sys.stderr)
    while True:
        task = conn.recv()
        if task is None:
            return
        fn, args = task
        try:
            answer = ("ok", fn(*args))
        except Exception:  # noqa: BLE001 - the caller decides what the child's exception means
            answer = ("raised", traceback.format_exc())
        sys.stderr.flush()
        conn.send(answer)
