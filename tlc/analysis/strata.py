"""Strata: the order in which tensors are computed, and how each recursive group is evaluated.

The tensor dependency graph's strongly connected components (``tlc.ir.graphs``) are evaluated in topological
order. A recursive component is evaluated one of three ways:

- ``recurrence``: every recursive read is along one "time" axis per tensor at an earlier or equal step
  (``X[i-1,k]``, ``Emb[n,l,d]`` feeding ``Emb[n,l+1,d]``); it runs in index order, one step at a time; or every
  one is at a later or equal step (``G[t] += G[t+1] ...``, a gradient's reverse recursion), and it runs in
  descending index order;
- ``seminaive``: relations only; Datalog semi-naive iteration to a fixpoint;
- ``fixpoint``: anything else; naive iteration until nothing changes, under an iteration bound.
"""

from __future__ import annotations

import enum
import math
import numbers
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tlc.errors import Problems, TlcError
from tlc.ir import functions
from tlc.ir import nodes as ir
from tlc.ir.graphs import strongly_connected, topological
from tlc.ir.program import Program

if TYPE_CHECKING:
    import networkx as nx



class Mode(enum.Enum):
    """How a stratum is evaluated."""

    PLAIN = "plain"
    RECURRENCE = "recurrence"
    SEMINAIVE = "seminaive"
    FIXPOINT = "fixpoint"


@dataclass(frozen=True, slots=True)
class Recurrence:
    """Time axes of a recurrence: per tensor the axis, per equation its time variable and LHS offset."""

    axis: dict[str, int]
    variable: dict[int, str]
    lhs_offset: dict[int, int]
    step_order: tuple[int, ...]
    """Recursive equations in the order they run within one step (delay-0 dependencies first)."""
    descending: bool = False
    """True when every recursive read looks ahead (or level): the steps run from the last down to the first."""


@dataclass(frozen=True, slots=True)
class Stratum:
    """A group of tensors computed together; ``equations`` are numbers into ``program.equations``."""

    tensors: tuple[str, ...]
    equations: tuple[int, ...]
    mode: Mode
    recurrence: Recurrence | None = None

    @property
    def recursive(self) -> bool:
        """True when the tensors depend on themselves."""
        return self.mode is not Mode.PLAIN


def tensor_graph(program: Program) -> nx.DiGraph:
    """Tensor-level dependencies: an edge A -> B when an equation defining B reads A."""
    import networkx as nx       # for the fuzzer and error notes: stratifying uses ``dependencies``
    g = nx.DiGraph()
    g.add_nodes_from(program.tensors)
    for eq in program.equations:
        for ref in ir.refs(eq.rhs):
            g.add_edge(ref.name, eq.lhs.name)
    return g


def dependencies(program: Program) -> dict[str, set[str]]:
    """Tensor-level dependencies as successor sets: B in ``result[A]`` when an equation defining B reads A."""
    successors: dict[str, set[str]] = {name: set() for name in program.tensors}
    for eq in program.equations:
        successors.setdefault(eq.lhs.name, set())
        for ref in ir.refs(eq.rhs):
            successors.setdefault(ref.name, set()).add(eq.lhs.name)
    return successors


def stratify(program: Program) -> tuple[Stratum, ...]:
    """Split the program into strata in evaluation order; raises on recursion through negation (every such
    recursion found, as one error)."""
    strata, problems = stratified(program)
    problems.raise_any()
    return strata


def stratified(program: Program) -> tuple[tuple[Stratum, ...], Problems]:
    """The strata in evaluation order and the recursions through negation, each a recorded error (the strata
    are well defined regardless, so checks that need them go on). Strata without errors are kept in
    ``program.analyses``: the checks, three passes and the driver ask for them."""
    known = program.analyses.get(stratified)
    if known is not None:
        return known, Problems()
    strata, problems = _stratified(program)
    if not problems.errors:     # errors are raised afresh each time: a raised error is changed (located)
        program.analyses[stratified] = strata
    return strata, problems


