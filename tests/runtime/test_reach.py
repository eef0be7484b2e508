"""The closure per strong component (``tlc_runtime.reach``) against Boolean matrix powers, on graphs with
cycles, self-loops, chains, isolated nodes and components numbered in any order."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from tlc_runtime import reach
from tlc_runtime.sparse import Tuples, closure


def graph(n: int, m: int, seed: int, loops: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = np.zeros((n, n), dtype=bool)
    a[rng.integers(0, n, m), rng.integers(0, n, m)] = True
    if not loops:
        np.fill_diagonal(a, False)
    return a


@pytest.mark.parametrize("seed", range(12))
def test_random_graphs_with_cycles_and_self_loops(seed, closure_by_powers):
    n = [1, 2, 5, 17, 64, 65, 130][seed % 7]
    a = graph(n, [0, 1, n // 2, n, 2 * n][seed % 5], seed)
    got = reach.closure_rows(sp.csr_matrix(a))
    assert got.dtype == bool and got.shape == (n, n) and got.flags.c_contiguous
    np.testing.assert_array_equal(got, closure_by_powers(a))


def test_a_chain_a_cycle_and_a_self_loop():
    chain = np.eye(200, k=1, dtype=bool)
    np.testing.assert_array_equal(reach.closure_rows(sp.csr_matrix(chain)), np.triu(np.ones((200, 200), bool), 1))
    cycle = np.roll(np.eye(70, dtype=bool), 1, axis=1)
    assert reach.closure_rows(sp.csr_matrix(cycle)).all()
    loop = np.zeros((3, 3), bool)
    loop[1, 1] = loop[0, 1] = True      # 0 -> 1 -> 1: 0 reaches 1, 1 reaches itself, 2 nothing
    np.testing.assert_array_equal(reach.closure_rows(sp.csr_matrix(loop)), loop)


def test_components_in_any_numbering_are_peeled_from_the_sinks(closure_by_powers):
    rng = np.random.default_rng(7)
    n = 50
    a = np.triu(rng.random((n, n)) < 0.1, 1)       # edges i -> j with i < j: acyclic, numbered sources first
    rows, cols = np.nonzero(a)
    for labels in (np.arange(n), rng.permutation(n)):   # each node its own component, in two numberings
        reach_bits = reach._component_reach(n, labels, labels[rows], labels[cols])[labels]
        got = np.unpackbits(reach_bits.view(np.uint8), axis=1, count=n, bitorder="little").view(bool)
        np.testing.assert_array_equal(got, closure_by_powers(a))


def test_explicit_zeros_are_not_edges():
    m = sp.csr_matrix((np.array([1.0, 0.0]), (np.array([0, 1]), np.array([1, 2]))), shape=(3, 3))
    np.testing.assert_array_equal(reach.closure_rows(m), np.array([[0, 1, 0], [0, 0, 0], [0, 0, 0]], bool))


def test_sparse_closure_pads_a_non_square_relation_and_cuts_it_back(closure_by_powers):
    rows = np.array([[0, 1], [1, 2], [2, 0], [3, 4]])
    got = closure(Tuples.from_rows(rows, (4, 6)))
    full = np.zeros((6, 6), bool)
    full[rows[:, 0], rows[:, 1]] = True
    np.testing.assert_array_equal(got, closure_by_powers(full)[:4, :6])
    assert closure(np.zeros((0, 3), bool)).shape == (0, 3)


@pytest.mark.parametrize("n", [1, 2, 17, 3000])
def test_mean_reach_of_a_chain_is_half_its_nodes_and_of_a_cycle_all_but_one(n):
    chain = sp.csr_matrix(np.eye(n, k=1, dtype=bool))
    assert abs(reach.mean_reach(chain) - (n - 1) / 2) <= n / reach.REACH_SAMPLES    # sources evenly spaced
    cycle = sp.csr_matrix(np.roll(np.eye(n, dtype=bool), 1, axis=1))
    assert reach.mean_reach(cycle) == n - 1


def test_mean_reach_samples_few_sources_pads_a_non_square_relation_and_ignores_stored_zeros():
    assert reach.mean_reach(sp.csr_matrix((0, 0))) == 0.0 and reach.mean_reach(sp.csr_matrix((5, 5))) == 0.0
    wide = sp.csr_matrix(([1.0, 1.0, 0.0], ([0, 1, 1], [1, 4, 2])), shape=(2, 5))    # 0 -> 1 -> 4; (1, 2) is no edge
    assert reach.mean_reach(wide, samples=5) == pytest.approx((2 + 1) / 5)
    a = graph(500, 2000, 3)
    want = np.count_nonzero(closure(Tuples.from_dense(a))) / 500
    got = reach.mean_reach(sp.csr_matrix(a), samples=500)     # every node a source: only the source itself is off
    assert abs(got - want) <= 1


@pytest.mark.parametrize("seed", range(6))
def test_the_condensation_holds_each_edge_between_components_once_sorted_per_row(seed):
    rng = np.random.default_rng(seed)
    count, m = [1, 2, 7, 50, 300, 1000][seed], [0, 3, 40, 400, 900, 5000][seed]
    source, target = rng.integers(0, count, m), rng.integers(0, count, m)      # repeats and self-edges included
    indptr, successors = reach.condensed(count, source, target)
    assert indptr.dtype == successors.dtype == np.int64 and len(indptr) == count + 1
    between = source != target
    want = sorted(set(zip(source[between].tolist(), target[between].tolist())))
    heads = np.repeat(np.arange(count), np.diff(indptr))
    assert list(zip(heads.tolist(), successors.tolist())) == want


@pytest.mark.parametrize("seed", range(40))
def test_the_searches_run_together_find_what_one_at_a_time_finds(seed, closure_by_powers):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    a = graph(n, int(rng.integers(0, 4 * n)), seed, loops=bool(seed % 2))
    edges = sp.csr_matrix(a)
    sources = np.unique(rng.integers(0, n, int(rng.integers(1, 65))))
    together = reach._shallow_reach(edges.indptr, edges.indices, n, sources)
    alone = reach._deep_reach(edges.indptr, edges.indices, n, sources)
    closed = closure_by_powers(a)
    want = sum(np.count_nonzero(closed[s]) - bool(closed[s, s]) for s in sources)
    assert alone == want
    assert together is None or together == want


def test_a_graph_deeper_than_the_shallow_levels_is_searched_one_source_at_a_time():
    n = 3 * reach.SHALLOW_LEVELS
    chain = sp.csr_matrix(np.eye(n, k=1, dtype=bool))
    assert reach._shallow_reach(chain.indptr, chain.indices, n, np.array([0])) is None
    assert reach._shallow_reach(chain.indptr, chain.indices, n, np.array([n - 10])) == 9
    assert reach.mean_reach(chain, samples=1) == n - 1


def test_a_closure_of_a_shallow_graph_does_not_import_scipy_csgraph(closure_by_powers):
    import subprocess
    import sys
    code = ("import sys, numpy as np, scipy.sparse as sp, tlc\n"
            "edge = sp.random(200, 200, 0.01, format='csr', random_state=1)\n"
            "edge.data[:] = 1\n"
            "for backend in ('numpy', 'llvm'):\n"
            "    r = tlc.compile('P(x, y) = E(x, y)\\nP(x, z) = P(x, y) E(y, z)\\n', backend=backend, "
            "relations='sparse')(E=edge)\n"
            "print(len(r['P']), 'scipy.sparse.csgraph' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[1] == "False"
    want = closure_by_powers(sp.random(200, 200, 0.01, format="csr", random_state=1).toarray() != 0)
    assert int(out[0]) == np.count_nonzero(want)


def test_sampled_sources_are_numpy_s_evenly_spaced_nodes():
    """``spaced`` (mean_reach's sources) is ``np.unique(np.linspace(...).astype(np.int64))`` to the bit, so the
    sampled reach, and the plan it decides, did not change when it stopped calling them."""
    rng = np.random.default_rng(5)
    sizes = [*range(1, 300), *rng.integers(1, 10**12, 300).tolist(), 2**53 - 1]
    for n in sizes:
        for count in {1, 2, 3, min(n, 63), min(n, 64), int(rng.integers(1, min(n, 64) + 1))}:
            expected = np.unique(np.linspace(0, n - 1, count).astype(np.int64))
            found = reach.spaced(n, count)
            assert found.dtype == np.int64 and np.array_equal(found, expected), (n, count)
