"""Small graph algorithms over adjacency dicts (strongly connected components, a keyed topological order,
connected groups), so the analyses every compile runs need no graph library: importing networkx took a quarter of
``import tlc``, and its general graphs were most of stratifying a small program."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import TypeVar

Node = TypeVar("Node", bound=Hashable)


def strongly_connected(successors: Mapping[Node, Iterable[Node]]) -> list[list[Node]]:
    """The strongly connected components of the graph whose every node is a key of ``successors`` (Tarjan's
    algorithm without recursion); a component comes after every component it reaches."""
    index: dict = {}
    low: dict = {}
    stack: list = []
    on_stack: set = set()
    components: list[list[Node]] = []
    for root in successors:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(successors[root]))]
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors[child])))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(component)
    return components


def topological(successors: Mapping[Node, Iterable[Node]], key: Callable[[Node], object]) -> list[Node] | None:
    """The nodes (every one a key of ``successors``) in an order where each comes after those with an edge to it,
    the smallest ``key`` first among those free to go next; None when the graph has a cycle."""
    waiting = dict.fromkeys(successors, 0)
    for targets in successors.values():
        for target in targets:
            waiting[target] += 1
    ready = [(key(n), k, n) for k, (n, count) in enumerate(waiting.items()) if count == 0]
    heapq.heapify(ready)
    position = {n: k for k, n in enumerate(waiting)}
    order = []
    while ready:
        _, _, node = heapq.heappop(ready)
        order.append(node)
        for target in successors[node]:
            waiting[target] -= 1
            if waiting[target] == 0:
                heapq.heappush(ready, (key(target), position[target], target))
    return order if len(order) == len(waiting) else None


def joined(nodes: Iterable[Node], chains: Iterable[Iterable[Node]]) -> list[frozenset[Node]]:
    """The groups of ``nodes`` that ``chains`` join (two nodes of one chain are in one group), in the order of
    each group's first node."""
    parent = {n: n for n in nodes}

    def root(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for chain in chains:
        first = None
        for n in chain:
            parent.setdefault(n, n)
            if first is None:
                first = root(n)
            else:
                parent[root(n)] = first
    groups: dict = {}
    for n in parent:
        groups.setdefault(root(n), []).append(n)
    return [frozenset(g) for g in groups.values()]
