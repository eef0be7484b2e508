"""Contraction plans: the pairwise order and slicing of every product term, decided once per specialisation.

A product term with two or more array-valued factors is a contraction. Its operands are the factors' free
indices (what is left after the summations inside each factor, as every backend evaluates them), its output
keeps the indices not summed at the product, and each index ranges over the values evaluated at once: the
equation's range, one step of a recurrence's step loop, or one block of a blocked ``min=``/``max=`` fold.
``tlc.contract_path`` plans each one within the memory budget (slicing summed indices where needed); the
backends, ``explain`` and the factorise report read the plans instead of planning again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from tlc.analysis.projection import analyse
from tlc.analysis.shapes import Shapes
from tlc.analysis.strata import Stratum
from tlc.contract import ContractionInfo, contract_path
from tlc.errors import EinsumError, TlcError
from tlc.ir import nodes as ir
from tlc.ir.printer import format_equation, format_expr
from tlc.ir.program import Program

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
"""Einsum letters; an equation has at most this many distinct indices."""
PRODUCT_CHUNK = 1000
"""Most operands of one planned contraction: a longer product is contracted in groups of consecutive factors
first (planning and running one contraction take time superlinear in its operands)."""


@dataclass(frozen=True)
class Contraction:
    """The plan of one product term: its operands' and output's indices, their sizes, and the path."""

    operands: tuple[tuple[str, ...], ...]
    """The free indices of each array-valued factor, in factor order."""
    kept: tuple[str, ...]
    """Indices of the product's value (those not summed at the product)."""
    sizes: Mapping[str, int]
    info: ContractionInfo
    """``tlc.contract_path``'s plan: ``path``, FLOPs, largest intermediate, strategy, sliced letters."""
    groups: tuple[Contraction, ...] = ()
    """For a product of more than ``PRODUCT_CHUNK`` array factors: the contractions of consecutive groups of
    its factors, made first; ``operands`` are then the groups' results (their ``kept`` indices), in order."""

    @property
    def factors(self) -> int:
        """How many of the product's factors it contracts (its operands, or its groups' factors)."""
        return sum(g.factors for g in self.groups) if self.groups else len(self.operands)

    @property
    def flops(self) -> float:
        """Planned FLOPs, groups included (opt_einsum's convention)."""
        return float(self.info.opt_cost) + sum(g.flops for g in self.groups)

    @property
    def path(self) -> tuple[tuple[int, ...], ...]:
        """The pairwise contraction order (positions in ``operands``, opt_einsum's convention)."""
        return self.info.path

    @property
    def sliced(self) -> tuple[str, ...]:
        """Summed indices sliced to meet the memory budget (empty when nothing is sliced)."""
        letters = dict(zip(LETTERS, dict.fromkeys(v for part in self.operands for v in part)))
        return tuple(letters[s] for s in self.info.sliced)

    def subscripts(self) -> str:
        """The contraction as einsum subscripts, one letter per index in order of first appearance."""
        return _subscripts(self.operands, self.kept)

    def describe(self) -> str:
        """One line for ``explain``: subscripts, path, strategy, FLOPs, largest intermediate, slicing."""
        info = self.info
        sliced = (f", sliced over {', '.join(self.sliced)} ({info.n_slices} slices), "
                  f"{info.slicing_overhead:.3g}x the FLOPs unsliced" if info.sliced else "")
        grouped = f" after {len(self.groups)} groups of at most {PRODUCT_CHUNK} factors" if self.groups else ""
        subscripts = self.subscripts() if not self.groups else f"of {self.factors} factors"
        return (f"contraction {subscripts}{grouped}: path {list(info.path)} ({info.strategy}), "
                f"{self.flops:.3g} FLOPs, largest intermediate {int(info.largest_intermediate)} "
                f"element{'s' if int(info.largest_intermediate) != 1 else ''}{sliced}")


def free_indices(eq: ir.Equation) -> dict[tuple[int, ...], tuple[str, ...]]:
    """Per path of ``eq``'s right-hand side, the indices of that sub-expression's value after the summations
    at it, in the order the array backends lay them out (children before parents, without recursion)."""
    projection = analyse(eq)
    summed_at = projection.summed_at
    free: dict[tuple[int, ...], tuple[str, ...]] = {}
    for path, node in reversed(list(ir.with_paths(eq.rhs))):
        gone = summed_at.get(path, ())
        if isinstance(node, ir.Ref):
            found = tuple(dict.fromkeys(v for i in node.indices for v in i.variables))
        elif isinstance(node, ir.IndexValue):
            found = (node.name,)
        elif isinstance(node, (ir.Num, ir.Scalar)):
            found = ()
        elif isinstance(node, ir.Attention):
            found = tuple(node.batch_axes) + (node.query_axis, node.value_axis)
        elif isinstance(node, ir.Call) and node.function == "concat":
            inner = free[path + (0,)]
            kept = tuple(v for v in inner if v not in projection.flattened)
            merged = next((i.plain_variable for i in eq.lhs.indices
                           if i.plain_variable and i.plain_variable not in inner), None)
            found = kept + ((merged,) if merged else ())
        else:
            found = tuple(dict.fromkeys(v for k in range(len(ir.children(node))) for v in free[path + (k,)]))
        free[path] = tuple(v for v in found if v not in gone)
    return free


