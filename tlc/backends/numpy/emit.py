"""Render a planned program as readable NumPy source: one block per equation, one loop per recursion.

The emitted module imports only numpy, opt_einsum and ``tlc_runtime``; its ``run(inputs)`` takes the
prepared input arrays and returns the defined tensors. Code is specialised to the inferred shapes.
"""

from __future__ import annotations

import keyword
import math
import textwrap
from dataclasses import dataclass, field

from tlc.backends.numpy.sparse import emit_relational
from tlc.contract import contract_path

from tlc.backends.numpy.attention import REPORT, REPORT_KEY, emit_attention, has_attention
from tlc.errors import EinsumError, TlcError
from tlc.ir import nodes as ir
from tlc.ir.printer import format_equation
from tlc.ir.program import Program
from tlc.passes.projection import Projection, analyse
from tlc.passes.shapes import Shapes
from tlc.passes.strata import Mode, Stratum, round_bound

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
RESERVED = {"np", "rt", "rs", "contract", "inputs", "run", "t", "SYMBOLS"}
ELEMENTWISE_CODE = {
    "step": "rt.step", "relu": "rt.relu", "sig": "rt.sig", "tanh": "np.tanh", "exp": "np.exp",
    "log": "np.log", "sqrt": "np.sqrt", "abs": "np.abs", "sin": "np.sin", "cos": "np.cos", "not": "rt.negate",
}
PAIRWISE_CODE = {"min": "np.minimum", "max": "np.maximum"}
FOLD_BLOCK = 1 << 16
"""Inside a fixpoint loop, a ``min=``/``max=`` equation whose broadcast intermediate exceeds 4 * FOLD_BLOCK
elements runs in blocks of one LHS index of about FOLD_BLOCK elements (which stay in cache: about 6x faster
for a 200-node shortest-path round)."""
FOLD_CODE = {"max": "np.fmax", "min": "np.fmin"}
"""How ``max=``/``min=`` fold a contribution in: NaN marks an element nothing has reached yet, and a NaN
contribution (such as a read of such an element) is none."""


def python_name(name: str) -> str:
    """A Python identifier for a tensor name (primes become ``_p``; clashes get a trailing ``_``)."""
    ident = name.replace("'", "_p")
    return ident + "_" if keyword.iskeyword(ident) or ident in RESERVED or ident.startswith("_") else ident


@dataclass(frozen=True)
class Bound:
    """The values of one index while an equation is evaluated: from ``lo`` (an int, or a loop variable
    plus a constant inside a recurrence's step loop), ``size`` values."""

    lo: int | tuple[str, int]
    size: int

    def shifted(self, offset: int) -> int | str:
        """The int, or code, for ``lo + offset``."""
        if isinstance(self.lo, int):
            return self.lo + offset
        name, constant = self.lo[0], self.lo[1] + offset
        return name if constant == 0 else f"{name} {'+' if constant > 0 else '-'} {abs(constant)}"

    def slice(self, offset: int) -> str:
        """A slice selecting ``lo+offset .. lo+offset+size``."""
        start = self.shifted(offset)
        stop = self.shifted(offset + self.size)
        return f"{start}:{stop}"


@dataclass
class _Value:
    code: str
    vars: tuple[str, ...]


