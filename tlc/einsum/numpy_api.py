"""``einsum``: a drop-in for ``numpy.einsum`` whose contraction order tlc plans once per shape."""

from __future__ import annotations

from typing import Any

import numpy as np

from tlc.einsum.errors import EinsumTypeError
from tlc.einsum.plan import contraction_plan, plan_call
from tlc.einsum.run import PLANNED_KINDS, as_arrays, evaluate
from tlc.einsum.subscripts import split_call

PLANNED = object()
"""``einsum``'s default ``optimize``: tlc's plan, taking numpy's loop-nest route where numpy's checks need it."""


def einsum(*operands: Any, out: Any = None, dtype: Any = None, order: str = "K", casting: str = "safe",
           optimize: Any = PLANNED, **unknown: Any) -> Any:
    """Evaluate an Einstein summation exactly like ``numpy.einsum``, with a cached contraction plan.

    ``optimize`` defaults to tlc's plan (numpy's default is one loop nest): the result is the same, and
    with ``out``, ``dtype``, ``order`` or ``casting`` numpy's loop-nest checks still apply (see
    :func:`_route`)."""
    if unknown:
        raise EinsumTypeError(f"einsum() got unknown keyword arguments {sorted(unknown)}")
    subscripts, operands = split_call(operands, numpy_labels=True)
    arrays = as_arrays(operands)
    shapes = tuple(a.shape for a in arrays)
    if out is None and dtype is None and order == "K" and casting == "safe":     # the common call, kept cheap
        plan = contraction_plan(subscripts, shapes) if optimize is PLANNED else plan_call(subscripts, shapes, optimize)
        return evaluate(plan, arrays, None, {})
    options = {"dtype": dtype, "order": order, "casting": casting}
    optimize, pairwise = _route(optimize, arrays, out, options)
    return evaluate(plan_call(subscripts, shapes, optimize, pairwise=pairwise), arrays, out, options)


def _route(optimize: Any, arrays: list[Any], out: Any, options: dict[str, Any]) -> tuple[Any, bool]:
    """``optimize`` and whether numpy's pairwise route must be kept, as numpy would run the call.

    numpy checks ``out``, ``dtype`` and ``casting`` differently on its two routes (its pairwise route writes a
    float result into an integer ``out``, its loop nest refuses). An explicit ``optimize`` other than False
    takes numpy's pairwise route; the default (numpy's loop nest) takes it only where numpy's loop nest
    would accept the call too, and numpy's loop nest (and its error) otherwise."""
    if optimize is not PLANNED:
        return optimize, True
    if isinstance(out, np.ndarray) and arrays and all(a.dtype.kind in PLANNED_KINDS for a in arrays):
        computed = np.result_type(*arrays) if options["dtype"] is None else _dtype(options["dtype"])
        if computed is None or not np.can_cast(computed, out.dtype, casting=options["casting"]):
            return False, False
    return True, False


def _dtype(dtype: Any) -> np.dtype | None:
    """``dtype`` as a numpy dtype, or None when numpy would refuse it (its own error is then raised)."""
    try:
        return np.dtype(dtype)
    except TypeError:
        return None
