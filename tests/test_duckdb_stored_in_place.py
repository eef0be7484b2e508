"""A stored input relation (``database=``, ``--db``) reused by a run given no data for it is never read back as
Python tuples: its count, largest positions and names come from the database file into planning, DuckDB strata
read its table in place (renumbered there when the run numbers its constants otherwise), and in-memory strata
read it only after the plan (and its memory budget check) allows them to."""

from __future__ import annotations

import numpy as np
import pytest

import tlc
from tlc.cli import main as cli_main

duckdb = pytest.importorskip("duckdb")
rdb = pytest.importorskip("tlc_runtime.duckdb_relations")

CLOSURE = "Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\n"
TWO_HOPS = "Two(x, z) = Edge(x, y) Edge(y, z)\n"


def named_edges(seed: int, n: int = 30, m: int = 80) -> list[tuple[str, str]]:
    pairs = np.random.default_rng(seed).integers(0, n, size=(m, 2))
    return sorted({(f"n{a}", f"n{b}") for a, b in pairs})


def closure(edges) -> set:
    path = set(edges)
    while True:
        more = {(a, d) for a, b in path for c, d in edges if b == c} - path
        if not more:
            return path
        path |= more


@pytest.fixture
def reads(monkeypatch):
    """Every way a stored relation's tuples reach Python (the tables whose keys are read, the tuples iterated)."""
    seen: list[str] = []
    keys, read = rdb.Session.keys, rdb.StoredTuples._read

    def session_keys(self, table, shape):
        seen.append(table)
        return keys(self, table, shape)

    def file_keys(self):
        seen.append(f"file {self.stored.name}")
        return read(self)

    def iterate(self):
        raise AssertionError(f"the stored relation {self.name} was read as Python tuples")
    monkeypatch.setattr(rdb.Session, "keys", session_keys)
    monkeypatch.setattr(rdb.StoredTuples, "_read", file_keys)
    monkeypatch.setattr(rdb.StoredTable, "__iter__", iterate)
    return seen


def stored_input(tmp_path, edges, source: str = CLOSURE, **options):
    database = tmp_path / "g.duckdb"
    tlc.compile(source, database=database, **options)(Edge=edges)
    return database


def test_duckdb_strata_read_the_stored_table_in_place(tmp_path, reads):
    edges = named_edges(1)
    database = stored_input(tmp_path, edges, relations="duckdb")
    prog = tlc.compile(CLOSURE, relations="duckdb", database=database)
    assert set(prog()["Path"]) == closure(edges)
    assert not [r for r in reads if "Edge" in r]      # Path's keys are read, Edge's never
    assert prog.specialisation().plan.strata[0].strategy == "duckdb"


def test_the_planner_counts_a_stored_relation_in_the_database(tmp_path, reads):
    edges = named_edges(2)
    database = stored_input(tmp_path, edges)
    spec = tlc.compile(CLOSURE, relations="duckdb", database=database).specialisation()
    nodes = {a for pair in edges for a in pair}
    assert spec.shapes.extents["Edge"] == (len(nodes), len(nodes))
    assert set(spec.symbols) == nodes
    assert not reads


def test_in_memory_strata_read_it_after_planning(tmp_path):
    edges = named_edges(3)
    database = stored_input(tmp_path, edges)
    source = "Deg[x] = Edge(x, y) W[y]\nTwo(x, z) = Edge(x, y) Edge(y, z)\n"
    prog = tlc.compile(source, database=database, relations="sparse")
    first = tlc.compile(source, relations="sparse")
    w = np.random.default_rng(4).uniform(0.5, 2.0, len({a for pair in edges for a in pair}))
    expected = first(Edge=edges, W=w)
    got = prog(W=w)
    order = [expected._spec.symbols.index(s) for s in got._spec.symbols]
    np.testing.assert_allclose(got["Deg"], expected["Deg"][order])
    assert set(got["Two"]) == set(expected["Two"])


def test_a_renumbered_stored_relation_is_renumbered_in_the_file(tmp_path, reads):
    edges = named_edges(5)
    database = stored_input(tmp_path, edges, relations="duckdb")
    other = "First(x) = Edge(Zed, x)\n" + CLOSURE        # Zed takes position 0: every stored position moves
    prog = tlc.compile(other, relations="duckdb", database=database)
    got = prog()
    assert set(got["Path"]) == closure(edges)
    assert list(got["First"]) == []
    assert not [r for r in reads if "Edge" in r]
    symbols = got._spec.symbols
    with duckdb.connect(str(database), read_only=True) as con:
        stored = con.execute('SELECT id, name FROM "tlc input symbols" WHERE relation = \'Edge\'').fetchall()
        rows = con.execute('SELECT c0, c1 FROM "Edge"').fetchall()
    assert all(symbols[i] == name for i, name in stored)         # the dictionary follows this run's numbering
    assert {(symbols[a], symbols[b]) for a, b in rows} == set(edges)
    assert set(tlc.compile(CLOSURE, relations="duckdb", database=database)()["Path"]) == closure(edges)   # and back