def _stratified(program: Program) -> tuple[tuple[Stratum, ...], Problems]:
    successors = dependencies(program)
    components = strongly_connected(successors)
    component_of = {name: c for c, members in enumerate(components) for name in members}
    order = {name: k for k, name in enumerate(program.tensors)}
    condensed = {c: {component_of[t] for name in members for t in successors[name]} - {c}
                 for c, members in enumerate(components)}
    strata = []
    problems = Problems()
    for component in topological(condensed, key=lambda c: min(order[t] for t in components[c])):
        members = tuple(sorted(components[component], key=order.__getitem__))
        equations = tuple(sorted(k for name in members for k in program.defining(name)))
        if not equations:
            continue
        recursive = len(members) > 1 or members[0] in successors[members[0]]
        strata.append(_classify(program, members, equations, problems) if recursive
                      else Stratum(members, equations, Mode.PLAIN))
    return tuple(strata), problems


def _classify(program: Program, members: tuple[str, ...], equations: tuple[int, ...], problems: Problems) -> Stratum:
    recurrence = _find_recurrence(program, set(members), equations)
    if recurrence is not None:
        return Stratum(members, equations, Mode.RECURRENCE, recurrence)
    relations = all(program.tensors[t].relation for t in members)
    if relations:
        for k in equations:
            try:
                _check_monotone(program, set(members), k)
            except TlcError as err:
                problems.add(err, {program.equations[k].lhs.name})
        return Stratum(members, equations, Mode.SEMINAIVE)
    return Stratum(members, equations, Mode.FIXPOINT)


def _check_monotone(program: Program, members: set[str], k: int) -> None:
    """A recursive relation's equation ``k`` must not read a relation of its recursion negatively (stratified
    semantics)."""
    eq = program.equations[k]
    try:
        polarities = list(_polarities(eq.rhs, True))
    except RecursionError:
        raise TlcError("expression nested too deeply", eq.span) from None
    for ref, positive in polarities:
        if ref.name in members and not positive:
            raise TlcError(f"{eq.lhs.name} depends on {ref.name} through negation or a non-monotone "
                           f"function inside a recursion; such a program has no stratification",
                           ref.span, notes=(_cycle_note(program, eq.lhs.name, ref.name),),
                           help=f"stratify: a negated relation must be complete before it is read, so "
                                f"{ref.name} must not depend on {eq.lhs.name}; negate a relation defined "
                                f"without {eq.lhs.name} instead (from the base facts only)")


def _cycle_note(program: Program, lhs: str, negated: str) -> str:
    """How ``negated`` comes to depend on ``lhs``: the cycle the negation sits on."""
    if lhs == negated:
        return f"{lhs} is defined from its own negation"
    import networkx as nx       # an error's note only
    path = nx.shortest_path(tensor_graph(program), lhs, negated)
    return f"the cycle: {' -> '.join(path)} -> {lhs} (an arrow reads 'is used to compute')"


def _polarities(expr: ir.Expr, positive: bool):
    """Yield (ref, polarity) for each reference; polarity None-like False when not provably positive."""
    if isinstance(expr, ir.Ref):
        yield expr, positive
    elif isinstance(expr, ir.Sum):
        for term, sign in zip(expr.terms, expr.signs):
            yield from _polarities(term, positive if sign > 0 else not positive)
    elif isinstance(expr, ir.Neg):
        yield from _polarities(expr.operand, not positive)
    elif isinstance(expr, ir.Product):
        for factor, inverted in zip(expr.factors, expr.inverted):
            yield from _polarities(factor, not positive if inverted else positive)
    elif isinstance(expr, ir.Power):
        yield from _polarities(expr.base, positive)
        yield from ((ref, False) for ref in ir.refs(expr.exponent))
    elif isinstance(expr, ir.Call):
        for k, arg in enumerate(expr.args):     # sig's temperature is not a monotone argument; min's second is
            if expr.function in functions.MONOTONE and (k == 0 or expr.function in ir.PAIRWISE):
                yield from _polarities(arg, positive)
            else:
                yield from ((ref, False) for ref in ir.refs(arg))


