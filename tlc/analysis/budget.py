"""The memory budget, checked once per specialisation before anything is emitted, allocated or run.

With the shapes known, every dense tensor a program defines (relations stored sparse excepted, when the
capability-free plan stores them sparse too: ``relation_plan.counted_alike``), all of them together, and every
sub-expression's temporary must fit the budget (``tlc.memory_limit.Budget``). A sub-expression's temporary is its
elementwise value over its free indices before anything is summed out of it, as the NumPy backend materialises it
(``sig(A[i,j] + B[j,k])`` ranges over i, j and k even when the product around it sums j and k); a product's
temporary is its result, and a product whose index space alone exceeds the budget must also have a contraction plan
(``tlc.contract_path`` with the budget as ``memory_limit``, slicing where needed) that meets it. The rule is the
same on every backend, so whether a program runs does not depend on the backend: the llvm backend fuses such a chain
into one loop that allocates nothing, but that loop would run as many iterations as the temporary has elements.
Inside a recurrence the step index counts once (steps run one at a time); relational strata join tuples and have no
dense temporaries; a fused attention's scores are never built, so only its result counts. Tensor reads are views of
tensors already counted (or of the caller's inputs).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from tlc.contract import contract_path
from tlc.errors import EinsumError, TlcError
from tlc.ir import nodes as ir
from tlc.ir.printer import format_equation, format_expr
from tlc.ir.program import Program
from tlc.memory_limit import ELEMENT_BYTES, Budget, format_bytes
from tlc.analysis.contractions import free_indices
from tlc.analysis.projection import analyse
from tlc.analysis.shapes import Shapes
from tlc.analysis.strata import Stratum

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def size_text(elements: int) -> str:
    """``1,000,000 elements (7.63 MiB)``: a count with its size in float64 bytes."""
    return f"{elements:,} element{'s' if elements != 1 else ''} ({format_bytes(elements * ELEMENT_BYTES)})"


def check_budget(program: Program, strata: tuple[Stratum, ...], shapes: Shapes, plan, budget: Budget,
                 windows: Mapping[str, tuple[int, int]] | None = None) -> None:
    """Raise a located ``TlcError`` when a tensor, all tensors together, a temporary or a contraction of
    ``program`` at ``shapes`` would exceed ``budget`` (``plan``: the ``RelationPlan``, for sparse storage;
    ``windows``: virtual axes stored as ring buffers of a few slots, ``tlc.analysis.windows``)."""
    limit = budget.elements
    if limit is None:
        return
    storage = plan.counted_storage() if plan is not None else {}
    stored = dict(shapes.extents)
    for name, (axis, slots) in (windows or {}).items():
        stored[name] = stored[name][:axis] + (slots,) + stored[name][axis + 1:]
    dense = {n: math.prod(stored[n]) for n, info in program.tensors.items()
             if info.defined and n in stored and storage.get(n) != "sparse"}
    for name, elements in dense.items():
        if elements > limit:
            eq, span = _defined_at(program, name)
            raise TlcError(f"{_quote(eq)}{name} would have shape {tuple(stored[name])}: "
                           f"{size_text(elements)}, over {budget.describe()}", span)
    for number, stratum in enumerate(strata):
        if plan is not None and plan.strata[number].relational:
            continue
        step = stratum.recurrence.variable if stratum.recurrence is not None else {}
        semiring = plan.strata[number].semiring if plan is not None else None
        for k in stratum.equations:
            if semiring is not None and k == semiring.equation:    # relaxed edge by edge: no temporary
                continue
            ranges = shapes.ranges.get(k)
            # every temporary ranges over some of the equation's indices: when all of them together fit, all fit
            if ranges is not None and math.prod(max(0, hi - lo) for lo, hi in ranges.values()) > limit:
                _check_equation(program.equations[k], ranges, step.get(k), budget)
    total = sum(dense.values())
    if total > limit:
        largest = sorted(dense, key=dense.get, reverse=True)
        eq, span = _defined_at(program, largest[0])
        named = ", ".join(f"{n} {size_text(dense[n])}" for n in largest[:3])
        raise TlcError(f"the tensors this program defines would hold {size_text(total)} together, over "
                       f"{budget.describe()}; the largest: {named}", span)


def _defined_at(program: Program, name: str):
    defining = program.defining(name)
    if defining:
        eq = program.equations[defining[0]]
        return eq, eq.span
    return None, program.tensors[name].first_use.span


def _quote(eq: ir.Equation | None) -> str:
    return f"{format_equation(eq)}: " if eq is not None and "\n" not in format_equation(eq) else ""


def _check_equation(eq: ir.Equation, ranges: dict, step: str | None, budget: Budget) -> None:
    """The largest temporary of ``eq`` (the outermost of equal ones) against the budget, then its products."""
    limit = budget.elements
    summed_at = analyse(eq).summed_at
    free = free_indices(eq)

    def size(variables) -> int:
        return math.prod(1 if v == step else max(0, ranges[v][1] - ranges[v][0]) for v in variables if v in ranges)

    largest: list = [0, None, ()]
    big_products: list = []
    for path, node in reversed(list(ir.with_paths(eq.rhs))):    # children before parents: the outermost wins ties
        if isinstance(node, (ir.Ref, ir.IndexValue, ir.Num, ir.Scalar)):
            continue                                            # views and constants: no temporary
        if isinstance(node, ir.Attention):     # the scores are never built; a mask expression is (counted below)
            found = tuple(node.batch_axes) + (node.query_axis, node.value_axis)
        else:
            children = ir.children(node)
            parts = [free[path + (k,)] for k in range(len(children))]
            found = tuple(dict.fromkeys(v for part in parts for v in part))
            if isinstance(node, ir.Product):
                found = tuple(v for v in found if v not in summed_at.get(path, ()))
                if sum(1 for p in parts if p) >= 2 and size(dict.fromkeys(v for p in parts for v in p)) > limit:
                    big_products.append((node, [(c, p) for c, p in zip(children, parts) if p], found))
        elements = size(found)
        if elements >= largest[0]:
            largest[:] = [elements, node, found]

    elements, node, found = largest
    if elements > limit:
        raise TlcError(f"{_quote(eq)}the temporary {format_expr(node)} over {', '.join(found)} would hold "
                       f"{size_text(elements)}, over {budget.describe()}", node.span or eq.span)
    for node, parts, found in big_products:
        _check_contraction(eq, node, parts, found, size, budget)


def _check_contraction(eq: ir.Equation, node: ir.Product, operands: list, kept: tuple, size, budget: Budget) -> None:
    """A product whose whole index space exceeds the budget needs a plan (sliced if need be) within it."""
    parts = [part for _, part in operands]
    for factor, part in operands:   # an operand larger than the budget is the caller's input: no plan helps
        if size(part) > budget.elements:
            raise TlcError(f"{_quote(eq)}the contraction {format_expr(node)} cannot be planned within "
                           f"{budget.describe()}: its operand {format_expr(factor)} alone holds "
                           f"{size_text(size(part))}, and slicing cannot shrink an operand", node.span or eq.span)
    names = list(dict.fromkeys(v for part in parts for v in part))
    if len(names) > len(LETTERS):
        return
    letters = dict(zip(names, LETTERS))
    subscripts = ",".join("".join(letters[v] for v in p) for p in parts) + "->" + "".join(letters[v] for v in kept)
    shapes = [tuple(size((v,)) for v in p) for p in parts]
    try:
        contract_path(subscripts, *shapes, shapes=True, memory_limit=budget.elements)
    except EinsumError as err:
        raise TlcError(f"{_quote(eq)}the contraction {format_expr(node)} cannot be planned within "
                       f"{budget.describe()}: {err.message}", node.span or eq.span) from None
