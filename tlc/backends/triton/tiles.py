"""The code of one Triton kernel over its tiles: index values and masks, loads, expressions, writes.

A ``Tile`` says, for one tile shape, which code holds each index variable (already broadcast, e.g.
``i[:, None]``), which tile axis it runs along, and each axis' mask; ``KernelBuilder`` turns IR
expressions into Triton code over a tile and collects the kernel's parameters. The layouts that
arrange tiles for a whole equation are in ``kernels``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tlc.backends.shared.arrays import Bound
from tlc.backends.shared.quoting import counts_of, identifier, numeric_copy
from tlc.ir import nodes as ir
from tlc.analysis.projection import Projection, occurrences
from tlc_runtime.ops import LNORM_EPS

MAX_ELEMENTS = 2**31 - 1
"""Offsets are 32-bit: larger tensors stay NumPy."""
FUNCTIONS = {"exp": "tl.exp({})", "log": "tl.log({})", "sqrt": "tl.sqrt({})", "abs": "tl.abs({})",
             "sin": "tl.sin({})", "cos": "tl.cos({})", "sig": "tl.sigmoid({})",
             "tanh": "(2.0 * tl.sigmoid(2.0 * {}) - 1.0)", "relu": "tl.maximum({}, 0.0, tl.PropagateNan.ALL)",
             "step": "({} > 0).to(tl.float64)", "not": "({} <= 0).to(tl.float64)"}
LOCALS = {"tl", "triton", "pid", "pid_b", "pid_m", "pid_n", "om", "mm", "on", "mn", "oc", "mc", "ok", "mk", "k0",
          "acc", "dst", "a", "b", "float", "range"}
"""Names kernels use for themselves; an index variable of the same name gets a trailing ``_``."""


class Unsupported(Exception):
    """The equation has no Triton kernel form; the message says why."""


@dataclass
class Tile:
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
        """The mask for a value that uses ``variables`` (None when it varies along no tile axis)."""
        axes = dict.fromkeys(self.axis_of[v] for v in variables if self.axis_of.get(v))
        return " & ".join(self.masks[a] for a in axes) or None


@dataclass
class KernelBuilder:
    """One kernel's parameters and lines, while IR expressions become Triton code over tiles."""

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
    """Relations read through their float 0/1 copies (``quoting.numeric_copy``)."""
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
            name = identifier(var)
            if name in LOCALS or name.startswith(("lo_", "acc")) or (name[0] == "t" and name[1:].isdigit()):
                name = "v_" + name      # no local, temporary or parameter starts with v_
            taken = set(self.names.values())
            while name in taken or name.endswith("_ptr"):
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

    def fresh(self, ctx: Tile, code: str) -> str:
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
    def unflatten(self, ctx: Tile, flat: str, variables, expand: str = "") -> None:
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

    def tile_axis(self, ctx: Tile, axis: str, start: str, block: str, total: int, expand: str,
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

    def offset(self, ref: ir.Ref, ctx: Tile, verb: str) -> str:
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
    def expr(self, node: ir.Expr, path, ctx: Tile) -> str:
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
            code = f"tl.load({self.array(identifier(node.name))})"    # a 0-d array: float64 on every route
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

    def load(self, ref: ir.Ref, ctx: Tile) -> str:
        """Code loading ``ref`` over the tile (0 where the tile is masked)."""
        if ref.relation and ref.name not in self.numeric:
            raise Unsupported(f"{ref.name} is a Boolean relation without a 0/1 copy")
        pointer = self.array(numeric_copy(ref.name) if ref.relation else identifier(ref.name))
        offset = self.offset(ref, ctx, "reads")
        mask = ctx.mask(v for i in ref.indices for v in i.variables)
        return f"tl.load({pointer} + {offset}, mask={mask}, other=0.0)" if mask else f"tl.load({pointer} + {offset})"

    def power(self, node: ir.Power, path, ctx: Tile) -> str:
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
            if exponent == 0:     # a float64 tensor: the node reads tensors, so float64() leaves it as it is
                return "tl.full((), 1.0, tl.float64)"
            name = base if base.isidentifier() else self.fresh(ctx, base)
            product = " * ".join([name] * int(abs(exponent)))
            return f"({product})" if exponent > 0 else f"(1.0 / ({product}))"
        return f"tl.exp({_literal(exponent)} * tl.log({base}))"

    def call(self, node: ir.Call, path, ctx: Tile) -> str:
        if node.function in ("softmax", "lnorm"):
            return self.normalise(node, path, ctx)
        args = [self.float64(a, self.expr(a, path + (k,), ctx)) for k, a in enumerate(node.args)]
        if node.function in ir.PAIRWISE:                 # min(a, b), max(a, b): NaN propagates, as in NumPy
            return f"tl.{node.function}imum({args[0]}, {args[1]}, tl.PropagateNan.ALL)"
        if len(args) > 1 and variables_of(node.args[1]) - variables_of(node.args[0]):
            raise Unsupported("a function's extra argument uses indices its first argument lacks")
        if node.function == "sig" and len(args) == 2:    # sig(x, T): step(x) where T is 0
            x = self.fresh(ctx, args[0])
            t = self.fresh(ctx, args[1])
            return f"tl.where({t} == 0, ({x} > 0).to(tl.float64), tl.sigmoid({x} / {t}))"
        if node.function not in FUNCTIONS or len(args) != 1:
            raise Unsupported(f"{node.function} with {len(args)} arguments")
        return FUNCTIONS[node.function].format(args[0])

    def normalise(self, node: ir.Call, path, ctx: Tile) -> str:
        """Row softmax/lnorm along the tile's column axis ``c`` (the rows layout)."""
        row = ctx.row_axis
        if len(node.args) != 1 or row is None or ctx.axis_of.get(node.axis) != row or \
                node.axis not in variables_of(node.args[0]):
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

    def write(self, value: str, ctx: Tile, mask: str, flat: str | None) -> None:
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
        counts = f"{self.array(counts_of(self.target), output=True)} + {offset}" if reduction == "avg" else None
        if not all(i.shifted_variable or i.is_constant for i in eq.lhs.indices):
            if reduction in ("max", "min"):
                raise Unsupported(f"a pooled {reduction}= (atomic {reduction} cannot skip NaN, which marks an "
                                  f"untouched element)")
            ctx.lines.append(f"{pad}tl.atomic_add(dst, {value}, mask={mask})")
            if counts:
                ctx.lines.append(f"{pad}tl.atomic_add({counts}, {count!r}, mask={mask})")
            return
        if self.assign and reduction != "avg":
            ctx.lines.append(f"{pad}tl.store(dst, {value}, mask={mask})")
        elif reduction in ("max", "min"):
            fn = "tl.maximum" if reduction == "max" else "tl.minimum"
            ctx.lines.append(f"{pad}tl.store(dst, {fn}(tl.load(dst, mask={mask}), {value}), mask={mask})")
        else:
            ctx.lines.append(f"{pad}tl.store(dst, tl.load(dst, mask={mask}) + {value}, mask={mask})")
        if counts:
            ctx.lines.append(f"{pad}tl.store({counts}, tl.load({counts}, mask={mask}) + {count!r}, mask={mask})")


def variables_of(expr: ir.Expr) -> set[str]:
    """The index variables an expression uses."""
    return {v for _, v in occurrences(expr)}


def _literal(value: float) -> str:
    if value != value:
        return "float('nan')"
    if math.isinf(value):
        return "float('inf')" if value > 0 else "-float('inf')"
    return repr(value) if value >= 0 else f"({value!r})"