def _time_var(index: ir.Index) -> tuple[str, int] | None:
    return index.shifted_variable


def _find_recurrence(program: Program, members: set[str], equations: tuple[int, ...]) -> Recurrence | None:
    """Find one time axis per tensor along which every recursive read looks back (or level), else one along which
    every recursive read looks ahead (or level) when no tensor of the component has a virtual axis."""
    forward = _recurrence_along(program, members, equations, 1)
    if forward is not None or any(name in program.virtual_axes for name in members):
        return forward
    return _recurrence_along(program, members, equations, -1)


def _ahead(lhs: ir.Ref, ref: ir.Ref, members: set[str], direction: int) -> int | None:
    """The LHS axis that ``ref`` reads behind along the direction of the steps (``X[i]`` from ``X[i-1]`` going up;
    ``G[t]`` from ``G[t+1]`` or ``H[t+1]`` going down), or None."""
    if direction > 0:       # going up, the same tensor at the same position (a forward recurrence's seed)
        pairs = [(a, written, read) for a, (written, read) in enumerate(zip(lhs.indices, ref.indices))]
        if ref.name != lhs.name:
            return None
    elif ref.name in members:
        pairs = [(a, written, read) for a, written in enumerate(lhs.indices) for read in ref.indices]
    else:
        return None
    for a, written, read in pairs:
        tw, tr = _time_var(written), _time_var(read)
        if tw and tr and tw[0] == tr[0] and direction * (tw[1] - tr[1]) > 0:
            return a
    return None


def _recurrence_along(program: Program, members: set[str], equations: tuple[int, ...],
                      direction: int) -> Recurrence | None:
    """The recurrence whose steps run up (``direction`` 1) or down (-1) the time axes, or None."""
    eqs = program.equations
    recursive = [k for k in equations if any(r.name in members for r in ir.refs(eqs[k].rhs))]
    axis: dict[str, int] = {}
    variable: dict[int, str] = {}
    for k in recursive:   # seed: an LHS axis ahead of a read (X[i] from X[i-1]; going down, G[t] from G[t+1])
        lhs = eqs[k].lhs
        for ref in ir.refs(eqs[k].rhs):
            a = None if lhs.name in axis else _ahead(lhs, ref, members, direction)
            if a is not None:
                axis[lhs.name] = a
    for k in recursive:   # seed: an LHS axis shifted forward (Emb[n, l+1, d])
        lhs = eqs[k].lhs
        for a, index in enumerate(lhs.indices):
            tv = _time_var(index)
            if direction > 0 and tv and tv[1] > 0 and lhs.name not in axis:
                axis[lhs.name] = a
    changed = True
    while changed:
        changed = False
        for k in recursive:
            if k in variable:
                continue
            lhs = eqs[k].lhs
            var = None
            if lhs.name in axis:
                tv = _time_var(lhs.indices[axis[lhs.name]])
                var = tv[0] if tv else None
            else:
                for ref in ir.refs(eqs[k].rhs):
                    if ref.name in axis:
                        tv = _time_var(ref.indices[axis[ref.name]])
                        var = tv[0] if tv else None
                        break
            if var is None:
                continue
            variable[k] = var
            changed = True
            if lhs.name not in axis:
                spots = [a for a, i in enumerate(lhs.indices) if _time_var(i) and _time_var(i)[0] == var]
                if len(spots) != 1:
                    return None
                axis[lhs.name] = spots[0]
    if set(variable) != set(recursive) or set(axis) != members:
        return None
    lhs_offset: dict[int, int] = {}
    same_step: dict[int, set[int]] = {k: set() for k in recursive}
    writer = {}
    for k in recursive:
        writer.setdefault(eqs[k].lhs.name, []).append(k)
    for k in recursive:
        lhs = eqs[k].lhs
        tv = _time_var(lhs.indices[axis[lhs.name]])
        if tv is None or tv[0] != variable[k]:
            return None
        lhs_offset[k] = tv[1]
        for ref in ir.refs(eqs[k].rhs):
            if ref.name not in members:
                continue
            rv = _time_var(ref.indices[axis[ref.name]])
            if rv is None or rv[0] != variable[k]:
                return None
            if any(variable[k] in i.variables for a, i in enumerate(ref.indices) if a != axis[ref.name]):
                return None
            delay = direction * (tv[1] - rv[1])
            if delay < 0:
                return None
            if delay == 0:
                for w in writer.get(ref.name, ()):
                    same_step[w].add(k)
    if any(v in i.variables for k in recursive
           for a, i in enumerate(eqs[k].lhs.indices) if a != axis[eqs[k].lhs.name] for v in [variable[k]]):
        return None
    order = topological(same_step, key=lambda k: k)
    if order is None:
        return None
    return Recurrence(axis, variable, lhs_offset, tuple(order), direction < 0)


