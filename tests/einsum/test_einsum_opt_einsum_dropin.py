"""``tlc.einsum.contract``/``contract_path`` against opt_einsum's: keywords, optimize forms, PathInfo, labels."""

from __future__ import annotations

import numpy as np
import opt_einsum
import pytest
from opt_einsum import get_symbol
from opt_einsum.contract import PathInfo as OptEinsumPathInfo

import tlc
from tlc.einsum import PathInfo, contract, contract_path

RNG = np.random.default_rng(23)
EQ = "ab,bc,cd,de,ea->"
SHAPES = [(6, 7), (7, 8), (8, 9), (9, 5), (5, 6)]


def _arrays(shapes):
    """Non-zero random operands."""
    return [RNG.uniform(0.5, 1.5, s) for s in shapes]


@pytest.mark.parametrize("use_blas", [True, False])
@pytest.mark.parametrize("optimize", [True, False, "auto", "greedy", "optimal", "dp", "branch-2", "random-greedy"])
def test_contract_matches_opt_einsum(optimize, use_blas):
    arrays = _arrays(SHAPES)
    got = contract(EQ, *arrays, optimize=optimize, use_blas=use_blas)
    want = opt_einsum.contract(EQ, *arrays, optimize=optimize, use_blas=use_blas)
    np.testing.assert_allclose(got, want)


@pytest.mark.parametrize("optimize", ["greedy", "optimal", "dp", "branch-all"])
def test_named_strategies_give_opt_einsums_path(optimize):
    path, info = contract_path(EQ, *SHAPES, shapes=True, optimize=optimize)
    want, _ = opt_einsum.contract_path(EQ, *SHAPES, shapes=True, optimize=optimize)
    assert path == want
    assert info.strategy == optimize


def test_path_info_has_opt_einsums_attributes_and_table():
    arrays = _arrays(SHAPES)
    path, info = contract_path(EQ, *arrays)
    _, want = opt_einsum.contract_path(EQ, *arrays, optimize=path)
    assert isinstance(info, PathInfo) and isinstance(info, OptEinsumPathInfo)
    for name in ("contraction_list", "scale_list", "size_list", "naive_cost", "opt_cost", "speedup",
                 "largest_intermediate", "eq", "input_subscripts", "output_subscript", "indices", "shapes",
                 "size_dict", "path"):
        assert getattr(info, name) == getattr(want, name), name
    assert repr(info) == repr(want) and str(info) == str(want)
    assert info.strategy     # tlc's extra: what found the path
    assert tlc.contract_path is contract_path


def test_tlc_path_is_no_worse_than_opt_einsums_auto():
    _, info = contract_path(EQ, *SHAPES, shapes=True)
    _, auto = opt_einsum.contract_path(EQ, *SHAPES, shapes=True)
    assert info.opt_cost <= auto.opt_cost


@pytest.mark.parametrize("optimize", [True, "greedy", "optimal", "dp"])
@pytest.mark.parametrize("limit", [30, 60, "max_input"])
def test_memory_limit_caps_every_intermediate(optimize, limit):
    shapes = [(8, 8), (8, 8), (8, 8), (8, 8)]
    eq = "ab,cd,bc,da->"
    try:
        opt_einsum.contract_path(eq, *shapes, shapes=True, optimize=optimize, memory_limit=limit)
    except RuntimeError:    # 'dp' finds no path below 64 elements: the same error class, as a TlcError
        with pytest.raises(RuntimeError) as info:
            contract_path(eq, *shapes, shapes=True, optimize=optimize, memory_limit=limit)
        assert isinstance(info.value, tlc.TlcError) and "memory_limit" in str(info.value)
        return
    path, info = contract_path(eq, *shapes, shapes=True, optimize=optimize, memory_limit=limit)
    cap = 64 if limit == "max_input" else limit
    pairwise = [size for step, size in zip(path, info.size_list) if len(step) == 2]
    assert all(size <= cap for size in pairwise)
    arrays = _arrays(shapes)
    np.testing.assert_allclose(contract(eq, *arrays, optimize=optimize, memory_limit=limit),
                               np.einsum(eq, *arrays))


def test_memory_limit_that_no_pair_meets_contracts_at_once_like_opt_einsum():
    path, _ = contract_path("ab,bc,cd->ad", (9, 9), (9, 9), (9, 9), shapes=True, memory_limit=5)
    want, _ = opt_einsum.contract_path("ab,bc,cd->ad", (9, 9), (9, 9), (9, 9), shapes=True, optimize="auto",
                                       memory_limit=5)
    assert path == want == [(0, 1, 2)]


@pytest.mark.parametrize("limit", ["lots", 0, -2, 0.5, [1]])
def test_bad_memory_limit(limit):
    with pytest.raises(tlc.TlcError) as info:
        contract_path(EQ, *SHAPES, shapes=True, memory_limit=limit)
    with pytest.raises(Exception) as expected:
        opt_einsum.contract_path(EQ, *SHAPES, shapes=True, memory_limit=limit)
    assert isinstance(info.value, type(expected.value))


