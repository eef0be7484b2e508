"""tlc.ir.graphs against networkx on random graphs: components, keyed topological orders, joined groups."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from tlc.ir.graphs import joined, strongly_connected, topological


def random_successors(rng: random.Random, n: int, m: int) -> dict[int, set[int]]:
    successors = {k: set() for k in rng.sample(range(3 * n), n)}
    nodes = list(successors)
    for _ in range(m):
        successors[rng.choice(nodes)].add(rng.choice(nodes))
    return successors


def as_networkx(successors) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(successors)
    g.add_edges_from((a, b) for a, targets in successors.items() for b in targets)
    return g


@pytest.mark.parametrize("seed", range(60))
def test_components_match_networkx_and_come_after_what_they_reach(seed):
    rng = random.Random(seed)
    successors = random_successors(rng, rng.randint(1, 40), rng.randint(0, 80))
    components = strongly_connected(successors)
    expected = {frozenset(c) for c in nx.strongly_connected_components(as_networkx(successors))}
    assert {frozenset(c) for c in components} == expected
    assert sum(map(len, components)) == len(successors)
    position = {n: k for k, c in enumerate(components) for n in c}
    for a, targets in successors.items():
        assert all(position[b] <= position[a] for b in targets)


@pytest.mark.parametrize("seed", range(60))
def test_the_keyed_order_is_networkx_lexicographical_one(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 40)
    successors = {k: set() for k in range(n)}
    for _ in range(rng.randint(0, 80)):
        a, b = sorted(rng.sample(range(n), 2)) if n > 1 else (0, 0)
        if a != b:
            successors[a].add(b)
    weight = {k: rng.random() for k in range(n)}
    order = topological(successors, key=weight.__getitem__)
    assert order == list(nx.lexicographical_topological_sort(as_networkx(successors), key=weight.__getitem__))


def test_a_cycle_or_a_self_loop_has_no_order():
    assert topological({0: {1}, 1: {0}, 2: set()}, key=lambda k: k) is None
    assert topological({0: {0}}, key=lambda k: k) is None
    assert topological({}, key=lambda k: k) == []


@pytest.mark.parametrize("seed", range(30))
def test_joined_groups_are_networkx_connected_components_in_order(seed):
    rng = random.Random(seed)
    nodes = list(range(rng.randint(1, 30)))
    chains = [rng.sample(nodes + [100, 101], rng.randint(1, 4)) for _ in range(rng.randint(0, 12))]
    g = nx.Graph()
    g.add_nodes_from(nodes)
    for chain in chains:
        g.add_nodes_from(chain)
        nx.add_path(g, chain)
    assert joined(nodes, chains) == [frozenset(c) for c in nx.connected_components(g)]
