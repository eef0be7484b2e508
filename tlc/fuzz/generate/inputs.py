"""Inputs for generated programs: one extent per joined axis, non-zero multiples of 1/4 as data, relations
true on about a given density of their tuples; and ``cases()``, programs paired with their inputs."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from tlc.analysis.shapes import axis_components, symbolic_axes
from tlc.fuzz.generate.records import as_fuzz_program
from tlc.fuzz.generate.templates import programs
from tlc.ir import nodes as ir
from tlc.ir.program import Program as IRProgram


def _dyadic(rng: np.random.Generator, shape) -> np.ndarray:
    """Non-zero multiples of 1/4 in [-2, 2]."""
    choices = np.array([k for k in range(-8, 9) if k], dtype=np.float64) / 4
    return rng.choice(choices, size=shape)


def symbol_table(prog: IRProgram, symbolic) -> tuple:
    """The named constants of ``prog``, then integers written on named-constant axes (they are constants too)."""
    table = list(prog.symbols)
    atoms = [ref for eq in prog.equations for ref in (eq.lhs, *ir.refs(eq.rhs))] + [q.atom for q in prog.queries]
    for ref in atoms:
        for a, index in enumerate(ref.indices):
            if index.is_constant and index.symbol is None and (ref.name, a) in symbolic and index.offset not in table:
                table.append(index.offset)
    return tuple(table)


def inputs_for(program, density: float = 0.3, min_extent: int = 1, max_extent: int = 4,
               relations_as: str = "mixed") -> st.SearchStrategy:
    """Inputs for ``program`` (a ``FuzzProgram``, IR program or source): a dict of arrays and scalars.

    Axes joined by a shared index get one extent (``min_extent..max_extent``; named-constant axes span
    the program's constants; declared shapes are kept). Numeric tensors hold non-zero multiples of 1/4 in
    [-2, 2], scalars multiples of 1/4 in [1/4, 2]; each relation is true on about ``density`` of its
    tuples (at least one), given as a bool array or, with ``relations_as="tuples"`` (or by chance with
    ``"mixed"``), as a list of tuples.
    """
    if relations_as not in ("arrays", "tuples", "mixed"):
        raise ValueError(f"relations_as must be 'arrays', 'tuples' or 'mixed', not {relations_as!r}")
    fuzz = as_fuzz_program(program)
    prog = fuzz.ir
    inputs = fuzz.input_names()
    tensors = [n for n in inputs if n in prog.tensors]
    supplied = [n for n in fuzz.supplied if n in prog.tensors and n not in tensors]
    symbolic = symbolic_axes(prog, set())
    symbols = symbol_table(prog, symbolic)
    declared = {name: shape.dims for name, shape in prog.shapes.items()}
    components = sorted((sorted(c, key=lambda s: (list(prog.tensors).index(s[0]), s[1]))
                         for c in axis_components(prog)), key=lambda c: (list(prog.tensors).index(c[0][0]), c[0][1]))

    if not tensors and not supplied and not prog.scalars:
        return st.just({})
    held = {c for c, component in enumerate(components) if any(name in tensors for name, _ in component)}
    spans = _equation_spans(prog, components, held)

    @st.composite
    def build(draw):
        sizes: list[int | None] = []      # per component: its extent, None where no input holds it
        drawn: set[int] = set()
        for c, component in enumerate(components):
            if c not in held:
                sizes.append(None)
                continue
            fixed = [declared[n][a] for n, a in component if n in declared and isinstance(declared[n][a], int)]
            if set(component) & symbolic:
                sizes.append(len(symbols))
            elif fixed:
                sizes.append(fixed[0])
            else:
                sizes.append(draw(st.integers(min_extent, max_extent)))
                drawn.add(c)
        _bound_index_spaces(spans, sizes, drawn, min_extent)
        extent = {spot: size for component, size in zip(components, sizes) if size is not None for spot in component}
        for name in supplied:        # data for a defined tensor: its shape is only a lower bound on the extent
            for a in range(prog.tensors[name].rank):
                dims = declared.get(name)
                if (name, a) in symbolic:
                    extent[(name, a)] = len(symbols)
                elif dims is not None and isinstance(dims[a], int):
                    extent[(name, a)] = dims[a]
                else:
                    extent[(name, a)] = draw(st.integers(min_extent, max_extent))
        values: dict = {}
        for name in tensors + supplied:
            info = prog.tensors[name]
            shape = tuple(extent[(name, a)] for a in range(info.rank))
            rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
            if not info.relation:
                values[name] = _dyadic(rng, shape)
                continue
            mask = np.asarray(rng.random(shape) < density)
            if mask.size and not mask.any():
                mask[tuple(int(rng.integers(0, s)) for s in shape)] = True
            as_tuples = info.rank > 0 and (relations_as == "tuples"
                                           or (relations_as == "mixed" and draw(st.booleans())))
            if as_tuples:
                rows = []
                for position in np.argwhere(mask):
                    rows.append(tuple(symbols[int(p)] if (name, a) in symbolic else int(p)
                                      for a, p in enumerate(position)))
                values[name] = rows
            else:
                values[name] = mask
        for name in fuzz.ir.scalars:
            values[name] = float(draw(st.integers(1, 8))) / 4
        return values

    return build()


INDEX_SPACE_CAP = 1 << 24
"""Positions of one equation's index space (the product of its variables' extents) that drawn extents keep under
(a temporary over all of them: 128 MiB of float64). An equation over many variables gets smaller extents instead of
a run over the memory budget or the time limit: ``tlc fuzz --max-extent 12`` drew 12^10 positions."""


def _equation_spans(prog: IRProgram, components, held: set[int]) -> list[list[int]]:
    """Per equation, the component (by index into ``components``) of each of its variables that an axis of a
    component in ``held`` (one an input holds, so an extent is drawn for it) reads plainly."""
    component_of = {spot: c for c, component in enumerate(components) for spot in component}
    spans = []
    for eq in prog.equations:
        variables: dict[str, int] = {}
        for ref in (eq.lhs, *ir.refs(eq.rhs)):
            for a, index in enumerate(ref.indices):
                c = component_of.get((ref.name, a))
                if index.plain_variable is not None and c in held:
                    variables.setdefault(index.plain_variable, c)
        spans.append(list(variables.values()))
    return spans


def _bound_index_spaces(spans: list[list[int]], sizes: list, drawn: set[int], min_extent: int) -> None:
    """Halve the largest drawn extents of each equation (``sizes``, per component, in place; ``spans``, its
    variables' components, from ``_equation_spans``) until its variables' extents multiply to at most
    ``INDEX_SPACE_CAP``; an equation under it keeps its draws."""
    for span in spans:
        while math.prod(sizes[c] for c in span) > INDEX_SPACE_CAP:
            shrinkable = [c for c in span if c in drawn and sizes[c] > min_extent]
            if not shrinkable:
                break
            largest = max(shrinkable, key=lambda c: sizes[c])
            sizes[largest] = max(min_extent, sizes[largest] // 2)


def cases(density: float = 0.3, **program_options) -> st.SearchStrategy:
    """``(program, inputs)`` pairs: ``programs(**program_options)`` with ``inputs_for`` each."""
    max_extent = program_options.get("max_extent", 4)
    return programs(**program_options).flatmap(
        lambda p: st.tuples(st.just(p), inputs_for(p, density=density, max_extent=max_extent)))
