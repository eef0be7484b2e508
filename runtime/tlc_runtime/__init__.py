"""tlc_runtime: the support library that code emitted by tlc imports (it never imports tlc itself)."""

from tlc_runtime.errors import DataFileError, RuntimeFailure
from tlc_runtime.ops import (
    align, as_number, gather, lnorm, negate, relu, scatter, sig, softmax, step, window,
)
from tlc_runtime.relation import Relation
from tlc_runtime.sparse import Tuples

__all__ = ["DataFileError", "RuntimeFailure", "Relation", "Tuples", "align", "as_number", "gather", "lnorm", "negate", "relu", "scatter",
           "sig", "softmax", "step", "window"]