def products(eq: ir.Equation) -> Iterator[tuple[tuple[int, ...], ir.Product, list[tuple[ir.Expr, tuple[str, ...]]],
                                                tuple[str, ...]]]:
    """``(path, product, [(factor, its free indices)...], the product's own free indices)`` for every product
    term of ``eq`` with two or more array-valued factors."""
    free = free_indices(eq)
    for path, node in ir.with_paths(eq.rhs):
        if isinstance(node, ir.Product):
            operands = [(f, free[path + (k,)]) for k, f in enumerate(node.factors) if free[path + (k,)]]
            if len(operands) >= 2:
                yield path, node, operands, free[path]


def plan_equation(eq: ir.Equation, sizes: Mapping[str, int], memory_limit: int | None = None,
                  budget_text: str | None = None) -> dict[tuple[int, ...], Contraction]:
    """The contraction plan of every product term of ``eq`` with indices of ``sizes`` values, each within
    ``memory_limit`` elements (``budget_text`` names the budget in the error when none exists)."""
    plans = {}
    for path, node, operands, kept in products(eq):
        parts = tuple(part for _, part in operands)
        if len({v for part in parts for v in part}) > len(LETTERS):
            raise TlcError(f"too many distinct indices in one equation ({len(LETTERS)} at most)", eq.span)
        try:
            plans[path] = _plan(parts, kept, sizes, memory_limit)
        except EinsumError as err:
            within = budget_text or f"the memory limit of {memory_limit} elements ({memory_limit * 8} bytes)"
            quoted = f"{format_equation(eq)}: " if "\n" not in format_equation(eq) else ""
            raise TlcError(f"{quoted}the contraction {format_expr(node)} cannot be planned within {within}: "
                           f"{err.message}", node.span or eq.span) from None
    return plans


def plan_contractions(program: Program, strata: tuple[Stratum, ...], shapes: Shapes, relational: frozenset,
                      fold_blocks: Mapping[int, tuple[str, int]], memory_limit: int | None = None,
                      budget_text: str | None = None) -> dict[tuple[int, tuple[int, ...]], Contraction]:
    """Plans of every contraction of every equation outside the ``relational`` strata (numbers, from 0), by
    (equation, path); a recurrence's step index counts one value, a blocked fold's variable one block."""
    plans = {}
    for number, stratum in enumerate(strata):
        if number in relational:
            continue
        step = stratum.recurrence.variable if stratum.recurrence is not None else {}
        for k in stratum.equations:
            ranges = shapes.ranges.get(k)
            if ranges is None:
                continue
            sizes = {v: max(0, hi - lo) for v, (lo, hi) in ranges.items()}
            if k in step:
                sizes[step[k]] = 1
            if k in fold_blocks:
                var, size = fold_blocks[k]
                sizes[var] = size
            for path, plan in plan_equation(program.equations[k], sizes, memory_limit, budget_text).items():
                plans[(k, path)] = plan
    return plans


def _plan(parts: tuple[tuple[str, ...], ...], kept: tuple[str, ...], sizes: Mapping[str, int],
          memory_limit: int | None) -> Contraction:
    """The contraction of operands with indices ``parts`` keeping ``kept``, in groups when there are many."""
    groups = ()
    if len(parts) > PRODUCT_CHUNK:
        chunks = [parts[k:k + PRODUCT_CHUNK] for k in range(0, len(parts), PRODUCT_CHUNK)]
        if len(chunks) > PRODUCT_CHUNK:
            raise EinsumError(f"a product of {len(parts)} factors is more than tlc contracts "
                              f"({PRODUCT_CHUNK ** 2} at most)")
        inside = [tuple(dict.fromkeys(v for part in chunk for v in part)) for chunk in chunks]
        uses = Counter(v for found in inside for v in found)
        groups = tuple(_plan(chunk, tuple(v for v in found if v in kept or uses[v] > 1), sizes, memory_limit)
                       for chunk, found in zip(chunks, inside))
        parts = tuple(g.kept for g in groups)
    shapes = [tuple(sizes[v] for v in part) for part in parts]
    _, info = contract_path(_subscripts(parts, kept), *shapes, shapes=True, memory_limit=memory_limit)
    return Contraction(parts, kept, {v: sizes[v] for part in parts for v in part}, info, groups)


def equation_flops(eq: ir.Equation, ranges: Mapping[str, tuple[int, int]]) -> float:
    """Planned FLOPs of all of an equation's contractions over its whole ranges (opt_einsum's convention)."""
    sizes = {v: max(0, hi - lo) for v, (lo, hi) in ranges.items()}
    return sum(plan.flops for plan in plan_equation(eq, sizes).values())


def _subscripts(parts, kept) -> str:
    letters = dict(zip(dict.fromkeys(v for part in parts for v in part), LETTERS))
    return ",".join("".join(letters[v] for v in part) for part in parts) + "->" + "".join(letters[v] for v in kept)

