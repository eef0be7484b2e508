"""``einsum``: a drop-in for ``numpy.einsum`` whose contraction order tlc plans once per shape."""

from __future__ import annotations

from typing import Any

from tlc.einsum.errors import EinsumTypeError
from tlc.einsum.plan import plan_call
from tlc.einsum.run import NUMPY_DEFAULTS, as_arrays, evaluate
from tlc.einsum.subscripts import split_call


def einsum(*operands: Any, out: Any = None, dtype: Any = None, order: str = "K", casting: str = "safe",
           optimize: Any = True, **unknown: Any) -> Any:
    """Evaluate an Einstein summation exactly like ``numpy.einsum``, with a cached contraction plan."""
    if unknown:
        raise EinsumTypeError(f"einsum() got unknown keyword arguments {sorted(unknown)}")
    subscripts, operands = split_call(operands, numpy_labels=True)
    arrays = as_arrays(operands)
    options = {"dtype": dtype, "order": order, "casting": casting}
    pairwise = out is not None or options != NUMPY_DEFAULTS
    plan = plan_call(subscripts, tuple(a.shape for a in arrays), optimize, pairwise=pairwise)
    return evaluate(plan, arrays, out, options)
