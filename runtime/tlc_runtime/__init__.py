"""tlc_runtime: the support library that code emitted by tlc imports (it never imports tlc itself)."""

from tlc_runtime.attention import AttentionReport, attention
from tlc_runtime.batched import flat, split
from tlc_runtime.contraction import contract
from tlc_runtime.errors import DataFileError, RuntimeFailure
from tlc_runtime.fixpoint import Fixpoint, round_limit
from tlc_runtime.ops import (
    align, as_number, gather, lnorm, merged, negate, owned, relu, scatter, sig, softmax, step, unmerged, window,
)
from tlc_runtime.progress import SemiNaiveProgress
from tlc_runtime.relation import PRINT_THRESHOLD, Relation
from tlc_runtime.semiring import Weights
from tlc_runtime.sliced import contract_sliced
from tlc_runtime.symbols import symbol_table
from tlc_runtime.sparse import Tuples
from tlc_runtime.workspace import Workspace, into

__all__ = ["PRINT_THRESHOLD", "SemiNaiveProgress", "AttentionReport", "attention", "DataFileError", "Fixpoint", "RuntimeFailure", "flat", "split", "Relation", "Tuples", "Weights",
           "Workspace", "align", "as_number", "contract", "contract_sliced", "gather", "into", "lnorm", "merged", "negate", "owned", "relu", "round_limit",
           "scatter",
           "sig", "softmax", "step", "symbol_table", "unmerged", "window"]
