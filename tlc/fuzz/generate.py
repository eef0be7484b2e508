"""Hypothesis strategies: random well-typed Tensor Logic programs, inputs for them, and bad source.

Programs are built as IR, printed, and lowered back, so what a test sees is exactly what a user who
wrote the printed text would get. Every generated program is meant to compile and run without a
``TlcError`` and to give finite results: value intervals are tracked through every expression and
unsafe spots are repaired (``log(x)`` becomes ``log(abs(x) + 1)``, an ``exp`` whose argument could
overflow gets a ``tanh`` inside, a denominator that could be 0 becomes ``d^2 + 1``). Inputs are
non-zero multiples of 1/4 in [-2, 2] (scalars: in [1/4, 2]), so sums and products are exact in
float64 and a different evaluation order cannot flip a ``step``.

Needs Hypothesis (the ``test`` extra: ``pip install "tlc[test]"``).
"""

from __future__ import annotations

import functools
import math
import string
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

from tlc.errors import TlcError
from tlc.frontend.lower import lower
from tlc.frontend.parser import parse
from tlc.ir import nodes as ir
from tlc.ir.printer import format_program
from tlc.ir.program import Program as IRProgram
from tlc.analysis.projection import analyse
from tlc.analysis.shapes import axis_components, symbolic_axes

AGG = ir.Aggregator
VARIABLES = ("i", "j", "k", "l", "m", "n", "p", "q", "r", "s", "t", "u", "v", "w", "i'", "j'", "p'")
NAMED = ("Alice", "Bob", "Carol", "Dan", "Eve", "'new york'")
ELEMENTWISE = ("relu", "tanh", "sig", "sqrt", "abs", "sin", "exp", "cos", "step", "log")
INPUT_BOUND = (-2.0, 2.0)
SCALAR_BOUND = (0.25, 2.0)
LIMIT = 1e8
"""Largest magnitude any intermediate value may reach; bigger nodes are wrapped in ``tanh``."""
SMALL = 1e3
"""Largest magnitude a tensor's equation may store; a bigger right-hand side is wrapped in ``tanh``."""


# ------------------------------------------------------------------------------------------ the program
@dataclass(frozen=True, eq=False)
class FuzzProgram:
    """A generated program: its source text and the IR that text lowers to."""

    source: str
    """The printed program (what ``tlc.compile`` is given)."""
    statements: tuple[ir.Statement, ...]
    """The IR statements that ``source`` lowers to."""
    error: str | None = None
    """Why ``source`` did not lower back to IR (a printer or front-end bug), else None."""
    supplied: tuple[str, ...] = ()
    """Defined tensors that ``inputs_for`` also gives data for (data counts as one more contribution)."""

    @classmethod
    def from_statements(cls, statements, supplied: tuple[str, ...] = ()) -> "FuzzProgram":
        """Print IR statements and lower the text again (recording, not raising, a failure to lower)."""
        source = format_program(statements)
        try:
            return cls(source, lower(parse(source), None, source).statements, None, tuple(supplied))
        except TlcError as err:
            return cls(source, tuple(statements), f"the printed program does not lower back: {err}", tuple(supplied))
        except Exception as err:   # noqa: BLE001 - a crash of the front end is a finding, reported later
            return cls(source, tuple(statements), f"the front end crashed on the printed program: {err!r}",
                       tuple(supplied))

    @classmethod
    def from_source(cls, source: str, supplied: tuple[str, ...] = ()) -> "FuzzProgram":
        """A program from source text (raises ``TlcError`` if it does not parse)."""
        return cls(source, lower(parse(source), None, source).statements, None, tuple(supplied))

    @functools.cached_property
    def ir(self) -> IRProgram:
        """The IR program."""
        return IRProgram(self.statements, None, self.source)

    def input_names(self) -> list[str]:
        """Inputs the program needs: tensors read but never defined, then scalar inputs (not ``supplied``)."""
        return [n for n, i in self.ir.tensors.items() if not i.defined] + list(self.ir.scalars)

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        supplied = f", supplied={self.supplied!r}" if self.supplied else ""
        return f"FuzzProgram.from_source({self.source!r}{supplied})"


def as_fuzz_program(program) -> FuzzProgram:
    """A ``FuzzProgram`` from a ``FuzzProgram``, an IR ``Program`` or source text."""
    if isinstance(program, FuzzProgram):
        return program
    if isinstance(program, IRProgram):
        return FuzzProgram.from_statements(program.statements)
    return FuzzProgram.from_source(str(program))


# ------------------------------------------------------------------------------------------ intervals
Bound = tuple[float, float]


def _hull(*bounds: Bound) -> Bound:
    return min(b[0] for b in bounds), max(b[1] for b in bounds)


def _mul(a: Bound, b: Bound) -> Bound:
    products = [x * y for x in a for y in b if not (math.isinf(x) or math.isinf(y))]
    if len(products) < 4:
        return -math.inf, math.inf
    return min(products), max(products)


def _scale(b: Bound, n: float) -> Bound:
    return _hull(b, (b[0] * n, b[1] * n))


class _Unsafe(Exception):
    def __init__(self, path: tuple[int, ...], kind: str):
        super().__init__(kind)
        self.path = path
        self.kind = kind


