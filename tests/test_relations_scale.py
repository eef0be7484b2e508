"""Relations at scale: sparse, dense semi-naive and closure strategies agree with each other and with an
independent reference (networkx, or naive dense NumPy iteration) on random graphs; the planner's
choices, explain output, sparse results that never densify, and bad input."""

from __future__ import annotations

import functools
import importlib.util
import itertools
import string

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

import tlc
import tlc_runtime.sparse as rs
from tlc.cli import main as cli_main

STRATEGIES = ("auto", "sparse", "dense", "closure", "squaring")


def random_edges(n: int, m: int, seed: int) -> set[tuple[int, int]]:
    rng = np.random.default_rng(seed)
    return {(int(a), int(b)) for a, b in rng.integers(0, n, size=(m, 2))}


def dense(n: int, pairs) -> np.ndarray:
    out = np.zeros((n, n), dtype=bool)
    for a, b in pairs:
        out[a, b] = True
    return out


def naive(rules, relations: dict[str, np.ndarray], derived: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """Naive dense fixpoint: each rule ``(head, head_vars, atoms, negated)`` with atoms ``(name, vars)``."""
    values = {**relations, **{n: np.zeros(s, dtype=bool) for n, s in derived.items()}}
    while True:
        before = {n: values[n].copy() for n in derived}
        for head, head_vars, atoms, negated in rules:
            letters = {v: string.ascii_letters[k] for k, v in enumerate(
                dict.fromkeys(v for _, vs in [*atoms, *negated] for v in vs))}
            operands = [values[n].astype(float) for n, _ in atoms] + [1.0 - values[n] for n, _ in negated]
            subscripts = ",".join("".join(letters[v] for v in vs) for _, vs in [*atoms, *negated])
            out = np.einsum(f"{subscripts}->{''.join(letters[v] for v in head_vars)}", *operands) > 0
            values[head] = values[head] | out
        if all(np.array_equal(before[n], values[n]) for n in derived):
            return values


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("seed", [0, 1])
def test_closure_matches_networkx(strategy, seed):
    n = 40
    edges = random_edges(n, 60, seed)
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    expected = set(nx.transitive_closure(g, reflexive=False).edges())
    for rule in ("Path(x, z) = Path(x, y) Edge(y, z)", "Path(x, z) = Edge(x, y) Path(y, z)",
                 "Path(x, z) = Path(x, y) Path(y, z)"):
        prog = tlc.compile(f"Path(x, y) = Edge(x, y)\n{rule}\n", relations=strategy)
        for data in (sorted(edges), dense(n, edges), sp.csr_matrix(dense(n, edges))):
            res = prog(Edge=data)
            assert set(res["Path"]) == expected, (rule, type(data))
            assert np.array_equal(np.asarray(res["Path"]), dense(n, expected)[:res["Path"].shape[0]])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_mutual_recursion_negation_and_ternary(strategy):
    n = 12
    rng = np.random.default_rng(3)
    e = dense(n, random_edges(n, 20, 3))
    node = np.ones(n, dtype=bool)
    r3 = rng.random((n, n, 4)) < 0.05
    s = rng.random((4, 4)) < 0.3
    src = """
    Odd(x, y) = E(x, y)
    Odd(x, z) = Even(x, y) E(y, z)
    Even(x, z) = Odd(x, y) E(y, z)
    Both(x, y) = Odd(x, y) Even(x, y)
    OnlyOdd(x, y) = Odd(x, y) ~Even(x, y)
    Far(x, y) = Node(x) Node(y) ~Odd(x, y) ~Even(x, y)
    T(x, y, z) = R(x, y, z)
    T(x, y, w) = T(x, y, z) S(z, w)
    Loop(x) = T(x, x, z)
    """
    res = tlc.compile(src, relations=strategy)(E=e, Node=node, R=r3, S=s)
    ref = naive([
        ("Odd", "xy", [("E", "xy")], []), ("Odd", "xz", [("Even", "xy"), ("E", "yz")], []),
        ("Even", "xz", [("Odd", "xy"), ("E", "yz")], []),
    ], {"E": e}, {"Odd": (n, n), "Even": (n, n)})
    ref.update(naive([("Both", "xy", [("Odd", "xy"), ("Even", "xy")], []),
                      ("OnlyOdd", "xy", [("Odd", "xy")], [("Even", "xy")]),
                      ("Far", "xy", [("Node", "x"), ("Node", "y")], [("Odd", "xy"), ("Even", "xy")]),
                      ("T", "xyz", [("R", "xyz")], []), ("T", "xyw", [("T", "xyz"), ("S", "zw")], [])],
                     {**ref, "Node": node, "R": r3, "S": s}, {"Both": (n, n), "OnlyOdd": (n, n), "Far": (n, n),
                                                              "T": (n, n, 4)}))
    for name in ("Odd", "Even", "Both", "OnlyOdd", "Far", "T"):
        assert np.array_equal(np.asarray(res[name]), ref[name]), name
    loops = {x for x in range(n) if ref["T"][x, x].any()}
    assert set(res["Loop"]) == {(x,) for x in loops}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_named_constants_facts_and_inputs(strategy):
    src = """
    Parent('Ann', 'Bob')
    Parent('Bob', 'Cy')
    Anc(x, y) = Parent(x, y)
    Anc(x, z) = Anc(x, y) Parent(y, z)
    FromAnn(y) = Anc('Ann', y)
    Anc(x, y)?
    """
    prog = tlc.compile(src, relations=strategy)
    res = prog(Parent=[("Cy", "Dee"), ("Eve", "Ann")])
    chain = ["Eve", "Ann", "Bob", "Cy", "Dee"]
    assert set(res["Anc"]) == {(a, b) for i, a in enumerate(chain) for b in chain[i + 1:]}
    assert set(res["FromAnn"]) == {("Bob",), ("Cy",), ("Dee",)}
    assert sorted(prog.query("Anc(x, 'Cy')")) == [("Ann",), ("Bob",), ("Eve",)]
    assert res.answers[0][1] and len(res.answers[0][1]) == 10


def test_strategies_agree_on_random_programs_and_backends():
    rng = np.random.default_rng(7)
    n = 15
    data = {"A": rng.random((n, n)) < 0.1, "B": rng.random((n, n)) < 0.1, "C": rng.random(n) < 0.5}
    src = """
    P(x, y) = A(x, y)
    P(x, z) = P(x, y) B(y, z) C(y)
    Q(x, z) = P(x, y) Q(y, z)
    Q(x, y) = B(x, y) ~P(y, x)
    """
    backends = ["numpy"] + (["llvm"] if importlib.util.find_spec("llvmlite") else [])
    results = [tlc.compile(src, backend=b, relations=s)(**data) for b, s in itertools.product(backends, STRATEGIES)]
    for name in ("P", "Q"):
        first = np.asarray(results[0][name])
        assert first.any()
        for other in results[1:]:
            assert np.array_equal(np.asarray(other[name]), first), name


def test_planner_choices_and_explain():
    src = "Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\n"
    prog = tlc.compile(src)
    chain = sp.csr_matrix((np.ones(299), (np.arange(299), np.arange(1, 300))), shape=(300, 300))
    text = prog.explain(Edge=chain)
    assert "relations: closure by strong components (lowest estimated cost)" in text
    assert "estimated sparse ~" in text and "closure ~" in text
    assert "  runs: closure: NumPy runtime (tlc_runtime.reach, bitsets in Python integers)\n" in text
    assert "Path(x, z) = Path(x, y) Edge(y, z)" in prog.source(Edge=chain)
    assert "rs.closure(Edge)" in prog.source(Edge=chain)
    forced = tlc.compile(src, relations="sparse")
    assert "relations: sparse semi-naive (forced)" in forced.explain(Edge=chain)
    assert "  runs: sparse semi-naive: NumPy/scipy runtime (tlc_runtime.sparse)\n" in forced.explain(Edge=chain)
    assert "Path: sparse storage" in forced.explain(Edge=chain)
    assert forced.explain(Edge=chain).startswith("input relations: Edge sparse storage\n")
    assert "rs.conjunction(('x', 'z'), (300, 300), [(_delta_Path, ('x', 'y')), (Edge, ('y', 'z'))]" in \
        forced.source(Edge=chain)
    not_closure = tlc.compile("P(x, y) = E(x, y)\nP(x, z) = P(x, y) E(y, z) F(z)\n", relations="closure")
    assert "closure forced but the recursion is not closure-shaped" in \
        not_closure.explain(E=np.eye(3, k=1, dtype=bool), F=np.ones(3, dtype=bool))


def test_large_sparse_graph_never_densifies():
    n = 200_000   # a dense Path would have 4e10 elements
    src = np.arange(0, n - 1, 2)
    edges = sp.csr_matrix((np.ones(len(src)), (src, src + 1)), shape=(n, n))
    prog = tlc.compile("Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\nHop(x) = Path(x, 1)\n")
    res = prog(Edge=edges)
    assert res["Path"].sparse and len(res["Path"]) == len(src)
    assert res["Path"].shape == (n, n)
    assert set(res["Hop"]) == {(0,)}
    assert prog.query("Path(4, y)") == [(5,)]
    assert "sparse semi-naive" in prog.explain(Edge=edges) and "dense infeasible" in prog.explain(Edge=edges)


def test_runtime_operators_match_numpy():
    rng = np.random.default_rng(11)
    a = rng.random((6, 5, 4)) < 0.3
    b = rng.random((4, 6)) < 0.4
    ta = rs.Tuples.from_dense(a)
    assert np.array_equal(np.asarray(ta), a) and len(ta) == a.sum()
    assert np.array_equal(np.asarray(rs.union(ta, rs.Tuples.from_dense(~a))), np.ones_like(a))
    assert np.array_equal(np.asarray(rs.minus(ta, a)), np.zeros_like(a))
    for storage, left, right in itertools.product(("sparse", "dense", "auto"), (a, ta), (b, rs.Tuples.from_dense(b))):
        got = rs.conjunction(("x", "w"), (6, 6), [(left, ("x", "y", "z")), (right, ("z", "w"))],
                             negated=[(right, ("y", "x"))] if storage == "dense" else (), storage=storage)
        not_b = 1.0 - np.pad(b, ((0, 1), (0, 0)))   # B(y, x) is false for y past B's extent
        expected = np.einsum("xyz,zw->xw", a.astype(float), b.astype(float)) > 0 if storage != "dense" else \
            np.einsum("xyz,zw,yx->xw", a.astype(float), b.astype(float), not_b) > 0
        assert np.array_equal(np.asarray(got), expected)
    diagonal = rs.conjunction(("x",), (6,), [(ta, ("x", 1, "x"))], storage="sparse")
    assert np.array_equal(np.asarray(diagonal), np.array([a[i, 1, i] if i < 4 else False for i in range(6)]))
    assert np.array_equal(rs.closure(np.eye(5, k=1, dtype=bool)), np.triu(np.ones((5, 5), dtype=bool), 1))


def test_bad_relations_option_and_sparse_data_are_located_errors(capsys, tmp_path):
    with pytest.raises(tlc.TlcError, match="relations must be one of auto, sparse, dense, closure"):
        tlc.compile("P(x) = Q(x)", relations="fast")
    with pytest.raises(tlc.TlcError, match="binary relation") as err:
        tlc.compile("P(x, y) = Q(x, y, z)")(Q=sp.eye(3))
    assert "1:" in str(err.value) or err.value.span is not None
    path = tmp_path / "p.tl"
    path.write_text("P(x, y) = E(x, y)\n")
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["run", str(path), "--relations", "fast"])
    assert exit_info.value.code == 2


