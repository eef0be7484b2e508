"""Reverse-mode rules, one per construct: the local partial derivative of a node with respect to each of
its children, written as Tensor Logic factors that multiply the node's adjoint.

A factor is ``(expression, divides)``; the adjoint of a child is the product of the factors on its path from
the equation's root (summed, by the usual projection, over every index the child lacks). Forward values are
obtained through the context (``value``), which reads the node itself when it is a plain reference and
otherwise materialises it as a tensor, so that indices summed inside it stay summed there.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from tlc.errors import TlcError
from tlc.ir import nodes as ir
from tlc_runtime.ops import LNORM_EPS

Path = tuple[int, ...]
Factor = tuple[ir.Expr, bool]


class Context(Protocol):
    """What a rule may ask of the transform walking one equation."""

    equation: ir.Equation

    def active(self, path: Path) -> bool:
        """True when the node at ``path`` reads a tensor whose gradient is wanted."""

    def value(self, path: Path) -> ir.Expr:
        """The forward value of the node at ``path`` (after its own summations), as an expression."""

    def adjoint(self, path: Path, factors: list[Factor]) -> ir.Ref:
        """The adjoint of the node at ``path``, materialised as a tensor over its free indices."""

    def free(self, path: Path) -> tuple[str, ...]:
        """The indices of the node at ``path`` that are not summed inside it."""

    def materialise(self, suffix: str, variables: tuple[str | ir.Index, ...], rhs: ir.Expr) -> ir.Ref:
        """A new tensor ``L_grad_Y_<suffix>[variables] = rhs`` (summing the other indices), read back at the
        same positions (``variables`` may be index expressions, as in ``count[x/2]``)."""

    def rewritable(self, path: Path) -> bool:
        """True when the forward equation may be rewritten (``rewrite``) to compute the node at ``path``, its whole
        right-hand side, from tensors the backward pass reads too."""

    def rewrite(self, rhs: ir.Expr) -> None:
        """Compute the forward equation's left-hand side as ``rhs`` (equal to its right-hand side) instead."""


def unsupported(construct: str, span) -> TlcError:
    """The located error for a construct whose gradient tlc does not derive."""
    return TlcError(f"the gradient of {construct} is not implemented yet", span)


ONE = ir.Num(1.0)
MINUS_ONE = ir.Num(-1.0)


def _minus(a: ir.Expr, b: ir.Expr) -> ir.Sum:
    return ir.Sum((a, b), (1, -1))


def _call(function: str, arg: ir.Expr) -> ir.Call:
    return ir.Call(function, (arg,))


def _at_least_one(count: ir.Ref) -> ir.Call:
    """``max(count, 1)``: a count of positions as a divisor, 1 where there are none (an empty range sums nothing,
    but a backend may divide first: 0 / 0)."""
    return ir.Call("max", (count, ONE))


def _reciprocal_or_zero(value: ir.Expr) -> list[Factor]:
    """``1 / value`` as factors, but 0 where ``value`` is exactly 0: the derivative of ``sqrt(x)`` or ``x^p``
    (0 < p < 1) at x = 0, where the function is finite but its slope infinite, is taken as 0, as ``relu``'s and
    ``abs``'s are at their kinks (``step(v) / (v + 1 - step(v))``). Infinity there would make the chain rule's
    product 0 * inf = NaN wherever a later factor is 0, as when the argument is 0 for every nearby input
    (``sqrt(abs(R(i) X[i]))`` with ``R`` false), where the loss is constant and its gradient 0; and for
    ``sqrt(abs(x))``, ``sqrt(x^2)`` 0 is the symmetric choice (a subgradient of ``|x|``)."""
    positive = _call("step", value)
    return [(positive, False), (ir.Sum((value, ONE, positive), (1, 1, -1)), True)]


def is_constant(expr: ir.Expr) -> bool:
    """True when ``expr`` reads no tensor and no index (literals, consts and scalar inputs only)."""
    return not any(isinstance(n, (ir.Ref, ir.IndexValue)) for n in ir.walk(expr))


def partials(node: ir.Expr, path: Path, ctx: Context, adjoint: list[Factor]) -> list[tuple[int, list[Factor]]]:
    """``(child position, the child's adjoint)`` for every child with a non-zero partial derivative, given the
    node's own ``adjoint`` as factors."""
    if isinstance(node, ir.Call) and node.function == "softmax":
        return [(0, _softmax(node, path, ctx, adjoint))]
    if isinstance(node, ir.Call) and node.function == "lnorm":
        return [(0, _lnorm(node, path, ctx, adjoint))]
    if isinstance(node, ir.Call) and node.function == "concat":
        return [(0, adjoint + _concat(node, ctx))]
    return [(k, adjoint + local) for k, local in _local(node, path, ctx)]


