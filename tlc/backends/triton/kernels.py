"""One tlc IR equation as a Triton kernel (its source and its launch), or the reason it stays NumPy.

Semantics follow the NumPy emitter: indices summed where ``projection.summed_at`` says, ``max=``/
``min=``/``avg=`` reducing the whole right-hand side, contributions combined into the target. A kernel
covers the equation's output elements in one of three layouts:

- ``flat``: the output indices flattened into one block axis; each summation (or the aggregator's
  reduction) is a loop over its flattened indices in 2-D tiles, reduced into an accumulator; the rest
  of the expression is elementwise around the accumulators.
- ``dot``: a GEMM-shaped sum-product (two tensors, summed indices in both, every other index in one
  or in both as a batch index) as ``tl.dot`` tiles over (rows, columns, summed), batches on the grid,
  with the surrounding expression (bias, nonlinearity) fused as the epilogue; when the columns are a
  softmax/lnorm index, one tile holds whole rows and the epilogue normalises them.
- ``rows``: ``softmax``/``lnorm`` along the dotted index, each row one tile.

Extents are literals (the module is specialised to shapes); every position read or written is checked
against the extents at emit time, so kernels mask only their ragged last tiles. Where several points
write one element (``T[x/2]``, ``T[x + y]``) the writes are atomic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

from tlc.backends.numpy.emit import Bound, python_name
from tlc.ir import nodes as ir
from tlc.ir.printer import format_equation
from tlc.passes.projection import Projection, occurrences
from tlc_runtime.ops import LNORM_EPS

MAX_ROW = 8192
"""Longest softmax/lnorm row one tile holds; longer rows stay NumPy."""
MAX_DOT_ROW = 512
"""Longest softmax/lnorm row a ``tl.dot`` tile holds (the scores of attention, say)."""
MIN_DOT = 16
"""Smallest rows, columns and summed extent for ``tl.dot`` (its minimum tile edge)."""
MAX_ELEMENTS = 2**31 - 1
"""Offsets are 32-bit: larger tensors stay NumPy."""
TILE = 4096
"""Elements per 2-D tile."""
FUNCTIONS = {"exp": "tl.exp({})", "log": "tl.log({})", "sqrt": "tl.sqrt({})", "abs": "tl.abs({})",
             "sin": "tl.sin({})", "cos": "tl.cos({})", "sig": "tl.sigmoid({})",
             "tanh": "(2.0 * tl.sigmoid(2.0 * {}) - 1.0)", "relu": "tl.maximum({}, 0.0, tl.PropagateNan.ALL)",
             "step": "({} > 0).to(tl.float64)", "not": "({} <= 0).to(tl.float64)"}
LOCALS = {"tl", "triton", "pid", "pid_b", "pid_m", "pid_n", "om", "mm", "on", "mn", "oc", "mc", "ok", "mk", "k0",
          "acc", "dst", "a", "b", "float", "range"}
"""Names kernels use for themselves; an index variable of the same name gets a trailing ``_``."""


HELPERS = '''@triton.jit
def _nan_max(a, b):
    """max for tl.reduce that keeps NaN, as NumPy does."""
    return tl.maximum(a, b, tl.PropagateNan.ALL)


@triton.jit
def _nan_min(a, b):
    """min for tl.reduce that keeps NaN, as NumPy does."""
    return tl.minimum(a, b, tl.PropagateNan.ALL)
'''
"""Combine functions the kernels' max/min reductions use (placed once before the kernels)."""


class Unsupported(Exception):
    """The equation has no Triton kernel form; the message says why."""


@dataclass(frozen=True)
class TritonKernel:
    """A kernel's source, how the emitted ``run`` launches it, and what it does (for ``explain``)."""

    source: str
    launch: str
    description: str
    signature: dict[str, str]
    """Parameter -> Triton type (``*fp64``, ``i32``, ``constexpr``), for ahead-of-time compilation."""
    constexprs: dict[str, int]


@dataclass
class _Context:
    """Index values and masks of one tile shape: var -> code, var -> tile axis, axis -> mask code."""

    values: dict[str, str]
    axis_of: dict[str, str]
    masks: dict[str, str]
    lines: list[str]
    indent: str = "    "
    loaded: dict[str, str] = field(default_factory=dict)
    """Load code -> the temporary holding it."""
    row_axis: str | None = None
    """The tile axis holding whole rows, along which softmax/lnorm normalise (None: no normalising here)."""

    def mask(self, variables) -> str | None:
        axes = dict.fromkeys(self.axis_of[v] for v in variables if self.axis_of.get(v))
        return " & ".join(self.masks[a] for a in axes) or None


