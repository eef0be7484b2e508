"""``min=``/``max=`` fixpoints in DuckDB as one ``WITH RECURSIVE ... USING KEY``: shortest paths on chains, grids,
cycles and random graphs against ``scipy.sparse.csgraph``, supplied data, widest paths, and the round bound (a
negative cycle, ``max_rounds=``) failing after as many rounds as in memory."""

from __future__ import annotations

import numpy as np
import pytest

import tlc

pytest.importorskip("duckdb")
csgraph = pytest.importorskip("scipy.sparse.csgraph")

SHORTEST = "D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] + W[y, z]\n"


def weighted(n: int, edges, seed: int) -> np.ndarray:
    w = np.full((n, n), np.inf)
    edges = np.asarray(edges)
    w[edges[:, 0], edges[:, 1]] = np.random.default_rng(seed).uniform(0.1, 5.0, len(edges))
    return w


def graphs():
    yield "chain", weighted(60, [(i, i + 1) for i in range(59)], 0)
    side = 8
    node = np.arange(side * side).reshape(side, side)
    right = np.stack([node[:, :-1].ravel(), node[:, 1:].ravel()], axis=1)
    down = np.stack([node[:-1, :].ravel(), node[1:, :].ravel()], axis=1)
    yield "grid", weighted(side * side, np.concatenate([right, down]), 1)
    rng = np.random.default_rng(2)
    yield "random", weighted(90, np.unique(rng.integers(0, 90, size=(300, 2)), axis=0), 3)
    yield "cycle", weighted(40, [(i, (i + 1) % 40) for i in range(40)], 4)


def expected_paths(w: np.ndarray) -> np.ndarray:
    """Shortest paths of at least one edge: scipy's distances, the diagonal the shortest cycle."""
    dist = csgraph.shortest_path(csgraph.csgraph_from_dense(w, null_value=np.inf), directed=True)
    out = dist.copy()
    np.fill_diagonal(out, np.min(w + dist.T, axis=1))
    return out


@pytest.mark.parametrize("name, w", list(graphs()), ids=[g[0] for g in graphs()])
def test_shortest_paths_match_csgraph_and_memory(name, w):
    prog = tlc.compile(SHORTEST, relations="duckdb")
    got = prog(W=w)["D"]
    np.testing.assert_allclose(got, expected_paths(w))
    np.testing.assert_allclose(got, tlc.compile(SHORTEST)(W=w)["D"])
    assert "WITH RECURSIVE ... USING KEY" in prog.explain()


def test_supplied_data_is_one_more_contribution():
    w = weighted(30, [(i, i + 1) for i in range(29)], 5)
    start = np.full((30, 30), np.inf)
    start[0, 20] = 0.25
    got = tlc.compile(SHORTEST, relations="duckdb")(W=w, D=start)["D"]
    np.testing.assert_allclose(got, tlc.compile(SHORTEST)(W=w, D=start)["D"])
    assert got[0, 25] < expected_paths(w)[0, 25]


def test_widest_paths_with_gaining_cycle_bound():
    widest = "C[x, z] max= Cap[x, z]\nC[x, z] max= min(C[x, y], Cap[y, z])\n"
    rng = np.random.default_rng(6)
    cap = np.where(rng.random((50, 50)) < 0.08, rng.uniform(0.2, 1.0, (50, 50)), -np.inf)
    np.testing.assert_array_equal(tlc.compile(widest, relations="duckdb")(Cap=cap)["C"],
                                  tlc.compile(widest)(Cap=cap)["C"])


def test_the_round_bound_fails_as_in_memory():
    w = weighted(5, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0)], 7)
    w[4, 0] = -20.0
    with pytest.raises(tlc.TlcError, match="after 6 rounds") as memory:
        tlc.compile(SHORTEST)(W=w)
    with pytest.raises(tlc.TlcError, match="D still improves after 6 rounds, which prove a cycle") as duck:
        tlc.compile(SHORTEST, relations="duckdb")(W=w)
    assert duck.value.line == memory.value.line == 2
    chain = weighted(12, [(i, i + 1) for i in range(11)], 8)
    with pytest.raises(tlc.TlcError, match="D still improves after 3 rounds: the limit is max_rounds=3"):
        tlc.compile(SHORTEST, relations="duckdb", max_rounds=3)(W=chain)
    np.testing.assert_allclose(tlc.compile(SHORTEST, relations="duckdb", max_rounds=20)(W=chain)["D"],
                               expected_paths(chain))
