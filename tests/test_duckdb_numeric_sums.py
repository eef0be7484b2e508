"""Sums of products of numeric tensors and ``avg=`` run inside DuckDB (``relations="duckdb"``, or under ``auto``
when they read a relation kept there) as grouped ``sum(v)`` (over the elements averaged, for ``avg=``), and
agree with the NumPy backend on random non-zero values."""

from __future__ import annotations

import numpy as np
import pytest

import tlc

pytest.importorskip("duckdb")


def nonzero(rng, *shape) -> np.ndarray:
    """Random values bounded away from zero, of both signs."""
    return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


CASES = [
    ("Y[i] = A[i, j] B[j]\n", {"A": (6, 7), "B": (7,)}),
    ("Y[i, k] = A[i, j] C[j, k] + 2 D[i, k]\n", {"A": (6, 7), "C": (7, 5), "D": (6, 5)}),
    ("Y[i, k] = A[i, j] C[j, k] B[j]\n", {"A": (6, 7), "C": (7, 5), "B": (7,)}),
    ("Y[i] avg= A[i, j]\n", {"A": (6, 7)}),
    ("Y[i] avg= A[i, j] B[j]\n", {"A": (6, 7), "B": (7,)}),
    ("Y[i, k] avg= A[i, j] C[j, k]\n", {"A": (6, 7), "C": (7, 5)}),
    ("Y[i] avg= A[i, j] B[k]\n", {"A": (6, 7), "B": (3,)}),
    ("Y[i] avg= 3 A[i, 2] B[j]\n", {"A": (6, 7), "B": (4,)}),
    ("Y[i] avg= A[i, j]\nY[i] avg= B[i]\n", {"A": (6, 7), "B": (6,)}),                 # two averaged equations
    ("Y[i] avg= A[i, j] + B[i]\n", {"A": (6, 7), "B": (6,)}),                          # an average of a sum
    ("Y[i] avg= A[i, j] C[j, k] + D[i, k] + 2 B[i]\nY[i] avg= A[i, j] B[i]\n",
     {"A": (6, 7), "C": (7, 5), "D": (6, 5), "B": (6,)}),                              # averages of sums of joins
]


@pytest.mark.parametrize("source, shapes", CASES, ids=[c[0].strip() for c in CASES])
@pytest.mark.parametrize("seed", [0, 1])
def test_numeric_sums_and_averages_match_numpy(source, shapes, seed):
    rng = np.random.default_rng(seed)
    inputs = {name: nonzero(rng, *shape) for name, shape in shapes.items()}
    prog = tlc.compile(source, relations="duckdb")
    assert [p.strategy for p in prog.specialisation(**inputs).plan.strata] == ["duckdb"]
    np.testing.assert_allclose(prog(**inputs)["Y"], tlc.compile(source)(**inputs)["Y"], rtol=1e-12, atol=1e-12)
    averaged = "avg=" in source
    assert ("over the elements averaged" in prog.explain()) == averaged
    assert ("sum(v) / " in prog.source(**inputs)) == averaged


def test_an_average_of_supplied_data_counts_it_as_one_element():
    rng = np.random.default_rng(2)
    a, y = nonzero(rng, 5, 4), nonzero(rng, 5)
    source = "Y[i] avg= A[i, j]\n"
    got = tlc.compile(source, relations="duckdb")(A=a, Y=y)["Y"]
    np.testing.assert_allclose(got, tlc.compile(source)(A=a, Y=y)["Y"])
    np.testing.assert_allclose(got, (a.sum(axis=1) + y) / 5)


def test_an_average_over_a_relation_kept_in_duckdb_runs_there():
    rng = np.random.default_rng(3)
    edges = [(i, i + 1) for i in range(400)]
    w = nonzero(rng, 401)
    source = "Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\nMean[x] avg= Path(x, y) W[y]\n"
    prog = tlc.compile(source, memory_limit=4_000)
    got = prog(Edge=edges, W=w)["Mean"]
    plan = prog.specialisation(Edge=edges, W=w).plan
    assert [p.strategy for p in plan.strata] == ["duckdb", "duckdb"]
    assert plan.strata[1].reason.endswith("over the elements averaged; reads Path, kept in DuckDB")
    np.testing.assert_allclose(got, np.array([w[x + 1:].sum() for x in range(401)]) / 401)


def test_averages_of_sums_over_relations_and_supplied_data_of_another_extent():
    rng = np.random.default_rng(5)
    source = "Y[i] avg= A[i, j] Edge(i, j) + B[i]\nY[i] avg= C[i, j] + Edge(i, j)\n"
    edges = [(i, j) for i in range(6) for j in range(7) if (i * j) % 3 == 1]
    for y in (None, nonzero(rng, 4), nonzero(rng, 8)):      # supplied data counts one element where it lies
        inputs = {"A": nonzero(rng, 6, 7), "B": nonzero(rng, 6), "C": nonzero(rng, 6, 7), "Edge": edges}
        if y is not None:
            inputs["Y"] = y
        prog = tlc.compile(source, relations="duckdb")
        assert [p.strategy for p in prog.specialisation(**inputs).plan.strata] == ["duckdb"]
        np.testing.assert_allclose(prog(**inputs)["Y"], tlc.compile(source)(**inputs)["Y"], rtol=1e-12, atol=1e-12)


def test_what_stays_in_memory_says_so_in_explain():
    source = "Y[i] = A[i, j] - B[i]\nZ[i] avg= A[i, j] + B[i]\n"     # a difference, then an average of a sum
    prog = tlc.compile(source, relations="duckdb")
    a, b = np.ones((3, 4)), np.ones(3)
    assert [p.strategy for p in prog.specialisation(A=a, B=b).plan.strata] == ["einsum", "duckdb"]
    text = prog.explain(A=a, B=b)
    assert "stratum 1: Y [plain] computed once\n  runs: in memory, with the numpy backend's array code, not in " \
           "DuckDB (not a set of Datalog rules, nor a sum, average or min=/max= fold of plain reads)\n" in text
    assert "stratum 2: Z [plain] computed once\n  relations: SQL in DuckDB" in text


def test_non_finite_values_are_refused_in_duckdb():
    a = np.ones((3, 3))
    a[1, 2] = np.inf
    with pytest.raises(tlc.TlcError, match="a sum or average in DuckDB needs finite inputs, and \"A\" holds inf or "
                                           "NaN: run it in memory"):
        tlc.compile("Y[i] = A[i, j]\n", relations="duckdb")(A=a)
