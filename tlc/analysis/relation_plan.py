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
  selects it. A backend with the ``NATIVE_CLOSURE`` capability (llvm) runs its loop as a compiled kernel, and
  runs a ``sparse`` closure-shaped stratum as a compiled traversal per source instead of semi-naive rounds;
- ``semiring`` (a numeric ``min=``/``max=`` fixpoint, not a Datalog stratum): a path step through a weight
  matrix relaxed over its CSR, only the elements that changed in the last round, or Dijkstra
  (``tlc.analysis.semiring_plan``, ``tlc_runtime.semiring``);
- ``duckdb``: SQL inside DuckDB (``tlc.backends.shared.sql``): forced by ``relations="duckdb"``, or chosen under
  ``auto`` (when DuckDB is importable) for a relational stratum whose input relations hold more positions than
  the memory budget has elements, and for one that reads a relation kept in DuckDB.

Every other stratum keeps the general dense code (strategy ``einsum``). The plan is decided once the
shapes are known (``tlc.api`` specialises at the first call) and depends on the inputs' nnz.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from dataclasses import dataclass, field, replace

from tlc.errors import TlcError
from tlc.ir import nodes as ir
from tlc.ir.program import Program
from tlc.analysis.semiring_plan import NATIVE_SEMIRING, Semiring, semiring_costs, semiring_shape
from tlc.analysis.shapes import Shapes
from tlc.analysis.strata import Mode, Stratum

