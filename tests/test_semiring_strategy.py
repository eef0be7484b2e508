"""The semiring strategy (``relations="semiring"``, chosen by ``auto`` on large graphs): min=/max= path steps run
as sparse relaxation or Dijkstra, and must give exactly the dense rounds' results and failures, checked against the
dense strategy and scipy.sparse.csgraph on random graphs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import tlc
from semiring_programs import (ALL_PAIRS, LEFT, LONGEST, MINIMAX, MULTI, RELIABLE, SSSP,
                               TRANSPOSED, WIDEST, finite_csr, longest_paths_case, weighted)

csgraph = pytest.importorskip("scipy.sparse.csgraph")


def both(source: str, **inputs):
    """The program's result under the semiring strategy and under the dense rounds, and the semiring plan."""
    fast = tlc.compile(source, relations="semiring")
    plan = fast.explain(**inputs)
    results = fast(**inputs), tlc.compile(source, relations="dense")(**inputs)
    return results, plan


def same(source: str, **inputs):
    (fast, dense), plan = both(source, **inputs)
    assert "semiring: relaxing the changed" in plan
    for name in dense:
        np.testing.assert_array_equal(np.asarray(fast[name]), np.asarray(dense[name]), err_msg=name)
    return fast


def error_of(source: str, relations: str, **inputs) -> str:
    with pytest.raises(tlc.TlcError) as caught:
        tlc.compile(source, relations=relations, max_rounds=inputs.pop("max_rounds", None))(**inputs)
    return str(caught.value)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("degree", [0.7, 3.0, 12.0])
def test_sssp_matches_dense_and_dijkstra(seed, degree):
    rng = np.random.default_rng(seed)
    n = 60
    w = weighted(rng, n, degree, np.inf)
    src = np.full(n, np.inf)
    src[rng.integers(n)] = 0.0
    got = same(SSSP, W=w, Src=src)["Dist"]
    np.testing.assert_array_equal(got, csgraph.dijkstra(finite_csr(w), indices=int(np.flatnonzero(src == 0)[0])))


@pytest.mark.parametrize("seed", range(3))
def test_negative_weights_without_negative_cycles_match_bellman_ford(seed):
    rng = np.random.default_rng(seed)
    n = 40
    potential = rng.uniform(0, 20, n)   # w + p(u) - p(v) >= -20 keeps every cycle's length >= 0
    w = weighted(rng, n, 4.0, np.inf, 0.0, 5.0)
    w = np.where(np.isfinite(w), w + potential[:, None] - potential[None, :], np.inf)
    assert (w[np.isfinite(w)] < 0).any()
    src = np.full(n, np.inf)
    src[[0, 7]] = [0.0, -3.0]
    got = same(SSSP, W=w, Src=src)["Dist"]
    expected = np.minimum(csgraph.bellman_ford(finite_csr(w), indices=0), csgraph.bellman_ford(finite_csr(w), indices=7) - 3.0)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("source", [ALL_PAIRS, LEFT])
@pytest.mark.parametrize("seed", range(3))
def test_all_pairs_match_dense_and_shortest_path(source, seed):
    rng = np.random.default_rng(seed)
    w = weighted(rng, 30, 2.5, np.inf, integers=True)     # integer weights: many ties
    got = same(source, W=w)["D"]
    expected = csgraph.shortest_path(finite_csr(w), method="D")
    off = ~np.eye(30, dtype=bool)
    np.testing.assert_array_equal(got[off], expected[off])  # the diagonal is the shortest cycle through x here


@pytest.mark.parametrize("seed", range(3))
def test_multiple_sources_and_transposed_weights(seed):
    rng = np.random.default_rng(seed)
    n = 25
    w = weighted(rng, n, 2.0, np.inf)
    src = np.where(rng.random((4, n)) < 0.1, rng.uniform(-2, 2, (4, n)), np.inf)
    src[2] = np.nan     # a slice nothing reaches: its elements are 0
    got = same(MULTI, W=w, Src=src)["D"]
    assert (got[2] == 0).all()
    same(TRANSPOSED, W=w.T.copy(), Src=src[0])


