"""A tensor that one plain equation defines over its whole extent is assigned its value instead of added into
zeros (``ScheduleEmitter.stores_whole``): its values match NumPy on random non-zero inputs on every CPU backend,
and it never shares memory with an input or another result, even when the equation only reads an array."""

import numpy as np
import pytest

import tlc
from tlc.api import BACKENDS

RNG = np.random.default_rng(7)
A = RNG.uniform(0.5, 2.0, (4, 4)) * RNG.choice([-1.0, 1.0], (4, 4))
V = RNG.uniform(0.5, 2.0, 4)

CASES = {
    "copy": ("B[i, j] = A[i, j]", A),
    "transpose": ("B[i, j] = A[j, i]", A.T),
    "column": ("B[i] = A[i, 1]", A[:, 1]),
    "broadcast": ("tensor B[4, 4]\nB[i, j] = V[j]", np.broadcast_to(V, (4, 4))),
    "scaled": ("B[i, j] = 3 A[i, j]", 3 * A),
    "product": ("B[i, k] = A[i, j] A[j, k]", A @ A),
    "transposed product": ("B[k, i] = A[i, j] A[j, k]", (A @ A).T),
    "elementwise": ("B[i, j] = relu(A[i, j]) + V[j]", np.maximum(A, 0) + V),
    "softmax": ("B[i, j.] = softmax(A[i, j])", np.exp(A) / np.exp(A).sum(axis=1, keepdims=True)),
    "summed": ("B[i] = A[i, j]", A.sum(axis=1)),
    "averaged": ("B[i] avg= A[i, j]", A.mean(axis=1)),
    "averaged copy": ("B[i, j] avg= A[i, j]", A),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", CASES)
def test_whole_assignment_matches_numpy_and_owns_its_memory(case, backend):
    source, want = CASES[case]
    inputs = {"A": A.copy(), "V": V.copy()}
    results = tlc.compile(source, backend=backend)(**{k: v for k, v in inputs.items() if f"{k}[" in source})
    got = np.asarray(results["B"])
    np.testing.assert_allclose(got, want, rtol=1e-12)
    for name, array in [*inputs.items(), *((n, np.asarray(results[n])) for n in results if n != "B")]:
        assert not np.shares_memory(got, array), f"B shares memory with {name}"
    got[...] = 0.0      # the caller may write into a result
    np.testing.assert_array_equal(inputs["A"], A)


def test_sole_whole_equation_is_assigned_and_others_combine():
    """The emitted NumPy code assigns B (one equation, whole extent) and still combines S's two equations and
    the shifted, partial T into zeros."""
    source = "B[i, j] = A[i, j] A[j, k]\nS[i] = V[i]\nS[i] += B[i, j]\nT[i + 1] = V[i]"
    program = tlc.compile(source)
    text = program.source(A=A, V=V)
    assert "B = rt.owned(" in text and "S = np.zeros((4,))" in text and "T = np.zeros((5,))" in text
    results = program(A=A, V=V)
    np.testing.assert_allclose(results["B"], A * A.sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(results["S"], V + results["B"].sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(results["T"], np.concatenate([[0.0], V]), rtol=1e-12)


def test_an_average_over_non_empty_ranges_is_its_sum_over_its_count():
    """An avg= tensor one equation defines whole, each element averaging the same non-empty number of terms, is
    assigned its sum divided by that number (no counts, no division where a count is 0); an average over an empty
    range still divides by its counts (0 where there are none)."""
    program = tlc.compile("B[i] avg= A[i, j]\nL avg= -B[i]")
    text = program.source(A=A)
    assert "_count" not in text and "B = rt.owned(np.divide(np.sum(A, axis=(1,)), 4.0), (4,))" in text
    results = program(A=A)
    np.testing.assert_allclose(results["B"], A.mean(axis=1), rtol=1e-15)
    np.testing.assert_allclose(results["L"], -A.mean(), rtol=1e-14)
    empty = tlc.compile("B[i] avg= A[i, j] V[j]")
    assert "_count_B" in empty.source(A=np.ones((2, 0)), V=np.ones(0))
    np.testing.assert_array_equal(empty(A=np.ones((2, 0)), V=np.ones(0))["B"], np.zeros(2))