@dataclass
class _Bounds:
    """Value bounds of one equation's nodes, given the bounds of the tensors it reads."""

    tensor_bound: Mapping[str, Bound]
    consts: Mapping[str, float]
    count: float
    """Most values any summed index can take (the largest extent, shifts included)."""

    def equation(self, eq: ir.Equation) -> Bound:
        projection = analyse(eq)
        self.summed = projection.summed_at
        return self.node(eq.rhs, ())

    def node(self, node: ir.Expr, path: tuple[int, ...]) -> Bound:
        value = self.raw(node, path)
        summed = len(self.summed.get(path, ()))
        if summed:
            value = _scale(value, self.count ** summed)
        if max(abs(value[0]), abs(value[1])) > LIMIT or math.isnan(value[0]) or math.isnan(value[1]):
            raise _Unsafe(path, "overflow")
        return value

    def raw(self, node: ir.Expr, path: tuple[int, ...]) -> Bound:
        if isinstance(node, ir.Ref):
            return (0.0, 1.0) if node.relation else self.tensor_bound.get(node.name, INPUT_BOUND)
        if isinstance(node, ir.Num):
            return node.value, node.value
        if isinstance(node, ir.Scalar):
            value = self.consts.get(node.name)
            return (value, value) if value is not None else SCALAR_BOUND
        if isinstance(node, ir.IndexValue):
            return -4.0, 2.0 * self.count + 4.0
        if isinstance(node, ir.Product):
            value = (1.0, 1.0)
            for k, (factor, inverted) in enumerate(zip(node.factors, node.inverted)):
                b = self.node(factor, path + (k,))
                if inverted:
                    if b[0] <= 1e-3 and b[1] >= -1e-3:
                        raise _Unsafe(path + (k,), "denominator")
                    b = (1 / b[1], 1 / b[0])
                value = _mul(value, b)
            return value
        if isinstance(node, ir.Sum):
            lo = hi = 0.0
            for k, (term, sign) in enumerate(zip(node.terms, node.signs)):
                b = self.node(term, path + (k,))
                lo, hi = (lo + b[0], hi + b[1]) if sign > 0 else (lo - b[1], hi - b[0])
            return lo, hi
        if isinstance(node, ir.Neg):
            b = self.node(node.operand, path + (0,))
            return -b[1], -b[0]
        if isinstance(node, ir.Power):
            base = self.node(node.base, path + (0,))
            exponent = self.node(node.exponent, path + (1,))
            if isinstance(node.exponent, ir.Num) and float(node.exponent.value).is_integer():
                e = int(node.exponent.value)
                ends = [base[0] ** e, base[1] ** e]
                lo = 0.0 if e % 2 == 0 and base[0] <= 0 <= base[1] else min(ends)
                return lo, max(ends)
            if base[0] < 1e-3:
                raise _Unsafe(path + (0,), "power")
            logs = [e * math.log(b) for e in exponent for b in base]
            if max(logs) > math.log(LIMIT):
                raise _Unsafe(path, "overflow")
            return math.exp(min(logs)), math.exp(max(logs))
        if isinstance(node, ir.Call):
            return self.call(node, path)
        raise TypeError(type(node).__name__)

    def call(self, node: ir.Call, path) -> Bound:
        args = [self.node(a, path + (k,)) for k, a in enumerate(node.args)]
        x = args[0] if args else (0.0, 0.0)
        f = node.function
        if f in ("step", "not", "sig", "softmax"):
            return 0.0, 1.0
        if f in ("tanh", "sin", "cos"):
            return (math.tanh(x[0]), math.tanh(x[1])) if f == "tanh" else (-1.0, 1.0)
        if f == "relu":
            return max(0.0, x[0]), max(0.0, x[1])
        if f == "abs":
            lo = 0.0 if x[0] <= 0 <= x[1] else min(abs(x[0]), abs(x[1]))
            return lo, max(abs(x[0]), abs(x[1]))
        if f == "exp":
            if x[1] > 30:
                raise _Unsafe(path + (0,), "exp")
            return math.exp(x[0]), math.exp(x[1])
        if f == "log":
            if x[0] < 1e-3:
                raise _Unsafe(path + (0,), "log")
            return math.log(x[0]), math.log(x[1])
        if f == "sqrt":
            if x[0] < 0:
                raise _Unsafe(path + (0,), "sqrt")
            return math.sqrt(x[0]), math.sqrt(x[1])
        if f == "lnorm":
            return -math.sqrt(self.count), math.sqrt(self.count)
        if f == "concat":
            return x
        if f in ("min", "max"):
            pick = min if f == "min" else max
            return pick(x[0], args[1][0]), pick(x[1], args[1][1])
        raise TypeError(f)


def _repair(node: ir.Expr, kind: str) -> ir.Expr:
    """A safe stand-in for ``node``. Every wrapper is a call, sum, negation or power, never a product,
    so the place where each projected index is summed does not move."""
    if kind in ("log", "power"):
        return ir.Sum((ir.Call("abs", (node,)), ir.Num(1.0)), (1, 1))
    if kind == "sqrt":
        return ir.Call("abs", (node,))
    if kind == "denominator":
        return ir.Sum((ir.Power(node, ir.Num(2.0)), ir.Num(1.0)), (1, 1))
    return ir.Call("tanh", (node,))


def _tame(node: ir.Expr) -> ir.Expr:
    """``node`` with each non-constant operand wrapped in ``tanh``, so its value stays small."""
    if not isinstance(node, (ir.Product, ir.Sum, ir.Neg, ir.Power, ir.Call)) or (
            isinstance(node, ir.Call) and node.function in ("concat", "tanh")):
        return node
    operands = ir.children(node)
    tamed = 1 if isinstance(node, (ir.Power, ir.Call)) else len(operands)   # only a base or a first argument
    return ir.with_children(node, tuple(c if k >= tamed or isinstance(c, (ir.Num, ir.Scalar))
                                        else ir.Call("tanh", (c,)) for k, c in enumerate(operands)))


def make_safe(eq: ir.Equation, bounds: _Bounds) -> tuple[ir.Equation, Bound]:
    """Repair ``eq`` until every node's value interval is finite and every function is in its domain."""
    for _ in range(200):
        try:
            return eq, bounds.equation(eq)
        except _Unsafe as unsafe:
            target = ir.node_at(eq.rhs, unsafe.path)
            replacement = _tame(target) if unsafe.kind == "overflow" else _repair(target, unsafe.kind)
            if replacement == target:
                break
            eq = ir.Equation(eq.lhs, eq.aggregator, ir.replace_at(eq.rhs, unsafe.path, replacement), eq.fact)
    raise Unfixable(f"could not make {eq} safe")


class Unfixable(Exception):
    """An equation whose values cannot be bounded by wrapping its nodes (the generator drops it)."""


def _is_concat(expr) -> bool:
    return isinstance(expr, ir.Call) and expr.function == "concat"


# ------------------------------------------------------------------------------------------ the builder
@dataclass
class _Tensor:
    rank: int
    relation: bool
    defined: bool
    reduction: str | None = None
    contributions: list = field(default_factory=list)
    fixed_bound: Bound | None = None
    """Set for tensors defined by a recursion template (their bound is known from the template)."""
    readable: bool = True
    supplied: bool = False
    """Data is given for this defined tensor too."""
    count: float = 1.0

    @property
    def bound(self) -> Bound:
        if self.relation:
            return 0.0, 1.0
        if not self.defined:
            return INPUT_BOUND
        data = [INPUT_BOUND] if self.supplied else []
        if self.fixed_bound is not None:   # a recursion: data may join every step
            grow = self.count if self.supplied else 0.0
            return self.fixed_bound[0] + INPUT_BOUND[0] * grow, self.fixed_bound[1] + INPUT_BOUND[1] * grow
        parts = [_hull(b, (0.0, 0.0)) for b in [*self.contributions, *data]] or [(0.0, 0.0)]
        if self.reduction == "sum":
            return sum(p[0] for p in parts), sum(p[1] for p in parts)
        return _hull(*parts)


@dataclass(frozen=True)
class Config:
    """What ``programs()`` may generate."""

    max_equations: int = 6
    max_rank: int = 3
    max_extent: int = 4
    max_depth: int = 3
    relations: bool = True
    recursion: bool = True
    shifts: bool = True
    normalisers: bool = True
    named_constants: bool = True
    declarations: bool = True
    queries: bool = True
    supplied: bool = True


