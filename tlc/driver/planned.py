"""``PlannedProgram``: everything decided about a program before any backend emits it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tlc.analysis.contractions import Contraction
from tlc.analysis.relation_plan import RelationPlan
from tlc.analysis.shapes import Shapes
from tlc.analysis.strata import Stratum
from tlc.ir.program import Program
from tlc.memory_limit import Budget


@dataclass(frozen=True)
class PlannedProgram:
    """A program specialised to its inputs' shapes, with every decision the backends read: strata, shapes,
    the symbol table, storage and strategy per relation and stratum, the contraction order and slicing of
    every product term, the memory budget and the fixpoint round bound. Emitters, ``explain`` and cost
    reports only read it."""

    program: Program
    strata: tuple[Stratum, ...]
    shapes: Shapes
    symbols: tuple
    """Named constants in position order (the symbol table of every symbolic axis)."""
    symbolic: frozenset
    """(tensor, axis) pairs that range over the named constants."""
    supplied: Mapping[str, tuple[int, ...]]
    """Defined tensors that also receive data (initial values), with the data's extents."""
    relations: RelationPlan
    """Storage per relation and strategy per stratum (``tlc.analysis.relation_plan``)."""
    contractions: Mapping[tuple[int, tuple[int, ...]], Contraction]
    """The plan of each product term with two or more array operands, by (equation, path of the product)."""
    fold_blocks: Mapping[int, tuple[str, int]] = field(default_factory=dict)
    """Fixpoint equations folded (``min=``/``max=``) in blocks: equation -> (LHS variable, block size)."""
    windows: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    """Virtual axes kept as ring buffers: tensor -> (axis, slots) (``tlc.analysis.windows``)."""
    budget: Budget = Budget(None)
    max_rounds: int | None = None
    """A bound on the rounds of every fixpoint loop (``max_rounds=``), or None for the stated defaults."""
    threads: int | None = None
    """Threads a native backend may use per kernel (None: ``TLC_NUM_THREADS`` or the CPU count)."""
    database: str | None = None
    """A DuckDB database file (absolute path): inputs are stored there, every derived relation written there."""
    chunks: int | Mapping[str, tuple[int, ...]] | None = None
    """A chunked backend's (Dask's) chunking asked for with ``chunks=``: bytes per chunk, or per tensor its
    chunk shape (-1: the whole axis); None: planned from the memory budget."""

    @property
    def memory_limit(self) -> int | None:
        """Largest tensor, temporary or contraction intermediate in elements, or None for no limit."""
        return self.budget.elements

    def contraction(self, k: int, path: tuple[int, ...]) -> Contraction | None:
        """The planned contraction of the product at ``path`` in equation ``k`` (None: not a contraction)."""
        return self.contractions.get((k, tuple(path)))
