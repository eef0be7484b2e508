"""The program builder: draws tensors, indices, leaves and expressions, and records each equation made safe."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

from tlc.fuzz.generate.intervals import INPUT_BOUND, SMALL, Bound, Bounds, Unfixable, hull, make_safe
from tlc.fuzz.generate.records import Config
from tlc.ir import nodes as ir

VARIABLES = ("i", "j", "k", "l", "m", "n", "p", "q", "r", "s", "t", "u", "v", "w", "i'", "j'", "p'")
"""Index variables, in the order the builder draws them from."""
NAMED = ("Alice", "Bob", "Carol", "Dan", "Eve", "'new york'")
"""Named constants of relations given by facts."""
ELEMENTWISE = ("relu", "tanh", "sig", "sqrt", "abs", "sin", "exp", "cos", "step", "log")
"""Functions of one argument that the builder calls."""


@dataclass
class _Tensor:
    """What the builder knows of one tensor."""

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
        """The interval every value of the tensor lies in."""
        if self.relation:
            return 0.0, 1.0
        if not self.defined:
            return INPUT_BOUND
        data = [INPUT_BOUND] if self.supplied else []
        if self.fixed_bound is not None:   # a recursion: data may join every step
            grow = self.count if self.supplied else 0.0
            return self.fixed_bound[0] + INPUT_BOUND[0] * grow, self.fixed_bound[1] + INPUT_BOUND[1] * grow
        parts = [hull(b, (0.0, 0.0)) for b in [*self.contributions, *data]] or [(0.0, 0.0)]
        if self.reduction == "sum":
            return sum(p[0] for p in parts), sum(p[1] for p in parts)
        return hull(*parts)


@dataclass
class Context:
    """What one equation's right-hand side may use."""

    lhs_vars: tuple[str, ...] = ()
    forbidden: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)
    no_fresh: bool = False
    """No variable of its own: every index is a needed variable or a constant."""

    def summed_var(self, builder: Builder) -> str:
        """A variable not on the left-hand side: a fresh one, or one already summed in this equation."""
        summed = sorted(self.used - set(self.lhs_vars))
        free = [v for v in VARIABLES if v not in self.used]
        if summed and (not free or builder.chance(30)):
            return builder.pick(summed)
        var = builder.pick(free)
        self.used.add(var)
        return var


class Builder:
    """Draws one program: its tensors, indices and expressions; the templates (``templates.py``) use it."""

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
        """A new name: ``prefix`` and a counter."""
        n = self.counters.get(prefix, 0)
        self.counters[prefix] = n + 1
        return f"{prefix}{n}"

    # ----- tensors
    def new_input(self, rank: int, relation: bool = False) -> str:
        """A new input tensor (``X``) or relation (``E``)."""
        name = self.fresh("E" if relation else "X")
        self.tensors[name] = _Tensor(rank, relation, False)
        self.reads[name] = set()
        return name

    def new_defined(self, rank: int, relation: bool, reduction: str, supply: bool = True) -> str:
        """A new defined tensor (``T``) or relation (``R``); with ``supply``, it may also be given data."""
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
            bounds = Bounds({n: t.bound for n, t in self.tensors.items()}, self.consts, self.count)
            try:
                eq, bound = make_safe(eq, bounds)
                concat = isinstance(eq.rhs, ir.Call) and eq.rhs.function == "concat"
                if max(abs(bound[0]), abs(bound[1])) > SMALL and not concat:
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
    def index(self, var: str) -> ir.Index:
        """An index on ``var``: plain, or (with ``shifts``) sometimes shifted or divided."""
        if self.config.shifts:
            form = self.weighted([(14, "plain"), (2, "shift"), (1, "divide")])
            if form == "shift":
                offset = self.pick([1, -1, 2])
                return ir.Index(((var, 1),), offset)
            if form == "divide":
                return ir.Index(((var, 1),), 0, 2)
        return ir.Index(((var, 1),))

    def leaf(self, needed: tuple[str, ...], ctx: Context) -> ir.Expr:
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
    def expr(self, depth: int, needed: tuple[str, ...], ctx: Context) -> ir.Expr:
        """An expression at most ``depth`` deep whose indices use every variable in ``needed``."""
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
            negated = self.leaf(needed, Context(ctx.lhs_vars, ctx.forbidden, ctx.used, no_fresh=True))
            return ir.Product((positive, ir.Call("not", (negated,))), (False, False))
        base = self.expr(depth - 1, needed, ctx)
        return ir.Power(base, ir.Num(self.pick([2.0, 3.0, 0.5])))

    def denominator(self, depth: int, ctx: Context) -> ir.Expr:
        """A divisor kept away from 0: a number, a scalar, ``e^2 + 1``, ``exp(e)`` or ``abs(e) + 0.5``."""
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

    def lhs_vars(self, rank: int, ctx: Context) -> tuple[str, ...]:
        """``rank`` distinct variables for a left-hand side, marked used in ``ctx``."""
        order = self.draw(st.permutations(VARIABLES))
        chosen = tuple(order[:rank])
        ctx.used.update(chosen)
        return chosen
