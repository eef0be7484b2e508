"""Contraction-tree strategies: exact subset DP, Boltzmann greedy, graph partitioning, subtree reconfiguration.

Every strategy returns a :data:`~tlc.contract.cost.Tree`. Randomised ones take a ``random.Random``, so a
search is reproducible from its seed. Steps are scored by :func:`step_cost`: opt_einsum FLOPs, inflated by
how far the step's result overshoots a memory limit when there is one (the slicer must pay for that later).
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import opt_einsum

from tlc.contract.cost import Network, Tree, bits, node_order, path_to_tree, tree_cost, tree_legs

if TYPE_CHECKING:
    import networkx as nx

Items = Mapping[int, int]
"""Sub-problem inputs: node mask to the index mask of its result."""

RANDOM_BRANCH = 0.5
"""Chance that a noisy reconfiguration opens a random branch rather than the costliest: measured on random
3-regular graphs, 0.5 reached ~10x fewer FLOPs than always opening the costliest branch."""


def step_cost(net: Network, union: int, summed: int, kept: int, limit: int | None) -> float:
    """FLOPs of one step, times the factor by which its result exceeds ``limit`` (a slicing proxy)."""
    flops = net.size(union) * (2 if summed else 1)
    if limit is not None:
        size = net.size(kept)
        if size > limit:
            flops *= size / limit
    return flops


def optimal(
    net: Network, items: Items, output: int, limit: int | None = None, outer: bool = True
) -> tuple[float, Tree]:
    """Cheapest tree over ``items`` by DP over subsets (~3**k/2 splits); exact when ``outer`` products are allowed.

    With ``outer=False`` only connected groups of items are formed (unless the items fall apart), which
    prunes most subsets and rarely costs anything.
    """
    nodes, item_legs = list(items), list(items.values())
    k = len(nodes)
    full = (1 << k) - 1
    union = [0] * (full + 1)
    for s in range(1, full + 1):
        low = s & -s
        union[s] = union[s ^ low] | item_legs[low.bit_length() - 1]
    legs = [union[s] & (output | union[full ^ s]) for s in range(full + 1)]
    linked = _connected_subsets(item_legs) if not outer else None
    best = [0.0] * (full + 1)
    split = [0] * (full + 1)
    size = net.sizer()
    for s in range(3, full + 1):
        if not s & (s - 1):
            continue
        if linked is not None and not linked[s] and s != full:
            best[s] = math.inf
            continue
        low = s & -s
        rest = s ^ low
        kept = legs[s]
        scale = max(1.0, size(kept) / limit) if limit is not None else 1.0
        best_s, sub = math.inf, rest
        while sub:  # s1 always holds the lowest item, so each unordered split is seen once
            sub = (sub - 1) & rest
            s1 = sub | low
            s2 = s ^ s1
            c = best[s1] + best[s2]
            if c >= best_s:
                continue
            both = legs[s1] | legs[s2]
            c += size(both) * (2 if both & ~kept else 1) * scale
            if c < best_s:
                best_s, split[s] = c, s1
        best[s] = best_s
    if best[full] == math.inf:  # the items fall apart: outer products are needed after all
        return optimal(net, items, output, limit, outer=True)
    tree: Tree = {}
    node_of = lambda s: sum(nodes[b.bit_length() - 1] for b in bits(s))  # noqa: E731
    stack = [full] if k > 1 else []
    while stack:
        s = stack.pop()
        s1 = split[s]
        tree[node_of(s)] = (node_of(s1), node_of(s ^ s1))
        stack.extend(x for x in (s1, s ^ s1) if x & (x - 1))
    return best[full], tree


def _connected_subsets(item_legs: Sequence[int]) -> list[bool]:
    """For every subset mask of the items: do they form one connected group through shared indices?"""
    k = len(item_legs)
    adj = {1 << i: sum(1 << j for j in range(k) if j != i and item_legs[i] & item_legs[j]) for i in range(k)}
    linked = [False] * (1 << k)
    for b in adj:
        linked[b] = True
    for s in range(3, 1 << k):
        # s is connected iff some item b of it is adjacent to the connected rest: a leaf of a spanning tree.
        rest = s
        while rest:
            b = rest & -rest
            if linked[s ^ b] and adj[b] & s:
                linked[s] = True
                break
            rest ^= b
    return linked


def greedy(
    net: Network,
    items: Items,
    output: int,
    rng: random.Random | None = None,
    alpha: float = 1.0,
    temperature: float = 0.0,
) -> Tree:
    """Pairwise tree over ``items``: cheapest ``size(out) - alpha*(size(a)+size(b))`` first, Boltzmann-sampled."""
    legs = dict(items)
    holders: dict[int, set[int]] = {}
    for node, m in legs.items():
        for b in bits(m):
            holders.setdefault(b, set()).add(node)
    dangling = sum(b for b, h in holders.items() if len(h) == 1 and not b & output)
    sizes = {node: net.size(m) for node, m in legs.items()}
    heap: list[tuple[float, int, int, int]] = []
    tick = itertools.count()
    noisy = temperature > 0 and rng is not None

    def kept_legs(a: int, b: int) -> int:
        la, lb = legs[a], legs[b]
        summed = (la | lb) & dangling
        for bit in bits(la & lb & ~output):
            if len(holders[bit]) == 2:
                summed |= bit
        return (la | lb) & ~summed

    def push(a: int, b: int) -> None:
        c = net.size(kept_legs(a, b)) - alpha * (sizes[a] + sizes[b])
        if noisy:  # Gumbel noise on a signed log scale samples a Boltzmann distribution over candidates
            c = math.copysign(math.log1p(abs(c)), c) - temperature * math.log(-math.log(rng.random() or 1e-300))
        heapq.heappush(heap, (c, next(tick), a, b))

    pairs = set()
    for h in holders.values():
        pairs.update(itertools.combinations(sorted(h), 2))
    for a, b in sorted(pairs):
        push(a, b)
    tree: Tree = {}
    while heap:
        _, _, a, b = heapq.heappop(heap)
        if a not in legs or b not in legs:
            continue
        kept, node = kept_legs(a, b), a | b
        tree[node] = (a, b)
        for bit in bits(legs[a] | legs[b]):
            h = holders[bit]
            h.discard(a)
            h.discard(b)
            if bit & kept:
                h.add(node)
        del legs[a], legs[b]
        legs[node], sizes[node] = kept, net.size(kept)
        neighbours = set().union(*(holders[bit] for bit in bits(kept))) - {node} if kept else set()
        for other in sorted(neighbours):
            push(node, other)
    _join_components(net, legs, output, dangling, tree)
    return tree


def _join_components(net: Network, legs: dict[int, int], output: int, dangling: int, tree: Tree) -> None:
    """Finish ``tree`` with outer products of the remaining disconnected results, smallest first."""
    heap = [(net.size(m), node) for node, m in legs.items()]
    heapq.heapify(heap)
    while len(heap) > 1:
        _, a = heapq.heappop(heap)
        _, b = heapq.heappop(heap)
        node, kept = a | b, (legs[a] | legs[b]) & ~dangling
        tree[node] = (a, b)
        legs[node] = kept
        heapq.heappush(heap, (net.size(kept), node))


def leaf_items(net: Network, node: int) -> dict[int, int]:
    """The operands inside ``node`` as sub-problem items."""
    return {b: net.inputs[b.bit_length() - 1] for b in bits(node)}


def solve_small(net: Network, items: Items, output: int, limit: int | None, exact_max: int) -> Tree:
    """Exact tree when there are at most ``exact_max`` items, else a plain greedy one."""
    if len(items) <= exact_max:
        return optimal(net, items, output, limit)[1]
    return greedy(net, items, output)


def weighted_graph(net: Network) -> nx.Graph:
    """Operand graph: an edge per shared summed index, weighted by ``log2`` of its extent (cliques for hyperedges)."""
    import networkx as nx       # networkx and scipy.linalg are imported by the searches of large networks only
    g = nx.Graph()
    g.add_nodes_from(range(net.n))
    for b, occ in net.occurrences.items():
        if b & net.output or occ.bit_count() < 2:
            continue
        ops = [o.bit_length() - 1 for o in bits(occ)]
        w = max(net.log2_size(b), 0.1) / (len(ops) - 1)
        for u, v in itertools.combinations(ops, 2):
            g.add_edge(u, v, weight=g.get_edge_data(u, v, {"weight": 0.0})["weight"] + w)
    return g


def _grow(g: nx.Graph, nodes: list[int], target: int, rng: random.Random) -> set[int]:
    """A region of ``target`` nodes grown from a random seed, adding the most strongly attached node each time."""
    pull: dict[int, float] = {}
    region: set[int] = set()
    new = rng.choice(nodes)
    while True:
        region.add(new)
        if len(region) >= target:
            return region
        for v, d in g.adj[new].items():
            if v not in region:
                pull[v] = pull.get(v, 0.0) + d["weight"] + 1e-3 * rng.random()
        if pull:
            new = max(pull, key=pull.__getitem__)
            del pull[new]
        else:  # the region is a whole component: jump to another one
            new = rng.choice([v for v in nodes if v not in region])


def bisection(g: nx.Graph, nodes: list[int], rng: random.Random, imbalance: float) -> tuple[list[int], list[int]]:
    """Split ``nodes`` in two with a small weighted cut: grown region, then Kernighan-Lin refinement."""
    import networkx as nx
    sub = g.subgraph(nodes)
    frac = 0.5 + imbalance * (2 * rng.random() - 1)
    target = min(len(nodes) - 1, max(1, round(len(nodes) * frac)))
    region = _grow(sub, nodes, target, rng)
    rest = set(nodes) - region
    a, b = nx.algorithms.community.kernighan_lin_bisection(
        sub, partition=(region, rest), weight="weight", seed=rng.randrange(2**31), max_iter=4
    )
    return sorted(a), sorted(b)


SPECTRAL_MAX = 5000
"""Largest part split by :func:`spectral_bisection`; bigger parts use :func:`bisection`."""
DENSE_EIGEN_MAX = 160
"""Up to this many nodes the Fiedler vector comes from a dense eigen-solve; above, from sparse shift-invert
Lanczos (measured under load: dense LAPACK took 150-350 ms at 300 nodes, shift-invert 15-20 ms)."""


def fiedler_vector(nodes: list[int], edges: list[tuple[int, int, float]]) -> np.ndarray:
    """The Laplacian eigenvector of the second-smallest eigenvalue of a connected weighted graph on ``nodes``."""
    import scipy.linalg
    import scipy.sparse
    import scipy.sparse.linalg
    n = len(nodes)
    where = {v: k for k, v in enumerate(nodes)}
    rows = [where[u] for u, _, _ in edges]
    cols = [where[v] for _, v, _ in edges]
    weights = np.array([w for _, _, w in edges])
    adjacency = scipy.sparse.coo_matrix((weights, (rows, cols)), shape=(n, n))
    adjacency = (adjacency + adjacency.T).tocsc()
    laplacian = scipy.sparse.diags(np.asarray(adjacency.sum(axis=1)).ravel()) - adjacency
    if n <= DENSE_EIGEN_MAX:
        return scipy.linalg.eigh(laplacian.toarray(), subset_by_index=[1, 1])[1][:, 0]
    start = np.ones(n) + np.arange(n) / n  # fixed start vector: deterministic
    values, vectors = scipy.sparse.linalg.eigsh(laplacian.tocsc(), k=2, sigma=-1e-2, which="LM", v0=start)
    return vectors[:, int(np.argsort(values)[1])]


def spectral_bisection(
    g: nx.Graph, nodes: list[int], rng: random.Random, imbalance: float, noise: float
) -> tuple[list[int], list[int]]:
    """Split ``nodes`` in two along the Fiedler vector of jittered edge weights, then Kernighan-Lin refinement.

    Measured on random 3-regular graphs of 300 nodes: cuts ~25% smaller than a grown region refined by
    Kernighan-Lin, and trees ~0.5 decades cheaper after reconfiguration. ``noise`` (relative jitter of each
    weight) makes repeated calls explore different cuts.
    """
    import networkx as nx
    import scipy.sparse.linalg
    sub = g.subgraph(nodes)
    frac = 0.5 + imbalance * (2 * rng.random() - 1)
    target = min(len(nodes) - 1, max(1, round(len(nodes) * frac)))
    components = sorted(nx.connected_components(sub), key=lambda c: (len(c), min(c)))
    if len(components) > 1:  # whole components to one side, smallest first: nothing is cut
        side: set[int] = set()
        for component in components[:-1]:
            if len(side) + len(component) <= target or not side:
                side |= component
        return sorted(side), sorted(set(nodes) - side)
    edges = [(u, v, w * (1.0 + noise * rng.random())) for u, v, w in sub.edges(data="weight")]
    try:
        fiedler = fiedler_vector(nodes, edges)
    except scipy.sparse.linalg.ArpackError:
        return bisection(g, nodes, rng, imbalance)
    order = sorted(range(len(nodes)), key=lambda k: (fiedler[k], rng.random()))
    side = {nodes[k] for k in order[:target]}
    a, b = nx.algorithms.community.kernighan_lin_bisection(
        sub, partition=(side, set(nodes) - side), weight="weight", seed=rng.randrange(2**31), max_iter=10
    )
    return sorted(a), sorted(b)


def partition_tree(
    net: Network,
    g: nx.Graph,
    rng: random.Random,
    cutoff: int,
    imbalance: float,
    limit: int | None = None,
    exact_max: int = 7,
    noise: float | None = None,
) -> Tree:
    """Top-down tree by recursive bisection; parts of at most ``cutoff`` operands are solved directly.

    With ``noise`` (see :func:`spectral_bisection`) parts of up to :data:`SPECTRAL_MAX` operands are split
    spectrally, else by a grown region refined by Kernighan-Lin.
    """
    tree: Tree = {}
    stack = [list(range(net.n))]
    while stack:
        nodes = stack.pop()
        node = sum(1 << v for v in nodes)
        if len(nodes) <= cutoff:
            tree.update(solve_small(net, leaf_items(net, node), net.node_legs(node), limit, exact_max))
            continue
        if noise is not None and len(nodes) <= SPECTRAL_MAX:
            a, b = spectral_bisection(g, nodes, rng, imbalance, noise)
        else:
            a, b = bisection(g, nodes, rng, imbalance)
        tree[node] = (sum(1 << v for v in a), sum(1 << v for v in b))
        stack.extend(part for part in (a, b) if len(part) > 1)
    return tree


def community_tree(
    net: Network, g: nx.Graph, rng: random.Random, resolution: float, limit: int | None = None, exact_max: int = 7
) -> Tree:
    """Bottom-up tree from Louvain's hierarchy: contract each community, then communities of communities."""
    import networkx as nx
    tree: Tree = {}
    items = leaf_items(net, net.root)
    levels = nx.algorithms.community.louvain_partitions(
        g, weight="weight", resolution=resolution, seed=rng.randrange(2**31)
    )
    for level in levels:
        groups = [sum(1 << v for v in community) for community in level]
        merged = {}
        for group in groups:
            sub = {node: legs for node, legs in items.items() if node & group}
            merged[group] = net.node_legs(group)
            tree.update(solve_small(net, sub, merged[group], limit, exact_max))
        items = merged
    tree.update(solve_small(net, items, net.output, limit, exact_max))
    return tree