class _Builder:
    def __init__(self, draw, config: Config):
        self.draw = draw
        self.config = config
        self.tensors: dict[str, _Tensor] = {}
        self.reads: dict[str, set[str]] = {}
        self.equations: list[ir.Equation] = []
        self.decls: list[ir.Statement] = []
        self.queries: list[ir.Query] = []
        self.consts: dict[str, float | int] = {}
        self.scalars: list[str] = []
        self.counters: dict[str, int] = {}
        self.count = float(max(config.max_extent + 4, config.max_extent ** 2))

    # ----- drawing
    def pick(self, options):
        """One of ``options``; shrinks toward the first."""
        options = list(options)
        return options[self.draw(st.integers(0, len(options) - 1))]

    def chance(self, percent: int) -> bool:
        """True with about ``percent``% probability; shrinks toward False."""
        return self.draw(st.integers(0, 99)) >= 100 - percent

    def weighted(self, table):
        """A value from ``(weight, value)`` pairs; shrinks toward the first."""
        total = sum(w for w, _ in table)
        roll = self.draw(st.integers(0, total - 1))
        for weight, value in table:
            if roll < weight:
                return value
            roll -= weight
        raise AssertionError

    def fresh(self, prefix: str) -> str:
        n = self.counters.get(prefix, 0)
        self.counters[prefix] = n + 1
        return f"{prefix}{n}"

    # ----- tensors
    def new_input(self, rank: int, relation: bool = False) -> str:
        name = self.fresh("E" if relation else "X")
        self.tensors[name] = _Tensor(rank, relation, False)
        self.reads[name] = set()
        return name

    def new_defined(self, rank: int, relation: bool, reduction: str, supply: bool = True) -> str:
        name = self.fresh("R" if relation else "T")
        supplied = supply and self.config.supplied and self.chance(12)
        self.tensors[name] = _Tensor(rank, relation, True, reduction, supplied=supplied, count=self.count)
        self.reads[name] = set()
        return name

    def downstream(self, name: str) -> set[str]:
        """Tensors whose value depends on ``name`` (including itself)."""
        found, frontier = {name}, [name]
        while frontier:
            current = frontier.pop()
            for other, reads in self.reads.items():
                if current in reads and other not in found:
                    found.add(other)
                    frontier.append(other)
        return found

    def add_equation(self, eq: ir.Equation, fixed_bound: Bound | None = None) -> None:
        """Make ``eq`` safe, record it and its bound."""
        info = self.tensors[eq.lhs.name]
        if not eq.fact and fixed_bound is None:
            bounds = _Bounds({n: t.bound for n, t in self.tensors.items()}, self.consts, self.count)
            try:
                eq, bound = make_safe(eq, bounds)
                if max(abs(bound[0]), abs(bound[1])) > SMALL and not _is_concat(eq.rhs):
                    # keep stored values small, so that later sums over them stay far from overflow
                    eq, bound = make_safe(ir.Equation(eq.lhs, eq.aggregator, ir.Call("tanh", (eq.rhs,))), bounds)
            except Unfixable:
                info.readable = bool(info.contributions)
                return
            info.contributions.append(bound)
        elif eq.fact:
            info.contributions.append((1.0, 1.0))
        else:
            info.fixed_bound = fixed_bound
        self.reads[eq.lhs.name] |= {r.name for r in ir.refs(eq.rhs)}
        self.equations.append(eq)

    # ----- index and leaf generation
    def index(self, var: str, allow_shift: bool = True) -> ir.Index:
        if allow_shift and self.config.shifts:
            form = self.weighted([(14, "plain"), (2, "shift"), (1, "divide")])
            if form == "shift":
                offset = self.pick([1, -1, 2])
                return ir.Index(((var, 1),), offset)
            if form == "divide":
                return ir.Index(((var, 1),), 0, 2)
        return ir.Index(((var, 1),))

    def leaf(self, needed: tuple[str, ...], ctx: "_Context") -> ir.Expr:
        """A reference (or constant) whose indices use every variable in ``needed``."""
        if not needed:
            kind = self.weighted([(6, "ref"), (2, "num"), (2, "scalar"), (2, "index"), (1, "const"), (1, "folded")])
            if kind == "folded":        # a constant sub-expression, for constant folding
                a, b = ir.Num(self.pick([2.0, 0.5, 3.0, 0.0, 1.0])), ir.Num(self.pick([3.0, 1.0, 0.25, 2.0]))
                return self.pick([ir.Sum((a, b), (1, self.pick([1, -1]))), ir.Product((a, b), (False, False)),
                                  ir.Power(b, ir.Num(2.0)), ir.Call(self.pick(["exp", "sig", "cos", "abs"]), (a,)),
                                  ir.Neg(ir.Neg(b)), ir.Product((a, b), (False, True))])
            if kind == "num":
                return ir.Num(self.pick([2.0, 0.5, 1.0, 3.0, 0.25, 1.5]))
            if kind == "scalar":
                name = self.pick(self.scalars + ["new"]) if self.scalars else "new"
                if name == "new":
                    name = self.fresh("S")
                    self.scalars.append(name)
                return ir.Scalar(name)
            if kind == "const":
                name = self.fresh("K")
                value = self.pick([0.5, 2, 1.5, 3, 0.25])
                self.consts[name] = value
                self.decls.append(ir.Const(name, value))
                return ir.Scalar(name)
            if kind == "index" and ctx.lhs_vars:
                return ir.IndexValue(self.pick(ctx.lhs_vars))
        candidates = [n for n, t in self.tensors.items()
                      if t.readable and n not in ctx.forbidden and len(needed) <= t.rank <= len(needed) + 2
                      and not (ctx.no_fresh and t.rank != len(needed))]
        use_existing = candidates and self.chance(60)
        if use_existing:
            name = self.pick(candidates)
        else:
            rank = len(needed) + (1 if not ctx.no_fresh and self.chance(30) and len(needed) < self.config.max_rank
                                  else 0)
            relation = self.config.relations and self.chance(20)
            name = self.new_input(rank, relation)
        info = self.tensors[name]
        slots = list(self.draw(st.permutations(range(info.rank))))
        indices: list[ir.Index | None] = [None] * info.rank
        for var, slot in zip(needed, slots):
            indices[slot] = self.index(var)
        for slot in slots[len(needed):]:
            extra = self.weighted([(4, "sum"), (2, "join"), (1, "constant"), (1, "diagonal")])
            if extra == "diagonal" and needed:          # A[i, i]: the same variable on two axes
                indices[slot] = ir.Index(((self.pick(needed), 1),))
            elif extra == "join" and ctx.lhs_vars:
                indices[slot] = ir.Index(((self.pick(ctx.lhs_vars), 1),))
            elif extra == "constant":
                indices[slot] = ir.Index((), self.pick([0, 1]))
            else:
                indices[slot] = ir.Index(((ctx.summed_var(self), 1),))
        return ir.Ref(name, tuple(indices), info.relation)

    # ----- expressions
    def expr(self, depth: int, needed: tuple[str, ...], ctx: "_Context") -> ir.Expr:
        if depth <= 0:
            return self.leaf(needed, ctx)
        kind = self.weighted([(5, "leaf"), (5, "product"), (3, "sum"), (7, "call"), (1, "neg"), (1, "power"),
                              (1, "divide"), (1, "not"), (1, "repeat")])
        if kind == "repeat":            # the same sub-expression twice, for common-subexpression elimination
            e = self.expr(depth - 1, needed, ctx)
            return self.pick([ir.Sum((e, e), (1, 1)), ir.Product((e, e), (False, False)), ir.Sum((e, e), (1, -1)),
                              ir.Sum((ir.Call("tanh", (e,)), e), (1, 1))])
        if kind == "leaf":
            return self.leaf(needed, ctx)
        if kind in ("product", "divide"):
            n = self.pick([2, 3])
            parts = self.split(needed, n)
            if self.chance(50):      # a contraction: a summed index shared by two factors
                shared = ctx.summed_var(self)
                a, b = self.draw(st.permutations(range(n)))[:2]
                parts[a] += (shared,)
                parts[b] += (shared,)
            factors = tuple(self.expr(depth - 1, part, ctx) for part in parts)
            inverted = (False,) * n
            if kind == "divide":
                factors += (self.denominator(depth - 1, ctx),)
                inverted += (True,)
            return ir.Product(factors, inverted)
        if kind == "sum":
            n = self.pick([2, 3])
            parts = self.split(needed, n)
            terms = tuple(self.expr(depth - 1, part, ctx) for part in parts)
            signs = (1,) + tuple(self.pick([1, -1]) for _ in range(n - 1))
            return ir.Sum(terms, signs)
        if kind == "call":
            function = self.pick(ELEMENTWISE)
            if self.chance(15):                         # min(a, b) / max(a, b) broadcast their two arguments
                a, b = self.split(needed, 2)
                pair = (self.expr(depth - 1, a, ctx), self.expr(depth - 1, b, ctx))
                return ir.Call(self.pick(["min", "max"]), pair)
            arg = self.expr(depth - 1, needed, ctx)
            if function == "sig" and self.chance(40):
                temperature = self.weighted([(3, ir.Num(2.0)), (1, ir.Num(0.0)), (2, ir.Num(0.5))])
                if self.scalars and self.chance(30):
                    temperature = ir.Scalar(self.pick(self.scalars))
                return ir.Call("sig", (arg, temperature))
            return ir.Call(function, (arg,))
        if kind == "neg":
            return ir.Neg(self.expr(depth - 1, needed, ctx))
        if kind == "not":
            # every variable under '~' must also be bound by a positive atom of the equation, so the
            # negated atom introduces no variable of its own
            positive = self.leaf(needed, ctx)
            negated = self.leaf(needed, _Context(ctx.lhs_vars, ctx.forbidden, ctx.used, no_fresh=True))
            return ir.Product((positive, ir.Call("not", (negated,))), (False, False))
        base = self.expr(depth - 1, needed, ctx)
        return ir.Power(base, ir.Num(self.pick([2.0, 3.0, 0.5])))

    def denominator(self, depth: int, ctx: "_Context") -> ir.Expr:
        kind = self.pick(["num", "square", "exp", "abs", "scalar"])
        if kind == "num":
            return ir.Num(self.pick([2.0, 4.0, 0.5]))
        if kind == "scalar":
            return self.leaf((), ctx) if self.scalars else ir.Num(2.0)
        inner = self.expr(depth, (), ctx)
        if kind == "square":
            return ir.Sum((ir.Power(inner, ir.Num(2.0)), ir.Num(1.0)), (1, 1))
        if kind == "exp":
            return ir.Call("exp", (inner,))
        return ir.Sum((ir.Call("abs", (inner,)), ir.Num(0.5)), (1, 1))

    def split(self, needed: tuple[str, ...], n: int) -> list[tuple[str, ...]]:
        """Distribute variables over ``n`` parts; each goes to one part, sometimes two (a join)."""
        parts: list[tuple[str, ...]] = [() for _ in range(n)]
        for var in needed:
            first = self.draw(st.integers(0, n - 1))
            parts[first] += (var,)
            if self.chance(25):
                second = self.draw(st.integers(0, n - 1))
                if second != first:
                    parts[second] += (var,)
        return parts

    # ----- statement templates
    def lhs_vars(self, rank: int, ctx: "_Context") -> tuple[str, ...]:
        order = self.draw(st.permutations(VARIABLES))
        chosen = tuple(order[:rank])
        ctx.used.update(chosen)
        return chosen

    def einsum(self) -> None:
        """A general equation: a new tensor, or one more equation for an existing one."""
        extend = [n for n, t in self.tensors.items() if t.defined and t.reduction and t.fixed_bound is None
                  and t.readable]
        ctx = _Context()
        if extend and self.chance(25):
            name = self.pick(extend)
            info = self.tensors[name]
            ctx.forbidden = self.downstream(name)
            aggregator = AGG.ADD if info.reduction == "sum" else AGG(info.reduction + "=")
        else:
            relation = self.config.relations and self.chance(20)
            aggregator = AGG.SUM if relation else self.weighted(
                [(6, AGG.SUM), (1, AGG.ADD), (2, AGG.MAX), (2, AGG.MIN), (2, AGG.AVG)])
            rank = self.draw(st.integers(0, self.config.max_rank))
            name = self.new_defined(rank, relation, aggregator.reduction)
            info = self.tensors[name]
            ctx.forbidden = {name}
        variables = self.lhs_vars(info.rank, ctx)
        ctx.lhs_vars = variables
        indices = []
        for var in variables:
            form = self.weighted([(16, "plain"), (2, "shift"), (1, "pool"), (1, "constant"), (1, "compound")]) \
                if self.config.shifts else "plain"
            if form == "compound":                      # Y[x + d]: a scatter-add over two variables
                extra = ctx.summed_var(self)
                indices.append(ir.Index(((var, 1), (extra, 1))))
            elif form == "shift":
                indices.append(ir.Index(((var, 1),), self.pick([1, -1])))
            elif form == "pool":
                indices.append(ir.Index(((var, 1),), 0, 2))
            elif form == "constant":
                indices.append(ir.Index((), self.pick([0, 1])))
            else:
                indices.append(ir.Index(((var, 1),)))
        needed = tuple(dict.fromkeys(v for index in indices for v, _ in index.terms))
        ctx.lhs_vars = needed
        rhs = self.expr(self.draw(st.integers(0, self.config.max_depth)), needed, ctx)
        lhs = ir.Ref(name, tuple(indices), info.relation)
        self.add_equation(ir.Equation(lhs, aggregator, rhs))

    def shared(self) -> None:
        """A new tensor whose right-hand side repeats an existing equation's (maybe inside more), for CSE."""
        rules = [eq for eq in self.equations if not eq.fact and self.tensors[eq.lhs.name].fixed_bound is None
                 and not any(isinstance(n, ir.Call) and n.function in ("concat", "softmax", "lnorm")
                             for n in ir.walk(eq.rhs))]
        if not rules:
            return self.einsum()
        eq = self.pick(rules)
        lhs_info = self.tensors[eq.lhs.name]
        name = self.new_defined(lhs_info.rank, lhs_info.relation, eq.aggregator.reduction)
        rhs = eq.rhs
        wrap = self.pick(["same", "call", "plus"])
        if wrap == "call":
            rhs = ir.Call(self.pick(["tanh", "relu", "abs"]), (rhs,))
        elif wrap == "plus":
            rhs = ir.Sum((rhs, ir.Num(1.0)), (1, 1))
        aggregator = AGG.SUM if eq.aggregator is AGG.ADD else eq.aggregator
        self.add_equation(ir.Equation(ir.Ref(name, eq.lhs.indices, eq.lhs.relation), aggregator, rhs))

    def chain(self) -> None:
        """``N[...] = f(T[...]) (+ more)`` over an existing numeric tensor read at plain indices: with
        ``outputs=`` leaving ``T`` out, the ``fuse`` pass inlines it."""
        sources = [n for n, t in self.tensors.items() if t.defined and not t.relation and t.readable
                   and t.fixed_bound is None and not t.supplied]
        if not sources:
            return self.einsum()
        source = self.pick(sources)
        info = self.tensors[source]
        name = self.new_defined(info.rank, False, "sum", supply=False)
        ctx = _Context(forbidden={name})
        variables = self.lhs_vars(info.rank, ctx)
        ctx.lhs_vars = variables
        read = ir.Ref(source, tuple(ir.Index(((v, 1),)) for v in variables))
        rhs: ir.Expr = ir.Call(self.pick(["relu", "tanh", "sig", "abs"]), (read,))
        if self.chance(50):
            rhs = ir.Sum((rhs, self.expr(self.draw(st.integers(0, 1)), variables, ctx)), (1, self.pick([1, -1])))
        self.add_equation(ir.Equation(ir.Ref(name, tuple(ir.Index(((v, 1),)) for v in variables)), AGG.SUM, rhs))

    def normalise(self) -> None:
        """``Y[..., a.] = softmax(...)`` or ``lnorm(...)``."""
        rank = self.draw(st.integers(1, max(1, self.config.max_rank)))
        name = self.new_defined(rank, False, "sum")
        ctx = _Context(forbidden={name})
        variables = self.lhs_vars(rank, ctx)
        ctx.lhs_vars = variables
        axis = self.pick(variables)
        function = self.pick(["softmax", "lnorm"])
        dotted = function == "softmax" or self.chance(50) or axis != variables[-1]
        arg = self.expr(self.draw(st.integers(0, self.config.max_depth - 1)), variables, ctx)
        rhs = ir.Call(function, (arg,), axis)
        if self.chance(20):
            rhs = ir.Sum((rhs, ir.Num(1.0)), (1, 1))
        indices = tuple(ir.Index(((v, 1),), normalised=dotted and v == axis) for v in variables)
        self.add_equation(ir.Equation(ir.Ref(name, indices), AGG.SUM, rhs))

    def convolution(self) -> None:
        """``C[x, ...] = I[x+dx, ...] F[dx, ...]`` (or ``x-dx``), 1-D or 2-D."""
        dims = self.pick([1, 2])
        ctx = _Context()
        xs = self.lhs_vars(dims, ctx)
        order = self.draw(st.permutations([v for v in VARIABLES if v not in xs]))
        ds = tuple(order[:dims])
        sign = self.pick([1, -1])
        image = self.new_input(dims)
        filt = self.new_input(dims)
        name = self.new_defined(dims, False, "sum")
        read = ir.Ref(image, tuple(ir.Index(((x, 1), (d, sign))) for x, d in zip(xs, ds)))
        rhs = ir.Product((read, ir.Ref(filt, tuple(ir.Index(((d, 1),)) for d in ds))), (False, False))
        if self.chance(30):
            rhs = ir.Call(self.pick(["relu", "tanh", "sig"]), (rhs,))
        self.add_equation(ir.Equation(ir.Ref(name, tuple(ir.Index(((x, 1),)) for x in xs)), AGG.SUM, rhs))

    def pool(self) -> None:
        """``P[x/2, ...] max= F[x, ...]`` over an existing numeric tensor."""
        sources = [n for n, t in self.tensors.items() if not t.relation and t.rank >= 1 and t.readable]
        if not sources:
            return self.einsum()
        src = self.pick(sources)
        rank = self.tensors[src].rank
        aggregator = self.pick([AGG.MAX, AGG.AVG, AGG.MIN, AGG.SUM])
        ctx = _Context()
        variables = self.lhs_vars(rank, ctx)
        pooled = self.draw(st.integers(0, rank - 1))
        size = self.pick([2, 3])
        name = self.new_defined(rank, False, aggregator.reduction)
        lhs = tuple(ir.Index(((v, 1),), 0, size if a == pooled else 1) for a, v in enumerate(variables))
        rhs = ir.Ref(src, tuple(ir.Index(((v, 1),)) for v in variables))
        self.add_equation(ir.Equation(ir.Ref(name, lhs), aggregator, rhs))

    def concat(self) -> None:
        """``M[p, m] = concat(A[h, p, v])``: flatten (h, v) into m."""
        ctx = _Context()
        h, p, v, m = self.lhs_vars(4, ctx)
        source = self.new_input(3)
        name = self.new_defined(2, False, "sum")
        rhs = ir.Call("concat", (ir.Ref(source, (ir.Index(((h, 1),)), ir.Index(((p, 1),)), ir.Index(((v, 1),)))),))
        self.add_equation(ir.Equation(ir.Ref(name, (ir.Index(((p, 1),)), ir.Index(((m, 1),)))), AGG.SUM, rhs))

    def closure(self) -> None:
        """A recursive relation: transitive closure, reachability, or mutual recursion; maybe negated later."""
        shape = self.pick(["right", "left", "square", "reach", "mutual"])
        edge = self.pick([n for n, t in self.tensors.items() if t.relation and t.rank == 2 and t.readable]
                         + ["new"]) if self.chance(40) else "new"
        if edge == "new":
            edge = self.new_input(2, relation=True)
        x, y, z = self.lhs_vars(3, _Context())

        def atom(name, *vs):
            return ir.Ref(name, tuple(ir.Index(((v, 1),)) for v in vs), True)

        def join(*atoms):
            return ir.Product(tuple(atoms), (False,) * len(atoms))

        if shape == "reach":
            start = self.new_input(1, relation=True)
            name = self.new_defined(1, True, "sum")
            self.add_equation(ir.Equation(atom(name, x), AGG.SUM, atom(start, x)), (0.0, 1.0))
            self.add_equation(ir.Equation(atom(name, y), AGG.SUM, join(atom(name, x), atom(edge, x, y))), (0.0, 1.0))
        elif shape == "mutual":
            a = self.new_defined(2, True, "sum")
            b = self.new_defined(2, True, "sum")
            self.add_equation(ir.Equation(atom(a, x, y), AGG.SUM, atom(edge, x, y)), (0.0, 1.0))
            self.add_equation(ir.Equation(atom(b, x, z), AGG.SUM, join(atom(a, x, y), atom(edge, y, z))), (0.0, 1.0))
            self.add_equation(ir.Equation(atom(a, x, z), AGG.ADD, join(atom(b, x, y), atom(edge, y, z))), (0.0, 1.0))
            name = a
        else:
            name = self.new_defined(2, True, "sum")
            self.add_equation(ir.Equation(atom(name, x, y), AGG.SUM, atom(edge, x, y)), (0.0, 1.0))
            body = {"right": join(atom(name, x, y), atom(edge, y, z)),
                    "left": join(atom(edge, x, y), atom(name, y, z)),
                    "square": join(atom(name, x, y), atom(name, y, z))}[shape]
            self.add_equation(ir.Equation(atom(name, x, z), AGG.SUM, body), (0.0, 1.0))
        if self.chance(40):      # stratified negation of the finished relation
            other = self.new_defined(self.tensors[name].rank, True, "sum")
            vs = (x, y)[:self.tensors[name].rank]
            positive = atom(edge, x, y)         # binds every variable of the negated atom (safety)
            if self.chance(50):
                body = ir.Product((positive, ir.Call("not", (atom(name, *vs),))), (False, False))
            else:
                body = ir.Sum((positive, atom(name, *vs)), (1, -1))
            self.add_equation(ir.Equation(atom(other, *vs), AGG.SUM, body), (0.0, 1.0))

    def facts(self) -> None:
        """A relation given by facts (integers or named constants), a closure over it and a query."""
        named = self.config.named_constants and self.chance(50)
        name = self.new_defined(2, True, "sum")
        if named and self.config.declarations and self.chance(30):
            domain = self.fresh("D")
            self.decls.append(ir.Domain(domain, tuple(n for n in NAMED if not n.startswith("'"))[:3]))
            self.decls.append(ir.Shape(name, True, (domain, domain)))
        n = self.draw(st.integers(1, 4))
        for _ in range(n):
            if named:
                a, b = self.pick(NAMED), self.pick(NAMED)
                args = (ir.Index((), 0, 1, a.strip("'")), ir.Index((), 0, 1, b.strip("'")))
            else:
                args = (ir.Index((), self.draw(st.integers(0, 3))), ir.Index((), self.draw(st.integers(0, 3))))
            self.add_equation(ir.Equation(ir.Ref(name, args, True), AGG.SUM, ir.Num(1.0), fact=True),
                              (0.0, 1.0))
        x, y, z = self.lhs_vars(3, _Context())
        closure = self.new_defined(2, True, "sum")

        def atom(rel, *vs):
            return ir.Ref(rel, tuple(ir.Index(((v, 1),)) for v in vs), True)

        self.add_equation(ir.Equation(atom(closure, x, y), AGG.SUM, atom(name, x, y)), (0.0, 1.0))
        self.add_equation(ir.Equation(atom(closure, x, z), AGG.SUM,
                                      ir.Product((atom(closure, x, y), atom(name, y, z)), (False, False))),
                          (0.0, 1.0))
        first = self.equations[-3].lhs.indices[0]
        self.queries.append(ir.Query(ir.Ref(closure, (first, ir.Index(((x, 1),))), True)))

    def paths(self) -> None:
        """Shortest (``min=``) or most reliable (``max=``) paths: a numeric fixpoint that converges."""
        weights = self.new_input(2)
        x, y, z = self.lhs_vars(3, _Context())

        def ref(name, *vs):
            return ir.Ref(name, tuple(ir.Index(((v, 1),)) for v in vs))

        if self.chance(50):
            name = self.new_defined(2, False, "min")
            edge = lambda a, b: ir.Call("abs", (ref(weights, a, b),))  # noqa: E731
            bound = (0.0, 2.0 * self.count)
            step = ir.Sum((ref(name, x, y), edge(y, z)), (1, 1))
            aggregator = AGG.MIN
        else:
            # no data: a negative start would rise towards 0 through every sig < 1 step, without a fixpoint
            name = self.new_defined(2, False, "max", supply=False)
            edge = lambda a, b: ir.Call("sig", (ref(weights, a, b),))  # noqa: E731
            bound = (0.0, 1.0)
            step = ir.Product((ref(name, x, y), edge(y, z)), (False, False))
            aggregator = AGG.MAX
        self.add_equation(ir.Equation(ref(name, x, y), aggregator, edge(x, y)), bound)
        self.add_equation(ir.Equation(ref(name, x, z), aggregator, step), bound)

    def recurrence(self) -> None:
        """Prefix sums, an RNN over time (maybe virtual), deep layers, or two coupled sequences."""
        shape = self.pick(["prefix", "rnn", "layers", "coupled", "declared"])
        ctx = _Context()
        if shape == "prefix":
            t, k = self.lhs_vars(2, ctx)
            batch = (ir.Index(((k, 1),)),) if self.chance(40) else ()     # S[k, t+1]: one sum per row of X
            xs = self.new_input(1 + len(batch))
            virtual = self.chance(35)      # S[*t+1] = S[*t] + X[t]: only the final sum is kept
            name = self.new_defined(1 + len(batch), False, "sum", supply=not virtual)
            bound = (-2 * self.count - 2, 2 * self.count + 2)
            if self.chance(50) and not virtual:
                start = ir.Ref(xs, batch + (ir.Index((), 0),)) if batch else ir.Num(1.0)   # k needs a bound
                self.add_equation(ir.Equation(ir.Ref(name, batch + (ir.Index((), 0),)), AGG.SUM, start), bound)
            body = ir.Sum((ir.Ref(name, batch + (ir.Index(((t, 1),), virtual=virtual),)),
                           ir.Ref(xs, batch + (ir.Index(((t, 1),)),))), (1, 1))
            self.add_equation(ir.Equation(ir.Ref(name, batch + (ir.Index(((t, 1),), 1, virtual=virtual),)), AGG.SUM,
                                          body), bound)
        elif shape == "rnn":
            i, j, k, t = self.lhs_vars(4, ctx)
            virtual = self.chance(60)
            w, u, xs = self.new_input(2), self.new_input(2), self.new_input(2)
            name = self.new_defined(2, False, "sum", supply=not virtual)
            state = lambda v, off: ir.Ref(name, (ir.Index(((v, 1),)),  # noqa: E731
                                                 ir.Index(((t, 1),), off, virtual=virtual)))
            body = ir.Sum((ir.Product((ir.Ref(w, (ir.Index(((i, 1),)), ir.Index(((j, 1),)))), state(j, 0)),
                                      (False, False)),
                           ir.Product((ir.Ref(u, (ir.Index(((i, 1),)), ir.Index(((k, 1),)))),
                                       ir.Ref(xs, (ir.Index(((k, 1),)), ir.Index(((t, 1),))))), (False, False))),
                          (1, 1))
            self.add_equation(ir.Equation(state(i, 1), AGG.SUM, ir.Call(self.pick(["tanh", "sig"]), (body,))),
                              (-1.0, 1.0))
        elif shape == "layers":
            i, j, k = self.lhs_vars(3, ctx)
            first, w = self.new_input(1), self.new_input(3)
            name = self.new_defined(2, False, "sum")
            self.add_equation(ir.Equation(ir.Ref(name, (ir.Index((), 0), ir.Index(((j, 1),)))), AGG.SUM,
                                          ir.Ref(first, (ir.Index(((j, 1),)),))), INPUT_BOUND)
            body = ir.Product((ir.Ref(w, (ir.Index(((i, 1),)), ir.Index(((j, 1),)), ir.Index(((k, 1),)))),
                               ir.Ref(name, (ir.Index(((i, 1),), -1), ir.Index(((k, 1),))))), (False, False))
            self.add_equation(ir.Equation(ir.Ref(name, (ir.Index(((i, 1),)), ir.Index(((j, 1),)))), AGG.SUM,
                                          ir.Call(self.pick(["sig", "tanh"]), (body,))), INPUT_BOUND)
        elif shape == "coupled":
            (t,) = self.lhs_vars(1, ctx)
            xs = self.new_input(1)
            a = self.new_defined(1, False, "sum")
            b = self.new_defined(1, False, "sum")
            at = lambda n, off: ir.Ref(n, (ir.Index(((t, 1),), off),))  # noqa: E731
            self.add_equation(ir.Equation(at(a, 1), AGG.SUM,
                                          ir.Call("tanh", (ir.Sum((at(b, 0), at(xs, 0)), (1, 1)),))), (-1.0, 1.0))
            self.add_equation(ir.Equation(at(b, 1), AGG.SUM,
                                          ir.Call("sin", (ir.Sum((at(a, 0), at(xs, 0)), (1, -1)),))), (-1.0, 1.0))
        else:
            (t,) = self.lhs_vars(1, ctx)
            name = self.new_defined(1, False, "sum")
            extent = self.draw(st.integers(1, self.config.max_extent + 1))
            self.decls.append(ir.Shape(name, False, (extent,)))
            self.add_equation(ir.Equation(ir.Ref(name, (ir.Index((), 0),)), AGG.SUM, ir.Num(1.0)), (-4.0, 4.0))
            body = ir.Sum((ir.Product((ir.Num(0.5), ir.Ref(name, (ir.Index(((t, 1),)),))), (False, False)),
                           ir.Num(1.0)), (1, 1))
            self.add_equation(ir.Equation(ir.Ref(name, (ir.Index(((t, 1),), 1),)), AGG.SUM, body), (-4.0, 4.0))

    def positional(self) -> None:
        """A declared output computed from index values only: ``PE[p, d] = sin(p / 4^(d/D))``."""
        p, d = self.lhs_vars(2, _Context())
        rows = self.draw(st.integers(1, self.config.max_extent))
        cols = self.draw(st.integers(1, self.config.max_extent))
        name = self.new_defined(2, False, "sum")
        self.decls.append(ir.Shape(name, False, (rows, cols)))
        scale = ir.Power(ir.Num(4.0), ir.Product((ir.IndexValue(d), ir.Num(float(cols))), (False, True)))
        rhs = ir.Call(self.pick(["sin", "cos"]), (ir.Product((ir.IndexValue(p), scale), (False, True)),))
        self.add_equation(ir.Equation(ir.Ref(name, (ir.Index(((p, 1),)), ir.Index(((d, 1),)))), AGG.SUM, rhs),
                          (-1.0, 1.0))

    def numeric_fact(self) -> None:
        """``T[0, 1]`` on a sum-defined tensor: adds 1 at that position."""
        targets = [n for n, t in self.tensors.items() if t.defined and not t.relation and t.reduction == "sum"
                   and t.fixed_bound is None and t.rank >= 1 and t.readable]
        if not targets:
            return self.einsum()
        name = self.pick(targets)
        args = tuple(ir.Index((), self.draw(st.integers(0, 2))) for _ in range(self.tensors[name].rank))
        self.add_equation(ir.Equation(ir.Ref(name, args), AGG.SUM, ir.Num(1.0), fact=True))

    def query(self) -> None:
        defined = [n for n, t in self.tensors.items() if t.defined and t.rank >= 1]
        if not defined:
            return
        name = self.pick(defined)
        info = self.tensors[name]
        order = self.draw(st.permutations(VARIABLES))
        args = tuple(ir.Index((), self.draw(st.integers(0, 2))) if self.chance(40) else ir.Index(((order[a], 1),))
                     for a in range(info.rank))
        if any(ref.indices and ref.indices[0].symbol is not None for ref in self.named_refs(name)):
            args = tuple(ir.Index(((order[a], 1),)) for a in range(info.rank))
        self.queries.append(ir.Query(ir.Ref(name, args, info.relation)))

    def named_refs(self, name: str):
        return [eq.lhs for eq in self.equations if eq.lhs.name == name]

    # ----- the whole program
    def program(self) -> FuzzProgram:
        c = self.config
        table = [(10, self.einsum), (2, self.pool), (2, self.shared), (2, self.chain)]
        if c.normalisers:
            table += [(2, self.normalise), (1, self.concat)]
        if c.shifts:
            table += [(2, self.convolution)]
        if c.recursion:
            table += [(2, self.paths), (2, self.recurrence)]
            if c.relations:
                table += [(2, self.closure)]
        if c.relations:
            table += [(1, self.facts)]
        if c.declarations:
            table += [(1, self.positional)]
        table += [(1, self.numeric_fact)]
        while True:     # one template after another, like a list: Hypothesis shrinks it by deleting some
            self.weighted(table)()
            if len(self.equations) >= c.max_equations or not self.chance(85):
                break
        if c.queries:
            for _ in range(self.draw(st.integers(0, 2))):
                self.query()
        supplied = tuple(n for n, t in self.tensors.items() if t.supplied)
        return FuzzProgram.from_statements(tuple(self.decls) + tuple(self.equations) + tuple(self.queries), supplied)