def _local(node: ir.Expr, path: Path, ctx: Context) -> list[tuple[int, list[Factor]]]:
    """``(child position, local partial factors)`` for an elementwise construct."""
    if isinstance(node, ir.Sum):
        return [(k, [] if sign > 0 else [(MINUS_ONE, False)]) for k, sign in enumerate(node.signs)]
    if isinstance(node, ir.Neg):
        return [(0, [(MINUS_ONE, False)])]
    if isinstance(node, ir.Product):
        return [(k, _product(node, path, ctx, k)) for k in range(len(node.factors)) if ctx.active(path + (k,))]
    if isinstance(node, ir.Power):
        return [(0, _power(node, path, ctx))]
    if isinstance(node, ir.Call):
        return _call_rule(node, path, ctx)
    if isinstance(node, ir.Attention):
        raise unsupported("fused attention", node.span)
    return []


def _product(node: ir.Product, path: Path, ctx: Context, k: int) -> list[Factor]:
    """d(Π f_j^±1)/d f_k: the other factors, and for a divisor also -1/f_k²."""
    others = [(ctx.value(path + (j,)), inv) for j, inv in enumerate(node.inverted) if j != k]
    if not node.inverted[k]:
        return others
    own = ctx.value(path + (k,))
    return others + [(MINUS_ONE, False), (own, True), (own, True)]


def _power(node: ir.Power, path: Path, ctx: Context) -> list[Factor]:
    """d(b^e)/db = e b^(e-1) for an exponent that reads no tensor."""
    if not is_constant(node.exponent):
        raise unsupported("a power whose exponent reads a tensor or an index", node.span)
    base = ctx.value(path + (0,))
    e = node.exponent
    if isinstance(e, ir.Num):
        if e.value == 1:
            return []
        if e.value == 2:
            return [(e, False), (base, False)]
        lowered = e.value - 1            # a negative exponent divides, as the printer cannot write b^-1
        if 0 < e.value < 1:              # b^e is finite at b = 0, its derivative is not
            return [(e, False), *_reciprocal_or_zero(ir.Power(base, ir.Num(-lowered)))]
        return [(e, False), (ir.Power(base, ir.Num(abs(lowered))), lowered < 0)]
    return [(e, False), (ir.Power(base, _minus(e, ONE)), False)]


def _call_rule(node: ir.Call, path: Path, ctx: Context) -> list[tuple[int, list[Factor]]]:
    f = node.function
    if f == "step":
        return []                                   # zero almost everywhere (and taken as 0 at 0)
    if f in ("min", "max"):
        return _pairwise(node, path, ctx)
    if f not in ("relu", "sig", "tanh", "exp", "log", "sqrt", "abs", "sin", "cos"):
        construct = "~ (negation)" if f == "not" else f"{f}(...)"
        raise unsupported(construct, node.span)
    x = path + (0,)
    if f == "relu":            # step(relu(x)) = step(x): a compound x is not recomputed, the output is read
        return [(0, [(_call("step", ctx.value(x if isinstance(node.args[0], ir.Ref) else path)), False)])]
    if f == "sig":
        return _sigmoid(node, path, ctx)
    if f == "tanh":
        return [(0, [(_minus(ONE, ir.Power(ctx.value(path), ir.Num(2.0))), False)])]
    if f == "exp":
        return [(0, [(ctx.value(path), False)])]
    if f == "log":
        return [(0, [(ctx.value(x), True)])]
    if f == "sqrt":
        return [(0, [(ir.Num(0.5), False), *_reciprocal_or_zero(ctx.value(path))])]
    if f == "abs":
        v = ctx.value(x)
        return [(0, [(_minus(_call("step", v), _call("step", ir.Neg(v))), False)])]
    if f == "sin":
        return [(0, [(_call("cos", ctx.value(x)), False)])]
    return [(0, [(MINUS_ONE, False), (_call("sin", ctx.value(x)), False)])]          # cos


def _sigmoid(node: ir.Call, path: Path, ctx: Context) -> list[tuple[int, list[Factor]]]:
    """d sig(x, T)/dx = s (1 - s) / T; at T = 0 (a step) the derivative is zero."""
    s = ctx.value(path)
    factors = [(s, False), (_minus(ONE, s), False)]
    if len(node.args) == 1:
        return [(0, factors)]
    temperature = node.args[1]
    if not is_constant(temperature):
        raise unsupported("sig(x, T) with a temperature that reads a tensor or an index", node.span)
    if isinstance(temperature, ir.Num) and temperature.value == 0:
        return []
    return [(0, factors + [(temperature, True)])]


