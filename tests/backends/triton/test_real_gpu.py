"""On a machine with torch and a CUDA GPU: compiled (not interpreted) kernels against NumPy."""

import pytest

pytestmark = pytest.mark.gpu

pytest.importorskip("triton.language")   # the real Triton: a directory named triton is not it
torch = pytest.importorskip("torch")

from triton_support import run_without_interpreter  # noqa: E402

SCRIPT = r'''
import numpy as np
import tlc
from tlc.backends.triton.attention import launch_attention

rng = np.random.default_rng(5)
source = "Y[b, i] = relu(W[i, j] X[b, j] + bias[i])\nP[b, i.] = softmax(Y[b, i])\nS[b] max= P[b, i]"
inputs = {"W": rng.normal(size=(96, 80)), "X": rng.normal(size=(70, 80)), "bias": rng.normal(size=96)}
expected = tlc.compile(source)(**inputs)
got = tlc.compile(source, backend="triton")(**inputs)
for key in expected:
    np.testing.assert_allclose(got[key], expected[key], rtol=1e-9, atol=1e-12)
Q, K, V = rng.normal(size=(2, 100, 32)), rng.normal(size=(2, 130, 32)), rng.normal(size=(2, 130, 16))
s = Q @ np.swapaxes(K, -1, -2) * 0.2
w = np.exp(s - s.max(-1, keepdims=True))
np.testing.assert_allclose(launch_attention(Q, K, V, 0.2), (w / w.sum(-1, keepdims=True)) @ V, rtol=1e-9, atol=1e-12)
source = ("S[b, h, p, q.] = softmax(Q[b, h, p, d] K[b, q, d] / 4 + Pad[b, q] - 1e9 step(q - p))\n"
          "O[b, p, h, e] = S[b, h, p, q] V[b, q, e]")
inputs = {"Q": rng.normal(size=(2, 3, 100, 20)), "K": rng.normal(size=(2, 130, 20)), "V": rng.normal(size=(2, 130, 5)),
          "Pad": rng.normal(size=(2, 130))}
fused = tlc.compile(source, backend="triton", outputs=["O"])
np.testing.assert_allclose(fused(**inputs)["O"], tlc.compile(source, opt_level=0)(**inputs)["O"], rtol=1e-9, atol=1e-12)
assert "kernel attention_kernel" in fused.explain()
print("ok on", __import__("torch").cuda.get_device_name())
'''


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_compiled_kernels_on_the_gpu():
    done = run_without_interpreter(SCRIPT, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ok on" in done.stdout