@dataclass
class _Context:
    """What one equation's right-hand side may use."""

    lhs_vars: tuple[str, ...] = ()
    forbidden: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)
    no_fresh: bool = False
    """No variable of its own: every index is a needed variable or a constant."""

    def summed_var(self, builder: _Builder) -> str:
        """A variable not on the left-hand side: a fresh one, or one already summed in this equation."""
        summed = sorted(self.used - set(self.lhs_vars))
        free = [v for v in VARIABLES if v not in self.used]
        if summed and (not free or builder.chance(30)):
            return builder.pick(summed)
        var = builder.pick(free)
        self.used.add(var)
        return var


# ------------------------------------------------------------------------------------------ strategies
def programs(max_equations: int = 6, max_rank: int = 3, max_extent: int = 4, max_depth: int = 3,
             relations: bool = True, recursion: bool = True, shifts: bool = True, normalisers: bool = True,
             named_constants: bool = True, declarations: bool = True, queries: bool = True,
             supplied: bool = True, hostile_names=False) -> st.SearchStrategy:
    """Random well-typed programs (``FuzzProgram``: ``.source`` and ``.ir``) that compile and give finite results.

    ``max_extent`` is the largest extent ``inputs_for`` will draw; it bounds the value intervals used to
    keep results finite, so pass the same value to both. With ``supplied``, some defined tensors are
    also given data (listed in ``FuzzProgram.supplied``; ``inputs_for`` provides it). With ``hostile_names``,
    every name is then replaced by a hostile one (``tlc.fuzz.names``: keywords, builtins, the emitted code's own
    globals, primes, helper-like names, near-duplicates; a class name or several select those classes only); the
    oracle also compares the results with the plain-named program's.
    """
    config = Config(max_equations, max_rank, max_extent, max_depth, relations, recursion, shifts, normalisers,
                    named_constants, declarations, queries, supplied)

    @st.composite
    def build(draw):
        return _Builder(draw, config).program()

    if hostile_names:
        from tlc.fuzz.names import hostile_programs
        return hostile_programs(build(), hostile_names)
    return build()


