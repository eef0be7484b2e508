"""Datalog files on the command line with Soufflé's conventions (``tlc run FILE.dl -F DIR -D DIR``), fact-file
errors located at file:line, ``.decl`` types, ``-F``/``-D``/``--out`` for ``.tl`` programs, and relations given
from Python as ``tlc.Rows`` or pandas DataFrames."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tlc
import tlc.datalog as dl
from tlc.cli import main

ROOT = Path(__file__).resolve().parents[1]

REACH = """\
% reachability, Soufflé style
.decl edge(x: symbol, y: symbol)
.input edge
.decl path(x: symbol, y: symbol)   // derived
.output path
/* out-degree markers */
.decl hop(x: symbol, n: number)
.output hop
path(x, y) :- edge(x, y).
path(x, z) :- path(x, y), edge(y, z).
hop(x, 1) :- edge(x, _).
"""


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture
def reach(tmp_path):
    (tmp_path / "reach.dl").write_text(REACH)
    (tmp_path / "facts").mkdir()
    (tmp_path / "facts" / "edge.facts").write_text("a\tb\nb\tc\nc\tNew York\n")
    return tmp_path


def test_dl_file_runs_with_fact_and_output_directories(reach):
    proc = subprocess.run([sys.executable, "-m", "tlc", "run", "reach.dl", "-F", "facts", "-D", "out"],
                          capture_output=True, text=True, cwd=reach, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert (reach / "out" / "path.csv").read_text() == "a\tb\na\tc\na\tNew York\nb\tc\nb\tNew York\nc\tNew York\n"
    assert (reach / "out" / "hop.csv").read_text() == "a\t1\nb\t1\nc\t1\n"


def test_dl_defaults_read_and_write_the_current_directory(reach, capsys, monkeypatch):
    (reach / "edge.facts").write_text("x\ty\n")
    monkeypatch.chdir(reach)
    assert run(capsys, "run", "reach.dl")[0] == 0
    assert (reach / "path.csv").read_text() == "x\ty\n"


def test_dl_output_to_stdout_is_framed_as_souffle_does(reach, capsys):
    code, out, _ = run(capsys, "run", reach / "reach.dl", "-F", reach / "facts", "-D", "-")
    assert code == 0
    assert out.startswith("---------------\npath\n===============\na\tb\n")
    assert "===============\n---------------\nhop\n===============\na\t1\nb\t1\nc\t1\n===============\n" in out


def test_dl_without_output_prints_like_tl(tmp_path, capsys):
    src = tmp_path / "family.dl"
    src.write_text("% comment\nparent(alice, bob). // another\nparent(bob, carol).\n/* block */\n"
                   "anc(X, Y) :- parent(X, Y).\nanc(X, Z) :- anc(X, Y), parent(Y, Z).\n?- anc(alice, X).\n")
    code, out, _ = run(capsys, "run", src)
    assert code == 0
    assert "anc = {(alice, bob), (alice, carol), (bob, carol)}" in out
    assert "?- anc(alice, X). bob, carol" in out


def test_dl_examples_run_from_the_command_line(capsys):
    code, out, _ = run(capsys, "run", ROOT / "examples" / "datalog" / "family.dl")
    assert code == 0 and "?- ancestor(alice, X)." in out


def test_printsize_and_output_parameters(tmp_path, capsys):
    src = tmp_path / "p.dl"
    src.write_text('.decl e(a: symbol, b: number)\n.input e(filename="edges.tsv")\n'
                   '.output e(IO=stdout, headers=true)\n.decl r(a: symbol)\n'
                   '.output r(delimiter=",", filename="r.txt")\n'
                   '.printsize r\nr(a) :- e(a, _).\n')
    (tmp_path / "edges.tsv").write_text("p\t3\nq\t4\n")
    code, out, _ = run(capsys, "run", src, "-F", tmp_path, "-D", tmp_path / "out")
    assert code == 0
    assert "---------------\ne\na\tb\n===============\np\t3\nq\t4\n===============\n" in out
    assert out.endswith("r\t2\n")
    assert (tmp_path / "out" / "r.txt").read_text() == "p\nq\n"


def test_declared_input_that_no_rule_reads_is_written_back(tmp_path, capsys):
    src = tmp_path / "copy.dl"
    src.write_text(".decl e(a: number, b: number)\n.input e\n.output e\n")
    (tmp_path / "e.facts").write_text("1\t2\n")
    assert run(capsys, "run", src, "-F", tmp_path, "-D", tmp_path)[0] == 0
    assert (tmp_path / "e.csv").read_text() == "1\t2\n"


@pytest.mark.parametrize("facts, where, message", [
    ("a\tb\nb\tc\td\n", ":2:5: error: edge has 2 columns but this line has 3", "b c d"),
    ("a\tb\nc\n", ":2:2: error: edge has 2 columns but this line has 1", "c"),
])
def test_fact_file_arity_errors_are_located(reach, capsys, facts, where, message):
    (reach / "facts" / "edge.facts").write_text(facts)
    code, _, err = run(capsys, "run", reach / "reach.dl", "-F", reach / "facts", "-D", reach / "out")
    assert code == 1
    assert f"{reach / 'facts' / 'edge.facts'}{where}" in err and message in err
    assert not (reach / "out").exists()


@pytest.mark.parametrize("facts, expected", [
    ("p\tone\n", ":1:3: error: column 2 of e is a number, but this line has 'one'"),
    ("p\t1\nq\t-4\n", ":2:3: error: negative number -4 in column 2 of e"),
])
def test_fact_file_type_errors_are_located(tmp_path, capsys, facts, expected):
    src = tmp_path / "t.dl"
    src.write_text(".decl e(a: symbol, n: number)\n.input e\n.decl f(a: symbol)\n.output f\nf(a) :- e(a, _).\n")
    (tmp_path / "e.facts").write_text(facts)
    code, _, err = run(capsys, "run", src, "-F", tmp_path, "-D", "-")
    assert code == 1 and f"{tmp_path / 'e.facts'}{expected}" in err, err


def test_missing_fact_file_is_located_at_its_input_directive(reach, capsys):
    code, _, err = run(capsys, "run", reach / "reach.dl", "-F", reach / "nowhere")
    assert code == 1
    assert f"{reach / 'reach.dl'}:3:1: error: cannot open the fact file" in err and ".input edge" in err


def test_symbol_columns_keep_digits_and_spaces(tmp_path):
    src = tmp_path / "s.dl"
    src.write_text(".decl e(a: symbol, n: number)\n.input e\n.decl f(a: symbol, n: number)\nf(a, n) :- e(a, n).\n")
    (tmp_path / "e.facts").write_text("42\t7\n two words \t0\n")
    from tlc.datalog.souffle_io import read_inputs
    prog = dl.compile(str(src), dialect="auto")
    facts = read_inputs(prog.translation, str(tmp_path))
    assert facts == {"e": [("42", 7), (" two words ", 0)]}
    assert set(prog(**facts)["f"]) == {("42", 7), (" two words ", 0)}


@pytest.mark.parametrize("program, expected", [
    ('.decl e(a: symbol)\ne(1).\n', ":2:3: error: e.a is declared symbol, but 1 is a number"),
    ('.decl e(a: number)\ne("x").\n', ':2:3: error: e.a is declared number, but "x" is a symbol'),
    (".decl e(a: symbol)\n.decl f(a: number)\nf(x) :- e(x).\n",
     ":3:11: error: the variable x is a number in f.a but a symbol in e.a"),
    (".decl e(a: symbol)\nf(x) :- e(x).\n", ":2:1: error: the relation f is not declared"),
    (".decl e(a: symbol, b: symbol)\n.decl f(a: symbol)\nf(x) :- e(x).\n", ":3:9: error: e has 1 argument here"),
    (".decl e(a: float)\n", ":1:9: error: the type float is not supported"),
    (".decl e(a: Node)\n", ":1:9: error: unknown type Node"),
    (".input e\n", ":1:1: error: .input names e, which has no .decl"),
    (".decl e(a: number)\n.output e(IO=sqlite)\n", ":2:1: error: .output parameter IO=sqlite is not supported"),
])
def test_declaration_errors_are_located(tmp_path, capsys, program, expected):
    src = tmp_path / "bad.dl"
    src.write_text(program)
    code, _, err = run(capsys, "run", src, "-D", "-")
    assert code == 1 and f"{src}{expected}" in err, err


def test_type_aliases_and_unsigned():
    model = dl.evaluate('.type Name <: symbol\n.type Id = number | unsigned\n.decl p(n: Name, i: Id)\n'
                        '.decl q(n: Name)\np("a", 1).\nq(n) :- p(n, _).\n', dialect="auto")
    assert model["q"] == {("a",)}


# ----------------------------------------------------------------------------------- .tl programs
TL = "Reach(x, z) = Edge(x, z)\nReach(x, z) = Reach(x, y) Edge(y, z)\nScore[x] = W[x] Reach(x, 3)\n"


@pytest.fixture
def tl(tmp_path):
    (tmp_path / "p.tl").write_text(TL)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "Edge.csv").write_text("src,dst\n0,1\n1,2\n2,3\n")     # a header, told by its types
    np.save(tmp_path / "in" / "W.npy", np.array([1.0, 2.0, 3.0, 4.0]))
    return tmp_path


def test_tl_reads_a_fact_directory_and_writes_an_output_directory(tl, capsys):
    code, out, _ = run(capsys, "run", tl / "p.tl", "-F", tl / "in", "-D", tl / "out")
    assert code == 0 and out == ""
    assert (tl / "out" / "Reach.csv").read_text() == "0\t1\n0\t2\n0\t3\n1\t2\n1\t3\n2\t3\n"
    np.testing.assert_array_equal(np.load(tl / "out" / "Score.npy"), [1.0, 2.0, 3.0, 0.0])


def test_tl_fact_directory_with_two_files_for_one_input_is_an_error(tl, capsys):
    (tl / "in" / "Edge.facts").write_text("0\t1\n")
    code, _, err = run(capsys, "run", tl / "p.tl", "-F", tl / "in")
    assert code == 1 and "holds 2 files for Edge" in err


def test_csv_header_option(tmp_path, capsys):
    src = tmp_path / "q.tl"
    src.write_text("Knows(x, y) = Friend(x, y)\n")
    (tmp_path / "f.csv").write_text("name,friend\nann,bob\n")
    code, out, _ = run(capsys, "run", src, "--input", f"Friend={tmp_path / 'f.csv'}")
    assert code == 0 and "(name, friend)" in out            # all names: no header told by types
    code, out, _ = run(capsys, "run", src, "--input", f"Friend={tmp_path / 'f.csv'}", "--header", "yes")
    assert code == 0 and "Knows = {(ann, bob)}" in out


def test_out_directory_writes_relations_as_csv_and_tensors_as_npy(tl, capsys):
    assert run(capsys, "run", tl / "p.tl", "-F", tl / "in", "--out", f"{tl / 'res'}/")[0] == 0
    assert (tl / "res" / "Reach.csv").read_text().splitlines()[:2] == ["0,1", "0,2"]
    np.testing.assert_array_equal(np.load(tl / "res" / "Score.npy"), [1.0, 2.0, 3.0, 0.0])


def test_out_csv_writes_one_relation_with_names(tmp_path, capsys):
    src = tmp_path / "n.tl"
    src.write_text("Anc(x, y) = Parent(x, y)\nAnc(x, z) = Anc(x, y) Parent(y, z)\nParent(Ann, 'Bob, Jr.')\n"
                   "Parent('Bob, Jr.', Cy)\n")
    assert run(capsys, "run", src, "--output", "Anc", "--out", tmp_path / "anc.csv")[0] == 0
    assert (tmp_path / "anc.csv").read_text() == 'Ann,"Bob, Jr."\nAnn,Cy\n"Bob, Jr.",Cy\n'


@pytest.mark.parametrize("out, message", [
    ("x.csv", "holds one relation as CSV, but the results are: Reach, Score"),
    ("x.txt", "write FILE.npz (every result), FILE.csv (one relation) or a directory"),
    ("missing/sub/", "the directory"),
])
def test_out_is_checked_before_running(tl, capsys, out, message):
    # no data for Edge: the run would fail, so the --out error shows it was checked first
    code, _, err = run(capsys, "run", tl / "p.tl", "--out", tl / out)
    assert code == 1 and message in err, err
    assert not (tl / out).exists() and not Path(str(tl / out) + ".npz").exists()


def test_output_dir_that_is_a_file_is_refused(tl, capsys):
    code, _, err = run(capsys, "run", tl / "p.tl", "-F", tl / "in", "-D", tl / "p.tl")
    assert code == 1 and "is a file, not a directory" in err


# ----------------------------------------------------------------------------------- Python: rows, frames
def test_rows_wrapper_gives_tuples_as_an_integer_array():
    prog = tlc.compile("Reach(x, z) = Edge(x, z)\nReach(x, z) = Reach(x, y) Edge(y, z)\n")
    edges = np.array([[0, 5], [5, 7]])
    assert set(prog(Edge=tlc.Rows(edges))["Reach"]) == {(0, 5), (5, 7), (0, 7)}
    with pytest.raises(tlc.TlcError, match=r"tlc.Rows\(array\)"):
        prog(Edge=edges)
    with pytest.raises(tlc.TlcError, match="negative integer"):
        prog(Edge=tlc.Rows(np.array([[1, -1]])))
    with pytest.raises(tlc.TlcError, match=r"takes an \(m, 2\) array"):
        prog(Edge=tlc.Rows(np.zeros((2, 3), dtype=int)))
    assert set(dl.compile("p(X, Y) :- e(X, Y).")(e=tlc.Rows(edges))["p"]) == {(0, 5), (5, 7)}


def test_rows_of_an_integer_array_read_as_the_same_tuples_in_a_list(backend):
    """``tlc.Rows`` of an integer array is read as an array (no tuple per row); every result must be the one its
    rows give as a list of tuples, names joining its axes included."""
    rng = np.random.default_rng(5)
    closure = "Reach(x, z) = Edge(x, z)\nReach(x, z) = Reach(x, y) Edge(y, z)\n"
    for edges in (rng.integers(0, 40, (120, 2)), np.zeros((0, 2), dtype=np.int64),
                  rng.integers(0, 9, (30, 2)).astype(np.uint16)):
        for relations in ("sparse", "dense"):
            prog = tlc.compile(closure, backend=backend, relations=relations)
            as_list = prog(Edge=[tuple(map(int, row)) for row in edges])["Reach"]
            assert set(prog(Edge=tlc.Rows(edges))["Reach"]) == set(as_list)
    named = tlc.compile("Likes(x, y) = Knows(x, y) Edge(x, y)\n", backend=backend)
    knows = [("a", "b"), (0, 1), ("b", 2)]
    edges = np.array([[0, 1], [2, 3]])
    assert set(named(Knows=knows, Edge=tlc.Rows(edges))["Likes"]) == \
        set(named(Knows=knows, Edge=[(0, 1), (2, 3)])["Likes"]) == {(0, 1)}
    unary = tlc.compile("P(x) = Q(x) E(x, _y)\n", backend=backend)
    assert set(unary(Q=tlc.Rows(np.array([3, 4])), E=tlc.Rows(np.array([[3, 0]])))["P"]) == {(3,)}


def test_rows_over_two_to_the_63_are_refused():
    prog = tlc.compile("Reach(x, z) = Edge(x, z)\n")
    with pytest.raises(tlc.TlcError, match=r"over 2\^63 - 1"):
        prog(Edge=tlc.Rows(np.array([[1, 2**63]], dtype=np.uint64)))


def test_dataframes_are_relations_and_results_become_frames():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"src": ["a", "b"], "dst": ["b", "c"]})
    prog = tlc.compile("Reach(x, z) = Edge(x, z)\nReach(x, z) = Reach(x, y) Edge(y, z)\n")
    reach = prog(Edge=frame)["Reach"]
    assert set(reach) == {("a", "b"), ("b", "c"), ("a", "c")}
    back = reach.to_frame(["src", "dst"])
    assert list(back.columns) == ["src", "dst"] and len(back) == 3
    assert set(dl.compile("p(X, Y) :- e(X, Y).")(e=frame)["p"]) == {("a", "b"), ("b", "c")}
    with pytest.raises(tlc.TlcError, match="has 3 columns"):
        prog(Edge=frame.assign(w=1))


def test_unsupported_directive_is_named():
    with pytest.raises(dl.DatalogSyntaxError, match=r"the directive \.pragma is not supported") as info:
        dl.translation('p(1).\n.pragma "legacy"\n')
    assert info.value.line == 2