CHOICES = ("auto", "sparse", "dense", "closure", "duckdb", "semiring")
"""Values of ``tlc.compile(relations=...)`` and the CLI's ``--relations``."""
FORMER_NAMES = {"squaring": "closure"}
"""Strategy names of earlier releases, still accepted."""
NATIVE_CLOSURE = "native-closure"
"""Backend capability: the ``closure`` strategy's loop over strong components runs as a compiled kernel
(``tlc_runtime.reach`` with a native word-OR loop, split over threads) instead of on Python integers."""
NATIVE_JOINS = "native-joins"
"""Backend capability: ``sparse`` strata that are not run as a closure evaluate their rules by compiled join
kernels (``tlc_runtime.native_joins``: merge or hash joins, ``StratumPlan.join``) instead of NumPy/scipy."""
HASH_JOIN_TUPLES = 1 << 10
"""Input tuples from which native joins hash instead of merging. A merge join sorts each round's joined rows by the
next join key; probing a hash table of the inner side (built once per relation) needs no sort and measured 5-25%
faster from 2,000 input tuples up (same generation, mutual and linear recursion, bench_closure); below, either
takes microseconds and a merge join builds no table."""
NATIVE_BITSETS = "native-bitsets"
"""Backend capability: ``dense`` strata stay bitset rows across rounds (``tlc_runtime.bitsets``): rules join by
compiled Boolean products, projections and word operations (``tlc_runtime.bitset_plan``), and each round's delta and
union are one compiled pass."""
ARRAY_RELATIONS = "array-relations"
"""Backend capability: ``dense`` semi-naive strata run as the backend's own array code (the general schedule's,
``ScheduleEmitter.ARRAY_STRATEGIES``; Dask), not on ``tlc_runtime.sparse``, so their contractions are planned."""


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
CLOSURE_BUDGET = 2**28
"""Most elements a ``closure`` result may have: a dense Boolean array, one byte a pair (256 MiB), smaller than the
tuples of the same closure when over 1 pair in 20 holds (a tuple costs 20 bytes or more on its way)."""
NS_NATIVE_CALL, NS_NATIVE_EDGE, NS_NATIVE_WORD, NS_NATIVE_BYTE = NS_ROUND, 50.0, 1.0, 0.3
"""The native closure (``NATIVE_CLOSURE``), calibrated on chains, grids, random graphs and DAGs of 10^3 to 10^5 nodes
(benchmarks/bench_closure.py): its fixed cost (runtime calls, priced like a semi-naive round's), per edge (strong
components, condensation), per word OR of the bitset loop, per byte of the dense result written from the bitsets."""
NS_TRAVERSE_PAIR, NS_TRAVERSE_EDGE = 30.0, 2.0
"""The native traversal per source (a sparse closure-shaped stratum on a ``NATIVE_CLOSURE`` backend): per pair of
the closure (counted, written, then made tuples) and per edge followed from a node found."""


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
    """The closure shape of a ``closure`` or ``sparse`` recursive stratum that has one: a backend with
    ``NATIVE_CLOSURE`` runs a sparse one as a native traversal per source instead of semi-naive rounds."""
    semiring: Semiring | None = None
    join: str | None = None
    """The native join method of a ``sparse`` stratum (``merge`` or ``hash``) on a backend with ``NATIVE_JOINS``."""
    join_reason: str = ""

    @property
    def relational(self) -> bool:
        """True when the stratum runs on the relational runtime."""
        return self.strategy not in ("einsum", "semiring")

    @property
    def shown(self) -> bool:
        """True when ``explain`` describes the strategy (relational strata, and semiring-shaped ones)."""
        return self.relational or "semiring" in self.costs

    def describe(self) -> str:
        """One line for ``tlc explain``."""
        names = {"sparse": "sparse semi-naive" if self.costs else "sparse joins", "dense": "dense semi-naive",
                 "closure": "closure by strong components", "einsum": "dense tensor code", "duckdb": "SQL in DuckDB",
                 "semiring": "relaxing the changed elements over the CSR of the weights (Dijkstra for "
                             "non-negative shortest paths, checked at run time)"}
        costs = ", ".join(f"{k} {_seconds(v)}" for k, v in self.costs.items())
        what = "semiring" if "semiring" in self.costs else "relations"
        if self.semiring is not None and self.semiring.fold == "sum":
            names["semiring"] = "counting paths in one pass over the reached nodes in topological order (the dense " \
                                "rounds when that is not exact, checked at run time)"
        return f"{what}: {names[self.strategy]} ({self.reason}){'; estimated ' + costs if costs else ''}"

    def native_sparse_closure(self, native: bool, max_rounds: int | None) -> bool:
        """True when a sparse closure-shaped stratum runs as the native traversal per source on a backend with
        (``native``) ``NATIVE_CLOSURE``: not under ``max_rounds``, since a traversal has no rounds to count."""
        return native and self.strategy == "sparse" and self.closure is not None and max_rounds is None

    def native_joins(self, native: bool, max_rounds: int | None) -> bool:
        """True when a ``sparse`` stratum's rules run as native joins on a backend with (``native``) ``NATIVE_JOINS``:
        every sparse stratum but one run as a native closure."""
        return native and self.strategy == "sparse" and self.join is not None and \
            not self.native_sparse_closure(native, max_rounds)

    def runs_on(self, capabilities: frozenset[str] = frozenset(), threads: int = 1,
                max_rounds: int | None = None) -> str:
        """Where a relational stratum runs on a backend with ``capabilities`` using ``threads`` threads."""
        plural = "s" if threads != 1 else ""
        if self.strategy == "duckdb":
            return "DuckDB"
        if self.strategy == "closure" and NATIVE_CLOSURE in capabilities:
            return f"closure: native llvm kernel, {threads} thread{plural}"
        if self.native_sparse_closure(NATIVE_CLOSURE in capabilities, max_rounds):
            return f"sparse closure: native llvm kernel (a traversal per source), {threads} thread{plural}"
        if self.native_joins(NATIVE_JOINS in capabilities, max_rounds):
            kind = "sparse semi-naive" if self.costs else "sparse joins"
            return f"{kind}: native llvm kernel ({self.join} join), {threads} thread{plural}; {self.join_reason}"
        if self.strategy == "closure":
            return "closure: NumPy runtime (tlc_runtime.reach, bitsets in Python integers)"
        if self.strategy == "dense" and ARRAY_RELATIONS in capabilities:
            return "dense semi-naive: the backend's array code (Boolean products as its contractions)"
        if self.strategy == "dense" and NATIVE_BITSETS in capabilities:
            return (f"dense semi-naive: native llvm kernels on bitset rows (tlc_runtime.bitsets: the relations stay "
                    f"packed across rounds; joins, deltas and unions word-parallel), {threads} thread{plural}; a rule "
                    f"without a bitset plan joins in NumPy on unpacked rows (the backend's notes name each rule's)")
        if self.strategy == "dense":
            return "dense semi-naive: NumPy/scipy runtime (tlc_runtime.sparse)"
        if self.strategy == "sparse":
            return f"{'sparse semi-naive' if self.costs else 'sparse joins'}: NumPy/scipy runtime (tlc_runtime.sparse)"
        if self.strategy == "semiring" and self.semiring.fold == "sum":
            return (f"path counting: native llvm kernels (the nodes the base reaches in topological order, one pass a "
                    f"slice), {threads} thread{plural} over slices; the dense rounds instead when data is supplied "
                    f"for the tensor, a weight or base count is not a non-negative integer, the base reaches a cycle, "
                    f"a count reaches 2^53 or the round bound is reached (checked at run time)")
        if self.strategy == "semiring" and NATIVE_SEMIRING in capabilities:
            return (f"semiring: native llvm kernels (semi-naive relaxation over CSR a slice at a time; label setting "
                    f"with a heap when no path step can improve a value, checked at run time), "
                    f"{threads} thread{plural} over slices")
        if self.strategy == "semiring":
            return "semiring relaxation: NumPy/scipy runtime (tlc_runtime.semiring)"
        return "dense tensor code on the backend"


