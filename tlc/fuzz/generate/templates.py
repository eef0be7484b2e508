"""The registry of templates: each kind of statement group the generator draws (a general equation, a pooling,
a convolution, a recursion, facts...) is a function of a ``Builder`` registered by name with its weight."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st

from tlc.fuzz.generate.builder import NAMED, VARIABLES, Builder, Context
from tlc.fuzz.generate.intervals import INPUT_BOUND
from tlc.fuzz.generate.records import Config, FuzzProgram
from tlc.ir import nodes as ir

AGG = ir.Aggregator


@dataclass(frozen=True)
class Template:
    """A registered template: how often it is drawn and which ``Config`` switches it needs."""

    name: str
    weight: int
    needs: tuple[str, ...]
    build: Callable[[Builder], None]

    def enabled(self, config: Config) -> bool:
        """True when every switch in ``needs`` is on in ``config``."""
        return all(getattr(config, switch) for switch in self.needs)


TEMPLATES: dict[str, Template] = {}
"""Every template by name, in the order drawing shrinks toward (the first is the simplest)."""


def template(weight: int, *needs: str):
    """Register a template under its function's name, drawn with ``weight`` when every switch in ``needs`` is on."""
    def register(fn: Callable[[Builder], None]) -> Callable[[Builder], None]:
        TEMPLATES[fn.__name__] = Template(fn.__name__, weight, needs, fn)
        return fn
    return register


@template(10)
def einsum(builder: Builder) -> None:
    """A general equation: a new tensor, or one more equation for an existing one."""
    extend = [n for n, t in builder.tensors.items() if t.defined and t.reduction and t.fixed_bound is None
              and t.readable]
    ctx = Context()
    if extend and builder.chance(25):
        name = builder.pick(extend)
        info = builder.tensors[name]
        ctx.forbidden = builder.downstream(name)
        aggregator = AGG.ADD if info.reduction == "sum" else AGG(info.reduction + "=")
    else:
        relation = builder.config.relations and builder.chance(20)
        aggregator = AGG.SUM if relation else builder.weighted(
            [(6, AGG.SUM), (1, AGG.ADD), (2, AGG.MAX), (2, AGG.MIN), (2, AGG.AVG)])
        rank = builder.draw(st.integers(0, builder.config.max_rank))
        name = builder.new_defined(rank, relation, aggregator.reduction)
        info = builder.tensors[name]
        ctx.forbidden = {name}
    variables = builder.lhs_vars(info.rank, ctx)
    ctx.lhs_vars = variables
    indices = []
    for var in variables:
        form = builder.weighted([(16, "plain"), (2, "shift"), (1, "pool"), (1, "constant"), (1, "compound")]) \
            if builder.config.shifts else "plain"
        if form == "compound":                      # Y[x + d]: a scatter-add over two variables
            extra = ctx.summed_var(builder)
            indices.append(ir.Index(((var, 1), (extra, 1))))
        elif form == "shift":
            indices.append(ir.Index(((var, 1),), builder.pick([1, -1])))
        elif form == "pool":
            indices.append(ir.Index(((var, 1),), 0, 2))
        elif form == "constant":
            indices.append(ir.Index((), builder.pick([0, 1])))
        else:
            indices.append(ir.Index(((var, 1),)))
    needed = tuple(dict.fromkeys(v for index in indices for v, _ in index.terms))
    ctx.lhs_vars = needed
    rhs = builder.expr(builder.draw(st.integers(0, builder.config.max_depth)), needed, ctx)
    lhs = ir.Ref(name, tuple(indices), info.relation)
    builder.add_equation(ir.Equation(lhs, aggregator, rhs))