def reconfigure(
    net: Network,
    tree: Tree,
    deadline: float,
    limit: int | None = None,
    rng: random.Random | None = None,
    size: int = 8,
    passes: int = 4,
    memo: dict[tuple[int, ...], tuple[float, Tree]] | None = None,
) -> tuple[Tree, int]:
    """Re-solve exactly the subtrees of up to ``size`` branches, costliest first; return the tree and DP count.

    A pass visits every node once (new nodes too); passes repeat while one improves. With ``rng`` the
    subtrees are grown with some randomness, which lets repeated calls escape a local optimum. ``memo``
    (frontier to solution) may be shared by calls on the same network and limit.
    """
    memo = {} if memo is None else memo
    tree = dict(tree)
    legs = tree_legs(net, tree)

    def cost(node: int) -> float:
        left, right = tree[node]
        kept, union, summed = net.step(legs[left], legs[right], node)
        return step_cost(net, union, summed, kept, limit)

    costs = {node: cost(node) for node in tree}
    calls = 0
    for _ in range(passes):
        improved = False
        heap = [(-c, node) for node, c in costs.items()]
        heapq.heapify(heap)
        while heap and time.perf_counter() < deadline:
            _, node = heapq.heappop(heap)
            if node not in tree:
                continue
            inner, frontier = _subtree(tree, costs, node, size, rng)
            if len(frontier) < 3:
                continue
            # A subtree's best order depends only on its frontier, so a search shares one memo.
            key = tuple(sorted(frontier))
            if key not in memo:
                calls += 1
                memo[key] = optimal(net, {f: legs[f] for f in frontier}, legs[node], limit, outer=False)
            after, sub = memo[key]
            before = sum(costs[v] for v in inner)
            if after >= before * (1 - 1e-9):
                continue
            for v in inner:
                del tree[v], costs[v]
            tree.update(sub)
            for v in sorted(sub, key=int.bit_count):
                legs[v] = net.step(legs[sub[v][0]], legs[sub[v][1]], v)[0]
                costs[v] = cost(v)
                heapq.heappush(heap, (-costs[v], v))
            improved = True
        if not improved:
            break
    return tree, calls


