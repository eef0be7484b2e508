"""Which pairwise order a call contracts in: tlc's search, an opt_einsum strategy, or the caller's own path.

``optimize`` takes every form numpy and opt_einsum take: ``True``/``None``/``'auto'`` (tlc's search),
``False`` (one loop nest), a strategy name (opt_einsum's), numpy's ``(name, memory_limit)`` tuple, an
explicit path (opt_einsum's list of tuples or numpy's ``['einsum_path', ...]``), or an opt_einsum
``PathOptimizer``. ``memory_limit`` has opt_einsum's meaning: no intermediate of the path may be larger.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Hashable, Sequence
from decimal import Decimal
from typing import Any

from opt_einsum import paths as oe_paths

from tlc.contract import contract_path as tlc_contract_path
from tlc.einsum.errors import EinsumOptimizeError, EinsumPathError, EinsumTypeError
from tlc.einsum.subscripts import Subscripts
from tlc.errors import EinsumError

Path = tuple[tuple[int, ...], ...]


def memory_cap(memory_limit: Any, shapes: Sequence[tuple[int, ...]], output_size: int) -> int | None:
    """opt_einsum's ``memory_limit``: None or -1 for none, ``'max_input'``, or a positive number of elements."""
    if memory_limit is None or (isinstance(memory_limit, numbers.Real) and memory_limit == -1):
        return None
    if isinstance(memory_limit, str):
        if memory_limit == "max_input":
            return max([math.prod(s) for s in shapes] + [output_size])
        raise EinsumError(f"memory_limit must be None, a number of elements or 'max_input', not {memory_limit!r}")
    if isinstance(memory_limit, bool) or not isinstance(memory_limit, (numbers.Real, Decimal)):
        raise EinsumTypeError(f"memory_limit must be None, a number of elements or 'max_input', not {memory_limit!r}")
    if memory_limit < 1:
        raise EinsumError(f"memory_limit must be at least 1 element, or -1 for no limit, not {memory_limit!r}")
    return int(memory_limit)


def optimize_key(optimize: Any) -> Hashable:
    """``optimize`` as a cache key: explicit paths as tuples of tuples, numpy's tuple form kept as is."""
    if optimize is None:
        return True
    if isinstance(optimize, (bool, str, oe_paths.PathOptimizer)):
        return optimize
    if isinstance(optimize, (list, tuple)):
        if len(optimize) == 2 and isinstance(optimize[0], str) and optimize[0] != "einsum_path":
            return (optimize[0], optimize[1])      # numpy's (strategy, memory limit)
        steps = optimize[1:] if optimize and optimize[0] == "einsum_path" else optimize
        try:
            return tuple(tuple(map(operator.index, step)) for step in steps)
        except TypeError:
            pass
    raise EinsumTypeError(
        f"optimize={optimize!r} is not a bool, a strategy name, a (name, memory_limit) pair, a path or a"
        " PathOptimizer"
    )


def choose_path(subs: Subscripts, shapes: tuple[tuple[int, ...], ...], optimize: Hashable,
                cap: int | None, time_budget: float | None = None, seed: int = 0) -> tuple[Path, str]:
    """The pairwise path for ``subs`` (opt_einsum's format) and the name of what chose it."""
    n = len(subs.terms)
    if optimize is False:
        return (tuple(range(n)),), "single loop nest"
    if isinstance(optimize, tuple) and optimize and isinstance(optimize[0], str):
        name, limit = optimize
        return _opt_einsum_path(subs, name, _numpy_limit(limit)), name
    if isinstance(optimize, tuple):
        return _checked(optimize, n), "given path"
    if n <= 2:
        return (tuple(range(n)),), "trivial"
    if optimize is True or optimize == "auto":
        path, info = tlc_contract_path(subs.equation, *shapes, shapes=True, time_budget=time_budget, seed=seed)
        if cap is None or info.largest_intermediate <= cap:
            return tuple(map(tuple, path)), info.strategy
        return _opt_einsum_path(subs, "auto", cap), "auto (opt_einsum, within memory_limit)"
    return _opt_einsum_path(subs, optimize, cap), optimize if isinstance(optimize, str) else type(optimize).__name__


def _numpy_limit(limit: Any) -> int:
    """numpy's memory limit in a ``(name, limit)`` optimize tuple: any number of elements, 0 included."""
    if isinstance(limit, bool) or not isinstance(limit, numbers.Real):
        raise EinsumTypeError(f"the memory limit in optimize=(name, limit) must be a number, not {limit!r}")
    return int(limit)


def _opt_einsum_path(subs: Subscripts, optimize: Any, cap: int | None) -> Path:
    """The path an opt_einsum strategy (a name or a ``PathOptimizer``) finds within ``cap``."""
    n = len(subs.terms)
    if n <= 2:
        return (tuple(range(n)),)
    if isinstance(optimize, str):
        try:
            search = oe_paths.get_path_fn(optimize)
        except KeyError as err:
            raise EinsumOptimizeError(f"invalid optimize={optimize!r}: {err.args[0]}") from None
    elif isinstance(optimize, oe_paths.PathOptimizer):
        search = optimize
    else:
        raise EinsumTypeError(f"optimize={optimize!r} is not a bool, a strategy name, a path or a PathOptimizer")
    try:
        path = search([frozenset(t) for t in subs.terms], frozenset(subs.output), dict(subs.sizes), cap)
    except RuntimeError as err:     # 'dp' finds nothing within the memory limit
        raise EinsumPathError(f"optimize={optimize!r} found no contraction path within memory_limit={cap}: {err}"
                              ) from None
    return _checked(tuple(tuple(step) for step in path), n)


def _checked(path: Path, n: int) -> Path:
    """``path`` when it contracts ``n`` operands to one; a clear error naming the first wrong step otherwise."""
    alive = n
    for k, step in enumerate(path):
        if not step or len(set(step)) != len(step) or any(not 0 <= i < alive for i in step):
            raise EinsumPathError(
                f"contraction path step {k} {step} must name distinct operands among the {alive} left"
                f" (0 to {alive - 1})"
            )
        alive -= len(step) - 1
    if alive != 1:
        raise EinsumPathError(
            f"the contraction path {list(path)} leaves {alive} operands uncontracted; a complete path ends with"
            f" one operand (add a step such as {tuple(range(alive))})"
        )
    return path
