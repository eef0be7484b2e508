"""Fused attention programs on the triton backend: the flash-attention kernel where the node fits it, the
runtime path otherwise, both against the unfused NumPy program on random non-zero data, with explain."""

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("triton.language")   # the real Triton: a directory named triton is not it

import tlc  # noqa: E402
from triton_support import nz  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
KERNEL = "kernel attention_kernel: flash attention"


def check(source, outputs, inputs, expected):
    """Run ``source`` on the triton backend with ``outputs``, compare with the unfused NumPy program, and check
    that each fragment of ``expected`` occurs in explain; returns the explain text."""
    reference = tlc.compile(source, opt_level=0)(**inputs)
    program = tlc.compile(source, backend="triton", outputs=outputs)
    results = program(**inputs)
    for key in outputs:
        np.testing.assert_allclose(results[key], reference[key], rtol=1e-10, atol=1e-12, err_msg=key)
    text = program.explain()
    for fragment in expected:
        assert fragment in text, text
    return text


def test_transformer_runs_attention_on_the_kernel():
    data = dict(np.load(EXAMPLES / "data" / "transformer.npz"))
    rng = np.random.default_rng(21)
    for name in ("Emb", "WQ", "WK", "WV", "WS", "W1", "B1", "W2", "WO"):
        data[name] = nz(rng, *data[name].shape)
    text = check(EXAMPLES / "transformer.tl", ["Y"], data,
                 ["runs on the Triton flash-attention kernel", f"{KERNEL}, 2 batches x 5 queries x 5 keys",
                  "ran exact: Triton kernel attention_kernel"])
    assert "tlc_runtime.attention" not in text.split("triton backend:")[1]


@pytest.mark.parametrize("source, shapes, fragment", [
    # batch and heads in unusual positions, the output transposed
    ("S[b, h, p, q.] = softmax(Q[b, p, h, d] K[b, h, q, d] / sqrt(Dk))\nO[h, p, b, e] = S[b, h, p, q] V[b, h, q, e]",
     {"Q": (2, 40, 3, 16), "K": (2, 3, 70, 16), "V": (2, 3, 70, 8), "Dk": ()}, "6 batches x 40 queries x 70 keys"),
    # causal with a large penalty (later key blocks skipped) and with a small one (later keys keep some weight)
    ("S[h, p, q.] = softmax(Q[h, p, d] K[h, q, d] * 0.25 - 1e9 step(q - p))\nO[h, p, e] = S[h, p, q] V[h, q, e]",
     {"Q": (2, 70, 8), "K": (2, 70, 8), "V": (2, 70, 8)}, "causal"),
    ("S[p, q.] = softmax(Q[p, d] K[q, d] - c step(q - p))\nO[p, e] = S[p, q] V[q, e]",
     {"Q": (40, 8), "K": (40, 8), "V": (40, 3), "c": ()}, "causal"),
    # keys and values shared across heads (multi-query), no scale
    ("S[b, h, p, q.] = softmax(Q[b, h, p, d] K[b, q, d])\nO[b, h, p, e] = S[b, h, p, q] V[b, q, e]",
     {"Q": (2, 3, 20, 8), "K": (2, 24, 8), "V": (2, 24, 5)}, "6 batches x 20 queries x 24 keys"),
    # additive masks: key padding shared across heads, a Boolean relation, a mask over heads with causal
    ("S[b, h, p, q.] = softmax(Q[b, h, p, d] K[b, h, q, d] / 4 + Pad[b, q])\nO[b, h, p, e] = S[b, h, p, q] V[b, h, q, e]",
     {"Q": (2, 3, 20, 8), "K": (2, 3, 24, 8), "V": (2, 3, 24, 5), "Pad": (2, 24)}, "additive mask"),
    ("S[p, q.] = softmax(Q[p, d] K[q, d] - 1e9 ~Allowed(p, q))\nO[p, e] = S[p, q] V[q, e]",
     {"Q": (20, 8), "K": (24, 8), "V": (24, 5), "Allowed": "relation"}, "additive mask"),
    ("S[h, p, q.] = softmax(Q[h, p, d] K[h, q, d] + M[h, p, q] - 1e9 step(q - p))\nO[h, p, e] = S[h, p, q] V[h, q, e]",
     {"Q": (2, 40, 8), "K": (2, 40, 8), "V": (2, 40, 5), "M": (2, 40, 40)}, "causal, additive mask"),
    # head sizes that are not powers of two, a scale from a scalar input
    ("S[p, q.] = softmax(Q[p, d] K[q, d] / s)\nO[p, e] = S[p, q] V[q, e]",
     {"Q": (17, 20), "K": (33, 20), "V": (33, 5), "s": ()}, "d = 20, e = 5"),
])
def test_attention_on_the_kernel_matches_numpy(source, shapes, fragment):
    rng = np.random.default_rng(22)
    inputs = {k: nz(rng, *s) if s else 2.5 for k, s in shapes.items() if s != "relation"}
    if "Allowed" in shapes:     # every query keeps at least one key
        inputs["Allowed"] = (rng.random((20, 24)) < 0.6) | np.eye(20, 24, dtype=bool)
    check(source, ["O"], inputs, [KERNEL, fragment])