def _dyadic(rng: np.random.Generator, shape, low: int = -8, high: int = 8, zero: bool = False) -> np.ndarray:
    """Non-zero multiples of 1/4 in [low/4, high/4]."""
    choices = np.array([k for k in range(low, high + 1) if k or zero], dtype=np.float64) / 4
    return rng.choice(choices, size=shape)


def symbol_table(prog: IRProgram, symbolic) -> tuple:
    """The named constants of ``prog``, then integers written on named-constant axes (they are constants too)."""
    table = list(prog.symbols)
    atoms = [ref for eq in prog.equations for ref in (eq.lhs, *ir.refs(eq.rhs))] + [q.atom for q in prog.queries]
    for ref in atoms:
        for a, index in enumerate(ref.indices):
            if index.is_constant and index.symbol is None and (ref.name, a) in symbolic and index.offset not in table:
                table.append(index.offset)
    return tuple(table)


def inputs_for(program, density: float = 0.3, min_extent: int = 1, max_extent: int = 4,
               relations_as: str = "mixed") -> st.SearchStrategy:
    """Inputs for ``program`` (a ``FuzzProgram``, IR program or source): a dict of arrays and scalars.

    Axes joined by a shared index get one extent (``min_extent..max_extent``; named-constant axes span
    the program's constants; declared shapes are kept). Numeric tensors hold non-zero multiples of 1/4 in
    [-2, 2], scalars multiples of 1/4 in [1/4, 2]; each relation is true on about ``density`` of its
    tuples (at least one), given as a bool array or, with ``relations_as="tuples"`` (or by chance with
    ``"mixed"``), as a list of tuples.
    """
    if relations_as not in ("arrays", "tuples", "mixed"):
        raise ValueError(f"relations_as must be 'arrays', 'tuples' or 'mixed', not {relations_as!r}")
    fuzz = as_fuzz_program(program)
    prog = fuzz.ir
    inputs = fuzz.input_names()
    tensors = [n for n in inputs if n in prog.tensors]
    supplied = [n for n in fuzz.supplied if n in prog.tensors and n not in tensors]
    symbolic = symbolic_axes(prog, set())
    symbols = symbol_table(prog, symbolic)
    declared = {name: shape.dims for name, shape in prog.shapes.items()}
    components = sorted((sorted(c, key=lambda s: (list(prog.tensors).index(s[0]), s[1]))
                         for c in axis_components(prog)), key=lambda c: (list(prog.tensors).index(c[0][0]), c[0][1]))

    if not tensors and not supplied and not prog.scalars:
        return st.just({})

    @st.composite
    def build(draw):
        extent: dict[tuple[str, int], int] = {}
        for component in components:
            if not any(name in tensors for name, _ in component):
                continue
            fixed = [declared[n][a] for n, a in component if n in declared and isinstance(declared[n][a], int)]
            if set(component) & symbolic:
                size = len(symbols)
            elif fixed:
                size = fixed[0]
            else:
                size = draw(st.integers(min_extent, max_extent))
            for spot in component:
                extent[spot] = size
        for name in supplied:        # data for a defined tensor: its shape is only a lower bound on the extent
            for a in range(prog.tensors[name].rank):
                dims = declared.get(name)
                if (name, a) in symbolic:
                    extent[(name, a)] = len(symbols)
                elif dims is not None and isinstance(dims[a], int):
                    extent[(name, a)] = dims[a]
                else:
                    extent[(name, a)] = draw(st.integers(min_extent, max_extent))
        values: dict = {}
        for name in tensors + supplied:
            info = prog.tensors[name]
            shape = tuple(extent[(name, a)] for a in range(info.rank))
            rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
            if not info.relation:
                values[name] = _dyadic(rng, shape)
                continue
            mask = np.asarray(rng.random(shape) < density)
            if mask.size and not mask.any():
                mask[tuple(int(rng.integers(0, s)) for s in shape)] = True
            as_tuples = info.rank > 0 and (relations_as == "tuples"
                                           or (relations_as == "mixed" and draw(st.booleans())))
            if as_tuples:
                rows = []
                for position in np.argwhere(mask):
                    rows.append(tuple(symbols[int(p)] if (name, a) in symbolic else int(p)
                                      for a, p in enumerate(position)))
                values[name] = rows
            else:
                values[name] = mask
        for name in fuzz.ir.scalars:
            values[name] = float(draw(st.integers(1, 8))) / 4
        return values

    return build()


