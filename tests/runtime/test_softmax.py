"""``tlc_runtime.softmax`` agrees with ``exp(x - max) / sum`` along the axis on random non-zero inputs (one shift for
the whole array when every value is within ``SHIFT_SPAN`` of the largest, else one per row), over the last axis
(summed by ``matmul``), another axis or several, into ``out=`` too; rows far apart, NaN and inf behave as the
per-row formula does."""

import numpy as np
import pytest

from tlc_runtime.ops import SHIFT_SPAN, softmax


def reference(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("shape, axis", [((16, 4, 16, 16), 3), ((1437, 10), 1), ((5, 6, 7), 0), ((5, 6, 7), (0, 2)),
                                         ((4,), 0), ((3, 4), -1)])
def test_softmax_matches_the_per_row_formula(shape, axis):
    rng = np.random.default_rng(len(shape))
    x = rng.uniform(0.5, 4.0, shape) * rng.choice([-1.0, 1.0], shape)
    np.testing.assert_allclose(softmax(x, axis), reference(x, axis), rtol=1e-13, atol=1e-16)
    out = np.full(shape, np.nan)
    assert softmax(x, axis, out=out) is out
    np.testing.assert_allclose(out, reference(x, axis), rtol=1e-13, atol=1e-16)


def test_rows_further_apart_than_one_shift_covers():
    """Row 1 lies 3000 below row 0: one shift would underflow it to 0/0; each row is shifted by its own max."""
    x = np.array([[0.0, 1.0, 2.0], [-3000.0, -2999.0, -2998.0]])
    assert np.ptp(x) > SHIFT_SPAN
    np.testing.assert_allclose(softmax(x, 1), reference(x, 1), rtol=1e-13)
    assert np.isfinite(softmax(x, 1)).all()


def test_nan_and_inf_as_the_formula():
    x = np.array([[np.inf, 1.0], [np.nan, 3.0], [1.0, 2.0]])
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(softmax(x, 1), reference(x, 1))
    assert softmax(np.zeros((0, 3)), 1).shape == (0, 3)
