"""Pass ``cse``: compute a product shared by several equations (or twice in one) once.

A product term qualifies when it joins at least two tensors read at plain indices or constants, sums
its own projected indices (so its value is a tensor over its other indices), and reads nothing of its
equation's own recursion. Occurrences equal up to a renaming of index variables become reads of one
new intermediate ``_cseN[...]``, defined by a new equation placed before the first use. Intermediates
are internal: they are not part of a program's results.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from tlc.ir import nodes as ir
from tlc.ir.program import Program
from tlc.analysis.projection import occurrences
from tlc.analysis.strata import stratify

PREFIX = "_cse"


def is_internal(name: str) -> bool:
    """True for tensors a pass introduced (not part of the user's results)."""
    return name.startswith(PREFIX)


def _rename_index(index: ir.Index, names: dict[str, str]) -> ir.Index:
    return replace(index, terms=tuple((names[v], c) for v, c in index.terms), span=None)


def _canonical(node: ir.Product, summed: tuple[str, ...]):
    """The product with variables renamed by first appearance, and the original free variables in order."""
    names: dict[str, str] = {}
    factors = []
    for factor in node.factors:
        if isinstance(factor, ir.Ref):
            for index in factor.indices:
                for v in index.variables:
                    names.setdefault(v, f"i{len(names)}")
            factors.append(replace(factor, indices=tuple(_rename_index(i, names) for i in factor.indices),
                                   span=None))
        else:
            factors.append(replace(factor, span=None))
    free = tuple(v for v in names if v not in summed)
    key = (tuple(factors), node.inverted, tuple(names[v] for v in summed if v in names))
    return key, free, names


def _eligible(node: ir.Expr, recursive: set[str]) -> bool:
    if not isinstance(node, ir.Product):
        return False
    refs = [f for f in node.factors if isinstance(f, ir.Ref)]
    if len(refs) < 2 or any(r.name in recursive or is_internal(r.name) for r in refs):
        return False
    if not all(isinstance(f, (ir.Ref, ir.Num, ir.Scalar)) for f in node.factors):
        return False
    return all(i.plain_variable or i.is_constant for r in refs for i in r.indices)


def cse(program: Program) -> Program:
    """Replace products repeated across equations by reads of one shared intermediate."""
    strata = stratify(program)
    same_scc = {k: set(s.tensors) if s.recursive else set() for s in strata for k in s.equations}
    found: dict[tuple, list[tuple[int, tuple[int, ...], tuple[str, ...], dict]]] = {}
    for k, eq in enumerate(program.equations):
        if eq.fact or eq.aggregator.reduction != "sum":
            continue
        lhs_vars = {v for i in eq.lhs.indices for v in i.variables}
        around: dict[str, tuple[int, ...]] = {}     # per variable, the path of the smallest node holding every use
        for spot, v in occurrences(eq.rhs):
            common = around.setdefault(v, spot)
            if spot[:len(common)] != common:
                around[v] = common[:next((n for n, (a, b) in enumerate(zip(common, spot)) if a != b), len(spot))]
        for path, node in ir.with_paths(eq.rhs):
            if _eligible(node, same_scc.get(k, set())):
                # indices used only inside this product are summed within it, wherever exactly
                inner = dict.fromkeys(v for f in node.factors if isinstance(f, ir.Ref)
                                      for i in f.indices for v in i.variables)
                local = tuple(v for v in inner
                              if v not in lhs_vars and around[v][:len(path)] == path)
                key, free, names = _canonical(node, local)
                found.setdefault(key, []).append((k, path, free, names))
    shared = [(key, uses) for key, uses in found.items() if len(uses) >= 2]
    if not shared:
        return program
    equations = list(program.equations)
    new_before: dict[int, list[ir.Equation]] = {}
    rewrites: dict[int, list[tuple[tuple[int, ...], ir.Expr]]] = {}
    taken = set(program.tensors)
    counter = 0
    for key, uses in shared:
        counter += 1
        while f"{PREFIX}{counter}" in taken:
            counter += 1
        name = f"{PREFIX}{counter}"
        factors, inverted, _ = key
        k0, path0, free0, names0 = uses[0]
        layout = _layout(free0, equations[k0].lhs)
        lhs = ir.Ref(name, tuple(ir.Index(((names0[free0[a]], 1),)) for a in layout))
        definition = ir.Equation(lhs, ir.Aggregator.SUM, ir.Product(factors, inverted))
        new_before.setdefault(min(k for k, *_ in uses), []).append(definition)
        for k, path, free, _ in uses:
            read = ir.Ref(name, tuple(ir.Index(((free[a], 1),)) for a in layout),
                          span=ir.node_at(equations[k].rhs, path).span)
            rewrites.setdefault(k, []).append((path, read))
    for k, changes in rewrites.items():
        equations[k] = replace(equations[k], rhs=_replace_all(equations[k].rhs, dict(changes)))
    statements, k = [], 0
    for stmt in program.statements:
        if isinstance(stmt, ir.Equation):
            statements.extend(new_before.get(k, ()))
            statements.append(equations[k])
            k += 1
        else:
            statements.append(stmt)
    return replace(program, statements=tuple(statements))


def _layout(free: tuple[str, ...], lhs: ir.Ref) -> tuple[int, ...]:
    """The positions of ``free`` in the shared tensor's axis order: the first use's left-hand side order, then the
    rest as they appear (an intermediate laid out as its reader's result needs no transposed copy: a transformer
    block's lnorm read ``_cse1[d, b, p]`` and normalised its first, strided axis)."""
    order = [v for i in lhs.indices for v in i.variables]
    return tuple(sorted(range(len(free)), key=lambda a: (order.index(free[a]) if free[a] in order else len(order), a)))


def _replace_all(expr: ir.Expr, changes: dict[tuple[int, ...], ir.Expr]) -> ir.Expr:
    """``expr`` with the node at each path of ``changes`` replaced, rebuilding every ancestor once (one at a time
    was quadratic in a sum of 10^4 shared products)."""
    if () in changes:
        return changes[()]
    below: dict[int, dict[tuple[int, ...], ir.Expr]] = {}
    for path, new in changes.items():
        below.setdefault(path[0], {})[path[1:]] = new
    kids = list(ir.children(expr))
    for k, sub in below.items():
        kids[k] = _replace_all(kids[k], sub)
    return ir.with_children(expr, tuple(kids))


@dataclass(frozen=True)
class CommonSubexpressions:
    """The ``cse`` pass: replace products repeated across equations by reads of one shared intermediate."""

    name: ClassVar[str] = "cse"

    def run(self, program: Program) -> Program:
        """The rewritten program."""
        return cse(program)
