"""The ``factorise`` pass: replace input weight tensors by low-rank factors and rewrite the equations that read them.

The pass needs the tensors' values, so it is opt-in and runs when they are known (weights bound with
``tlc.compile(..., weights=)``, or the first call that supplies them; see docs/language.md, "Low-rank
factorisation"). Every read ``W[i, j]`` becomes a product of factor reads sharing fresh rank indices, e.g.
``W_svd0[i, w_r0_0] W_svd1[w_r0_0, j]``; a read that is a factor of a product is spliced into that product,
so the contraction planner orders the factors with the other operands. The factors are new input tensors.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np

from tlc.errors import TlcError
from tlc.factorise.decompositions import Decomposition, Leg, decompose
from tlc.factorise.options import DEFAULT_REL_ERR, Budget, FactoriseOptions, options_from
from tlc.ir import nodes as ir
from tlc.ir.program import Program


@dataclass(frozen=True)
class Outcome:
    """What the pass did with one tensor: its factors and their cost, or why it kept the tensor dense."""

    tensor: str
    budget: Budget
    dense_elements: int
    decomposition: Decomposition | None
    """The chosen factorisation (also set when it was kept dense for not saving anything; None when no
    factorisation met the budget)."""
    factors: tuple[str, ...] = ()
    """Names of the factor tensors that replace it (empty when kept dense)."""
    kept_dense: str | None = None
    """Why the tensor was not replaced, or None when it was."""


def targets(program: Program, options: FactoriseOptions | None) -> dict[str, Budget]:
    """Tensors to factorise and their budgets: ``factorise(...)`` declarations, then the options (which win)."""
    chosen: dict[str, Budget] = {}
    for name, shape in program.shapes.items():
        if shape.factorise is not None:
            decl = shape.factorise
            default = options.default if options else Budget()
            chosen[name] = Budget(default.rel_err if decl.rel_err is None else decl.rel_err,
                                  decl.method or default.method)
    if options is not None and options.tensors is None:
        for name, info in program.tensors.items():
            if name not in chosen and _unsuitable(program, name) is None:
                chosen[name] = replace(options.default, named=False)
    elif options is not None:
        for name, own in options.tensors.items():
            if name not in program.tensors:
                raise TlcError(f"cannot factorise {name}: the program has no tensor {name}")
            chosen[name] = own
    for name in chosen:
        reason = _unsuitable(program, name)
        if reason:
            info = program.tensors[name]
            span = program.shapes[name].span if name in program.shapes else info.first_use.span
            raise TlcError(f"cannot factorise {name}: {reason}", span)
    return chosen


def _unsuitable(program: Program, name: str) -> str | None:
    """Why ``name`` cannot be factorised, or None."""
    info = program.tensors[name]
    if info.relation:
        return "it is a relation (densify relations with tlc.factorise.densify)"
    if info.defined:
        return "an equation defines it; only input tensors (weights) can be factorised"
    if info.rank < 2:
        return f"it has rank {info.rank}; factorisation needs rank 2 or more"
    if name in program.virtual_axes:
        return "it has a virtual (step) axis"
    return None


def decide(program: Program, values: Mapping[str, np.ndarray], budgets: Mapping[str, Budget]) -> tuple[Outcome, ...]:
    """Factorise every tensor of ``budgets`` whose value is given, keeping dense those whose factors would not
    save memory or whose budget no rank meets."""
    outcomes = []
    for name, own in budgets.items():
        if name not in values:
            continue
        size = values[name].size
        try:
            found = decompose(values[name], own.rel_err, own.method)
        except TlcError as err:
            if own.named:
                raise TlcError(f"cannot factorise {name}: {err.message}",
                               program.tensors[name].first_use.span) from None
            outcomes.append(Outcome(name, own, size, None, kept_dense=err.message))
            continue
        reason = None
        if found.elements >= size:
            reason = (f"rel_err={own.rel_err:g} needs ranks {found.ranks} ({found.method}), whose factors hold "
                      f"{found.elements} numbers, not fewer than the {size} of the dense tensor")
        else:
            reason = factor_blocker(program, name)
        outcomes.append(Outcome(name, own, size, found, kept_dense=reason) if reason else
                        Outcome(name, own, size, found, _factor_names(program, name, found)))
    return tuple(outcomes)


def factorise(program: Program, outcomes: tuple[Outcome, ...]) -> tuple[Program, dict[str, np.ndarray]]:
    """The pass: rewrite ``program`` for every outcome that replaces its tensor; also returns the factor arrays."""
    arrays: dict[str, np.ndarray] = {}
    for outcome in outcomes:
        if outcome.kept_dense is None:
            program = rewrite(program, outcome.tensor, outcome.decomposition.legs, outcome.factors)
            arrays.update(zip(outcome.factors, outcome.decomposition.factors))
    return program, arrays


def factor_blocker(program: Program, name: str) -> str | None:
    """Why reads of ``name`` cannot become factor products, whose rank indices must be summed, or None."""
    if any(q.atom.name == name for q in program.queries):
        return "a query reads its elements"
    for eq in program.equations:
        if not any(ref.name == name for ref in ir.refs(eq.rhs)):
            continue
        line = f"line {eq.span.line}" if eq.span else "an equation"
        if eq.aggregator.reduction != "sum":
            return (f"{line} reads it under '{eq.aggregator.value}', which reduces every index missing from the "
                    "left-hand side by that aggregator, so a rank index would not be summed")
        if any(isinstance(node, ir.Call) and node.function == "concat" for node in ir.walk(eq.rhs)):
            return f"{line} reads it inside concat, which flattens the indices missing from the left-hand side"
    return None


def _factor_names(program: Program, name: str, found: Decomposition) -> tuple[str, ...]:
    taken = set(program.tensors) | set(program.scalars) | set(program.consts)
    for suffix in itertools.count():
        base = f"{name}_{found.method}" + (f"{suffix}_" if suffix else "")
        names = tuple(f"{base}{k}" for k in range(len(found.factors)))
        if not taken.intersection(names):
            return names


def rewrite(program: Program, name: str, legs: tuple[tuple[Leg, ...], ...], factors: tuple[str, ...]) -> Program:
    """Replace every read of ``name`` by the product of ``factors`` (whose axes are ``legs``)."""
    taken = {v for ref in program.references for i in ref.indices for v in i.variables}
    taken |= set(program.scalars) | set(program.consts)
    occurrences = itertools.count()

    def expand(ref: ir.Ref) -> tuple[ir.Ref, ...]:
        occurrence = next(occurrences)
        ranks: dict[int, str] = {}
        for leg in (leg for axes in legs for leg in axes if leg.kind == "rank"):
            if leg.number not in ranks:
                var = f"{name.lower()}_r{occurrence}_{leg.number}"
                while var in taken:
                    var += "_"
                ranks[leg.number] = var
        return tuple(ir.Ref(factor, tuple(ref.indices[leg.number] if leg.kind == "mode"
                                          else ir.Index(((ranks[leg.number], 1),)) for leg in axes), span=ref.span)
                     for factor, axes in zip(factors, legs))

    statements = []
    for stmt in program.statements:
        if isinstance(stmt, ir.Equation):
            statements.append(replace(stmt, rhs=_substitute(stmt.rhs, name, expand)))
        elif not (isinstance(stmt, ir.Shape) and stmt.name == name):
            statements.append(stmt)
    return replace(program, statements=tuple(statements))


def _substitute(expr: ir.Expr, name: str, expand) -> ir.Expr:
    """``expr`` with each read of ``name`` expanded; a (non-divisor) factor of a product is spliced into it."""
    if isinstance(expr, ir.Ref) and expr.name == name:
        parts = expand(expr)
        return ir.Product(parts, (False,) * len(parts), span=expr.span)
    if isinstance(expr, ir.Product):
        factors, inverted = [], []
        for factor, inv in zip(expr.factors, expr.inverted):
            if isinstance(factor, ir.Ref) and factor.name == name and not inv:
                parts = expand(factor)
                factors += parts
                inverted += [False] * len(parts)
            else:
                factors.append(_substitute(factor, name, expand))
                inverted.append(inv)
        return replace(expr, factors=tuple(factors), inverted=tuple(inverted))
    kids = ir.children(expr)
    return ir.with_children(expr, tuple(_substitute(k, name, expand) for k in kids)) if kids else expr



@dataclass(frozen=True)
class Factorise:
    """The ``factorise`` pass (opt-in): weights replaced by low-rank factors within ``rel_err`` (``method``,
    ``tensors``: names joined by ``+``, default every candidate). It needs the weights' values, so it runs
    when they are bound (``tlc.driver.weights``), through ``PassManager.apply``."""

    name: ClassVar[str] = "factorise"
    rel_err: float = DEFAULT_REL_ERR
    method: str = "auto"
    tensors: str | None = None

    @property
    def options(self) -> FactoriseOptions:
        """These options as ``compile(factorise=...)`` takes them."""
        chosen = {"tensors": self.tensors.split("+")} if self.tensors else {}
        return options_from({"rel_err": self.rel_err, "method": self.method, **chosen})
