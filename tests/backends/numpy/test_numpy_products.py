"""Products that sum nothing are emitted as NumPy's broadcasting ``*`` (not ``einsum``) and give ``einsum``'s
numbers on random non-zero inputs, whatever the factors' index orders."""

import numpy as np
import pytest

import tlc


@pytest.mark.parametrize("source, reference", [
    ("Y[i, j] = A[i, j] B[i, j]", lambda a, b, c: a * b),
    ("Y[i, j] = A[i, j] C[i] / B[i, j]", lambda a, b, c: np.einsum("ij,i,ij->ij", a, c, 1 / b)),
    ("Y[j, i] = A[i, j] B[i, j] C[i]", lambda a, b, c: np.einsum("ij,ij,i->ji", a, b, c)),
    ("Y[i, j] = C[i] A[i, j] + A[i, j] B[i, j] A[i, j]", lambda a, b, c: c[:, None] * a + a * b * a),
])
def test_a_product_that_sums_nothing_is_a_broadcast_multiply(source, reference):
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.5, 1.5, (3, 4)) * rng.choice([-1, 1], (3, 4)), rng.uniform(0.5, 1.5, (3, 4))
    c = rng.uniform(-1.5, -0.5, 3)
    program = tlc.compile(source)
    given = {n: v for n, v in dict(A=a, B=b, C=c).items() if n in program.input_names()}
    np.testing.assert_allclose(program(**given)["Y"], reference(a, b, c), rtol=1e-14)
    assert "rt.contract" not in program.source()


def test_a_product_that_sums_still_contracts():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 5))
    program = tlc.compile("Y[i, k] = A[i, j] B[j, k]")
    np.testing.assert_allclose(program(A=a, B=b)["Y"], a @ b, rtol=1e-13)
    assert "rt.contract" in program.source()


@pytest.mark.parametrize("source, emitted", [
    ("Y[i, j] = A[i, j] C[i] / B[i, j]", "/ B"),                            # divides: no array of 1 / B
    ("Y[i, j] = C[i] / (A[i, j] + B[i, j])", " / (A + B)"),
    ("R[i, j] = 1 / B[i, j]\nY[i, j] = A[i, j] R[i, j]", "np.divide(1.0, B)"),    # a reciprocal kept apart
    ("Y[i, j] = A[i, j] (1 / B[i, j])", "np.divide(1.0, B)"),   # ... or inlined: the same numbers either way
])
def test_a_product_divides_by_its_inverted_factors(source, emitted):
    """``x / y`` in a product that sums nothing is a division (one operation, not ``x * (1 / y)``); a reciprocal that
    is a factor of its own (``(1 / y)``, as fusion inlines a tensor ``1 / y``) is still multiplied by, so inlining
    it gives the numbers of the tensor kept apart."""
    rng = np.random.default_rng(2)
    a, b, c = rng.normal(size=(3, 4)), rng.uniform(0.5, 1.5, (3, 4)), rng.normal(size=3)
    program = tlc.compile(source)
    given = {n: v for n, v in dict(A=a, B=b, C=c).items() if n in program.input_names()}
    source_code = program.source(**given)
    assert emitted in source_code
    expected = {"/ B": a * c[:, None] / b, " / (A + B)": c[:, None] / (a + b)}.get(emitted, a * (1 / b))
    np.testing.assert_array_equal(program(**given)["Y"], expected)
