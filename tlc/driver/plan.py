"""Planning: every decision about a specialised program, made once, recorded in a ``PlannedProgram``."""

from __future__ import annotations

from collections.abc import Mapping

from tlc.analysis.budget import check_budget
from tlc.analysis.contractions import plan_contractions
from tlc.analysis.folds import plan_fold_blocks
from tlc.analysis.relation_plan import ARRAY_RELATIONS, RelationPlan
from tlc.analysis.shapes import Shapes
from tlc.analysis.strata import Stratum, within_extents
from tlc.analysis.windows import plan_windows
from tlc.driver.carriers import without_redundant_carriers
from tlc.driver.inputs import Signature
from tlc.driver.planned import PlannedProgram
from tlc.ir.program import Program
from tlc.memory_limit import Budget

FUSED_FOLDS = "fused-folds"
"""Backend capability: ``min=``/``max=`` folds run fused in kernels, so fixpoint folds are not blocked."""
CHUNKED_ARRAYS = "chunked-arrays"
"""Backend capability: arrays are split into chunks sized from the memory budget (Dask), so the budget bounds a
chunk, not a whole tensor, and is not checked against whole tensors."""


def plan(program: Program, strata: tuple[Stratum, ...], shapes: Shapes, signature: Signature,
         supplied: Mapping[str, tuple[int, ...]], relations: RelationPlan, budget: Budget,
         max_rounds: int | None = None, threads: int | None = None,
         capabilities: frozenset[str] = frozenset(), database: str | None = None, chunks=None) -> PlannedProgram:
    """Leave out the carriers the extents make redundant (``tlc.driver.carriers``), check the memory budget, then
    decide blocked folds and every contraction's order and slicing for a
    backend with ``capabilities`` (``database``: a DuckDB file for inputs and results; ``chunks``: a chunked
    backend's chunking, recorded as given); raises a located ``TlcError`` when the program cannot run within
    budget."""
    program = without_redundant_carriers(program, shapes.extents)
    strata = within_extents(program, strata, shapes.extents, shapes.ranges)
    windows = plan_windows(program, strata, supplied)
    chunked = CHUNKED_ARRAYS in capabilities
    if not chunked:
        check_budget(program, strata, shapes, relations, budget, windows)
    on_arrays = ("dense",) if ARRAY_RELATIONS in capabilities else ()
    relational = frozenset(n for n, s in enumerate(relations.strata) if s.relational and s.strategy not in on_arrays)
    folds = {} if FUSED_FOLDS in capabilities else plan_fold_blocks(program, strata, shapes)
    limit = None if chunked else budget.elements       # chunks, not sliced contractions, meet it on Dask
    contractions = plan_contractions(program, strata, shapes, relational, folds, limit,
                                     budget.describe() if limit is not None else None)
    return PlannedProgram(program, strata, shapes, signature.symbols, signature.symbolic, dict(supplied), relations,
                          contractions, folds, windows, budget, max_rounds, threads, database, chunks)