@template(2)
def pool(builder: Builder) -> None:
    """``P[x/2, ...] max= F[x, ...]`` over an existing numeric tensor."""
    sources = [n for n, t in builder.tensors.items() if not t.relation and t.rank >= 1 and t.readable]
    if not sources:
        return einsum(builder)
    src = builder.pick(sources)
    rank = builder.tensors[src].rank
    aggregator = builder.pick([AGG.MAX, AGG.AVG, AGG.MIN, AGG.SUM])
    ctx = Context()
    variables = builder.lhs_vars(rank, ctx)
    pooled = builder.draw(st.integers(0, rank - 1))
    size = builder.pick([2, 3])
    name = builder.new_defined(rank, False, aggregator.reduction)
    lhs = tuple(ir.Index(((v, 1),), 0, size if a == pooled else 1) for a, v in enumerate(variables))
    builder.add_equation(ir.Equation(ir.Ref(name, lhs), aggregator, ir.plain_ref(src, variables)))


@template(2)
def shared(builder: Builder) -> None:
    """A new tensor whose right-hand side repeats an existing equation's (maybe inside more), for CSE."""
    rules = [eq for eq in builder.equations if not eq.fact and builder.tensors[eq.lhs.name].fixed_bound is None
             and not any(isinstance(n, ir.Call) and n.function in ("concat", "softmax", "lnorm")
                         for n in ir.walk(eq.rhs))]
    if not rules:
        return einsum(builder)
    eq = builder.pick(rules)
    lhs_info = builder.tensors[eq.lhs.name]
    name = builder.new_defined(lhs_info.rank, lhs_info.relation, eq.aggregator.reduction)
    rhs = eq.rhs
    wrap = builder.pick(["same", "call", "plus"])
    if wrap == "call":
        rhs = ir.Call(builder.pick(["tanh", "relu", "abs"]), (rhs,))
    elif wrap == "plus":
        rhs = ir.Sum((rhs, ir.Num(1.0)), (1, 1))
    aggregator = AGG.SUM if eq.aggregator is AGG.ADD else eq.aggregator
    builder.add_equation(ir.Equation(ir.Ref(name, eq.lhs.indices, eq.lhs.relation), aggregator, rhs))


@template(2)
def chain(builder: Builder) -> None:
    """``N[...] = f(T[...]) (+ more)`` over an existing numeric tensor read at plain indices: with
    ``outputs=`` leaving ``T`` out, the ``fuse`` pass inlines it."""
    sources = [n for n, t in builder.tensors.items() if t.defined and not t.relation and t.readable
               and t.fixed_bound is None and not t.supplied]
    if not sources:
        return einsum(builder)
    source = builder.pick(sources)
    info = builder.tensors[source]
    name = builder.new_defined(info.rank, False, "sum", supply=False)
    ctx = Context(forbidden={name})
    variables = builder.lhs_vars(info.rank, ctx)
    ctx.lhs_vars = variables
    rhs: ir.Expr = ir.Call(builder.pick(["relu", "tanh", "sig", "abs"]), (ir.plain_ref(source, variables),))
    if builder.chance(50):
        more = builder.expr(builder.draw(st.integers(0, 1)), variables, ctx)
        rhs = ir.Sum((rhs, more), (1, builder.pick([1, -1])))
    builder.add_equation(ir.Equation(ir.plain_ref(name, variables), AGG.SUM, rhs))


@template(2, "normalisers")
def normalise(builder: Builder) -> None:
    """``Y[..., a.] = softmax(...)`` or ``lnorm(...)``."""
    rank = builder.draw(st.integers(1, max(1, builder.config.max_rank)))
    name = builder.new_defined(rank, False, "sum")
    ctx = Context(forbidden={name})
    variables = builder.lhs_vars(rank, ctx)
    ctx.lhs_vars = variables
    axis = builder.pick(variables)
    function = builder.pick(["softmax", "lnorm"])
    dotted = function == "softmax" or builder.chance(50) or axis != variables[-1]
    arg = builder.expr(builder.draw(st.integers(0, builder.config.max_depth - 1)), variables, ctx)
    rhs = ir.Call(function, (arg,), axis)
    if builder.chance(20):
        rhs = ir.Sum((rhs, ir.Num(1.0)), (1, 1))
    indices = tuple(ir.Index(((v, 1),), normalised=dotted and v == axis) for v in variables)
    builder.add_equation(ir.Equation(ir.Ref(name, indices), AGG.SUM, rhs))


