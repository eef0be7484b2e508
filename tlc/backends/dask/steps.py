"""A planned contraction as pairwise steps: which operands each step of the path takes and which indices its
result keeps (those the output or an operand not yet contracted still needs)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One step of a contraction path: its operands' indices (one or two operands), the indices of its result,
    and whether it is the last step (its result is the contraction's value)."""

    operands: tuple[tuple[str, ...], ...]
    positions: tuple[int, ...]
    """The operands' positions in the list of values left before the step (opt_einsum's convention)."""
    result: tuple[str, ...]
    last: bool


def pairwise_steps(operands: list[tuple[str, ...]], output: tuple[str, ...], path) -> list[Step]:
    """The steps of ``path`` over ``operands`` (indices per operand) contracting to ``output``; a one-operand
    contraction with an empty path is one step."""
    terms = list(operands)
    path = [tuple(step) for step in path] or [tuple(range(len(terms)))]
    needed = Counter(v for term in terms for v in set(term))
    needed.update(set(output))
    steps = []
    for number, positions in enumerate(path):
        taken = [terms[k] for k in sorted(positions)]
        for k in sorted(positions, reverse=True):
            terms.pop(k)
        for term in taken:
            needed.subtract(set(term))
        last = number == len(path) - 1
        result = output if last else tuple(v for v in dict.fromkeys(v for t in taken for v in t) if needed[v] > 0)
        steps.append(Step(tuple(taken), tuple(sorted(positions)), result, last))
        terms.append(result)
        needed.update(set(result))
    return steps
