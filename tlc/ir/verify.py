"""The IR verifier: invariants every pass must preserve (run between passes in tests and on request)."""

from __future__ import annotations

from tlc.ir import nodes as ir
from tlc.ir.nodes import FUNCTIONS, NORMALISERS
from tlc.ir.program import Program


class VerifyError(AssertionError):
    """A pass produced IR that breaks an invariant: a compiler bug, never a user error."""


def verify(program: Program) -> None:
    """Check the program's invariants; raise ``VerifyError`` naming the first one broken."""
    ranks: dict[str, tuple[int, bool]] = {}
    aggregators: dict[str, str] = {}

    def use(ref: ir.Ref, where: str) -> None:
        seen = ranks.setdefault(ref.name, (len(ref.indices), ref.relation))
        if seen != (len(ref.indices), ref.relation):
            raise VerifyError(f"{where}: {ref.name} used with rank/kind {(len(ref.indices), ref.relation)}, "
                              f"elsewhere {seen}")
        for index in ref.indices:
            if index.symbol is not None and index.terms:
                raise VerifyError(f"{where}: index of {ref.name} is both a constant and a variable expression")
            if any(c == 0 for _, c in index.terms) or index.divisor < 1:
                raise VerifyError(f"{where}: malformed index of {ref.name}")

    for k, eq in enumerate(program.equations):
        where = f"equation {k} ({eq.lhs.name})"
        use(eq.lhs, where)
        family = aggregators.setdefault(eq.lhs.name, eq.aggregator.reduction)
        if family != eq.aggregator.reduction:
            raise VerifyError(f"{where}: mixes {family} and {eq.aggregator.reduction}")
        lhs_vars = {v for i in eq.lhs.indices for v in i.variables}
        for node in ir.walk(eq.rhs):
            if isinstance(node, ir.Ref):
                use(node, where)
                if any(i.normalised for i in node.indices):
                    raise VerifyError(f"{where}: normalised mark on a right-hand side read")
            elif isinstance(node, ir.Call):
                if node.function not in FUNCTIONS:
                    raise VerifyError(f"{where}: unknown function {node.function}")
                if node.function in NORMALISERS and (not node.axes or not set(node.axes) <= lhs_vars):
                    raise VerifyError(f"{where}: {node.function} axes {node.axes} are not left-hand indices")
            elif isinstance(node, ir.Product) and len(node.factors) != len(node.inverted):
                raise VerifyError(f"{where}: product factors and inversion marks differ in length")
            elif isinstance(node, ir.Sum) and (len(node.terms) != len(node.signs) or
                                               any(s not in (1, -1) for s in node.signs)):
                raise VerifyError(f"{where}: malformed sum")
    for query in program.queries:
        use(query.atom, "query")
