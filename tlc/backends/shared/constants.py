"""Tensors whose values depend on no input (only on the specialised shapes): computed once, when the emitted module
loads, instead of at every call of ``run``.

The gradient transform's carriers are such tensors: lnorm's ones and counts (``ones[b, p, d] = step(X[b, p, d]^0
...)``, ``share[b, p] = 1 / max(ones[b, p, d], 1)``) and concat's Kronecker delta and selector; a training step
recomputed them at every update. A stratum qualifies when each equation reads only ``X^0`` (1 for any ``X``),
numbers, ``const``s, index values and tensors that qualified before it, and none of its tensors is returned or
given data (``candidate``); its emitted code is then checked to read nothing but NumPy, the runtime and names it or
an earlier constant stratum defines (``reads_only``), else it stays in ``run``. The arrays are made read-only.
"""

from __future__ import annotations

import ast
import builtins

from tlc.ir import nodes as ir
from tlc.ir.program import Program

MODULES = frozenset({"np", "rt"})
"""The names emitted module-level code may read besides constants: NumPy and the runtime."""


def is_constant(expr: ir.Expr, program: Program, constants: set[str]) -> bool:
    """True when ``expr`` reads no input, scalar input or tensor other than ``constants`` (``X^0`` reads nothing)."""
    if ir.is_zero_power(expr):
        return True
    if isinstance(expr, ir.Ref):
        return expr.name in constants
    if isinstance(expr, ir.Scalar):
        return expr.name in program.consts
    if isinstance(expr, ir.Attention):
        return False
    return all(is_constant(child, program, constants) for child in ir.children(expr))


def candidate(program: Program, tensors: tuple[str, ...], equations: tuple[int, ...], supplied,
              constants: set[str]) -> bool:
    """True when a plain stratum defining ``tensors`` by ``equations`` computes values that depend on no input:
    numeric tensors, none returned or given data, each equation constant (``is_constant``)."""
    return all(not program.tensors[t].relation and not program.is_result(t) and t not in supplied
               and not program.virtual_axes.get(t) for t in tensors) \
        and all(is_constant(program.equations[k].rhs, program, constants) for k in equations)


def reads_only(lines: list[str], known: set[str]) -> set[str] | None:
    """The names the code ``lines`` assigns, when it reads nothing but ``MODULES``, builtins, ``known`` and names it
    assigned before; None otherwise (or when it is not straight-line code at module level)."""
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return None
    assigned: set[str] = set()
    for statement in tree.body:
        if not isinstance(statement, (ast.Assign, ast.AugAssign, ast.Expr)):
            return None
        value = statement.value
        targets = statement.targets if isinstance(statement, ast.Assign) else \
            [statement.target] if isinstance(statement, ast.AugAssign) else []
        read = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
        for target in targets:      # a subscript's array and index are read too
            read |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)} - \
                ({target.id} if isinstance(target, ast.Name) else set())
        if isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
            read.add(statement.target.id)
        if any(name not in MODULES and name not in known and name not in assigned and not hasattr(builtins, name)
               for name in read):
            return None
        assigned |= {t.id for t in targets if isinstance(t, ast.Name)}
    return assigned
