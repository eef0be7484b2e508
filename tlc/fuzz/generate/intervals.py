"""Value intervals of generated equations, and their repair: wrap the nodes that could overflow or leave a
function's domain until every value of the equation is finite."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from tlc.analysis.projection import analyse
from tlc.ir import nodes as ir

INPUT_BOUND = (-2.0, 2.0)
"""Values of input tensors (``inputs_for`` draws multiples of 1/4 in it)."""
SCALAR_BOUND = (0.25, 2.0)
"""Values of scalar inputs."""
LIMIT = 1e8
"""Largest magnitude any intermediate value may reach; bigger nodes are wrapped in ``tanh``."""
SMALL = 1e3
"""Largest magnitude a tensor's equation may store; a bigger right-hand side is wrapped in ``tanh``."""

Bound = tuple[float, float]
"""A closed interval of values, ``(low, high)``."""


def hull(*bounds: Bound) -> Bound:
    """The smallest interval holding every one of ``bounds``."""
    return min(b[0] for b in bounds), max(b[1] for b in bounds)


def _mul(a: Bound, b: Bound) -> Bound:
    products = [x * y for x in a for y in b if not (math.isinf(x) or math.isinf(y))]
    if len(products) < 4:
        return -math.inf, math.inf
    return min(products), max(products)


def _scale(b: Bound, n: float) -> Bound:
    return hull(b, (b[0] * n, b[1] * n))


class _Unsafe(Exception):
    """The node at ``path`` may overflow or leave its function's domain (``kind`` says which)."""

    def __init__(self, path: tuple[int, ...], kind: str):
        super().__init__(kind)
        self.path = path
        self.kind = kind


@dataclass
class Bounds:
    """Value bounds of one equation's nodes, given the bounds of the tensors it reads."""

    tensor_bound: Mapping[str, Bound]
    consts: Mapping[str, float]
    count: float
    """Most values any summed index can take (the largest extent, shifts included)."""
    summed: Mapping[tuple[int, ...], tuple[str, ...]] = field(default_factory=dict, init=False)
    """The indices summed at each node of the equation being bounded."""

    def equation(self, eq: ir.Equation) -> Bound:
        """The bound of ``eq``'s right-hand side (raises ``_Unsafe`` at an unsafe node)."""
        self.summed = analyse(eq).summed_at
        return self._node(eq.rhs, ())

    def _node(self, node: ir.Expr, path: tuple[int, ...]) -> Bound:
        value = self._raw(node, path)
        summed = len(self.summed.get(path, ()))
        if summed:
            value = _scale(value, self.count ** summed)
        if max(abs(value[0]), abs(value[1])) > LIMIT or math.isnan(value[0]) or math.isnan(value[1]):
            raise _Unsafe(path, "overflow")
        return value

    def _raw(self, node: ir.Expr, path: tuple[int, ...]) -> Bound:
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
                b = self._node(factor, path + (k,))
                if inverted:
                    if b[0] <= 1e-3 and b[1] >= -1e-3:
                        raise _Unsafe(path + (k,), "denominator")
                    b = (1 / b[1], 1 / b[0])
                value = _mul(value, b)
            return value
        if isinstance(node, ir.Sum):
            lo = hi = 0.0
            for k, (term, sign) in enumerate(zip(node.terms, node.signs)):
                b = self._node(term, path + (k,))
                lo, hi = (lo + b[0], hi + b[1]) if sign > 0 else (lo - b[1], hi - b[0])
            return lo, hi
        if isinstance(node, ir.Neg):
            b = self._node(node.operand, path + (0,))
            return -b[1], -b[0]
        if isinstance(node, ir.Power):
            base = self._node(node.base, path + (0,))
            exponent = self._node(node.exponent, path + (1,))
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
            return self._call(node, path)
        raise TypeError(type(node).__name__)

    def _call(self, node: ir.Call, path) -> Bound:
        args = [self._node(a, path + (k,)) for k, a in enumerate(node.args)]
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


class Unfixable(Exception):
    """An equation whose values cannot be bounded by wrapping its nodes (the generator drops it)."""


def make_safe(eq: ir.Equation, bounds: Bounds) -> tuple[ir.Equation, Bound]:
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