@dataclass
class _Spot:
    """A summation (or the aggregator's reduction) computed by a loop into an accumulator."""

    path: tuple[int, ...]
    variables: tuple[str, ...]
    op: str
    """How the loop combines: sum, max or min."""
    label: str
    """What the program asked for: sum, max, min or avg."""


@dataclass
class _Builder:
    eq: ir.Equation
    projection: Projection
    bounds: dict[str, Bound]
    ranges: dict
    extents: dict
    target: str
    assign: bool
    consts: dict
    symbols: tuple
    symbolic: frozenset
    windows: dict
    numeric: frozenset
    """Relations read through their float 0/1 copies ``NAME_num``."""
    outputs: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    ints: dict[str, str] = field(default_factory=dict)
    """Integer kernel parameter (the first value of a recurrence's step index) -> code at the call site."""
    meta: dict[str, int] = field(default_factory=dict)
    temp: int = 0
    spot_values: dict = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------ names and sizes
    def size(self, var: str) -> int:
        return self.bounds[var].size

    def var(self, var: str) -> str:
        """The kernel-local name of an index variable (never a parameter's, a temporary's or a local's)."""
        if var not in self.names:
            name = python_name(var)
            taken = LOCALS | set(self.names.values())
            while name in taken or name.endswith("_ptr") or name.startswith(("lo_", "acc")) or \
                    (name[0] == "t" and name[1:].isdigit()):
                name += "_"
            self.names[var] = name
        return self.names[var]

    def lo(self, var: str) -> str:
        low = self.bounds[var].lo
        if isinstance(low, int):
            return str(low)
        param = f"lo_{self.var(var)}"
        self.ints[param] = self.bounds[var].shifted(0)
        return param

    def fresh(self, ctx: _Context, code: str) -> str:
        self.temp += 1
        ctx.lines.append(f"{ctx.indent}t{self.temp} = {code}")
        return f"t{self.temp}"

    def array(self, code: str, output: bool = False) -> str:
        """The pointer parameter for an array (outputs first; an array both read and written is an output)."""
        if output and code in self.inputs:
            self.inputs.remove(code)
        if code not in self.outputs and code not in self.inputs:
            (self.outputs if output else self.inputs).append(code)
        return f"{code}_ptr"

    # ------------------------------------------------------------ index decomposition
    def unflatten(self, ctx: _Context, flat: str, variables, expand: str = "") -> None:
        """Lines setting each variable from a flat position over their sizes (last fastest)."""
        stride = 1
        parts = []
        for k, v in reversed(list(enumerate(variables))):
            code = flat if stride == 1 else f"{flat} // {stride}"
            if k > 0:
                code = f"({code}) % {self.size(v)}" if stride > 1 else f"{code} % {self.size(v)}"
            low = self.lo(v)
            if low != "0":
                code = f"{code} + {low}"
            parts.append((v, code))
            stride *= self.size(v)
        for v, code in reversed(parts):
            ctx.lines.append(f"{ctx.indent}{self.var(v)} = {code}")
            ctx.values[v] = self.var(v) + expand

    def tile_axis(self, ctx: _Context, axis: str, start: str, block: str, total: int, expand: str,
                  variables) -> None:
        """Lines for one tile axis: positions ``o{axis}``, mask ``m{axis}``, and its index variables."""
        offsets, mask = f"o{axis}", f"m{axis}"
        ctx.lines.append(f"{ctx.indent}{offsets} = {start}tl.arange(0, {block})")
        ctx.lines.append(f"{ctx.indent}{mask} = {offsets} < {total}")
        ctx.masks[axis] = mask + expand
        for v in variables:
            ctx.axis_of[v] = axis
        self.unflatten(ctx, offsets, variables, expand)

    # ------------------------------------------------------------ positions
    def position(self, name: str, axis: int, index: ir.Index) -> tuple[tuple, int, int, int]:
        """(terms, offset, divisor, modulo) of one index of ``name``, with named constants resolved."""
        window = self.windows.get(name)
        modulo = window[1] if window and window[0] == axis else 0
        if index.is_constant:
            if index.symbol is not None:
                return (), self.symbols.index(index.symbol), 1, modulo
            if (name, axis) in self.symbolic:
                return (), self.symbols.index(index.offset), 1, modulo
            return (), index.offset, 1, modulo
        return tuple(index.terms), index.offset, index.divisor, modulo

    def offset(self, ref: ir.Ref, ctx: _Context, verb: str) -> str:
        """Code of the element offset of ``ref`` in its (C-contiguous) array; checks it stays inside."""
        axis, slots = self.windows.get(ref.name, (None, None))     # a ring-buffered virtual axis holds slots
        shape = tuple(slots if a == axis else n for a, n in enumerate(self.extents[ref.name])) if ref.indices else ()
        if len(shape) != len(ref.indices):
            raise Unsupported(f"{ref.name} has no known extents")
        if math.prod(shape) > MAX_ELEMENTS:
            raise Unsupported(f"{ref.name} has more than 2^31 elements (32-bit offsets)")
        strides = [math.prod(shape[a + 1:]) for a in range(len(shape))]
        parts = []
        for a, index in enumerate(ref.indices):
            terms, constant, divisor, modulo = self.position(ref.name, a, index)
            low = high = constant
            for v, coef in terms:
                lo, hi = self.ranges[v]
                low += min(coef * lo, coef * (hi - 1))
                high += max(coef * lo, coef * (hi - 1))
            low, high = low // divisor, high // divisor
            if not modulo and (low < 0 or high >= shape[a]):
                raise Unsupported(f"{ref.name} {verb} positions {low}..{high} on axis {a}, outside its extent "
                                  f"{shape[a]} (NumPy pads with zeros)")
            code = " + ".join([(ctx.values[v] if c == 1 else f"{c} * {ctx.values[v]}") for v, c in terms]
                              + ([str(constant)] if constant or not terms else []))
            if divisor != 1:
                code = f"({code}) // {divisor}"
            if modulo:
                code = f"({code}) % {modulo}"
            if code == "0":
                continue
            compound = any(op in code for op in (" + ", " - ", "//", "%"))
            parts.append(code if strides[a] == 1 else f"({code}) * {strides[a]}" if compound
                         else f"{code} * {strides[a]}")
        return " + ".join(parts) or "0"

    # ------------------------------------------------------------ expressions
    def expr(self, node: ir.Expr, path, ctx: _Context) -> str:
        if path in self.spot_values:
            return self.spot_values[path]
        if isinstance(node, ir.Ref):
            code = self.load(node, ctx)
            if code not in ctx.loaded:      # each element read once per tile, on a line of its own
                ctx.loaded[code] = self.fresh(ctx, code)
            return ctx.loaded[code]
        if isinstance(node, ir.Num):
            return _literal(float(node.value))
        if isinstance(node, ir.Scalar):
            if node.name in self.consts:
                return _literal(float(self.consts[node.name]))
            code = f"tl.load({self.array(python_name(node.name))})"    # a 0-d array: float64 on every route
            if code not in ctx.loaded:
                ctx.loaded[code] = self.fresh(ctx, code)
            return ctx.loaded[code]
        if isinstance(node, ir.IndexValue):
            return f"{ctx.values[node.name]}.to(tl.float64)"
        if isinstance(node, ir.Product):
            code = ""
            for k, (factor, inverted) in enumerate(zip(node.factors, node.inverted)):
                part = self.expr(factor, path + (k,), ctx)
                code = f"{code or '1.0'} / {part}" if inverted else (f"{code} * {part}" if code else part)
            return f"({code})" if len(node.factors) > 1 else code
        if isinstance(node, ir.Sum):
            code = ""
            for k, (term, sign) in enumerate(zip(node.terms, node.signs)):
                part = self.expr(term, path + (k,), ctx)
                code += (part if sign > 0 else f"-{part}") if not code else f" {'+' if sign > 0 else '-'} {part}"
            return f"({code})"
        if isinstance(node, ir.Neg):
            return f"(-{self.expr(node.operand, path + (0,), ctx)})"
        if isinstance(node, ir.Power):
            return self.power(node, path, ctx)
        if isinstance(node, ir.Call):
            return self.call(node, path, ctx)
        raise Unsupported(f"{type(node).__name__} has no Triton form")

    def load(self, ref: ir.Ref, ctx: _Context) -> str:
        """Code loading ``ref`` over the tile (0 where the tile is masked)."""
        if ref.relation and ref.name not in self.numeric:
            raise Unsupported(f"{ref.name} is a Boolean relation without a 0/1 copy")
        pointer = self.array(python_name(ref.name) + ("_num" if ref.relation else ""))
        offset = self.offset(ref, ctx, "reads")
        mask = ctx.mask(v for i in ref.indices for v in i.variables)
        return f"tl.load({pointer} + {offset}, mask={mask}, other=0.0)" if mask else f"tl.load({pointer} + {offset})"

    def power(self, node: ir.Power, path, ctx: _Context) -> str:
        exponent, sign = node.exponent, 1.0
        if isinstance(exponent, ir.Neg):
            exponent, sign = exponent.operand, -1.0
        if not isinstance(exponent, ir.Num):
            if isinstance(node.base, ir.Num) and node.base.value > 0:    # b^x = exp(x ln b) for b > 0
                power = self.float64(node.exponent, self.expr(node.exponent, path + (1,), ctx))
                return f"tl.exp({power} * {math.log(node.base.value)!r})"
            raise Unsupported("a power with a computed exponent of a base that may be negative")
        exponent = sign * float(exponent.value)
        base = self.float64(node.base, self.expr(node.base, path + (0,), ctx))
        if exponent.is_integer() and abs(exponent) <= 8:
            if exponent == 0:
                return "1.0"
            name = base if base.isidentifier() else self.fresh(ctx, base)
            product = " * ".join([name] * int(abs(exponent)))
            return f"({product})" if exponent > 0 else f"(1.0 / ({product}))"
        return f"tl.exp({_literal(exponent)} * tl.log({base}))"

    def call(self, node: ir.Call, path, ctx: _Context) -> str:
        if node.function in ("softmax", "lnorm"):
            return self.normalise(node, path, ctx)
        args = [self.float64(a, self.expr(a, path + (k,), ctx)) for k, a in enumerate(node.args)]
        if len(args) > 1 and _variables(node.args[1]) - _variables(node.args[0]):
            raise Unsupported("a function's extra argument uses indices its first argument lacks")
        if node.function == "sig" and len(args) == 2:    # sig(x, T): step(x) where T is 0
            x = self.fresh(ctx, args[0])
            t = self.fresh(ctx, args[1])
            return f"tl.where({t} == 0, ({x} > 0).to(tl.float64), tl.sigmoid({x} / {t}))"
        if node.function not in FUNCTIONS or len(args) != 1:
            raise Unsupported(f"{node.function} with {len(args)} arguments")
        return FUNCTIONS[node.function].format(args[0])

    def normalise(self, node: ir.Call, path, ctx: _Context) -> str:
        """Row softmax/lnorm along the tile's column axis ``c`` (the rows layout)."""
        row = ctx.row_axis
        if len(node.args) != 1 or row is None or ctx.axis_of.get(node.axis) != row or \
                node.axis not in _variables(node.args[0]):
            raise Unsupported(f"{node.function} along an index other than the row")
        x = self.fresh(ctx, self.expr(node.args[0], path + (0,), ctx))
        mask, n = ctx.masks[row], self.size(node.axis)
        if node.function == "softmax":
            shifted = self.fresh(ctx, f"tl.where({mask}, {x}, -float('inf'))")
            e = self.fresh(ctx, f"tl.exp({shifted} - tl.max({shifted}, axis=1)[:, None])")
            return self.fresh(ctx, f"{e} / tl.sum({e}, axis=1)[:, None]")
        zeroed = self.fresh(ctx, f"tl.where({mask}, {x}, 0.0)")
        centred = self.fresh(ctx, f"tl.where({mask}, {zeroed} - tl.sum({zeroed}, axis=1)[:, None] / {n}, 0.0)")
        return self.fresh(ctx, f"{centred} / tl.sqrt(tl.sum({centred} * {centred}, axis=1)[:, None] / {n} + "
                               f"{LNORM_EPS!r})")

    # ------------------------------------------------------------ writes
    def float64(self, node: ir.Expr, code: str) -> str:
        """``code`` as a float64 value: Triton makes a tensor of a bare Python number float32."""
        if any(isinstance(n, (ir.Ref, ir.IndexValue)) or isinstance(n, ir.Scalar) and n.name not in self.consts
               for n in ir.walk(node)):
            return code
        return f"tl.full((), {code}, tl.float64)"

    def write(self, value: str, ctx: _Context, mask: str, flat: str | None) -> None:
        """Lines combining ``value`` into the target (and the ``avg=`` count); atomically where several
        output points share an element (``T[x/2]``, ``T[x + y]``)."""
        eq = self.eq
        value = self.float64(eq.rhs, value)
        offset = self.offset(eq.lhs, ctx, "writes")
        if flat is not None and not any(i.variables for i in eq.lhs.indices):
            offset = flat if offset == "0" else f"{offset} + {flat}"     # one element: the tile's one valid position
        reduction = eq.aggregator.reduction
        pad = ctx.indent
        ctx.lines.append(f"{pad}dst = {self.array(self.target, output=True)} + {offset}")
        count = float(math.prod(self.size(v) for v in self.projection.reduced))
        counts = f"{self.array(f'{self.target}_count', output=True)} + {offset}" if reduction == "avg" else None
        if not all(i.shifted_variable or i.is_constant for i in eq.lhs.indices):
            atomic = {"max": "tl.atomic_max", "min": "tl.atomic_min"}.get(reduction, "tl.atomic_add")
            ctx.lines.append(f"{pad}{atomic}(dst, {value}, mask={mask})")
            if counts:
                ctx.lines.append(f"{pad}tl.atomic_add({counts}, {count!r}, mask={mask})")
            return
        if self.assign and reduction != "avg":
            ctx.lines.append(f"{pad}tl.store(dst, {value}, mask={mask})")
        elif reduction in ("max", "min"):
            fn = "tl.maximum" if reduction == "max" else "tl.minimum"
            ctx.lines.append(f"{pad}tl.store(dst, {fn}(tl.load(dst, mask={mask}), {value}, tl.PropagateNan.ALL), "
                             f"mask={mask})")
        else:
            ctx.lines.append(f"{pad}tl.store(dst, tl.load(dst, mask={mask}) + {value}, mask={mask})")
        if counts:
            ctx.lines.append(f"{pad}tl.store({counts}, tl.load({counts}, mask={mask}) + {count!r}, mask={mask})")