@dataclass
class NumpyEmitter:
    """Emits the NumPy module for one program specialised to ``shapes``."""

    program: Program
    strata: tuple[Stratum, ...]
    shapes: Shapes
    symbols: tuple
    inputs: dict[str, tuple[int, ...]]
    symbolic: frozenset = frozenset()
    lines: list[str] = field(default_factory=list)
    temp: int = 0
    windows: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Virtual axes kept as ring buffers: tensor -> (axis, slots)."""
    numeric: set[str] = field(default_factory=set)
    """Finished relations that already have a float copy ``NAME_num`` for arithmetic."""
    memory_limit: int | None = None
    """Largest contraction intermediate, in elements; products whose plan exceeds it are sliced."""
    mode: Mode | None = None
    """The evaluation mode of the stratum being emitted."""
    plan: object = None
    """The ``RelationPlan`` (tlc.passes.relation_plan): relational strata and relation storage, or None."""
    max_rounds: int | None = None
    """A bound on the rounds of every fixpoint loop (``max_rounds=``), or None for the stated defaults."""
    FOLD_BLOCKS = True
    """Whether fixpoint loops evaluate large ``min=``/``max=`` folds in blocks (native backends fuse them)."""

    def __post_init__(self) -> None:
        for stratum in self.strata:
            if stratum.recurrence is not None:
                for name in stratum.tensors:
                    window = self._window(name, stratum)
                    if window:
                        self.windows[name] = window

    def _window(self, name: str, stratum: Stratum) -> tuple[int, int] | None:
        """(axis, slots) when ``name``'s virtual axis needs only the last few steps in memory: every
        access is a step of its recurrence at a bounded delay (or position 0 before it starts)."""
        rec = stratum.recurrence
        axis = self._virtual_axis(name)
        if axis is None or rec.axis.get(name) != axis or self.inputs.get(name, (0,) * (axis + 1))[axis] > 1:
            return None
        delay = 0
        for k, eq in enumerate(self.program.equations):
            for ref in (eq.lhs, *ir.refs(eq.rhs)):
                if ref.name != name:
                    continue
                index = ref.indices[axis]
                if k not in rec.step_order:
                    if ref is not eq.lhs or not index.is_constant or index.offset != 0:
                        return None     # read outside the loop, or a start other than position 0
                    continue
                shift = index.shifted_variable
                if shift is None or shift[0] != rec.variable[k]:
                    return None
                delay = max(delay, rec.lhs_offset[k] - shift[1])
        return axis, delay + 1

    # ---------------------------------------------------------------- module
    def module(self) -> str:
        """The whole emitted module as text."""
        name = self.program.filename or "<source>"
        out = [f'"""Generated by tlc from {name} for the NumPy backend; shapes are specialised."""',
               "import numpy as np", "from opt_einsum import contract", "", "import tlc_runtime as rt",
               *(["import tlc_runtime.sparse as rs"] if self.plan and self.plan.relational else []),
               "", f"SYMBOLS = {self.symbols!r}", "", "",
               "def run(inputs):", '    """Evaluate the program on prepared inputs; returns the defined tensors."""']
        self.lines = [f"{REPORT} = []  # how each fused attention ran"] if has_attention(self.program) else []
        for pname in self.program.scalars:
            self.lines.append(f"{python_name(pname)} = inputs[{pname!r}]")
        for tname, info in self.program.tensors.items():
            if not info.defined and self.plan and self.plan.storage.get(tname) == "sparse":
                self.lines.append(f"{python_name(tname)} = rs.store(inputs[{tname!r}], "
                                  f"{self.shapes.extents[tname]}, 'sparse')")
            elif not info.defined:
                conv = "np.asarray" if info.relation else "rt.as_number"
                self.lines.append(f"{python_name(tname)} = {conv}(inputs[{tname!r}])"
                                  f"  # {self.shapes.extents[tname]}")
        for number, stratum in enumerate(self.strata, 1):
            self.lines.append("")
            self.lines.append(f"# stratum {number}: {', '.join(stratum.tensors)} ({stratum.mode.value})")
            self._stratum(stratum)
        self.lines.append("")
        results = ", ".join(f"{t!r}: {self._result(t)}" for t, i in self.program.tensors.items() if i.defined)
        if has_attention(self.program):
            results += f", {REPORT_KEY!r}: {REPORT}"
        self.lines.append(f"return {{{results}}}")
        out += ["    " + line if line else "" for line in self.lines]
        return "\n".join(out) + "\n"

    def _result(self, name: str) -> str:
        axis = self._virtual_axis(name)
        if axis is None:
            return python_name(name)
        last = "-1"
        if name in self.windows:
            last = str((self.shapes.extents[name][axis] - 1) % self.windows[name][1])
        index = ", ".join([":"] * axis + [last])
        return f"{python_name(name)}[{index}]"

    def _virtual_axis(self, name: str) -> int | None:
        return min(self.program.virtual_axes.get(name, ()), default=None)

    # ---------------------------------------------------------------- strata
    def _allocate(self, name: str, var: str | None = None) -> None:
        info = self.program.tensors[name]
        shape = self.shapes.extents[name]
        if name in self.windows:
            axis, slots = self.windows[name]
            shape = shape[:axis] + (slots,) + shape[axis + 1:]
        target = var or python_name(name)
        reduction = self.program.reduction(name)
        if info.relation:
            self.lines.append(f"{target} = np.zeros({shape}, dtype=bool)")
        elif reduction in ("max", "min"):
            self.lines.append(f"{target} = np.full({shape}, np.nan)  # NaN: no contribution yet")
        else:
            self.lines.append(f"{target} = np.zeros({shape})")
            if reduction == "avg":
                self.lines.append(f"{target}_count = np.zeros({shape})")
                if name in self.inputs:   # supplied data counts as one contribution per element
                    region = ", ".join(f":{n}" for n in self.inputs[name]) or "()"
                    self.lines.append(f"{target}_count[{region}] += 1.0")
        if name in self.inputs:
            region = ", ".join(f":{n}" for n in self.inputs[name])
            data = f"inputs[{name!r}]"
            sel = f"{target}[{region}]" if region else f"{target}[()]"
            if info.relation:
                self.lines.append(f"{sel} |= np.asarray({data}, dtype=bool)")
            elif reduction in ("max", "min"):
                self.lines.append(f"{sel} = {FOLD_CODE[reduction]}({sel}, {data})")
            else:
                self.lines.append(f"{sel} += {data}")

    def _finalise(self, name: str) -> None:
        target = python_name(name)
        reduction = self.program.reduction(name)
        if reduction in ("max", "min"):
            self.lines.append(f"{target}[np.isnan({target})] = 0.0  # untouched elements are 0")
        elif reduction == "avg":
            self.lines.append(f"{target} = np.divide({target}, {target}_count, "
                              f"out=np.zeros_like({target}), where={target}_count > 0)")

    def sole_target(self, eq: ir.Equation, target: str) -> bool:
        """True when ``target`` receives only this equation's contributions, once (a native kernel may then
        store its values instead of combining them)."""
        sole = len(self.program.defining(eq.lhs.name)) == 1 and eq.lhs.name not in self.inputs
        return sole and self.mode in (Mode.PLAIN, Mode.RECURRENCE) and target == python_name(eq.lhs.name)

    def _stratum(self, stratum: Stratum) -> None:
        self.mode = stratum.mode
        plan = self.plan.strata[self.strata.index(stratum)] if self.plan else None
        if plan is not None and plan.relational:
            emit_relational(self, stratum, plan, self.plan.storage)
            return
        for k in stratum.equations:   # relations computed earlier: one 0/1 float copy, made once
            for ref in ir.refs(self.program.equations[k].rhs):
                if ref.relation and ref.name not in stratum.tensors and ref.name not in self.numeric:
                    self.numeric.add(ref.name)
                    self.lines.append(f"{python_name(ref.name)}_num = rt.as_number({python_name(ref.name)})")
        for name in stratum.tensors:
            self._allocate(name)
        if stratum.mode is Mode.PLAIN:
            for k in stratum.equations:
                self._equation(k, python_name(self.program.equations[k].lhs.name))
        elif stratum.mode is Mode.RECURRENCE:
            self._recurrence(stratum)
        elif stratum.mode is Mode.SEMINAIVE:
            self._seminaive(stratum)
        else:
            self._fixpoint(stratum)
        for name in stratum.tensors:
            self._finalise(name)

    def _recursive_equations(self, stratum: Stratum) -> tuple[list[int], list[int]]:
        members = set(stratum.tensors)
        base, recursive = [], []
        for k in stratum.equations:
            uses = any(r.name in members for r in ir.refs(self.program.equations[k].rhs))
            (recursive if uses else base).append(k)
        return base, recursive

    def _recurrence(self, stratum: Stratum) -> None:
        rec = stratum.recurrence
        base, _ = self._recursive_equations(stratum)
        for k in base:
            self._equation(k, python_name(self.program.equations[k].lhs.name))
        starts, stops = [], []
        for k in rec.step_order:
            lo, hi = self.shapes.ranges[k][rec.variable[k]]
            if hi > lo:
                starts.append(lo + rec.lhs_offset[k])
                stops.append(hi + rec.lhs_offset[k])
        if not starts:
            return
        self.lines.append(f"for t in range({min(starts)}, {max(stops)}):  # steps along the recursive index")
        for name in stratum.tensors:
            if name in self.windows:    # reuse the slot of step t - slots
                axis, slots = self.windows[name]
                fill = "np.nan" if self.program.reduction(name) in ("max", "min") else "0"
                slot = ", ".join([":"] * axis + [f"t % {slots}"])
                self.lines.append(f"    if t >= {slots}:")
                self.lines.append(f"        {python_name(name)}[{slot}] = {fill}")
        for k in rec.step_order:
            var, off = rec.variable[k], rec.lhs_offset[k]
            lo, hi = self.shapes.ranges[k][var]
            if hi <= lo:
                continue
            step_var = f"t - {off}" if off > 0 else (f"t + {-off}" if off < 0 else "t")
            self.lines.append(f"    if {lo} <= {step_var} < {hi}:")
            before = len(self.lines)
            self._equation(k, python_name(self.program.equations[k].lhs.name), indent=2,
                           bounds_override={var: Bound(("t", -off), 1)})
            if all(line.lstrip().startswith("#") for line in self.lines[before:]):
                self.lines.append("        pass  # an empty index range: nothing to compute")

    def _seminaive(self, stratum: Stratum) -> None:
        members = set(stratum.tensors)
        base, recursive = self._recursive_equations(stratum)
        for k in base:
            self._equation(k, python_name(self.program.equations[k].lhs.name))
        names = [python_name(t) for t in stratum.tensors]
        for n in names:
            self.lines.append(f"delta_{n} = {n}.copy()")
        if self.max_rounds is not None:
            self.lines.append("_round = 0")
        self.lines.append("while True:  # semi-naive: each round joins at least one new fact")
        if self.max_rounds is not None:
            self.lines.append("    _round += 1")
        for t, n in zip(stratum.tensors, names):
            self._allocate_like(t, f"new_{n}", indent=1)
        for k in recursive:
            eq = self.program.equations[k]
            for path, ref in ir.with_paths(eq.rhs):
                if not isinstance(ref, ir.Ref) or ref.name not in members:
                    continue
                self._equation(k, f"new_{python_name(eq.lhs.name)}", indent=1,
                               overrides={path: f"delta_{python_name(ref.name)}"})
        for n in names:
            self.lines.append(f"    new_{n} &= ~{n}")
        self.lines.append(f"    if not ({' or '.join(f'new_{n}.any()' for n in names)}):")
        self.lines.append("        break")
        if self.max_rounds is not None:
            self.lines.append(f"    rt.round_limit(_round, {self.max_rounds}, {tuple(stratum.tensors)!r}, "
                              f"({''.join(f'new_{n}, ' for n in names)}), {self.recursive_sites(stratum)!r})")
        for n in names:
            self.lines.append(f"    {n} |= new_{n}")
            self.lines.append(f"    delta_{n} = new_{n}")

    def _allocate_like(self, name: str, var: str, indent: int) -> None:
        saved = self.lines
        self.lines = []
        self._allocate(name, var)
        block = self.lines
        self.lines = saved
        self.lines.extend("    " * indent + line for line in block)

    def _fixpoint(self, stratum: Stratum) -> None:
        names = [python_name(t) for t in stratum.tensors]
        bound = round_bound(self.program, stratum, self.shapes.extents, self.max_rounds)
        kinds = tuple("relation" if self.program.tensors[t].relation else self.program.reduction(t)
                      for t in stratum.tensors)
        limit = (f"{bound.rounds} rounds is the bound of the cycle test" if bound.proof else
                 f"the limit is max_rounds={self.max_rounds}" if self.max_rounds is not None else
                 f"{bound.rounds} rounds is the default limit (max_rounds= changes it)")
        self.lines.extend(f"# {line}" for line in textwrap.wrap(
            f"converges within {bound.rounds} rounds, or fails: {bound.why}", 110))
        self.lines.append(f"_fixpoint = rt.Fixpoint({tuple(stratum.tensors)!r}, {kinds!r}, "
                          f"{self.recursive_sites(stratum)!r}, {bound.rounds}, {bound.proof}, {limit!r}"
                          f"{'' if bound.proof else ', oscillation=True'})")
        self.lines.append("while True:  # iterate to a fixpoint: _fixpoint raises on divergence, oscillation or "
                          "the bound")
        for t, n in zip(stratum.tensors, names):
            self._allocate_like(t, f"new_{n}", indent=1)
        for k in stratum.equations:
            eq = self.program.equations[k]
            block = self._fold_block(k)
            if block is None:
                self._equation(k, f"new_{python_name(eq.lhs.name)}", indent=1)
                continue
            var, size = block
            lo, hi = self.shapes.ranges[k][var]
            self.lines.append(f"    for _b in range({lo}, {hi}, {size}):  # blocks of {size} along {var}: the fold's "
                              f"intermediate stays in cache")
            self._equation(k, f"new_{python_name(eq.lhs.name)}", indent=2,
                           bounds_override={var: Bound(("_b", 0), size)})
        pack = lambda prefix: f"({', '.join(prefix + n for n in names)},)"   # noqa: E731
        self.lines.append(f"    if _fixpoint.settled({pack('new_')}, {pack('')}):")
        self.lines.append("        break")
        for n in names:
            self.lines.append(f"    {n} = new_{n}")

    def _fold_block(self, k: int) -> tuple[str, int] | None:
        """(LHS variable, block size) to run a large ``min=``/``max=`` equation of a fixpoint in blocks, else None."""
        eq = self.program.equations[k]
        ranges = self.shapes.ranges.get(k, {})
        if not self.FOLD_BLOCKS or eq.aggregator.reduction not in ("min", "max") or not analyse(eq).reduced:
            return None
        total = math.prod(hi - lo for lo, hi in ranges.values())
        if total <= 4 * FOLD_BLOCK:
            return None
        for index in eq.lhs.indices:
            var = index.plain_variable
            reads = [i for ref in ir.refs(eq.rhs) for i in ref.indices if var in i.variables]
            if var in ranges and all(i.shifted_variable for i in reads) and \
                    not any(isinstance(n, ir.IndexValue) and n.name == var for n in ir.walk(eq.rhs)):
                extent = ranges[var][1] - ranges[var][0]
                rest = total // extent
                size = max(b for b in range(1, extent + 1) if extent % b == 0 and (b == 1 or b * rest <= FOLD_BLOCK))
                if size < extent:
                    return var, size
        return None

    def recursive_sites(self, stratum: Stratum) -> tuple:
        """Per tensor of the stratum, (line, column) of the first equation defining it that reads the stratum
        (where its convergence errors point), else of the stratum's first recursive equation."""
        members = set(stratum.tensors)
        sites = {}
        for k in stratum.equations:
            eq = self.program.equations[k]
            if any(r.name in members for r in ir.refs(eq.rhs)):
                sites.setdefault(eq.lhs.name, (eq.span.line, eq.span.column) if eq.span else (None, None))
        first = next(iter(sites.values()), (None, None))
        return tuple(sites.get(t, first) for t in stratum.tensors)

    # ---------------------------------------------------------------- equations
    def _equation(self, k: int, target: str, indent: int = 0, overrides=None, bounds_override=None) -> None:
        eq = self.program.equations[k]
        ranges = self.shapes.ranges.get(k, {})
        bounds = {v: Bound(lo, hi - lo) for v, (lo, hi) in ranges.items()}
        bounds.update(bounds_override or {})
        where = f"{self.program.filename or 'line'}:{eq.span.line}" if eq.span else ""
        pad = "    " * indent
        try:
            self.lines.append(f"{pad}# {where}  {format_equation(eq)}".replace("\n", f"\n{pad}#   "))
            if any(b.size == 0 for b in bounds.values()):
                self.lines.append(f"{pad}# (empty index range: defines no element)")
                return
            body = _EquationEmitter(self, eq, bounds, overrides or {}, analyse(eq))
            self.lines.extend(pad + line for line in body.lines(target))
        except RecursionError:
            raise TlcError("expression nested too deeply to compile", eq.span) from None

    def attention(self, body: "_EquationEmitter", node: ir.Attention, path) -> _Value:
        """Emit a fused attention node inside ``body`` (a backend may run it on its own kernel)."""
        return emit_attention(body, node, path)

    def fresh(self) -> str:
        """A new temporary name."""
        self.temp += 1
        return f"_t{self.temp}"


