"""Dense semi-naive strata on the llvm backend: a rule of two binary atoms joined on one variable with a dense
operand joins on bitset rows (``tlc_runtime.bitset_join``, the closure's compiled word-OR loop); the results are the
NumPy backend's (dense and sparse strategies) on random graphs, cyclic, acyclic, empty, with self-loops and unequal
extents, on one thread and two."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import tlc
from spying import record_calls

pytest.importorskip("llvmlite")

import tlc_runtime.bitset_join as bitset_join  # noqa: E402

MUTUAL = "A(x, z) = E(x, z)\nA(x, z) = B(x, y) E(y, z)\nB(x, z) = A(x, y) F(y, z)"
TURNED = "A(x, z) = E(z, x)\nA(x, z) = E(y, x) B(z, y)\nB(x, z) = F(y, z) A(x, y)"
SAME_GENERATION = "S(x, y) = P(x, z) P(y, z)\nS(x, y) = P(x, a) S(a, b) P(y, b)"


@pytest.fixture
def bitset_calls(monkeypatch):
    """The operands' shapes of each product that ran on bitset rows."""
    return record_calls(monkeypatch, bitset_join, "product", lambda args, result: (args[0].shape, args[1].shape))


def agree(source: str, **inputs) -> dict:
    """The llvm backend's dense strategy (one and two threads) gives the NumPy backend's relations (dense and sparse
    strategies); returns them."""
    expected = {k: np.asarray(v) for k, v in tlc.compile(source, relations="dense")(**inputs).items()}
    sparse = tlc.compile(source, relations="sparse")(**inputs)
    for name, value in expected.items():
        assert np.array_equal(np.asarray(sparse[name]), value), name
    for threads in (1, 2):
        got = tlc.compile(source, backend="llvm", relations="dense", threads=threads)(**inputs)
        for name, value in expected.items():
            assert np.array_equal(np.asarray(got[name]), value), name
    return expected


def graph(rng, n: int, degree: float, m: int | None = None) -> np.ndarray:
    """A random relation of ``n × m`` pairs with about ``degree`` per row, self-loops included."""
    m = n if m is None else m
    edges = rng.random((n, m)) < degree / m
    edges[np.arange(min(n, m)), np.arange(min(n, m))] |= rng.random(min(n, m)) < 0.1
    return edges


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("degree", [0.5, 2.0, 8.0])
def test_mutual_recursion_on_random_graphs(seed, degree, bitset_calls):
    rng = np.random.default_rng(seed)
    agree(MUTUAL, E=graph(rng, 120, degree), F=graph(rng, 120, degree))
    if degree > 1:
        assert bitset_calls       # dense deltas met: the bitset joins ran


def test_argument_orders_and_acyclic_graphs(bitset_calls):
    rng = np.random.default_rng(4)
    e, f = np.triu(graph(rng, 100, 6.0), 1), np.triu(graph(rng, 100, 6.0), 1)
    agree(TURNED, E=e, F=f)
    agree(MUTUAL, E=e, F=f)
    assert bitset_calls


def test_rectangular_relations(bitset_calls):
    rng = np.random.default_rng(6)
    agree(MUTUAL, E=graph(rng, 100, 4.0, 130), F=graph(rng, 130, 4.0, 100))
    assert bitset_calls


def test_empty_and_full_relations():
    n = 70
    agree(MUTUAL, E=np.zeros((n, n), bool), F=np.ones((n, n), bool))
    agree(MUTUAL, E=np.ones((n, n), bool), F=np.zeros((n, n), bool))
    agree(MUTUAL, E=np.ones((n, n), bool), F=np.eye(n, dtype=bool))


def test_three_atom_rules_keep_the_numpy_joins(bitset_calls):
    rng = np.random.default_rng(5)
    parent = graph(rng, 80, 1.5)
    agree(SAME_GENERATION, P=parent)


@pytest.mark.parametrize("xs, ys, zs", [(5, 7, 3), (130, 64, 65), (1, 200, 129), (0, 4, 4), (4, 0, 4), (4, 4, 0)])
@pytest.mark.parametrize("sparse_left", [False, True])
def test_the_product_matches_a_float_product(xs, ys, zs, sparse_left):
    from tlc.backends.llvm.jit import jit
    from tlc.backends.llvm.kernel import ClosureLoop
    from tlc_runtime.native import ClosureSpec, bind

    engine = jit()
    engine.compile(ClosureLoop())
    kernel = bind({"c": ClosureSpec(ClosureLoop().symbol)}, engine.address, threads=2, owner=engine)["c"]
    rng = np.random.default_rng(xs + ys + zs)
    left, right = rng.random((xs, ys)) < 0.1, rng.random((ys, zs)) < 0.3
    operand = sp.csc_matrix(left.astype(float)) if sparse_left else left
    got = bitset_join.product(operand, right, kernel)
    assert got.dtype == bool and got.shape == (xs, zs)
    np.testing.assert_array_equal(got, (left.astype(float) @ right.astype(float)) > 0)


def test_explain_says_which_rules_join_natively():
    rng = np.random.default_rng(0)
    text = tlc.compile(MUTUAL, backend="llvm", relations="dense").explain(E=graph(rng, 20, 2.0),
                                                                         F=graph(rng, 20, 2.0))
    assert "runs: dense semi-naive: NumPy/scipy runtime (tlc_runtime.sparse), but a rule of two binary atoms " \
           "joined on one variable with a dense operand joins as a native llvm kernel" in text
