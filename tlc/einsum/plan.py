"""``contraction_plan``: everything one (subscripts, shapes, optimize, memory_limit) call needs, cached."""

from __future__ import annotations

import functools
import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from opt_einsum.paths import PathOptimizer

from tlc.einsum.errors import EinsumTypeError
from tlc.einsum.paths import Path, choose_path, memory_cap, optimize_key
from tlc.einsum.subscripts import Subscripts, parse


@dataclass(frozen=True, slots=True)
class Plan:
    """How one call runs: ``numpy.einsum(equation, *ops, optimize=path)`` when ``equation`` is set."""

    subscripts: Subscripts
    """The call's checked subscripts in its own labels."""
    equation: str | None
    """The explicit equation in letters ``numpy.einsum`` accepts, or None with more than 52 labels."""
    path: tuple[Any, ...] | bool
    """``pairs`` as numpy's ``('einsum_path', (i, j), ...)``, or False for one loop nest."""
    pairs: Path
    """The pairwise order in opt_einsum's format (what ``contract_path`` returns)."""
    strategy: str
    """What chose ``pairs``: tlc's search strategy, an opt_einsum strategy, or ``'given path'``."""


@functools.lru_cache(maxsize=1024)
def contraction_plan(subscripts: str, shapes: tuple[tuple[int, ...], ...], optimize: Hashable = True,
                     memory_limit: Hashable = None, time_budget: float | None = None, seed: int = 0,
                     pairwise: bool = False) -> Plan:
    """Check ``subscripts`` against ``shapes`` and plan the call; a repeated call is a cache hit.

    ``time_budget`` and ``seed`` steer tlc's own search (see ``tlc.contract.contract_path``). ``pairwise``
    keeps numpy's route for ``optimize != False`` even when one loop nest would be faster: numpy's
    ``out=``/``dtype=``/``casting=`` checks differ between its two routes (its pairwise route writes a
    float result into an integer ``out``, its loop nest refuses), and a drop-in follows the route numpy takes."""
    subs = parse(subscripts, shapes)
    cap = memory_cap(memory_limit, shapes, math.prod(subs.sizes[c] for c in subs.output))
    pairs, strategy = choose_path(subs, shapes, optimize, cap, time_budget, seed)
    equation = subs.in_letters()
    # One c_einsum loop nest over every index beats a planned call's 10-20 us overhead below about
    # 2**14 points for two operands (numpy has SIMD kernels for them), and each further operand
    # slows the nest down (measured crossovers ~2**12 for three, ~2**11 for four); one operand always.
    # A loop nest builds no intermediate, so it also meets any memory limit.
    small = math.prod(subs.sizes.values()) * (len(shapes) - 1) ** 2 <= 2**14
    path = False if optimize is False or (small and not pairwise) else ("einsum_path", *pairs)
    return Plan(subs, equation, path, pairs, strategy)


def plan_call(subscripts: str, shapes: tuple[tuple[int, ...], ...], optimize: Any, memory_limit: Any = None,
              time_budget: float | None = None, seed: int = 0, pairwise: bool = False) -> Plan:
    """The cached plan of a call; a ``PathOptimizer`` (which may learn from every call) plans afresh each time."""
    try:
        hash(memory_limit)
    except TypeError:
        raise EinsumTypeError(
            f"memory_limit must be None, a number of elements or 'max_input', not {memory_limit!r}") from None
    plan = contraction_plan.__wrapped__ if isinstance(optimize, PathOptimizer) else contraction_plan
    return plan(subscripts, shapes, optimize_key(optimize), memory_limit, time_budget, seed, pairwise)