@pytest.mark.parametrize("seed", range(3))
def test_widest_minimax_reliable_longest(seed):
    rng = np.random.default_rng(seed)
    n = 30
    same(WIDEST, C=weighted(rng, n, 3.0, 0.0, 0.5, 9.0))            # 0 for no edge: an edge of width 0
    same(WIDEST, C=weighted(rng, n, 3.0, -np.inf, -5.0, 9.0))
    same(MINIMAX, W=weighted(rng, n, 3.0, np.inf, integers=True))
    same(RELIABLE, P=weighted(rng, n, 3.0, 0.0, 0.0, 1.0))
    dag, src, expected = longest_paths_case(rng, n)
    np.testing.assert_allclose(same(LONGEST, G=dag, Src=src)["L"], expected, rtol=1e-12)


def test_reliable_paths_match_log_shortest_paths():
    rng = np.random.default_rng(5)
    p = weighted(rng, 30, 3.0, 0.0, 0.05, 1.0)
    got = same(RELIABLE, P=p)["R"]
    cost = np.full(p.shape, np.inf)
    np.negative(np.log(p, where=p > 0, out=cost), where=p > 0, out=cost)
    best = csgraph.dijkstra(finite_csr(cost))
    via = np.min(cost[:, :, None] + best[None, :, :], axis=1)     # at least one edge, as R is
    np.testing.assert_allclose(got, np.where(np.isfinite(via), np.exp(-via), 0.0), rtol=1e-9)


@pytest.mark.parametrize("special", ["nan", "inf", "-inf", "huge"])
def test_special_weights_match_dense(special):
    rng = np.random.default_rng(3)
    n = 20
    w = weighted(rng, n, 3.0, np.inf, -1.0, 5.0)
    pick = rng.random((n, n)) < 0.05
    w[pick] = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf, "huge": 1e306}[special]
    src = np.full(n, np.nan)
    src[:3] = [0.0, np.inf, 2.0]
    fast, dense = (_outcome(SSSP, relations, W=w, Src=src) for relations in ("semiring", "dense"))
    assert fast == dense        # a -inf or huge negative edge on a cycle is a negative cycle: the same error
    same(WIDEST, C=np.where(np.isinf(w), np.nan, w))


def _outcome(source: str, relations: str, **inputs):
    """The bytes of the program's first result, or its error's text."""
    try:
        results = tlc.compile(source, relations=relations)(**inputs)
    except tlc.TlcError as error:
        return str(error)
    return np.asarray(next(iter(results.values()))).tobytes()


def test_negative_cycle_is_the_same_error():
    n = 12
    w = np.full((n, n), np.inf)
    w[np.arange(n), (np.arange(n) + 1) % n] = -1.0
    src = np.full(n, np.inf)
    src[0] = 0.0
    fast, dense = error_of(SSSP, "semiring", W=w, Src=src), error_of(SSSP, "dense", W=w, Src=src)
    assert "negative cycle" in fast and fast == dense
    assert error_of(ALL_PAIRS, "semiring", W=w) == error_of(ALL_PAIRS, "dense", W=w)


def test_round_limit_is_the_same_error():
    n = 30
    w = np.full((n, n), np.inf)
    w[np.arange(n - 1), np.arange(1, n)] = 1.0      # a chain: n rounds, Dijkstra not allowed under max_rounds
    src = np.full(n, np.inf)
    src[0] = 0.0
    fast = error_of(SSSP, "semiring", W=w, Src=src, max_rounds=10)
    assert "did not converge after 10 rounds" in fast
    assert fast == error_of(SSSP, "dense", W=w, Src=src, max_rounds=10)
    same_rounds = tlc.compile(SSSP, relations="semiring", max_rounds=n + 1)(W=w, Src=src)["Dist"]
    np.testing.assert_array_equal(same_rounds, np.arange(n, dtype=float))


