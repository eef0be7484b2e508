"""An IR mutator for metamorphic tests: each mutation knows how the mutant's results must relate.

Every mutator takes a ``FuzzProgram`` and a ``random.Random`` and returns a ``Mutation`` (the mutant and
its ``Expectation``) or None when it does not apply. No mutator renames a tensor, so the original's
inputs fit the mutant. ``check_mutation`` runs both and verifies the expectation; no reference needed.

| mutator | change | expectation |
|---------|--------|-------------|
| ``swap-operands`` | permute the factors of a product or the terms of a sum | same results |
| ``rename-indices`` | rename one equation's index variables consistently | same results |
| ``duplicate-equations`` | repeat every equation of a sum-defined tensor with ``+=`` | that tensor doubles |
| ``change-aggregator`` | switch a tensor between ``max=``, ``avg=`` and ``min=`` | max >= avg >= min |
| ``insert-identity`` | ``x * 1``, ``x / 1``, ``x + 0``, ``--x``, ``x ^ 1`` at some node | same results |
| ``reorder-statements`` | shuffle the equations | same results |
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import networkx as nx
import numpy as np

from tlc.fuzz.generate import FuzzProgram, as_fuzz_program, symbol_table
from tlc.fuzz.oracle import ATOL, RTOL, Outcome, compare_outcomes, compare_values, run_config
from tlc.ir import nodes as ir
from tlc.analysis.projection import analyse
from tlc.analysis.shapes import symbolic_axes
from tlc.analysis.strata import stratify, tensor_graph


# ------------------------------------------------------------------------------------------ expectations
class Expectation:
    """How a mutant's results relate to the original's."""

    def verify(self, before: Outcome, after: Outcome, rtol: float = RTOL, atol: float = ATOL) -> list[str]:
        """Problems found (empty when the expectation holds)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Same(Expectation):
    """Every tensor and query answer is unchanged (relations compared as sets of tuples)."""

    def verify(self, before, after, rtol=RTOL, atol=ATOL):
        return [p for _, p in compare_outcomes(before, after, rtol, atol, relations_as_sets=True)]

    def __str__(self):
        return "same results"


def _unchanged(before: Outcome, after: Outcome, names, rtol, atol) -> list[str]:
    problems = []
    for name in names:
        if name in before.values:
            problem = compare_values(name, before.values[name], after.values.get(name), rtol, atol,
                                     relations_as_sets=True) if name in after.values else f"{name} is missing"
            if problem:
                problems.append(f"{problem} (it does not depend on the mutation)")
    return problems


@dataclass(frozen=True)
class Scaled(Expectation):
    """``tensor`` is multiplied by ``factor``; tensors that do not depend on it are unchanged."""

    tensor: str
    factor: float
    unaffected: tuple[str, ...]

    def verify(self, before, after, rtol=RTOL, atol=ATOL):
        if self.tensor not in after.values:
            return [f"{self.tensor} is missing"]
        expected = np.asarray(before.values[self.tensor]) * self.factor
        problem = compare_values(self.tensor, expected, after.values[self.tensor], max(rtol, 1e-9), atol)
        return ([f"{problem} (expected {self.factor:g} times the original)"] if problem else []) + \
            _unchanged(before, after, self.unaffected, rtol, atol)

    def __str__(self):
        return f"{self.tensor} times {self.factor:g}"


@dataclass(frozen=True)
class Ordered(Expectation):
    """``after[tensor] >= before[tensor]`` elementwise (``direction=1``) or ``<=`` (``-1``)."""

    tensor: str
    direction: int
    unaffected: tuple[str, ...]

    def verify(self, before, after, rtol=RTOL, atol=ATOL):
        if self.tensor not in after.values:
            return [f"{self.tensor} is missing"]
        b = np.asarray(before.values[self.tensor], dtype=np.float64)
        a = np.asarray(after.values[self.tensor], dtype=np.float64)
        if a.shape != b.shape:
            return [f"{self.tensor}: shape {a.shape}, expected {b.shape}"]
        slack = atol * max(1.0, float(np.max(np.abs(b), initial=0.0))) + 1e-9 * np.abs(b)
        bad = (a - b) * self.direction < -slack
        problems = []
        if bad.any():
            spot = tuple(int(x) for x in np.argwhere(bad)[0])
            sign = ">=" if self.direction > 0 else "<="
            problems.append(f"{self.tensor}: expected mutant {sign} original elementwise; at {spot} got "
                            f"{a[spot]!r} vs {b[spot]!r}")
        return problems + _unchanged(before, after, self.unaffected, rtol, atol)

    def __str__(self):
        return f"{self.tensor} {'grows' if self.direction > 0 else 'shrinks'} elementwise"


