"""Generated Triton kernels, run in the interpreter, against the NumPy backend on random non-zero data."""

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("triton.language")   # the real Triton: a directory named triton is not it

import tlc  # noqa: E402
from triton_support import nz  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

# name: (source, input shapes, a fragment every line of `explain` for the triton backend must show)
PROGRAMS = {
    "elementwise chain": ("Y[i, j] = relu(A[i, j] B[j] + 2) - exp(A[i, j]) / 3 + sqrt(abs(B[j])) * tanh(A[i, j])^2\n"
                          "Z[j, i] = sig(Y[i, j]) + step(A[i, j]) * log(abs(B[j])) - sin(j) * cos(A[i, j])",
                          {"A": (5, 7), "B": (7,)}, ["kernel _k1: flat", "kernel _k2: flat"]),
    "sum": ("Y[i] = A[i, j] B[j] + c", {"A": (5, 40), "B": (40,), "c": ()}, ["sum over j"]),
    "max": ("Y[i] max= A[i, j] + B[j]", {"A": (5, 7), "B": (7,)}, ["max over j"]),
    "min": ("Y[j] min= A[i, j] * 2", {"A": (5, 7)}, ["min over i"]),
    "avg": ("Y[i] avg= A[i, j, k]", {"A": (3, 4, 5)}, ["avg over j, k"]),
    "two summations": ("Y[i] = A[i, j] B[j] - A[i, k] C[k]", {"A": (6, 5), "B": (5,), "C": (5,)},
                       ["sum over j", "sum over k"]),
    "matmul": ("C[i, k] = A[i, j] B[j, k]", {"A": (33, 20), "B": (20, 17)}, ["tl.dot: A x B summed over j"]),
    "batched matmul": ("C[b, i, k] = A[b, i, j] B[b, j, k] / 2", {"A": (3, 17, 20), "B": (3, 20, 18)},
                       ["3 batches"]),
    "dense layer": ("Y[b, i] = relu(W[i, j] X[b, j] + bias[i])", {"W": (20, 18), "X": (17, 18), "bias": (20,)},
                    ["epilogue fused"]),
    "tl.dot, transposed output, a broadcast index": ("Y[k, i, z] = A[i, j] B[j, k] * 2 / s + C[z]",
                                                     {"A": (17, 16), "B": (16, 18), "C": (3,), "s": ()},
                                                     ["epilogue fused"]),
    "shifted, constant and divided indices": ("Y[i] = A[i + 1, 0] - A[i, i] * A[1, i / 2]", {"A": (7, 7)},
                                              ["kernel _k1: flat"]),
    "powers and index values": ("Y[i] = A[i]^-2 + abs(A[i])^0.5 + A[i]^3 + sin(i / 3) + 10^(A[i] / 2)", {"A": (5,)},
                                ["kernel _k1: flat"]),
    "diagonal and shifted writes": ("T[i, i] = A[i]\nU[i, i + 1] max= A[i] B[j]", {"A": (4,), "B": (3,)},
                                    ["kernel _k1: flat", "kernel _k2: flat"]),
    "pooling and scatters (atomics)": ("P[x/2, y/2] max= A[x, y]\nQ[x/2] avg= A[x, y]\nR[x/3] min= A[x, 0]\n"
                                       "S[x + y] = A[x, 0] B[y]\nT[x/2, k] = M[x, j] N[j, k]",
                                       {"A": (5, 6), "B": (3,), "M": (33, 16), "N": (16, 17)},
                                       ["NumPy: a pooled max=", "kernel _k1: flat", "kernel _k3: tl.dot"]),
    "softmax": ("Y[i, j.] = softmax(A[i, j] * 2 + B[j])", {"A": (5, 7), "B": (7,)}, ["rows: softmax along j"]),
    "softmax of tl.dot scores": ("C[h, p, q.] = softmax(Q[h, p, d] K[h, q, d] / 4)\n"
                                 "L[p, q.] = lnorm(Q[0, p, d] K[1, q, d] + B[q])",
                                 {"Q": (2, 20, 16), "K": (2, 24, 16), "B": (24,)},
                                 ["rows of q whole for softmax", "rows of q whole for lnorm"]),
    "lnorm": ("Y[i, k, j.] = lnorm(A[i, j, k])", {"A": (3, 6, 2)}, ["rows: lnorm along j"]),
    "mixed with fallbacks": ("H[i, j] = A[i, j] B[j]\nC[k] = concat(H[i, j])\nP[i] = H[i, j] exp(H[j, k] B[k])\n"
                             "Q[i, j.] = softmax(H[i, k] H[j, k])\nS[i] = H[i, j] + C[i] + P[i] + Q[i, 0]",
                             {"A": (5, 5), "B": (5,)},
                             ["kernel _k1", "NumPy: concat reshapes", "NumPy: a summation inside another summation",
                              "NumPy: a summation together with softmax", "kernel _k2: flat"]),
    "recurrence": ("H[i, *t+1] = tanh(W[i, j] H[j, *t] + X[i, t])", {"W": (4, 4), "X": (4, 6)}, ["kernel _k1"]),
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_matches_numpy(name):
    source, shapes, expected = PROGRAMS[name]
    rng = np.random.default_rng(7)
    inputs = {k: nz(rng, *shape) if shape else 1.25 for k, shape in shapes.items()}
    reference = tlc.compile(source)(**inputs)
    program = tlc.compile(source, backend="triton")
    results = program(**inputs)
    assert set(results) == set(reference)
    for key in reference:
        np.testing.assert_allclose(results[key], reference[key], rtol=1e-10, atol=1e-12, err_msg=key)
    plan = program.explain().split("triton backend:")[1]
    for fragment in expected:
        assert fragment in plan, plan


@pytest.mark.parametrize("stem", sorted(p.stem for p in (EXAMPLES / "data").glob("*.npz")))
def test_example_matches_numpy(stem):
    data = dict(np.load(EXAMPLES / "data" / f"{stem}.npz"))
    reference = tlc.compile(EXAMPLES / f"{stem}.tl")(**data)
    program = tlc.compile(EXAMPLES / f"{stem}.tl", backend="triton")
    results = program(**data)
    for key in reference:
        np.testing.assert_allclose(np.asarray(results[key]), np.asarray(reference[key]), rtol=1e-9, atol=1e-12,
                                   err_msg=key)
    assert "kernel _k1" in program.explain()


def test_fixpoint_over_numbers():
    source = "D[x] min= Init[x]\nD[y] min= D[x] + Cost[x, y]"
    rng = np.random.default_rng(3)
    inputs = {"Init": np.array([0.0, 9.0, 9.0, 9.0]), "Cost": rng.uniform(0.5, 1.5, (4, 4))}
    expected = tlc.compile(source)(**inputs)["D"]
    program = tlc.compile(source, backend="triton")
    np.testing.assert_allclose(program(**inputs)["D"], expected, rtol=1e-12)
    assert "min over x" in program.explain()


@pytest.mark.parametrize("source", ["Y[i] max= A[i, j]", "Y[i] min= A[i, j] * 2", "Y[i, j] = relu(A[i, j])",
                                    "Y[i] = A[i, j]", "Y[i, j.] = softmax(A[i, j])", "Y[i, j] = max(A[i, j], B[j])"])
def test_nan_handled_as_in_numpy(source):
    """NaN propagates through functions and sums; max=/min= skip it (no contribution), on every backend."""
    data = {"A": np.array([[1.0, np.nan, 2.0], [3.0, -1.0, 0.5]]), "B": np.array([0.5, 2.0, np.nan])}
    inputs = {name: data[name] for name in ("A", "B") if f"{name}[" in source}
    expected = tlc.compile(source)(**inputs)["Y"]
    np.testing.assert_array_equal(tlc.compile(source, backend="triton")(**inputs)["Y"], expected)


@pytest.mark.parametrize("source, names", [
    ("tensor Y[2]\nY[i] = 0.1", ""), ("Y[i] = A[i] + sig(0.3) + log(3) * 10^0.3", "A"),
    ("Y[i] = sin(step(A[i]) + 0.1)", "A"), ("Y[i] = A[i] * s", "As"), ("Y[i] = M[i, j] B[j] + s", "MBs"),
    # X^0 alone under a function: the gradient's lnorm counts (found training the transformer block on triton)
    ("Y[i] = step(M[i, j]^0 * A[i]^0)", "MA"), ("Y[i] = step(A[i]^0) + exp(A[i]^0)", "A")])
def test_constants_and_scalars_keep_float64(source, names):
    # Triton makes a bare Python float (a literal alone, a float argument) float32.
    data = {"A": np.full(2, 0.1), "M": np.full((2, 3), 0.1), "B": np.full(3, 0.7), "s": 0.1}
    inputs = {name: data[name] for name in names}
    expected = tlc.compile(source)(**inputs)["Y"]
    np.testing.assert_allclose(tlc.compile(source, backend="triton")(**inputs)["Y"], expected, rtol=1e-15)
