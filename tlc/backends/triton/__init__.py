"""The triton backend: equations as ``@triton.jit`` kernels in one readable Python module.

Layers: ``tiles`` (IR expressions as Triton code over a tile) <- ``kernels`` (one IR equation -> a
kernel's source and launch in a tile layout, or why not) <- ``emit`` (the NumPy module with kernel
launches) <- ``program`` (emit and load); ``attention`` is a standalone fused (flash) attention
kernel and launcher, ``attention_node`` puts a fused-attention IR node on it (or says why not);
``aot`` compiles kernels for a GPU target without a GPU. Emitted code runs kernels through ``tlc_runtime.triton_host``
(Triton's interpreter on NumPy arrays, or torch on a CUDA GPU).
"""

from __future__ import annotations

from tlc.backends.registry import Backend
from tlc.backends.triton.attention_node import describe_run
from tlc.backends.triton.emit import emit_triton
from tlc.backends.triton.program import load
from tlc.driver.plan import FUSED_FOLDS

BACKEND = Backend("triton", "@triton.jit kernels (a GPU, or Triton's interpreter with TRITON_INTERPRET=1)",
                  emit_triton, load, extra="triton", capabilities=frozenset({FUSED_FOLDS}),
                  function_fallbacks={"concat": "concat reshapes (a view in NumPy)"}, attention_runs=describe_run)