def test_the_renumbered_table_is_not_reloaded_when_given_again(tmp_path, monkeypatch):
    edges = named_edges(6)
    database = stored_input(tmp_path, edges, relations="duckdb")
    other = "First(x) = Edge(Zed, x)\n" + CLOSURE
    tlc.compile(other, relations="duckdb", database=database)()
    loaded: list[str] = []
    original = rdb.Session._load
    monkeypatch.setattr(rdb.Session, "_load", lambda self, table, value, arity: (
        loaded.append(table), original(self, table, value, arity)))
    assert set(tlc.compile(other, relations="duckdb", database=database)(Edge=edges)["Path"]) == closure(edges)
    assert 'tlcdb."Edge"' not in loaded          # the same tuples in the same numbering: nothing rewritten


def test_hostile_names_and_constants_are_renumbered_in_sql(tmp_path):
    edges = [("O'Brien", 'say "hi"'), ('say "hi"', "Zoë"), ("Zoë", "日本"), ("日本", "O'Brien")]
    database = tmp_path / "h.duckdb"
    tlc.compile(CLOSURE, database=database, relations="duckdb")(Edge=edges)
    later = tlc.compile("Front(x) = Edge(Aaa, x)\n" + CLOSURE, relations="duckdb", database=database)()
    assert set(later["Path"]) == closure(edges)
    assert sorted(tlc.compile(CLOSURE, relations="sparse", database=database)()["Path"]) == sorted(closure(edges))


def test_a_stored_relation_over_the_budget_runs_in_duckdb_and_is_refused_in_memory(tmp_path):
    rng = np.random.default_rng(7)
    edges = np.unique(rng.integers(0, 20_000, size=(25_000, 2)), axis=0)     # 50k positions, budget 8,192
    database = tmp_path / "big.duckdb"
    first = tlc.compile(TWO_HOPS, memory_limit="64K", database=database)
    expected = set(first(Edge=tlc.Rows(edges))["Two"])
    assert first.specialisation(Edge=tlc.Rows(edges)).plan.strata[0].strategy == "duckdb"
    again = tlc.compile(TWO_HOPS, memory_limit="64K", database=database)
    assert set(again()["Two"]) == expected
    plan = again.specialisation().plan.strata[0]
    assert plan.strategy == "duckdb" and "budget" in plan.reason
    with pytest.raises(tlc.TlcError, match=r"1:1: error: the input relations of Two hold 49,9\d\d positions, over "
                                           r"the memory budget of 8,192 elements"):
        tlc.compile(TWO_HOPS, memory_limit="64K", relations="sparse", database=database)()
    with pytest.raises(tlc.TlcError, match=r"1:5: error: Edge, stored in the database file, would be read into "
                                           r"memory as a dense array of shape \(19996, 19999\): 399,900,004 "
                                           r"elements .*, over the memory limit of 64 KiB"):
        tlc.compile("N = Edge(x, y)\n", memory_limit="64K", database=database)()     # a dense read of it


def test_two_cli_runs_of_a_tl_program_the_second_in_place(tmp_path, capsys, reads):
    (tmp_path / "p.tl").write_text(CLOSURE)
    edges = named_edges(8, n=8, m=12)
    (tmp_path / "edge.csv").write_text("".join(f"{a},{b}\n" for a, b in edges))
    database = str(tmp_path / "t.duckdb")
    out_one, out_two = tmp_path / "one.csv", tmp_path / "two.csv"
    assert cli_main(["run", str(tmp_path / "p.tl"), "--input", f"Edge={tmp_path / 'edge.csv'}", "--db", database,
                     "--relations", "duckdb", "--out", str(out_one)]) == 0
    reads.clear()
    assert cli_main(["run", str(tmp_path / "p.tl"), "--db", database, "--relations", "duckdb",
                     "--out", str(out_two)]) == 0
    assert not [r for r in reads if "Edge" in r]
    assert sorted(out_two.read_text().splitlines()) == sorted(out_one.read_text().splitlines())
    assert {tuple(line.split(",")) for line in out_two.read_text().splitlines()} >= closure(edges)


def test_explain_plans_a_stored_relation_from_the_database(tmp_path, reads):
    database = stored_input(tmp_path, named_edges(9), relations="duckdb")
    text = tlc.compile(CLOSURE, relations="duckdb", database=database).explain()
    assert "Edge stored; derived relations are written there" in text
    assert "runs: " in text and 'tlcdb."Edge"' in text            # the SQL reads the stored table
    assert "input relations: Edge sparse storage" in text
    assert not reads


@pytest.mark.parametrize("relations", ["duckdb", "sparse"])
def test_relations_stored_by_different_runs_are_numbered_together(tmp_path, relations):
    database = tmp_path / "m.duckdb"
    tlc.compile("P(x, y) = Edge(x, y)\n", database=database)(Edge=[("a", "b"), ("b", "c")])
    tlc.compile("Q(x) = Node(x)\n", database=database)(Node=[("c",), ("d",)])      # c and d both numbered from 0
    tlc.compile("N(x) = Num(x, _y)\n", database=database)(Num=[(1, 2), (3, 4), (5, 6)])
    source = "Both(x, y) = Edge(x, y) Node(y)\nAll(x) = Node(x)\nJ(x) = Num(x, y) Node(y)\nK(x) = Num(x, 4)\n"
    got = tlc.compile(source, database=database, relations=relations)()
    assert set(got["Both"]) == {("b", "c")} and set(got["All"]) == {("c",), ("d",)}
    assert list(got["J"]) == [] and set(got["K"]) == {(3,)}    # Num's integers join names here: still themselves
