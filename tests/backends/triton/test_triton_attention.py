"""The fused attention kernel against softmax(Q K^T * scale) V computed with NumPy."""

import numpy as np
import pytest

pytest.importorskip("triton.language")   # the real Triton: a directory named triton is not it

from triton_support import nz  # noqa: E402
from tlc.backends.triton.attention import emit_attention, launch_attention  # noqa: E402


def reference(Q, K, V, scale, causal, penalty=np.inf, mask=0.0):
    scores = Q @ np.swapaxes(K, -1, -2) * scale + mask
    if causal:
        n, m = scores.shape[-2:]
        scores = np.where(np.arange(m)[None, :] > np.arange(n)[:, None], scores - penalty, scores)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (weights / weights.sum(axis=-1, keepdims=True)) @ V


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("lead, n, m, d, e", [((2, 3), 40, 70, 8, 12), ((), 70, 70, 20, 5)])
def test_attention_matches_numpy(lead, n, m, d, e, causal):
    rng = np.random.default_rng(11)
    Q, K, V = nz(rng, *lead, n, d), nz(rng, *lead, m, d), nz(rng, *lead, m, e)
    out = launch_attention(Q, K, V, 0.3, causal)
    assert out.shape == (*lead, n, e)
    np.testing.assert_allclose(out, reference(Q, K, V, 0.3, causal), rtol=1e-10, atol=1e-12)


def test_attention_source_is_one_kernel_and_launcher():
    source = emit_attention()
    assert source.count("@triton.jit") == 1
    assert "def flash_attention(Q, K, V, scale, causal=False, penalty=None, mask=None):" in source
    assert "def attention_meta(n, m, d, e, causal, mask=False):" in source


@pytest.mark.parametrize("penalty", [3.0, 1e9])
def test_finite_causal_penalty_and_broadcast_keys(penalty):
    """A small penalty leaves later keys some weight (every key block runs); a large one zeroes them exactly
    (later blocks are skipped). Keys and values shared across heads broadcast."""
    rng = np.random.default_rng(12)
    Q, K, V = nz(rng, 2, 3, 70, 6), nz(rng, 2, 1, 70, 6), nz(rng, 2, 1, 70, 5)
    out = launch_attention(Q, K, V, 0.5, True, penalty)
    expected = reference(Q, np.broadcast_to(K, Q.shape), np.broadcast_to(V, (2, 3, 70, 5)), 0.5, True, penalty)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


def test_attention_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="K \\[..., m, d\\]"):
        launch_attention(np.ones((4, 8)), np.ones((5, 7)), np.ones((5, 3)), 1.0)


@pytest.mark.parametrize("mask_shape", [(2, 1, 1, 70), (40, 70), (2, 3, 40, 1)])
def test_additive_mask_broadcasts(mask_shape):
    rng = np.random.default_rng(13)
    Q, K, V = nz(rng, 2, 3, 40, 8), nz(rng, 2, 3, 70, 8), nz(rng, 2, 3, 70, 4)
    mask = nz(rng, *mask_shape) * 3
    out = launch_attention(Q, K, V, 0.3, True, 20.0, mask)
    np.testing.assert_allclose(out, reference(Q, K, V, 0.3, True, 20.0, mask), rtol=1e-10, atol=1e-12)
