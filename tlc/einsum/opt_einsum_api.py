"""``contract`` and ``contract_path``: drop-ins for opt_einsum's, planned by tlc and cached per shape.

The path comes from :func:`~tlc.einsum.plan.contraction_plan`; the evaluation is opt_einsum's own along that
explicit path (so ``use_blas``, ``out``, ``dtype``, ``order`` and ``casting`` mean what they mean there).
Only NumPy-family backends run here (``'auto'`` on NumPy arrays, ``'numpy'``, ``'object'``); another array
library's backend is refused with a pointer to ``opt_einsum.contract``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import opt_einsum
from opt_einsum.contract import PathInfo as OptEinsumPathInfo
from opt_einsum.contract import infer_backend

from tlc.contract import given_shapes
from tlc.einsum.errors import EinsumTypeError, numpy_error
from tlc.einsum.plan import Plan, plan_call
from tlc.einsum.run import as_arrays
from tlc.einsum.subscripts import split_call
from tlc.errors import EinsumError

NUMPY_BACKENDS = ("numpy", "object")
"""opt_einsum backends this drop-in runs (``'auto'`` picks one of them from NumPy operands)."""


class PathInfo(OptEinsumPathInfo):
    """opt_einsum's ``PathInfo`` (its attributes and, unchanged, its printed table) plus ``strategy``, what
    chose the path (a tlc search strategy, an opt_einsum strategy, or ``'given path'``)."""

    def __init__(self, report: OptEinsumPathInfo, strategy: str) -> None:
        super().__init__(report.contraction_list, report.input_subscripts, report.output_subscript, report.indices,
                         report.path, report.scale_list, report.naive_cost, report.opt_cost, report.size_list,
                         report.size_dict)
        self.strategy = strategy


def contract_path(*operands: Any, use_blas: bool = True, optimize: Any = True, memory_limit: Any = None,
                  shapes: bool = False, time_budget: float | None = None, seed: int = 0,
                  **unknown: Any) -> tuple[list[tuple[int, ...]], PathInfo]:
    """``(path, info)`` for a contraction, as ``opt_einsum.contract_path`` returns them, found by tlc.

    ``time_budget`` (seconds, 0 for opt_einsum's greedy path) and ``seed`` steer tlc's own search
    (``optimize=True`` or ``'auto'``)."""
    if unknown:
        raise EinsumTypeError(f"contract_path() got unknown keyword arguments {sorted(unknown)}")
    subscripts, operands = split_call(operands, numpy_labels=False)
    shape_list = given_shapes(operands, EinsumTypeError) if shapes else tuple(a.shape for a in as_arrays(operands))
    plan = plan_call(subscripts, shape_list, optimize, memory_limit, *_search(time_budget, seed))
    return list(plan.pairs), path_info(plan, shape_list, use_blas)


def contract(*operands: Any, out: Any = None, use_blas: bool = True, optimize: Any = True, memory_limit: Any = None,
             backend: Any = "auto", **options: Any) -> Any:
    """Evaluate an Einstein summation like ``opt_einsum.contract``, along tlc's cached plan.

    ``options`` are numpy's ``dtype``, ``order`` and ``casting``, passed to every step as opt_einsum does;
    with any of them the steps are all ``numpy.einsum`` calls (opt_einsum's BLAS steps refuse them)."""
    subscripts, operands = split_call(operands, numpy_labels=False)
    backend = _backend(backend, operands)
    arrays = as_arrays(operands)
    plan = plan_call(subscripts, tuple(a.shape for a in arrays), optimize, memory_limit)
    unknown = sorted(set(options) - {"dtype", "order", "casting"})
    if unknown:     # after planning, as opt_einsum checks them
        raise EinsumTypeError(f"contract() got unknown keyword arguments {unknown}")
    try:
        return opt_einsum.contract(plan.subscripts.equation, *arrays, optimize=list(plan.pairs), out=out,
                                   use_blas=bool(use_blas) and not options, backend=backend, **options)
    except (TypeError, ValueError, ArithmeticError) as err:
        raise numpy_error(err) from err


def path_info(plan: Plan, shapes: tuple[tuple[int, ...], ...], use_blas: bool = True) -> PathInfo:
    """opt_einsum's report on ``plan``'s path (costs, sizes, the printed table), with tlc's strategy."""
    _, report = opt_einsum.contract_path(plan.subscripts.equation, *shapes, shapes=True, optimize=list(plan.pairs),
                                         use_blas=bool(use_blas))
    return PathInfo(report, plan.strategy)


def _backend(backend: Any, operands: tuple[Any, ...]) -> str:
    """The NumPy-family backend to run, or a clear error for another array library."""
    if backend in (None, "auto"):
        for k, op in enumerate(operands):
            library = infer_backend(op)
            if library not in ("numpy", "builtins") and not isinstance(op, (np.ndarray, np.generic)):
                raise EinsumError(
                    f"operand {k} is a {type(op).__module__}.{type(op).__name__}, not a NumPy array; tlc evaluates"
                    " NumPy arrays only (use opt_einsum.contract for other array libraries)"
                )
        return "numpy"
    if backend not in NUMPY_BACKENDS:
        raise EinsumError(
            f"backend={backend!r} is not one tlc runs; tlc evaluates NumPy arrays only (backend 'auto', 'numpy'"
            " or 'object'); use opt_einsum.contract for other array libraries"
        )
    return backend


def _search(time_budget: Any, seed: Any) -> tuple[float | None, int]:
    """tlc's search options, checked."""
    if time_budget is not None and (
        isinstance(time_budget, bool) or not isinstance(time_budget, numbers.Real) or not time_budget >= 0
    ):
        raise EinsumError(f"time_budget must be a number of seconds >= 0 or None, not {time_budget!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise EinsumTypeError(f"seed must be an integer, not {seed!r}")
    return (None if time_budget is None else float(time_budget)), int(seed)
