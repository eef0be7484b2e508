"""``tlc_runtime.contract``: two float operands go through one (batched) ``matmul``, everything else through
``numpy.einsum``; either way the numbers are ``numpy.einsum``'s, on random non-zero inputs."""

import numpy as np
import pytest

from tlc_runtime.contraction import _pair_plan, contract

SIZES = dict(zip("abcdef", [3, 4, 5, 2, 6, 1]))


def _operand(rng, letters: str) -> np.ndarray:
    shape = [SIZES[c] for c in letters]
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


@pytest.mark.parametrize("subscripts", [
    "ab,bc->ac", "ab,cb->ac", "ab,cb->ca", "abc,dec->abde", "abcd,abed->abce", "abcd,abde->abce", "abc,abd->cd",
    "abc,cd->abd", "abd,efd->abef", "abde,aef->bdf", "ab,ab->a", "ab,ba->", "a,b->ab", "a,a->", "abc,c->ba",
    "fab,bf->a", "ab,ab->ba",
])
def test_two_operands_by_matmul(subscripts):
    rng = np.random.default_rng(len(subscripts))
    inputs = subscripts.split("->")[0].split(",")
    a, b = (_operand(rng, s) for s in inputs)
    assert _pair_plan(subscripts) is not None
    got = contract(subscripts, a, b, optimize=[(0, 1)])
    np.testing.assert_allclose(got, np.einsum(subscripts, a, b), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("subscripts", ["aa,ab->b", "ab,bc->a", "ab,c->ac"])
def test_repeated_or_lone_summed_indices_go_to_einsum(subscripts):
    rng = np.random.default_rng(3)
    inputs = subscripts.split("->")[0].split(",")
    a, b = (_operand(rng, s) if s != "aa" else _operand(rng, "ab")[:, :3] for s in inputs)
    assert _pair_plan(subscripts) is None
    np.testing.assert_allclose(contract(subscripts, a, b, optimize=[(0, 1)]), np.einsum(subscripts, a, b), rtol=1e-12)


def test_booleans_are_counted_not_ored():
    a = np.array([[True, True], [False, True]])
    np.testing.assert_array_equal(contract("ab,bc->ac", a, a.astype(bool), optimize=[(0, 1)]),
                                  np.einsum("ab,bc->ac", a, a))


def test_empty_extents():
    a, b = np.zeros((0, 3)), np.zeros((3, 2))
    assert contract("ab,bc->ac", a, b, optimize=[(0, 1)]).shape == (0, 2)
    assert contract("ab,bc->c", a, b.T.copy().T, optimize=[(0, 1)]).shape == (2,)
