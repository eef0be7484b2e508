"""Factors known to be all ones (``X^0``, which is 1 for every X, NaN included, and a tensor assigned all ones) are
left out of products where the other factors carry their indices (``ArrayExpression.without_ones``), as the gradient's
lnorm and concat carriers are: the values match NumPy on random non-zero inputs on every CPU backend (Dask's too), with
a sum over ones still counting its positions."""

import numpy as np
import pytest

import tlc
import tlc.fuzz
from tlc.api import BACKENDS

SOURCE = """
O[i, j] = step(X[i, j]^0 Y[i, j]^0)
C[i] = O[i, j]
M[i] = O[i, j] X[i, j] Y[i, j] / max(C[i], 1)
N[i, j] = X[i, j]^0 Z[j] X[i, j]
K[i] = X[i, j]^0 Z[j]
P[i, j] = O[i, j] O[i, j]
"""


def test_ones_are_left_out_of_the_emitted_products():
    """O and P are ones; C, a sum of ones, is its number of terms (no pass over an array of ones); M's product keeps X,
    Y and 1/max(C, 1); N's keeps X and Z; K's ones carry i, which Z lacks."""
    text = tlc.compile(SOURCE).source(X=np.ones((3, 4)), Y=np.ones((3, 4)), Z=np.ones(4))
    assert "C = rt.owned(np.full((3,), 4.0), (3,))" in text and "np.einsum" not in text
    assert "O = np.ones((3, 4))" in text and "P = np.ones((3, 4))" in text and "np.power" not in text
    assert "rt.contract('ab,ab,a->a', X, Y, _t1, optimize=[(0, 1), (0, 1)])" in text
    assert "N = rt.owned((Z * X), (3, 4))" in text     # X^0 left out when planning (tlc.driver.carriers)
    assert "rt.contract('ab,b->a', _t2, Z" in text


@pytest.mark.parametrize("backend", BACKENDS)
def test_ones_match_numpy(backend):
    rng = np.random.default_rng(11)
    x, y, z = (rng.uniform(0.5, 2.0, s) * rng.choice([-1.0, 1.0], s) for s in [(5, 7), (5, 7), 7])
    x[0, 0] = np.nan      # X^0 is still 1 there
    with np.errstate(invalid="ignore"):
        got = tlc.compile(SOURCE, backend=backend)(X=x, Y=y, Z=z)
    np.testing.assert_array_equal(got["O"], np.ones((5, 7)))
    np.testing.assert_array_equal(got["C"], np.full(5, 7.0))
    np.testing.assert_allclose(got["M"], (x * y).sum(axis=1) / 7, rtol=1e-13)
    np.testing.assert_allclose(got["N"], z * x, rtol=1e-13)
    np.testing.assert_allclose(got["K"], np.full(5, z.sum()), rtol=1e-13)
    np.testing.assert_array_equal(got["P"], np.ones((5, 7)))


@pytest.mark.parametrize("backend", tlc.fuzz.available_backends())
def test_a_ones_factor_with_indices_of_its_own_is_kept_with_their_extents(backend):
    """Found by the gradient campaign (TLC_FUZZ_SEED=50, the adjoint of ``T0[i, j + 1] = X0[i, j] + X0[k, l]``):
    ``B[k, l]^0`` carries ``k`` and ``l``, which the other factors lack, so it stays in the product, and the
    contraction's plan lacked their extents (dask's task estimate raised ``KeyError: 'k'``)."""
    rng = np.random.default_rng(12)
    a, b, c = (rng.uniform(0.5, 2.0, s) * rng.choice([-1.0, 1.0], s) for s in [(3, 4), (2, 5), (3, 5)])
    got = tlc.compile("G[k, l] = A[i, j]^0 * B[k, l]^0 C[i, j + 1]\n", backend=backend)(A=a, B=b, C=c)
    np.testing.assert_allclose(np.asarray(got["G"]), np.full((2, 5), c[:, 1:].sum()), rtol=1e-13)
