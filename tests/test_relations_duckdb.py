"""Relational strata inside DuckDB (``relations="duckdb"``): the same models as in memory on closures of
cycles, chains and random graphs (checked against networkx too), negation, mutual and non-linear recursion,
constants, facts and mixed strata; the planner's choice and ``explain``; ``tlc compile --target sql``; a
``.dl`` program through the command line; a database file reused across runs."""

from __future__ import annotations

import os

import networkx as nx
import numpy as np
import pytest

import tlc
from tlc_runtime import Relation
from tlc.cli import main as cli_main

duckdb = pytest.importorskip("duckdb")
rdb = pytest.importorskip("tlc_runtime.duckdb_relations")

CLOSURE = "Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\n"
SQUARE = "Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Path(y, z)\n"


def closure_pairs(n: int, edges) -> set:
    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(edges)
    return set(nx.transitive_closure(graph, reflexive=False).edges())


def graphs():
    rng = np.random.default_rng(7)
    yield "cycle", 30, [(i, (i + 1) % 30) for i in range(30)]
    yield "chain", 200, [(i, i + 1) for i in range(199)]
    for seed, (n, m) in enumerate([(60, 90), (120, 150), (50, 400)]):
        pairs = {(int(a), int(b)) for a, b in np.random.default_rng(seed).integers(0, n, size=(m, 2))}
        yield f"random{seed}", n, sorted(pairs)
    yield "forest", 100, [(int(a), int(b)) for a, b in zip(rng.permutation(100)[:50], rng.permutation(100)[:50])]


@pytest.mark.parametrize("source", [CLOSURE, SQUARE], ids=["linear", "non-linear"])
@pytest.mark.parametrize("name, n, edges", list(graphs()), ids=[g[0] for g in graphs()])
def test_closure_counts_match_networkx_and_memory(source, name, n, edges):
    expected = closure_pairs(n, edges)
    edge_array = np.zeros((n, n), dtype=bool)
    edge_array[tuple(np.array(edges).T)] = True
    in_duckdb = tlc.compile(source, relations="duckdb")(Edge=edge_array)["Path"]
    in_memory = tlc.compile(source)(Edge=edge_array)["Path"]
    assert len(in_duckdb) == len(expected) == len(in_memory)
    assert set(in_duckdb) == expected
    assert np.array_equal(np.asarray(in_duckdb), np.asarray(in_memory))


