"""Projection analysis: where each index absent from the left-hand side is summed out.

An index is summed over the smallest product (a chain of juxtaposition, ``*`` and ``/``; a single
tensor reference counts as a product of one) that contains all its occurrences; if no product contains
them all, over the smallest enclosing sub-expression. With ``max=``, ``min=`` and ``avg=`` the missing
indices are instead reduced by that aggregator over the whole right-hand side. Indices inside a
``concat`` argument that are not on the left-hand side are flattened by the concat, not summed.
"""

from __future__ import annotations

from dataclasses import dataclass

from tlc.errors import TlcError
from tlc.ir import nodes as ir

Path = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Projection:
    """Summed indices per node path, indices reduced at the top by the aggregator, concat indices."""

    summed_at: dict[Path, tuple[str, ...]]
    reduced: tuple[str, ...]
    flattened: tuple[str, ...]


def occurrences(expr: ir.Expr, path: Path = ()):
    """Yield (path, variable) for every index variable occurrence, in left-to-right order."""
    if isinstance(expr, ir.Ref):
        for index in expr.indices:
            for v in index.variables:
                yield path, v
    elif isinstance(expr, ir.IndexValue):
        yield path, expr.name
    for k, child in enumerate(ir.children(expr)):
        yield from occurrences(child, path + (k,))


def _common_prefix(paths: list[Path]) -> Path:
    first = paths[0]
    n = min(len(p) for p in paths)
    k = 0
    while k < n and all(p[k] == first[k] for p in paths):
        k += 1
    return first[:k]


def analyse(eq: ir.Equation) -> Projection:
    """Decide where every projected index of ``eq`` is summed or reduced."""
    lhs_vars = {v for index in eq.lhs.indices for v in index.variables}
    paths: dict[str, list[Path]] = {}
    for path, v in occurrences(eq.rhs):
        paths.setdefault(v, []).append(path)
    flattened = _concat_variables(eq, lhs_vars)
    projected = [v for v in paths if v not in lhs_vars and v not in flattened]
    if eq.aggregator.reduction != "sum":
        return Projection({}, tuple(projected), tuple(flattened))
    summed_at: dict[Path, list[str]] = {}
    for v in projected:
        summed_at.setdefault(summed_over(eq.rhs, paths[v]), []).append(v)
    return Projection({p: tuple(vs) for p, vs in summed_at.items()}, (), tuple(flattened))


def summed_over(rhs: ir.Expr, paths: list[Path]) -> Path:
    """Where an index occurring at ``paths`` in ``rhs`` (not on the left-hand side) is summed: the smallest product
    or reference holding them all, else their smallest common sub-expression."""
    lca = _common_prefix(paths)
    spot = lca
    while spot and not isinstance(ir.node_at(rhs, spot), (ir.Product, ir.Ref)):
        spot = spot[:-1]
    return spot if isinstance(ir.node_at(rhs, spot), (ir.Product, ir.Ref)) else lca


def _concat_variables(eq: ir.Equation, lhs_vars: set[str]) -> list[str]:
    calls = [(p, n) for p, n in ir.with_paths(eq.rhs) if isinstance(n, ir.Call) and n.function == "concat"]
    if not calls:
        return []
    if len(calls) > 1 or calls[0][0] != ():
        raise TlcError("concat must be the whole right-hand side of its equation", calls[0][1].span)
    inner = list(dict.fromkeys(v for _, v in occurrences(calls[0][1])))
    flattened = [v for v in inner if v not in lhs_vars]
    new = [i.plain_variable for i in eq.lhs.indices if i.plain_variable and i.plain_variable not in inner]
    if len(new) != 1 or not flattened:
        raise TlcError("concat(X[...]) needs exactly one left-hand index that X lacks (the merged axis) and "
                       "at least one index of X missing from the left-hand side", calls[0][1].span)
    return flattened

