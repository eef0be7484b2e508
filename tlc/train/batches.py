"""Minibatches: which data tensors are sampled, along which axis.

The rule: the batch axis is the first axis of the first data tensor (in the program's order of first mention)
that has one. An axis is joined to another when one equation reads or writes both with the same plain index
variable (``X[n, j]`` and ``Y[n, k]`` share ``n``), and joins chain across equations. Every data tensor whose
first axis is joined to the batch axis is sampled along its first axis with the same rows; other data passes
whole. Each step draws ``batch`` distinct rows uniformly at random (a fresh draw every step).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tlc.errors import TlcError
from tlc.ir import nodes as ir
from tlc.ir.program import Program

if TYPE_CHECKING:
    import networkx as nx


def _axis_graph(program: Program) -> nx.Graph:
    """Nodes ``(tensor, axis)``, edges between axes one equation indexes with the same plain variable."""
    import networkx as nx       # training's graphs: not imported by ``import tlc``
    graph = nx.Graph()
    for eq in program.equations:
        by_variable: dict[str, list[tuple[str, int]]] = {}
        for ref in (eq.lhs, *ir.refs(eq.rhs)):
            for a, index in enumerate(ref.indices):
                graph.add_node((ref.name, a))
                if index.plain_variable is not None:
                    by_variable.setdefault(index.plain_variable, []).append((ref.name, a))
        for axes in by_variable.values():
            nx.add_path(graph, axes)
    return graph


def batched(program: Program, data: dict, learned) -> tuple[str, ...]:
    """The data tensors sampled along their first axis (the module's rule); a located TlcError when a learned
    tensor has the batch axis."""
    ranked = [n for n in program.tensors if n in data and np.ndim(data[n]) >= 1]
    if not ranked:
        raise TlcError("--batch needs a data tensor with at least one axis to sample rows of",
                       filename=program.filename)
    import networkx as nx
    graph = _axis_graph(program)
    joined = nx.node_connected_component(graph, (ranked[0], 0)) if (ranked[0], 0) in graph else {(ranked[0], 0)}
    for name in learned:
        if any((name, a) in joined for a in range(program.tensors[name].rank)):
            raise TlcError(f"cannot batch: the learned tensor {name!r} has the batch axis of {ranked[0]!r}",
                           program.tensors[name].first_use.span, filename=program.filename, source=program.source)
    return tuple(n for n in ranked if (n, 0) in joined)


def sample(data: dict, names: tuple[str, ...], batch: int, rng: np.random.Generator) -> dict:
    """``data`` with ``batch`` random distinct rows of each tensor in ``names`` (the same rows for all)."""
    rows = len(data[names[0]])
    if batch >= rows:
        return data
    chosen = np.sort(rng.choice(rows, size=batch, replace=False))
    return {**data, **{n: np.asarray(data[n])[chosen] for n in names}}