@template(1, "normalisers")
def concat(builder: Builder) -> None:
    """``M[p, m] = concat(A[h, p, v])``: flatten (h, v) into m."""
    h, p, v, m = builder.lhs_vars(4, Context())
    source = builder.new_input(3)
    name = builder.new_defined(2, False, "sum")
    rhs = ir.Call("concat", (ir.plain_ref(source, (h, p, v)),))
    builder.add_equation(ir.Equation(ir.plain_ref(name, (p, m)), AGG.SUM, rhs))


@template(2, "shifts")
def convolution(builder: Builder) -> None:
    """``C[x, ...] = I[x+dx, ...] F[dx, ...]`` (or ``x-dx``), 1-D or 2-D."""
    dims = builder.pick([1, 2])
    xs = builder.lhs_vars(dims, Context())
    order = builder.draw(st.permutations([v for v in VARIABLES if v not in xs]))
    ds = tuple(order[:dims])
    sign = builder.pick([1, -1])
    image = builder.new_input(dims)
    filt = builder.new_input(dims)
    name = builder.new_defined(dims, False, "sum")
    read = ir.Ref(image, tuple(ir.Index(((x, 1), (d, sign))) for x, d in zip(xs, ds)))
    rhs = ir.Product((read, ir.plain_ref(filt, ds)), (False, False))
    if builder.chance(30):
        rhs = ir.Call(builder.pick(["relu", "tanh", "sig"]), (rhs,))
    builder.add_equation(ir.Equation(ir.plain_ref(name, xs), AGG.SUM, rhs))


@template(2, "recursion")
def paths(builder: Builder) -> None:
    """Shortest (``min=``) or most reliable (``max=``) paths: a numeric fixpoint that converges."""
    weights = builder.new_input(2)
    x, y, z = builder.lhs_vars(3, Context())
    if builder.chance(50):
        name = builder.new_defined(2, False, "min")
        edge = lambda a, b: ir.Call("abs", (ir.plain_ref(weights, (a, b)),))  # noqa: E731
        bound = (0.0, 2.0 * builder.count)
        step = ir.Sum((ir.plain_ref(name, (x, y)), edge(y, z)), (1, 1))
        aggregator = AGG.MIN
    else:
        # no data: a negative start would rise towards 0 through every sig < 1 step, without a fixpoint
        name = builder.new_defined(2, False, "max", supply=False)
        edge = lambda a, b: ir.Call("sig", (ir.plain_ref(weights, (a, b)),))  # noqa: E731
        bound = (0.0, 1.0)
        step = ir.Product((ir.plain_ref(name, (x, y)), edge(y, z)), (False, False))
        aggregator = AGG.MAX
    builder.add_equation(ir.Equation(ir.plain_ref(name, (x, y)), aggregator, edge(x, y)), bound)
    builder.add_equation(ir.Equation(ir.plain_ref(name, (x, z)), aggregator, step), bound)


