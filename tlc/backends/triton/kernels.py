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
write one element (``T[x/2]``, ``T[x + y]``) the writes are atomic. The code inside tiles (index
values, loads, expressions, writes) is ``tiles``'.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from tlc.backends.shared.arrays import Bound
from tlc.backends.shared.quoting import docstring
from tlc.backends.triton.tiles import KernelBuilder, Tile, Unsupported
from tlc.ir import nodes as ir
from tlc.ir.printer import format_equation
from tlc.analysis.projection import Projection

MAX_ROW = 8192
"""Longest softmax/lnorm row one tile holds; longer rows stay NumPy."""
MAX_DOT_ROW = 512
"""Longest softmax/lnorm row a ``tl.dot`` tile holds (the scores of attention, say)."""
MIN_DOT = 16
"""Smallest rows, columns and summed extent for ``tl.dot`` (its minimum tile edge)."""
TILE = 4096
"""Elements per 2-D tile."""
HELPERS = '''@triton.jit
def _fold_max(a, b):
    """max for tl.reduce that skips NaN (no contribution), as max= does."""
    return tl.maximum(a, b)


@triton.jit
def _fold_min(a, b):
    """min for tl.reduce that skips NaN (no contribution), as min= does."""
    return tl.minimum(a, b)
'''
"""Combine functions the kernels' max/min reductions use (placed once before the kernels). ``tl.maximum``
without ``PropagateNan.ALL`` is ``maxnum`` (NumPy's ``fmax``): NaN marks "no contribution yet"."""


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
class _Spot:
    """A summation (or the aggregator's reduction) computed by a loop into an accumulator."""

    path: tuple[int, ...]
    variables: tuple[str, ...]
    op: str
    """How the loop combines: sum, max or min."""
    label: str
    """What the program asked for: sum, max, min or avg."""


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
    (``quoting.numeric_copy``; others stay NumPy). Raises ``Unsupported`` with the reason."""
    if eq.fact:
        raise Unsupported("a fact: NumPy sets one element")
    if eq.lhs.relation:
        raise Unsupported("a relation is Boolean (NumPy ORs it in)")
    if any(b.size == 0 for b in bounds.values()):
        raise Unsupported("an empty index range defines no element")
    if any(isinstance(n, ir.Call) and n.function == "concat" for n in ir.walk(eq.rhs)):
        raise Unsupported("concat reshapes")
    lhs_vars = tuple(dict.fromkeys(v for i in eq.lhs.indices for v in i.variables))
    builder = KernelBuilder(eq, projection, bounds, ranges, extents, target, assign, consts, symbols, symbolic,
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
        f"    {docstring(where + format_equation(eq))}",
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
def _flat(b: KernelBuilder, spots: list[_Spot], lhs_vars) -> tuple[list[str], int, str]:
    """Output elements flattened on one tile axis; each summation a loop of 2-D tiles."""
    n_out = math.prod(b.size(v) for v in lhs_vars)
    widest = max((math.prod(b.size(v) for v in s.variables) for s in spots), default=0)
    block_m = _pow2(n_out, max(1, TILE // _pow2(widest, 128)) if spots else 1024)
    b.meta["BLOCK_M"] = block_m
    ctx = Tile({}, {}, {}, [])
    ctx.lines.append("    pid = tl.program_id(0)")
    b.tile_axis(ctx, "m", "pid * BLOCK_M + ", "BLOCK_M", n_out, "", lhs_vars)
    for number, spot in enumerate(spots, 1):
        block = "BLOCK_K" if len(spots) == 1 else f"BLOCK_K{number}"
        size = math.prod(b.size(v) for v in spot.variables)
        b.meta[block] = _pow2(size, 128)
        acc = f"acc{number}"
        start = {"sum": "tl.zeros([BLOCK_M], dtype=tl.float64)",
                 "max": "tl.full([BLOCK_M], float('nan'), tl.float64)",
                 "min": "tl.full([BLOCK_M], float('nan'), tl.float64)"}[spot.op]
        ctx.lines.append(f"    {acc} = {start}  # {spot.label} over {', '.join(spot.variables)}")
        ctx.lines.append(f"    for k0 in range(0, {size}, {block}):")
        inner = Tile({v: f"{c}[:, None]" for v, c in ctx.values.items()}, dict(ctx.axis_of),
                         {"m": "mm[:, None]"}, ctx.lines, "        ")
        b.tile_axis(inner, "k", "k0 + ", block, size, "[None, :]", spot.variables)
        x = b.expr(ir.node_at(b.eq.rhs, spot.path), spot.path, inner)
        if not x.isidentifier():
            x = b.fresh(inner, x)
        mask = "mm[:, None] & mk[None, :]"
        if spot.op == "sum":
            ctx.lines.append(f"        {acc} += tl.sum(tl.where({mask}, {x}, 0.0), axis=1)")
        else:
            fn = "tl.maximum" if spot.op == "max" else "tl.minimum"
            ctx.lines.append(f"        {acc} = {fn}({acc}, tl.reduce(tl.where({mask}, {x}, float('nan')), 1, "
                             f"_fold_{spot.op}))")
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


def _dot_plan(b: KernelBuilder, spots: list[_Spot], lhs_vars, column: str | None = None) -> _DotPlan | None:
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


def _dot(b: KernelBuilder, plan: _DotPlan, lhs_vars, row: str | None = None) -> tuple[list[str], int, str]:
    """``tl.dot`` tiles over (rows, columns), a loop over the summed indices, the epilogue fused; with
    ``row`` (the only column index) one tile holds whole rows, so the epilogue may normalise along it."""
    first, second, rows, columns, summed, batch, others, path, node = plan
    sizes = [math.prod(b.size(v) for v in group) for group in (rows, columns, summed, batch)]
    blocks = [_pow2(sizes[0], 32 if row else 64), _pow2(sizes[1], MAX_DOT_ROW if row else 64), _pow2(sizes[2], 64)]
    for key, block in zip(("BLOCK_M", "BLOCK_N", "BLOCK_K"), blocks):
        b.meta[key] = max(block, MIN_DOT)
    tiles_m, tiles_n = -(-sizes[0] // b.meta["BLOCK_M"]), -(-sizes[1] // b.meta["BLOCK_N"])
    ctx = Tile({}, {}, {}, [])
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
    left = Tile({v: ctx.values[v] for v in batch}, {}, {},
                    ctx.lines, "        ")
    for v in rows:
        left.values[v], left.axis_of[v] = f"{b.var(v)}[:, None]", "m"
    left.masks["m"] = "mm[:, None]"
    b.tile_axis(left, "k", "k0 + ", "BLOCK_K", sizes[2], "[None, :]", summed)
    right = Tile({v: c for v, c in left.values.items() if v not in rows}, {}, {"k": "mk[:, None]",
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


def _normalised_axis(b: KernelBuilder, normalisers, lhs_vars, limit: int) -> str:
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


def _rows(b: KernelBuilder, normalisers, lhs_vars) -> tuple[list[str], int, str]:
    """One tile row per output row, the normalised index along the tile's columns."""
    axis = _normalised_axis(b, normalisers, lhs_vars, MAX_ROW)
    row_vars = tuple(v for v in lhs_vars if v != axis)
    n_rows = math.prod(b.size(v) for v in row_vars)
    block_c = _pow2(b.size(axis), MAX_ROW)
    block_m = _pow2(n_rows, max(1, TILE // block_c))
    b.meta["BLOCK_M"], b.meta["BLOCK_C"] = block_m, block_c
    ctx = Tile({}, {}, {}, [])
    ctx.lines.append("    pid = tl.program_id(0)")
    b.tile_axis(ctx, "m", "pid * BLOCK_M + ", "BLOCK_M", n_rows, "[:, None]", row_vars)
    b.tile_axis(ctx, "c", "", "BLOCK_C", b.size(axis), "[None, :]", (axis,))
    ctx.row_axis = "c"
    value = b.expr(b.eq.rhs, (), ctx)
    b.write(value, ctx, "mm[:, None] & mc[None, :]", None)
    return ctx.lines, -(-n_rows // block_m), f"rows: {_functions(b.eq)} along {axis}, {n_rows} rows of {b.size(axis)}"