@dataclass(frozen=True)
class Mutation:
    """A mutant program and how its results must relate to the original's."""

    kind: str
    program: FuzzProgram
    expectation: Expectation
    description: str


Mutator = Callable[[FuzzProgram, random.Random], Mutation | None]
MUTATORS: dict[str, Mutator] = {}


def mutator(name: str):
    """Register a mutator under ``name``."""
    def register(fn: Mutator) -> Mutator:
        MUTATORS[name] = fn
        return fn
    return register


# ------------------------------------------------------------------------------------------ helpers
def _with_equation(program: FuzzProgram, index: int, new: ir.Equation) -> FuzzProgram:
    statements = list(program.statements)
    positions = [k for k, s in enumerate(statements) if isinstance(s, ir.Equation)]
    statements[positions[index]] = new
    return FuzzProgram.from_statements(tuple(statements), program.supplied)


def _rules(program: FuzzProgram) -> list[int]:
    """Numbers of equations (not facts) that a mutation may rewrite (concat equations excluded)."""
    return [k for k, eq in enumerate(program.ir.equations) if not eq.fact
            and not any(isinstance(n, ir.Call) and n.function == "concat" for n in ir.walk(eq.rhs))]


def _recursive_tensors(program: FuzzProgram) -> set[str]:
    return {t for s in stratify(program.ir) if s.recursive for t in s.tensors}


def _same_symbols(program: FuzzProgram, mutant: FuzzProgram) -> bool:
    """True when the mutant numbers its named constants as the original does (array data depends on it)."""
    if mutant.error:
        return True      # reported by the oracle as a round-trip failure
    table = [symbol_table(p.ir, symbolic_axes(p.ir, set())) for p in (program, mutant)]
    return table[0] == table[1]


def _unaffected(program: FuzzProgram, name: str) -> tuple[str, ...]:
    graph = tensor_graph(program.ir)
    downstream = nx.descendants(graph, name) | {name}
    return tuple(n for n, i in program.ir.tensors.items() if i.defined and n not in downstream)


# ------------------------------------------------------------------------------------------ mutators
@mutator("swap-operands")
def swap_operands(program: FuzzProgram, rng: random.Random) -> Mutation | None:
    """Permute the operands of one product (or the terms of one sum)."""
    spots = [(k, path) for k in _rules(program)
             for path, node in ir.with_paths(program.ir.equations[k].rhs)
             if isinstance(node, (ir.Product, ir.Sum)) and len(ir.children(node)) > 1]
    if not spots:
        return None
    k, path = rng.choice(spots)
    eq = program.ir.equations[k]
    node = ir.node_at(eq.rhs, path)
    flags = node.inverted if isinstance(node, ir.Product) else tuple(s < 0 for s in node.signs)
    order = list(range(len(flags)))
    for _ in range(8):
        rng.shuffle(order)
        if not flags[order[0]] and order != sorted(order):   # the first operand cannot be inverted/negated
            break
    else:
        leading = [i for i in range(len(flags)) if not flags[i]]
        order = leading[1:] + leading[:1] + [i for i in range(len(flags)) if flags[i]]
    children = tuple(ir.children(node)[i] for i in order)
    if isinstance(node, ir.Product):
        new = ir.Product(children, tuple(node.inverted[i] for i in order))
    else:
        new = ir.Sum(children, tuple(node.signs[i] for i in order))
    mutant = _with_equation(program, k, ir.Equation(eq.lhs, eq.aggregator, ir.replace_at(eq.rhs, path, new)))
    if not _same_symbols(program, mutant):
        return None
    return Mutation("swap-operands", mutant, Same(), f"equation {k + 1}: operands at {path} reordered {order}")


FRESH_NAMES = ("a", "b", "c", "d", "e", "f", "g", "h", "x", "y", "z", "a'", "b''", "_u", "idx", "t2")


@mutator("rename-indices")
def rename_indices(program: FuzzProgram, rng: random.Random) -> Mutation | None:
    """Rename the index variables of one equation consistently (a permutation or fresh names)."""
    candidates = []
    for k in _rules(program):
        eq = program.ir.equations[k]
        variables = list(dict.fromkeys(v for ref in (eq.lhs, *ir.refs(eq.rhs)) for i in ref.indices
                                       for v in i.variables))
        if variables:
            candidates.append((k, variables))
    if not candidates:
        return None
    k, variables = rng.choice(candidates)
    eq = program.ir.equations[k]
    taken = set(program.ir.tensors) | set(program.ir.scalars) | set(program.ir.consts)
    pool = [n for n in FRESH_NAMES if n not in taken and n not in variables]
    if len(variables) > 1 and rng.random() < 0.4:
        targets = variables[:]
        rng.shuffle(targets)
    else:
        targets = rng.sample(pool, len(variables)) if len(pool) >= len(variables) else variables[::-1]
    mapping = dict(zip(variables, targets))
    lhs = ir.rename_variables(eq.lhs, mapping)
    mutant = _with_equation(program, k, ir.Equation(lhs, eq.aggregator, ir.rename_variables(eq.rhs, mapping)))
    return Mutation("rename-indices", mutant, Same(), f"equation {k + 1}: renamed {mapping}")


