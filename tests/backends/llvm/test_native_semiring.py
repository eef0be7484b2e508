"""The semiring strategy's native kernels on the llvm backend (``tlc_runtime.semiring_native``): the same values,
rounds and errors as the NumPy semiring runtime and the dense rounds, checked on random graphs and against
scipy.sparse.csgraph, on one thread and two."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import tlc
from semiring_programs import (ALL_PAIRS, LEFT, LONGEST, MINIMAX, MULTI, RELIABLE, SSSP, WIDEST, finite_csr,
                               longest_paths_case, weighted)

pytest.importorskip("llvmlite")
csgraph = pytest.importorskip("scipy.sparse.csgraph")

import tlc_runtime.semiring as sr  # noqa: E402
from tlc_runtime.errors import RuntimeFailure  # noqa: E402
from tlc_runtime.fixpoint import Fixpoint  # noqa: E402


def outcome(source: str, relations: str, backend: str = "numpy", threads: int | None = None, **inputs):
    """The program's results as arrays, or its error's text."""
    try:
        results = tlc.compile(source, relations=relations, backend=backend, threads=threads)(**inputs)
    except tlc.TlcError as error:
        return str(error)
    return {name: np.asarray(value) for name, value in results.items()}


def agree(source: str, **inputs):
    """The native kernels (one and two threads), the NumPy semiring runtime and the dense rounds give the same
    results or the same error; returns the native results."""
    native = tlc.compile(source, relations="semiring", backend="llvm")
    assert "native llvm kernels" in native.explain(**inputs)
    outcomes = [outcome(source, "semiring", "llvm", threads, **inputs) for threads in (1, 2)]
    outcomes += [outcome(source, "semiring", **inputs), outcome(source, "dense", **inputs)]
    first = outcomes[0]
    for other in outcomes[1:]:
        assert type(other) is type(first)
        if isinstance(first, str):
            assert other == first
        else:
            for name in first:
                assert np.array_equal(first[name], other[name], equal_nan=True), name
    return first


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("degree", [0.7, 3.0, 12.0])
def test_shortest_paths_match_dijkstra(seed, degree):
    rng = np.random.default_rng(seed)
    n = 60
    w = weighted(rng, n, degree, np.inf)
    src = np.full(n, np.inf)
    src[[3, 17]] = 0.0
    got = agree(SSSP, W=w, Src=src)["Dist"]
    expected = csgraph.dijkstra(finite_csr(w), indices=[3, 17], min_only=True)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("seed", range(3))
def test_negative_weights_and_multiple_sources(seed):
    rng = np.random.default_rng(seed)
    n = 40
    potential = rng.uniform(0, 20, n)      # no negative cycle
    w = weighted(rng, n, 4.0, np.inf, 0.0, 5.0)
    w = np.where(np.isfinite(w), w + potential[:, None] - potential[None, :], np.inf)
    src = np.where(rng.random((5, n)) < 0.08, rng.uniform(-2, 2, (5, n)), np.inf)
    src[1] = np.nan      # a slice nothing reaches
    got = agree(MULTI, W=w, Src=src)["D"]
    expected = csgraph.bellman_ford(finite_csr(w))
    for s in (0, 2, 3, 4):
        starts = np.flatnonzero(np.isfinite(src[s]))
        best = np.min(src[s][starts, None] + expected[starts], axis=0, initial=np.inf)
        np.testing.assert_allclose(got[s], best, rtol=1e-12, atol=1e-9)
    assert np.isnan(got[1]).all() or (got[1] == 0).all()


@pytest.mark.parametrize("source", [ALL_PAIRS, LEFT, MINIMAX])
@pytest.mark.parametrize("seed", range(2))
def test_all_pairs_with_ties(source, seed):
    rng = np.random.default_rng(seed)
    agree(source, W=weighted(rng, 30, 2.5, np.inf, -1 if source == MINIMAX else 0, 9, integers=True))


@pytest.mark.parametrize("seed", range(3))
def test_widest_reliable_longest(seed):
    rng = np.random.default_rng(seed)
    n = 30
    agree(WIDEST, C=weighted(rng, n, 3.0, 0.0, 0.5, 9.0))
    agree(WIDEST, C=weighted(rng, n, 3.0, -np.inf, -5.0, 9.0))
    reliable = agree(RELIABLE, P=weighted(rng, n, 3.0, 0.0, 0.05, 1.0))["R"]     # label setting
    assert ((reliable >= 0) & (reliable <= 1)).all() and (reliable > 0).any()
    p = weighted(rng, n, 3.0, 0.0, 0.05, 1.0)
    agree(RELIABLE, P=np.where(p > 0, p * 1.5, 0.0))       # gains above 1: relaxation (or the same error)
    dag, src, expected = longest_paths_case(rng, n)
    np.testing.assert_allclose(agree(LONGEST, G=dag, Src=src)["L"], expected, rtol=1e-12)


def test_negative_cycle_and_round_limit_are_the_same_errors():
    n = 12
    w = np.full((n, n), np.inf)
    w[np.arange(n), (np.arange(n) + 1) % n] = -1.0
    src = np.full(n, np.inf)
    src[0] = 0.0
    assert "negative cycle" in agree(SSSP, W=w, Src=src)
    agree(ALL_PAIRS, W=w)
    chain = np.full((30, 30), np.inf)
    chain[np.arange(29), np.arange(1, 30)] = 1.0
    start = np.full(30, np.inf)
    start[0] = 0.0
    native = tlc.compile(SSSP, relations="semiring", backend="llvm", max_rounds=10)
    with pytest.raises(tlc.TlcError, match="did not converge after 10 rounds"):
        native(W=chain, Src=start)
    for rounds in (10, 30, 31):
        got = [_limited(SSSP, backend, rounds, W=chain, Src=start) for backend in ("llvm", "numpy")]
        assert type(got[0]) is type(got[1])
        assert got[0] == got[1] if isinstance(got[0], str) else np.array_equal(got[0]["Dist"], got[1]["Dist"])


def _limited(source: str, backend: str, rounds: int, **inputs):
    try:
        return {k: np.asarray(v) for k, v in
                tlc.compile(source, relations="semiring", backend=backend, max_rounds=rounds)(**inputs).items()}
    except tlc.TlcError as error:
        return str(error)


def test_special_weights_and_supplied_data():
    rng = np.random.default_rng(3)
    n = 20
    for special in (np.nan, np.inf, -np.inf, 1e306):
        w = weighted(rng, n, 3.0, np.inf, -1.0, 5.0)
        w[rng.random((n, n)) < 0.05] = special
        src = np.full(n, np.nan)
        src[:3] = [0.0, np.inf, 2.0]
        agree(SSSP, W=w, Src=src)
    w = weighted(rng, 30, 2.0, np.inf, -1.0, 5.0)
    src = np.where(rng.random(30) < 0.1, 0.0, np.inf)
    agree(SSSP, W=w, Src=src, Dist=np.where(rng.random(30) < 0.3, rng.uniform(-3, 3, 30), np.nan))


@pytest.mark.parametrize("seed", range(3))
def test_data_supplied_for_the_recursive_tensor_under_label_setting(seed):
    rng = np.random.default_rng(seed)
    n = 30
    w = weighted(rng, n, 2.0, np.inf, 0.0, 5.0)
    src = np.where(np.arange(n) == 0, 0.0, np.inf)
    given = np.where(rng.random(n) < 0.3, rng.uniform(-3, 3, n), np.nan)
    agree(SSSP, W=w, Src=src, Dist=given)
    agree(SSSP, W=w, Src=src, Dist=given[:10])
    agree(WIDEST, C=weighted(rng, n, 3.0, -np.inf, -5.0, 9.0),
          B=np.where(rng.random((n, n)) < 0.2, rng.uniform(-3, 12, (n, n)), np.nan))
    agree(RELIABLE, P=weighted(rng, n, 3.0, 0.0, 0.0, 1.0),
          R=np.where(rng.random((n, n)) < 0.2, rng.uniform(0, 2, (n, n)), np.nan))


def test_two_threads_split_slices_of_a_large_table():
    rng = np.random.default_rng(11)
    n = 160      # slices x edges above SLICE_WORK: the two-thread run splits the slices
    potential = rng.uniform(0, 5, n)       # negative weights (relaxation, not label setting), no negative cycle
    w = weighted(rng, n, 4.0, np.inf, 0.0, 9.0)
    got = agree(ALL_PAIRS, W=np.where(np.isfinite(w), w + potential[:, None] - potential[None, :], np.inf))["D"]
    assert np.isfinite(got).any()
    agree(WIDEST, C=weighted(rng, n, 4.0, 0.0, 0.5, 9.0))


@pytest.mark.parametrize("fold, combine, low, high", [("min", "add", 0.0, 9.0), ("min", "add", -1.0, 9.0),
                                                       ("max", "add", -9.0, -0.5), ("max", "min", -5.0, 9.0),
                                                       ("min", "max", -5.0, 9.0), ("max", "mul", 0.0, 1.0),
                                                       ("max", "mul", 0.0, 1.2)])
@pytest.mark.parametrize("seed", range(3))
def test_relaxation_and_label_setting_kernels_match_numpy(fold, combine, low, high, seed):
    """The kernels called directly, also where ``fixpoint`` picks the other one: the relaxation against NumPy's
    rounds (values and round count), label setting against scipy's Dijkstra or the relaxation."""
    from tlc.backends.llvm.jit import jit
    from tlc.backends.llvm.kernel import SemiringLoop
    from tlc_runtime.semiring_native import SemiringSpec
    rng = np.random.default_rng(seed)
    n, slices = 50, 4
    idle = sr.IDLE[fold, combine]
    w = weighted(rng, n, 2.5, idle, low, high)
    if low < 0 and combine == "add" or high > 1 and combine == "mul":      # no cycle that keeps improving
        w[np.tril_indices(n)] = idle
    edges = sr._edges(w, idle)
    first = np.where(rng.random((slices, n)) < 0.06, rng.uniform(max(low, 0.0), 2.0, (slices, n)), np.nan)
    first[2] = np.nan
    start = np.full((slices, n), np.nan)
    start[3, :5] = first[3, :5] = 0.5
    loop = SemiringLoop(fold, combine)
    compiled = jit().compile(loop)
    kernel = SemiringSpec(compiled.symbol, fold, combine).bind(jit().address, threads=1)
    assert sr._monotone(start, first, edges[2], fold, combine, 2 * n + 1)
    expected = sr._relax(start, first, edges, fold, combine, _watch(fold, 2 * n + 1), lambda flat: flat)
    expected = expected.reshape(slices, n)
    values, rounds = kernel.relax(start, first, edges, 2 * n + 1)
    assert np.array_equal(values, expected, equal_nan=True)
    # the rounds NumPy's loop takes too: it fails one round earlier, not at this one
    assert rounds > 2 and kernel.relax(start, first, edges, rounds)[1] == rounds
    assert kernel.relax(start, first, edges, rounds - 1)[1] is None
    sr._relax(start, first, edges, fold, combine, _watch(fold, rounds), lambda flat: flat)
    with pytest.raises(RuntimeFailure, match=f"after {rounds - 1} rounds"):
        sr._relax(start, first, edges, fold, combine, _watch(fold, rounds - 1), lambda flat: flat)
    if fold == "min" and combine == "add" and low >= 0 or sr._label_setting(fold, combine, edges[2]):
        labels = kernel.label_setting(first, edges)
        best = sr._relax(first, first, edges, fold, combine, _watch(fold, 2 * n + 1), lambda flat: flat)
        best = best.reshape(slices, n)
        assert np.array_equal(labels, best, equal_nan=True)
        if combine == "add":
            assert np.array_equal(labels, sr._dijkstra(first, edges), equal_nan=True)