def within_extents(program: Program, strata: tuple[Stratum, ...], extents: dict[str, tuple[int, ...]],
                   ranges: dict[int, dict[str, tuple[int, int]]]) -> tuple[Stratum, ...]:
    """``strata`` with each descending recurrence that would read past the end of one of its tensors (``G[t+1]`` at
    the last ``t``) made a fixpoint again: a recursive read past the end reads 0 and still defines its element,
    which the fixpoint's padded reads give and one step's slices would not."""
    return tuple(replace(s, mode=Mode.FIXPOINT, recurrence=None)
                 if s.recurrence is not None and s.recurrence.descending and _reads_past_end(program, s, extents, ranges)
                 else s for s in strata)


def _reads_past_end(program: Program, stratum: Stratum, extents, ranges) -> bool:
    rec = stratum.recurrence
    for k in rec.step_order:
        lo, hi = ranges[k][rec.variable[k]]
        for ref in ir.refs(program.equations[k].rhs):
            if ref.name in rec.axis and hi > lo:
                _, offset = _time_var(ref.indices[rec.axis[ref.name]])
                if hi - 1 + offset >= extents[ref.name][rec.axis[ref.name]]:
                    return True
    return False


MAX_ROUNDS = 10_000
"""Rounds a fixpoint gets when no round count proves anything (sums, or ``min=``/``max=`` recursions that are
not path steps) before it is reported as not converging; ``max_rounds=`` changes it."""


@dataclass(frozen=True, slots=True)
class RoundBound:
    """How many rounds a recursive stratum's loop may run, and what still changing after them means."""

    rounds: int
    """Loop iterations allowed (the last one is the round that sees nothing change)."""
    proof: bool
    """True when values still changing after ``rounds`` prove a cycle that keeps improving them (a negative
    cycle for ``min=``, a gaining one for ``max=``); False when the limit is only a limit."""
    why: str
    """Why this bound, for ``explain``."""


def check_max_rounds(max_rounds) -> int | None:
    """``max_rounds`` validated: None or a positive int, else a TlcError."""
    if max_rounds is None:
        return None
    if isinstance(max_rounds, bool) or not isinstance(max_rounds, numbers.Integral) or max_rounds < 1:
        raise TlcError(f"max_rounds must be a positive integer, not {max_rounds!r}")
    return int(max_rounds)


def chain_length(program: Program, stratum: Stratum, extents: dict[str, tuple[int, ...]]) -> tuple[int, str]:
    """The most elements one chain of recursive reads can visit without repeating one, and why (or "").

    An axis is *carried* when every recursive read in the stratum has the same plain variable at that position
    as its equation's LHS (``D[x, z] min= D[x, y] + W[y, z]`` carries axis 0, x): along a chain of derivations
    the carried positions never change, so a chain stays inside one slice and visits at most the product of
    the other axes' extents per tensor (the nodes of a path, not the pairs).
    """
    members = set(stratum.tensors)
    carried = set(range(min(program.tensors[t].rank for t in stratum.tensors)))
    for k in stratum.equations:
        eq = program.equations[k]
        for ref in ir.refs(eq.rhs):
            if ref.name in members:
                carried = {a for a in carried if eq.lhs.indices[a].plain_variable is not None
                           and eq.lhs.indices[a].plain_variable == ref.indices[a].plain_variable}
    length = sum(math.prod(n for a, n in enumerate(extents[t]) if a not in carried) for t in stratum.tensors)
    if not carried:
        return length, ""
    axes = ", ".join(map(str, sorted(carried)))
    return length, f" (every recursive read keeps axis {axes} of its LHS, so a chain stays in one slice)"