def test_auto_picks_semiring_for_a_large_graph_and_dense_for_a_small_one():
    rng = np.random.default_rng(0)
    big = weighted(rng, 400, 4.0, np.inf)
    src = np.full(400, np.inf)
    src[0] = 0.0
    text = tlc.compile(SSSP).explain(W=big, Src=src)
    assert "semiring: relaxing the changed" in text and "lowest estimated cost" in text and "estimated einsum" in text
    small = tlc.compile(SSSP).explain(W=big[:4, :4], Src=src[:4])
    assert "semiring: dense tensor code" in small
    assert "sr.fixpoint" not in tlc.compile(ALL_PAIRS).source(W=big[:4, :4])
    assert "sr.fixpoint" in tlc.compile(SSSP).source(W=big, Src=src)


def test_forced_datalog_strategies_keep_the_dense_code_and_other_strata_ignore_semiring():
    w = np.full((3, 3), np.inf)
    assert "semiring: dense tensor code (dense forced" in tlc.compile(ALL_PAIRS, relations="dense").explain(W=w)
    edge = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=bool)
    source = "P(x, y) = E(x, y)\nP(x, z) = P(x, y) E(y, z)"
    assert set(tlc.compile(source, relations="semiring")(E=edge)["P"]) == set(tlc.compile(source)(E=edge)["P"])


@pytest.mark.parametrize("low", [0.0, -1.0])
def test_data_supplied_for_the_recursive_tensor_is_one_more_contribution(low):
    rng = np.random.default_rng(4)
    n = 30
    w = weighted(rng, n, 2.0, np.inf, low, 5.0)
    src = np.full(n, np.inf)
    src[0] = 0.0
    given = np.where(rng.random(n) < 0.3, rng.uniform(-3, 3, n), np.nan)
    for data in (given, given[:10]):
        assert _outcome(SSSP, "semiring", W=w, Src=src, Dist=data) == _outcome(SSSP, "dense", W=w, Src=src, Dist=data)


def _weights(w: np.ndarray, absent: float):
    """``w`` as ``tlc.Weights``: its elements other than ``absent`` as entries."""
    from scipy.sparse import coo_matrix
    rows, cols = np.nonzero(~((w == absent) | (np.isnan(w) & np.isnan(absent))))
    return tlc.Weights(coo_matrix((w[rows, cols], (rows, cols)), shape=w.shape), absent=absent)


@pytest.mark.parametrize("source, none, name", [(SSSP, np.inf, "W"), (TRANSPOSED, np.inf, "W"), (MULTI, np.inf, "W"),
                                                (ALL_PAIRS, np.inf, "W"), (WIDEST, 0.0, "C"), (WIDEST, -np.inf, "C"),
                                                (RELIABLE, 0.0, "P"), (MINIMAX, np.inf, "W")])
@pytest.mark.parametrize("backend", ["numpy", "llvm"])
def test_weights_given_by_their_entries_match_the_dense_array(source, none, name, backend):
    rng = np.random.default_rng(7)
    n = 40
    w = weighted(rng, n, 3.0, none, 0.0, 1.0 if name == "P" else 9.0)
    inputs = {name: w}
    if "Src" in source:
        inputs["Src"] = np.where(rng.random((3, n) if "D[s" in source else n) < 0.1, 0.0, np.inf)
    expected = tlc.compile(source, relations="dense")(**inputs)
    for relations in ("semiring", "dense", "auto"):
        program = tlc.compile(source, relations=relations, backend=backend)
        got = program(**{**inputs, name: _weights(w, none)})
        for tensor in expected:
            np.testing.assert_array_equal(np.asarray(got[tensor]), np.asarray(expected[tensor]), err_msg=relations)
    entries_only = "inputs['W']  #" in tlc.compile(source, relations="semiring").source(**{**inputs, name: w})
    assert entries_only == (source in (SSSP, TRANSPOSED, MULTI))   # all pairs read W in their base equation