def _watch(fold: str, rounds: int) -> Fixpoint:
    return Fixpoint(["T"], [fold], [(1, 1)], rounds, True, "test")


SPECIAL = (np.inf, -np.inf, np.nan, 0.0, -0.0, 1.0, 2.0, -1.0, 0.5, 1e306, -1e306)
SHAPES = {SSSP: ("W", "Src"), MULTI: ("W", "Src"), ALL_PAIRS: ("W",), WIDEST: ("C",), RELIABLE: ("P",),
          LONGEST: ("G", "Src"), MINIMAX: ("W",)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=st.sampled_from(sorted(SHAPES)), n=st.integers(1, 7), seed=st.integers(0, 2**32 - 1),
       rounds=st.sampled_from([None, 1, 3, 50]))
def test_random_special_values_give_the_numpy_outcome(source, n, seed, rounds):
    """Any mix of inf, -inf, NaN, signed zeros and huge values: the native kernels give the NumPy semiring
    runtime's results (a zero's sign aside) or its error."""
    rng = np.random.default_rng(seed)
    weight, base = SHAPES[source][0], SHAPES[source][1:]
    inputs = {weight: rng.choice(SPECIAL, (n, n))}
    for name in base:
        inputs[name] = rng.choice(SPECIAL, (2, n) if source == MULTI else (n,))
    native, numpy = (_limited(source, backend, rounds, **inputs) if rounds else
                     outcome(source, "semiring", backend, **inputs) for backend in ("llvm", "numpy"))
    assert type(native) is type(numpy)
    if isinstance(native, str):
        assert native == numpy
    else:
        assert all(np.array_equal(native[k], numpy[k], equal_nan=True) for k in numpy)