@dataclass(frozen=True)
class RelationPlan:
    """Per stratum a ``StratumPlan``; per relation its storage (``sparse`` or ``dense``)."""

    strata: tuple[StratumPlan, ...]
    storage: dict[str, str]
    budgeted: dict[str, str] | None = field(default=None, compare=False)
    """The storage the memory budget counts (``counted_alike``); None: ``storage``."""

    @property
    def relational(self) -> bool:
        """True when some stratum runs as tuple joins or some relation is stored sparsely."""
        return any(p.relational for p in self.strata) or "sparse" in self.storage.values()

    def signature(self) -> tuple:
        """What the emitted code depends on (for caching specialisations)."""
        return tuple(p.strategy for p in self.strata), tuple(sorted(self.storage.items()))

    def counted_storage(self) -> dict[str, str]:
        """Per relation the storage the memory budget counts it in."""
        return self.storage if self.budgeted is None else self.budgeted


PLANNING_CAPABILITIES = frozenset({NATIVE_CLOSURE, NATIVE_SEMIRING})
"""Backend capabilities that change the relation planner's choices (and so a relation's storage)."""


def storage_can_matter(plan: RelationPlan, program: Program, shapes: Shapes, limit: int) -> bool:
    """Whether how relations are stored can decide the memory budget: ``plan`` stores some relation sparse, and the
    tensors the program defines with every relation held dense would exceed ``limit`` elements (else no choice of
    storage is refused, and ``counted_alike`` needs no reference plan)."""
    if "sparse" not in plan.storage.values():
        return False
    held = [n for n, info in program.tensors.items() if (info.defined or info.relation) and n in shapes.extents]
    return sum(math.prod(shapes.extents[n]) for n in held) > limit


def counted_alike(plan: RelationPlan, reference: RelationPlan) -> RelationPlan:
    """``plan`` with the memory budget counting a relation dense wherever it or the capability-free ``reference``
    plan stores it dense, so whether a program fits the budget does not depend on the backend's kernels."""
    dense = {n for p in (plan, reference) for n, s in p.storage.items() if s == "dense"}
    return replace(plan, budgeted={n: "dense" if n in dense else s for n, s in plan.storage.items()})


def _seconds(ns: float) -> str:
    return "infeasible" if math.isinf(ns) else f"~{ns / 1e9:.2g} s"


def _plain(ref: ir.Ref, program: Program) -> bool:
    return ref.relation and ref.name not in program.virtual_axes and all(
        i.plain_variable or (i.is_constant and not i.virtual) for i in ref.indices)


def rule_of(eq: ir.Equation, program: Program) -> Rule | None:
    """The equation as a Datalog rule, or None when it is not one (kept in ``program.analyses`` per equation: the
    planner, the reach sampling and the emitters ask about each equation several times a call)."""
    known = program.analyses.setdefault(rule_of, {})
    found = known.get(id(eq))
    if found is None or found[0] is not eq:     # the equation kept too: an id alone may be reused
        found = known[id(eq)] = (eq, _rule_of(eq, program))
    return found[1]


def _rule_of(eq: ir.Equation, program: Program) -> Rule | None:
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
    """The closure shape of a one-relation recursive stratum with one binary recursive rule, else None (kept in
    ``program.analyses`` per stratum)."""
    known = program.analyses.setdefault(closure_shape, {})
    key = stratum.tensors, stratum.equations        # all it reads of the stratum (a recurrence is not hashable)
    if key not in known:
        known[key] = _closure_shape(program, stratum)
    return known[key]


def _closure_shape(program: Program, stratum: Stratum) -> Closure | None:
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


