"""Concat's selectors: the 0/1 tensors through which concat's adjoint reads the merged tensor's
(``tlc.gradient.rules._concat``).

``select[a1, .., ak, m] = concat(eye[a1, .., ak, a1', .., ak'])`` with ``eye`` a product of all-ones factors and one
Kronecker delta ``1 - step(abs(ai - ai'))`` per pair is 1 where ``m`` is the row-major position of ``(a1, .., ak)``
among their extents, else 0, when ``eye``'s extents are ``(n1, .., nk, n1, .., nk)`` (``selector_axes`` checks them).
A contraction ``X[.., m] select[a1, .., ak, m]`` is then ``X`` with its axis ``m`` split into ``a1, .., ak``: a
backend may compute it as a reshape instead of a product summing a one-hot.
"""

from __future__ import annotations

import math

from tlc.ir import nodes as ir
from tlc.ir.program import Program


def selectors(program: Program, extents: dict[str, tuple[int, ...]]) -> frozenset[str]:
    """The tensors of ``program`` that are concat selectors at these ``extents`` (see the module notes)."""
    return frozenset(name for name, info in program.tensors.items()
                     if info.defined and _is_selector(program, name, extents))


def _is_selector(program: Program, name: str, extents: dict[str, tuple[int, ...]]) -> bool:
    eq = _sole_sum(program, name)
    if eq is None or not isinstance(eq.rhs, ir.Call) or eq.rhs.function != "concat" \
            or not isinstance(eq.rhs.args[0], ir.Ref):
        return False
    kept, eye = _plain(eq.lhs)[:-1], eq.rhs.args[0]
    pairs = _plain(eye)
    if not kept or pairs is None or len(pairs) != 2 * len(kept) or pairs[:len(kept)] != kept \
            or set(pairs[len(kept):]) & set(_plain(eq.lhs)):
        return False
    sizes = extents.get(name, ())
    if not sizes or extents.get(eye.name) != sizes[:-1] * 2 or math.prod(sizes[:-1]) != sizes[-1]:
        return False
    definition = _sole_sum(program, eye.name)
    if definition is None or not isinstance(definition.rhs, ir.Product) or any(definition.rhs.inverted):
        return False
    variables = _plain(definition.lhs)
    half = len(kept)
    deltas = {(variables[i], variables[half + i]) for i in range(half)}
    for factor in definition.rhs.factors:
        pair = _delta(factor)
        if pair is not None and pair in deltas:
            deltas.discard(pair)
        elif not _all_ones(program, factor):
            return False
    return not deltas


def _sole_sum(program: Program, name: str) -> ir.Equation | None:
    """The one equation defining ``name`` when it is a sum over distinct plain indices, else None."""
    defining = program.defining(name)
    if len(defining) != 1:
        return None
    eq = program.equations[defining[0]]
    return eq if eq.aggregator.reduction == "sum" and not eq.fact and _plain(eq.lhs) is not None else None


def _plain(ref: ir.Ref) -> tuple[str, ...] | None:
    """The variables of ``ref``'s indices when each is one distinct plain variable, else None."""
    variables = tuple(index.plain_variable for index in ref.indices)
    return variables if None not in variables and len(set(variables)) == len(variables) else None


def _delta(node: ir.Expr) -> tuple[str, str] | None:
    """``(x, y)`` when ``node`` is ``1 - step(abs(x - y))`` over index values, else None."""
    if not (isinstance(node, ir.Sum) and node.signs == (1, -1) and isinstance(node.terms[0], ir.Num)
            and node.terms[0].value == 1):
        return None
    step = node.terms[1]
    if not (isinstance(step, ir.Call) and step.function == "step" and len(step.args) == 1):
        return None
    absolute = step.args[0]
    if not (isinstance(absolute, ir.Call) and absolute.function == "abs" and len(absolute.args) == 1):
        return None
    difference = absolute.args[0]
    if not (isinstance(difference, ir.Sum) and difference.signs == (1, -1)
            and all(isinstance(t, ir.IndexValue) for t in difference.terms)):
        return None
    return difference.terms[0].name, difference.terms[1].name


def _all_ones(program: Program, node: ir.Expr) -> bool:
    """True for ``X^0`` (1 for any X) or a read of a tensor whose one equation is such a power."""
    if isinstance(node, ir.Power):
        return ir.is_zero_power(node)
    if isinstance(node, ir.Ref):
        eq = _sole_sum(program, node.name)
        return eq is not None and _all_ones(program, eq.rhs) and not isinstance(eq.rhs, ir.Ref)
    return False
