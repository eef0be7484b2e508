"""``tlc_runtime.contract``: float operands one of which holds every index go through ``numpy.einsum``'s loop once;
otherwise two float operands go through one (batched) ``matmul`` (one dot product per batch
element through ``numpy.einsum``'s loop), more float operands step by step along the path (a pair summing an index
by ``matmul``), everything else through ``numpy.einsum``; either way the numbers are ``numpy.einsum``'s, on random
non-zero inputs."""

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


@pytest.mark.parametrize("subscripts, path", [
    ("abc,abc,ab->ab", [(0, 1), (0, 1)]),                       # lnorm's masked mean
    ("abd,abd,abd,ab->ab", [(0, 2), (0, 2), (0, 1)]),           # a broadcast product first, then a sum
    ("abc,cd,abd,abc->abc", [(0, 3), (0, 1), (0, 1)]),
    ("ab,bc,cd->ad", [(0, 1), (0, 1)]),                         # a chain of matrix products
    ("ab,bc,cd->ad", [(1, 2), (0, 1)]),
    ("aa,ab,b->a", [(0, 1), (0, 1)]),                           # a repeated index: einsum
    ("ab,c,cb->a", [(1, 2), (0, 1)]),
    ("abc,cd,d->", [(0, 1), (0, 1)]),
])
def test_several_operands_step_by_step(subscripts, path):
    rng = np.random.default_rng(len(subscripts) + len(path))
    inputs = subscripts.split("->")[0].split(",")
    arrays = [_operand(rng, s) if s != "aa" else _operand(rng, "ab")[:, :3].copy() for s in inputs]
    got = contract(subscripts, *arrays, optimize=path)
    np.testing.assert_allclose(got, np.einsum(subscripts, *arrays), rtol=1e-12, atol=1e-13)



@pytest.mark.parametrize("subscripts, path", [
    ("ab,bc->ac", [(0, 1)]), ("ab,cb->ca", [(0, 1)]), ("abcd,abed->abce", [(0, 1)]), ("abc,abd->cd", [(0, 1)]),
    ("aa,ab->b", [(0, 1)]), ("abc,abc,ab->ab", [(0, 1), (0, 1)]), ("ab,bc,cd->ad", [(1, 2), (0, 1)]),
    ("abc->ab", []),
])
def test_into_a_given_array(subscripts, path):
    """With ``out=`` (a C-contiguous float64 array, as scratch arrays are) the result is written there and returned:
    by ``matmul`` into it, by ``numpy.einsum`` into it, or copied there (a transposed or stepwise result)."""
    rng = np.random.default_rng(len(subscripts))
    inputs, output = subscripts.split("->")
    arrays = [_operand(rng, s) if s != "aa" else _operand(rng, "ab")[:, :3].copy() for s in inputs.split(",")]
    out = np.full([SIZES[c] for c in output], np.nan)
    got = contract(subscripts, *arrays, optimize=path, out=out)
    assert got is out
    np.testing.assert_allclose(out, np.einsum(subscripts, *arrays), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("subscripts", ["ab,cdb->cda", "ab,cb->ca", "ab,acd->cdb", "eab,ecb->eca"])
def test_a_product_laid_out_as_the_output_takes_the_operands_the_other_way_round(subscripts, monkeypatch):
    """``W[e, d] X[b, p, d]`` to ``[b, p, e]`` is ``X W^T``: one ``matmul`` of the operands swapped writes the output's
    layout (into ``out=`` directly), where ``W X^T`` needed a transposed copy of its product (twice the time)."""
    rng = np.random.default_rng(len(subscripts))
    inputs, output = subscripts.split("->")
    a, b = (_operand(rng, s) for s in inputs.split(","))
    assert _pair_plan(subscripts)[5]
    products = []
    matmul = np.matmul
    monkeypatch.setattr(np, "matmul", lambda x, y, **kw: products.append(kw.get("out")) or matmul(x, y, **kw))
    out = np.full([SIZES[c] for c in output], np.nan)
    assert contract(subscripts, a, b, optimize=[(0, 1)], out=out) is out
    assert len(products) == 1 and products[0] is not None and products[0].base is out
    np.testing.assert_allclose(out, np.einsum(subscripts, a, b), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(contract(subscripts, a, b, optimize=[(0, 1)]), out, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("subscripts, path", [
    ("abc,ab->ab", [(0, 1)]),                   # lnorm's masked mean (an index summed in one operand alone)
    ("abc,abc,ab->ab", [(0, 1), (0, 1)]),       # its variance: summed, then multiplied by 1 / count
    ("abc,abc,ba->ab", [(0, 1), (0, 1)]),       # the same multiplier transposed: multiplied by numpy.einsum
    ("abc,ab->abc", [(0, 1)]),                  # a broadcast product
    ("abc,c->ab", [(0, 1)]),
])
def test_a_contraction_over_one_operands_indices_runs_einsums_loop_once(subscripts, path, monkeypatch):
    """Every index is one operand's: numpy.einsum's own loop over it, with no path followed (numpy.einsum's
    path machinery took 20-40 us per call; a broadcast product went through matmul with one summed element); an
    operand holding only output indices multiplies the sum of the others afterwards (by ``numpy.multiply`` when laid
    out as the output: numpy.einsum's setup took 2 us of its 2.4)."""
    import tlc_runtime.contraction as module
    rng = np.random.default_rng(5)
    operands = [_operand(rng, s) for s in subscripts.split("->")[0].split(",")]
    expected = np.einsum(subscripts, *operands)
    calls, einsum = [], np.einsum

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return einsum(*args, **kwargs)
    monkeypatch.setattr(module.np, "einsum", spy)
    monkeypatch.setattr(module, "_ROUTES", {})          # routes chosen afresh, under the spies
    monkeypatch.setattr(module, "_pair_route", None)    # neither matmul's plan nor a path step by step
    monkeypatch.setattr(module, "_stepwise", None)
    np.testing.assert_allclose(contract(subscripts, *operands, optimize=path), expected, rtol=1e-12, atol=1e-13)
    assert calls == {"abc,abc,ab->ab": [{}], "abc,abc,ba->ab": [{}, {"out": None}]}.get(subscripts, [{"out": None}])
    if subscripts == "abc,abc,ab->ab":      # into ``out=`` too
        out = np.full(expected.shape, np.nan)
        assert contract(subscripts, *operands, optimize=path, out=out) is out
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-13)


def test_a_route_is_chosen_per_subscripts_and_shapes(monkeypatch):
    """The route taken is kept per subscripts and shapes (the same subscripts over other shapes get their own, and
    give einsum's numbers again on shapes seen before); past ``ROUTES_KEPT`` routes the kept ones are dropped, not
    grown without bound."""
    import tlc_runtime.contraction as module
    monkeypatch.setattr(module, "_ROUTES", {})
    monkeypatch.setattr(module, "ROUTES_KEPT", 2)
    rng = np.random.default_rng(8)
    for shapes in [((3, 4, 5), (3, 4)), ((3, 4, 1), (3, 4)), ((3, 4, 5), (3, 4)), ((2, 2, 2), (2, 2))]:
        a, b = (rng.uniform(0.5, 1.5, s) for s in shapes)
        np.testing.assert_allclose(contract("abc,ab->ab", a, b, optimize=[(0, 1)]), np.einsum("abc,ab->ab", a, b),
                                   rtol=1e-12)
        assert ("abc,ab->ab", *shapes) in module._ROUTES and len(module._ROUTES) <= 2