@pytest.mark.parametrize("source, shapes, why, tolerance", [
    ("S[p, q1., q2.] = softmax(Q[p, d] K1[q1, d] K2[q2, d] / 4)\nO[p, e] = S[p, q1, q2] V1[q1, e] V2[q2, e]",
     {"Q": (6, 3), "K1": (5, 3), "K2": (4, 3), "V1": (5, 2), "V2": (4, 2)}, "tensor attention: two key axes", None),
    ("S[p, q.] = softmax(Q[p, d] K[q, d] / 4)\nO[p, e] = S[p, q] V[q, e]",
     {"Q": (6, 4), "K": (7, 4), "V": (7, 3)}, "a tolerance", 1e-3),
])
def test_attention_off_the_kernel_says_why(source, shapes, why, tolerance):
    rng = np.random.default_rng(23)
    inputs = {k: nz(rng, *s) * 0.2 for k, s in shapes.items()}
    reference = tlc.compile(source, opt_level=0)(**inputs)["O"]
    program = tlc.compile(source, backend="triton", outputs=["O"], tolerance=tolerance)
    np.testing.assert_allclose(program(**inputs)["O"], reference, rtol=1e-10, atol=tolerance or 1e-12)
    text = program.explain()
    assert f"runs tlc_runtime.attention, not the Triton kernel ({why}" in text, text
    assert f"NumPy: tlc_runtime.attention ({why}" in text.split("triton backend:")[1], text


def test_a_mask_keeps_a_tolerance_exact_so_the_kernel_runs():
    source = "S[p, q.] = softmax(Q[p, d] K[q, d] / 4 + M[p, q])\nO[p, e] = S[p, q] V[q, e]"
    rng = np.random.default_rng(24)
    inputs = {"Q": nz(rng, 6, 4) * 0.2, "K": nz(rng, 7, 4) * 0.2, "V": nz(rng, 7, 3), "M": nz(rng, 6, 7)}
    reference = tlc.compile(source, opt_level=0)(**inputs)["O"]
    program = tlc.compile(source, backend="triton", outputs=["O"], tolerance=1e-3)
    np.testing.assert_allclose(program(**inputs)["O"], reference, rtol=1e-10, atol=1e-12)
    assert KERNEL in program.explain()


@pytest.mark.parametrize("c", [np.inf, np.nan])
def test_a_non_finite_causal_penalty_is_nan_as_on_numpy(c):
    """``- c step(q - p)`` with c infinite: c * 0 is NaN in every visible score, on every backend."""
    source = "S[p, q.] = softmax(Q[p, d] K[q, d] - c step(q - p))\nO[p, e] = S[p, q] V[q, e]"
    rng = np.random.default_rng(25)
    inputs = {"Q": nz(rng, 5, 4), "K": nz(rng, 6, 4), "V": nz(rng, 6, 3), "c": c}
    reference = tlc.compile(source, opt_level=0)(**inputs)["O"]
    assert np.isnan(reference).all()
    np.testing.assert_array_equal(tlc.compile(source, backend="triton", outputs=["O"])(**inputs)["O"], reference)