FOLD_COMBINE = {"min": "max", "max": "min"}
"""Per ``min=``/``max=`` fold, the function its terms may combine by besides ``+``: the operations for which the
fold's identity (+inf for min, -inf for max) absorbs, so a table may leave out elements equal to it."""


def fold_of(program: Program, stratum: Stratum) -> str | None:
    """The fold of a stratum of one numeric tensor that DuckDB runs as grouped aggregates, else None: for a
    fixpoint, ``min``/``max`` when its ``min=``/``max=`` equations combine plain reads of numeric tensors by
    ``+`` and ``max`` (min=) or ``min`` (max=) (shortest and widest paths), ``sum`` when its sum equations are
    sums of products of plain reads (relations read as 0/1) and constants, each product reading the tensor at
    most once (path counting); for a non-recursive stratum, ``sum`` for such sums of products (``Count[x] =
    Path(x, y)``, ``Y[i] = A[i, j] B[j]``: a join with ``sum(v)``), ``avg`` for ``avg=`` equations of such
    sums (``sum(v)`` over the number of elements averaged)."""
    if stratum.mode not in (Mode.FIXPOINT, Mode.PLAIN) or len(stratum.tensors) != 1:
        return None
    (name,) = stratum.tensors
    info = program.tensors[name]
    fold = program.reduction(name)
    if info.relation or fold not in (*FOLD_COMBINE, "sum", "avg") or name in program.virtual_axes or not info.rank:
        return None
    if stratum.mode is Mode.PLAIN and fold not in ("sum", "avg") or stratum.mode is Mode.FIXPOINT and fold == "avg":
        return None
    for k in stratum.equations:
        eq = program.equations[k]
        if eq.aggregator.reduction != fold or not _plain_numeric(eq.lhs, program) or \
                len({i.plain_variable for i in eq.lhs.indices}) != len(eq.lhs.indices) or \
                any(i.plain_variable is None for i in eq.lhs.indices):
            return None
        terms = sum_terms(eq.rhs) if fold in ("sum", "avg") else [eq.rhs]
        if not terms or not all(_combines(t, FOLD_COMBINE.get(fold), program) for t in terms):
            return None
        for term in terms:
            bound = {i.plain_variable for ref in ir.refs(term) for i in ref.indices}
            if any(i.plain_variable not in bound for i in eq.lhs.indices) or \
                    sum(r.name == name for r in ir.refs(term)) > 1:
                return None
    return fold


def _fold_shape(program: Program, stratum: Stratum) -> str:
    fold = fold_of(program, stratum)
    if stratum.mode is Mode.PLAIN:
        return "a join with tensor semantics as grouped sum(v)" + (" over the elements averaged" if fold == "avg"
                                                                   else "")
    if fold != "sum":
        return f"a {fold}= fixpoint as grouped {fold}(v) in one WITH RECURSIVE ... USING KEY"
    return "a sum fixpoint as grouped sum(v) in a semi-naive loop over temporary tables"


def sum_terms(expr) -> list:
    """A sum fold's right-hand side as its product terms (``A + B C`` -> ``[A, B C]``), or [] when it is not a
    sum of products of reads and constants."""
    terms = expr.terms if isinstance(expr, ir.Sum) and all(s == 1 for s in expr.signs) else (expr,)
    if any(isinstance(t, ir.Product) and any(t.inverted) for t in terms):
        return []
    return [t for t in terms if isinstance(t, (ir.Ref, ir.Product))] if \
        all(isinstance(t, (ir.Ref, ir.Product)) for t in terms) else []


def _plain_numeric(ref: ir.Ref, program: Program) -> bool:
    return not ref.relation and ref.name not in program.virtual_axes and all(
        i.plain_variable or (i.is_constant and not i.virtual) for i in ref.indices)


def _combines(expr, function: str | None, program: Program) -> bool:
    """Whether ``expr`` is made of plain reads and finite constants by ``+`` and ``function`` (a min/max fold)
    or by products (``function`` None: a term of a sum fold)."""
    if isinstance(expr, ir.Ref):
        return _plain_numeric(expr, program) or (function is None and _plain(expr, program))
    if isinstance(expr, ir.Num):
        return math.isfinite(expr.value)
    if function is None:
        return isinstance(expr, ir.Product) and not any(expr.inverted) and \
            all(_combines(f, None, program) for f in expr.factors)
    if isinstance(expr, ir.Sum):
        return all(s == 1 for s in expr.signs) and all(_combines(t, function, program) for t in expr.terms)
    if isinstance(expr, ir.Call):
        return expr.function == function and expr.axis is None and all(_combines(a, function, program)
                                                                       for a in expr.args)
    return False


