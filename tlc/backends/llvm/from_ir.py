"""Translate one tlc IR equation, as the NumPy emitter sees it, into a kernel (or say why not).

The translation follows the NumPy emitter's semantics exactly: projected indices are summed where
``projection.summed_at`` says (a ``Reduce`` at that node), ``max=``/``min=``/``avg=`` reduce the
whole right-hand side, relations read as 0/1 and are written as ``value > 0`` OR-ed in, and
contributions combine into the target (add, max, min, or) so several equations accumulate into one
tensor. ``softmax``/``lnorm`` become row normalisers along their dotted index (made the innermost
loop); ``concat`` and facts stay NumPy. Index ranges come from shape inference ("valid" semantics);
every position a kernel reads or writes is checked against the extents here, at emit time, so kernels
never need bounds checks (the runtime also refuses arrays whose extents disagree with the call).

Cost rules, recorded in ``Lowering.notes`` for ``explain``:
- a GEMM-shaped sum-product (two float tensors, a summed index set shared by both, every other
  index in exactly one) of at least ``BLAS_MIN_WORK`` multiply-adds is computed by NumPy (BLAS) into
  a temporary; the kernel fuses what surrounds it (bias, nonlinearity). If nothing surrounds it the
  whole equation stays NumPy.
- a product of three or more tensors whose planned contraction is much cheaper than
  one fused loop nest is contracted by NumPy the same way.
- the reduction strategy (register accumulator with the reduction innermost, or ``rows``: a tile along
  the innermost output loop) is chosen by which keeps the innermost loop long and its reads contiguous.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tlc.backends.llvm.kernel import (
    Array, Binary, IndexVal, Kernel, Lit, Normalize, Output, Param, Pos, Read, Reduce, Sig, Unary,
    free_variables, walk,
)
from tlc.backends.llvm.parallel import split_variable
from tlc.backends.shared.arrays import Bound
from tlc.backends.shared.quoting import identifier, literal
from tlc.ir import nodes as ir
from tlc.analysis.projection import Projection
from tlc.analysis.projection import occurrences as ir_vars

BLAS_MIN_WORK = 1 << 15
"""Multiply-adds from which a GEMM-shaped product goes to BLAS (below it a fused loop is faster)."""
FACTORISE_RATIO = 4.0
"""A product of 3+ tensors is contracted by NumPy when one fused loop would cost this many times more."""
VECTOR_TRIP = 8
MAX_DEPTH = 100
"""Deeper expressions stay NumPy (the code generator recurses once per level)."""
UNARY_FUNCTIONS = ("step", "relu", "tanh", "exp", "log", "sqrt", "abs", "sin", "cos")


class Unsupported(Exception):
    """The equation (or part of it) has no kernel form; the message says why."""


@dataclass(frozen=True)
class Lowering:
    """A kernel for one equation and how to call it, or ``kernel=None`` and the reason."""

    kernel: Kernel | None
    reason: str = ""
    arrays: tuple[str, ...] = ()
    """Python code of each kernel array at the call site."""
    params: tuple[str, ...] = ()
    """Python code of each scalar parameter."""
    ints: tuple[int | str, ...] = ()
    """Ranges and extents (ints or code, e.g. ``t - 1`` inside a recurrence)."""
    externals: tuple[tuple[ir.Expr, tuple[int, ...]], ...] = ()
    """Sub-expressions computed by NumPy into temporaries, with their paths (for the notes)."""
    notes: tuple[str, ...] = field(default=())


def kernel_for(eq: ir.Equation, projection: Projection, bounds: dict[str, Bound], extents: dict, **options) \
        -> Kernel | None:
    """The kernel computing ``eq`` over ``bounds``, or None when it has no kernel form (see ``lower_equation``)."""
    return lower_equation(eq, projection, bounds, extents, **options).kernel


def lower_equation(eq: ir.Equation, projection: Projection, bounds: dict[str, Bound], extents: dict, *,
                   ranges: dict | None = None, symbols: tuple = (), symbolic: frozenset = frozenset(),
                   overrides: dict | None = None, target: str | None = None, consts: dict | None = None,
                   assign: bool = False, external=None, windows: dict | None = None,
                   contraction=None) -> Lowering:
    """Translate ``eq`` into a kernel call.

    ``bounds``: per index, the values it takes (``lo`` may be code); ``ranges``: static ``[lo, hi)``
    per index covering every value ``lo`` can take (defaults to the bounds); ``extents`` per tensor;
    ``overrides``: array code per RHS path (semi-naive deltas); ``target``: code of the output array;
    ``assign``: the target holds no other contribution, so values may be stored instead of combined;
    ``external(node, path) -> (code, vars)`` computes a sub-expression with NumPy (BLAS) into a
    temporary whose axes are ``vars`` over the bounds; without it no BLAS split is made.
    ``windows``: tensor -> (axis, slots) for virtual axes kept as ring buffers of ``slots`` steps.
    ``contraction(path)``: the planned contraction of the product at ``path`` (``tlc.analysis.contractions``).
    """
    translator = _Translator(eq, projection, bounds, extents, ranges, symbols, symbolic, overrides or {},
                             target or identifier(eq.lhs.name), consts or {}, external, windows or {},
                             contraction or (lambda path: None))
    try:
        return translator.run(assign)
    except Unsupported as why:
        return Lowering(None, str(why), notes=tuple(translator.notes))
    except RecursionError:
        return Lowering(None, "expression nested too deeply for a kernel")


class _Translator:
    def __init__(self, eq, projection, bounds, extents, ranges, symbols, symbolic, overrides, target, consts,
                 external, windows, contraction):
        self.eq = eq
        self.projection = projection
        self.bounds = bounds
        self.extents = extents
        self.static = ranges or {v: (b.lo, b.lo + b.size) for v, b in bounds.items() if isinstance(b.lo, int)}
        self.symbols = symbols
        self.symbolic = symbolic
        self.overrides = overrides
        self.target = target
        self.consts = consts
        self.external = external
        self.windows = windows
        self.contraction = contraction
        self.arrays: list[Array] = []
        self.codes: list[str] = []
        self.shapes: list[tuple[int, ...]] = []
        self.params: list[str] = []
        self.externals: list = []
        self.numpy_arrays: set[int] = set()
        self.notes: list[str] = []

    def size(self, var: str) -> int:
        return self.bounds[var].size

    # ------------------------------------------------------------ whole equation
    def run(self, assign: bool) -> Lowering:
        eq = self.eq
        if eq.fact:
            raise Unsupported("a fact: NumPy sets one element")
        if any(b.size == 0 for b in self.bounds.values()):
            raise Unsupported("an empty index range defines no element")
        for node in ir.walk(eq.rhs):
            if isinstance(node, ir.Call) and node.function == "concat":
                raise Unsupported("concat reshapes: NumPy")
        if _depth(eq.rhs) > MAX_DEPTH:
            raise Unsupported(f"expression nested deeper than {MAX_DEPTH} levels: NumPy")
        value = self.expr(eq.rhs, ())
        reduced = tuple(v for v in self.projection.reduced if v in free_variables(value))
        count = None
        if eq.aggregator.reduction == "avg":
            count = reduced
        if reduced:
            op = {"max": "max", "min": "min", "avg": "sum", "sum": "sum"}[eq.aggregator.reduction]
            value = Reduce(op, self.order(reduced, value), value)
        lhs_vars = tuple(dict.fromkeys(v for i in eq.lhs.indices for v in i.variables))
        stray = free_variables(value) - set(lhs_vars)
        if stray:
            raise Unsupported(f"index {sorted(stray)[0]} is neither on the left-hand side nor summed")
        relation = eq.lhs.relation
        if relation:
            value = _as_or(value, self.arrays)
        positions = tuple(self.position(eq.lhs.name, a, index) for a, index in enumerate(eq.lhs.indices))
        self.check(eq.lhs.name, positions, tuple(self.extents[eq.lhs.name]) if eq.lhs.indices else (), "writes")
        out_extents = self.stored_shape(eq.lhs.name) if eq.lhs.indices else ()
        injective = _injective(eq.lhs)
        reduction = eq.aggregator.reduction
        if relation:
            combine = "assign" if assign and injective else "or"
        elif reduction in ("max", "min"):
            combine = "assign" if assign and injective else reduction
        else:
            combine = "assign" if assign and injective and reduction == "sum" else "add"
        if isinstance(value, Read) and value.array in self.numpy_arrays \
                and combine in ("add", "assign") and count is None and not relation:
            raise Unsupported("GEMM-shaped sum-product: NumPy/BLAS computes the whole equation")
        output = Output(positions, "u8" if relation else "f64", combine)
        loops = lhs_vars
        normalizers = {n.var for n in walk(value) if isinstance(n, Normalize)}
        if normalizers:
            if len(normalizers) > 1 or any(isinstance(n, Reduce) and any(isinstance(m, Normalize) for m in walk(n.body))
                                           for n in walk(value)):
                raise Unsupported("softmax/lnorm inside a reduction or along two indices: NumPy")
            axis = next(iter(normalizers))
            loops = tuple(v for v in loops if v != axis) + (axis,)     # rows of the normalised index innermost
        rows = not normalizers and self.rows_strategy(loops, value)
        split = split_variable(eq.lhs, loops, self.size)
        kernel = Kernel(loops, value, output, tuple(self.arrays), len(self.params), count, rows, split,
                        label=f"line {eq.span.line}" if eq.span else "")
        ints: list = []
        for var in kernel.variables:
            b = self.bounds[var]
            ints += [b.shifted(0), b.shifted(b.size)]
        ints += list(out_extents)
        for shape in self.shapes:
            ints += list(shape)
        ints += [self.bounds[var].shifted(0) for var in kernel.local_variables]
        return Lowering(kernel, "kernel", tuple(self.codes), tuple(self.params), tuple(ints), tuple(self.externals),
                        tuple(self.notes))

    # ------------------------------------------------------------ expressions
    def expr(self, node: ir.Expr, path) -> object:
        outside = self.numpy_product(node, path) if isinstance(node, ir.Product) else None
        outside = outside if outside is not None else self.hoisted(node, path)
        if outside is not None:
            return outside
        value = self._expr(node, path)
        gone = self.projection.summed_at.get(path, ())
        return Reduce("sum", self.order(gone, value), value) if gone else value

    def _expr(self, node: ir.Expr, path):
        if isinstance(node, ir.Ref):
            return self.read(node, path)
        if isinstance(node, ir.Num):
            return self.number(float(node.value))
        if isinstance(node, ir.Scalar):
            if node.name in self.consts:
                return self.number(float(self.consts[node.name]))
            return Param(self.param(identifier(node.name)))
        if isinstance(node, ir.IndexValue):
            return IndexVal(node.name)
        if isinstance(node, ir.Product):
            return self.product(node, path)
        if isinstance(node, ir.Sum):
            value = None
            for k, (term, sign) in enumerate(zip(node.terms, node.signs)):
                part = self.expr(term, path + (k,))
                if value is None:
                    value = part if sign > 0 else Unary("neg", part)
                else:
                    value = Binary("add" if sign > 0 else "sub", value, part)
            return value
        if isinstance(node, ir.Neg):
            return Unary("neg", self.expr(node.operand, path + (0,)))
        if isinstance(node, ir.Power):
            exponent = node.exponent
            if isinstance(exponent, ir.Num) and not self.projection.summed_at.get(path + (1,)):
                return Binary("pow", self.expr(node.base, path + (0,)), Lit(float(exponent.value)))  # x^2 is x*x
            return Binary("pow", self.expr(node.base, path + (0,)), self.expr(exponent, path + (1,)))
        if isinstance(node, ir.Call):
            args = [self.expr(a, path + (k,)) for k, a in enumerate(node.args)]
            if node.function in ir.PAIRWISE:
                return Binary(node.function, args[0], args[1])
            if any(free_variables(a) - free_variables(args[0]) for a in args[1:]):
                raise Unsupported("a function's extra argument uses indices its first argument lacks")
            if node.function in UNARY_FUNCTIONS and len(args) == 1:
                return Unary(node.function, args[0])
            if node.function == "sig" and len(args) in (1, 2):
                return Sig(args[0], args[1] if len(args) == 2 else None)
            if node.function in ("softmax", "lnorm") and len(args) == 1:
                if node.extra_axes:
                    raise Unsupported(f"{node.function} over several axes jointly has no kernel form")
                if node.axis is None or node.axis not in free_variables(args[0]):
                    raise Unsupported(f"{node.function} normalises over an index its argument lacks")
                return Normalize(node.function, node.axis, args[0])
            raise Unsupported(f"{node.function} with {len(args)} arguments has no kernel form")
        if isinstance(node, ir.Attention):
            raise Unsupported("fused attention runs tlc_runtime.attention (blocked online softmax, BLAS per block)")
        raise Unsupported(f"{type(node).__name__} has no kernel form")

    def numpy_product(self, node: ir.Product, path):
        """A read of a NumPy temporary when the cost rules give this summed product to NumPy, else None."""
        gone = self.projection.summed_at.get(path, ())
        if not gone or self.external is None:
            return None
        why = self.blas_shaped(node, gone, path) or self.factorised(node, gone, path)
        if not why:
            return None
        nested = any(len(p) > len(path) and p[:len(path)] == path for p in self.projection.summed_at)
        code, variables = self.external(node if nested else self.output_ordered(node, gone), path)
        self.notes.append(why)
        self.externals.append((node, path))
        array = self.add_array(code, tuple(self.size(v) for v in variables), "f64")
        self.numpy_arrays.add(array)
        return Read(array, tuple(Pos(((v, 1),), local=(v,)) for v in variables))

    def free_of(self, path) -> set[str]:
        """The indices of the sub-expression at ``path`` left after the sums inside it."""
        inside = {v for _, v in ir_vars(ir.node_at(self.eq.rhs, path))}
        return inside - {v for p, vs in self.projection.summed_at.items() if p[:len(path)] == path for v in vs}

    def hoisted(self, node: ir.Expr, path):
        """A read of a NumPy temporary for a sum inside the right-hand side that the fused loop nest would redo for
        every value of an enclosing index it does not depend on (the mean inside an ``lnorm`` adjoint, the inner
        product of a fused chain of contractions), when that repeated work is at least ``BLAS_MIN_WORK``; else None."""
        gone = self.projection.summed_at.get(path, ())
        if not gone or not path or self.external is None:
            return None
        summed = self.projection.summed_at
        inside = {v for _, v in ir_vars(node)}
        free = self.free_of(path)
        enclosing = {v for i in self.eq.lhs.indices for v in i.variables} | \
            {v for p, vs in summed.items() if len(p) < len(path) and path[:len(p)] == p for v in vs} | \
            set(self.projection.reduced)
        repeats = math.prod(self.size(v) for v in enclosing - free)
        work = math.prod(self.size(v) for v in inside)
        if repeats <= 1 or work * repeats < BLAS_MIN_WORK:
            return None
        code, variables = self.external(node, path)
        self.notes.append(f"NumPy: a sum over {', '.join(gone)} the loop nest would repeat {repeats} times")
        self.externals.append((node, path))
        array = self.add_array(code, tuple(self.size(v) for v in variables), "f64")
        self.numpy_arrays.add(array)
        return Read(array, tuple(Pos(((v, 1),), local=(v,)) for v in variables))

    def output_ordered(self, node: ir.Product, gone) -> ir.Product:
        """The product with its factors ordered so that NumPy's result axes (the factors' kept indices in
        order) follow the left-hand side: the kernel then reads the temporary contiguously."""
        lhs = [v for i in self.eq.lhs.indices for v in i.variables]
        keep = [[v for _, v in ir_vars(f) if v not in gone] for f in node.factors]
        wanted = [v for v in lhs if any(v in k for k in keep)]
        order = sorted(range(len(node.factors)), key=lambda k: min((wanted.index(v) for v in keep[k] if v in wanted),
                                                                      default=-1))
        if order == list(range(len(node.factors))):
            return node
        return ir.Product(tuple(node.factors[k] for k in order), tuple(node.inverted[k] for k in order),
                          span=node.span)

    def product(self, node: ir.Product, path):
        value = None
        for k, (factor, inverted) in enumerate(zip(node.factors, node.inverted)):
            part = self.expr(factor, path + (k,))
            if inverted:
                value = Binary("div", value if value is not None else Lit(1.0), part)
            else:
                value = part if value is None else Binary("mul", value, part)
        return value if value is not None else Lit(1.0)

    def blas_shaped(self, node: ir.Product, gone, path) -> str | None:
        """Why a product of two tensor-valued factors (reads, or sub-expressions over distinct indices) and
        constants goes to NumPy: a (batched) matrix product, each summed index in both factors, each other index
        in one or kept in both (a batch), of at least ``BLAS_MIN_WORK`` multiply-adds (None: keep it fused)."""
        arrays = [(k, f) for k, (f, inv) in enumerate(zip(node.factors, node.inverted))
                  if any(isinstance(n, (ir.Ref, ir.IndexValue)) for n in ir.walk(f))]
        if len(arrays) != 2 or any(node.inverted[k] for k, _ in arrays):
            return None
        names = []
        for k, factor in arrays:
            if isinstance(factor, ir.Ref):
                if factor.relation or not all(i.shifted_variable for i in factor.indices):
                    return None
                vs = [i.shifted_variable[0] for i in factor.indices]
                if len(set(vs)) != len(vs):
                    return None
            elif any(isinstance(n, ir.Ref) and n.relation for n in ir.walk(factor)):
                return None
            names.append(self.free_of(path + (k,)))
        a, b = names
        if not set(gone) <= a & b or not (a ^ b):
            return None
        work = math.prod(self.size(v) for v in a | b)
        if work < BLAS_MIN_WORK:
            return None
        what = " ".join(f.name if isinstance(f, ir.Ref) else "(...)" for _, f in arrays)
        return f"BLAS: {what} summed over {', '.join(gone)} ({work:.3g} multiply-adds) by NumPy"

    def factorised(self, node: ir.Product, gone, path) -> str | None:
        """Why a product of three or more plain tensor reads goes to NumPy: its planned contraction costs far
        fewer FLOPs than one fused loop nest over every index (None: keep it in the kernel)."""
        refs = [f for f in node.factors if isinstance(f, ir.Ref) and f.indices]
        others = [f for f in node.factors if f not in refs]
        if len(refs) < 3 or any(not isinstance(f, (ir.Num, ir.Scalar)) for f in others) or any(node.inverted):
            return None
        if not all(i.plain_variable for ref in refs for i in ref.indices):
            return None
        plan = self.contraction(path)
        if plan is None:
            return None
        variables = dict.fromkeys(i.plain_variable for ref in refs for i in ref.indices)
        naive = math.prod(self.size(v) for v in variables) * len(refs)
        planned = float(plan.info.opt_cost)
        if naive < FACTORISE_RATIO * planned or naive < BLAS_MIN_WORK:
            return None
        return f"factorised contraction {plan.subscripts()} by NumPy ({planned:.3g} vs {naive:.3g} FLOPs fused)"

    # ------------------------------------------------------------ reads and positions
    def number(self, value: float) -> Param:
        """A literal as a run-time parameter: equations that differ only in constants share a kernel."""
        return Param(self.param(literal(float(value))))

    def param(self, code: str) -> int:
        if code not in self.params:
            self.params.append(code)
        return self.params.index(code)

    def add_array(self, code: str, shape, dtype: str, name: str = "") -> int:
        for k, (c, a) in enumerate(zip(self.codes, self.arrays)):
            if c == code and a.dtype == dtype:
                return k
        self.codes.append(code)
        self.shapes.append(tuple(shape))
        self.arrays.append(Array(len(shape), dtype, code == self.target, name=name or code))
        return len(self.arrays) - 1

    def read(self, ref: ir.Ref, path):
        shape = tuple(self.extents[ref.name]) if ref.indices else ()
        if len(shape) != len(ref.indices):
            raise Unsupported(f"{ref.name} has no known extents")
        positions = []
        for a, index in enumerate(ref.indices):
            pos = self.position(ref.name, a, index)
            if not pos.terms and not 0 <= pos.offset < shape[a]:
                return Lit(0.0)        # a constant position outside the tensor reads 0
            positions.append(pos)
        self.check(ref.name, tuple(positions), shape, "reads")
        code = self.overrides.get(path) or identifier(ref.name)
        array = self.add_array(code, self.stored_shape(ref.name), "u8" if ref.relation else "f64", name=ref.name)
        return Read(array, tuple(positions))

    def stored_shape(self, name: str) -> tuple[int, ...]:
        """The allocated shape: a ring-buffered virtual axis holds only its slots."""
        shape = list(self.extents[name])
        if name in self.windows:
            axis, slots = self.windows[name]
            shape[axis] = slots
        return tuple(shape)

    def position(self, name: str, axis: int, index: ir.Index) -> Pos:
        window = self.windows.get(name)
        modulo = window[1] if window and window[0] == axis else 0
        if index.is_constant:
            if index.symbol is not None:
                return Pos((), self.symbols.index(index.symbol), modulo=modulo)
            if (name, axis) in self.symbolic:
                return Pos((), self.symbols.index(index.offset), modulo=modulo)
            return Pos((), index.offset, modulo=modulo)
        return Pos(tuple(index.terms), index.offset, index.divisor, modulo=modulo)

    def check(self, name: str, positions: tuple[Pos, ...], shape: tuple[int, ...], verb: str) -> None:
        """Every position over the static ranges lies inside ``shape``, else no kernel (memory safety)."""
        for axis, pos in enumerate(positions):
            low = high = pos.offset
            for var, coef in pos.terms:
                if var not in self.static:
                    raise Unsupported(f"no static range for index {var}")
                lo, hi = self.static[var]
                low += min(coef * lo, coef * (hi - 1))
                high += max(coef * lo, coef * (hi - 1))
            low, high = low // pos.divisor, high // pos.divisor
            if low < 0 or high >= shape[axis]:
                raise Unsupported(f"{name} {verb} positions {low}..{high} on axis {axis} outside its extent "
                                  f"{shape[axis]}")

    # ------------------------------------------------------------ loop plans
    def order(self, variables, body) -> tuple[str, ...]:
        """Reduction variables ordered so the one read most contiguously (last axes) is innermost."""
        reads = [n for n in walk(body) if isinstance(n, Read)]

        def depth(var):
            score = 0.0
            for read in reads:
                for a, pos in enumerate(read.pos):
                    if var in pos.variables:
                        score += (a + 1) / len(read.pos)
            return score
        return tuple(sorted(variables, key=depth))

    def rows_strategy(self, loops, value) -> bool:
        """Rows (tile along the innermost output loop) when that gives a longer, more contiguous
        innermost loop than the innermost reduction variable."""
        reduce = next((n for n in walk(value) if isinstance(n, Reduce)), None)
        if reduce is None or not loops:
            return False
        inner_loop, inner_red = loops[-1], reduce.vars[-1]
        reads = [n for n in walk(reduce.body) if isinstance(n, Read)]

        def score(var):
            moving = [r for r in reads if any(var in p.variables for p in r.pos)]
            strided = sum(1 for r in moving if not r.pos[-1].unit_in(var) or
                          any(var in p.variables for p in r.pos[:-1]))
            contiguous = len(moving) - strided
            long = self.size(var) >= VECTOR_TRIP
            return (long and strided == 0, -strided, contiguous, self.size(var))
        return score(inner_loop) > score(inner_red)


def _injective(lhs: ir.Ref) -> bool:
    """Distinct loop points write distinct elements (plain or shifted, distinct variables)."""
    variables = [i.shifted_variable[0] for i in lhs.indices if i.shifted_variable]
    return all(i.shifted_variable or i.is_constant for i in lhs.indices) and len(variables) == len(set(variables))


def _boolean(node, arrays) -> bool:
    if isinstance(node, Read):
        return arrays[node.array].dtype == "u8"
    if isinstance(node, Binary) and node.op == "mul":
        return _boolean(node.a, arrays) and _boolean(node.b, arrays)
    return isinstance(node, Reduce) and node.op == "or"


def _as_or(value, arrays):
    """For a relation (only ``value > 0`` matters): a sum of products of relations is their OR."""
    if isinstance(value, Reduce) and value.op == "sum" and _boolean(value.body, arrays):
        return Reduce("or", value.vars, value.body)
    return value


def _depth(expr: ir.Expr) -> int:
    """Nesting depth of an expression, counting a flat n-term chain as n (it becomes n binary nodes)."""
    deepest = 0
    stack = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        kids = ir.children(node)
        stack.extend((child, depth + (len(kids) if isinstance(node, (ir.Sum, ir.Product)) else 1))
                     for child in kids)
    return deepest
