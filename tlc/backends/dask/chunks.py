"""The Dask backend's chunk plan: each tensor's chunk shape, and estimates of a contraction's tasks and memory.

Chunks come from a byte size per chunk: ``chunks=`` when given, else Dask's default (128 MiB) or a quarter of
the memory budget, whichever is smaller (a task holds its operands' chunks, its result and a partial sum).
An axis a tensor is contracted along is kept whole while a chunk of it fits (so a contraction step needs no
partial sums across blocks); the other axes are split by Dask's ``normalize_chunks`` within the size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from dask.array.core import normalize_chunks

from tlc.analysis.projection import analyse
from tlc.driver.planned import PlannedProgram
from tlc.ir import nodes as ir
from tlc.memory_limit import format_bytes

DEFAULT_CHUNK_BYTES = 128 * 2**20
"""Dask's own default chunk size (``array.chunk-size``)."""
CHUNKS_PER_TASK = 4
"""Chunks a contraction task holds at once: two operands, its result and a partial sum."""
ELEMENT_BYTES = 8


@dataclass(frozen=True)
class ChunkPlan:
    """Chunk shape per tensor (its arrays' first block per axis) and the byte size that chose them."""

    chunk_bytes: int
    why: str
    shapes: Mapping[str, tuple[int, ...]]
    blocks: Mapping[str, int]
    """Per index variable, the block size along it (the smallest chunk of an axis it ranges over)."""

    def describe(self, name: str, extents: tuple[int, ...]) -> str:
        """``X: chunks (500, 64) of (2000, 64), 4 chunks``."""
        shape = self.shapes[name]
        count = math.prod(math.ceil(n / c) if c else 1 for n, c in zip(extents, shape))
        return f"{name}: chunks {shape} of {tuple(extents)}, {count} chunk{'s' * (count != 1)}"

    def step_cost(self, operands, result, sizes: Mapping[str, int]) -> tuple[int, int]:
        """Estimated tasks and peak bytes per task of one pairwise step (operands' and result's indices)."""
        block = {v: min(self.blocks.get(v, sizes[v]), sizes[v]) or 1 for v in sizes}
        every = dict.fromkeys(v for term in (*operands, result) for v in term)
        tasks = math.prod(math.ceil(sizes[v] / block[v]) if sizes[v] else 1 for v in every)
        if any(v not in result for v in every):       # partial sums combined per block of the result
            tasks += math.prod(math.ceil(sizes[v] / block[v]) if sizes[v] else 1 for v in result)
        peak = sum(math.prod(block[v] for v in term) for term in (*operands, result)) * ELEMENT_BYTES
        return tasks, peak


def chunk_bytes(planned: PlannedProgram) -> tuple[int, str]:
    """Bytes per chunk and why."""
    if isinstance(planned.chunks, int):
        return planned.chunks, f"chunks={format_bytes(planned.chunks)}"
    budget = planned.budget.elements
    if budget is not None and budget * ELEMENT_BYTES // CHUNKS_PER_TASK < DEFAULT_CHUNK_BYTES:
        size = max(budget * ELEMENT_BYTES // CHUNKS_PER_TASK, ELEMENT_BYTES)
        return size, f"a quarter of the memory budget ({planned.budget.describe()})"
    return DEFAULT_CHUNK_BYTES, "Dask's default chunk size"


def contracted_axes(planned: PlannedProgram) -> dict[str, set[int]]:
    """Per tensor, the axes some equation sums while reading it (kept whole in its chunks where they fit)."""
    axes: dict[str, set[int]] = {}
    for eq in planned.program.equations:
        projection = analyse(eq)
        summed = {v for vs in projection.summed_at.values() for v in vs} | set(projection.reduced)
        for ref in ir.refs(eq.rhs):
            for a, index in enumerate(ref.indices):
                if index.plain_variable in summed:
                    axes.setdefault(ref.name, set()).add(a)
    return axes


def plan_chunks(planned: PlannedProgram) -> ChunkPlan:
    """The chunk shape of every tensor of ``planned`` (``chunks=`` shapes as given)."""
    size, why = chunk_bytes(planned)
    given = planned.chunks if isinstance(planned.chunks, Mapping) else {}
    whole = contracted_axes(planned)
    shapes = {}
    for name, extents in planned.shapes.extents.items():
        extents = tuple(extents)
        if name in given:
            spec = tuple(n if c == -1 else c for c, n in zip(given[name], extents))
        else:
            summed = whole.get(name, set())
            kept = math.prod(n for a, n in enumerate(extents) if a in summed) * ELEMENT_BYTES
            spec = tuple(-1 if (a in summed and kept <= size) else "auto" for a in range(len(extents)))
        if not extents or 0 in extents:
            shapes[name] = extents
            continue
        normal = normalize_chunks(spec, extents, limit=size, dtype=np.float64)
        shapes[name] = tuple(max(c) for c in normal)
    blocks: dict[str, int] = {}
    for eq in planned.program.equations:
        for ref in (eq.lhs, *ir.refs(eq.rhs)):
            for a, index in enumerate(ref.indices):
                var = index.plain_variable
                if var and ref.name in shapes and a < len(shapes[ref.name]):
                    blocks[var] = min(blocks.get(var, shapes[ref.name][a]), shapes[ref.name][a])
    return ChunkPlan(size, why, shapes, blocks)
