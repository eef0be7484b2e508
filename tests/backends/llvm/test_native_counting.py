"""Path counting on the llvm backend (``tlc_runtime.counting``): one native pass in topological order gives the
NumPy backend's values bit for bit, and declines (the dense loop then gives the NumPy backend's values or error)
on cycles, fractional, negative or special values, supplied data, counts past 2^53 and the round bound; on one
thread and two, against DAG dynamic programming."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import tlc
from spying import record_calls

pytest.importorskip("llvmlite")

import tlc_runtime.counting as counting  # noqa: E402

ALL_PAIRS = "N[x, z] = E[x, z]\nN[x, z] = N[x, y] E[y, z]"
LEFT = "N[x, z] = E[x, z]\nN[x, z] = E[x, y] N[y, z]"
FROM_SOURCES = "C[s, y] = Src[s, y]\nC[s, y] += C[s, x] E[x, y]"
TRANSPOSED = "C[y] = Src[y]\nC[y] = E[y, x] C[x]"
OVER_A_RELATION = "Paths[x, z] = Edge(x, z)\nPaths[x, z] += Paths[x, y] Edge(y, z)"


@pytest.fixture
def passes(monkeypatch):
    """Records, per call of ``count_paths``, whether the native pass gave the result (True) or declined."""
    return record_calls(monkeypatch, counting, "count_paths", lambda args, result: result is not None)


def outcome(source: str, backend: str, threads: int | None = None, max_rounds: int | None = None, **inputs):
    """The program's results as arrays, or its error's text."""
    relations = "semiring" if backend == "llvm" else "auto"
    try:
        results = tlc.compile(source, backend=backend, relations=relations, threads=threads,
                              max_rounds=max_rounds)(**inputs)
    except tlc.TlcError as error:
        return str(error)
    return {name: np.asarray(value) for name, value in results.items()}


def agree(source: str, max_rounds: int | None = None, **inputs):
    """The llvm backend (one and two threads) gives the NumPy backend's results bit for bit, or its error; returns
    the NumPy backend's outcome."""
    reference = outcome(source, "numpy", max_rounds=max_rounds, **inputs)
    for threads in (1, 2):
        got = outcome(source, "llvm", threads, max_rounds, **inputs)
        assert type(got) is type(reference)
        if isinstance(reference, str):
            assert got == reference
        else:
            for name, value in reference.items():
                assert got[name].dtype == value.dtype and got[name].tobytes() == value.tobytes(), name
    return reference


def dag(rng, n: int, density: float, high: int = 1) -> np.ndarray:
    """A random DAG's weights (integers 1..high on its edges, 0 elsewhere), its nodes in a random order."""
    upper = np.triu(rng.random((n, n)) < density, 1) * rng.integers(1, high + 1, (n, n))
    order = rng.permutation(n)
    return upper[np.ix_(order, order)].astype(float)


def walks(e: np.ndarray, start: np.ndarray) -> np.ndarray:
    """``start (E + E^2 + ...)`` on a DAG, exactly (Python integers)."""
    weights = e.astype(np.int64).astype(object)
    total, power = np.zeros(start.shape, dtype=object), start.astype(np.int64).astype(object)
    while power.any():
        power = power.dot(weights)
        total = total + power
    return total


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("density, high", [(0.1, 1), (0.4, 1), (0.3, 5)])
def test_all_pairs_on_random_dags_match_the_path_counts(seed, density, high, passes):
    rng = np.random.default_rng(seed)
    e = dag(rng, 40, density, high)
    n = agree(ALL_PAIRS, E=e)["N"]
    assert passes == [True, True]
    expected = walks(e, np.eye(40))
    assert (n == expected.astype(float)).all()


@pytest.mark.parametrize("source", [LEFT, FROM_SOURCES, TRANSPOSED])
def test_other_shapes_run_natively(source, passes):
    rng = np.random.default_rng(7)
    e = dag(rng, 30, 0.3, 3)
    src = (rng.random((4, 30)) < 0.2) * rng.integers(1, 4, (4, 30)).astype(float)
    inputs = {"E": e} if source == LEFT else {"E": e.T if source == TRANSPOSED else e,
                                             "Src": src[0] if source == TRANSPOSED else src}
    agree(source, **inputs)
    assert passes == [True, True]


def test_a_relation_read_as_0_1_weights(passes):
    edge = dag(np.random.default_rng(5), 25, 0.3) > 0
    paths = agree(OVER_A_RELATION, Edge=edge)["Paths"]
    assert passes == [True, True]
    assert (paths == walks(edge.astype(float), np.eye(25)).astype(float)).all()


def test_empty_graph_and_empty_base_run_natively(passes):
    agree(ALL_PAIRS, E=np.zeros((5, 5)))
    agree(FROM_SOURCES, E=dag(np.random.default_rng(1), 6, 0.5), Src=np.zeros((2, 6)))
    assert passes == [True] * 4