class _EquationEmitter:
    """Emits the statements computing one equation and combining it into its target array."""

    def __init__(self, owner: NumpyEmitter, eq: ir.Equation, bounds: dict[str, Bound],
                 overrides: dict, projection: Projection):
        self.owner = owner
        self.eq = eq
        self.bounds = bounds
        self.overrides = overrides
        self.projection = projection
        self.letters: dict[str, str] = {}
        self.out: list[str] = []

    def letter(self, var: str) -> str:
        if var not in self.letters:
            if len(self.letters) >= len(LETTERS):
                raise TlcError("too many distinct indices in one equation (52 at most)", self.eq.span)
            self.letters[var] = LETTERS[len(self.letters)]
        return self.letters[var]

    def size(self, var: str) -> int:
        return self.bounds[var].size

    def lines(self, target: str) -> list[str]:
        value = self.expr(self.eq.rhs, ())
        value = self.reduce_top(value)
        self.write(target, value)
        return self.out

    def bind(self, code: str) -> str:
        name = self.owner.fresh()
        self.out.append(f"{name} = {code}")
        return name

    # ----- expressions
    def expr(self, node: ir.Expr, path) -> _Value:
        value = self._expr(node, path)
        if value.code.count("(") > 40:      # keep emitted lines readable and within Python's nesting limit
            return _Value(self.bind(value.code), value.vars)
        return value

    def _expr(self, node: ir.Expr, path) -> _Value:
        if isinstance(node, ir.Ref):
            value = self.read(node, self.overrides.get(path))
            if len(set(value.vars)) != len(value.vars) or self.projection.summed_at.get(path):
                value = self.einsum([value], path)
            return value
        if isinstance(node, ir.Num):
            return _Value(_literal(node.value), ())
        if isinstance(node, ir.Scalar):
            consts = self.owner.program.consts
            return _Value(_literal(float(consts[node.name])) if node.name in consts else python_name(node.name), ())
        if isinstance(node, ir.IndexValue):
            b = self.bounds[node.name]
            return self.summed(_Value(f"np.arange({b.shifted(0)}, {b.shifted(b.size)}, dtype=np.float64)",
                                      (node.name,)), path)
        if isinstance(node, ir.Product):
            return self.product(node, path)
        if isinstance(node, ir.Sum):
            parts = [self.expr(t, path + (k,)) for k, t in enumerate(node.terms)]
            order = _union(parts)
            code = ""
            for part, sign in zip(parts, node.signs):
                term = self.aligned(part, order)
                code += (term if not code and sign > 0 else f" {'+' if sign > 0 else '-'} {term}") \
                    if code else (term if sign > 0 else f"-{term}")
            return self.summed(_Value(f"({code})", order), path)
        if isinstance(node, ir.Neg):
            inner = self.expr(node.operand, path + (0,))
            return self.summed(_Value(f"(-{inner.code})", inner.vars), path)
        if isinstance(node, ir.Power):
            base = self.expr(node.base, path + (0,))
            exponent = self.expr(node.exponent, path + (1,))
            order = _union([base, exponent])
            return self.summed(_Value(f"np.power({self.aligned(base, order)}, {self.aligned(exponent, order)})",
                                      order), path)
        if isinstance(node, ir.Call):
            return self.call(node, path)
        if isinstance(node, ir.Attention):
            return self.owner.attention(self, node, path)
        raise TlcError(f"the NumPy backend cannot emit {type(node).__name__}", getattr(node, "span", None))

    def call(self, node: ir.Call, path) -> _Value:
        args = [self.expr(a, path + (k,)) for k, a in enumerate(node.args)]
        x = args[0]
        if node.function in PAIRWISE_CODE:
            order = _union(args)
            pair = ", ".join(self.aligned(a, order) for a in args)
            return self.summed(_Value(f"{PAIRWISE_CODE[node.function]}({pair})", order), path)
        if node.function in ELEMENTWISE_CODE:
            extra = "".join(f", {self.aligned(a, x.vars)}" for a in args[1:])
            if any(set(a.vars) - set(x.vars) for a in args[1:]):
                raise TlcError("a function's extra arguments may only use the first argument's indices",
                               node.span)
            return self.summed(_Value(f"{ELEMENTWISE_CODE[node.function]}({x.code}{extra})", x.vars), path)
        if node.function in ("softmax", "lnorm"):
            missing = [a for a in node.axes if a not in x.vars]
            if missing:
                raise TlcError(f"{node.function} normalises over {missing[0]}, which does not occur in its "
                               f"argument", node.span)
            axes = tuple(x.vars.index(a) for a in node.axes)
            return self.summed(_Value(f"rt.{node.function}({x.code}, axis={axes[0] if len(axes) == 1 else axes})",
                                      x.vars), path)
        flattened = self.projection.flattened
        kept = tuple(v for v in x.vars if v not in flattened)
        merged = next(i.plain_variable for i in self.eq.lhs.indices
                      if i.plain_variable and i.plain_variable not in x.vars)
        order = kept + tuple(v for v in x.vars if v in flattened)
        shape = tuple(self.size(v) for v in kept) + (-1,)
        return _Value(f"{self.aligned(x, order)}.reshape({shape})", kept + (merged,))

    def aligned(self, value: _Value, order: tuple[str, ...]) -> str:
        if value.vars == order or not value.vars:
            return value.code
        if tuple(v for v in order if v in value.vars) == value.vars:
            if value.vars == order[-len(value.vars):]:
                return value.code       # NumPy broadcasting aligns trailing axes already
        src = "".join(self.letter(v) for v in value.vars)
        dst = "".join(self.letter(v) for v in order)
        return f"rt.align({value.code}, {src!r}, {dst!r})"

    def summed(self, value: _Value, path) -> _Value:
        gone = self.projection.summed_at.get(path, ())
        if not gone:
            return value
        axes = tuple(value.vars.index(v) for v in gone)
        return _Value(f"{value.code}.sum(axis={axes})", tuple(v for v in value.vars if v not in gone))

    def product(self, node: ir.Product, path) -> _Value:
        arrays, scalars = [], []
        for k, (factor, inverted) in enumerate(zip(node.factors, node.inverted)):
            value = self.expr(factor, path + (k,))
            if inverted:
                value = _Value(f"np.divide(1.0, {value.code})", value.vars)   # x/0 is inf, as in NumPy
            (arrays if value.vars else scalars).append(value)
        if arrays:
            result = self.einsum(arrays, path)
        else:
            result = _Value("1.0", ())
        if scalars:
            code = " * ".join(s.code for s in scalars)
            result = _Value(code if result.code == "1.0" else f"({code}) * {result.code}", result.vars)
        return result

    def einsum(self, arrays: list[_Value], path) -> _Value:
        gone = set(self.projection.summed_at.get(path, ()))
        order = tuple(v for v in _union(arrays) if v not in gone)
        if len(arrays) == 1 and not gone and len(set(arrays[0].vars)) == len(arrays[0].vars):
            return arrays[0]
        inputs = ",".join("".join(self.letter(v) for v in a.vars) for a in arrays)
        subscripts = f"{inputs}->{''.join(self.letter(v) for v in order)}"
        operands = ", ".join(a.code if _simple(a.code) else self.bind(a.code) for a in arrays)
        if len(arrays) == 1:
            return _Value(f"np.einsum({subscripts!r}, {operands})", order)
        sizes = {self.letter(v): self.size(v) for a in arrays for v in a.vars}
        shapes = [tuple(sizes[self.letter(v)] for v in a.vars) for a in arrays]
        limit = self.owner.memory_limit
        try:
            plan, info = contract_path(subscripts, *shapes, shapes=True, memory_limit=limit)
        except EinsumError as err:
            raise TlcError(f"the memory limit of {limit} elements ({limit * 8} bytes) cannot be met in the "
                           f"contraction {subscripts} of {', '.join(a.code for a in arrays)}: {err.message}",
                           self.eq.span) from None
        if info.sliced:
            return _Value(f"rt.contract_sliced({subscripts!r}, {operands}, path={plan!r}, sliced={info.sliced!r})",
                          order)
        return _Value(f"contract({subscripts!r}, {operands}, optimize={plan!r})", order)

    # ----- reads and writes
    def read(self, ref: ir.Ref, override: str | None) -> _Value:
        order = tuple(dict.fromkeys(v for i in ref.indices for v in i.variables))
        extents = self.owner.shapes.extents.get(ref.name, ())
        for a, index in enumerate(ref.indices):
            if index.is_constant and not 0 <= self.position(ref.name, a, index) < extents[a]:
                shape = tuple(self.size(v) for v in order)   # a read outside the extent is 0
                return _Value(f"np.zeros({shape})", order)
        array = override or python_name(ref.name)
        if ref.relation and not override and ref.name in self.owner.numeric:
            array = f"{array}_num"
        elif ref.relation:
            array = f"rt.as_number({array})"
        simple = all(i.shifted_variable or i.is_constant for i in ref.indices)
        if simple and self.outside(ref):
            bounds = []
            for a, index in enumerate(ref.indices):
                if index.is_constant:
                    bounds.append(self.position(ref.name, a, index))
                else:
                    var, offset = index.shifted_variable
                    start = self.bounds[var].lo + offset
                    bounds.append((start, start + self.bounds[var].size))
            order = tuple(i.shifted_variable[0] for i in ref.indices if not i.is_constant)
            return _Value(f"rt.window({array}, {bounds})", order)   # partly outside the tensor: zeros there
        if simple:
            parts, order = self.slices(ref), []
            order = [i.shifted_variable[0] for i in ref.indices if not i.is_constant]
            code = f"{array}[{', '.join(parts)}]" if any(p != ":" for p in parts) else array
            return _Value(code, tuple(order))
        specs = [self.spec(ref.name, a, i) for a, i in enumerate(ref.indices)]
        ranges = self.ranges_code(order)
        letters = "".join(self.letter(v) for v in order)
        return _Value(f"rt.gather({array}, {specs}, {ranges}, {letters!r})", order)

    def outside(self, ref: ir.Ref) -> bool:
        """True when a read's slices (with known bounds) reach past the tensor's extent."""
        extents = self.owner.shapes.extents.get(ref.name, ())
        for a, index in enumerate(ref.indices):
            shift = index.shifted_variable
            if a == self.owner.windows.get(ref.name, (None,))[0]:
                continue
            if shift and isinstance(self.bounds[shift[0]].lo, int):
                start = self.bounds[shift[0]].lo + shift[1]
                if start < 0 or start + self.bounds[shift[0]].size > extents[a]:
                    return True
        return False

    def slices(self, ref: ir.Ref) -> list[str]:
        """Basic-indexing selectors for a reference whose indices are shifted variables or constants;
        ``:`` where the range covers the whole axis."""
        extents = self.owner.shapes.extents.get(ref.name, ())
        window = self.owner.windows.get(ref.name, (None, None))
        parts = []
        for a, index in enumerate(ref.indices):
            if index.is_constant:
                position = self.position(ref.name, a, index)
                parts.append(str(position % window[1] if a == window[0] else position))
                continue
            var, offset = index.shifted_variable
            bound = self.bounds[var]
            if a == window[0]:      # a ring-buffer slot of a virtual axis
                start = bound.shifted(offset)
                slot = f"{start} % {window[1]}" if isinstance(start, int) or " " not in start \
                    else f"({start}) % {window[1]}"
                parts.append(f"{slot}:{slot} + 1")
                continue
            whole = offset == 0 and bound.lo == 0 and a < len(extents) and bound.size == extents[a]
            parts.append(":" if whole else bound.slice(offset))
        return parts

    def position(self, name: str, axis: int, index: ir.Index) -> int:
        """Array position of a constant index (see ``constant_position``)."""
        return constant_position(self.owner.symbols, self.owner.symbolic, name, axis, index)

    def spec(self, name: str, axis: int, index: ir.Index):
        if index.is_constant:
            return ((), self.position(name, axis, index), 1)
        return (tuple((self.letter(v), c) for v, c in index.terms), index.offset, index.divisor)

    def ranges_code(self, order) -> str:
        items = []
        for v in order:
            b = self.bounds[v]
            items.append(f"{self.letter(v)!r}: ({b.shifted(0)}, {b.shifted(b.size)})")
        return "{" + ", ".join(items) + "}"

    def reduce_top(self, value: _Value) -> _Value:
        reduced = [v for v in self.projection.reduced if v in value.vars]
        if not reduced:
            return value
        axes = tuple(value.vars.index(v) for v in reduced)
        kept = tuple(v for v in value.vars if v not in reduced)
        fn = {"max": "np.fmax.reduce", "min": "np.fmin.reduce", "avg": "np.sum"}[self.eq.aggregator.reduction]
        return _Value(f"{fn}({value.code}, axis={axes})", kept)

    def write(self, target: str, value: _Value) -> None:
        eq = self.eq
        lhs_vars = tuple(dict.fromkeys(v for i in eq.lhs.indices for v in i.variables))
        missing = [v for v in value.vars if v not in lhs_vars]
        if missing:
            raise TlcError(f"index {missing[0]} is neither on the left-hand side nor summed", eq.span)
        reduction = eq.aggregator.reduction
        relation = eq.lhs.relation
        count = None
        if reduction == "avg":
            per_element = math.prod(self.size(v) for v in self.projection.reduced)
            count = f"{per_element}.0"
        simple = all(i.shifted_variable or i.is_constant for i in eq.lhs.indices) and \
            len(lhs_vars) == sum(1 for i in eq.lhs.indices if not i.is_constant)
        if simple:
            sizes = {self.letter(v): self.size(v) for v in lhs_vars}
            code = value.code
            if value.vars != lhs_vars:
                src = "".join(self.letter(v) for v in value.vars)
                dst = "".join(self.letter(v) for v in lhs_vars)
                code = f"rt.align({code}, {src!r}, {dst!r}, {sizes!r})"
            parts = self.slices(eq.lhs)
            sel = f"{target}[{', '.join(parts)}]" if parts else f"{target}[()]"
            if relation and eq.fact:
                self.out.append(f"{sel} = True")
            elif relation:
                self.out.append(f"{sel} |= {code} > 0")
            elif reduction in FOLD_CODE:
                self.out.append(f"{sel} = {FOLD_CODE[reduction]}({sel}, {code})")
            else:
                self.out.append(f"{sel} += {code}")
                if count:
                    self.out.append(f"{target}_count[{', '.join(parts) if parts else '()'}] += {count}")
            return
        order = lhs_vars
        sizes = {self.letter(v): self.size(v) for v in order}
        src = "".join(self.letter(v) for v in value.vars)
        dst = "".join(self.letter(v) for v in order)
        code = value.code if value.vars == order else f"rt.align({value.code}, {src!r}, {dst!r}, {sizes!r})"
        if relation:
            code = f"({code}) > 0"
        specs = [self.spec(eq.lhs.name, a, i) for a, i in enumerate(eq.lhs.indices)]
        ranges = self.ranges_code(order)
        red = "or" if relation else reduction
        extra = f", count={target}_count, weight={count}" if count else ""
        value_name = self.bind(code)
        self.out.append(f"rt.scatter({target}, {value_name}, {specs}, {ranges}, {dst!r}, {red!r}{extra})")


