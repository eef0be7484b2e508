"""Carriers a product does not need at known extents.

A factor ``R^0`` (a carrier: 1 wherever ``R`` has a position, whatever its value) bounds its indices to ``R``'s
extents; the gradient transform writes one wherever, before any data is seen, another read may be longer than the
forward's domain (``L_grad_W[d, m] = W[d, m]^0 L_grad_S[b, p, d] Merge[b, p, m]``: ``Merge`` is a concat, as long as
its heads make it). Once the extents are known, a carrier whose every index another factor of the same product reads
plainly, and not as a carrier, from an axis no longer than its own bounds nothing the others do not, and goes
unless an index it holds would then be summed over less than the product: a backend then sees the product it would
have had without it (a matrix product, concat's reshape) and computes the same numbers.
"""

from __future__ import annotations

from dataclasses import replace

from tlc.analysis.projection import occurrences, summed_over
from tlc.ir import nodes as ir
from tlc.ir.program import Program


def without_redundant_carriers(program: Program, extents: dict[str, tuple[int, ...]]) -> Program:
    """``program`` with every carrier its product does not need at ``extents`` left out (the same program when
    there is none)."""
    statements, changed = [], False
    for statement in program.statements:
        if isinstance(statement, ir.Equation):
            rhs = _pruned(statement.rhs, extents, _summed(statement))
            if rhs is not statement.rhs:
                statement, changed = replace(statement, rhs=rhs), True
        statements.append(statement)
    return replace(program, statements=tuple(statements)) if changed else program


def _pruned(rhs: ir.Expr, extents: dict, summed: set[str]) -> ir.Expr:
    """``rhs`` without the product factors ``R^0`` whose every index another factor of the same product reads
    plainly (itself or inside it, and not as a carrier) from an axis no longer than ``R``'s, so that the product
    keeps its indices and what it sums: a read in another term would leave the term without the index, and an
    index left to carriers alone is summed over them alone (``X1[k]^0 X2[k]^0`` counts ``k`` in the product,
    ``X2[k]^0`` by itself does not; ``T0[i, j + 1] avg= X0[] + X1[i] X1[k] X2[k] + X1[j]``'s gradient halved,
    TLC_FUZZ_SEED=1592606291); one at a time, so that a carrier left out bounds nothing for the next. An index
    ``summed`` must also be summed where it was (``_summed_in_place``)."""
    reads = [(path, node) for path, node in ir.with_paths(rhs)
             if isinstance(node, ir.Ref) and not (path and _is_carrier(ir.node_at(rhs, path[:-1])))]
    dropped: set[tuple[int, ...]] = set()
    for path, node in _product_factors(rhs):
        axes = _carrier_axes(node, extents)
        if axes is None or len(ir.children(ir.node_at(rhs, path[:-1]))) - _dropped_in(dropped, path[:-1]) <= 2:
            continue
        if not all(_summed_in_place(rhs, path, v, dropped) for v, _ in axes if v in summed):
            continue
        bound: dict[str, int] = {}
        for at, ref in reads:
            if at[:len(path) - 1] != path[:-1] or at[:len(path)] == path or any(at[:len(d)] == d for d in dropped):
                continue
            for variable, extent in _plain_axes(ref, extents):
                bound[variable] = min(extent, bound.get(variable, extent))
        if all(variable in bound and bound[variable] <= extent for variable, extent in axes):
            dropped.add(path)
    return _without(rhs, (), dropped) if dropped else rhs


def _summed(equation: ir.Equation) -> set[str]:
    """The indices a sum equation sums inside its right-hand side (``max=``, ``min=`` and ``avg=`` reduce theirs over
    the whole of it, wherever they occur)."""
    if equation.aggregator.reduction != "sum":
        return set()
    kept = {v for index in equation.lhs.indices for v in index.variables}
    return {v for _, v in occurrences(equation.rhs)} - kept


def _summed_in_place(rhs: ir.Expr, carrier: tuple[int, ...], variable: str, dropped: set) -> bool:
    """True when the projection sums ``variable`` over the same value without the carrier at ``carrier`` (and those
    ``dropped``): at the same node, or, where it summed it over the carrier's product, over a factor of that product
    (not a divisor) that alone holds the index now, which sums the same. Not over a node inside a compound factor:
    ``B[m]^0 G[k] * (1 - V[k, m]^2)`` would sum ``m`` over ``V`` alone, ``(sum_m V[k, m])^2`` (TLC_FUZZ_SEED=298)."""
    def under(at, prefixes):
        return any(at[:len(p)] == p for p in prefixes)

    paths = [at for at, v in occurrences(rhs) if v == variable and not under(at, dropped)]
    others = [at for at in paths if not under(at, (carrier,))]
    if not others:
        return False
    before, after = summed_over(rhs, paths), summed_over(rhs, others)
    product = carrier[:-1]
    return after == before or (before == product and after[:-1] == product
                               and not ir.node_at(rhs, product).inverted[after[-1]])


def _product_factors(expr: ir.Expr):
    """Every factor of a product (not a divisor) under ``expr``, with its path."""
    for path, node in ir.with_paths(expr):
        if isinstance(node, ir.Product):
            yield from ((path + (k,), factor) for k, factor in enumerate(node.factors) if not node.inverted[k])


def _dropped_in(dropped: set, product: tuple[int, ...]) -> int:
    return sum(1 for d in dropped if d[:-1] == product)


def _without(expr: ir.Expr, path: tuple[int, ...], dropped: set) -> ir.Expr:
    """``expr`` with the product factors at the ``dropped`` paths left out."""
    kids = ir.children(expr)
    new = tuple(_without(kid, path + (k,), dropped) for k, kid in enumerate(kids))
    if isinstance(expr, ir.Product):
        kept = [k for k in range(len(kids)) if path + (k,) not in dropped]
        return replace(expr, factors=tuple(new[k] for k in kept), inverted=tuple(expr.inverted[k] for k in kept))
    return ir.with_children(expr, new) if any(a is not b for a, b in zip(new, kids)) else expr


def _is_carrier(node: ir.Expr) -> bool:
    """True for ``R^0`` with ``R`` a reference."""
    return ir.is_zero_power(node) and isinstance(node.base, ir.Ref)


def _carrier_axes(factor: ir.Expr, extents: dict) -> list[tuple[str, int]] | None:
    """The plain indices of a carrier ``R^0`` over distinct plain indices with the extents of ``R``'s axes."""
    if not _is_carrier(factor):
        return None
    axes = _plain_axes(factor.base, extents)
    if not axes or len(axes) != len(factor.base.indices) or len({v for v, _ in axes}) != len(axes):
        return None
    return axes


def _plain_axes(ref: ir.Ref, extents: dict) -> list[tuple[str, int]]:
    """Each plain index variable of ``ref`` with the extent of the axis it reads (none when the extents are
    unknown)."""
    shape = extents.get(ref.name)
    if shape is None or len(shape) != len(ref.indices):
        return []
    return [(index.plain_variable, shape[a]) for a, index in enumerate(ref.indices)
            if index.plain_variable is not None and not index.virtual]
