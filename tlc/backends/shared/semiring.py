"""Emit a semiring recursion (``tlc.analysis.semiring_plan``) as one call to ``tlc_runtime.semiring``.

The stratum's non-recursive equations (and data supplied for its tensor) are computed once, by the backend's
own code, into a base array; ``sr.fixpoint`` then runs the recursion from it, watched by the same
``rt.Fixpoint`` (bound and messages) as the dense loop it replaces. Path counting (a sum) calls
``tlc_runtime.counting.count_paths`` instead, and runs the dense loop itself when that declines.
"""

from __future__ import annotations

from tlc.analysis.relation_plan import StratumPlan
from tlc.analysis.strata import Stratum
from tlc.backends.shared.quoting import comment, equation_comments, identifier, internal, literal, numeric_copy
from tlc.ir import nodes as ir

IMPORT = "import tlc_runtime.semiring as sr"
"""The module import emitted code needs for it."""
COUNTING_IMPORT = "import tlc_runtime.counting as counting"
"""The module import emitted code needs for path counting."""


def entries_only(program, plans) -> set[str]:
    """Inputs read only as the weights of semiring recursions: emitted code passes their data as given (a
    ``tlc.Weights`` stays sparse) instead of as a dense array."""
    readers: dict[str, set[int]] = {}
    for k, eq in enumerate(program.equations):
        for ref in ir.refs(eq.rhs):
            readers.setdefault(ref.name, set()).add(k)
    weights = {p.semiring.weights: p.semiring.equation for p in plans
               if p.semiring is not None and p.semiring.fold != "sum"}     # counting may run the dense loop
    return {name for name, k in weights.items()
            if not program.tensors[name].defined and readers.get(name) == {k}}


def emit_semiring(emitter, stratum: Stratum, plan: StratumPlan) -> None:
    """Append the code of a semiring stratum to ``emitter.lines`` (a ``ScheduleEmitter``): its tensor is
    allocated already and is finalised after."""
    semiring = plan.semiring
    (name,) = stratum.tensors
    emitter.lines.append(comment(plan.describe()))
    watch = emitter.watch(stratum)
    base = internal("base", name)
    emitter.allocate(name, base)
    for k in stratum.equations:
        if not any(r.name == name for r in ir.refs(emitter.program.equations[k].rhs)):
            emitter.fold_equation(k, base, indent=0)
    emitter.lines.extend(equation_comments(emitter.program.equations[semiring.equation], emitter.program.filename))
    target = identifier(name)
    kernel = emitter.semiring_kernel(semiring)
    emitter.lines.append(f"{target} = sr.fixpoint({target}, {base}, {identifier(semiring.weights)}, "
                         f"{literal(semiring.fold)}, {literal(semiring.combine)}, {semiring.axis}, "
                         f"{semiring.forward}, {watch}{'' if kernel is None else ', ' + kernel})")


def emit_counting(emitter, stratum: Stratum, plan: StratumPlan, dense) -> None:
    """Append the code of a path-counting stratum (a ``sum`` semiring): its base once, one call of
    ``counting.count_paths`` with the backend's compiled kernels and, when that declines, the dense loop that
    ``dense(stratum)`` emits (the reference's values and errors). Its tensor is allocated already."""
    semiring = plan.semiring
    (name,) = stratum.tensors
    emitter.lines.append(comment(plan.describe()))
    base = internal("base", name)
    emitter.allocate(name, base)
    for k in stratum.equations:
        if k != semiring.equation:
            emitter.fold_equation(k, base, indent=0)
    emitter.lines.extend(equation_comments(emitter.program.equations[semiring.equation], emitter.program.filename))
    target, counted = identifier(name), internal("counted", name)
    weights = semiring.weights
    weights = numeric_copy(weights) if emitter.program.tensors[weights].relation else identifier(weights)
    emitter.lines.append(f"{counted} = counting.count_paths({target}, {base}, {weights}, "
                         f"{semiring.axis}, {semiring.forward}, {emitter.fixpoint_bound(stratum).rounds}, "
                         f"{emitter.semiring_kernel(semiring)})")
    emitter.lines.append(f"if {counted} is not None:")
    emitter.lines.append(f"    {target} = {counted}")
    emitter.lines.append("else:  # not exact as one pass: the dense rounds")
    saved, emitter.lines = emitter.lines, []
    dense(stratum)
    block, emitter.lines = emitter.lines, saved
    emitter.lines.extend("    " + line if line else line for line in block)
