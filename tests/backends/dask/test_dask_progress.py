"""Dask's own progress bars from ``tlc run --backend dask`` (issue 17): ``dask.diagnostics.ProgressBar`` on the
local scheduler, ``distributed.progress`` with a Client, on standard error when it is a terminal and not with
``--quiet``; the results printed match NumPy's."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

pytest.importorskip("dask.array")

from tlc.backends.dask import progress  # noqa: E402
from tlc.cli import main  # noqa: E402

MATMUL = "Y[i, k] = A[i, j] B[j, k]\nZ[i] = Y[i, k]\n"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def matmul_files(tmp_path):
    src = tmp_path / "m.tl"
    src.write_text(MATMUL)
    rng = np.random.default_rng(0)
    a, b = rng.random((30, 20)) + 0.5, rng.random((20, 10)) + 0.5
    np.savez(tmp_path / "d.npz", A=a, B=b)
    return src, a, b


@pytest.mark.parametrize("quiet", [False, True])
def test_dask_progress_bar_on_the_local_scheduler(tmp_path, monkeypatch, capsys, quiet):
    monkeypatch.setattr(progress, "MINIMUM", 0.0)
    src, a, b = matmul_files(tmp_path)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["run", str(src), "--data", str(tmp_path / "d.npz"), "--backend", "dask", "--full"]
                + ["-q"] * quiet) == 0
    assert ("| 100% Completed |" in terminal.getvalue()) is not quiet
    out = capsys.readouterr().out
    assert "Z (30,) =" in out and "| 100%" not in out
    printed = np.array(out.split("Z (30,) =")[1].replace("[", " ").replace("]", " ").split(), dtype=float)
    np.testing.assert_allclose(printed, (a @ b).sum(axis=1), rtol=1e-5)


def test_no_dask_progress_when_not_a_terminal(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(progress, "MINIMUM", 0.0)
    src, _, _ = matmul_files(tmp_path)
    assert main(["run", str(src), "--data", str(tmp_path / "d.npz"), "--backend", "dask"]) == 0
    assert "Completed" not in capsys.readouterr().err


def test_dask_progress_with_a_distributed_client(tmp_path, monkeypatch, capsys):
    distributed = pytest.importorskip("distributed")
    src, a, b = matmul_files(tmp_path)
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
    with cluster, distributed.Client(cluster):
        terminal = Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        assert main(["run", str(src), "--data", str(tmp_path / "d.npz"), "--backend", "dask"]) == 0
        monkeypatch.setattr(sys, "stderr", sys.__stderr__)
    assert "| 100% Completed |" in terminal.getvalue()
    out = capsys.readouterr().out
    assert "Y (30, 10) =" in out and "Completed" not in out