def linear(program: Program, stratum: Stratum) -> bool:
    """True when a recursive stratum defines one relation and each of its rules reads it at most once (one
    SQL ``WITH RECURSIVE ... UNION`` evaluates it semi-naively); mutual or non-linear recursion is not."""
    if len(stratum.tensors) != 1:
        return False
    (name,) = stratum.tensors
    return all(sum(r.name == name for r in ir.refs(program.equations[k].rhs)) <= 1 for k in stratum.equations)


def duckdb_available() -> bool:
    """True when the ``duckdb`` module can be imported (the ``duckdb`` extra is installed)."""
    return sys.modules.get("duckdb") is not None or importlib.util.find_spec("duckdb") is not None


def plan_relations(program: Program, strata: tuple[Stratum, ...], shapes: Shapes, nnz: dict[str, int],
                   force: str = "auto", budget: int | None = None, max_rounds: int | None = None,
                   capabilities: frozenset[str] = frozenset(), reach: dict[str, float] | None = None) -> RelationPlan:
    """Choose each stratum's strategy and each relation's storage; ``nnz`` counts the inputs' true tuples,
    ``budget`` is the memory budget in elements (None: no limit), against which ``auto`` weighs DuckDB, and
    ``max_rounds`` the bound on rounds (DuckDB then runs linear recursion as a loop, which counts them).
    ``capabilities`` are the backend's (``NATIVE_CLOSURE`` prices closures as its kernels run them) and ``reach``
    the mean number of nodes a node of an input relation reaches (``tlc_runtime.reach.mean_reach``, sampled),
    which sizes the closure of that relation."""
    force = relations_option(force)
    native = NATIVE_CLOSURE in capabilities and max_rounds is None
    size = {n: math.prod(e) for n, e in shapes.extents.items()}
    in_duckdb: set[str] = set()     # relations defined by strata planned for DuckDB so far
    plans = []
    for stratum in strata:
        plan = _plan_stratum(program, stratum, shapes, size, nnz, force, max_rounds, native, reach or {},
                             NATIVE_SEMIRING in capabilities)
        if plan.relational and force == "auto" and duckdb_available():
            plan = _duckdb_instead(program, stratum, plan, budget, nnz, in_duckdb, max_rounds)
        elif force == "auto" and stratum.mode is Mode.PLAIN and fold_of(program, stratum) is not None:
            kept = sorted({r.name for k in stratum.equations for r in ir.refs(program.equations[k].rhs)} & in_duckdb)
            if kept:    # the relation stays in DuckDB: no dense copy of it is made
                plan = StratumPlan("duckdb", {}, f"{_fold_shape(program, stratum)}; reads {', '.join(kept)}, kept "
                                                 f"in DuckDB")
        if plan.relational and plan.strategy != "duckdb":
            _check_positions(program, stratum, budget, nnz)
        if plan.strategy == "duckdb":
            in_duckdb.update(stratum.tensors)
        plans.append(plan)
    plans = tuple(plans)
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
            sparse = own.strategy in ("sparse", "duckdb")
        else:
            density = nnz.get(name, size[name]) / max(size[name], 1)
            sparse = density <= SPARSE_INPUT_DENSITY or size[name] > PLAIN_SPARSE_SIZE or \
                (bool(readers.get(name)) and all(p.strategy == "duckdb" for p in readers[name]))
        storage[name] = "sparse" if sparse and not general_reader else "dense"
    return RelationPlan(plans, storage)


def _input_positions(program: Program, stratum: Stratum, nnz: dict) -> int:
    """Positions (tuples times arity) of the input relations a stratum reads: counted, not estimated (estimates
    of recursive results are far too coarse to refuse or move a program on)."""
    reads = {r.name for k in stratum.equations for r in ir.refs(program.equations[k].rhs)}
    return sum(nnz[n] * max(program.tensors[n].rank, 1) for n in reads if n in nnz)