def _variables(expr: ir.Expr) -> set[str]:
    return {v for _, v in occurrences(expr)}


def _literal(value: float) -> str:
    if value != value:
        return "float('nan')"
    if math.isinf(value):
        return "float('inf')" if value > 0 else "-float('inf')"
    return repr(value) if value >= 0 else f"({value!r})"


def _pow2(n: int, cap: int) -> int:
    return min(1 << max(n - 1, 0).bit_length(), cap)


def _spots(eq: ir.Equation, projection: Projection) -> list[_Spot]:
    if eq.aggregator.reduction == "sum":
        spots = [_Spot(path, tuple(vs), "sum", "sum") for path, vs in projection.summed_at.items()]
    elif projection.reduced:
        op = {"avg": "sum"}.get(eq.aggregator.reduction, eq.aggregator.reduction)
        spots = [_Spot((), tuple(projection.reduced), op, eq.aggregator.reduction)]
    else:
        spots = []
    for a in spots:
        if any(b is not a and b.path[:len(a.path)] == a.path for b in spots):
            raise Unsupported("a summation inside another summation")
    return spots


def lower_equation(eq: ir.Equation, projection: Projection, bounds: dict[str, Bound], ranges: dict, extents: dict,
                   *, name: str, target: str, assign: bool, consts: dict, symbols: tuple = (),
                   symbolic: frozenset = frozenset(), windows: dict | None = None,
                   numeric: frozenset = frozenset()) -> TritonKernel:
    """The Triton kernel computing ``eq`` into ``target`` over ``bounds`` (``ranges``: static [lo, hi) per
    index); ``assign``: the target holds no other contribution; ``numeric``: relations with a float copy
    ``NAME_num`` (others stay NumPy). Raises ``Unsupported`` with the reason."""
    if eq.fact:
        raise Unsupported("a fact: NumPy sets one element")
    if eq.lhs.relation:
        raise Unsupported("a relation is Boolean (NumPy ORs it in)")
    if any(b.size == 0 for b in bounds.values()):
        raise Unsupported("an empty index range defines no element")
    if any(isinstance(n, ir.Call) and n.function == "concat" for n in ir.walk(eq.rhs)):
        raise Unsupported("concat reshapes")
    lhs_vars = tuple(dict.fromkeys(v for i in eq.lhs.indices for v in i.variables))
    builder = _Builder(eq, projection, bounds, ranges, extents, target, assign, consts, symbols, symbolic,
                       windows or {}, frozenset(numeric))
    spots = _spots(eq, projection)
    normalisers = [n for n in ir.walk(eq.rhs) if isinstance(n, ir.Call) and n.function in ("softmax", "lnorm")]
    try:
        if normalisers and spots:
            axis = _normalised_axis(builder, normalisers, lhs_vars, MAX_DOT_ROW)
            dot = _dot_plan(builder, spots, lhs_vars, axis)
            if not dot or dot.columns != (axis,):
                raise Unsupported("a summation together with softmax/lnorm, other than a tl.dot whose columns are "
                                  "the normalised index")
            body, grid, what = _dot(builder, dot, lhs_vars, axis)
        elif normalisers:
            body, grid, what = _rows(builder, normalisers, lhs_vars)
        else:
            dot = _dot_plan(builder, spots, lhs_vars)
            body, grid, what = _dot(builder, dot, lhs_vars) if dot else _flat(builder, spots, lhs_vars)
    except RecursionError:
        raise Unsupported("expression nested too deeply for a kernel") from None
    params = [p + "_ptr" for p in builder.outputs + builder.inputs] + list(builder.ints) + \
        [f"{m}: tl.constexpr" for m in builder.meta]
    where = f"line {eq.span.line}: " if eq.span else ""
    source = "\n".join([
        "@triton.jit",
        f"def {name}({', '.join(params)}):",
        f'    """{where}{format_equation(eq)}"""'.replace("\\", "\\\\"),
        *body])
    launch = (f"th.launch({name}, {grid}, {_tuple(builder.outputs)}, {_tuple(builder.inputs)}, "
              f"{_tuple(builder.ints.values())}"
              + "".join(f", {m}={v}" for m, v in builder.meta.items()) + ")")
    signature = {p + "_ptr": "*fp64" for p in builder.outputs + builder.inputs}
    signature.update({p: "i32" for p in builder.ints})
    signature.update({m: "constexpr" for m in builder.meta})
    return TritonKernel(source, launch, what, signature, dict(builder.meta))


