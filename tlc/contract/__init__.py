"""Contraction-order search: opt_einsum-compatible paths from exact DP, hyper-search and slicing."""

from tlc.contract.path import (
    ContractionInfo,
    cache_clear,
    cache_info,
    contract,
    contract_path,
    contract_sliced,
    given_shapes,
)

__all__ = ["ContractionInfo", "cache_clear", "cache_info", "contract", "contract_path", "contract_sliced", "given_shapes"]
