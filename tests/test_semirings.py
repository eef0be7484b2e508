"""Semirings through aggregators: min-plus, max-min, max-product and path counting run to a fixpoint under
the stated convergence rule, on every backend, against independent NumPy (Floyd-Warshall, DAG dynamic
programming)."""

from __future__ import annotations

import numpy as np
import pytest

import tlc

SHORTEST = "D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] + W[y, z]"
COUNT = "N[x, z] = E[x, z]\nN[x, z] = N[x, y] E[y, z]"


def closure(w: np.ndarray, plus, times) -> np.ndarray:
    """All-pairs best paths of at least one edge by Floyd-Warshall over (plus, times)."""
    d = w.copy()
    for k in range(len(w)):
        d = plus(d, times(d[:, k:k + 1], d[k:k + 1, :]))
    return d


def graph(rng, n=9, density=0.35):
    ring = np.roll(np.eye(n, dtype=bool), 1, axis=1)
    return ring | (rng.random((n, n)) < density) & ~np.eye(n, dtype=bool)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shortest_paths(seed, compile_tl):
    rng = np.random.default_rng(seed)
    w = np.where(graph(rng), rng.uniform(0.5, 9.0, (9, 9)), np.inf)
    got = compile_tl(SHORTEST)(W=w)["D"]
    np.testing.assert_allclose(got, closure(w, np.minimum, np.add))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_widest_paths_with_pairwise_min(seed, compile_tl):
    rng = np.random.default_rng(seed)
    cap = np.where(graph(rng), rng.uniform(0.5, 9.0, (9, 9)), 0.0)
    got = compile_tl("B[x, z] max= C[x, z]\nB[x, z] max= min(B[x, y], C[y, z])")(C=cap)["B"]
    np.testing.assert_allclose(got, closure(cap, np.maximum, np.minimum))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_most_probable_paths_with_zero_for_no_edge(seed, compile_tl):
    """-inf (not yet derived) times 0 (no edge) is NaN, which max= counts as no contribution."""
    rng = np.random.default_rng(seed)
    p = np.where(graph(rng, density=0.2), rng.uniform(0.3, 1.0, (9, 9)), 0.0)
    got = compile_tl("R[x, z] max= P[x, z]\nR[x, z] max= R[x, y] P[y, z]")(P=p)["R"]
    np.testing.assert_allclose(got, closure(p, np.maximum, np.multiply))


@pytest.mark.parametrize("seed", [0, 1])
def test_path_counting_on_a_dag(seed, compile_tl):
    rng = np.random.default_rng(seed)
    n = 10
    e = np.triu(rng.random((n, n)) < 0.5, k=1).astype(float)
    expected = np.zeros((n, n))
    power = e.copy()
    while power.any():            # paths of length 1, 2, ...: nilpotent on a DAG
        expected += power
        power = power @ e
    np.testing.assert_array_equal(compile_tl(COUNT)(E=e)["N"], expected)


def test_negative_cycle_fails_after_the_stated_rounds(compile_tl):
    """4 nodes: a best path visits at most 4, so values still changing in round 5 prove a negative cycle."""
    w = np.full((4, 4), np.inf)
    w[0, 1], w[1, 2], w[2, 0], w[2, 3] = 1.0, -3.0, 1.0, 2.0
    with pytest.raises(tlc.TlcError, match=r"D has a negative cycle: its values still change after 5 rounds") as err:
        compile_tl(SHORTEST)(W=w)
    assert err.value.line == 2


def test_counting_paths_on_a_cycle_fails_located(compile_tl):
    e = np.zeros((3, 3))
    e[0, 1] = e[1, 2] = e[2, 0] = 1.0
    with pytest.raises(tlc.TlcError, match=r"N did not converge after 10000 rounds \(last change 1\)") as err:
        compile_tl(COUNT)(E=e)
    assert err.value.line == 2


def test_pairwise_max_broadcasts(compile_tl):
    rng = np.random.default_rng(5)
    a, b = rng.uniform(-1, 1, 5), rng.uniform(-1, 1, 4)
    got = compile_tl("M[i, j] = max(A[i], B[j]) + min(A[i], 0.5)")(A=a, B=b)["M"]
    np.testing.assert_allclose(got, np.maximum(a[:, None], b[None]) + np.minimum(a, 0.5)[:, None])


def test_pairwise_min_takes_two_arguments():
    with pytest.raises(tlc.TlcError, match="min takes 2 arguments, got 1"):
        tlc.compile("M[i] = min(A[i])")


def test_explain_states_the_convergence_rule():
    prog = tlc.compile(SHORTEST + "\n" + COUNT)
    text = prog.explain(W=np.ones((5, 5)), E=np.zeros((3, 3)))
    assert "converges within 6 rounds, or fails: a chain of derivations visits at most 5 elements (every " \
           "recursive" in text
    assert "converges within 10000 rounds, or fails: 10000 is the default for a recursion with a sum " in text


def test_unreachable_pairs_keep_the_infinity_from_data(compile_tl):
    """inf from data is a value (no path), not an untouched element: only elements nothing reached are 0."""
    w = np.full((3, 3), np.inf)
    w[0, 1] = 2.0
    got = compile_tl(SHORTEST + "\nM[i] max= V[i, j]")(W=w, V=np.array([[-np.inf, -np.inf], [1.0, -2.0]]))
    expected = np.full((3, 3), np.inf)
    expected[0, 1] = 2.0
    np.testing.assert_array_equal(got["D"], expected)
    np.testing.assert_array_equal(got["M"], [-np.inf, 1.0])
