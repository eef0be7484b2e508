"""The relation planner: storage per relation and evaluation strategy per stratum, from shapes and nnz.

A stratum whose equations are all Datalog rules (a relation defined by a conjunction of relation atoms
and negated atoms, each argument a plain variable or a constant) is *relational* and runs on the
relational runtime (``tlc_runtime.sparse``) with one of three strategies:

- ``sparse``: semi-naive evaluation over sorted tuple keys (scipy CSR for binary joins);
- ``dense``: semi-naive evaluation over dense Boolean arrays (a binary join against a sparse operand is
  a sparse-times-dense product);
- ``closure``: transitive-closure-shaped recursion (``P(x,z) = P(x,y) S(y,z)``, ``S(x,y) P(y,z)`` or
  ``P(x,y) P(y,z)``) as the closure of the step relation, computed once per strongly connected component
  on bitset rows (``tlc_runtime.reach``); ``squaring``, its name while it was repeated squaring, still
  selects it.

Every other stratum keeps the general dense code (strategy ``einsum``). The plan is decided once the
shapes are known (``tlc.api`` specialises at the first call) and depends on the inputs' nnz.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tlc.errors import TlcError
from tlc.ir import nodes as ir
from tlc.ir.program import Program
from tlc.analysis.shapes import Shapes
from tlc.analysis.strata import Mode, Stratum

CHOICES = ("auto", "sparse", "dense", "closure")
"""Values of ``tlc.compile(relations=...)`` and the CLI's ``--relations``."""
FORMER_NAMES = {"squaring": "closure"}
"""Strategy names of earlier releases, still accepted."""


def relations_option(value) -> str:
    """``value`` as a strategy of ``CHOICES`` (former names translated), or a ``TlcError``."""
    value = FORMER_NAMES.get(value, value) if isinstance(value, str) else value
    if value not in CHOICES:
        raise TlcError(f"relations must be one of {', '.join(CHOICES)}, not {value!r}")
    return value

DENSE_BUDGET = 2**26
"""Most elements a relation may have for the dense strategies (a float32 copy is 256 MiB)."""
PLAIN_SPARSE_SIZE = 2**22
"""Under ``auto``, a non-recursive relational stratum runs sparse when a relation it touches is larger."""
SPARSE_INPUT_DENSITY = 0.1
"""Under ``auto``, an input relation read only by relational strata is stored sparsely at or below this."""
NS_DENSE, NS_SPARSE, NS_ROUND, NS_COMPONENT, NS_WORD = 1.0, 25.0, 20_000.0, 3000.0, 1.0
"""Cost model, in estimated nanoseconds: per dense Boolean element operation, per sparse tuple
operation (sorting, merging, CSR products), per semi-naive round (its runtime calls), per strong component
of a closure (one step of its loop), per 64-bit word OR of a closure's bitset rows."""


@dataclass(frozen=True)
class Rule:
    """A relational equation: head spec and the positive and negated atoms of its body."""

    head: ir.Ref
    atoms: tuple[ir.Ref, ...]
    negated: tuple[ir.Ref, ...]


@dataclass(frozen=True)
class Closure:
    """A transitive-closure-shaped recursion: ``kind`` is ``right`` (P·S), ``left`` (S·P) or ``square``
    (P·P); ``rule`` is the recursive equation's number and ``step`` the atom that is not P (None for square)."""

    kind: str
    rule: int
    step: ir.Ref | None


@dataclass(frozen=True)
class StratumPlan:
    """The strategy chosen for one stratum, with the estimated cost of each candidate (ns) and why."""

    strategy: str
    costs: dict[str, float]
    reason: str
    closure: Closure | None = None

    @property
    def relational(self) -> bool:
        """True when the stratum runs on the relational runtime."""
        return self.strategy != "einsum"

    def describe(self) -> str:
        """One line for ``tlc explain``."""
        names = {"sparse": "sparse semi-naive" if self.costs else "sparse joins", "dense": "dense semi-naive",
                 "closure": "closure by strong components", "einsum": "dense tensor code"}
        costs = ", ".join(f"{k} {_seconds(v)}" for k, v in self.costs.items())
        return f"relations: {names[self.strategy]} ({self.reason}){'; estimated ' + costs if costs else ''}"


