"""Virtual indices (``*t``) for the gradient: the backward pass needs every step, so the trajectory is stored.

``State[i, *t+1] = f(State[j, *t], ...)`` keeps only the current step. The gradient program adds a stored copy,
``L_traj_State[i, t+1] = f(L_traj_State[j, t], ...)`` (the same equations with the marks dropped), computed once
beside the forward's own loop, and differentiates the program in which every virtual tensor is read through its
trajectory. Memory is the whole trajectory (steps x state), not a checkpointed fraction of it.
"""

from __future__ import annotations

from dataclasses import replace

from tlc.gradient.names import Namer
from tlc.ir import nodes as ir
from tlc.ir.program import Program


def _stored(expr: ir.Expr, renamed: dict[str, str]) -> ir.Expr:
    """``expr`` reading each renamed tensor through its trajectory, without the virtual marks."""
    if isinstance(expr, ir.Ref):
        if expr.name not in renamed:
            return expr
        return replace(expr, name=renamed[expr.name], indices=tuple(replace(i, virtual=False) for i in expr.indices))
    kids = ir.children(expr)
    return ir.with_children(expr, tuple(_stored(c, renamed) for c in kids)) if kids else expr


def store_trajectories(program: Program, loss: str, names: Namer) -> tuple[Program, dict[str, str], tuple]:
    """``(view, trajectories, stored)``: the program with each virtual tensor the loss depends on read through
    its stored trajectory (``view``), each such tensor -> its trajectory's name, and the trajectory's equations
    paired with the forward equations they copy."""
    import networkx as nx       # the gradient's graphs: not imported by ``import tlc``
    upstream = nx.ancestors(program.graph, loss)
    renamed = {name: names.fresh(f"{loss}_traj_{name}") for name in program.virtual_axes if name in upstream}
    if not renamed:
        return program, {}, ()
    rewrite = {eq: replace(eq, lhs=_stored(eq.lhs, renamed), rhs=_stored(eq.rhs, renamed)) for eq in program.equations}
    view = replace(program, statements=tuple(rewrite.get(s, s) for s in program.statements))
    stored = tuple((rewrite[eq], eq) for eq in program.equations if eq.lhs.name in renamed)
    return view, renamed, stored
