"""Drop-ins for ``numpy.einsum`` (:func:`einsum`) and ``opt_einsum.contract``/``contract_path``, planned by tlc.

Layout, in pipeline order: ``subscripts`` (strings, bytes, the interleaved form, checked and spelled out),
``paths`` (the ``optimize``/``memory_limit`` forms of both libraries), ``plan`` (the cached per-shape plan),
``run`` (evaluation), ``numpy_api`` and ``opt_einsum_api`` (the public functions), ``errors`` (tlc errors
that are also numpy's exception classes).
"""

from opt_einsum.parser import get_symbol

from tlc.einsum.numpy_api import einsum
from tlc.einsum.opt_einsum_api import PathInfo, contract, contract_path
from tlc.einsum.plan import Plan, contraction_plan
from tlc.einsum.run import PLANNED_KINDS

__all__ = ["PLANNED_KINDS", "PathInfo", "Plan", "contract", "contract_path", "contraction_plan", "einsum",
           "get_symbol"]