def test_explain_names_the_native_kernels():
    rng = np.random.default_rng(0)
    w = weighted(rng, 50, 3.0, np.inf)
    src = np.where(np.arange(50) == 0, 0.0, np.inf)
    text = tlc.compile(SSSP, relations="semiring", backend="llvm", threads=2).explain(W=w, Src=src)
    assert "runs: semiring: native llvm kernels (semi-naive relaxation over CSR" in text and "2 threads" in text
    assert "runs: semiring relaxation: NumPy/scipy runtime" in tlc.compile(SSSP, relations="semiring").explain(
        W=w, Src=src)
    source = tlc.compile(SSSP, relations="semiring", backend="llvm").source(W=w, Src=src)
    assert "semiring_native.SemiringSpec('tlc_semiring_min_add_v4', 'min', 'add')" in source


@pytest.mark.parametrize("rounds", [None, 1, 2, 7])
def test_failures_come_from_the_native_rounds_alone(monkeypatch, rounds):
    """A negative cycle or a round limit: the message the NumPy rounds give, without running them."""
    rng = np.random.default_rng(2)
    n = 40
    w = weighted(rng, n, 3.0, np.inf, -1.0, 6.0)
    w[5, 6], w[6, 5] = -4.0, 1.0            # a negative cycle, reached from node 0 or not
    src = np.where(rng.random((3, n)) < 0.1, 0.0, np.inf)
    src[:, 0] = 0.0
    w[0, 5] = 1.0
    expected = _limited(MULTI, "numpy", rounds, W=w, Src=src) if rounds else outcome(MULTI, "semiring", W=w, Src=src)
    assert isinstance(expected, str) and "after" in expected

    def numpy_rounds(*args):
        raise AssertionError("the NumPy rounds ran")

    monkeypatch.setattr(sr, "_relax", numpy_rounds)
    assert (_limited(MULTI, "llvm", rounds, W=w, Src=src) if rounds else
            outcome(MULTI, "semiring", "llvm", W=w, Src=src)) == expected
