"""The size of the terms a gradient program sums: its backward equations again, in absolute values.

Each backward equation ``A[...] = rhs`` gets a twin ``A_size[...]`` computing ``rhs`` with every term and factor
replaced by its absolute value (a subtraction becomes an addition, a read of a backward tensor ``B`` a read of
``B_size``, anything else ``abs`` of itself). The twin of a gradient bounds the sum of the absolute values of the
terms rounded on the way to it (a running error bound): float64 computes the gradient to within a few machine
epsilons per operation of that size, however much the terms cancel.
"""

from __future__ import annotations

import dataclasses

from tlc.gradient import Gradient
from tlc.gradient.names import Namer
from tlc.ir import nodes as ir


def with_sizes(gradient: Gradient) -> tuple[Gradient, dict[str, str]]:
    """``gradient`` with the twin of every backward equation appended (module docstring), and each ``wrt`` name ->
    the twin of its gradient (the tensor of the sizes of the terms summed into it)."""
    program = gradient.program
    names = Namer(program)
    twins = {}
    for eq, _ in gradient.origins:
        if eq.lhs.name not in twins:
            twins[eq.lhs.name] = names.fresh(f"{eq.lhs.name}_size")
    added = tuple(ir.Equation(dataclasses.replace(eq.lhs, name=twins[eq.lhs.name]), eq.aggregator,
                              _size(eq.rhs, twins), span=eq.span) for eq, _ in gradient.origins)
    sizes = {w: twins[g] for w, g in gradient.gradients.items() if g in twins}
    program = dataclasses.replace(program, statements=program.statements + added,
                                  outputs=program.outputs | frozenset(sizes.values()))
    return dataclasses.replace(gradient, program=program), sizes


def _size(node: ir.Expr, twins: dict[str, str]) -> ir.Expr:
    """``node`` with its terms and factors in absolute value (a backward tensor's read becomes its twin's)."""
    if isinstance(node, ir.Sum):
        return ir.Sum(tuple(_size(t, twins) for t in node.terms), (1,) * len(node.terms), span=node.span)
    if isinstance(node, ir.Product):
        factors = tuple(_absolute(f) if inverted else _size(f, twins)
                        for f, inverted in zip(node.factors, node.inverted))
        return ir.Product(factors, node.inverted, span=node.span)
    if isinstance(node, ir.Neg):
        return _size(node.operand, twins)
    if isinstance(node, ir.Num):
        return ir.Num(abs(node.value), span=node.span)
    if isinstance(node, ir.Ref) and node.name in twins:
        return dataclasses.replace(node, name=twins[node.name])
    return _absolute(node)


def _absolute(node: ir.Expr) -> ir.Expr:
    """``abs(node)``."""
    return ir.Call("abs", (node,), span=node.span)
