"""The emitted module for a few small programs, pinned as text in ``golden/``.

After an intended change to the emitted code, regenerate the files and review the diff:
``TLC_REGENERATE_GOLDEN=1 python -m pytest tests/backends/triton/test_golden.py``
"""

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("triton.language")   # the real Triton: a directory named triton is not it

import tlc  # noqa: E402

GOLDEN = Path(__file__).resolve().parent / "golden"
PROGRAMS = {
    "dense_relu": ("Y[b, i] = relu(W[i, j] X[b, j] + bias[i])", {"W": (32, 24), "X": (16, 24), "bias": (32,)}),
    "softmax_rows": ("P[i, j.] = softmax(S[i, j] / 4)", {"S": (8, 10)}),
    "reductions": ("M[i] max= A[i, j]\nV[i] avg= A[i, j] - M[i]\nT = V[i] V[i]", {"A": (6, 5)}),
    "attention_heads": ("S[h, p, q.] = softmax(Q[h, p, d] K[q, d] / 4 - 1e9 step(q - p))\nO[p, h, e] = S[h, p, q] V[q, e]",
                        {"Q": (2, 12, 8), "K": (12, 8), "V": (12, 6)}, ["O"]),
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_emitted_source_is_pinned(name):
    source, shapes, *outputs = PROGRAMS[name]
    emitted = tlc.compile(source, backend="triton", outputs=outputs[0] if outputs else None).source(**{k: np.ones(s) for k, s in shapes.items()})
    path = GOLDEN / f"{name}.py"
    if os.environ.get("TLC_REGENERATE_GOLDEN") == "1":
        path.write_text(emitted)
    assert emitted == path.read_text(), f"{path} differs; see this module's docstring to regenerate it"