def test_weights_whose_absent_value_is_not_idle_or_whose_entries_hold_nan():
    rng = np.random.default_rng(8)
    n = 30
    w = weighted(rng, n, 3.0, 7.5)
    w[rng.random((n, n)) < 0.02] = np.nan
    src = np.where(rng.random(n) < 0.1, 0.0, np.inf)
    expected = tlc.compile(SSSP, relations="dense")(W=w, Src=src)["Dist"]
    got = tlc.compile(SSSP, relations="semiring")(W=_weights(w, 7.5), Src=src)["Dist"]
    np.testing.assert_array_equal(got, expected)


def test_a_weights_matrix_on_a_graph_too_large_for_the_dense_array():
    from scipy.sparse import random as sparse_random
    n = 200_000      # the dense W would have 4e10 elements
    matrix = sparse_random(n, n, density=3 / n, format="csr", random_state=np.random.default_rng(0))
    src = np.full(n, np.inf)
    src[:2] = 0.0
    got = tlc.compile(SSSP)(W=tlc.Weights(matrix), Src=src)["Dist"]
    np.testing.assert_array_equal(got, csgraph.dijkstra(matrix, indices=[0, 1], min_only=True))


def test_weights_data_errors():
    from scipy.sparse import eye
    with pytest.raises(tlc.DataError, match="tlc.Weights is data for a numeric matrix, but E is a relation"):
        tlc.compile("P(x, y) = E(x, y)")(E=tlc.Weights(eye(3)))
    with pytest.raises(tlc.DataError, match="but V is of rank 1"):
        tlc.compile("X[i] = V[i]")(V=tlc.Weights(eye(3)))
    with pytest.raises(tlc.DataError, match=r"tlc.Weights\(matrix, absent=...\)"):
        tlc.compile("X[i] = V[i, j]")(V=eye(3))
    with pytest.raises(TypeError, match="Weights takes a 2-d scipy.sparse matrix"):
        tlc.Weights(np.eye(3))


SHAPES = {SSSP: ("W", "Src"), MULTI: ("W", "Src"), ALL_PAIRS: ("W",), LEFT: ("W",), TRANSPOSED: ("W", "Src"),
          WIDEST: ("C",), RELIABLE: ("P",), LONGEST: ("G", "Src"), MINIMAX: ("W",)}
SPECIAL = (np.inf, -np.inf, np.nan, 0.0, -0.0, 1.0, 2.0, -1.0, 0.5, 1e306, -1e306)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=st.sampled_from(sorted(SHAPES)), n=st.integers(1, 7), seed=st.integers(0, 2**32 - 1),
       rounds=st.sampled_from([None, 1, 3, 50]))
def test_random_values_give_the_dense_outcome(source, n, seed, rounds):
    """Any mix of special values (inf, -inf, NaN, signed zeros, huge) in weights and base: the same results
    (NaN where NaN; a zero's sign may differ, as the order the dense fold meets 0.0 and -0.0 decides it), or the
    same error, as the dense rounds."""
    rng = np.random.default_rng(seed)
    weight, base = SHAPES[source][0], SHAPES[source][1:]
    inputs = {weight: rng.choice(SPECIAL, (n, n))}
    for name in base:
        inputs[name] = rng.choice(SPECIAL, (2, n) if source == MULTI else (n,))
    outcomes = []
    for relations in ("semiring", "dense"):
        try:
            results = tlc.compile(source, relations=relations, max_rounds=rounds)(**inputs)
            outcomes.append([np.asarray(v) for v in results.values()])
        except tlc.TlcError as error:
            outcomes.append(str(error))
    fast, dense = outcomes
    assert type(fast) is type(dense) and (fast == dense if isinstance(fast, str) else
                                          all(np.array_equal(a, b, equal_nan=True) for a, b in zip(fast, dense)))


def test_empty_graphs_keep_the_dense_code():
    program = tlc.compile(SSSP, relations="semiring")
    assert program(W=np.zeros((0, 0)), Src=np.zeros(0))["Dist"].shape == (0,)
    assert "sr.fixpoint" not in program.source(W=np.zeros((0, 0)), Src=np.zeros(0))
