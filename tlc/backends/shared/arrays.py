"""Array-namespace rendering of one equation: its right-hand side as NumPy expressions over the index
ranges being evaluated, combined into its target array (``ArrayExpression``).

Every backend renders the equations it does not compile to kernels through this module; user text enters
the code only through ``tlc.backends.shared.quoting``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from tlc.analysis.projection import Projection
from tlc.backends.shared.quoting import counts_of, identifier, literal, numeric_copy
from tlc.errors import TlcError
from tlc.ir import nodes as ir
from tlc.ir.printer import format_expr

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
ELEMENTWISE_CODE = {
    "step": "rt.step", "relu": "rt.relu", "sig": "rt.sig", "tanh": "np.tanh", "exp": "np.exp",
    "log": "np.log", "sqrt": "np.sqrt", "abs": "np.abs", "sin": "np.sin", "cos": "np.cos", "not": "rt.negate",
}
PAIRWISE_CODE = {"min": "np.minimum", "max": "np.maximum"}
_NAMED = re.compile(r"[A-Za-z_]\w*(\[[^\[\]]*\])?")
"""Code naming an array or a slice of one (no operation that makes a new array)."""
_TEMPORARY = re.compile(r"_t[0-9]+")
"""A temporary of the emitted code (``ScheduleEmitter.fresh``), never a tensor's name."""
SUM_CHUNK = 100
"""Most terms of a sum in one emitted expression (CPython's compiler recurses once per operator)."""
DIRECTED_CODE = {"step": "rt.step", "relu": "rt.relu", "tanh": "np.tanh", "exp": "np.exp", "log": "np.log",
                 "sqrt": "np.sqrt", "abs": "np.abs", "sin": "np.sin", "cos": "np.cos", "not": "rt.negate"}
"""The one-argument functions whose code takes ``out=`` (a float64 array of the argument's shape)."""
FOLD_CODE = {"max": "np.fmax", "min": "np.fmin"}
"""How ``max=``/``min=`` fold a contribution in: NaN marks an element nothing has reached yet, and a NaN
contribution (such as a read of such an element) is none."""


def tuple_code(items) -> str:
    """Code for a tuple of the expressions ``items``."""
    items = list(items)
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


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
class Value:
    """Code for an array and the index variable of each of its axes, in order."""

    code: str
    vars: tuple[str, ...]
    direct: Callable[[str], str] | None = field(default=None, compare=False)
    """Code computing the same array into a given C-contiguous float64 array of its shape (``out=`` of its
    outermost operation, the operations below it in place there where they keep its shape), when it has one."""
    ones: bool = field(default=False, compare=False)
    """Whether every element is 1 (``X^0``, which is 1 for any X, NaN included; a tensor assigned all ones): a
    product leaves such a factor out where its other factors carry its indices."""
    reciprocal_of: Value | None = field(default=None, compare=False)
    """The value this one is 1 over, when it is an inverted factor of the product being rendered: an elementwise
    product divides by it."""


@dataclass(frozen=True)
class InOrder:
    """The plan of a product left with a few operands (``ArrayExpression.without_ones``): the first two, then the
    result with the next, nothing sliced."""

    operands: int
    sizes: dict[str, int]
    """Each index's extent."""

    @property
    def path(self) -> tuple[tuple[int, ...], ...]:
        return ((0, 1),) * (self.operands - 1)

    sliced = ()


def spine(value: Value, out: str, order: tuple[str, ...]) -> str | None:
    """Code computing ``value`` into ``out`` (an array with the axes ``order``), or None when it cannot."""
    return value.direct(out) if value.direct is not None and value.vars == order else None