PROGRAMS = {
    "negation": ("Node(x) = Edge(x, y)\nNode(y) = Edge(x, y)\n" + CLOSURE +
                 "Unreached(x, y) = Node(x) Node(y) not(Path(x, y))\n", {}),
    "mutual": ("Even(x, y) = Edge(x, y) Edge(y, z) Start(x)\nOdd(x, y) = Edge(x, y) Start(x)\n"
               "Odd(x, z) = Even(x, y) Edge(y, z)\nEven(x, z) = Odd(x, y) Edge(y, z)\n",
               {"Start": [(0,), (3,)]}),
    "constants and repeated variables": (CLOSURE + "From2(y) = Path(2, y)\nLoop(x) = Path(x, x)\n"
                                         "Back(x, y) = Path(x, y) Path(y, x) not(Edge(x, y))\n", {}),
    "ternary and nullary": ("Hop(x, y, z) = Edge(x, y) Edge(y, z)\nTwo(x, z) = Hop(x, y, z)\n"
                            "Two(x, z) = Two(x, y) Hop(y, w, z)\nAny() = Two(x, x)\n", {}),
    "facts": ("Edge2(A, B)\nEdge2(B, C)\nEdge2(C, D)\nEdge2(x, y) = Edge2(y, x) Mark(x)\nMark(B)\n"
              "Reach(x, y) = Edge2(x, y)\nReach(x, z) = Reach(x, y) Edge2(y, z)\n", None),
    "numeric reader": (CLOSURE + "Count[x] = Path(x, y)\n", {}),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_programs_match_memory(name):
    source, extra = PROGRAMS[name]
    rng = np.random.default_rng(len(name))
    inputs = {} if extra is None else {"Edge": {(int(a), int(b)) for a, b in rng.integers(0, 12, size=(20, 2))},
                                       **extra}
    expected = tlc.compile(source)(**inputs)
    got = tlc.compile(source, relations="duckdb")(**inputs)
    assert set(got) == set(expected)
    for key, value in expected.items():
        if isinstance(value, Relation):
            assert set(got[key]) == set(value), key
        else:
            np.testing.assert_array_equal(np.asarray(got[key]), np.asarray(value))


def test_supplied_initial_tuples_of_a_defined_relation():
    source = "Path(x, z) = Path(x, y) Edge(y, z)\n"
    edges, start = [(0, 1), (1, 2), (2, 3)], [(5, 0)]
    got = tlc.compile(source, relations="duckdb")(Edge=edges, Path=start)["Path"]
    assert set(got) == set(tlc.compile(source)(Edge=edges, Path=start)["Path"]) == {(5, 0), (5, 1), (5, 2), (5, 3)}


def test_names_differing_in_case_and_primes_keep_their_tables(tmp_path):
    source = "path(x, y) = Edge(x, y) Edge(y, z)\nPath(x, y) = Edge(x, y)\nP'(x) = path(x, y) not(Path(x, y))\n"
    edges = [(0, 1), (1, 2), (2, 0), (1, 1)]
    database = tmp_path / "case.duckdb"
    got = tlc.compile(source, relations="duckdb", database=database)(Edge=edges)
    expected = tlc.compile(source)(Edge=edges)
    for name in ("path", "Path", "P'"):
        assert set(got[name]) == set(expected[name]), name
    with duckdb.connect(str(database)) as con:
        tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert {"path", "Path#2", "P'", "Edge"} <= tables


def test_round_limit_is_a_located_error():
    prog = tlc.compile(SQUARE, relations="duckdb", max_rounds=2)
    with pytest.raises(tlc.TlcError, match="Path did not converge after 2 rounds") as info:
        prog(Edge=[(i, i + 1) for i in range(40)])
    assert info.value.line == 2


def test_explain_shows_the_sql_and_why():
    prog = tlc.compile("Node(x) = Edge(x, y)\n" + CLOSURE + SQUARE.replace("Path", "Far"), relations="duckdb")
    text = prog.explain(Edge=[(0, 1), (1, 2)])
    assert "relations: SQL in DuckDB (non-recursive rules as SELECT ... UNION; forced)" in text
    assert "linear recursion as one WITH RECURSIVE ... UNION; forced" in text
    assert "mutual or non-linear recursion as a semi-naive loop over temporary tables; forced" in text
    assert 'WITH RECURSIVE "tlc recursive"(c0, c1) AS (' in text
    assert 'EXCEPT SELECT * FROM "Far"' in text


def test_auto_picks_duckdb_when_input_relations_exceed_the_budget():
    edges = [(i, i + 1) for i in range(3000)]
    prog = tlc.compile(CLOSURE + "Out(x) = Path(x, 5)\n", memory_limit=40_000)
    result = prog(Edge=edges)
    plan = prog.specialisation(Edge=edges).plan
    assert [p.strategy for p in plan.strata] == ["duckdb", "duckdb"]
    assert "over the memory budget of 5e+03 elements" in plan.strata[0].reason
    assert "reads Path, kept in DuckDB" in plan.strata[1].reason
    assert len(result["Path"]) == 3001 * 3000 // 2
    assert set(result["Out"]) == {(x,) for x in range(5)}
    small = tlc.compile(CLOSURE, memory_limit=40_000)
    assert small.specialisation(Edge=edges[:10]).plan.strata[0].strategy != "duckdb"


def test_in_memory_strata_refuse_input_relations_over_the_budget():
    edges = [(i, i + 1) for i in range(3000)]
    with pytest.raises(tlc.TlcError, match="the input relations of Path hold 6,000 positions, over the memory "
                                           "budget of 5,000 elements; relations='duckdb'") as info:
        tlc.compile(CLOSURE, memory_limit=40_000, relations="sparse")(Edge=edges)
    assert info.value.line == 1


def test_a_sum_over_a_relation_kept_in_duckdb_runs_there():
    edges = [(i, i + 1) for i in range(3000)]
    prog = tlc.compile(CLOSURE + "Reach[x] = Path(x, y)\n", memory_limit=40_000)
    got = prog(Edge=edges)
    plan = prog.specialisation(Edge=edges).plan
    assert [p.strategy for p in plan.strata] == ["duckdb"] * 2
    assert plan.strata[1].reason == "a join with tensor semantics as grouped sum(v); reads Path, kept in " \
                                    "DuckDB"
    assert plan.storage["Path"] == "sparse"
    np.testing.assert_array_equal(got["Reach"], np.arange(3000, -1, -1))
    w = np.random.default_rng(0).random(301)
    weighted = tlc.compile(CLOSURE + "Weighted[x] = Path(x, y) W[y] + 2 Path(y, x)\n", relations="duckdb")
    got = weighted(Edge=edges[:300], W=w)["Weighted"]
    np.testing.assert_allclose(got, np.array([w[x + 1:].sum() for x in range(301)]) + 2 * np.arange(301))
    assert "a join with tensor semantics as grouped sum(v); forced" in weighted.explain()


def test_supplied_values_of_a_fold_are_contributions():
    w = np.full((3, 3), np.inf)
    w[0, 1], w[1, 2] = 1.0, 1.0
    start = np.array([[np.inf, 0.5], [np.inf, np.inf]])     # a smaller initial value, itself a contribution
    got = tlc.compile(SHORTEST, relations="duckdb")(W=w, D=start)["D"]
    np.testing.assert_array_equal(got, tlc.compile(SHORTEST)(W=w, D=start)["D"])


def test_results_are_read_lazily_and_belong_to_their_call():
    prog = tlc.compile(CLOSURE, relations="duckdb")
    first = prog(Edge=[(0, 1), (1, 2)])["Path"]
    second = prog(Edge=[(5, 6)])["Path"]
    assert first.sparse and len(first) == 3 and len(second) == 1
    assert set(first) == {(0, 1), (1, 2), (0, 2)} and set(second) == {(5, 6)}


def test_compile_target_sql_prints_the_sql(capsys, tmp_path):
    path = tmp_path / "closure.tl"
    path.write_text("Edge(A, B)\nEdge(B, C)\n" + CLOSURE)
    assert cli_main(["compile", str(path), "--target", "sql"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("-- Generated by tlc from") and "0=A, 1=B, 2=C" in out
    assert 'CREATE OR REPLACE TABLE "Edge" AS SELECT DISTINCT CAST(c0 AS BIGINT) AS c0' in out
    con = duckdb.connect()      # the script runs as it is and computes the closure
    for statement in out.split(";\n"):
        if statement.strip() and not all(line.startswith("--") for line in statement.strip().splitlines()):
            con.execute(statement)
    assert sorted(con.execute('SELECT c0, c1 FROM "Path"').fetchall()) == [(0, 1), (0, 2), (1, 2)]


DL = """.decl edge(x: symbol, y: symbol)
.input edge
.decl path(x: symbol, y: symbol)
.output path
.decl alone(x: symbol)
.output alone
.decl node(x: symbol)
node(x) :- edge(x, _).
node(y) :- edge(_, y).
path(x, y) :- edge(x, y).
path(x, z) :- path(x, y), path(y, z).
alone(x) :- node(x), !path(x, x).
"""


def test_datalog_file_with_fact_and_output_directories_through_the_cli(tmp_path):
    (tmp_path / "p.dl").write_text(DL)
    (tmp_path / "facts").mkdir()
    (tmp_path / "facts" / "edge.facts").write_text("a\tb\nb\tc\nc\ta\nd\te\ne\tf\n")
    outputs = {}
    for relations in ("auto", "duckdb"):
        out = tmp_path / relations
        assert cli_main(["run", str(tmp_path / "p.dl"), "-F", str(tmp_path / "facts"), "-D", str(out),
                         "--relations", relations]) == 0
        outputs[relations] = {name: sorted((out / f"{name}.csv").read_text().splitlines())
                              for name in ("path", "alone")}
    assert outputs["duckdb"] == outputs["auto"]
    assert outputs["duckdb"]["alone"] == ["d", "e", "f"]
    assert len(outputs["duckdb"]["path"]) == 9 + 3


def test_database_file_is_reused_across_runs(tmp_path, monkeypatch):
    (tmp_path / "p.dl").write_text(DL)
    facts = tmp_path / "facts"
    facts.mkdir()
    (facts / "edge.facts").write_text("a\tb\nb\tc\n")
    database = str(tmp_path / "g.duckdb")
    loads = []
    original = rdb.Session._load

    def counting(self, table, value, arity):
        loads.append(table)
        return original(self, table, value, arity)
    monkeypatch.setattr(rdb.Session, "_load", counting)
    run = ["run", str(tmp_path / "p.dl"), "-F", str(facts), "-D", str(tmp_path / "out"), "--relations", "duckdb",
           "--db", database]
    assert cli_main(run) == 0
    assert 'tlcdb."edge"' in loads
    loads.clear()
    assert cli_main(run) == 0       # the same facts: the stored input table is reused
    assert 'tlcdb."edge"' not in loads
    with duckdb.connect(database) as con:
        assert sorted(con.execute('SELECT * FROM "path"').fetchall()) == [(0, 1), (0, 2), (1, 2)]
        assert con.execute('SELECT name FROM "tlc symbols" ORDER BY id').fetchall() == [("a",), ("b",), ("c",)]
    (facts / "edge.facts").write_text("a\tb\nb\tc\nc\td\n")
    loads.clear()
    assert cli_main(run) == 0       # changed facts: rewritten, and the results follow them
    assert 'tlcdb."edge"' in loads
    with duckdb.connect(database) as con:
        assert con.execute('SELECT count(*) FROM "path"').fetchall() == [(6,)]
        assert con.execute('SELECT count(*) FROM "edge"').fetchall() == [(3,)]


def test_database_keeps_results_of_in_memory_strata(tmp_path):
    database = tmp_path / "mixed.duckdb"
    prog = tlc.compile(CLOSURE + "Count[x] = Path(x, y)\n", database=database)
    prog(Edge=[(0, 1), (1, 2)])
    assert os.path.exists(database)
    with duckdb.connect(str(database)) as con:
        assert sorted(con.execute('SELECT * FROM "Path"').fetchall()) == [(0, 1), (0, 2), (1, 2)]
        assert sorted(con.execute('SELECT * FROM "Edge"').fetchall()) == [(0, 1), (1, 2)]


def test_without_duckdb_the_option_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("tlc.api.duckdb_available", lambda: False)
    with pytest.raises(tlc.TlcError, match=r"relations='duckdb' needs duckdb: pip install 'tlc\[duckdb\]'"):
        tlc.compile(CLOSURE, relations="duckdb")
    with pytest.raises(tlc.TlcError, match="a database file needs duckdb"):
        tlc.compile(CLOSURE, database="x.duckdb")
    with pytest.raises(tlc.TlcError, match="database must be the path of a DuckDB file"):
        tlc.compile(CLOSURE, database=3)


SHORTEST = "D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] + W[y, z]\n"
WIDEST = "C[x, z] max= Cap[x, z]\nC[x, z] max= min(C[x, y], Cap[y, z])\n"


@pytest.mark.parametrize("n, seed", [(40, 0), (150, 1)])
def test_shortest_paths_match_scipy_csgraph(n, seed):
    from scipy.sparse.csgraph import csgraph_from_dense, shortest_path
    rng = np.random.default_rng(seed)
    w = np.where(rng.random((n, n)) < 4 / n, rng.uniform(0.1, 10.0, (n, n)), np.inf)
    np.fill_diagonal(w, np.inf)
    dist = shortest_path(csgraph_from_dense(w, null_value=np.inf), directed=True)
    expected = dist.copy()       # D holds paths of at least one edge: its diagonal is the shortest cycle
    np.fill_diagonal(expected, np.min(w + dist.T, axis=1))
    prog = tlc.compile(SHORTEST, relations="duckdb")
    got = prog(W=w)["D"]
    np.testing.assert_allclose(got, expected)
    np.testing.assert_array_equal(got, tlc.compile(SHORTEST)(W=w)["D"])
    assert "a min= fixpoint as grouped min(v) in one WITH RECURSIVE ... USING KEY" in prog.explain()


def test_widest_paths_match_floyd_warshall_and_memory():
    rng = np.random.default_rng(3)
    n = 60
    cap = np.where(rng.random((n, n)) < 0.05, rng.uniform(0.2, 1.0, (n, n)), -np.inf)
    expected = cap.copy()
    for k in range(n):
        expected = np.maximum(expected, np.minimum(expected[:, k:k + 1], expected[k:k + 1, :]))
    got = tlc.compile(WIDEST, relations="duckdb")(Cap=cap)["C"]
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(got, tlc.compile(WIDEST)(Cap=cap)["C"])


def test_a_negative_cycle_is_a_located_error():
    w = np.full((3, 3), np.inf)
    w[0, 1], w[1, 2], w[2, 0] = 1.0, 1.0, -5.0
    with pytest.raises(tlc.TlcError, match="D still improves after 4 rounds, which prove a cycle") as info:
        tlc.compile(SHORTEST, relations="duckdb")(W=w)
    assert info.value.line == 2
    with pytest.raises(tlc.TlcError):
        tlc.compile(SHORTEST)(W=w)


COUNTING = "Count[x, z] = E[x, z]\nCount[x, z] = Count[x, y] E[y, z] + 0.5 E[x, z]\n"


def test_path_counting_on_a_dag_matches_memory():
    rng = np.random.default_rng(5)
    n = 40
    e = np.triu(np.where(rng.random((n, n)) < 0.15, rng.integers(1, 3, (n, n)), 0), k=1).astype(float)
    prog = tlc.compile(COUNTING, relations="duckdb")
    got = prog(E=e)["Count"]
    np.testing.assert_allclose(got, tlc.compile(COUNTING)(E=e)["Count"], rtol=1e-12)
    assert "a sum fixpoint as grouped sum(v)" in prog.explain()
    bounded = tlc.compile(COUNTING, relations="duckdb", max_rounds=30)
    with pytest.raises(tlc.TlcError, match="Count still changes after 30 rounds: the limit is max_rounds=30") as info:
        bounded(E=e + np.eye(n, k=-1))      # cycles: the counts grow without bound
    assert info.value.line == 2
    with pytest.raises(tlc.TlcError, match="needs finite inputs"):
        prog(E=np.where(e > 0, np.inf, 0.0))


def test_linear_recursion_under_a_round_bound_runs_as_a_loop():
    prog = tlc.compile(CLOSURE, relations="duckdb", max_rounds=100)
    assert len(prog(Edge=[(i, i + 1) for i in range(30)])["Path"]) == 31 * 30 // 2
    assert "WITH RECURSIVE" not in prog.source() and "EXCEPT SELECT" in prog.source()
    assert "linear recursion as a semi-naive loop over temporary tables (max_rounds=100 counts rounds)" \
        in prog.explain()
    with pytest.raises(tlc.TlcError, match="Path did not converge after 100 rounds"):
        prog(Edge=[(i, i + 1) for i in range(150)])


def test_a_tl_program_with_a_database_through_the_cli(tmp_path, capsys):
    (tmp_path / "paths.tl").write_text(SHORTEST + CLOSURE)
    w = np.full((4, 4), np.inf)
    w[0, 1], w[1, 2], w[2, 3] = 1.0, 2.0, 3.0
    np.save(tmp_path / "W.npy", w)
    (tmp_path / "edge.csv").write_text("0,1\n1,2\n")
    database = tmp_path / "paths.duckdb"
    argv = ["run", str(tmp_path / "paths.tl"), "--input", f"W={tmp_path / 'W.npy'}", "--input",
            f"Edge={tmp_path / 'edge.csv'}", "--relations", "duckdb", "--db", str(database)]
    assert cli_main(argv) == 0
    out = capsys.readouterr().out
    assert "Path = {(0, 1), (0, 2), (1, 2)}" in out and "6." in out
    with duckdb.connect(str(database)) as con:
        assert sorted(con.execute('SELECT * FROM "Path"').fetchall()) == [(0, 1), (0, 2), (1, 2)]
    assert cli_main(["compile", str(tmp_path / "paths.tl"), "--target", "sql", "--input", f"W={tmp_path / 'W.npy'}",
                     "--input", f"Edge={tmp_path / 'edge.csv'}"]) == 0
    assert "min= fold: one WITH RECURSIVE ... USING KEY, grouped min(v)" in capsys.readouterr().out


@pytest.mark.parametrize("backend", ["numpy", "llvm"])
def test_every_cpu_backend_runs_the_sql(backend):
    if backend == "llvm":
        pytest.importorskip("llvmlite")
    w = np.full((3, 3), np.inf)
    w[0, 1], w[1, 2] = 1.0, 2.0
    got = tlc.compile(CLOSURE + SHORTEST, backend=backend, relations="duckdb")(Edge=[(0, 1), (1, 2)], W=w)
    assert set(got["Path"]) == {(0, 1), (0, 2), (1, 2)}
    assert got["D"][0, 2] == 3.0 and got["D"][2, 0] == np.inf


def test_concurrent_calls_have_their_own_databases():
    from concurrent.futures import ThreadPoolExecutor
    prog = tlc.compile(CLOSURE, relations="duckdb")
    chains = [[(i, i + 1) for i in range(n)] for n in (5, 10, 15, 20, 25, 30)]
    with ThreadPoolExecutor(3) as pool:
        sizes = list(pool.map(lambda edges: len(prog(Edge=edges)["Path"]), chains))
    assert sizes == [n * (n + 1) // 2 for n in (5, 10, 15, 20, 25, 30)]
