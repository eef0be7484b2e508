"""Pass ``fold-constants``: drop identity operations and fold arithmetic on literals.

Removes ``x * 1``, ``x / 1``, ``x + 0``, ``x - 0``, ``x ^ 1`` and ``--x``, and folds literal arithmetic
whose result is a finite non-negative number (a negative literal is not a source form). A product is
never reduced to a lone non-reference factor, since that would move where its projected indices are
summed (the projection rule stops at products and references).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import ClassVar

from tlc.ir import nodes as ir
from tlc.ir.program import Program


def _literal(value: float) -> ir.Num | None:
    return ir.Num(value) if math.isfinite(value) and value >= 0 else None


def _fold(expr: ir.Expr) -> ir.Expr:
    """``expr`` folded; ``expr`` itself when nothing in it folds."""
    children = ir.children(expr)
    folded = tuple(_fold(c) for c in children)
    if any(new is not old for new, old in zip(folded, children)):
        expr = ir.with_children(expr, folded)
    if isinstance(expr, ir.Neg) and isinstance(expr.operand, ir.Neg):
        return expr.operand.operand
    if isinstance(expr, ir.Power) and isinstance(expr.exponent, ir.Num):
        if expr.exponent.value == 1:
            return expr.base
        if isinstance(expr.base, ir.Num):
            try:
                return _literal(expr.base.value ** expr.exponent.value) or expr
            except (OverflowError, ZeroDivisionError):
                return expr
    if isinstance(expr, ir.Sum):
        kept = [(t, s) for t, s in zip(expr.terms, expr.signs) if not (isinstance(t, ir.Num) and t.value == 0)]
        if all(isinstance(t, ir.Num) for t, _ in kept) and kept and all(math.isfinite(t.value) for t, _ in kept):
            folded = _literal(math.fsum(s * t.value for t, s in kept))
            if folded is not None:
                return replace(folded, span=expr.span)
        if not kept:
            return ir.Num(0.0, span=expr.span)
        if len(kept) == 1 and kept[0][1] > 0:
            return kept[0][0]
        if len(kept) == len(expr.terms):
            return expr
        return replace(expr, terms=tuple(t for t, _ in kept), signs=tuple(s for _, s in kept))
    if isinstance(expr, ir.Product):
        pairs = list(zip(expr.factors, expr.inverted))
        numbers = [(f, inv) for f, inv in pairs if isinstance(f, ir.Num)]
        if len(numbers) == len(pairs):
            value = 1.0
            for f, inv in numbers:
                if inv and f.value == 0:
                    return expr
                value = value / f.value if inv else value * f.value
            return replace(_literal(value), span=expr.span) if _literal(value) else expr
        kept = [(f, inv) for f, inv in pairs if not (isinstance(f, ir.Num) and f.value == 1)]
        if len(kept) == 1 and not kept[0][1] and isinstance(kept[0][0], (ir.Ref, ir.Product)):
            return kept[0][0]
        if len(kept) >= 2 and len(kept) < len(pairs):
            return replace(expr, factors=tuple(f for f, _ in kept), inverted=tuple(i for _, i in kept))
    return expr


def fold_constants(program: Program) -> Program:
    """Remove identity operations and fold literal arithmetic in every equation (``program`` itself, with what is
    known of it, when nothing folds)."""
    statements = tuple(_fold_statement(s) for s in program.statements)
    if all(new is old for new, old in zip(statements, program.statements)):
        return program
    return replace(program, statements=statements)


def _fold_statement(statement: ir.Statement) -> ir.Statement:
    if not isinstance(statement, ir.Equation) or statement.fact:
        return statement
    rhs = _fold_or_keep(statement.rhs)
    return statement if rhs is statement.rhs else replace(statement, rhs=rhs)


def _fold_or_keep(expr: ir.Expr) -> ir.Expr:
    """Fold an expression, leaving one too deeply nested to walk as it is (folding is optional)."""
    try:
        return _fold(expr)
    except RecursionError:
        return expr


@dataclass(frozen=True)
class FoldConstants:
    """The ``fold-constants`` pass: remove identity operations and fold literal arithmetic in every equation."""

    name: ClassVar[str] = "fold-constants"

    def run(self, program: Program) -> Program:
        """The rewritten program."""
        return fold_constants(program)