def path_step(expr: ir.Expr, members: set[str]) -> bool:
    """True when a recursive RHS uses the stratum's values only as a semiring path step: a read, or a sum
    (``D[x, y] + W[y, z]``), product (``R[x, y] P[y, z]``) or pairwise ``min``/``max`` of reads and terms that
    read no member. Around a cycle such a step improves by the same amount (or factor) each time, so a cycle
    that improves once improves without end; anything else (``0.5 X[i] + 1``) may improve boundedly."""
    def member(e) -> bool:
        return isinstance(e, ir.Ref) and e.name in members

    def outside(e) -> bool:
        return not any(r.name in members for r in ir.refs(e))

    if member(expr) or outside(expr):
        return True
    if isinstance(expr, ir.Sum):
        return all((member(t) and sign > 0) or outside(t) for t, sign in zip(expr.terms, expr.signs))
    if isinstance(expr, ir.Product):
        return all((member(f) and not inverted) or outside(f) for f, inverted in zip(expr.factors, expr.inverted))
    if isinstance(expr, ir.Call) and expr.function in ir.PAIRWISE:
        return all(member(a) or outside(a) for a in expr.args)
    return False


def round_bound(program: Program, stratum: Stratum, extents: dict[str, tuple[int, ...]],
                max_rounds: int | None = None) -> RoundBound:
    """The convergence rule of a ``fixpoint`` stratum: the rounds it gets, and what failing to converge means.

    With only ``min=``/``max=`` tensors and relations whose recursive equations are path steps (``path_step``),
    each round extends every best derivation by one step, and a best derivation visits no element of its chain
    twice unless a cycle improves it (and then without end): with at most L elements on a chain
    (``chain_length``: the nodes of a path) all values are final after L rounds and round L + 1 sees nothing
    change (Bellman-Ford's bound, generalised). Anything else gets ``MAX_ROUNDS``. ``max_rounds`` caps both.
    """
    members = set(stratum.tensors)
    early = ("; stops at once when a value becomes infinite (diverges) or a round gives back the state of two "
             "rounds before (oscillates)")
    optimal = all(program.tensors[t].relation or program.reduction(t) in ("max", "min") for t in stratum.tensors)
    if optimal and all(path_step(program.equations[k].rhs, members) for k in stratum.equations):
        length, what = chain_length(program, stratum, extents)
        why = (f"a chain of derivations visits at most {length} element{'s' * (length != 1)}{what}; a best one "
               f"repeats none unless a cycle keeps improving it, so values still changing after {length + 1} "
               f"rounds mean a negative cycle (min=) or a gaining one (max=)")
        if max_rounds is not None and max_rounds < length + 1:
            return RoundBound(max_rounds, False, f"max_rounds={max_rounds} (below the {length + 1} rounds of the "
                                                 f"cycle test: {why})")
        return RoundBound(length + 1, True, why)
    what = ("min=/max= whose recursive equations are not all path steps (a cycle may improve values a bounded "
            "amount, so no round count proves there is no fixpoint)" if optimal else "a sum")
    if max_rounds is not None:
        return RoundBound(max_rounds, False, f"max_rounds={max_rounds} for a recursion with {what}{early}")
    return RoundBound(MAX_ROUNDS, False, f"{MAX_ROUNDS} is the default for a recursion with {what} "
                                         f"(max_rounds= changes it){early}")
