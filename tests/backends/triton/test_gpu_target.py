"""Generated kernels compile for a real GPU target (PTX for an A100) without a GPU.

The interpreter accepts code the GPU compiler rejects, so this catches interpreter-only kernels. It
runs in a subprocess: this test process has imported triton in interpreter mode.
"""

import pytest

pytest.importorskip("triton.language")   # the real Triton: a directory named triton is not it

from triton_support import run_without_interpreter  # noqa: E402

SCRIPT = r'''
import numpy as np
import tlc
from tlc.backends.triton.aot import compile_attention, compile_kernels

programs = [
    ("Y[b, i] = relu(W[i, j] X[b, j] + bias[i])\nZ[b] avg= Y[b, i]\nS[b, i.] = softmax(Y[b, i])\n"
     "L[b, i.] = lnorm(Y[b, i])\nM[b] max= Y[b, i]^3 + sig(Y[b, i], 0.5) - tanh(Y[b, i])\nT = M[b]",
     {"W": (20, 18), "X": (17, 18), "bias": (20,)}),
    ("C[b, i, k] = A[b, i, j] B[b, j, k]\nS[b, i, k.] = softmax(A[b, i, j] B[b, j, k])",
     {"A": (2, 16, 16), "B": (2, 16, 16)}),
    ("H[i, *t+1] = tanh(W[i, j] H[j, *t] + X[i, t])", {"W": (4, 4), "X": (4, 6)}),
    ("P[x/2] = A[x, y]\nQ[x/2] avg= A[x, y]\nS[x + y] = A[x, 0] A[y, 1]", {"A": (5, 6)}),
]
programs.append(("S[b, h, p, q.] = softmax(Q[b, h, p, d] K[b, q, d] / 4 + Pad[b, q] - 1e9 step(q - p))\n"
                 "O[b, p, h, e] = S[b, h, p, q] V[b, q, e]",
                 {"Q": (2, 3, 40, 20), "K": (2, 70, 20), "V": (2, 70, 5), "Pad": (2, 70)}))
count = 0
for source, shapes in programs:
    spec = tlc.compile(source, backend="triton", outputs=["O"] if "O[" in source else None).specialisation(**{k: np.ones(s) for k, s in shapes.items()})
    assert all(d[0].startswith("kernel") for d in spec.emitted.decisions.values()), spec.emitted.decisions
    for name, asm in compile_kernels(spec.emitted).items():
        assert ".entry " + name in asm["ptx"], name
        count += 1
for causal in (False, True):
    assert ".entry attention_kernel" in compile_attention(8, 12, causal)["ptx"]
print("compiled", count)
'''


@pytest.mark.slow
def test_kernels_compile_to_ptx():
    done = run_without_interpreter(SCRIPT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "compiled 14" in done.stdout     # every equation above is a kernel, the attention too