@pytest.mark.parametrize("seed", range(3))
def test_a_reachable_cycle_gives_the_numpy_error(seed, passes):
    rng = np.random.default_rng(seed)
    e = dag(rng, 12, 0.3)
    e[4, 4] = 1.0 if seed == 0 else 0.0            # a self-loop, or a cycle through three nodes
    if seed:
        e[2, 5] = e[5, 9] = e[9, 2] = 1.0
    reference = agree(ALL_PAIRS, max_rounds=60, E=e)
    assert isinstance(reference, str) and "did not converge after 60 rounds" in reference
    assert passes == [False, False]


def test_a_cycle_the_base_does_not_reach_is_counted_natively(passes):
    e = np.zeros((6, 6))
    e[0, 1] = e[1, 2] = e[0, 2] = 1.0
    e[4, 5] = e[5, 4] = 1.0            # a cycle no source reaches
    src = np.zeros((1, 6))
    src[0, 0] = 1.0
    assert agree(FROM_SOURCES, E=e, Src=src)["C"].tolist() == [[1.0, 1.0, 2.0, 0.0, 0.0, 0.0]]
    assert passes == [True, True]


def test_a_chain_longer_than_the_bound_gives_the_numpy_error(passes):
    e = np.eye(20, k=1)
    assert "did not converge after 10 rounds" in agree(ALL_PAIRS, max_rounds=10, E=e)
    agree(ALL_PAIRS, max_rounds=20, E=e)        # 19 edges: the last change is in round 19, settled in round 20
    assert passes == [False, False, True, True]


def test_counts_past_two_to_the_53_run_the_dense_rounds(passes):
    """A chain of 60 diamonds has 2^60 paths: floating-point sums round, so the dense rounds decide."""
    n = 3 * 60 + 1
    e = np.zeros((n, n))
    for k in range(60):
        a = 3 * k
        e[a, a + 1] = e[a, a + 2] = e[a + 1, a + 3] = e[a + 2, a + 3] = 1.0
    src = np.zeros((1, n))
    src[0, 0] = 1.0
    c = agree(FROM_SOURCES, E=e, Src=src)["C"]
    assert c[0, -1] == 2.0 ** 60
    assert passes == [False, False]
    agree(FROM_SOURCES, E=e[:151, :151], Src=src[:, :151])      # 2^50 paths: exact, native
    assert passes[2:] == [True, True]


@pytest.mark.parametrize("change", ["fraction", "negative", "nan", "inf", "data"])
def test_values_a_pass_cannot_take_run_the_dense_rounds(change, passes):
    rng = np.random.default_rng(3)
    e = dag(rng, 15, 0.3, 3)
    inputs = {"E": e}
    if change == "data":
        inputs["N"] = np.where(rng.random((15, 15)) < 0.1, 1.0, 0.0)
    else:
        edge = tuple(np.argwhere(e)[0])
        e[edge] = {"fraction": 0.5, "negative": -2.0, "nan": np.nan, "inf": np.inf}[change]
    agree(ALL_PAIRS, **inputs)
    assert passes == [False, False]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(1, 9), st.floats(0.0, 0.6), st.booleans(), st.integers(0, 2**32 - 1))
def test_random_graphs_give_the_numpy_outcome(n, density, cyclic, seed):
    rng = np.random.default_rng(seed)
    e = (rng.random((n, n)) < density).astype(float) * rng.integers(1, 3, (n, n))
    if not cyclic:
        e = np.triu(e, 1)
    agree(ALL_PAIRS, max_rounds=40, E=e)


def test_two_threads_split_the_slices_of_a_large_table(passes):
    rng = np.random.default_rng(11)
    e = dag(rng, 300, 0.05)
    agree(ALL_PAIRS, E=e)
    assert passes == [True, True]


def test_explain_says_where_counting_runs():
    e = dag(np.random.default_rng(0), 8, 0.4)
    native = tlc.compile(ALL_PAIRS, backend="llvm", relations="semiring").explain(E=e)
    assert "runs: path counting: native llvm kernels (the nodes the base reaches in topological order" in native
    assert "a cycle, a count reaches 2^53 or the round bound is reached (checked at run time)" in native
    assert "path count" not in tlc.compile(ALL_PAIRS, relations="semiring").explain(E=e)   # NumPy: the dense loop


def test_the_kernel_reports_a_cycle_and_the_last_round():
    from tlc.backends.llvm.jit import jit
    from tlc.backends.llvm.kernel import CountingLoop
    from tlc_runtime.native import bind
    from tlc_runtime.semiring import _edges

    engine = jit()
    engine.compile(CountingLoop())
    kernel = bind({"k": counting.CountingSpec(CountingLoop().symbol)}, engine.address, owner=engine)["k"]
    chain = np.eye(5, k=1)
    first = np.zeros((2, 5))
    first[0, 0] = first[1, 3] = 1.0
    values, last = kernel.count(first, _edges(chain, 0.0))
    assert values.tolist() == [[1.0] * 5, [0, 0, 0, 1.0, 1.0]] and last == 5
    chain[4, 2] = 1.0
    assert kernel.count(first, _edges(chain, 0.0)) is None
    assert kernel.count(np.zeros((2, 5)), _edges(chain, 0.0))[1] == 0     # the cycle is not reached
