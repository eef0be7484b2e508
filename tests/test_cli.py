"""The ``tlc`` command line: exit codes, located errors without tracebacks, data files, outputs."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tlc.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "tlc", *args], capture_output=True, text=True, timeout=120)


def test_run_family_prints_relations_and_answers():
    proc = run_cli("run", str(EXAMPLES / "family.tl"))
    assert proc.returncode == 0, proc.stderr
    assert "Ancestor = {" in proc.stdout and "(Bob, Charlie)" in proc.stdout
    assert "Ancestor(Bob, x)? Charlie, Diana, Eve, Frank" in proc.stdout


def test_check_reports_located_error_and_exit_1(tmp_path):
    bad = tmp_path / "bad.tl"
    bad.write_text("Y[i] = A[i] B[i]\nZ[i] = Y[i, j]\n")
    proc = run_cli("check", str(bad))
    assert proc.returncode == 1
    assert f"{bad}:2:8: error: Y has 2 indices here but 1" in proc.stderr
    assert "^^^^" in proc.stderr and "Traceback" not in proc.stderr


def test_check_ok(capsys):
    assert main(["check", str(EXAMPLES / "gnn.tl")]) == 0
    assert "ok" in capsys.readouterr().out


def test_shape_error_in_data_is_located(tmp_path, capsys):
    src = tmp_path / "join.tl"
    src.write_text("Y[i] = A[i] B[i]\n")
    np.savez(tmp_path / "d.npz", A=np.ones(3), B=np.ones(4))
    assert main(["run", str(src), "--data", str(tmp_path / "d.npz")]) == 1
    err = capsys.readouterr().err
    assert f"{src}:1:" in err and "inconsistent extents" in err


def test_inputs_from_npy_and_csv(tmp_path, capsys):
    src = tmp_path / "p.tl"
    src.write_text("Reach(x, z) = Edge(x, z)\nReach(x, z) = Reach(x, y) Edge(y, z)\nScore[x] = W[x] Reach(x, 3)\n")
    (tmp_path / "edges.csv").write_text("0,1\n1,2\n2,3\n")
    np.save(tmp_path / "w.npy", np.array([1.0, 2.0, 3.0, 4.0]))
    out = tmp_path / "out.npz"
    code = main(["run", str(src), "--input", f"Edge={tmp_path / 'edges.csv'}", "--input", f"W={tmp_path / 'w.npy'}",
                 "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    saved = np.load(out)
    np.testing.assert_array_equal(saved["Score"], [1.0, 2.0, 3.0, 0.0])
    assert saved["Reach"].dtype == bool and saved["Reach"][0, 3]


def test_bad_csv_row_is_located(tmp_path, capsys):
    src = tmp_path / "p.tl"
    src.write_text("Reach(x, z) = Edge(x, z)\n")
    (tmp_path / "edges.csv").write_text("0,1\n1,2,5\n")
    assert main(["run", str(src), "--input", f"Edge={tmp_path / 'edges.csv'}"]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'edges.csv'}:2:1: error: row has 3 columns" in err


def test_compile_and_explain(tmp_path, capsys):
    src = EXAMPLES / "mlp.tl"
    data = EXAMPLES / "data" / "mlp.npz"
    out = tmp_path / "mlp.py"
    assert main(["compile", str(src), "--target", "numpy", "--data", str(data), "-o", str(out)]) == 0
    code = out.read_text()
    assert "import tlc_runtime as rt" in code and "import tlc\n" not in code
    assert main(["explain", str(src), "--data", str(data)]) == 0
    assert "stratum" in capsys.readouterr().out


@pytest.mark.parametrize("args", [["bogus"], ["run"], ["run", "x.tl", "--backend", "cuda"], ["run", "x.tl", "-O", "7"]])
def test_bad_usage_exits_2(args):
    proc = run_cli(*args)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_missing_file_exit_1(capsys):
    assert main(["run", "no/such/file.tl"]) == 1
    assert "no such file" in capsys.readouterr().err


def test_check_with_data_reports_shape_errors(tmp_path, capsys):
    src = tmp_path / "join.tl"
    src.write_text("Y[i] = A[i] B[i]\n")
    np.savez(tmp_path / "good.npz", A=np.ones(3), B=np.ones(3))
    np.savez(tmp_path / "bad.npz", A=np.ones(3), B=np.ones((3, 2)))
    assert main(["check", str(src), "--data", str(tmp_path / "good.npz")]) == 0
    assert "shapes checked" in capsys.readouterr().out
    assert main(["check", str(src), "--data", str(tmp_path / "bad.npz")]) == 1
    assert f"{src}:1:13: error: data for B has 2 dimensions" in capsys.readouterr().err
