"""How NumPy arrays reach Triton kernels, and how an emitted Triton module is loaded.

Two routes, chosen when a program is compiled: with ``TRITON_INTERPRET=1`` (set before triton is
imported) Triton's interpreter runs kernels on the CPU and NumPy arrays pass through ``_Interpreted``,
a zero-copy wrapper offering the few tensor methods the interpreter calls; with torch and a CUDA GPU,
each launch copies its arrays to the device and its outputs back. Without either, ``route`` raises
``TritonUnavailable`` with a message saying what to install or set. This module never imports tlc.
"""

from __future__ import annotations

import os

import numpy as np

from tlc_runtime import module_cache
from tlc_runtime.errors import RuntimeFailure

UNAVAILABLE = ("the triton backend needs Triton and either a CUDA GPU with torch (pip install 'tlc[gpu]') or "
               "Triton's CPU interpreter: set TRITON_INTERPRET=1 before starting Python (pip install 'tlc[triton]')")


class TritonUnavailable(RuntimeFailure):
    """Triton kernels cannot run here; the message says what is missing."""


def route() -> str:
    """``"interpret"`` (TRITON_INTERPRET=1) or ``"cuda"`` (torch with a GPU); raises ``TritonUnavailable``."""
    try:
        import triton  # noqa: F401 - only checks that it is installed
    except ImportError:
        raise TritonUnavailable(UNAVAILABLE + "; triton is not installed") from None
    if os.environ.get("TRITON_INTERPRET") == "1":
        return "interpret"
    try:
        import torch
    except ImportError:
        raise TritonUnavailable(UNAVAILABLE + "; torch is not installed") from None
    if not torch.cuda.is_available():
        raise TritonUnavailable(UNAVAILABLE + "; torch sees no CUDA device")
    return "cuda"


class _Interpreted:
    """A C-contiguous NumPy array as the Triton interpreter's tensor argument (shares its memory)."""

    def __init__(self, array: np.ndarray):
        self.array = array
        self.dtype = array.dtype

    def data_ptr(self) -> int:
        return self.array.ctypes.data

    def untyped_storage(self):
        return self

    def cpu(self):
        return self

    def new_empty(self, *_, **__):
        return self

    def set_(self, *_):
        return self

    def copy_(self, _):
        return self     # the interpreter worked on this very memory

    def storage_offset(self) -> int:
        return 0

    def size(self):
        return self.array.shape

    def stride(self):
        return tuple(s // self.array.itemsize for s in self.array.strides)


def launch(kernel, grid: int, outputs: tuple, inputs: tuple, ints: tuple = (), **meta) -> None:
    """Run ``kernel[grid](*outputs, *inputs, *ints, **meta)``; outputs are C-contiguous float64 arrays,
    updated in place; inputs are arrays or numbers (passed as 0-d float64 arrays: Triton would make a
    Python float argument float32)."""
    inputs = tuple(np.ascontiguousarray(a, dtype=np.float64) for a in inputs)
    ints = tuple(int(i) for i in ints)
    if os.environ.get("TRITON_INTERPRET") == "1":
        kernel[(grid,)](*(_Interpreted(a) for a in outputs + inputs), *ints, **meta)
        return
    import torch
    device: dict[int, object] = {}
    for array in outputs + inputs:
        device.setdefault(id(array), torch.from_numpy(array).cuda())
    kernel[(grid,)](*(device[id(a)] for a in outputs + inputs), *ints, **meta)
    for array in outputs:
        array[...] = device[id(array)].cpu().numpy()


def load_module(source: str):
    """Import an emitted module through the private, content-checked cache (``tlc_runtime.module_cache``)."""
    return module_cache.load(source, "triton")


def runner(source: str):
    """A ``run(inputs)`` for an emitted module that checks ``route()`` and loads the module when first called."""
    loaded = []

    def run(inputs):
        if not loaded:
            route()
            loaded.append(load_module(source))
        return loaded[0].run(inputs)
    return run