def reference_closure(edges: np.ndarray) -> np.ndarray:
    """Paths of length >= 1 by naive iteration: extend every path by one edge until nothing changes."""
    reach, step = edges.astype(float), sp.csr_matrix(edges.astype(float))
    while True:
        grown = (reach + np.asarray(reach @ step)) > 0
        if np.array_equal(grown, reach > 0):
            return grown
        reach = grown.astype(float)


@functools.lru_cache(maxsize=None)
def closure_case(graph: str) -> tuple[np.ndarray, np.ndarray]:
    """A test graph and its reference closure (computed once per graph)."""
    rng = np.random.default_rng(5)
    if graph == "dense-400":
        edges = rng.random((400, 400)) < 25_000 / 160_000
    elif graph == "chain-300":
        edges = np.eye(300, k=1, dtype=bool)
    else:
        edges = np.roll(np.eye(60, dtype=bool), 1, axis=1)
        edges[30:, :] = np.roll(np.eye(60, dtype=bool), 2, axis=1)[30:, :]
    return edges, reference_closure(edges)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("graph", ["dense-400", "chain-300", "two-cycles"])
def test_closure_regimes_match_reference(strategy, graph):
    """Large joins (scipy CSR products, dense frontiers), long chains (sparse frontiers) and cycles."""
    edges, expected = closure_case(graph)
    for rule in ("Path(x, z) = Path(x, y) Edge(y, z)", "Path(x, z) = Path(x, y) Path(y, z)"):
        prog = tlc.compile(f"Path(x, y) = Edge(x, y)\n{rule}\nBack(y, x) = Path(x, y) ~Edge(x, y)\n",
                           relations=strategy)
        res = prog(Edge=sp.csr_matrix(edges) if strategy == "sparse" else edges)
        assert np.array_equal(np.asarray(res["Path"]), expected), rule
        assert np.array_equal(np.asarray(res["Back"]), (expected & ~edges).T)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_datalog_front_door_forwards_the_strategy(strategy):
    import tlc.datalog as dl

    text = "path(X, Y) :- edge(X, Y).\npath(X, Z) :- path(X, Y), edge(Y, Z).\n"
    facts = {"edge": [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]}
    model = dl.evaluate(text, facts, relations=strategy)
    nodes = "abc"
    assert model["path"] == {(x, y) for x in nodes for y in nodes} | {(x, "d") for x in nodes}
    prog = dl.compile(text, relations=strategy)
    prog(**facts)
    assert ("(forced)" in prog.explain()) == (strategy != "auto")