def constant_position(symbols: tuple, symbolic: frozenset, name: str, axis: int, index: ir.Index) -> int:
    """Array position of a constant index: its place in the symbol table on an axis of named
    constants (integers included), else the integer itself."""
    if index.symbol is not None:
        return symbols.index(index.symbol)
    if (name, axis) in symbolic:
        return symbols.index(index.offset)
    return index.offset


def _literal(value: float) -> str:
    """Python source for a float literal (infinities and NaN spelled through NumPy)."""
    if value != value:
        return "np.nan"
    if value in (float("inf"), float("-inf")):
        return "np.inf" if value > 0 else "-np.inf"
    return repr(value)


def _union(values: list[_Value]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for val in values for v in val.vars))


def _simple(code: str) -> bool:
    return code.replace("_", "a").replace("[", "").replace("]", "").replace(":", "").replace(", ", "") \
        .replace(" ", "").replace("+", "").replace("-", "").replace("(", "").replace(")", "").isalnum()


def emit_numpy(program: Program, strata, shapes: Shapes, symbols: tuple, inputs: dict,
               symbolic: frozenset = frozenset(), memory_limit: int | None = None, plan=None,
               max_rounds: int | None = None) -> str:
    """Emit the NumPy module source for a program specialised to ``shapes`` (``memory_limit`` in elements, a
    ``RelationPlan``, and a bound on fixpoint rounds)."""
    return NumpyEmitter(program, strata, shapes, symbols, inputs, frozenset(symbolic),
                        memory_limit=memory_limit, plan=plan, max_rounds=max_rounds).module()