@mutator("duplicate-equations")
def duplicate_equations(program: FuzzProgram, rng: random.Random) -> Mutation | None:
    """Repeat every equation of one sum-defined numeric tensor with ``+=``: the tensor doubles."""
    recursive = _recursive_tensors(program)
    candidates = [n for n, info in program.ir.tensors.items() if info.defined and not info.relation
                  and n not in recursive and n not in program.supplied
                  and program.ir.reduction(n) == "sum"]
    if not candidates:
        return None
    name = rng.choice(candidates)
    copies = [ir.Equation(eq.lhs, ir.Aggregator.ADD, eq.rhs) for eq in program.ir.equations if eq.lhs.name == name]
    queries = [s for s in program.statements if isinstance(s, ir.Query)]
    others = [s for s in program.statements if not isinstance(s, ir.Query)]
    mutant = FuzzProgram.from_statements(tuple(others + copies + queries), program.supplied)
    return Mutation("duplicate-equations", mutant, Scaled(name, 2.0, _unaffected(program, name)),
                    f"every equation of {name} repeated with '+='")


_ORDER = {"max": 2, "avg": 1, "min": 0}


@mutator("change-aggregator")
def change_aggregator(program: FuzzProgram, rng: random.Random) -> Mutation | None:
    """Switch one tensor between ``max=``, ``avg=`` and ``min=``: max >= avg >= min elementwise."""
    recursive = _recursive_tensors(program)
    candidates = []
    for name, info in program.ir.tensors.items():
        defining = program.ir.defining(name)
        if info.defined and not info.relation and name not in recursive and defining and \
                program.ir.equations[defining[0]].aggregator.reduction in _ORDER:
            candidates.append(name)
    if not candidates:
        return None
    name = rng.choice(candidates)
    old = program.ir.reduction(name)
    new = rng.choice([r for r in _ORDER if r != old])
    aggregator = ir.Aggregator(new + "=")
    statements = tuple(ir.Equation(s.lhs, aggregator, s.rhs) if isinstance(s, ir.Equation) and s.lhs.name == name
                       else s for s in program.statements)
    direction = 1 if _ORDER[new] > _ORDER[old] else -1
    return Mutation("change-aggregator", FuzzProgram.from_statements(statements, program.supplied),
                    Ordered(name, direction, _unaffected(program, name)), f"{name}: {old}= -> {new}=")


def _summation_signature(eq: ir.Equation):
    """Per projected index: which references and which calls lie inside the node where it is summed."""
    ref_number, call_number = {}, {}
    for path, node in ir.with_paths(eq.rhs):
        if isinstance(node, ir.Ref):
            ref_number[path] = len(ref_number)
        elif isinstance(node, ir.Call):
            call_number[path] = len(call_number)
    signature = {}
    for spot, variables in analyse(eq).summed_at.items():
        inside = lambda table: frozenset(n for p, n in table.items() if p[:len(spot)] == spot)  # noqa: E731
        for v in variables:
            signature[v] = (inside(ref_number), inside(call_number))
    return signature


IDENTITIES = ("times-one", "one-times", "divide-one", "plus-zero", "double-negation", "power-one")


def _identity(node: ir.Expr, kind: str) -> ir.Expr:
    if kind == "times-one":
        return ir.Product((node, ir.Num(1.0)), (False, False))
    if kind == "one-times":
        return ir.Product((ir.Num(1.0), node), (False, False))
    if kind == "divide-one":
        return ir.Product((node, ir.Num(1.0)), (False, True))
    if kind == "plus-zero":
        return ir.Sum((node, ir.Num(0.0)), (1, 1))
    if kind == "double-negation":
        return ir.Neg(ir.Neg(node))
    return ir.Power(node, ir.Num(1.0))


@mutator("insert-identity")
def insert_identity(program: FuzzProgram, rng: random.Random) -> Mutation | None:
    """Wrap one node in an identity operation that moves no summation."""
    spots = [(k, path) for k in _rules(program) for path, _ in ir.with_paths(program.ir.equations[k].rhs)]
    if not spots:
        return None
    k, path = rng.choice(spots)
    eq = program.ir.equations[k]
    before = _summation_signature(eq)
    kinds = list(IDENTITIES)
    rng.shuffle(kinds)
    for kind in kinds:
        new = _identity(ir.node_at(eq.rhs, path), kind)
        new_eq = ir.Equation(eq.lhs, eq.aggregator, ir.replace_at(eq.rhs, path, new))
        mutant = _with_equation(program, k, new_eq)
        if mutant.error:
            continue
        if _summation_signature(mutant.ir.equations[k]) == before:
            return Mutation("insert-identity", mutant, Same(), f"equation {k + 1}: {kind} at {path}")
    return None


