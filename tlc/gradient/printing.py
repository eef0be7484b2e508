"""Print a gradient program as Tensor Logic source, each backward equation under a comment naming the
forward equation (and its line) it comes from."""

from __future__ import annotations

from tlc.gradient.transform import Gradient
from tlc.ir import nodes as ir
from tlc.ir.printer import format_equation, format_statement


def format_gradient(gradient: Gradient, loss: str) -> str:
    """The forward program, then the backward equations grouped by the forward equation they derive from."""
    statements = gradient.program.statements
    consts = frozenset(s.name for s in statements if isinstance(s, ir.Const))
    forward = statements[:len(statements) - len(gradient.origins)]
    lines = [format_statement(s, consts) for s in forward]
    pairs = ", ".join(f"{name} -> {grad}" for name, grad in gradient.gradients.items())
    lines += ["", f"# gradient of {loss}: {pairs}"]
    previous: object = ()
    for eq, origin in gradient.origins:
        if origin is not previous:
            if origin is None:
                lines.append(f"# zero: {loss} does not depend on {eq.lhs.name}'s tensor")
            else:
                where = f"line {origin.span.line}: " if origin.span else ""
                stored = "the stored trajectory " if eq.lhs.name in gradient.trajectories.values() else \
                    "which elements are reached (1) or not (0), " if eq.lhs.name in gradient.reached.values() else ""
                lines.append(f"# {stored}from {where}{format_equation(origin, consts)}")
            previous = origin
        lines.append(format_equation(eq, consts))
    return "".join(line + "\n" for line in lines)