def _softmax(node: ir.Call, path: Path, ctx: Context, adjoint: list[Factor]) -> list[Factor]:
    """The argument's whole adjoint Y (dY - Σ_axes dY Y), with Y the softmax over the dotted indices."""
    y = ctx.value(path)
    g = ctx.adjoint(path, adjoint)
    kept = tuple(v for v in ctx.free(path) if v not in node.axes)
    total = ctx.materialise("sum", kept, ir.Product((g, y), (False, False)))
    return [(y, False), (_minus(g, total), False)]


def _lnorm(node: ir.Call, path: Path, ctx: Context, adjoint: list[Factor]) -> list[Factor]:
    """The argument's whole adjoint (dY - mean(dY) - Y mean(dY Y)) / sqrt(var + eps), means and the biased
    variance taken over the normalised indices, Y being the normalised value. The means count only the positions
    the forward normalised (``ones``: 1 where the equation's left-hand side and every read are in range, for some
    value of the indices outside the call): the adjoint can be wider (``lnorm(X[k - 1])`` leaves ``k = 0``), and so
    can the argument's reads (``lnorm(X[k + 1])`` reads ``X`` from ``k = -1``) and its materialised value
    (``lnorm(X[j - 1] + X[j])`` is 0 at ``j = 0``). Where the call is its equation's whole right-hand side over the
    equation's own positions (``rewritable``), the forward computes ``Y`` as ``centred * scale`` from the same
    tensors, so that the backward pass reads the forward's mean and variance instead of computing them again (the
    left-hand side's range is then the reads', and ``ones`` reads the reads alone: ``Y`` depends on it)."""
    every = ctx.free(path)
    kept = tuple(v for v in every if v not in node.axes)
    x = ctx.value(path + (0,))
    shared = ctx.rewritable(path)
    eq = ctx.equation
    lhs = ir.Ref(eq.lhs.name, tuple(replace(i, normalised=False) for i in eq.lhs.indices))
    reads = in_range(tuple(dict.fromkeys([*([] if shared else [lhs]), *ir.refs(eq.rhs)])), every)
    ones = ctx.materialise("ones", every, _call("step", ir.Product(reads, (False,) * len(reads))))
    count = _at_least_one(ctx.materialise("count", kept, ones))
    share = ctx.materialise("share", kept, ir.Product((ONE, count), (False, True)))    # 1 / count, made once
    mean = ctx.materialise("mean", kept, ir.Product((ones, x, share), (False, False, False)))
    centred = ctx.materialise("centred", every, _minus(x, mean))
    var = ctx.materialise("var", kept, ir.Product((ones, centred, centred, share), (False,) * 4))
    scale = ctx.materialise("scale", kept, ir.Product((ONE, _call("sqrt", ir.Sum((var, ir.Num(LNORM_EPS)), (1, 1)))),
                                                      (False, True)))
    if shared:
        ctx.rewrite(ir.Product((centred, scale), (False, False)))
    y = ctx.value(path)
    g = ctx.adjoint(path, adjoint)
    mean_g = ctx.materialise("mean_adjoint", kept, ir.Product((ones, g, share), (False, False, False)))
    mean_gy = ctx.materialise("mean_adjoint_value", kept, ir.Product((ones, g, y, share), (False,) * 4))
    deviation = ir.Sum((g, mean_g, ir.Product((y, mean_gy), (False, False))), (1, -1, -1))
    return [(deviation, False), (scale, False)]


def in_range(refs: tuple[ir.Ref, ...], keep: tuple[str, ...]) -> tuple[ir.Power, ...]:
    """``r^0`` for each read ``r`` of an equation: their product is 1 over the positions of ``keep`` that the reads
    allow together, as valid semantics bound them. An axis sharing no variable with ``keep``, directly or through
    other axes (``u`` in ``Y[j + u] Y[u]`` is tied to ``j``), cannot bound ``keep``: it reads a fresh variable of its
    own, summed over that read alone, so that an empty range of its variables (``u/2`` and ``u + 2`` on an axis of
    1, summed inside the forward's argument) does not leave ``keep`` no position, and no product over every read's
    indices is built (a transformer block's lnorm built a 4-index product per step for its ``ones``)."""
    tied, grown = set(keep), True
    while grown:
        grown = False
        for index in (i for r in refs for i in r.indices):
            if set(index.variables) & tied and not set(index.variables) <= tied:
                tied |= set(index.variables)
                grown = True
    taken = {v for r in refs for i in r.indices for v in i.variables} | tied
    carriers = []
    for r in refs:
        indices = []
        for index in r.indices:
            if set(index.variables) & tied or not index.variables:
                indices.append(index)
                continue
            name = index.variables[0] + "'"
            while name in taken:
                name += "'"
            taken.add(name)
            indices.append(ir.Index(((name, 1),)))
        carriers.append(ir.Power(replace(r, indices=tuple(indices)), ir.Num(0.0)))
    return tuple(carriers)