def _check_positions(program: Program, stratum: Stratum, budget: int | None, nnz: dict) -> None:
    """In memory, a stratum's input relations alone must fit the memory budget (its joins need more)."""
    counted = _input_positions(program, stratum, nnz)
    if budget is not None and counted > budget:
        eq = program.equations[stratum.equations[0]]
        hint = "relations='duckdb' (--relations duckdb) runs it inside DuckDB, which spills to disk" \
            if duckdb_available() else "with the duckdb extra (pip install 'tlc[duckdb]') it runs inside DuckDB"
        raise TlcError(f"the input relations of {', '.join(stratum.tensors)} hold {counted:,} positions, over the "
                       f"memory budget of {budget:,} elements; {hint}", eq.span)


def _duckdb_instead(program: Program, stratum: Stratum, plan: StratumPlan, budget: int | None, nnz: dict,
                    in_duckdb: set[str], max_rounds: int | None) -> StratumPlan:
    """Under ``auto``: DuckDB for a stratum whose input relations hold more positions than the memory budget has
    elements, or that reads relations DuckDB keeps."""
    reads = {r.name for k in stratum.equations for r in ir.refs(program.equations[k].rhs)}
    counted = _input_positions(program, stratum, nnz)
    if budget is not None and counted > budget:
        why = f"its input relations hold {counted:.3g} positions, over the memory budget of {budget:.3g} elements"
    else:
        kept = sorted(reads & in_duckdb)
        if not kept:
            return plan
        why = f"reads {', '.join(kept)}, kept in DuckDB"
    return StratumPlan("duckdb", {}, _duckdb_reason(program, stratum, why, max_rounds))


def _duckdb_reason(program: Program, stratum: Stratum, why: str, max_rounds: int | None) -> str:
    if stratum.mode is Mode.PLAIN:
        shape = "non-recursive rules as SELECT ... UNION"
    elif linear(program, stratum) and max_rounds is not None:
        shape = f"linear recursion as a semi-naive loop over temporary tables (max_rounds={max_rounds} counts rounds)"
    elif linear(program, stratum):
        shape = "linear recursion as one WITH RECURSIVE ... UNION"
    else:
        shape = "mutual or non-linear recursion as a semi-naive loop over temporary tables"
    return f"{shape}; {why}"


def _plan_stratum(program: Program, stratum: Stratum, shapes: Shapes, size: dict, nnz: dict,
                  force: str, max_rounds: int | None, native: bool, reach: dict[str, float],
                  counting: bool) -> StratumPlan:
    """One stratum's plan; ``counting``: the backend runs path counting natively (``NATIVE_SEMIRING``)."""
    if force == "duckdb" and fold_of(program, stratum) is not None:
        return StratumPlan("duckdb", {}, f"{_fold_shape(program, stratum)}; forced")
    semiring = semiring_shape(program, stratum, shapes)
    if semiring is not None and (semiring.fold != "sum" or counting):
        return _plan_semiring(semiring, stratum, shapes, force)
    force = "auto" if force == "semiring" else force
    if not relational(program, stratum):
        return StratumPlan("einsum", {}, "not a set of Datalog rules" if stratum.mode in (Mode.PLAIN, Mode.SEMINAIVE)
                           else f"{stratum.mode.value} stratum")
    if force == "duckdb":
        return StratumPlan("duckdb", {}, _duckdb_reason(program, stratum, "forced", max_rounds))
    touched = set(stratum.tensors) | {r.name for k in stratum.equations for r in ir.refs(program.equations[k].rhs)}
    largest = max(size.get(n, 0) for n in touched)
    if stratum.mode is Mode.PLAIN:
        if force == "sparse" or (force == "auto" and largest > PLAIN_SPARSE_SIZE):
            return StratumPlan("sparse", {}, "non-recursive rules" + (", forced" if force == "sparse" else
                                                                       f"; a relation has {largest:.3g} elements"),
                               **_join_method(program, stratum, nnz))
        return StratumPlan("einsum", {}, "non-recursive rules, small relations")
    closure = closure_shape(program, stratum)
    costs = _costs(program, stratum, closure, shapes, size, nnz, native, reach)
    if force != "auto":
        if not math.isinf(costs.get(force, math.inf)):
            choice, why = force, "forced"
        elif force == "closure" and closure is None and not math.isinf(costs["dense"]):
            choice, why = "dense", "closure forced but the recursion is not closure-shaped"
        else:
            limit = CLOSURE_BUDGET if force == "closure" else DENSE_BUDGET
            choice, why = "sparse", f"{force} forced but infeasible over {limit:.3g} elements" \
                if closure is not None or force == "dense" else "closure forced but not closure-shaped"
    else:
        choice = min(costs, key=costs.get)
        why = "lowest estimated cost"
    return StratumPlan(choice, costs, why, closure if choice in ("closure", "sparse") else None,
                       **(_join_method(program, stratum, nnz) if choice == "sparse" else {}))