class ArrayExpression:
    """Emits the statements computing one equation and combining it into its target array."""

    REDUCE_CODE = {"max": "np.fmax.reduce", "min": "np.fmin.reduce", "avg": "np.sum"}
    """How ``max=``/``min=``/``avg=`` reduce the indices absent from the left-hand side (NaN is no contribution)."""

    def __init__(self, owner, k: int, bounds: dict[str, Bound], overrides: dict, projection: Projection):
        """``owner``: the ``ScheduleEmitter``; ``k``: the equation's number; ``bounds``: each index's values;
        ``overrides``: path -> array name read instead (a semi-naive delta)."""
        self.owner = owner
        self.number = k
        self.eq = owner.program.equations[k]
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

    def bind_value(self, value: Value) -> str:
        """A temporary bound to ``value``: computed into a scratch array of the module (``ScheduleEmitter.scratch``)
        when it can be, else a new array."""
        name = self.owner.fresh()
        out = self.owner.scratch(name, tuple(self.size(v) for v in value.vars))
        directed = spine(value, out, value.vars) if out is not None else None
        self.out.append(f"{name} = {directed or value.code}")
        return name

    # ----- expressions
    def expr(self, node: ir.Expr, path) -> Value:
        value = self._expr(node, path)
        if not value.vars:
            value = replace(value, code=folded(value.code))
        if value.code.count("(") > 40:      # keep emitted lines readable and within Python's nesting limit
            return Value(self.bind_value(value), value.vars)
        return value

    def _expr(self, node: ir.Expr, path) -> Value:
        if isinstance(node, ir.Ref):
            value = self.read(node, self.overrides.get(path))
            if len(set(value.vars)) != len(value.vars) or self.projection.summed_at.get(path):
                value = self.einsum([value], path)
            return value
        if isinstance(node, ir.Num):
            return Value(literal(float(node.value)), ())
        if isinstance(node, ir.Scalar):
            consts = self.owner.program.consts
            return Value(literal(float(consts[node.name])) if node.name in consts else identifier(node.name), ())
        if isinstance(node, ir.IndexValue):
            b = self.bounds[node.name]
            return self.summed(Value(f"np.arange({b.shifted(0)}, {b.shifted(b.size)}, dtype=np.float64)",
                                      (node.name,)), path)
        if isinstance(node, ir.Product):
            return self.product(node, path)
        if isinstance(node, ir.Sum):
            parts = [self.expr(t, path + (k,)) for k, t in enumerate(node.terms)]
            order = _union(parts)
            terms = [(self.aligned(part, order), sign) for part, sign in zip(parts, node.signs)]
            code = ""
            for start in range(0, len(terms), SUM_CHUNK):     # a long chain as partial sums, one per line
                code = self.bind(code) if code else ""
                for term, sign in terms[start:start + SUM_CHUNK]:
                    code = f"{code} {'+' if sign > 0 else '-'} {term}" if code else term if sign > 0 else f"-{term}"
            direct = None
            if len(terms) <= SUM_CHUNK:
                def direct(out, parts=parts, terms=terms, order=order):
                    first, sign = spine(parts[0], out, order), terms[0][1]
                    acc = first or terms[0][0]
                    if sign < 0:
                        acc = f"np.negative({acc}, out={out})"
                    for term, sign in terms[1:]:
                        acc = f"np.{'add' if sign > 0 else 'subtract'}({acc}, {term}, out={out})"
                    return acc if first or terms[0][1] < 0 or len(terms) > 1 else f"rt.into({out}, {acc})"
            return self.summed(Value(f"({code})", order, direct), path)
        if isinstance(node, ir.Neg):
            inner = self.expr(node.operand, path + (0,))

            def negated(out):
                return f"np.negative({spine(inner, out, inner.vars) or inner.code}, out={out})"
            return self.summed(Value(f"(-{inner.code})", inner.vars, negated), path)
        if isinstance(node, ir.Power):
            base = self.expr(node.base, path + (0,))
            if isinstance(node.exponent, ir.Num) and node.exponent.value == 0 and base.vars \
                    and len(set(base.vars)) == len(base.vars) and not self.projection.summed_at.get(path):
                return Value(f"np.ones({tuple(self.size(v) for v in base.vars)})", base.vars, ones=True)
            if isinstance(node.exponent, ir.Num) and node.exponent.value == 0 and not base.vars:
                return Value("1.0", ())     # (a number's power 0 is 1, as NumPy's: NaN's too)
            exponent = self.expr(node.exponent, path + (1,))
            if exponent.code == "2.0" and base.vars:    # x * x rounded once, as pow's: one multiply, not a pow
                return self.summed(Value(f"np.square({base.code})", base.vars,
                                         lambda out: f"np.square({spine(base, out, base.vars) or base.code}, out={out})"),
                                   path)
            order = _union([base, exponent])
            return self.summed(Value(f"np.power({self.aligned(base, order)}, {self.aligned(exponent, order)})",
                                      order), path)
        if isinstance(node, ir.Call):
            return self.call(node, path)
        if isinstance(node, ir.Attention):
            return self.owner.attention(self, node, path)
        raise TlcError(f"the NumPy backend cannot emit {type(node).__name__}", getattr(node, "span", None))

    def call(self, node: ir.Call, path) -> Value:
        args = [self.expr(a, path + (k,)) for k, a in enumerate(node.args)]
        x = args[0]
        if node.function in PAIRWISE_CODE:
            order = _union(args)
            pair = ", ".join(self.aligned(a, order) for a in args)
            return self.summed(Value(f"{PAIRWISE_CODE[node.function]}({pair})", order), path)
        if node.function == "step" and len(args) == 1 and x.ones:     # step(1) = 1
            return self.summed(x, path)
        if node.function in ELEMENTWISE_CODE:
            extra = "".join(f", {self.aligned(a, x.vars)}" for a in args[1:])
            if any(set(a.vars) - set(x.vars) for a in args[1:]):
                raise TlcError("a function's extra arguments may only use the first argument's indices",
                               node.span)
            direct = None
            if node.function in DIRECTED_CODE and len(args) == 1:
                def direct(out, x=x, function=DIRECTED_CODE[node.function]):
                    return f"{function}({spine(x, out, x.vars) or x.code}, out={out})"
            return self.summed(Value(f"{ELEMENTWISE_CODE[node.function]}({x.code}{extra})", x.vars, direct), path)
        if node.function in ("softmax", "lnorm"):
            missing = [a for a in node.axes if a not in x.vars]
            if missing:
                raise TlcError(f"{node.function} normalises over {missing[0]}, which does not occur in its "
                               f"argument", node.span)
            axes = tuple(x.vars.index(a) for a in node.axes)
            head = f"rt.{node.function}({{}}, axis={axes[0] if len(axes) == 1 else axes}"
            return self.summed(Value(head.format(x.code) + ")", x.vars,
                                     lambda out: f"{head.format(spine(x, out, x.vars) or x.code)}, out={out})"), path)
        flattened = self.projection.flattened
        kept = tuple(v for v in x.vars if v not in flattened)
        merged = next(i.plain_variable for i in self.eq.lhs.indices
                      if i.plain_variable and i.plain_variable not in x.vars)
        order = kept + tuple(v for v in x.vars if v in flattened)
        shape = tuple(self.size(v) for v in kept) + (-1,)
        return Value(f"rt.merged({self.aligned(x, order)}, {shape})", kept + (merged,))

    def aligned(self, value: Value, order: tuple[str, ...]) -> str:
        if value.vars == order or not value.vars:
            return value.code
        if tuple(v for v in order if v in value.vars) == value.vars:
            if value.vars == order[-len(value.vars):]:
                return value.code       # NumPy broadcasting aligns trailing axes already
        src = "".join(self.letter(v) for v in value.vars)
        dst = "".join(self.letter(v) for v in order)
        return f"rt.align({value.code}, {src!r}, {dst!r})"

    def summed(self, value: Value, path) -> Value:
        gone = self.projection.summed_at.get(path, ())
        if not gone:
            return value
        axes = tuple(value.vars.index(v) for v in gone)
        return Value(f"{value.code}.sum(axis={axes})", tuple(v for v in value.vars if v not in gone))

    def product(self, node: ir.Product, path) -> Value:
        arrays, scalars = [], []
        for k, (factor, inverted) in enumerate(zip(node.factors, node.inverted)):
            if isinstance(factor, ir.Num) and factor.value == 1 and len(node.factors) > 1:
                continue      # 1 / x is written (1) / x: a multiplication by 1 changes nothing
            value = self.expr(factor, path + (k,))
            if value.code == "1.0" and not value.vars and len(node.factors) > 1:
                continue      # (a number's power 0, a folded number)
            if inverted:      # x/0 is inf, as in NumPy
                value = Value(f"np.divide(1.0, {value.code})", value.vars,
                              lambda out, x=value: f"np.divide(1.0, {spine(x, out, x.vars) or x.code}, out={out})",
                              reciprocal_of=value)
            (arrays if value.vars else scalars).append(value)
        if arrays:
            result = self.without_ones(arrays, path) or self.einsum(arrays, path)
            if result.reciprocal_of is not None:    # ``1 / y`` alone: a product around it multiplies by it (the
                result = replace(result, reciprocal_of=None)    # same numbers as ``y``'s reciprocal kept apart)
        else:
            result = Value("1.0", ())
        if scalars:
            code = folded(" * ".join(s.code for s in scalars))
            scaled = None
            if result.vars:
                def scaled(out, result=result, code=code):
                    return f"np.multiply({spine(result, out, result.vars) or result.code}, {code}, out={out})"
            result = Value(code if result.code == "1.0" else f"({code}) * {result.code}", result.vars, scaled)
        return result

    def layout(self, arrays: list[Value], path) -> tuple[str, ...]:
        """The indices of the product of ``arrays`` at ``path`` (those not summed there), laid out as the left-hand
        side (no transposed write), then in the order they appear."""
        gone = set(self.projection.summed_at.get(path, ()))
        kept = [v for v in _union(arrays) if v not in gone]
        lhs = [v for i in self.eq.lhs.indices for v in i.variables if v in kept]
        return tuple(dict.fromkeys(lhs + kept))

    def without_ones(self, arrays: list[Value], path) -> Value | None:
        """The product of ``arrays`` at ``path`` without its all-ones factors (``Value.ones``) whose indices the other
        factors carry (all ones when every factor is and nothing is summed), when one or two factors are left or
        three whose indices the first carries (no step then makes an array larger than it); None when no factor goes
        (then the planned contraction runs)."""
        if not any(a.ones for a in arrays) or any(len(set(a.vars)) != len(a.vars) for a in arrays):
            return None
        plan = self.owner.planned.contraction(self.number, path)
        if plan is not None and (plan.sliced or plan.groups):
            return None
        order = self.layout(arrays, path)
        rest = [a for a in arrays if not a.ones]
        if not rest:
            if self.projection.summed_at.get(path):
                return None
            return Value(f"np.ones({tuple(self.size(v) for v in order)})", order, ones=True)
        covered = {v for a in rest for v in a.vars}
        left = sorted(rest + [a for a in arrays if a.ones and not set(a.vars) <= covered], key=lambda a: -len(a.vars))
        if len(left) == len(arrays) or len(left) > 3 or (len(left) == 3 and set(left[0].vars) != covered):
            return None
        if len(left) == 1:
            return self.einsum(left, path)
        return self.contraction(left, InOrder(len(left), {v: self.size(v) for a in left for v in a.vars}), order)

    def einsum(self, arrays: list[Value], path) -> Value:
        gone = set(self.projection.summed_at.get(path, ()))
        order = self.layout(arrays, path)
        if len(arrays) == 1 and not gone and len(set(arrays[0].vars)) == len(arrays[0].vars):
            return arrays[0]
        if len(arrays) == 1 and arrays[0].ones and len(set(arrays[0].vars)) == len(arrays[0].vars):
            # a sum of ones is the number of terms (lnorm's and avg='s counts): no pass over an array of ones
            count = float(math.prod(self.size(v) for v in gone))
            return Value(f"np.full({tuple(self.size(v) for v in order)}, {count!r})", order,
                         lambda out: f"rt.into({out}, {count!r})", ones=count == 1.0)
        if len(arrays) == 1:
            subscripts = f"{''.join(self.letter(v) for v in arrays[0].vars)}->{''.join(self.letter(v) for v in order)}"
            operand = self.operand(arrays[0])
            return Value(f"np.einsum({subscripts!r}, {operand})", order,
                         lambda out: f"np.einsum({subscripts!r}, {operand}, out={out})")
        plan = self.owner.planned.contraction(self.number, path)
        if plan is None or plan.factors != len(arrays):
            raise TlcError(f"internal error: no contraction plan matches {format_expr(ir.node_at(self.eq.rhs, path))} "
                           f"(please report it)", self.eq.span)
        return self.contract(arrays, plan, order)

    def contract(self, arrays: list[Value], plan, order: tuple[str, ...], bound: bool = False) -> Value:
        """``arrays`` contracted as ``plan`` says (its groups first), keeping the indices ``order``; the result
        in a temporary if ``bound``."""
        if plan.groups:
            starts = [sum(g.factors for g in plan.groups[:k]) for k in range(len(plan.groups))]
            arrays = [self.contract(arrays[start:start + group.factors], group, group.kept, bound=True)
                      for start, group in zip(starts, plan.groups)]
        ordered = _in_plan_order(arrays, plan)
        if ordered is None:
            raise TlcError("internal error: a contraction's operands do not match its plan (please report it)",
                           self.eq.span)
        value = self.contraction(ordered, plan, order)
        return Value(self.bind_value(value), order) if bound else value

    def contraction(self, ordered: list[Value], plan, order: tuple[str, ...]) -> Value:
        """``ordered`` (the plan's operands, in its order) contracted along ``plan``'s path to the indices ``order``
        (the hook a backend overrides: by default one ``rt.contract`` call, or NumPy's broadcasting ``*`` when
        nothing is summed: an elementwise product through ``einsum`` took 2-7x as long)."""
        split = self.unmerging(ordered, order)
        if split is not None:
            return split
        if not plan.sliced and set(order) == {v for a in ordered for v in a.vars} \
                and all(len(set(a.vars)) == len(a.vars) for a in ordered):
            # x / y rather than x * (1 / y): one operation fewer (the quotient may differ in its last bit)
            numerators = [a for a in ordered if a.reciprocal_of is None] or ordered
            factors = [self.aligned(Value(self.operand(a), a.vars), order) for a in numerators]
            divisors = [self.aligned(Value(self.operand(a.reciprocal_of), a.vars), order)
                        for a in ordered if a.reciprocal_of is not None and numerators is not ordered]

            def direct(out):
                code = factors[0] if len(factors) + len(divisors) > 1 else f"rt.into({out}, {factors[0]})"
                for factor in factors[1:]:
                    code = f"np.multiply({code}, {factor}, out={out})"
                for divisor in divisors:
                    code = f"np.divide({code}, {divisor}, out={out})"
                return code
            return Value("(" + " * ".join(factors) + "".join(f" / {d}" for d in divisors) + ")", order, direct)
        inputs = ",".join("".join(self.letter(v) for v in a.vars) for a in ordered)
        subscripts = f"{inputs}->{''.join(self.letter(v) for v in order)}"
        operands = ", ".join(self.operand(a) for a in ordered)
        path_code = [tuple(step) for step in plan.path]
        if plan.sliced:
            sliced = tuple(self.letter(v) for v in plan.sliced)
            return Value(f"rt.contract_sliced({subscripts!r}, {operands}, path={path_code!r}, sliced={sliced!r})",
                         order)
        code = f"rt.contract({subscripts!r}, {operands}, optimize={path_code!r}"
        return Value(f"{code})", order, lambda out: f"{code}, out={out})")

    def unmerging(self, ordered: list[Value], order: tuple[str, ...]) -> Value | None:
        """``X[.., m] S[a1, .., ak, m]`` summing ``m``, with ``S`` read whole and one of the owner's concat selectors
        (``tlc.analysis.selectors``): ``X`` with its axis ``m`` split into ``a1, .., ak`` (``rt.unmerged``, a
        reshape), not a product summing a one-hot (26 -> 6 us for a transformer block's concat adjoint); else None."""
        if len(ordered) != 2:
            return None
        for x, s in (ordered, ordered[::-1]):
            if s.code not in self.owner.selectors or len(set(s.vars)) != len(s.vars) \
                    or len(set(x.vars)) != len(x.vars):
                continue
            *kept, merged = s.vars
            if merged not in x.vars or merged in order or set(kept) & set(x.vars):
                continue
            axis = x.vars.index(merged)
            split = x.vars[:axis] + tuple(kept) + x.vars[axis + 1:]
            if set(split) != set(order):
                continue
            code = f"rt.unmerged({self.operand(x)}, {axis}, {tuple(self.size(v) for v in kept)})"
            return Value(self.aligned(Value(code, split), order), order)
        return None

    def operand(self, value: Value) -> str:
        """Code naming ``value``'s array: its own code when short, else a temporary bound to it."""
        return value.code if _simple(value.code) else self.bind_value(value)

    # ----- reads and writes
    def read(self, ref: ir.Ref, override: str | None) -> Value:
        order = tuple(dict.fromkeys(v for i in ref.indices for v in i.variables))
        extents = self.owner.shapes.extents.get(ref.name, ())
        for a, index in enumerate(ref.indices):
            if index.is_constant and not 0 <= self.position(ref.name, a, index) < extents[a]:
                shape = tuple(self.size(v) for v in order)   # a read outside the extent is 0
                return Value(f"np.zeros({shape})", order)
        array = override or identifier(ref.name)
        if ref.relation and not override and ref.name in self.owner.numeric:
            array = numeric_copy(ref.name)
        elif ref.relation:
            array = f"rt.as_number({array})"
        simple = all(i.shifted_variable or i.is_constant for i in ref.indices)
        stepping = simple and any(not isinstance(self.bounds[i.shifted_variable[0]].lo, int)
                                  for i in ref.indices if not i.is_constant)
        if stepping and self.outside(ref):
            simple = False      # a window needs static bounds: gather reads 0 outside, step by step
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
            return Value(f"rt.window({array}, {bounds})", order)   # partly outside the tensor: zeros there
        if simple:
            parts, order = self.slices(ref), []
            order = [i.shifted_variable[0] for i in ref.indices if not i.is_constant]
            code = f"{array}[{', '.join(parts)}]" if any(p != ":" for p in parts) else array
            return Value(code, tuple(order), ones=override is None and ref.name in self.owner.ones)
        specs = [self.spec(ref.name, a, i) for a, i in enumerate(ref.indices)]
        ranges = self.ranges_code(order)
        letters = "".join(self.letter(v) for v in order)
        return Value(f"rt.gather({array}, {specs}, {ranges}, {letters!r})", order)

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

    def reduce_top(self, value: Value) -> Value:
        reduced = [v for v in self.projection.reduced if v in value.vars]
        if not reduced:
            return value
        axes = tuple(value.vars.index(v) for v in reduced)
        kept = tuple(v for v in value.vars if v not in reduced)
        fn = self.REDUCE_CODE[self.eq.aggregator.reduction]
        return Value(f"{fn}({value.code}, axis={axes})", kept)

    def write(self, target: str, value: Value) -> None:
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
            if target in self.owner.deferred and reduction in ("sum", "avg") and not relation \
                    and all(p == ":" for p in parts):
                name = self.owner.deferred.pop(target)
                shape = tuple(self.size(v) for v in lhs_vars)
                if count:       # every element averages ``count`` contributions (``stores_whole``)
                    self.owner.averaged.add(target)
                    value = Value(f"np.divide({code}, {count})", lhs_vars)
                    code = value.code
                if value.ones and value.vars == lhs_vars:     # all ones: its readers may leave it out of products
                    self.owner.ones.add(name)
                    self.out.append(f"{target} = np.ones({shape})")
                    return
                # an intermediate (never returned) is computed into its scratch array, if it gets one
                out = None if self.owner.program.is_result(name) else self.owner.scratch(target, shape)
                directed = spine(value, out, lhs_vars) if out is not None else None
                if directed is not None:
                    self.out.append(f"{target} = {directed}")
                    return
                if _NAMED.fullmatch(code) and (not _TEMPORARY.fullmatch(code) or code in self.owner.scratched):
                    # another array, a view of one or a scratch array: copied, never shared (any other temporary
                    # holds the new result of an operation, or a view)
                    code = f"np.array({code}, dtype=np.float64)"
                self.out.append(f"{target} = rt.owned({code}, {shape})")
                return
            self.out.extend(self.owner.deferred_allocation(target))
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
                    self.out.append(f"{counts_of(target)}[{', '.join(parts) if parts else '()'}] += {count}")
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
        extra = f", count={counts_of(target)}, weight={count}" if count else ""
        value_name = self.bind(code)
        self.out.extend(self.owner.deferred_allocation(target))
        self.out.append(f"rt.scatter({target}, {value_name}, {specs}, {ranges}, {dst!r}, {red!r}{extra})")