@dataclass(frozen=True)
class RelationPlan:
    """Per stratum a ``StratumPlan``; per relation its storage (``sparse`` or ``dense``)."""

    strata: tuple[StratumPlan, ...]
    storage: dict[str, str]

    @property
    def relational(self) -> bool:
        """True when some stratum runs as tuple joins or some relation is stored sparsely."""
        return any(p.relational for p in self.strata) or "sparse" in self.storage.values()

    def signature(self) -> tuple:
        """What the emitted code depends on (for caching specialisations)."""
        return tuple(p.strategy for p in self.strata), tuple(sorted(self.storage.items()))


def _seconds(ns: float) -> str:
    return "infeasible" if math.isinf(ns) else f"~{ns / 1e9:.2g} s"


def _plain(ref: ir.Ref, program: Program) -> bool:
    return ref.relation and ref.name not in program.virtual_axes and all(
        i.plain_variable or (i.is_constant and not i.virtual) for i in ref.indices)


def rule_of(eq: ir.Equation, program: Program) -> Rule | None:
    """The equation as a Datalog rule, or None when it is not one."""
    if not _plain(eq.lhs, program) or eq.aggregator not in (ir.Aggregator.SUM, ir.Aggregator.ADD):
        return None
    if eq.fact:
        return Rule(eq.lhs, (), ()) if all(i.is_constant for i in eq.lhs.indices) else None
    factors = eq.rhs.factors if isinstance(eq.rhs, ir.Product) and not any(eq.rhs.inverted) else (eq.rhs,)
    atoms, negated = [], []
    for factor in factors:
        if isinstance(factor, ir.Ref) and _plain(factor, program):
            atoms.append(factor)
        elif isinstance(factor, ir.Call) and factor.function == "not" and isinstance(factor.args[0], ir.Ref) \
                and _plain(factor.args[0], program):
            negated.append(factor.args[0])
        else:
            return None
    bound = {i.plain_variable for ref in atoms for i in ref.indices}
    if any(i.plain_variable and i.plain_variable not in bound for i in eq.lhs.indices) or not atoms:
        return None
    return Rule(eq.lhs, tuple(atoms), tuple(negated))


def _vars(ref: ir.Ref) -> tuple:
    return tuple(i.plain_variable for i in ref.indices)


def closure_shape(program: Program, stratum: Stratum) -> Closure | None:
    """The closure shape of a one-relation recursive stratum with one binary recursive rule, else None."""
    if len(stratum.tensors) != 1:
        return None
    (name,) = stratum.tensors
    recursive = [k for k in stratum.equations if any(r.name == name for r in ir.refs(program.equations[k].rhs))]
    if len(recursive) != 1:
        return None
    rule = rule_of(program.equations[recursive[0]], program)
    if rule is None or rule.negated or len(rule.atoms) != 2 or \
            any(len(r.indices) != 2 for r in (rule.head, *rule.atoms)):
        return None
    (x, z), ((a, b), (c, d)) = _vars(rule.head), (_vars(r) for r in rule.atoms)
    first, second = rule.atoms
    if None in (x, z, a, b, c, d) or len({x, b, z}) != 3 or (x, b, z) != (a, c, d):
        return None
    if first.name == name and second.name == name:
        return Closure("square", recursive[0], None)
    if first.name == name:
        return Closure("right", recursive[0], second)
    if second.name == name:
        return Closure("left", recursive[0], first)
    return None


def relational(program: Program, stratum: Stratum) -> bool:
    """True when every equation of a plain or semi-naive stratum is a Datalog rule."""
    return stratum.mode in (Mode.PLAIN, Mode.SEMINAIVE) and all(
        program.tensors[t].relation for t in stratum.tensors) and all(
        rule_of(program.equations[k], program) is not None for k in stratum.equations)


