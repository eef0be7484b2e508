"""The command line people expect (issue 17): ``--version``, warnings with ``-W error`` and ``--quiet``, data
errors at the data file, shortened results with ``--full``, ``explain`` wording and drawings, progress only on a
terminal."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import tlc
import tlc_runtime.progress
from tlc.cli import main

TYPO = "H[i] = W[i,j] X[j]\nY[i] = relu(Hh[i])\n"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"tlc {tlc.__version__}"


# ---------------------------------------------------------------------------------------------- warnings
@pytest.mark.parametrize("command", ["check", "compile", "explain"])
def test_warnings_are_printed_by_every_command(tmp_path, capsys, command):
    src = write(tmp_path, "typo.tl", TYPO)
    np.savez(tmp_path / "d.npz", W=np.ones((2, 2)), X=np.ones(2), Hh=np.ones(2))
    assert main([command, str(src), "--data", str(tmp_path / "d.npz")]) == 0
    err = capsys.readouterr().err
    assert f"{src}:2:13: warning: Hh is read but never defined" in err and "help: did you mean 'H'?" in err


def test_run_prints_warnings_then_runs(tmp_path, capsys):
    src = write(tmp_path, "typo.tl", TYPO)
    np.savez(tmp_path / "d.npz", W=np.ones((2, 2)), X=np.ones(2), Hh=np.ones(2))
    assert main(["run", str(src), "--data", str(tmp_path / "d.npz")]) == 0
    captured = capsys.readouterr()
    assert "warning: Hh is read" in captured.err and "Y (2,) =" in captured.out


def test_quiet_hides_warnings(tmp_path, capsys):
    src = write(tmp_path, "typo.tl", TYPO)
    assert main(["check", "--quiet", str(src)]) == 0
    assert capsys.readouterr().err == ""


def test_w_error_makes_warnings_errors_and_nothing_runs(tmp_path, capsys):
    src = write(tmp_path, "typo.tl", TYPO)
    np.savez(tmp_path / "d.npz", W=np.ones((2, 2)), X=np.ones(2), Hh=np.ones(2))
    assert main(["run", "-W", "error", str(src), "--data", str(tmp_path / "d.npz")]) == 1
    captured = capsys.readouterr()
    assert f"{src}:2:13: error: Hh is read but never defined" in captured.err and captured.out == ""


def test_no_colour_when_not_a_terminal(tmp_path):
    src = write(tmp_path, "bad.tl", "Y[i] = sigmoid(A[i])\n")
    proc = subprocess.run([sys.executable, "-m", "tlc", "check", str(src)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1 and "\x1b[" not in proc.stderr
    assert proc.stderr.splitlines()[-1] == "  help: did you mean 'sig'?"


def test_colour_on_a_terminal_unless_no_color(tmp_path, monkeypatch):
    src = write(tmp_path, "bad.tl", "Y[i] = sigmoid(A[i])\n")
    monkeypatch.delenv("NO_COLOR", raising=False)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["check", str(src)]) == 1
    assert "\x1b[1;31merror:\x1b[0m" in terminal.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    plain = Terminal()
    monkeypatch.setattr(sys, "stderr", plain)
    assert main(["check", str(src)]) == 1
    assert "\x1b[" not in plain.getvalue()


# ---------------------------------------------------------------------------------------------- data errors
def test_unknown_npz_key_is_reported_at_the_archive_and_key(tmp_path, capsys):
    src = write(tmp_path, "t.tl", "H[i] = W[i,j] X[j]\n")
    np.savez(tmp_path / "d.npz", W=np.ones((2, 2)), X=np.ones(2), Wx=np.ones(2))
    assert main(["run", str(src), "--data", str(tmp_path / "d.npz")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{tmp_path / 'd.npz'}: error: the archive's key 'Wx' names no input of {src}, which "
                          f"reads W, X")
    assert "help: did you mean 'W'?" in err and ":1:1:" not in err


def test_unknown_input_name_is_reported_at_its_file(tmp_path, capsys):
    src = write(tmp_path, "t.tl", "H[i] = W[i]\n")
    np.save(tmp_path / "w.npy", np.ones(2))
    assert main(["run", str(src), "--input", f"Q={tmp_path / 'w.npy'}", "--input", f"W={tmp_path / 'w.npy'}"]) == 1
    assert capsys.readouterr().err.startswith(f"{tmp_path / 'w.npy'}: error: --input Q names no input")


def test_csv_rows_of_the_wrong_width_are_reported_at_the_row(tmp_path, capsys):
    src = write(tmp_path, "r.tl", "Y(x) = R(x)\n")
    rows = write(tmp_path, "r.csv", "# people\nalice,bob\ncarol,dave\n")
    assert main(["run", str(src), "--input", f"R={rows}"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[:3] == [f"{rows}:2:1: error: row has 2 columns but relation R takes 1 argument",
                                    "  alice,bob", "  ^"]
    assert f"note: R is used at {src}:1:8" in err


def test_csv_cell_errors_keep_their_row_and_column(tmp_path, capsys):
    src = write(tmp_path, "r.tl", "Y(x, y) = R(x, y)\n")
    rows = write(tmp_path, "r.csv", "1,2\n3,\n")
    assert main(["run", str(src), "--input", f"R={rows}"]) == 1
    assert capsys.readouterr().err.startswith(f"{rows}:2:3: error: empty cell in row")


# ---------------------------------------------------------------------------------------------- printing
def test_large_relations_and_tensors_print_shortened_unless_full(tmp_path, capsys):
    src = write(tmp_path, "p.tl", "E(x, y) = L(x, y)\nE(x, z) = E(x, y) L(y, z)\nV[i] = A[i]\n")
    np.save(tmp_path / "l.npy", np.eye(300, k=1, dtype=bool))
    np.save(tmp_path / "a.npy", np.arange(1000.0))
    args = ["run", str(src), "--input", f"L={tmp_path / 'l.npy'}", "--input", f"A={tmp_path / 'a.npy'}"]
    assert main(args) == 0
    short = capsys.readouterr().out
    assert "E = {(0, 1), (0, 2), (0, 3), ..., (297, 298), (297, 299), (298, 299)} (44850 tuples)" in short
    assert "..." in short.split("V (1000,) =")[1] and len(short) < 2000
    assert main([*args, "--full"]) == 0
    full = capsys.readouterr().out
    assert full.count("(") > 44850 and "..." not in full and "999." in full


def test_repr_of_a_large_relation_is_shortened():
    result = tlc.compile("E(x, y) = L(x, y)\nE(x, z) = E(x, y) L(y, z)\n")(L=np.eye(300, k=1, dtype=bool))
    text = repr(result["E"])
    assert text == "E{(0, 1), (0, 2), (0, 3), ..., (297, 298), (297, 299), (298, 299)} (44850 tuples)"
    small = tlc.compile("P(Ann)\nP(Bob)\n")()["P"]
    assert repr(small) == "P{Ann, Bob}" and small.format(None) == "{Ann, Bob}"


# ---------------------------------------------------------------------------------------------- explain
def test_explain_names_the_summed_sub_expression_and_prints_no_empty_ranges(tmp_path, capsys):
    src = write(tmp_path, "e.tl", "H[i] = sig(W[i,j] X[j] + B[i])\nY = 2\n")
    np.savez(tmp_path / "d.npz", W=np.ones((3, 4)), X=np.ones(4), B=np.ones(3))
    assert main(["explain", str(src), "--data", str(tmp_path / "d.npz")]) == 0
    out = capsys.readouterr().out
    assert "    sums j over W[i, j] X[j]\n" in out and "sub-expression" not in out
    assert "    index ranges: i 0..2 (3 values), j 0..3 (4 values)\n" in out
    assert not re.search(r"ranges\s*$", out, re.MULTILINE)
    assert "largest intermediate 3 elements" in out


def test_explain_dot_draws_tensors_equations_strata_and_plan(tmp_path, capsys):
    src = write(tmp_path, "e.tl", "H[i] = W[i,j] X[j]\nE(x, y) = L(x, y)\nE(x, z) = E(x, y) L(y, z)\n"
                                  "E(x, 1)?\n")
    np.savez(tmp_path / "d.npz", W=np.ones((3, 4)), X=np.ones(4), L=np.eye(4, k=1, dtype=bool))
    assert main(["explain", str(src), "--data", str(tmp_path / "d.npz"), "--format", "dot"]) == 0
    dot = capsys.readouterr().out
    assert dot.startswith("digraph program {") and dot.rstrip().endswith("}")
    assert '"t:W" [label="W (tensor)\\l", shape=box];' in dot and '"t:H" [label="H (tensor)\\l", shape=ellipse];' in dot
    assert "subgraph cluster_1" in dot and 'label="stratum 2: seminaive\\lrelations: ' in dot
    assert "contraction ab,b->a: path" in dot       # the plan's choice labels its equation
    assert '"t:W" -> "e:0";' in dot and '"e:0" -> "t:H";' in dot and "shape=diamond" in dot


def test_dot_labels_escape_quotes_and_backslashes():
    from tlc.driver.drawing import dot_string
    assert dot_string('a "b" \\c\nd') == '"a \\"b\\" \\\\c\\ld\\l"'


def test_explain_svg_without_graphviz_prints_dot_with_a_note(tmp_path, capsys, monkeypatch):
    src = write(tmp_path, "e.tl", "Y = 2\n")
    monkeypatch.setenv("PATH", str(tmp_path))       # no dot program here
    assert main(["explain", str(src), "--format", "svg"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("digraph program {")
    assert "note: Graphviz's 'dot' program is not installed: printing the DOT text instead of svg" in captured.err


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
@pytest.mark.parametrize("fmt, magic", [("svg", b"<svg"), ("png", b"\x89PNG")])
def test_explain_draws_svg_and_png_with_graphviz(tmp_path, capsys, fmt, magic):
    src = write(tmp_path, "e.tl", "H[i] = W[i,j] X[j]\nY = H[i] H[i]\n")
    out = tmp_path / f"plan.{fmt}"
    assert main(["explain", str(src), "--format", fmt, "-o", str(out)]) == 0
    assert magic in out.read_bytes()[:300] and capsys.readouterr().err == ""


# ---------------------------------------------------------------------------------------------- unbounded growth
@pytest.mark.parametrize("command", ["check", "run"])
def test_unbounded_recursion_is_reported_by_check_and_run(tmp_path, capsys, command):
    src = write(tmp_path, "grow.tl", "S[t+1] = S[t] + 1\n")
    assert main([command, str(src)]) == 1
    captured = capsys.readouterr()
    assert f"{src}:1:1: error: the extent of S grows without bound" in captured.err and "ok" not in captured.out


def test_check_infers_shapes_of_a_program_without_inputs(tmp_path, capsys):
    src = write(tmp_path, "ok.tl", "tensor S[3]\nS[0] = 1\nS[t+1] = S[t] + 1\n")
    assert main(["check", str(src)]) == 0
    assert capsys.readouterr().out.strip() == f"{src}: ok (2 equations, 1 tensors, shapes checked)"


# ---------------------------------------------------------------------------------------------- progress
SLOW_FIXPOINT = "X[i] = 0.5 X[i] + A[i]\n"


def test_fixpoint_progress_on_a_terminal(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)      # the plain line (tqdm is optional)
    monkeypatch.setattr(tlc_runtime.progress, "INTERVAL", 0.0)
    src = write(tmp_path, "fp.tl", SLOW_FIXPOINT)
    np.save(tmp_path / "a.npy", np.ones(3))
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["run", str(src), "--input", f"A={tmp_path / 'a.npy'}"]) == 0
    shown = terminal.getvalue()
    assert "fixpoint of X: round 1/10000, X last changed by 1" in shown
    assert re.search(r"fixpoint of X: round \d+/10000, X last changed by [0-9.e-]+", shown.split("\r")[-2])


def test_no_progress_when_not_a_terminal(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tlc_runtime.progress, "INTERVAL", 0.0)
    src = write(tmp_path, "fp.tl", SLOW_FIXPOINT)
    np.save(tmp_path / "a.npy", np.ones(3))
    assert main(["run", str(src), "--input", f"A={tmp_path / 'a.npy'}"]) == 0
    assert "fixpoint" not in capsys.readouterr().err


def test_progress_uses_tqdm_when_installed(monkeypatch):
    tqdm = pytest.importorskip("tqdm")
    from tlc.driver.progress import progress_on
    monkeypatch.setattr(tlc_runtime.progress, "INTERVAL", 0.0)
    terminal = Terminal()
    with progress_on(terminal):
        tlc.compile(SLOW_FIXPOINT)(A=np.ones(3))
    shown = terminal.getvalue()
    assert "fixpoint of X" in shown and "round" in shown and "X last changed by" in shown
    assert "fixpoint of X: round 1/10000" not in shown      # the bar, not the plain line


def test_semi_naive_progress_counts_new_tuples(monkeypatch):
    from tlc.driver.progress import progress_on
    monkeypatch.setattr(tlc_runtime.progress, "INTERVAL", 0.0)
    monkeypatch.setitem(sys.modules, "tqdm", None)
    program = tlc.compile("Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\n", relations="sparse")
    terminal = Terminal()
    with progress_on(terminal):
        result = program(Edge=np.eye(20, k=1, dtype=bool))
    assert len(result["Path"]) == 190
    shown = terminal.getvalue()
    assert "semi-naive rounds of Path: round 1, 18 new tuples" in shown
    assert shown.endswith("semi-naive rounds of Path: done\n")


def test_a_queried_input_relation_given_data_does_not_warn(tmp_path, capsys):
    src = write(tmp_path, "q.tl", "Edge(x, y)?\n")
    rows = write(tmp_path, "edge.csv", "1,2\n")
    assert main(["run", str(src), "--input", f"Edge={rows}"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "Edge(x, y)? (1, 2)" in captured.out
    assert main(["check", str(src)]) == 0      # without the data: a query on a relation nothing defines
    assert "warning: no rule or fact defines relation Edge, but a query reads it" in capsys.readouterr().err


def test_contraction_order_search_progress(monkeypatch):
    import string
    from tlc.contract import progress as search_progress, search
    from tlc.driver.progress import progress_on
    monkeypatch.setattr(search, "HEARTBEAT", 0.0)
    monkeypatch.setattr(search_progress, "GAP", 0.0)
    monkeypatch.setitem(sys.modules, "tqdm", None)
    n, letters = 12, string.ascii_lowercase        # a ring of 12 matrices: searched, not greedy's alone
    source = "T = " + " ".join(f"A{k}[{letters[k]},{letters[(k + 1) % n]}]" for k in range(n)) + "\n"
    arrays = {f"A{k}": np.random.default_rng(k).random((29, 29)) for k in range(n)}
    terminal = Terminal()
    with progress_on(terminal):
        result = tlc.compile(source)(**arrays)
    expected = np.linalg.multi_dot([arrays[f"A{k}"] for k in range(n)]).trace()
    assert np.isclose(float(result["T"]), expected)
    shown = terminal.getvalue()
    assert re.search(r"contraction order of 12 operands: \d+ s, best 10\^[0-9.]+ FLOPs \(\S+\)", shown)
    assert shown.endswith("contraction order of 12 operands: done\n")


def test_contract_path_progress_prints_only_improvements(capsys):
    from tlc.contract.progress import printed
    report = printed()
    for seconds, score in ((0.1, 1e9), (0.2, 1e9), (0.3, 1e8), (0.4, 2e8)):
        report(seconds, score, "greedy")
    lines = capsys.readouterr().err.splitlines()
    assert [line.split("best ")[1] for line in lines] == ["10^9.000  (greedy)", "10^8.000  (greedy)"]


def test_a_program_read_from_a_pipe(tmp_path, capsys):
    import threading
    pipe = tmp_path / "program.pipe"
    os.mkfifo(pipe)
    writer = threading.Thread(target=lambda: pipe.write_text("Y = A[i]\n"))
    writer.start()
    assert main(["grad", str(pipe), "--loss", "Y"]) == 0
    writer.join()
    assert "Y_grad_A[i] = A[i]^0" in capsys.readouterr().out


def test_a_directory_is_not_a_program(tmp_path, capsys):
    assert main(["run", str(tmp_path)]) == 1
    assert f"{tmp_path} is a directory, not a program file" in capsys.readouterr().err