@template(2, "recursion")
def recurrence(builder: Builder) -> None:
    """Prefix sums, an RNN over time (maybe virtual), deep layers, or two coupled sequences."""
    shape = builder.pick(["prefix", "rnn", "layers", "coupled", "declared"])
    ctx = Context()
    if shape == "prefix":
        t, k = builder.lhs_vars(2, ctx)
        batch = (ir.Index(((k, 1),)),) if builder.chance(40) else ()     # S[k, t+1]: one sum per row of X
        xs = builder.new_input(1 + len(batch))
        virtual = builder.chance(35)      # S[*t+1] = S[*t] + X[t]: only the final sum is kept
        name = builder.new_defined(1 + len(batch), False, "sum", supply=not virtual)
        bound = (-2 * builder.count - 2, 2 * builder.count + 2)
        if builder.chance(50) and not virtual:
            start = ir.Ref(xs, batch + (ir.Index((), 0),)) if batch else ir.Num(1.0)   # k needs a bound
            builder.add_equation(ir.Equation(ir.Ref(name, batch + (ir.Index((), 0),)), AGG.SUM, start), bound)
        body = ir.Sum((ir.Ref(name, batch + (ir.Index(((t, 1),), virtual=virtual),)),
                       ir.Ref(xs, batch + (ir.Index(((t, 1),)),))), (1, 1))
        lhs = ir.Ref(name, batch + (ir.Index(((t, 1),), 1, virtual=virtual),))
        builder.add_equation(ir.Equation(lhs, AGG.SUM, body), bound)
    elif shape == "rnn":
        i, j, k, t = builder.lhs_vars(4, ctx)
        virtual = builder.chance(60)
        w, u, xs = builder.new_input(2), builder.new_input(2), builder.new_input(2)
        name = builder.new_defined(2, False, "sum", supply=not virtual)
        state = lambda v, off: ir.Ref(name, (ir.Index(((v, 1),)),  # noqa: E731
                                             ir.Index(((t, 1),), off, virtual=virtual)))
        body = ir.Sum((ir.Product((ir.plain_ref(w, (i, j)), state(j, 0)), (False, False)),
                       ir.Product((ir.plain_ref(u, (i, k)), ir.plain_ref(xs, (k, t))), (False, False))), (1, 1))
        rhs = ir.Call(builder.pick(["tanh", "sig"]), (body,))
        builder.add_equation(ir.Equation(state(i, 1), AGG.SUM, rhs), (-1.0, 1.0))
    elif shape == "layers":
        i, j, k = builder.lhs_vars(3, ctx)
        first, w = builder.new_input(1), builder.new_input(3)
        name = builder.new_defined(2, False, "sum")
        builder.add_equation(ir.Equation(ir.Ref(name, (ir.Index((), 0), ir.Index(((j, 1),)))), AGG.SUM,
                                         ir.plain_ref(first, (j,))), INPUT_BOUND)
        body = ir.Product((ir.plain_ref(w, (i, j, k)), ir.Ref(name, (ir.Index(((i, 1),), -1), ir.Index(((k, 1),))))),
                          (False, False))
        builder.add_equation(ir.Equation(ir.plain_ref(name, (i, j)), AGG.SUM,
                                         ir.Call(builder.pick(["sig", "tanh"]), (body,))), INPUT_BOUND)
    elif shape == "coupled":
        (t,) = builder.lhs_vars(1, ctx)
        xs = builder.new_input(1)
        a = builder.new_defined(1, False, "sum")
        b = builder.new_defined(1, False, "sum")
        at = lambda n, off: ir.Ref(n, (ir.Index(((t, 1),), off),))  # noqa: E731
        builder.add_equation(ir.Equation(at(a, 1), AGG.SUM,
                                         ir.Call("tanh", (ir.Sum((at(b, 0), at(xs, 0)), (1, 1)),))), (-1.0, 1.0))
        builder.add_equation(ir.Equation(at(b, 1), AGG.SUM,
                                         ir.Call("sin", (ir.Sum((at(a, 0), at(xs, 0)), (1, -1)),))), (-1.0, 1.0))
    else:
        (t,) = builder.lhs_vars(1, ctx)
        name = builder.new_defined(1, False, "sum")
        extent = builder.draw(st.integers(1, builder.config.max_extent + 1))
        builder.decls.append(ir.Shape(name, False, (extent,)))
        builder.add_equation(ir.Equation(ir.Ref(name, (ir.Index((), 0),)), AGG.SUM, ir.Num(1.0)), (-4.0, 4.0))
        body = ir.Sum((ir.Product((ir.Num(0.5), ir.plain_ref(name, (t,))), (False, False)), ir.Num(1.0)), (1, 1))
        builder.add_equation(ir.Equation(ir.Ref(name, (ir.Index(((t, 1),), 1),)), AGG.SUM, body), (-4.0, 4.0))


def _atom(relation: str, *variables: str) -> ir.Ref:
    return ir.plain_ref(relation, variables, True)


