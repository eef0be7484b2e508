"""Pass ``fuse``: inline an intermediate into its only reader, so a chain of equations becomes one.

``H[i] = W[i, j] X[j] + B[i]`` followed by ``Y[i] = relu(H[i])`` becomes ``Y[i] = relu(W[i, j] X[j] + B[i])``
when ``H`` is not a result (see ``Program.is_result``: only with ``outputs=`` does a program have
intermediates). A backend that fuses within an equation (LLVM: one kernel per equation) then computes the chain
without storing ``H``; the NumPy backend saves the intermediate array.

An intermediate qualifies when one plain (non-recursive) equation with ``=`` defines it over distinct plain
variables, it is not a relation, a declared shape or an input, no softmax/lnorm/concat or index value appears in
its right-hand side, its reads define every element of its extent (no read shifted down, which would leave a hole
that reads as 0) and start where it does (a read shifted up, valid from -1, only where the reader keeps that variable
on its left-hand side), and exactly one reference in the program reads it, at distinct plain variables, from an
equation that is not recursive. The inlined copy renames the definition's summed variables apart, and the fusion
is kept only if every index is still summed where it was, or (for a sum the reader did right at the read) further
down through plain product factors, which distributivity makes the same sum: the projection rule depends on the
enclosing products, and this check keeps the result the same.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import ClassVar

from tlc.ir import nodes as ir
from tlc.ir.program import Program
from tlc.analysis.projection import analyse, occurrences
from tlc.analysis.strata import Mode, stratify


_ARITHMETIC = (ir.Ref, ir.Num, ir.Scalar, ir.Product, ir.Sum, ir.Neg, ir.Power, ir.Call)
_FUNCTIONS = ir.ELEMENTWISE | ir.PAIRWISE


def fuse(program: Program) -> Program:
    """Inline intermediates read once into their reader (elementwise chains join the producing contraction)."""
    while True:
        fused = _fuse_one(program)
        if fused is None:
            return program
        program = fused


def _fuse_one(program: Program) -> Program | None:
    """The program with one intermediate inlined, or None when none qualifies."""
    plain = {k for s in stratify(program) if s.mode is Mode.PLAIN for k in s.equations}
    reads = Counter(ref.name for ref in program.references) - Counter(eq.lhs.name for eq in program.equations)
    for k, eq in enumerate(program.equations):
        if k not in plain or not _plain_arithmetic(eq.rhs):
            continue
        for path, ref in ir.with_paths(eq.rhs):
            if not isinstance(ref, ir.Ref) or reads[ref.name] != 1:
                continue
            definition = _inlinable(program, ref, plain)
            if definition is None:
                continue
            rhs = _inline(eq, path, ref, program.equations[definition])
            if rhs is not None:
                return _rewrite(program, k, replace(eq, rhs=rhs), definition)
    return None


def _inlinable(program: Program, ref: ir.Ref, plain: set[int]) -> int | None:
    """The number of the equation defining ``ref``'s tensor if it may be inlined at ``ref``."""
    name = ref.name
    defining = program.defining(name)
    if len(defining) != 1 or defining[0] not in plain or program.is_result(name) or name in program.shapes:
        return None
    eq = program.equations[defining[0]]
    if eq.fact or eq.lhs.relation or eq.aggregator.reduction != "sum":
        return None
    if not _distinct_plain(eq.lhs.indices) or not _distinct_plain(ref.indices):
        return None
    if not _plain_arithmetic(eq.rhs) or not _defines_its_extent(eq):
        return None
    return defining[0]


def _defines_its_extent(eq: ir.Equation) -> bool:
    """True when ``eq`` defines every element of its left-hand side's extent, as far as its reads can tell.

    An equation defines an element only where all its shifted reads are in range; ``T[q] = X[q - 1]`` leaves
    ``T[0]`` undefined, so ``T`` reads 0 there while the inlined ``X[k - 1]`` would leave the reader's element
    undefined too (``Y[k] = T[k] + 1`` gives ``Y[0] = 1`` unfused and 0 fused). A read defines every element
    from 0 on when its one variable has a positive coefficient and the offset is not negative (``q + 1``, ``v/2``;
    ``q + 1`` is valid from -1 too, which ``_shifts_below_zero`` weighs where it is inlined). A read
    of several variables (``x + dx``, a convolution) ends its valid range early (the output is ``Image - Filter +
    1``), which the reader's own ranges would not see once inlined. Any other read may leave a hole, so such a
    definition is not inlined. Every left-hand variable must also occur
    on the right, or its extent comes from elsewhere.
    """
    for ref in ir.refs(eq.rhs):
        for index in ref.indices:
            if index.offset < 0 or any(coef <= 0 for _, coef in index.terms) or len(index.terms) > 1:
                return False
    used = {v for _, v in occurrences(eq.rhs)}
    return all(v in used for i in eq.lhs.indices for v in i.variables)