def cases(density: float = 0.3, **program_options) -> st.SearchStrategy:
    """``(program, inputs)`` pairs: ``programs(**program_options)`` with ``inputs_for`` each."""
    max_extent = program_options.get("max_extent", 4)
    return programs(**program_options).flatmap(
        lambda p: st.tuples(st.just(p), inputs_for(p, density=density, max_extent=max_extent)))


# ------------------------------------------------------------------------------------------ bad source
_TOKENS = ("X", "Y", "R", "i", "j", "k", "t", "[", "]", "(", ")", ",", "=", "+=", "max=", "min=", "avg=", "+", "-",
           "*", "/", "^", "~", ".", "?", ";", "\n", " ", "0", "1", "2.5", "1e3", "'a b'", '"q"', "Bob", "exp", "sig",
           "softmax", "lnorm", "concat", "const", "tensor", "relation", "domain", ":", "#", "\\\n", "*t", "p'")


def _mutate_text(draw, text: str) -> str:
    kind = draw(st.sampled_from(["truncate", "delete", "insert", "replace", "duplicate", "swap"]))
    if not text:
        return draw(st.sampled_from(_TOKENS))
    a = draw(st.integers(0, len(text)))
    b = draw(st.integers(a, min(len(text), a + 8)))
    if kind == "truncate":
        return text[:a]
    if kind == "delete":
        return text[:a] + text[b:]
    if kind == "insert":
        return text[:a] + draw(st.sampled_from(_TOKENS)) + text[a:]
    if kind == "replace":
        return text[:a] + draw(st.sampled_from(_TOKENS + tuple(string.printable[:95]))) + text[b:]
    if kind == "duplicate":
        return text[:b] + text[a:b] + text[b:]
    return text[b:] + text[:a] + text[a:b]


def sources(**program_options) -> st.SearchStrategy:
    """Source text: printed generated programs, mutations of them, token soup and arbitrary text.

    ``tlc.compile`` on any of these must succeed or raise ``tlc.TlcError``, never anything else.
    """
    printed = programs(**program_options).map(lambda p: p.source)

    @st.composite
    def mutated(draw):
        text = draw(printed)
        for _ in range(draw(st.integers(1, 3))):
            text = _mutate_text(draw, text)
        return text

    soup = st.lists(st.sampled_from(_TOKENS), max_size=30).map(" ".join)
    return st.one_of(printed, mutated(), soup, st.text(max_size=60))