def _subtree(
    tree: Tree, costs: Mapping[int, float], node: int, size: int, rng: random.Random | None
) -> tuple[list[int], list[int]]:
    """Internal nodes and frontier of the subtree under ``node``, grown by opening the costliest branch."""
    inner, frontier = [node], list(tree[node])
    while len(frontier) < size:
        internal = [f for f in frontier if f in tree]
        if not internal:
            break
        if rng is not None and rng.random() < RANDOM_BRANCH:
            pick = rng.choice(internal)
        else:
            pick = max(internal, key=costs.__getitem__)
        frontier.remove(pick)
        frontier.extend(tree[pick])
        inner.append(pick)
    return inner, frontier


def tree_score(net: Network, tree: Tree, limit: int | None = None) -> float:
    """Sum of :func:`step_cost` over the tree: FLOPs, penalised for steps over ``limit``."""
    legs = {1 << j: m for j, m in enumerate(net.inputs)}
    total = 0.0
    for node in node_order(tree):
        left, right = tree[node]
        kept, union, summed = net.step(legs[left], legs[right], node)
        legs[node] = kept
        total += step_cost(net, union, summed, kept, limit)
    return total


@dataclass(frozen=True, slots=True)
class Effort:
    """When :func:`hyper_search` stops, besides its wall-clock deadline; every rule here is deterministic."""

    min_starts: int
    """At least this many sampled starting trees (deadline permitting), whatever the other rules say."""
    rate: float | None
    """Stop once the estimated search time exceeds the best tree's FLOPs / ``rate`` (None: never)."""
    cap: float | None
    """Stop once the estimated search time exceeds this many seconds (None: never)."""


