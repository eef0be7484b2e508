"""Relational strata on the Dask backend against the NumPy backend: dense semi-naive strata run on Dask (Boolean
products as pairwise dask.array contractions, convergence tested on the cluster), the other strategies where the
planner puts them, and ``explain`` says which."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
pytest.importorskip("distributed")

import tlc  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture(autouse=True)
def synchronous():
    """Every test here computes on Dask's synchronous scheduler (deterministic, one thread)."""
    with dask.config.set(scheduler="synchronous"):
        yield


def graph(rng, n, density):
    """A random Boolean adjacency matrix with some true entries."""
    edges = rng.random((n, n)) < density
    edges[0, 1] = edges[1, 0] = True     # a cycle: every program below derives something
    return edges


PROGRAMS = {
    "right-linear": ("Reach(x, y) = Edge(x, y)\nReach(x, z) = Reach(x, y) Edge(y, z)", ("Edge",)),
    "left-linear": ("Reach(x, y) = Edge(x, y)\nReach(x, z) = Edge(x, y) Reach(y, z)", ("Edge",)),
    "non-linear": ("Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Path(y, z)", ("Edge",)),
    "mutual": ("Odd(x, y) = Edge(x, y)\nOdd(x, z) = Even(x, y) Edge(y, z)\nEven(x, z) = Odd(x, y) Edge(y, z)",
               ("Edge",)),
    "negation and a constant": ("Safe(x, y) = Edge(x, y) not(Blocked(y))\nR(x, y) = Safe(x, y)\n"
                                "R(x, z) = R(x, y) Safe(y, z)\nFrom(y) = R(0, y)\nBoth(x) = R(x, x) Mark(x)",
                                ("Edge", "Blocked", "Mark")),
    "ternary": ("Walk(x, y, z) = Edge(x, y) Edge(y, z)\nWalk(x, y, w) = Walk(x, y, z) Edge(z, w)", ("Edge",)),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
@pytest.mark.parametrize("density", [0.05, 0.2])
def test_dense_semi_naive_strata_run_on_dask_and_match_numpy(name, density, agree):
    rng = np.random.default_rng(len(name))
    source, inputs = PROGRAMS[name]
    data = {"Edge": graph(rng, 14, density), "Blocked": rng.random(14) < 0.2, "Mark": rng.random(14) < 0.5}
    data["Blocked"][:2], data["Mark"][0] = False, True
    program = agree(source, {k: data[k] for k in inputs}, nonempty=True, relations="dense")
    emitted = program.source()
    assert "rs.conjunction" not in emitted and "rt.persist_round(" in emitted
    assert "da.matmul(" in emitted or "da.tensordot(" in emitted or "da.einsum(" in emitted
    assert "(dense semi-naive) runs on Dask" in program.explain()
    assert "runs: dense semi-naive: the backend's array code" in program.explain()


def test_dense_strata_read_relations_stored_sparsely_and_chunked():
    rng = np.random.default_rng(21)
    edges = graph(rng, 60, 0.02)    # density 0.02: the input is stored sparsely
    source = "Reach(x, y) = Edge(x, y)\nReach(x, z) = Reach(x, y) Edge(y, z)\nCount[x] = Reach(x, y)"
    expected = tlc.compile(source, relations="dense")(Edge=edges)
    program = tlc.compile(source, backend="dask", relations="dense", chunks={"Reach": (20, 20), "Edge": (20, 60)})
    np.testing.assert_array_equal(np.asarray(program(Edge=edges)["Count"]), expected["Count"])
    assert "Edge sparse" in program.explain()
    assert "Reach: chunks (20, 20) of (60, 60), 9 chunks" in program.explain()
    reach = np.asarray(program(Edge=edges)["Reach"])
    closure = edges.copy()                       # the transitive closure by repeated Boolean products
    while True:
        grown = closure | ((closure.astype(int) @ edges.astype(int)) > 0)
        if (grown == closure).all():
            break
        closure = grown
    np.testing.assert_array_equal(reach, closure)


def test_each_round_fetches_its_test_in_one_computation():
    edges = np.eye(12, k=1, dtype=bool)     # a chain: 11 rounds
    program = tlc.compile("Reach(x, y) = Edge(x, y)\nReach(x, z) = Reach(x, y) Edge(y, z)", backend="dask",
                          relations="dense")
    computations = []

    class Starts(dask.callbacks.Callback):
        def _start(self, dsk):
            computations.append(len(dsk))

    with Starts():
        result = program(Edge=edges)
    assert len(set(result["Reach"])) == 11 * 12 // 2
    # per round: one persist of the new facts with their test, one fetch of the test, one persist of the relation
    assert len(computations) <= 3 * 12 + 2, len(computations)


def test_a_round_limit_is_a_located_error_on_dask():
    edges = np.eye(12, k=1, dtype=bool)
    source = "Reach(x, y) = Edge(x, y)\nReach(x, z) = Reach(x, y) Edge(y, z)"
    with pytest.raises(tlc.TlcError, match="did not converge after 3 rounds") as expected:
        tlc.compile(source, relations="dense", max_rounds=3)(Edge=edges)
    with pytest.raises(tlc.TlcError, match="did not converge after 3 rounds") as err:
        tlc.compile(source, backend="dask", relations="dense", max_rounds=3)(Edge=edges)
    assert err.value.line == expected.value.line == 2


@pytest.mark.parametrize("strategy, where", [("sparse", "runs in memory on tlc_runtime.sparse, not on Dask"),
                                             ("closure", "runs in memory on tlc_runtime.sparse, not on Dask")])
def test_other_strategies_run_in_memory_and_say_so(strategy, where, agree):
    rng = np.random.default_rng(22)
    program = agree("Reach(x, y) = Edge(x, y)\nReach(x, z) = Reach(x, y) Edge(y, z)", {"Edge": graph(rng, 14, 0.2)},
                    relations=strategy)
    assert f"stratum 1 ({strategy}) {where}" in program.explain()
    assert "rt.persist_round(" not in program.source()


def test_the_family_example_says_where_each_stratum_runs():
    program = tlc.compile(EXAMPLES / "family.tl", backend="dask")
    expected = tlc.compile(EXAMPLES / "family.tl")()
    result = program()
    for name in expected:
        assert set(result[name]) == set(expected[name]), name
    explained = program.explain()
    for number in range(1, 5):
        assert f"stratum {number} (plain) runs on Dask" in explained
    assert "stratum 5 (closure) runs in memory on tlc_runtime.sparse, not on Dask" in explained
