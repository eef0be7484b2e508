"""Safety of negation: every variable of a negated atom must be bound by a positive atom."""

from __future__ import annotations

from tlc.errors import TlcError
from tlc.ir import nodes as ir


def _split(expr: ir.Expr, negated: bool, positive: list[ir.Ref], under_not: list[ir.Ref]) -> None:
    if isinstance(expr, ir.Ref):
        (under_not if negated else positive).append(expr)
    for child in ir.children(expr):
        _split(child, negated or (isinstance(expr, ir.Call) and expr.function == "not"), positive, under_not)


def check_safety(equation: ir.Equation) -> None:
    """Raise a located TlcError if a variable occurs only inside negated atoms (``~R(x)``)."""
    positive: list[ir.Ref] = []
    negated: list[ir.Ref] = []
    _split(equation.rhs, False, positive, negated)
    bound = {v for ref in positive for index in ref.indices for v in index.variables}
    for ref in negated:
        for index in ref.indices:
            for v in index.variables:
                if v not in bound:
                    raise TlcError(f"unsafe negation: {v} occurs only inside a negated atom; bind it with a "
                                   f"positive atom in the same equation, as in Node({v}) ~{ref.name}(...)",
                                   index.span or ref.span)
