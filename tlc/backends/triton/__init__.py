"""The triton backend: equations as ``@triton.jit`` kernels in one readable Python module.

Layers: ``tiles`` (IR expressions as Triton code over a tile) <- ``kernels`` (one IR equation -> a
kernel's source and launch in a tile layout, or why not) <- ``emit`` (the NumPy module with kernel
launches) <- ``program`` (emit and load); ``attention`` is a standalone fused (flash) attention
kernel and launcher, ``attention_node`` puts a fused-attention IR node on it (or says why not);
``aot`` compiles kernels for a GPU target without a GPU. Emitted code runs kernels through ``tlc_runtime.triton_host``
(Triton's interpreter on NumPy arrays, or torch on a CUDA GPU).
"""
