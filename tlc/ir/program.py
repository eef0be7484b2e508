"""A whole program: its statements, the tensors they mention, and the tensor/equation dependency graph."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tlc.ir.graphs import joined
from tlc.ir.nodes import Const, Domain, Equation, Query, Ref, Shape, Statement, refs, walk, Scalar

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True, slots=True)
class TensorInfo:
    """What the source says about one tensor name."""

    name: str
    rank: int
    relation: bool
    defined: bool
    """True when some equation or fact defines it (otherwise it is a pure input)."""
    first_use: Ref


@dataclass(frozen=True)
class Program:
    """A checked Tensor Logic program: statements in source order plus derived tables."""

    statements: tuple[Statement, ...]
    filename: str | None = field(default=None, compare=False)
    source: str | None = field(default=None, compare=False)
    outputs: frozenset[str] | None = None
    """The tensors the user asked for; None (the default) makes every defined tensor a result."""
    tolerance: float | None = None
    """The absolute error the user allows in approximated results (attention); None: exact only."""
    analyses: dict = field(default_factory=dict, init=False, compare=False, repr=False)
    """Results of analyses of later layers by analysis (the strata), kept so that the passes and the driver asking
    one program the same question compute the answer once; a rewritten program starts empty."""

    def is_result(self, name: str) -> bool:
        """True when ``name`` must be computed and returned: an output, or queried in the source."""
        return self.outputs is None or name in self.outputs or any(q.atom.name == name for q in self.queries)

    @functools.cached_property
    def equations(self) -> tuple[Equation, ...]:
        """Equations and facts, in source order."""
        return tuple(s for s in self.statements if isinstance(s, Equation))

    @functools.cached_property
    def queries(self) -> tuple[Query, ...]:
        """Queries, in source order."""
        return tuple(s for s in self.statements if isinstance(s, Query))

    @functools.cached_property
    def consts(self) -> dict[str, float | int]:
        """``const`` declarations by name."""
        return {s.name: s.value for s in self.statements if isinstance(s, Const)}

    @functools.cached_property
    def shapes(self) -> dict[str, Shape]:
        """``tensor``/``relation`` declarations by name."""
        return {s.name: s for s in self.statements if isinstance(s, Shape)}

    @functools.cached_property
    def domains(self) -> dict[str, Domain]:
        """``domain`` declarations by name."""
        return {s.name: s for s in self.statements if isinstance(s, Domain)}

    @functools.cached_property
    def references(self) -> tuple[Ref, ...]:
        """Every tensor reference in source order: each equation's left side then its reads, and queries."""
        found: list[Ref] = []
        for stmt in self.statements:
            if isinstance(stmt, Equation):
                found += [stmt.lhs, *refs(stmt.rhs)]
            elif isinstance(stmt, Query):
                found.append(stmt.atom)
        return tuple(found)

    @functools.cached_property
    def virtual_axes(self) -> dict[str, frozenset[int]]:
        """Per tensor, the axes some reference marks virtual (``*t``)."""
        found: dict[str, set[int]] = {}
        for ref in self.references:
            for a, index in enumerate(ref.indices):
                if index.virtual:
                    found.setdefault(ref.name, set()).add(a)
        return {name: frozenset(axes) for name, axes in found.items()}

    @functools.cached_property
    def tensors(self) -> dict[str, TensorInfo]:
        """Every tensor or relation mentioned, in order of first mention."""
        found: dict[str, TensorInfo] = {}
        defined = {eq.lhs.name for eq in self.equations}
        for ref in self.references:
            if ref.name not in found:
                found[ref.name] = TensorInfo(ref.name, len(ref.indices), ref.relation, ref.name in defined, ref)
        for name, decl in self.shapes.items():
            if name not in found:
                found[name] = TensorInfo(name, len(decl.dims), decl.relation, False,
                                         Ref(name, (), decl.relation, span=decl.span))
        return found

    @functools.cached_property
    def input_names(self) -> tuple[str, ...]:
        """Tensors read but never defined, then the scalar inputs: what a call must give data for."""
        return tuple(n for n, i in self.tensors.items() if not i.defined) + self.scalars

    @functools.cached_property
    def scalars(self) -> tuple[str, ...]:
        """Names used as scalar inputs (bare names that are not ``const``), in order of first use."""
        seen: dict[str, None] = {}
        for eq in self.equations:
            for node in walk(eq.rhs):
                if isinstance(node, Scalar) and node.name not in self.consts:
                    seen.setdefault(node.name)
        return tuple(seen)

    @functools.cached_property
    def symbols(self) -> tuple[str | int, ...]:
        """Named constants in the source: domain members first, then in order of appearance."""
        seen: dict[str | int, None] = {}
        for domain in self.domains.values():
            for member in domain.members:
                seen.setdefault(member)
        for ref in self.references:
            for index in ref.indices:
                if index.symbol is not None:
                    seen.setdefault(index.symbol)
        return tuple(seen)

    @functools.cached_property
    def symbol_axes(self) -> frozenset[tuple[str, int]]:
        """(tensor, axis) pairs the source gives a named constant: a symbol, a negative integer of a relation, or a
        declared axis over a domain (what makes a domain symbolic, besides names in the data)."""
        found = {(ref.name, a) for ref in self.references for a, i in enumerate(ref.indices)
                 if i.symbol is not None or (ref.relation and i.is_constant and i.offset < 0)}
        found |= {(decl.name, a) for decl in self.shapes.values() for a, d in enumerate(decl.dims) if isinstance(d, str)}
        return frozenset(found)

    @functools.cached_property
    def integer_indices(self) -> tuple[tuple[str, int, int], ...]:
        """(tensor, axis, integer) for every integer constant written as an index, in source order."""
        return tuple((ref.name, a, i.offset) for ref in self.references for a, i in enumerate(ref.indices)
                     if i.is_constant and i.symbol is None)

    @functools.cached_property
    def graph(self) -> nx.DiGraph:
        """Dependency graph: tensor name -> equation number (reads) and equation -> tensor (writes)."""
        import networkx as nx       # only the gradient's analyses need it: not imported by every compile
        g = nx.DiGraph()
        for name in self.tensors:
            g.add_node(name, kind="tensor")
        for k, eq in enumerate(self.equations):
            g.add_node(k, kind="equation")
            g.add_edge(k, eq.lhs.name)
            for ref in refs(eq.rhs):
                g.add_edge(ref.name, k)
        return g

    @functools.cached_property
    def joined_axes(self) -> tuple[frozenset[tuple[str, int]], ...]:
        """Groups of (tensor, axis) joined by a shared plain index variable in some equation (each group is one
        domain), computed once per program: every call's input check reads them."""
        chains = []
        for eq in self.equations:
            by_var: dict[str, list[tuple[str, int]]] = {}
            for ref in (eq.lhs, *refs(eq.rhs)):
                for a, index in enumerate(ref.indices):
                    if index.plain_variable:
                        by_var.setdefault(index.plain_variable, []).append((ref.name, a))
            chains.extend(by_var.values())
        axes = ((name, a) for name, info in self.tensors.items() for a in range(info.rank))
        return tuple(joined(axes, chains))

    @functools.cached_property
    def _definitions(self) -> dict[str, tuple[int, ...]]:
        found: dict[str, list[int]] = {}
        for k, eq in enumerate(self.equations):
            found.setdefault(eq.lhs.name, []).append(k)
        return {name: tuple(ks) for name, ks in found.items()}

    def defining(self, name: str) -> tuple[int, ...]:
        """Numbers of the equations whose left-hand side is ``name``."""
        return self._definitions.get(name, ())

    def reduction(self, name: str) -> str:
        """How the equations defining ``name`` combine contributions: ``sum``, ``max``, ``min`` or ``avg``."""
        return self.equations[self.defining(name)[0]].aggregator.reduction