def _join_method(program: Program, stratum: Stratum, nnz: dict) -> dict:
    """The native join method of a sparse stratum, from the tuples of the input relations it reads (the inner
    side of most of its joins; relations earlier strata derive are not counted, their sizes are not known when
    planning): ``StratumPlan``'s ``join`` and ``join_reason``."""
    reads = {r.name for k in stratum.equations for r in ir.refs(program.equations[k].rhs)} - set(stratum.tensors)
    counted = [nnz[n] for n in reads if n in nnz]
    tuples = max(counted, default=0)
    if not counted:
        return {"join": "merge", "join_reason": "it reads no input relation (the sizes of derived ones are not known "
                                                "when planning)"}
    if tuples >= HASH_JOIN_TUPLES:
        return {"join": "hash", "join_reason": f"an input relation holds {tuples:,} tuples, at least "
                                               f"{HASH_JOIN_TUPLES:,}: probing hash tables beats sorting the joined "
                                               f"rows by each join key"}
    return {"join": "merge", "join_reason": f"the input relations hold at most {tuples:,} tuples, under "
                                            f"{HASH_JOIN_TUPLES:,}: sorting them costs less than building hash tables"}


def _plan_semiring(semiring: Semiring, stratum: Stratum, shapes: Shapes, force: str) -> StratumPlan:
    """A semiring recursion runs on the semiring runtime when forced or cheaper; a forced Datalog strategy keeps
    the dense code."""
    costs = semiring_costs(semiring, stratum.tensors[0], shapes)
    if force not in ("auto", "semiring"):
        return StratumPlan("einsum", costs, f"{force} forced, which applies to Datalog strata only")
    choice = "semiring" if force == "semiring" or costs["semiring"] < costs["einsum"] else "einsum"
    step = f"a path count (a sum of products) through {semiring.weights}" if semiring.fold == "sum" else \
        f"a {semiring.fold}= path step by {semiring.combine} through {semiring.weights}"
    why = f"{step}; {'forced' if force == 'semiring' else 'lowest estimated cost'}"
    return StratumPlan(choice, costs, why, semiring=semiring if choice == "semiring" else None)


def _costs(program: Program, stratum: Stratum, closure: Closure | None, shapes: Shapes, size: dict,
           nnz: dict, native: bool, reach: dict[str, float]) -> dict[str, float]:
    """Estimated ns of each strategy; dense is infeasible over ``DENSE_BUDGET`` elements, closure over
    ``CLOSURE_BUDGET``. On a ``native`` closure backend a closure-shaped stratum's ``sparse`` is the traversal per
    source, and ``closure`` the compiled loop; a sampled ``reach`` of the step sizes its closure."""
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
    sampled = reach.get(closure.step.name) if closure is not None and closure.step is not None else None
    if sampled is not None:      # pairs of the step's closure: its nodes times the mean reach of one
        result = min(dense_size, max(rows * sampled, step))
    else:
        result = min(dense_size, read_nnz * max(rows if degree <= 1.05 else min(rows, degree ** depth), depth))
    if native and closure is not None:
        costs = {"sparse": NS_NATIVE_CALL + NS_TRAVERSE_PAIR * result + NS_TRAVERSE_EDGE * result * degree}
    else:
        costs = {"sparse": NS_SPARSE * (result * (1 + degree) + depth * result / 2) + NS_ROUND * depth}
    join = rows * step if closure is not None else dense_size * max(degree, 1)
    costs["dense"] = depth * (NS_ROUND + NS_DENSE * 4 * dense_size + NS_SPARSE / 10 * join) \
        if max(size[t] for t in members) <= DENSE_BUDGET else math.inf
    if closure is not None:
        words = step * math.ceil(rows / 64)    # every edge joins its target component's reach row
        if max(size[t] for t in members) > CLOSURE_BUDGET:
            costs["closure"] = math.inf
        elif native:
            costs["closure"] = NS_NATIVE_CALL + NS_NATIVE_EDGE * step + NS_NATIVE_WORD * words + \
                NS_NATIVE_BYTE * dense_size
        else:
            costs["closure"] = NS_COMPONENT * rows + NS_WORD * words + NS_DENSE * 2 * dense_size
    return costs
