"""Scratch arrays an emitted module reuses from call to call, one set per thread.

A new array of 128 KiB or more comes from ``mmap`` and goes back to the kernel when freed, so every call that
allocates it again pays a page fault per 4 KiB page it touches (half of a digits MLP training step). The emitted
module lists the arrays that never leave a call (intermediate tensors and temporaries of one statement, none of
them a result) and writes them with ``out=`` into this thread's copy, kept between calls: two threads never share
one, and nothing returned to the caller is one of them.
"""

from __future__ import annotations

import threading

import numpy as np


class Workspace(threading.local):
    """One emitted module's scratch arrays (key -> float64 array), made in each thread at its first use."""

    def __init__(self, shapes: dict[str, tuple[int, ...]]):
        self.arrays = {key: np.empty(shape) for key, shape in shapes.items()}
        """This thread's arrays, by the key the module names them with."""


def into(out: np.ndarray, value) -> np.ndarray:
    """``out`` holding ``value`` (broadcast to its shape)."""
    np.copyto(out, value)
    return out
