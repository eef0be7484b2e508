"""Numbers computed from literals alone are emitted as the literal they evaluate to (``arrays.folded``: the emitted
arithmetic run once by the compiler), a square as ``np.square`` and a number's power 0 as 1 (a factor 1 is left out of
its product): the same numbers as before, bit for bit, with no NumPy call at each run for them."""

import numpy as np
import pytest

import tlc
from tlc.backends.shared.arrays import folded


@pytest.mark.parametrize("code, expected", [
    ("np.divide(1.0, np.sqrt(8.0))", repr(float(np.divide(1.0, np.sqrt(8.0))))),
    ("(2.0) * np.exp(-1.5)", repr(float(2.0 * np.exp(-1.5)))),
    ("-0.5", "-0.5"),
    ("np.divide(1.0, 0.0)", "np.divide(1.0, 0.0)"),       # inf (NumPy warns): left to the run
    ("np.log(-1.0)", "np.log(-1.0)"),                     # NaN: the same
    ("np.divide(1.0, opt_c2)", "np.divide(1.0, opt_c2)"),     # a run's scalar
    ("np.sqrt(X)", "np.sqrt(X)"),
    ("np.divide(1.0, e)", "np.divide(1.0, e)"),           # a scalar named like an exponent
    ("np.divide(1.0, np.maximum(np.full((), 256.0), 1.0))", "0.00390625"),     # the gradient's 1 / count of avg=
    ("np.power(2.0, " * 40 + "X" + ")" * 40, "np.power(2.0, " * 40 + "X" + ")" * 40),     # read once, not 2^40 ways
])
def test_only_finite_numbers_from_literals_fold(code, expected):
    assert folded(code) == expected


@pytest.mark.parametrize("source, emitted, reference", [
    ("const D = 8\nY[i] = X[i] / sqrt(D)", "0.35355339059327373",
     lambda x: np.divide(1.0, np.sqrt(8.0)) * x),
    ("Y[i] = X[i]^2", "np.square(X)", lambda x: np.power(x, 2.0)),
    ("Y[i] = s^0 X[i]", "np.array(X, dtype=np.float64)", lambda x: x),     # a copy: no multiplication by 1
    ("const one = 1\nY[i] = one X[i]", "np.array(X, dtype=np.float64)", lambda x: x),
])
def test_folded_code_gives_the_same_numbers(source, emitted, reference):
    rng = np.random.default_rng(3)
    x = rng.normal(size=5) * 10.0 ** rng.integers(-100, 100, 5)
    program = tlc.compile(source)
    given = {"X": x, **({"s": np.nan} if "s^0" in source else {})}
    text = program.source(**given)
    assert emitted in text and "np.power" not in text and "np.sqrt" not in text
    np.testing.assert_array_equal(program(**given)["Y"], reference(x))


def test_a_division_by_zero_is_left_to_the_run():
    """(Under the run's own floating-point error settings, as before.)"""
    program = tlc.compile("Y[i] = X[i] / 0")
    assert "np.divide(1.0, 0.0)" in program.source(X=np.ones(3))
    assert np.isposinf(program(X=np.ones(3))["Y"]).all()