Progress = Callable[[float, float, str], None]
"""Called with ``(seconds since the search began, best score, its strategy)`` each time the best tree improves, and
every :data:`HEARTBEAT` seconds while the search goes on."""
HEARTBEAT = 1.0

# Estimated seconds per unit of work, measured on the reference machine (2 vCPU shared with other jobs,
# Python 3.11): deterministic stand-ins for the clock, so the same inputs always get the same default search.
_SECONDS_PER_OPERAND = {"random-greedy": 2e-4, "partition": 4e-4, "community": 2.5e-4, "spectral": 1.5e-3}
_SECONDS_PER_DP = 6e-4
PORTFOLIO = ("random-greedy", "community", "spectral", "partition")
"""Strategies of sampled starts, cheapest first (a cheap contraction's default search stops after two starts:
a spectral start over a chain of 1000 operands takes seconds). Each gets two starts first; then a strategy is drawn with weight
``exp(-(decades its best start is behind the best) / SHARPNESS)``, so the search spends its time on what works on this network
(spectral starts on random regular graphs and lattices, greedy and community ones on chains and sparse nets)."""
SHARPNESS = 0.25
"""Decades behind the best strategy at which a strategy's weight falls by a factor e."""
ELITES = 4
"""How many of the best distinct trees are kept and re-polished: restarts from several good trees rather than
one keep the search from settling in the first good basin it finds (the seed variance of a single best)."""
POLISH_EVERY = 3
"""Every third step re-polishes an elite tree (noisy reconfiguration) instead of sampling a new start."""