def _plain_arithmetic(expr: ir.Expr) -> bool:
    """True when ``expr`` is built of reads, numbers, arithmetic and elementwise functions only."""
    return all(isinstance(n, _ARITHMETIC) and not (isinstance(n, ir.Call) and n.function not in _FUNCTIONS)
               for n in ir.walk(expr))


def _distinct_plain(indices: tuple[ir.Index, ...]) -> bool:
    variables = [i.plain_variable for i in indices]
    return all(variables) and len(set(variables)) == len(variables) and not any(i.virtual for i in indices)


def _inline(reader: ir.Equation, path: tuple[int, ...], ref: ir.Ref, definition: ir.Equation) -> ir.Expr | None:
    """``reader``'s right-hand side with ``definition``'s body at ``path``, if every sum stays where it was."""
    used = {v for _, v in occurrences(reader.rhs)} | {v for i in reader.lhs.indices for v in i.variables}
    names = {i.plain_variable: r.plain_variable for i, r in zip(definition.lhs.indices, ref.indices)}
    for v in dict.fromkeys(v for _, v in occurrences(definition.rhs)):
        if v not in names:
            fresh, n = v, 0
            while fresh in used or fresh in names.values():
                n += 1
                fresh = f"{v}{n}"
            names[v] = fresh
    if _shifts_below_zero(definition, names, reader):
        return None
    body = ir.rename_variables(definition.rhs, names)
    rhs = ir.replace_at(reader.rhs, path, body)
    inner, before = analyse(definition), analyse(reader)
    if before.reduced:          # max=/min=/avg= would reduce the definition's summed indices too
        return None
    expected = {v: p for p, vs in before.summed_at.items() for v in vs}      # the reader's sums stay put, and
    expected.update({names[v]: path + p for p, vs in inner.summed_at.items() for v in vs})  # so do the definition's
    after = analyse(replace(reader, rhs=rhs))
    moved = {v: p for p, vs in after.summed_at.items() for v in vs}
    if after.reduced or moved.keys() != expected.keys():
        return None
    if all(moved[v] == spot or spot == path and _through_factors(rhs, spot, moved[v]) for v, spot in expected.items()):
        return rhs
    return None


def _shifts_below_zero(definition: ir.Equation, names: dict, reader: ir.Equation) -> bool:
    """True when a read of ``definition`` shifts one of its left-hand variables up (``X[q + 1]``, valid from q = -1)
    and the reader's variable in its place is not a plain variable of the reader's left-hand side. The definition's
    positions start at 0, but once inlined only the reads bound that variable, so it would take -1 too:
    ``T1[i, j] = X1[i, j + 1, k]`` read as ``T1[i, k]`` with k summed gave X1[i, 0, :] fused where T1 is empty (the
    differential campaign's TLC_FUZZ_SEED=123352394). A plain variable of the reader's left-hand side starts at 0
    there too."""
    lhs = {v for i in definition.lhs.indices for v in i.variables}
    kept = {i.plain_variable for i in reader.lhs.indices if i.plain_variable}
    return any(index.offset > 0 and any(v in lhs and names[v] not in kept for v, _ in index.terms)
               for ref in ir.refs(definition.rhs) for index in ref.indices)


def _through_factors(rhs: ir.Expr, outer: tuple[int, ...], inner: tuple[int, ...]) -> bool:
    """True when ``inner`` lies below ``outer`` through plain (not inverted) product factors only, so a sum at
    ``outer`` equals the same sum at ``inner`` (the other factors do not depend on its index)."""
    if inner[:len(outer)] != outer:
        return False
    for depth in range(len(outer), len(inner)):
        node = ir.node_at(rhs, inner[:depth])
        if not isinstance(node, ir.Product) or node.inverted[inner[depth]]:
            return False
    return True


def _rewrite(program: Program, k: int, reader: ir.Equation, definition: int) -> Program:
    """``program`` with equation ``k`` replaced by ``reader`` and equation ``definition`` removed."""
    statements, n = [], 0
    for stmt in program.statements:
        if isinstance(stmt, ir.Equation):
            if n != definition:
                statements.append(reader if n == k else stmt)
            n += 1
        else:
            statements.append(stmt)
    return replace(program, statements=tuple(statements))


@dataclass(frozen=True)
class Fuse:
    """The ``fuse`` pass: inline intermediates read once into their reader (elementwise chains join the producing contraction)."""

    name: ClassVar[str] = "fuse"

    def run(self, program: Program) -> Program:
        """The rewritten program."""
        return fuse(program)
