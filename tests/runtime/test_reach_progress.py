"""Progress of the ``closure`` strategy (issue 17): the strong components closed so far, only when someone
listens (``tlc`` on a terminal), and nothing from ``tlc run --quiet``."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

import tlc
import tlc_runtime.progress
import tlc_runtime.reach
from tlc.cli import main
from tlc.driver.progress import progress_on

CHAIN = "Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\n"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def reports_at_once(monkeypatch):
    monkeypatch.setattr(tlc_runtime.progress, "INTERVAL", 0.0)
    monkeypatch.setattr(tlc_runtime.reach, "PROGRESS_EVERY", 1)
    monkeypatch.setitem(sys.modules, "tqdm", None)      # the plain line (tqdm is optional)


def test_closure_reports_strong_components_closed(reports_at_once):
    program = tlc.compile(CHAIN, relations="closure")
    edges = np.eye(40, k=1, dtype=bool)
    terminal = Terminal()
    with progress_on(terminal):
        result = program(Edge=edges)
    assert set(result["Path"]) == set(tlc.compile(CHAIN, relations="sparse")(Edge=edges)["Path"])
    shown = terminal.getvalue()
    assert "transitive closure of a 40-node relation: strong component 1/40" in shown
    assert "strong component 40/40" in shown and shown.endswith("transitive closure of a 40-node relation: done\n")


def test_closure_is_silent_unless_someone_listens(reports_at_once, capsys):
    program = tlc.compile(CHAIN, relations="closure")
    assert len(program(Edge=np.eye(10, k=1, dtype=bool))["Path"]) == 45
    assert capsys.readouterr().err == ""


def test_quiet_hides_fixpoint_progress(tmp_path, monkeypatch, reports_at_once):
    src = tmp_path / "fp.tl"
    src.write_text("X[i] = 0.5 X[i] + A[i]\n")
    np.save(tmp_path / "a.npy", np.ones(3))
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["run", "-q", str(src), "--input", f"A={tmp_path / 'a.npy'}"]) == 0
    assert terminal.getvalue() == ""