def hyper_search(
    net: Network,
    starts: Sequence[tuple[Tree, str]],
    *,
    seed: int,
    deadline: float,
    effort: Effort,
    limit: int | None = None,
    progress: Progress | None = None,
) -> tuple[Tree, str]:
    """Best tree over ``starts`` and a portfolio of sampled trees, each reconfigured with noise; anytime.

    A tree's score before reconfiguration says little about its score after, so every start is reconfigured.
    Between new starts the search re-polishes its elite trees in turn (larger subtrees on alternate rounds),
    until ``deadline`` or ``effort`` says stop.
    """
    clock = time.perf_counter()
    rng = random.Random(seed)
    g = weighted_graph(net)
    memo: dict[tuple[int, ...], tuple[float, Tree]] = {}
    work = 0.0
    elites: list[tuple[float, str, Tree]] = []

    def offer(score: float, name: str, tree: Tree) -> bool:
        """Keep ``tree`` among the elites if it is good enough; True when it is the new best."""
        if any(abs(score - e[0]) <= 1e-9 * score for e in elites):
            return False  # most likely the same tree again
        new_best = not elites or score < elites[0][0] * (1 - 1e-9)
        elites.append((score, name, tree))
        elites.sort(key=lambda e: e[0])
        del elites[ELITES:]
        if new_best and progress is not None:
            progress(time.perf_counter() - clock, score, name)
        return new_best

    def polish(tree: Tree, name: str, size: int = 7) -> float:
        nonlocal work
        new, calls = reconfigure(net, tree, deadline, limit, rng, size=size, passes=10, memo=memo)
        work += calls * _SECONDS_PER_DP * (3 ** (size - 7))
        score = tree_score(net, new, limit)
        offer(score, name if name.endswith("+reconfigure") else name + "+reconfigure", new)
        return score

    for tree, name in starts:
        offer(tree_score(net, tree, limit), name, tree)
    for tree, name in starts:
        polish(tree, name)
    sampled = rounds = 0
    record: dict[str, float] = {}  # best polished score of each strategy's starts
    beat = time.perf_counter()
    while time.perf_counter() < deadline:
        if progress is not None and time.perf_counter() - beat >= HEARTBEAT:
            beat = time.perf_counter()
            progress(beat - clock, elites[0][0], elites[0][1])
        if sampled >= effort.min_starts:
            if effort.rate is not None and work > elites[0][0] / effort.rate:
                break
            if effort.cap is not None and work > effort.cap:
                break
        rounds += 1
        if rounds % POLISH_EVERY == 0:
            k = rounds // POLISH_EVERY
            parent = elites[k % len(elites)]
            if polish(parent[2], parent[1], size=7 if k % 2 else 8) < parent[0] * (1 - 1e-9):
                elites[:] = [e for e in elites if e is not parent]  # its descendant replaces it: keep variety
        else:
            kind = _pick(record, sampled, rng)
            tree = _sample(kind, net, g, rng, limit)
            work += net.n * _SECONDS_PER_OPERAND[kind]
            sampled += 1
            record[kind] = min(record.get(kind, math.inf), polish(tree, kind))
    return elites[0][2], elites[0][1]


