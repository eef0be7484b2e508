"""Pass ``fold-constants``: identities removed and literals folded, never moving a summation."""

import numpy as np
import pytest

import tlc
from tlc.api import frontend
from tlc.ir.printer import format_program
from tlc.passes.fold_constants import fold_constants


@pytest.mark.parametrize("source, folded", [
    ("Y[i] = 1 * X[i] + 0", "Y[i] = X[i]"),
    ("Y[i] = --X[i] ^ 1 / 1", "Y[i] = X[i]"),
    ("Y[i] = X[i] + 2 * 3 - 1", "Y[i] = X[i] + 6 - 1"),
    ("Y = 2 * 3 - 1", "Y = 5"),
    ("Y = 2^3", "Y = 8"),
    ("Y[i] = X[i] * 1 * Z[i]", "Y[i] = X[i] Z[i]"),
    ("Y[i] = 1 * relu(A[i, j] + B[i, j])", "Y[i] = 1 relu(A[i, j] + B[i, j])"),   # keeps j summed outside relu
    ("Y = 1 - 3", "Y = 1 - 3"),                                  # negative literals are not a source form
])
def test_folds(source, folded):
    assert format_program(fold_constants(frontend(source)).statements).strip() == folded


def test_projection_kept_when_a_product_cannot_be_unwrapped():
    A = np.array([[1.0, -2.0], [-3.0, 4.0]])
    for level in (0, 1):
        res = tlc.compile("Y[i] = 1 * relu(A[i, j] + B[i, j])", opt_level=level)(A=A, B=A)
        np.testing.assert_allclose(res["Y"], np.maximum(2 * A, 0).sum(1))


def test_a_program_with_nothing_to_fold_is_returned_as_it_is():
    program = frontend("Y[i] = A[i, j] X[j] + B[i] - 2 C[i]\nZ = Y[i]\n")
    assert fold_constants(program) is program
    folded = fold_constants(frontend("Y[i] = A[i, j] X[j] + 0\nZ = Y[i]\n"))
    assert format_program(folded.statements) == "Y[i] = A[i, j] X[j]\nZ = Y[i]\n"