@pytest.mark.parametrize(("optimize", "path"), [
    (("greedy", 0), [(0, 1, 2, 3, 4)]),
    (("optimal", 0), [(0, 1, 2, 3, 4)]),
    ([(0, 1), (0, 1), (0, 1), (0, 1)], [(0, 1), (0, 1), (0, 1), (0, 1)]),
    (["einsum_path", (3, 4), (0, 1), (0, 1), (0, 1)], [(3, 4), (0, 1), (0, 1), (0, 1)]),
])
def test_optimize_tuple_and_path_forms(optimize, path):
    arrays = _arrays(SHAPES)
    got_path, info = contract_path(EQ, *arrays, optimize=optimize)
    assert got_path == path
    np.testing.assert_allclose(contract(EQ, *arrays, optimize=optimize), np.einsum(EQ, *arrays))


def test_path_optimizer_objects_are_called_every_time():
    optimizer = opt_einsum.RandomGreedy(max_repeats=4)
    for _ in range(3):
        contract_path(EQ, *SHAPES, shapes=True, optimize=optimizer)
    assert len(optimizer.costs) == 12
    assert contract_path(EQ, *SHAPES, shapes=True, optimize=optimizer)[1].strategy == "RandomGreedy"


@pytest.mark.parametrize("path", [[(0, 1)], [(0, 9), (0, 1), (0, 1), (0, 1)], [(0, 0), (0, 1), (0, 1), (0, 1)]])
def test_bad_explicit_path_is_a_clear_error(path):
    with pytest.raises(tlc.TlcError, match="contraction path") as info:
        contract(EQ, *_arrays(SHAPES), optimize=path)
    assert isinstance(info.value, (ValueError, IndexError, RuntimeError))


def test_non_ascii_and_many_labels():
    n = 70
    labels = [get_symbol(k) for k in range(n + 1)]
    eq = ",".join(labels[k] + labels[k + 1] for k in range(n)) + "->" + labels[0] + labels[n]
    arrays = [RNG.uniform(0.5, 1.5, (2, 2)) for _ in range(n)]
    path, info = contract_path(eq, *arrays)
    assert info.eq == eq
    np.testing.assert_allclose(contract(eq, *arrays), np.linalg.multi_dot(arrays))
    np.testing.assert_allclose(tlc.einsum(eq, *arrays), np.linalg.multi_dot(arrays))


def test_interleaved_input_with_any_labels():
    a, b = _arrays([(3, 4), (4, 5)])
    want = a @ b
    np.testing.assert_allclose(contract(a, ["i", "j"], b, ["j", "k"], ["i", "k"]), want)
    np.testing.assert_allclose(contract(a, [100, 200], b, [200, 300], [100, 300]), want)
    path, info = contract_path(a, [(0, 0), (1, 1)], b, [(1, 1), (2, 2)])
    assert path == [(0, 1)] and len(info.output_subscript) == 2


@pytest.mark.parametrize("backend", ["numpy", "auto", "object"])
def test_numpy_family_backends(backend):
    a, b = _arrays([(3, 4), (4, 5)])
    if backend == "object":
        a, b = a.astype(object), b.astype(object)
    got = contract("ij,jk->ik", a, b, backend=backend)
    np.testing.assert_allclose(np.asarray(got, float), np.asarray(opt_einsum.contract("ij,jk->ik", a, b), float))


def test_other_backends_are_refused_clearly():
    a, b = _arrays([(3, 4), (4, 5)])
    with pytest.raises(tlc.TlcError, match="opt_einsum.contract"):
        contract("ij,jk->ik", a, b, backend="torch")

    class Foreign:      # an array from a library that is not NumPy
        shape = (3, 4)
    Foreign.__module__ = "somelib.arrays"
    with pytest.raises(tlc.TlcError, match="not a NumPy array"):
        contract("ij,jk->ik", Foreign(), b)


def test_out_dtype_order_casting():
    a, b, c = _arrays([(20, 30), (30, 40), (40, 10)])
    out = np.empty((20, 10))
    assert contract("ij,jk,kl->il", a, b, c, out=out) is out
    np.testing.assert_allclose(out, a @ b @ c)
    got = contract("ij,jk,kl->il", a, b, c, dtype="f4", casting="same_kind", order="F")
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, a @ b @ c, rtol=1e-5)


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError) as info:
        contract("ij->", np.ones((2, 2)), colour="red")
    assert isinstance(info.value, tlc.TlcError)
    with pytest.raises(TypeError):
        contract_path("ij->", np.ones((2, 2)), colour="red")


def test_plans_are_cached_per_shape():
    from tlc.einsum import contraction_plan
    contract_path(EQ, *SHAPES, shapes=True)
    before = contraction_plan.cache_info()
    contract(EQ, *_arrays(SHAPES))
    after = contraction_plan.cache_info()
    assert after.hits == before.hits + 1 and after.misses == before.misses