def plan_relations(program: Program, strata: tuple[Stratum, ...], shapes: Shapes, nnz: dict[str, int],
                   force: str = "auto") -> RelationPlan:
    """Choose each stratum's strategy and each relation's storage; ``nnz`` counts the inputs' true tuples."""
    force = relations_option(force)
    size = {n: math.prod(e) for n, e in shapes.extents.items()}
    plans = tuple(_plan_stratum(program, s, shapes, size, nnz, force) for s in strata)
    readers: dict[str, list[StratumPlan]] = {}
    for stratum, plan in zip(strata, plans):
        for k in stratum.equations:
            for ref in ir.refs(program.equations[k].rhs):
                if ref.name not in stratum.tensors:
                    readers.setdefault(ref.name, []).append(plan)
    storage = {}
    for name, info in program.tensors.items():
        if not info.relation or name not in size:
            continue
        general_reader = any(not p.relational for p in readers.get(name, ()))
        if info.defined:
            own = next(p for s, p in zip(strata, plans) if name in s.tensors)
            sparse = own.strategy == "sparse"
        else:
            density = nnz.get(name, size[name]) / max(size[name], 1)
            sparse = density <= SPARSE_INPUT_DENSITY or size[name] > PLAIN_SPARSE_SIZE
        storage[name] = "sparse" if sparse and not general_reader else "dense"
    return RelationPlan(plans, storage)


def _plan_stratum(program: Program, stratum: Stratum, shapes: Shapes, size: dict, nnz: dict,
                  force: str) -> StratumPlan:
    if not relational(program, stratum):
        return StratumPlan("einsum", {}, "not a set of Datalog rules" if stratum.mode in (Mode.PLAIN, Mode.SEMINAIVE)
                           else f"{stratum.mode.value} stratum")
    touched = set(stratum.tensors) | {r.name for k in stratum.equations for r in ir.refs(program.equations[k].rhs)}
    largest = max(size.get(n, 0) for n in touched)
    if stratum.mode is Mode.PLAIN:
        if force == "sparse" or (force == "auto" and largest > PLAIN_SPARSE_SIZE):
            return StratumPlan("sparse", {}, "non-recursive rules" + (", forced" if force == "sparse" else
                                                                       f"; a relation has {largest:.3g} elements"))
        return StratumPlan("einsum", {}, "non-recursive rules, small relations")
    closure = closure_shape(program, stratum)
    costs = _costs(program, stratum, closure, shapes, size, nnz)
    if force != "auto":
        if not math.isinf(costs.get(force, math.inf)):
            choice, why = force, "forced"
        elif force == "closure" and closure is None and not math.isinf(costs["dense"]):
            choice, why = "dense", "closure forced but the recursion is not closure-shaped"
        else:
            choice, why = "sparse", f"{force} forced but infeasible over {DENSE_BUDGET:.3g} elements" \
                if closure is not None or force == "dense" else "closure forced but not closure-shaped"
    else:
        choice = min(costs, key=costs.get)
        why = "lowest estimated cost"
    return StratumPlan(choice, costs, why, closure if choice == "closure" else None)


def _costs(program: Program, stratum: Stratum, closure: Closure | None, shapes: Shapes, size: dict,
           nnz: dict) -> dict[str, float]:
    """Estimated ns of each strategy; the dense ones are infeasible over ``DENSE_BUDGET``."""
    members = set(stratum.tensors)
    dense_size = sum(size[t] for t in members)
    rows = max(max(shapes.extents[t], default=1) for t in members)
    reads = {r.name for k in stratum.equations for r in ir.refs(program.equations[k].rhs)} - members
    read_nnz = sum(nnz.get(n, size.get(n, 0)) for n in reads) or dense_size
    if closure is not None and closure.step is not None:
        step = nnz.get(closure.step.name, size.get(closure.step.name, 0))
    else:
        step = read_nnz
    degree = step / max(rows, 1)
    if degree <= 1.05:
        depth = rows
    else:
        depth = min(rows, math.ceil(2 * math.log(max(rows, 2)) / math.log(degree)))
    reach = rows if degree <= 1.05 else min(rows, degree ** depth)
    result = min(dense_size, read_nnz * max(reach, depth))
    costs = {"sparse": NS_SPARSE * (result * (1 + degree) + depth * result / 2) + NS_ROUND * depth}
    feasible = max(size[t] for t in members) <= DENSE_BUDGET
    join = rows * step if closure is not None else dense_size * max(degree, 1)
    costs["dense"] = depth * (NS_ROUND + NS_DENSE * 4 * dense_size + NS_SPARSE / 10 * join) if feasible \
        else math.inf
    if closure is not None:
        words = step * math.ceil(rows / 64)    # every edge joins its target component's reach row
        costs["closure"] = NS_COMPONENT * rows + NS_WORD * words + NS_DENSE * 2 * dense_size if feasible \
            else math.inf
    return costs
