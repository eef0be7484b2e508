"""Tests of issue 19's search: anytime budgets, progress, the portfolio, spectral starts, slicing that keeps the
best tree and its reported overhead. Small networks and tiny budgets; the large instances are in
``benchmarks/bench_paths.py``."""

from __future__ import annotations

import math
import random
import re
import time

import networkx as nx
import numpy as np
import opt_einsum
import pytest

import tlc
from tlc.contract import cache_clear, contract_path, contract_sliced, search
from tlc.contract.cost import Network, tree_cost
from tlc.contract.slicing import slice_tree


def _regular(n, seed, bond=2):
    """A random 3-regular graph as a scalar network: one tensor per node, one summed index per edge."""
    g = nx.random_regular_graph(3, n, seed=seed)
    terms = [""] * n
    for k, (u, v) in enumerate(g.edges):
        terms[u] += opt_einsum.get_symbol(k)
        terms[v] += opt_einsum.get_symbol(k)
    return ",".join(terms) + "->", [(bond,) * len(t) for t in terms]


def _net(eq, shapes):
    inputs, output = eq.split("->")
    terms = inputs.split(",")
    sizes = {c: n for t, s in zip(terms, shapes) for c, n in zip(t, s)}
    return Network.build(terms, output, sizes)


def _arrays(shapes, seed=0):
    """Random non-zero operands, scaled so a product of many stays in float64's range."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.5, 1.5, size=s) * rng.choice([-1, 1], size=s) / math.sqrt(math.prod(s)) for s in shapes]


def test_an_explicit_budget_is_used_until_it_ends():
    eq, shapes = _regular(40, 1)
    cache_clear()
    start = time.perf_counter()
    _, info = contract_path(eq, *shapes, shapes=True, time_budget=0.6)
    elapsed = time.perf_counter() - start
    assert 0.5 <= elapsed < 2.5   # anytime: no early stop on a stale streak, and the deadline holds
    _, greedy = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize="greedy")
    assert info.opt_cost <= greedy.opt_cost


def test_progress_reports_an_improving_best(capsys):
    eq, shapes = _regular(30, 2)
    cache_clear()
    _, info = contract_path(eq, *shapes, shapes=True, progress=True, time_budget=0.3)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("contract_path:")]
    assert lines
    found = [(float(m[1]), float(m[2])) for m in (re.search(r"([\d.]+) s\s+best 10\^([\d.]+)", x) for x in lines)]
    seconds, costs = zip(*found)
    assert list(seconds) == sorted(seconds) and list(costs) == sorted(costs, reverse=True)
    assert costs[-1] == pytest.approx(math.log10(float(info.opt_cost)), abs=1e-3)


def test_no_progress_output_by_default(capsys):
    eq, shapes = _regular(30, 2)
    cache_clear()
    contract_path(eq, *shapes, shapes=True, time_budget=0.1)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_seed_is_reproducible_and_correct(seed):
    eq, shapes = _regular(24, 3)
    cache_clear()
    one = contract_path(eq, *shapes, shapes=True, seed=seed)
    cache_clear()
    two = contract_path(eq, *shapes, shapes=True, seed=seed)
    assert one[0] == two[0] and one[1].opt_cost == two[1].opt_cost
    arrays = _arrays(shapes, seed)
    want = opt_einsum.contract(eq, *arrays, optimize="greedy")
    np.testing.assert_allclose(contract_sliced(eq, *arrays, path=one[0]), want, rtol=1e-9)


def test_seeds_land_in_one_quality_band():
    eq, shapes = _regular(30, 4, bond=4)   # searched by default (greedy costs over 10^5 FLOPs), in ~0.5 s
    infos = [contract_path(eq, *shapes, shapes=True, seed=s)[1] for s in range(4)]
    assert all(info.strategy.endswith("+reconfigure") for info in infos)
    costs = [math.log10(float(info.opt_cost)) for info in infos]
    assert max(costs) - min(costs) < 0.1, costs


def test_the_portfolio_favours_the_strategy_that_works():
    record = {"spectral": 1e10, "random-greedy": 1e14, "community": 1e13, "partition": 1e12}
    rng = random.Random(0)
    picks = [search._pick(record, 100, rng) for _ in range(400)]
    assert picks.count("spectral") > 300 and picks.count("random-greedy") < 5
    assert [search._pick({}, k, rng) for k in range(4)] == list(search.PORTFOLIO)   # every strategy first


def test_fiedler_vector_dense_and_sparse_agree_with_numpy():
    for n in (40, search.DENSE_EIGEN_MAX + 60):   # a path graph: simple spectrum, so one Fiedler vector
        edges = [(k, k + 1, 1.0 + (k % 3)) for k in range(n - 1)]
        got = search.fiedler_vector(list(range(n)), edges)
        lap = np.zeros((n, n))
        for u, v, w in edges:
            lap[u, v] = lap[v, u] = -w
            lap[u, u] += w
            lap[v, v] += w
        want = np.linalg.eigh(lap)[1][:, 1]
        assert abs(np.dot(got, want)) / np.linalg.norm(got) == pytest.approx(1.0, abs=1e-6)


def test_spectral_bisection_cuts_nothing_between_components_and_little_inside():
    g = nx.Graph()
    g.add_weighted_edges_from([(u, v, 1.0) for u in range(6) for v in range(u + 1, 6)])
    g.add_weighted_edges_from([(u, v, 1.0) for u in range(6, 12) for v in range(u + 1, 12)])
    a, b = search.spectral_bisection(g, list(range(12)), random.Random(0), 0.0, 0.5)
    assert {frozenset(a), frozenset(b)} == {frozenset(range(6)), frozenset(range(6, 12))}
    g.add_edge(0, 6, weight=1.0)   # two cliques joined by one edge: the cut is that edge
    a, b = search.spectral_bisection(g, list(range(12)), random.Random(0), 0.0, 0.5)
    assert sum(1 for u, v in g.edges if (u in a) != (v in a)) == 1


def test_a_spectral_start_beats_a_grown_region_start_on_a_regular_graph():
    net = _net(*_regular(120, 5))
    g = search.weighted_graph(net)
    rng = random.Random(0)
    spectral = min(search.tree_score(net, search._sample("spectral", net, g, rng, None)) for _ in range(3))
    grown = min(search.tree_score(net, search._sample("partition", net, g, rng, None)) for _ in range(3))
    assert spectral < grown


def test_memory_limit_keeps_the_cheaper_of_slicing_and_the_limit_aware_search():
    eq, shapes = _regular(30, 6)
    net = _net(eq, shapes)
    cache_clear()
    _, free = contract_path(eq, *shapes, shapes=True)
    limit = int(free.largest_intermediate) // 16
    _, info = contract_path(eq, *shapes, shapes=True, memory_limit=limit)
    assert info.largest_intermediate <= limit and info.sliced
    # Both candidates, rebuilt from the same deterministic searches, cost at least as much as the plan kept.
    tree, _ = search.find_tree(net, time_budget=None, seed=0, limit=None)
    tree, mask = slice_tree(net, tree, limit, 0, time.perf_counter() + 60)
    then_sliced = tree_cost(net, tree, mask)[0] * net.size(mask)
    aware, _ = search.find_tree(net, time_budget=None, seed=0, limit=limit)
    aware, mask = slice_tree(net, aware, limit, 0, time.perf_counter() + 60)
    limit_aware = tree_cost(net, aware, mask)[0] * net.size(mask)
    assert info.opt_cost <= min(then_sliced, limit_aware)
    assert "sliced" in info.strategy or "limit-aware" in info.strategy
    arrays = _arrays(shapes)
    want = opt_einsum.contract(eq, *arrays, optimize="greedy")
    np.testing.assert_allclose(contract_sliced(eq, *arrays, path=info.path, sliced=info.sliced), want, rtol=1e-9)


def test_slicing_overhead_is_reported():
    eq, shapes = _regular(20, 7)
    _, info = contract_path(eq, *shapes, shapes=True, memory_limit=16)
    assert info.sliced
    assert info.slicing_overhead == pytest.approx(float(info.opt_cost / info.unsliced_cost))
    assert info.slicing_overhead >= 1.0
    assert f"{info.slicing_overhead:.3f}x the unsliced path's" in str(info)
    _, free = contract_path(eq, *shapes, shapes=True)
    assert free.slicing_overhead == 1.0


def test_explain_reports_slices_and_overhead():
    program = tlc.compile("Y = A[i, j] B[i, k] C[i, l] D[j, k, l]", memory_limit=300 * 8)
    rng = np.random.default_rng(0)
    inputs = {"A": rng.uniform(0.5, 1.5, (50, 4)), "B": rng.uniform(0.5, 1.5, (50, 4)),
              "C": rng.uniform(0.5, 1.5, (50, 4)), "D": rng.uniform(0.5, 1.5, (4, 4, 4))}
    result = program(**inputs)["Y"]
    np.testing.assert_allclose(result, np.einsum("ij,ik,il,jkl->", *inputs.values()))
    assert re.search(r"sliced over \w+ \(\d+ slices\), [\d.]+x the FLOPs unsliced", program.explain())
