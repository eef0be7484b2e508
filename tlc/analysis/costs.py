"""Planned contraction costs of an equation's product terms, for ``explain`` and the factorise report."""

from __future__ import annotations

import opt_einsum

from tlc.contract import ContractionInfo, contract_path
from tlc.errors import TlcError
from tlc.ir import nodes as ir
from tlc.analysis.projection import analyse


def product_plans(eq: ir.Equation, ranges: dict, memory_limit: int | None = None
                  ) -> list[tuple[str, list, ContractionInfo]]:
    """``(subscripts, path, info)`` for every product with two or more tensor operands, given index ranges."""
    out = []
    projection = analyse(eq)
    summed = {v for vs in projection.summed_at.values() for v in vs}
    for node in ir.walk(eq.rhs):
        if not isinstance(node, ir.Product):
            continue
        operands = [f for f in node.factors if isinstance(f, ir.Ref) and f.indices]
        if len(operands) < 2:
            continue
        letters: dict[str, str] = {}
        for ref in operands:
            for i in ref.indices:
                for v in i.variables:
                    letters.setdefault(v, opt_einsum.get_symbol(len(letters)))
        terms = ["".join(letters[v] for i in r.indices for v in i.variables[:1]) for r in operands]
        subscripts = f"{','.join(terms)}->{''.join(letters[v] for v in letters if v not in summed)}"
        shapes = [tuple(ranges[v][1] - ranges[v][0] for i in r.indices for v in i.variables[:1]) for r in operands]
        try:
            path, info = contract_path(subscripts, *shapes, shapes=True, memory_limit=memory_limit)
        except TlcError:
            continue
        out.append((subscripts, path, info))
    return out


def equation_flops(eq: ir.Equation, ranges: dict) -> float:
    """Planned FLOPs of all of an equation's product terms (opt_einsum's convention)."""
    return sum(float(info.opt_cost) for _, _, info in product_plans(eq, ranges))
