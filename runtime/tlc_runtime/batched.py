"""Equations of one elementwise shape computed as one: their operands laid end to end (``flat``), the result cut
back into each equation's tensor (``split``). Emitted by ``tlc.backends.shared.batching``."""

from __future__ import annotations

import math

import numpy as np


def flat(arrays) -> np.ndarray:
    """The elements of ``arrays`` (float64, each in C order) end to end, in a new 1-d array."""
    # (the ndarray method: ``np.ravel``'s wrapper took half of an optimiser step's 10 us for eight arrays)
    return np.concatenate([a.ravel() if type(a) is np.ndarray else np.ravel(a) for a in arrays], dtype=np.float64)


def split(values: np.ndarray, shapes) -> list[np.ndarray]:
    """``values`` (1-d) cut into consecutive arrays of ``shapes``: views of it, in order."""
    parts, start = [], 0
    for shape in shapes:
        stop = start + math.prod(shape)
        parts.append(values[start:stop].reshape(shape))
        start = stop
    return parts