def _join(*atoms: ir.Ref) -> ir.Product:
    return ir.Product(atoms, (False,) * len(atoms))


@template(2, "recursion", "relations")
def closure(builder: Builder) -> None:
    """A recursive relation: transitive closure, reachability, or mutual recursion; maybe negated later."""
    shape = builder.pick(["right", "left", "square", "reach", "mutual"])
    edge = builder.pick([n for n, t in builder.tensors.items() if t.relation and t.rank == 2 and t.readable]
                        + ["new"]) if builder.chance(40) else "new"
    if edge == "new":
        edge = builder.new_input(2, relation=True)
    x, y, z = builder.lhs_vars(3, Context())
    if shape == "reach":
        start = builder.new_input(1, relation=True)
        name = builder.new_defined(1, True, "sum")
        builder.add_equation(ir.Equation(_atom(name, x), AGG.SUM, _atom(start, x)), (0.0, 1.0))
        builder.add_equation(ir.Equation(_atom(name, y), AGG.SUM, _join(_atom(name, x), _atom(edge, x, y))),
                             (0.0, 1.0))
    elif shape == "mutual":
        a = builder.new_defined(2, True, "sum")
        b = builder.new_defined(2, True, "sum")
        builder.add_equation(ir.Equation(_atom(a, x, y), AGG.SUM, _atom(edge, x, y)), (0.0, 1.0))
        builder.add_equation(ir.Equation(_atom(b, x, z), AGG.SUM, _join(_atom(a, x, y), _atom(edge, y, z))),
                             (0.0, 1.0))
        builder.add_equation(ir.Equation(_atom(a, x, z), AGG.ADD, _join(_atom(b, x, y), _atom(edge, y, z))),
                             (0.0, 1.0))
        name = a
    else:
        name = builder.new_defined(2, True, "sum")
        builder.add_equation(ir.Equation(_atom(name, x, y), AGG.SUM, _atom(edge, x, y)), (0.0, 1.0))
        body = {"right": _join(_atom(name, x, y), _atom(edge, y, z)),
                "left": _join(_atom(edge, x, y), _atom(name, y, z)),
                "square": _join(_atom(name, x, y), _atom(name, y, z))}[shape]
        builder.add_equation(ir.Equation(_atom(name, x, z), AGG.SUM, body), (0.0, 1.0))
    if builder.chance(40):      # stratified negation of the finished relation
        other = builder.new_defined(builder.tensors[name].rank, True, "sum")
        vs = (x, y)[:builder.tensors[name].rank]
        positive = _atom(edge, x, y)         # binds every variable of the negated atom (safety)
        if builder.chance(50):
            body = ir.Product((positive, ir.Call("not", (_atom(name, *vs),))), (False, False))
        else:
            body = ir.Sum((positive, _atom(name, *vs)), (1, -1))
        builder.add_equation(ir.Equation(_atom(other, *vs), AGG.SUM, body), (0.0, 1.0))


@template(1, "relations")
def facts(builder: Builder) -> None:
    """A relation given by facts (integers or named constants), a closure over it and a query."""
    named = builder.config.named_constants and builder.chance(50)
    name = builder.new_defined(2, True, "sum")
    if named and builder.config.declarations and builder.chance(30):
        domain = builder.fresh("D")
        builder.decls.append(ir.Domain(domain, tuple(n for n in NAMED if not n.startswith("'"))[:3]))
        builder.decls.append(ir.Shape(name, True, (domain, domain)))
    n = builder.draw(st.integers(1, 4))
    for _ in range(n):
        if named:
            a, b = builder.pick(NAMED), builder.pick(NAMED)
            args = (ir.Index((), 0, 1, a.strip("'")), ir.Index((), 0, 1, b.strip("'")))
        else:
            args = (ir.Index((), builder.draw(st.integers(0, 3))), ir.Index((), builder.draw(st.integers(0, 3))))
        builder.add_equation(ir.Equation(ir.Ref(name, args, True), AGG.SUM, ir.Num(1.0), fact=True), (0.0, 1.0))
    x, y, z = builder.lhs_vars(3, Context())
    closure = builder.new_defined(2, True, "sum")
    builder.add_equation(ir.Equation(_atom(closure, x, y), AGG.SUM, _atom(name, x, y)), (0.0, 1.0))
    builder.add_equation(ir.Equation(_atom(closure, x, z), AGG.SUM, _join(_atom(closure, x, y), _atom(name, y, z))),
                         (0.0, 1.0))
    first = builder.equations[-3].lhs.indices[0]
    builder.queries.append(ir.Query(ir.Ref(closure, (first, ir.Index(((x, 1),))), True)))