def _concat(node: ir.Call, ctx: Context) -> list[Factor]:
    """``M[.., d] = concat(X[.., h, e])`` flattens (h, e) into d: X's adjoint reads M's through a 0/1 selector
    ``select[h, e, d]`` that concat itself builds from a Kronecker delta ``eye[h, e, h', e']`` (the transpose of a
    reshape, as a contraction over d)."""
    arg = node.args[0]
    if not isinstance(arg, ir.Ref) or any(i.plain_variable is None for i in arg.indices):
        raise unsupported("concat(...) of anything but a plainly indexed tensor", node.span)
    lhs = [v for i in ctx.equation.lhs.indices for v in i.variables]
    flat = tuple(i.plain_variable for i in arg.indices if i.plain_variable not in lhs)
    merged = tuple(v for v in lhs if v not in {i.plain_variable for i in arg.indices})
    taken = set(lhs) | {i.plain_variable for i in arg.indices}
    primed = []
    for v in flat:
        name = v + "'"
        while name in taken:
            name += "'"
        taken.add(name)
        primed.append(name)
    ones = ctx.materialise("ones", flat, ir.Power(arg, ir.Num(0.0)))
    again = ir.Ref(ones.name, tuple(ir.Index(((v, 1),)) for v in primed))
    deltas = [_minus(ONE, _call("step", _call("abs", _minus(ir.IndexValue(v), ir.IndexValue(w)))))
              for v, w in zip(flat, primed)]
    eye = ctx.materialise("eye", flat + tuple(primed), ir.Product((ones, again, *deltas), (False,) * (2 + len(flat))))
    return [(ctx.materialise("select", flat + merged, _call("concat", eye)), False)]


def _pairwise(node: ir.Call, path: Path, ctx: Context) -> list[tuple[int, list[Factor]]]:
    """max(a, b): a's partial is step(a - b), b's is 1 - step(a - b) (a tie goes to b); min likewise."""
    a, b = ctx.value(path + (0,)), ctx.value(path + (1,))
    first = _call("step", _minus(a, b) if node.function == "max" else _minus(b, a))
    return [(0, [(first, False)]), (1, [(_minus(ONE, first), False)])]


def _every(lhs: ir.Ref, ctx: Context) -> tuple[str, ...]:
    """The left-hand side's variables, then the right-hand side's free ones: the positions a reduction ranges over."""
    return tuple(dict.fromkeys([v for i in lhs.indices for v in i.variables] + list(ctx.free(()))))


def average(eq: ir.Equation, lhs: ir.Ref, ctx: Context) -> list[Factor]:
    """The factor an ``avg=`` equation puts between its left-hand side's adjoint (read plainly as ``lhs``) and its
    right-hand side: one over the number of index combinations averaged (each window's, for a pooled ``M[x/2]``)."""
    carriers = [ir.Power(r, ir.Num(0.0)) for r in dict.fromkeys([lhs, *ir.refs(eq.rhs)])]
    ones = ctx.materialise("ones", _every(lhs, ctx), ir.Product(tuple(carriers), (False,) * len(carriers)))
    return [(_at_least_one(ctx.materialise("count", lhs.indices, ones)), True)]


def selected(eq: ir.Equation, lhs: ir.Ref, ctx: Context, guards: tuple[ir.Expr, ...] = ()) -> ir.Ref:
    """The 0/1 indicator, over the positions a ``max=``/``min=`` equation ranges over, of the contributions equal
    to the result (``lhs``), times the 0/1 ``guards`` (in a recursion: that the elements read were reached): the
    adjoint goes to them, shared equally between ties (divided by the number of indicators set, summed over every
    equation of the tensor)."""
    above = _minus(lhs, ctx.value(())) if eq.aggregator.reduction == "max" else _minus(ctx.value(()), lhs)
    chosen = _minus(ONE, _call("step", above))
    reads = tuple(dict.fromkeys(ir.refs(eq.rhs)))
    if any(i.plain_variable is None for r in reads for i in r.indices):
        # a shifted read makes the materialised value wider than the forward's positions (``X[i - 1]``: 0 at i = 0),
        # where a 0 could tie with the result: only the positions every read allows are candidates
        guards = (*(ir.Power(r, ir.Num(0.0)) for r in reads), *guards)
    if guards:
        chosen = ir.Product((chosen, *guards), (False,) * (1 + len(guards)))
    return ctx.materialise("argmax" if eq.aggregator.reduction == "max" else "argmin", _every(lhs, ctx), chosen)