def _pick(record: Mapping[str, float], sampled: int, rng: random.Random) -> str:
    """The strategy of the next sampled start (see :data:`PORTFOLIO`)."""
    if sampled < 2 * len(PORTFOLIO):
        return PORTFOLIO[sampled % len(PORTFOLIO)]
    best = min(record.values())
    weights = [math.exp(-math.log10((record[k] + 1) / (best + 1)) / SHARPNESS) for k in PORTFOLIO]
    return rng.choices(PORTFOLIO, weights)[0]


def _sample(kind: str, net: Network, g: nx.Graph, rng: random.Random, limit: int | None) -> Tree:
    """One tree from strategy ``kind`` with randomly drawn hyper-parameters."""
    if kind == "random-greedy":
        alpha = math.exp(rng.uniform(math.log(0.1), math.log(4.0)))
        temperature = math.exp(rng.uniform(math.log(0.001), 0.0))
        return greedy(net, leaf_items(net, net.root), net.output, rng, alpha, temperature)
    if kind == "partition":
        return partition_tree(net, g, rng, cutoff=rng.randint(4, 12), imbalance=rng.uniform(0.0, 0.5), limit=limit)
    if kind == "spectral":
        return partition_tree(
            net, g, rng, cutoff=rng.randint(5, 10), imbalance=rng.uniform(0.0, 0.25), limit=limit, noise=rng.random()
        )
    return community_tree(net, g, rng, resolution=math.exp(rng.uniform(-1.0, 2.0)), limit=limit)