def test_forcing_an_infeasible_dense_strategy_falls_back_to_sparse():
    n = 20_000      # a dense Path would have 4e8 elements, over the dense budget
    src = np.arange(0, n - 1, 2)
    edges = sp.csr_matrix((np.ones(len(src)), (src, src + 1)), shape=(n, n))
    for force in ("dense", "closure"):
        prog = tlc.compile("Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\n", relations=force)
        assert f"relations: sparse semi-naive ({force} forced but infeasible" in prog.explain(Edge=edges)
        res = prog(Edge=edges)
        assert res["Path"].sparse and len(res["Path"]) == len(src)


@pytest.mark.parametrize("seed", range(6))
def test_random_ternary_recursion_with_constants_agrees_across_strategies(seed):
    """Ternary recursion, a constant in a body and a head, negation of an earlier stratum, on random data."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 9))
    r = rng.random((n, n, n)) < 0.08
    e = rng.random((n, n)) < 0.2
    src = """
    T(x, y, z) = R(x, y, z)
    T(x, y, w) = T(x, y, z) E(z, w)
    T(x, w, z) = T(x, y, z) T(y, w, 0)
    Zero(y) = T(0, y, z)
    Marked(x, 1) = T(x, x, 2)
    Gap(x, y) = E(x, y) ~Zero(y)
    """
    rules = [("T", "xyz", [("R", "xyz")], []), ("T", "xyw", [("T", "xyz"), ("E", "zw")], [])]
    values = {"R": r, "E": e}
    expected = naive(rules, values, {"T": (n, n, n)})
    t = expected["T"].copy()
    while True:   # T(x, w, z) = T(x, y, z) T(y, w, 0), interleaved with the other rules until nothing changes
        grown = t | (np.einsum("xyz,yw->xwz", t.astype(float), t[:, :, 0].astype(float)) > 0)
        grown = naive(rules, {"R": grown, "E": e}, {"T": (n, n, n)})["T"]
        if np.array_equal(grown, t):
            break
        t = grown
    zero = t[0].any(axis=1)
    results = [tlc.compile(src, relations=s)(R=r, E=e) for s in STRATEGIES]
    for res in results:
        assert np.array_equal(np.asarray(res["T"]), t)
        assert set(res["Zero"]) == {(int(y),) for y in np.flatnonzero(zero)}
        assert set(res["Marked"]) == ({(x, 1) for x in range(n) if t[x, x, 2]} if n > 2 else set())
        assert np.array_equal(np.asarray(res["Gap"]), e & ~zero[None, :])