def _tuple(items) -> str:
    items = list(items)
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


# ---------------------------------------------------------------- layouts
def _flat(b: _Builder, spots: list[_Spot], lhs_vars) -> tuple[list[str], int, str]:
    """Output elements flattened on one tile axis; each summation a loop of 2-D tiles."""
    n_out = math.prod(b.size(v) for v in lhs_vars)
    widest = max((math.prod(b.size(v) for v in s.variables) for s in spots), default=0)
    block_m = _pow2(n_out, max(1, TILE // _pow2(widest, 128)) if spots else 1024)
    b.meta["BLOCK_M"] = block_m
    ctx = _Context({}, {}, {}, [])
    ctx.lines.append("    pid = tl.program_id(0)")
    b.tile_axis(ctx, "m", "pid * BLOCK_M + ", "BLOCK_M", n_out, "", lhs_vars)
    for number, spot in enumerate(spots, 1):
        block = "BLOCK_K" if len(spots) == 1 else f"BLOCK_K{number}"
        size = math.prod(b.size(v) for v in spot.variables)
        b.meta[block] = _pow2(size, 128)
        acc = f"acc{number}"
        start = {"sum": "tl.zeros([BLOCK_M], dtype=tl.float64)",
                 "max": "tl.full([BLOCK_M], -float('inf'), tl.float64)",
                 "min": "tl.full([BLOCK_M], float('inf'), tl.float64)"}[spot.op]
        ctx.lines.append(f"    {acc} = {start}  # {spot.label} over {', '.join(spot.variables)}")
        ctx.lines.append(f"    for k0 in range(0, {size}, {block}):")
        inner = _Context({v: f"{c}[:, None]" for v, c in ctx.values.items()}, dict(ctx.axis_of),
                         {"m": "mm[:, None]"}, ctx.lines, "        ")
        b.tile_axis(inner, "k", "k0 + ", block, size, "[None, :]", spot.variables)
        x = b.expr(ir.node_at(b.eq.rhs, spot.path), spot.path, inner)
        if not x.isidentifier():
            x = b.fresh(inner, x)
        mask = "mm[:, None] & mk[None, :]"
        if spot.op == "sum":
            ctx.lines.append(f"        {acc} += tl.sum(tl.where({mask}, {x}, 0.0), axis=1)")
        else:
            fill = "-float('inf')" if spot.op == "max" else "float('inf')"
            fn = "tl.maximum" if spot.op == "max" else "tl.minimum"
            ctx.lines.append(f"        {acc} = {fn}({acc}, tl.reduce(tl.where({mask}, {x}, {fill}), 1, "
                             f"_nan_{spot.op}), tl.PropagateNan.ALL)")
        b.spot_values[spot.path] = acc
    value = b.expr(b.eq.rhs, (), ctx)
    b.write(value, ctx, "mm", "om")
    grid = -(-n_out // block_m)
    what = f"flat: {n_out} points of {', '.join(lhs_vars) or 'the output'} in blocks of {block_m}"
    for spot in spots:
        what += f"; {spot.label} over {', '.join(spot.variables)} in tiles"
    return ctx.lines, grid, what


class _DotPlan(NamedTuple):
    """A GEMM-shaped product: factor positions of A and B, index groups, other (scalar) factors."""

    first: int
    second: int
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    summed: tuple[str, ...]
    batch: tuple[str, ...]
    others: list[int]
    path: tuple[int, ...]
    node: ir.Product


def _dot_plan(b: _Builder, spots: list[_Spot], lhs_vars, column: str | None = None) -> _DotPlan | None:
    """The plan when the equation's one summation is a GEMM-shaped product big enough for ``tl.dot``,
    oriented so that ``column`` (default: the last left-hand index, for contiguous stores) is a column."""
    if len(spots) != 1 or spots[0].op != "sum" or b.eq.aggregator.reduction != "sum":
        return None
    spot = spots[0]
    node = ir.node_at(b.eq.rhs, spot.path)
    if not isinstance(node, ir.Product):
        return None
    tensors = [k for k, f in enumerate(node.factors) if isinstance(f, ir.Ref) and f.indices]
    others = [k for k in range(len(node.factors)) if k not in tensors]
    if len(tensors) != 2 or any(node.inverted[k] for k in tensors) or \
            any(not isinstance(node.factors[k], (ir.Num, ir.Scalar)) for k in others):
        return None
    sets = []
    for k in tensors:
        ref = node.factors[k]
        if not all(i.shifted_variable or i.is_constant for i in ref.indices):
            return None
        variables = [i.shifted_variable[0] for i in ref.indices if i.shifted_variable]
        if len(set(variables)) != len(variables):
            return None
        sets.append(set(variables))
    a, c = sets
    summed = set(spot.variables)
    if summed != (a & c) - set(lhs_vars):
        return None
    rows = tuple(v for v in lhs_vars if v in a and v not in c)
    columns = tuple(v for v in lhs_vars if v in c and v not in a)
    batch = tuple(v for v in lhs_vars if v not in rows and v not in columns)
    if min(math.prod(b.size(v) for v in group) if group else 0 for group in (rows, columns, spot.variables)) < MIN_DOT:
        return None
    first, second = tensors
    if (column or (lhs_vars[-1] if lhs_vars else None)) in rows:
        first, second, rows, columns = second, first, columns, rows
    return _DotPlan(first, second, rows, columns, spot.variables, batch, others, spot.path, node)


def _dot(b: _Builder, plan: _DotPlan, lhs_vars, row: str | None = None) -> tuple[list[str], int, str]:
    """``tl.dot`` tiles over (rows, columns), a loop over the summed indices, the epilogue fused; with
    ``row`` (the only column index) one tile holds whole rows, so the epilogue may normalise along it."""
    first, second, rows, columns, summed, batch, others, path, node = plan
    sizes = [math.prod(b.size(v) for v in group) for group in (rows, columns, summed, batch)]
    blocks = [_pow2(sizes[0], 32 if row else 64), _pow2(sizes[1], MAX_DOT_ROW if row else 64), _pow2(sizes[2], 64)]
    for key, block in zip(("BLOCK_M", "BLOCK_N", "BLOCK_K"), blocks):
        b.meta[key] = max(block, MIN_DOT)
    tiles_m, tiles_n = -(-sizes[0] // b.meta["BLOCK_M"]), -(-sizes[1] // b.meta["BLOCK_N"])
    ctx = _Context({}, {}, {}, [])
    if batch or tiles_m > 1 or tiles_n > 1:
        ctx.lines.append("    pid = tl.program_id(0)")
    if batch:
        ctx.lines.append(f"    pid_b = pid // {tiles_m * tiles_n}" if tiles_m * tiles_n > 1 else "    pid_b = pid")
        b.unflatten(ctx, "pid_b", batch)
    ctx.lines.append(f"    pid_m = (pid // {tiles_n}) % {tiles_m}" if tiles_m > 1 else "    pid_m = 0")
    ctx.lines.append(f"    pid_n = pid % {tiles_n}" if tiles_n > 1 else "    pid_n = 0")
    b.tile_axis(ctx, "m", "pid_m * BLOCK_M + ", "BLOCK_M", sizes[0], "[:, None]", rows)
    b.tile_axis(ctx, "n", "pid_n * BLOCK_N + ", "BLOCK_N", sizes[1], "[None, :]", columns)
    ctx.row_axis = "n" if row else None
    ctx.lines.append("    acc = tl.zeros([BLOCK_M, BLOCK_N], dtype=tl.float64)"
                     f"  # sum over {', '.join(summed)} by tl.dot")
    ctx.lines.append(f"    for k0 in range(0, {sizes[2]}, BLOCK_K):")
    left = _Context({v: ctx.values[v] for v in batch}, {}, {},
                    ctx.lines, "        ")
    for v in rows:
        left.values[v], left.axis_of[v] = f"{b.var(v)}[:, None]", "m"
    left.masks["m"] = "mm[:, None]"
    b.tile_axis(left, "k", "k0 + ", "BLOCK_K", sizes[2], "[None, :]", summed)
    right = _Context({v: c for v, c in left.values.items() if v not in rows}, {}, {"k": "mk[:, None]",
                     "n": "mn[None, :]"}, ctx.lines, "        ")
    for v in summed:
        right.values[v], right.axis_of[v] = f"{b.var(v)}[:, None]", "k"
    for v in columns:
        right.values[v], right.axis_of[v] = f"{b.var(v)}[None, :]", "n"
    ctx.lines.append(f"        a = {b.load(node.factors[first], left)}")
    ctx.lines.append(f"        b = {b.load(node.factors[second], right)}")
    ctx.lines.append("        acc += tl.dot(a, b)")
    scale = ""
    for k in others:
        factor = b.expr(node.factors[k], path + (k,), ctx)
        scale += f" / {factor}" if node.inverted[k] else f" * {factor}"
    b.spot_values[path] = f"(acc{scale})" if scale else "acc"
    value = b.expr(b.eq.rhs, (), ctx)
    b.write(value, ctx, "mm[:, None] & mn[None, :]", None)
    grid = max(sizes[3], 1) * tiles_m * tiles_n
    what = (f"tl.dot: {node.factors[first].name} x {node.factors[second].name} summed over {', '.join(summed)} "
            f"({sizes[0]}x{sizes[1]}x{sizes[2]}" + (f", {sizes[3]} batches" if batch else "") + "), "
            f"tiles {b.meta['BLOCK_M']}x{b.meta['BLOCK_N']}x{b.meta['BLOCK_K']}")
    if value != b.spot_values[path]:
        what += ", epilogue fused" + (f" (rows of {row} whole for {_functions(b.eq)})" if row else "")
    return ctx.lines, grid, what


def _functions(eq: ir.Equation) -> str:
    return " and ".join(sorted({n.function for n in ir.walk(eq.rhs) if isinstance(n, ir.Call)
                                and n.function in ("softmax", "lnorm")}))


def _normalised_axis(b: _Builder, normalisers, lhs_vars, limit: int) -> str:
    """The one index softmax/lnorm normalise along, when a tile can hold its rows."""
    axes = {n.axis for n in normalisers}
    if len(axes) != 1:
        raise Unsupported("softmax/lnorm along two indices")
    axis = axes.pop()
    if axis not in lhs_vars:
        raise Unsupported(f"{normalisers[0].function} along {axis}, which the left-hand side lacks")
    if b.size(axis) > limit:
        raise Unsupported(f"a {normalisers[0].function} row of {b.size(axis)} elements, longer than {limit}")
    return axis


def _rows(b: _Builder, normalisers, lhs_vars) -> tuple[list[str], int, str]:
    """One tile row per output row, the normalised index along the tile's columns."""
    axis = _normalised_axis(b, normalisers, lhs_vars, MAX_ROW)
    row_vars = tuple(v for v in lhs_vars if v != axis)
    n_rows = math.prod(b.size(v) for v in row_vars)
    block_c = _pow2(b.size(axis), MAX_ROW)
    block_m = _pow2(n_rows, max(1, TILE // block_c))
    b.meta["BLOCK_M"], b.meta["BLOCK_C"] = block_m, block_c
    ctx = _Context({}, {}, {}, [])
    ctx.lines.append("    pid = tl.program_id(0)")
    b.tile_axis(ctx, "m", "pid * BLOCK_M + ", "BLOCK_M", n_rows, "[:, None]", row_vars)
    b.tile_axis(ctx, "c", "", "BLOCK_C", b.size(axis), "[None, :]", (axis,))
    ctx.row_axis = "c"
    value = b.expr(b.eq.rhs, (), ctx)
    b.write(value, ctx, "mm[:, None] & mc[None, :]", None)
    return ctx.lines, -(-n_rows // block_m), f"rows: {_functions(b.eq)} along {axis}, {n_rows} rows of {b.size(axis)}"
