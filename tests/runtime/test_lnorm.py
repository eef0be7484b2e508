"""``tlc_runtime.lnorm`` (centred once, divided in place) gives exactly ``(x - mean) / sqrt(var + eps)`` with
``numpy.var``, on random non-zero inputs, over one or several axes, for a broadcast (read-only) input too."""

import numpy as np
import pytest

from tlc_runtime.ops import LNORM_EPS, lnorm


@pytest.mark.parametrize("shape, axis", [((16, 16, 32), 2), ((32, 16, 16), 0), ((5, 6, 7), (0, 2)), ((4,), 0)])
def test_lnorm_is_numpy_var_formula(shape, axis):
    rng = np.random.default_rng(len(shape))
    for x in (rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape),
              np.broadcast_to(rng.uniform(0.5, 2.0, shape[-1:]), shape)):
        want = (x - x.mean(axis=axis, keepdims=True)) / np.sqrt(x.var(axis=axis, keepdims=True) + LNORM_EPS)
        np.testing.assert_array_equal(lnorm(x, axis), want)
