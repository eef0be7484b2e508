"""Blocked folds: which ``min=``/``max=`` equations of a fixpoint loop the array backends evaluate in blocks.

Inside a fixpoint loop, a ``min=``/``max=`` equation whose broadcast intermediate exceeds 4 * ``FOLD_BLOCK``
elements runs in blocks of one left-hand index of about ``FOLD_BLOCK`` elements, which stay in cache (about 6x
faster for a 200-node shortest-path round). Backends that fuse folds into kernels do not need it.
"""

from __future__ import annotations

import math

from tlc.analysis.projection import analyse
from tlc.analysis.shapes import Shapes
from tlc.analysis.strata import Mode, Stratum
from tlc.ir import nodes as ir
from tlc.ir.program import Program

FOLD_BLOCK = 1 << 16
"""Elements of one block's broadcast intermediate (at most)."""


def plan_fold_blocks(program: Program, strata: tuple[Stratum, ...], shapes: Shapes) -> dict[int, tuple[str, int]]:
    """Equation -> (LHS variable, block size) for each large ``min=``/``max=`` equation of a fixpoint loop."""
    blocks = {}
    for stratum in strata:
        if stratum.mode is Mode.FIXPOINT:
            for k in stratum.equations:
                block = _fold_block(program.equations[k], shapes.ranges.get(k, {}))
                if block is not None:
                    blocks[k] = block
    return blocks


def _fold_block(eq: ir.Equation, ranges: dict) -> tuple[str, int] | None:
    """(LHS variable, block size) to run a large ``min=``/``max=`` equation in blocks, else None."""
    if eq.aggregator.reduction not in ("min", "max") or not analyse(eq).reduced:
        return None
    total = math.prod(hi - lo for lo, hi in ranges.values())
    if total <= 4 * FOLD_BLOCK:
        return None
    for index in eq.lhs.indices:
        var = index.plain_variable
        reads = [i for ref in ir.refs(eq.rhs) for i in ref.indices if var in i.variables]
        if var in ranges and all(i.shifted_variable for i in reads) and \
                not any(isinstance(n, ir.IndexValue) and n.name == var for n in ir.walk(eq.rhs)):
            extent = ranges[var][1] - ranges[var][0]
            rest = total // extent
            size = max(b for b in range(1, extent + 1) if extent % b == 0 and (b == 1 or b * rest <= FOLD_BLOCK))
            if size < extent:
                return var, size
    return None
