"""Which axes of a program's tensors are at least as long as their domain, known before any data is seen.

The driver checks that the input tensors joined by a plain index variable (one domain) have one extent, D. An
equation's variable read only plainly (``X[i]``, never ``X[i + 1]``) from axes of extent at least D ranges at least
over D under valid semantics, so a left-hand axis it writes plainly is at least D long, whatever the other
equations of that tensor or data given for it add. The gradient transform uses this to leave out the zero base of a
gradient (``L_grad_X[i] = 0 * X[i]^0``) whose equations already give it ``X``'s whole extent.
"""

from __future__ import annotations

from collections.abc import Iterable

from tlc.ir import nodes as ir

Axis = tuple[str, int]


def full_axes(equations: Iterable[ir.Equation], declared: Iterable[str]) -> set[Axis]:
    """The axes, of the tensors ``equations`` read or define, known to be at least their domain's input extent:
    every axis of an input, and a left-hand axis that some equation writes plainly from a variable it reads only
    plainly and only from such axes (a least fixpoint: a recursion's own reads never count). A tensor in
    ``declared`` (a ``tensor`` declaration fixes its extent) counts only if it is an input."""
    equations = list(equations)
    defined = {eq.lhs.name for eq in equations}
    full = {(r.name, a) for eq in equations for r in ir.refs(eq.rhs) if r.name not in defined
            for a in range(len(r.indices))}
    candidates = [eq for eq in equations if eq.lhs.name not in set(declared)]
    grown = True
    while grown:
        grown = False
        for eq in candidates:
            for a, index in enumerate(eq.lhs.indices):
                if (eq.lhs.name, a) not in full and _spans_its_domain(eq, index, full):
                    full.add((eq.lhs.name, a))
                    grown = True
    return full


def exact_axes(equations: Iterable[ir.Equation], declared: Iterable[str], full: set[Axis]) -> set[Axis]:
    """The axes, among ``full``, known to be exactly their domain's input extent: every axis of an input, and a
    left-hand axis that every equation of its tensor writes plainly from a variable it reads only plainly, only from
    axes in ``full`` and at least once from an axis known exact (a least fixpoint). A declared tensor's axes count only
    if it is an input; an axis some equation writes at a constant (``R0[0] = 1``) or at a computed position never."""
    equations = list(equations)
    defined: dict[str, list[ir.Equation]] = {}
    for eq in equations:
        defined.setdefault(eq.lhs.name, []).append(eq)
    exact = {axis for axis in full if axis[0] not in defined}
    candidates = {(name, a) for name, eqs in defined.items() if name not in set(declared)
                  for a in range(len(eqs[0].lhs.indices)) if (name, a) in full}
    grown = True
    while grown:
        grown = False
        for name, a in sorted(candidates - exact):
            if all(_spans_its_domain(eq, eq.lhs.indices[a], full) and
                   _reads_one_of(eq.lhs.indices[a].plain_variable, eq.rhs, exact) for eq in defined[name]):
                exact.add((name, a))
                grown = True
    return exact


def _reads_one_of(variable: str, expr: ir.Expr, axes: set[Axis]) -> bool:
    """True when ``expr`` reads ``variable`` plainly from some axis in ``axes``."""
    return any(i.plain_variable == variable and (r.name, a) in axes
               for r in ir.refs(expr) for a, i in enumerate(r.indices))


def joined(equations: Iterable[ir.Equation], first: Axis, second: Axis) -> bool:
    """True when ``equations`` join the axes ``first`` and ``second`` into one domain (a chain of plain index
    variables shared by the tensors of an equation)."""
    parent: dict[Axis, Axis] = {}

    def root(axis: Axis) -> Axis:
        while parent.get(axis, axis) != axis:
            axis = parent[axis]
        return axis

    for eq in equations:
        spots: dict[str, Axis] = {}
        for ref in (eq.lhs, *ir.refs(eq.rhs)):
            for a, index in enumerate(ref.indices):
                variable = index.plain_variable
                if variable is not None:
                    parent[root((ref.name, a))] = root(spots.setdefault(variable, (ref.name, a)))
    return root(first) == root(second)


def reads_span_their_domain(variable: str, expr: ir.Expr, full: set[Axis]) -> bool:
    """True when ``expr`` reads ``variable`` at least once, always plainly, and only from axes in ``full``."""
    spots = [(r.name, a, i) for r in ir.refs(expr) for a, i in enumerate(r.indices) if variable in i.variables]
    return bool(spots) and all(i.plain_variable == variable and not i.virtual and (name, a) in full
                               for name, a, i in spots)


def _spans_its_domain(eq: ir.Equation, index: ir.Index, full: set[Axis]) -> bool:
    """True when ``index``, on ``eq``'s left-hand side, is a plain variable written once that ``eq`` reads only
    plainly from axes in ``full``."""
    variable = index.plain_variable
    if variable is None or index.virtual:
        return False
    written = sum(variable in i.variables for i in eq.lhs.indices)
    return written == 1 and reads_span_their_domain(variable, eq.rhs, full)