@template(1, "declarations")
def positional(builder: Builder) -> None:
    """A declared output computed from index values only: ``PE[p, d] = sin(p / 4^(d/D))``."""
    p, d = builder.lhs_vars(2, Context())
    rows = builder.draw(st.integers(1, builder.config.max_extent))
    cols = builder.draw(st.integers(1, builder.config.max_extent))
    name = builder.new_defined(2, False, "sum")
    builder.decls.append(ir.Shape(name, False, (rows, cols)))
    scale = ir.Power(ir.Num(4.0), ir.Product((ir.IndexValue(d), ir.Num(float(cols))), (False, True)))
    rhs = ir.Call(builder.pick(["sin", "cos"]), (ir.Product((ir.IndexValue(p), scale), (False, True)),))
    builder.add_equation(ir.Equation(ir.plain_ref(name, (p, d)), AGG.SUM, rhs), (-1.0, 1.0))


@template(1)
def numeric_fact(builder: Builder) -> None:
    """``T[0, 1]`` on a sum-defined tensor: adds 1 at that position."""
    targets = [n for n, t in builder.tensors.items() if t.defined and not t.relation and t.reduction == "sum"
               and t.fixed_bound is None and t.rank >= 1 and t.readable]
    if not targets:
        return einsum(builder)
    name = builder.pick(targets)
    args = tuple(ir.Index((), builder.draw(st.integers(0, 2))) for _ in range(builder.tensors[name].rank))
    builder.add_equation(ir.Equation(ir.Ref(name, args), AGG.SUM, ir.Num(1.0), fact=True))


def query(builder: Builder) -> None:
    """A query of a defined tensor, at variables or (where no named constant pins it) constant positions."""
    defined = [n for n, t in builder.tensors.items() if t.defined and t.rank >= 1]
    if not defined:
        return
    name = builder.pick(defined)
    info = builder.tensors[name]
    order = builder.draw(st.permutations(VARIABLES))
    args = tuple(ir.Index((), builder.draw(st.integers(0, 2))) if builder.chance(40) else ir.Index(((order[a], 1),))
                 for a in range(info.rank))
    if any(eq.lhs.name == name and eq.lhs.indices and eq.lhs.indices[0].symbol is not None for eq in builder.equations):
        args = tuple(ir.Index(((order[a], 1),)) for a in range(info.rank))
    builder.queries.append(ir.Query(ir.Ref(name, args, info.relation)))


def program(builder: Builder) -> FuzzProgram:
    """One template after another (like a list: Hypothesis shrinks it by deleting some), then queries."""
    c = builder.config
    table = [(t.weight, t.build) for t in TEMPLATES.values() if t.enabled(c)]
    while True:
        builder.weighted(table)(builder)
        if len(builder.equations) >= c.max_equations or not builder.chance(85):
            break
    if c.queries:
        for _ in range(builder.draw(st.integers(0, 2))):
            query(builder)
    supplied = tuple(n for n, t in builder.tensors.items() if t.supplied)
    statements = tuple(builder.decls) + tuple(builder.equations) + tuple(builder.queries)
    return FuzzProgram.from_statements(statements, supplied)


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
        return program(Builder(draw, config))

    if hostile_names:
        from tlc.fuzz.names import hostile_programs
        return hostile_programs(build(), hostile_names)
    return build()