def _pins_constants(eq: ir.Equation) -> bool:
    """True when ``eq`` writes a constant position (a fact, ``R(Bob, x)``, ``T[0, i]``) or reads one."""
    return any(index.is_constant for ref in (eq.lhs, *ir.refs(eq.rhs)) for index in ref.indices)


@mutator("reorder-statements")
def reorder_statements(program: FuzzProgram, rng: random.Random) -> Mutation | None:
    """Shuffle the equations (declarations stay first, queries last).

    Equations that mention constant positions keep their relative order: the symbol table lists named
    constants in order of appearance, and array data on those axes is read in that order.
    """
    equations = [s for s in program.statements if isinstance(s, ir.Equation)]
    free = [k for k, eq in enumerate(equations) if not _pins_constants(eq)]
    if len(free) < 2:
        return None
    shuffled = equations[:]
    for _ in range(8):
        order = free[:]
        rng.shuffle(order)
        for spot, k in zip(free, order):
            shuffled[spot] = equations[k]
        if shuffled != equations:
            break
    else:
        return None
    declarations = [s for s in program.statements if isinstance(s, (ir.Const, ir.Shape, ir.Domain))]
    queries = [s for s in program.statements if isinstance(s, ir.Query)]
    mutant = FuzzProgram.from_statements(tuple(declarations + shuffled + queries), program.supplied)
    if not _same_symbols(program, mutant):
        return None
    return Mutation("reorder-statements", mutant, Same(), "equations shuffled")


# ------------------------------------------------------------------------------------------ driving
def random_mutation(program, rng: random.Random, kinds=None) -> Mutation | None:
    """Apply one applicable mutator (from ``kinds``, default all) chosen by ``rng``; None if none applies."""
    fuzz = as_fuzz_program(program)
    names = list(kinds or MUTATORS)
    rng.shuffle(names)
    for name in names:
        mutation = MUTATORS[name](fuzz, rng)
        if mutation is not None:
            return mutation
    return None


def mutations(program, kinds=None):
    """A Hypothesis strategy of ``Mutation``s of ``program`` (filtered to those that apply)."""
    from hypothesis import strategies as st

    fuzz = as_fuzz_program(program)
    names = list(kinds or MUTATORS)
    return st.tuples(st.sampled_from(names), st.randoms(use_true_random=False)).map(
        lambda pair: MUTATORS[pair[0]](fuzz, pair[1])).filter(lambda m: m is not None)


def check_mutation(original, mutation: Mutation, inputs: Mapping, backend: str = "numpy", opt_level: int = 0,
                   rtol: float = RTOL, atol: float = ATOL) -> list[str]:
    """Run the original and the mutant on ``inputs`` and return every way the expectation fails."""
    before = run_config(as_fuzz_program(original), inputs, backend, opt_level)
    after = run_config(mutation.program, inputs, backend, opt_level)
    if mutation.program.error:
        return [f"the mutant does not print and re-read: {mutation.program.error}"]
    if before.error is not None:
        return [f"the original failed: {before.error!r}"]
    if after.error is not None:
        return [f"the mutant failed ({mutation.description}): {after.error!r}"]
    return mutation.expectation.verify(before, after, rtol, atol)


def check_with_mutations(program, inputs: Mapping | None = None, mutations: int = 1, **options):
    """``oracle.check`` plus ``mutations`` metamorphic checks (numpy -O0), chosen deterministically from
    the program's printed IR; an unmet expectation is a ``metamorphic`` failure in the report."""
    from tlc.fuzz.oracle import Failure, check
    from tlc.ir.printer import format_program

    fuzz = as_fuzz_program(program)
    report = check(fuzz, inputs, **options)
    if not report.ok or fuzz.error:
        return report
    rng = random.Random(zlib.crc32(format_program(fuzz.statements).encode()))
    for _ in range(mutations):
        mutation = random_mutation(fuzz, rng)
        if mutation is None:
            break
        report.configs.append(f"mutation {mutation.kind}")
        problems = check_mutation(fuzz, mutation, inputs or {})
        if problems:
            report.failures.append(Failure(
                "metamorphic", f"{mutation.kind} (numpy -O0)",
                f"{problems[0]}\nexpected {mutation.expectation} after {mutation.description}; mutant:\n"
                f"{mutation.program.source}"))
    return report
