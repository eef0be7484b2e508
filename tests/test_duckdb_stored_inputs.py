"""A database file keeps a run's input relations (``database=``, ``--db``): a later run given no data for one
reads it from there (named constants by name), the same data given again is not reloaded, changed data
replaces the table with a note, and a relation in neither is the located "no data" error naming the file."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tlc
from named_graphs import closure, named_edges
from tlc.cli import main as cli_main

duckdb = pytest.importorskip("duckdb")
rdb = pytest.importorskip("tlc_runtime.duckdb_relations")

CLOSURE = "Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\n"
DL = """.decl edge(x: symbol, y: symbol)
.input edge
.decl path(x: symbol, y: symbol)
.output path
path(x, y) :- edge(x, y).
path(x, z) :- path(x, y), edge(y, z).
"""


@pytest.fixture
def loads(monkeypatch):
    """The tables each run loads data into."""
    seen: list[str] = []
    original = rdb.Session._load

    def counting(self, table, value, arity):
        seen.append(table)
        return original(self, table, value, arity)
    monkeypatch.setattr(rdb.Session, "_load", counting)
    return seen


@pytest.mark.parametrize("relations", ["duckdb", "auto"])
def test_a_later_python_run_reads_stored_inputs(tmp_path, loads, relations):
    database = tmp_path / "g.duckdb"
    edges = named_edges(1)
    first = tlc.compile(CLOSURE, relations=relations, database=database)(Edge=edges)["Path"]
    assert set(first) == closure(edges)
    assert 'tlcdb."Edge"' in loads
    loads.clear()
    again = tlc.compile(CLOSURE, relations=relations, database=database)(Edge=edges)["Path"]
    assert set(again) == set(first) and 'tlcdb."Edge"' not in loads      # the same data: not reloaded
    with warnings.catch_warnings():
        warnings.simplefilter("error", tlc.TlcWarning)      # the same tuples, numbered otherwise: no note
        shuffled = tlc.compile(CLOSURE, relations=relations, database=database)(Edge=edges[::-1])["Path"]
    assert set(shuffled) == set(first)
    loads.clear()
    later = tlc.compile(CLOSURE, relations=relations, database=database)()["Path"]     # no facts at all
    assert set(later) == set(first)
    assert 'tlcdb."Edge"' not in loads


def test_changed_data_replaces_the_stored_table_with_a_note(tmp_path):
    database = tmp_path / "g.duckdb"
    prog = tlc.compile(CLOSURE, relations="duckdb", database=database)
    prog(Edge=named_edges(2))
    changed = named_edges(3)
    with pytest.warns(tlc.TlcWarning, match=r"the data for Edge differs from the table Edge that an earlier run "
                                            r"stored in .*g\.duckdb: this run replaces that table"):
        got = prog(Edge=changed)["Path"]
    assert set(got) == closure(changed)
    assert set(tlc.compile(CLOSURE, relations="duckdb", database=database)()["Path"]) == closure(changed)


def test_mixed_names_and_numbers_round_trip(tmp_path):
    source = "Old(p) = Age(p, n) Over(n)\nNamed(p) = Age(p, 7)\n"
    database = tmp_path / "ages.duckdb"
    ages = [("ann", 3), ("bob", 9), ("cy", 7)]
    first = tlc.compile(source, database=database)(Age=ages, Over=[(5,), (9,)])
    second = tlc.compile(source, database=database)()
    for name in ("Old", "Named"):
        assert set(second[name]) == set(first[name])
    assert set(second["Old"]) == {("bob",)} and set(second["Named"]) == {("cy",)}


def test_missing_in_both_is_a_located_error_naming_the_database(tmp_path):
    database = tmp_path / "empty.duckdb"
    with pytest.raises(tlc.TlcError, match=r"1:14: error: no data for relation Edge \(nor a table Edge stored "
                                           r"in .*empty\.duckdb\)"):
        tlc.compile(CLOSURE, database=database)()
    tlc.compile("Node(x) = Thing(x)\n", database=database)(Thing=[("a",)])     # another relation stored
    with pytest.raises(tlc.TlcError, match="no data for relation Edge"):
        tlc.compile(CLOSURE, database=database)()


def test_a_table_of_another_arity_is_a_located_error(tmp_path):
    database = tmp_path / "g.duckdb"
    tlc.compile("Node(x) = Edge(x)\n", database=database)(Edge=[(1,), (2,)])
    with pytest.raises(tlc.TlcError, match=r"1:14: error: the table Edge in .* has columns c0, not those of a "
                                           r"relation with 2 arguments"):
        tlc.compile(CLOSURE, database=database)()


def test_two_datalog_runs_through_the_cli(tmp_path, loads, capsys):
    (tmp_path / "p.dl").write_text(DL)
    facts, empty = tmp_path / "facts", tmp_path / "empty"
    facts.mkdir()
    empty.mkdir()
    edges = named_edges(4)
    (facts / "edge.facts").write_text("".join(f"{a}\t{b}\n" for a, b in edges))
    database = str(tmp_path / "g.duckdb")

    def run(fact_dir, out) -> set:
        assert cli_main(["run", str(tmp_path / "p.dl"), "-F", str(fact_dir), "-D", str(tmp_path / out),
                         "--relations", "duckdb", "--db", database]) == 0
        return {tuple(line.split("\t")) for line in (tmp_path / out / "path.csv").read_text().splitlines()}
    assert run(facts, "one") == closure(edges)
    loads.clear()
    assert run(empty, "two") == closure(edges)          # no fact file: the stored table
    assert 'tlcdb."edge"' not in loads
    changed = named_edges(5)
    (facts / "edge.facts").write_text("".join(f"{a}\t{b}\n" for a, b in changed))
    capsys.readouterr()
    assert run(facts, "three") == closure(changed)
    assert "warning: the data for edge differs from the table edge" in capsys.readouterr().err
    assert run(empty, "four") == closure(changed)
    assert cli_main(["run", str(tmp_path / "p.dl"), "-F", str(empty), "--db", str(tmp_path / "new.duckdb")]) == 1
    err = capsys.readouterr().err
    assert "cannot open the fact file" in err and "(nor is it stored in" in err


def test_two_tl_runs_through_the_cli(tmp_path, capsys):
    (tmp_path / "p.tl").write_text(CLOSURE)
    (tmp_path / "edge.csv").write_text("0,1\n1,2\n2,3\n")
    database = str(tmp_path / "t.duckdb")
    assert cli_main(["run", str(tmp_path / "p.tl"), "--input", f"Edge={tmp_path / 'edge.csv'}", "--db", database]) == 0
    first = capsys.readouterr().out
    assert cli_main(["run", str(tmp_path / "p.tl"), "--db", database]) == 0
    assert capsys.readouterr().out == first
    assert "(0, 3)" in first
    assert cli_main(["run", str(tmp_path / "p.tl"), "--db", str(tmp_path / "other.duckdb")]) == 1
    assert "no data for relation Edge (nor a table Edge stored in" in capsys.readouterr().err


def test_two_datalog_runs_from_python(tmp_path):
    import tlc.datalog as dl
    database = tmp_path / "g.duckdb"
    edges = named_edges(6)
    first = dl.compile(DL, dialect="souffle", database=database)(edge=edges)
    assert set(first["path"]) == closure(edges)
    later = dl.compile(DL, dialect="souffle", relations="duckdb", database=database)()
    assert set(later["path"]) == closure(edges)
    assert sorted(dl.compile(DL, dialect="souffle", database=database).tuples(later, "edge")) == edges     # the stored facts
    empty = dl.compile(DL, dialect="souffle", database=tmp_path / "none.duckdb")()      # Datalog: a predicate not given is empty
    assert list(empty["path"]) == []


def test_explain_names_the_stored_inputs_and_plans_without_data(tmp_path):
    database = tmp_path / "g.duckdb"
    fresh = tlc.compile(CLOSURE, database=database).explain()
    assert "input relations are stored there" in fresh and "Edge stored" not in fresh
    assert "call the program or pass inputs" in fresh
    tlc.compile(CLOSURE, database=database)(Edge=named_edges(7))
    text = tlc.compile(CLOSURE, database=database).explain()       # planned on the stored relation
    assert "Edge stored; derived relations are written there" in text
    assert "index ranges" in text and "call the program or pass inputs" not in text


def test_nullary_relations_and_numbers_among_names_round_trip(tmp_path):
    source = "Out(x) = Go() Likes(x, _y)\nThree(x) = Likes(x, 3)\n"
    database = tmp_path / "n.duckdb"
    likes = [("a", 3), ("b", "c"), (4, "a")]         # 3 and 4 sit on axes of names: numbers among names
    first = tlc.compile(source, database=database)(Go=np.array(True), Likes=likes)
    again = tlc.compile(source, database=database)()
    assert set(first["Out"]) == set(again["Out"]) == {("a",), ("b",), (4,)}
    assert set(again["Three"]) == {("a",)}
    assert list(tlc.compile(source, database=database)(Go=np.array(False))["Out"]) == []
    assert list(tlc.compile(source, database=database)()["Out"]) == []       # the replaced, false, Go


def test_datalog_nullary_facts_given_and_stored(tmp_path):
    import tlc.datalog as dl
    text = "out(X) :- go(), e(X).\n"
    database = tmp_path / "d.duckdb"
    assert set(dl.compile(text, database=database)(go=[()], e=[("a",)])["out"]) == {("a",)}
    assert set(dl.compile(text, database=database)()["out"]) == {("a",)}
    assert list(dl.compile(text)(go=[], e=[("a",)])["out"]) == []
