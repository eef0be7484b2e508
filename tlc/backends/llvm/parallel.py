"""Parallelism policy: which loop of a kernel threads may split, and how many threads run.

The splitting itself happens at run time in ``tlc_runtime.native`` (emitted code must run without the
compiler): above ``PARALLEL_WORK`` loop iterations, the chosen loop's range is cut into one chunk per
thread and each chunk is a ctypes call, which releases the GIL. Chunks write disjoint output elements,
so results do not depend on the thread count (each element is computed by the same instructions).
"""

from __future__ import annotations

from tlc.ir import nodes as ir
from tlc_runtime.native import PARALLEL_WORK, default_threads

__all__ = ["PARALLEL_WORK", "default_threads", "split_variable"]


def split_variable(lhs: ir.Ref, loops: tuple[str, ...], size) -> str | None:
    """The outermost output loop with at least two values whose values write disjoint elements (some
    left-hand axis is exactly ``var + c``); None when there is none (pooling, scalars)."""
    for var in loops:
        if size(var) >= 2 and any(i.shifted_variable and i.shifted_variable[0] == var for i in lhs.indices):
            return var
    return None