def constant_position(symbols: tuple, symbolic: frozenset, name: str, axis: int, index: ir.Index) -> int:
    """Array position of a constant index: its place in the symbol table on an axis of named
    constants (integers included), else the integer itself."""
    if index.symbol is not None:
        return symbols.index(index.symbol)
    if (name, axis) in symbolic:
        return symbols.index(index.offset)
    return index.offset


_CONSTANT_CODE = re.compile(r"(?:\s|[-+*/(),]|np\.(?:sqrt|exp|log|abs|sin|cos|tanh|divide|maximum|minimum|power|"
                            r"square|negative|full)\b|\d+(?:\.\d*)?(?:e[-+]?\d+)?(?![\d.e]))+")
"""Code of a number computed from literals alone, by operators and NumPy's functions (each number read one way
only: a pattern that could split ``2.0`` as ``2.`` and ``0`` backtracked exponentially on code it does not match)."""


def folded(code: str) -> str:
    """``code`` as the literal it evaluates to when it computes a finite number from literals alone (the emitted
    module's own arithmetic, run once here: ``np.divide(1.0, np.sqrt(8.0))`` took 2 us at each call), else
    unchanged (a NumPy warning or error stays the run's)."""
    if not _CONSTANT_CODE.fullmatch(code) or _LITERAL.fullmatch(code):
        return code
    try:
        with np.errstate(all="raise"):
            value = eval(code, {"__builtins__": {}, "np": np})     # noqa: S307 (literals and NumPy's functions only)
    except ArithmeticError:
        return code
    return literal(float(value)) if np.ndim(value) == 0 and math.isfinite(value) else code


_LITERAL = re.compile(r"-?\d+\.?\d*(?:e[-+]?\d+)?")


def _union(values: list[Value]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for val in values for v in val.vars))


def _simple(code: str) -> bool:
    return code.replace("_", "a").replace("[", "").replace("]", "").replace(":", "").replace(", ", "") \
        .replace(" ", "").replace("+", "").replace("-", "").replace("(", "").replace(")", "").isalnum()


def _in_plan_order(arrays: list[Value], plan) -> list[Value] | None:
    """``arrays`` reordered as the planned contraction's operands (matched by their indices), or None when
    they do not match it (a backend may list a product's factors in another order than the plan)."""
    if plan is None or len(plan.operands) != len(arrays):
        return None
    left = list(arrays)
    ordered = []
    for operand in plan.operands:
        match = next((a for a in left if set(a.vars) == set(operand)), None)
        if match is None:
            return None
        left.remove(match)
        ordered.append(match)
    return ordered