EXACT_MAX = 9
"""Up to this many operands the subset DP is exact and quick (3**9/2 splits, ~15 ms)."""
DP_MAX = 14
"""Up to this many operands opt_einsum's ``dp`` seeds the search, when the operand graph is sparse."""
RATE = 1e7
"""The default budget searches while its estimated time is under the best FLOPs / RATE: a few times the
contraction's own NumPy time (~1e8 FLOP/s on small-bond networks), since a plan is cached and usually run more
than once. So a contraction worth hours gets a search worth seconds, up to :func:`work_cap`."""
SEARCH_MIN_FLOPS = 1e5
"""With the default budget, a term whose greedy path costs at most this many FLOPs is not searched."""


def find_tree(
    net: Network, *, time_budget: float | None, seed: int, limit: int | None, progress: Progress | None = None
) -> tuple[Tree, str]:
    """The contraction tree for ``net`` and the name of the strategy that found it.

    ``time_budget=None`` scales the search with the problem: none for 3 operands or fewer, the exact DP up
    to :data:`EXACT_MAX`, then hyper-search until its estimated time passes the best tree's FLOPs / :data:`RATE`
    or :func:`work_cap` (estimated, so the same inputs and ``seed`` always get the same plan, unless the
    wall-clock cap :func:`default_budget` cuts a very slow run short). ``time_budget=0`` is opt_einsum's greedy
    path, no search. A positive budget is an anytime search: it keeps improving until the budget is spent.
    """
    n = net.n
    if n <= 3:
        return _trivial(net, limit), "trivial"
    baseline = path_to_tree(opt_einsum.paths.greedy(*_oe_args(net)), n)
    if time_budget == 0 or 0 in net.sizes:
        return baseline, "greedy"
    start = time.perf_counter()
    deadline = start + (default_budget(n) if time_budget is None else time_budget)
    if n <= EXACT_MAX and 3**n / 2 * 1e-6 < deadline - start:
        return optimal(net, leaf_items(net, net.root), net.output, limit)[1], "optimal"
    flops, largest = tree_cost(net, baseline)
    if time_budget is None and flops <= SEARCH_MIN_FLOPS and (limit is None or largest <= limit):
        return baseline, "greedy"      # the whole contraction costs less than a search would
    starts = [(baseline, "greedy")]
    if n <= DP_MAX and weighted_graph(net).number_of_edges() <= 2 * n:
        starts.append((path_to_tree(opt_einsum.paths.dynamic_programming(*_oe_args(net)), n), "dp"))
    if time_budget is None:
        effort = Effort(min_starts=2, rate=RATE, cap=work_cap(n))
    else:
        effort = Effort(min_starts=0, rate=None, cap=None)
    return hyper_search(net, starts, seed=seed, deadline=deadline, effort=effort, limit=limit, progress=progress)


def work_cap(n: int) -> float:
    """Most estimated seconds of a default search over ``n`` operands (the rate rule usually stops it sooner)."""
    return min(60.0, 0.2 * n)


def default_budget(n: int) -> float:
    """Wall-clock cap in seconds of a default search: four times :func:`work_cap`, room for a loaded machine."""
    return 1.0 + 4 * work_cap(n)


def _trivial(net: Network, limit: int | None) -> Tree:
    """The best of the (at most three) trees of three operands or fewer."""
    if net.n == 1:
        return {}
    if net.n == 2:
        return {3: (1, 2)}
    trees = [{7: (a, 7 ^ a), 7 ^ a: tuple(bits(7 ^ a))} for a in (1, 2, 4)]
    return min(trees, key=lambda t: tree_score(net, t, limit))


def _oe_args(net: Network) -> tuple[list[frozenset[int]], frozenset[int], dict[int, int]]:
    """``net`` as opt_einsum path-function arguments, with index bit numbers as labels."""
    label = lambda mask: frozenset(b.bit_length() - 1 for b in bits(mask))  # noqa: E731
    return [label(m) for m in net.inputs], label(net.output), dict(enumerate(net.sizes))
