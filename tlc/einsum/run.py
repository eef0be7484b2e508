"""Evaluate a planned call: ``numpy.einsum`` along the plan's path, or opt_einsum's stepwise evaluation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import opt_einsum

from tlc.einsum.errors import numpy_error
from tlc.einsum.plan import Plan

PLANNED_KINDS = "biufc"
"""dtype kinds tlc plans (Boolean and numbers); others (object, strings, dates) run numpy's one loop nest."""
NUMPY_DEFAULTS = {"dtype": None, "order": "K", "casting": "safe"}
"""``numpy.einsum``'s defaults for the options it passes to each step."""


def evaluate(plan: Plan, arrays: Sequence[np.ndarray], out: Any, options: dict[str, Any]) -> Any:
    """Run ``plan`` on ``arrays`` with numpy's ``out``/``dtype``/``order``/``casting`` semantics.

    ``options`` holds ``dtype``, ``order`` and ``casting`` when the call gave any (empty otherwise)."""
    if out is not None:
        options = {**options, "out": out}
    try:
        if plan.equation is None:       # more labels than numpy.einsum has letters: renamed step by step
            given = {k: v for k, v in options.items() if k != "out" and v != NUMPY_DEFAULTS[k]}
            result = opt_einsum.contract(plan.subscripts.equation, *arrays, optimize=list(plan.pairs), out=out,
                                         use_blas=not given, backend="numpy", **given)
        elif any(a.dtype.kind not in PLANNED_KINDS for a in arrays):
            result = np.einsum(plan.equation, *arrays, **options)   # object arrays sum Python objects
        else:
            if options.get("dtype") is None and arrays and any(a.dtype != arrays[0].dtype for a in arrays):
                # numpy's one-loop einsum computes in the common type; casting first keeps pairwise
                # intermediates (say int8 * int8 before a float operand) from overflowing.
                dtype = np.result_type(*arrays)
                arrays = [a.astype(dtype, copy=False) for a in arrays]
            result = np.einsum(plan.equation, *arrays, optimize=plan.path, **options)
    except (TypeError, ValueError, ArithmeticError) as err:     # what numpy.einsum refuses, as it words it
        raise numpy_error(err) from err
    return result[()] if out is None and isinstance(result, np.ndarray) and result.ndim == 0 else result


def as_arrays(operands: Sequence[Any]) -> list[np.ndarray]:
    """The operands as NumPy arrays (arrays and their subclasses as given)."""
    try:
        return [op if isinstance(op, np.ndarray) else np.asarray(op) for op in operands]
    except Exception as err:    # ragged lists, or an operand's own __array__ failed
        raise numpy_error(err) from err
