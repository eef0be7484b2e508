"""Run a benchmark's function in a child process, with a time limit.

Benchmarks run as scripts (``python benchmarks/bench_x.py``), so this module is imported by its plain name."""

from __future__ import annotations

import multiprocessing


def in_child(target, args: tuple, limit: float, start: str = "fork"):
    """What ``target(*args, pipe)`` sends on ``pipe``, run in a child process started by ``start`` (``fork`` or
    ``spawn``); None when nothing comes within ``limit`` seconds (the child is then killed)."""
    ctx = multiprocessing.get_context(start)
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=target, args=(*args, send))
    child.start()
    if not receive.poll(limit):
        child.kill()
        child.join()
        return None
    result = receive.recv()
    child.join()
    return result
