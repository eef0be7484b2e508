"""The architecture's rules (scripts/check_layers.py), the backend registry and the pass registry."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tlc
from tlc.backends.registry import BACKENDS, Emitted, backend
from tlc.passes.manager import pipeline
from tlc.passes.registry import ENTRIES, parse_pass

ROOT = Path(__file__).resolve().parents[1]


def test_layers_cycles_private_names_and_backends():
    spec = importlib.util.spec_from_file_location("check_layers", ROOT / "scripts" / "check_layers.py")
    check_layers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check_layers)
    assert check_layers.check() == []


def test_the_script_runs_alone_and_draws_the_graph():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_layers.py"), "--mermaid"],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("flowchart BT") and "tlc_api --> tlc_backends" in out


def test_a_backend_typo_lists_the_backends():
    with pytest.raises(tlc.TlcError, match=r"unknown backend 'lvm' \(did you mean 'llvm'\?\); available: numpy, "
                                           r"llvm, triton"):
        tlc.compile("Y[i] = X[i]", backend="lvm")


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_every_registered_backend_is_one_record(name):
    record = backend(name)
    assert record.name == name and record.summary and callable(record.emit) and callable(record.load)


def test_emit_is_pure_and_load_runs_what_was_emitted():
    program = tlc.compile("Y[i] = W[i, j] X[j]")
    planned = program.specialisation(W=np.ones((2, 3)), X=np.ones(3)).planned
    emitted = backend("numpy").emit(planned)
    assert isinstance(emitted, Emitted) and "def run(inputs):" in emitted.source
    assert emitted == backend("numpy").emit(planned)
    run = backend("numpy").load(planned, emitted)
    np.testing.assert_array_equal(run({"W": np.ones((2, 3)), "X": np.arange(3.0)})["Y"], [3.0, 3.0])


def test_the_plan_holds_every_contraction_and_the_emitter_uses_it():
    program = tlc.compile("Y[i] = A[i, j] B[j, k] C[k]")
    spec = program.specialisation(A=np.ones((4, 5)), B=np.ones((5, 6)), C=np.ones(6))
    (where, plan), = spec.planned.contractions.items()
    assert where == (0, ()) and plan.operands == (("i", "j"), ("j", "k"), ("k",)) and plan.kept == ("i",)
    assert f"optimize={[tuple(step) for step in plan.path]!r}" in spec.source


def test_passes_are_dataclasses_built_from_text():
    assert [p.name for p in pipeline(3)] == [e.name for e in ENTRIES if e.level is not None]
    factorise = parse_pass("factorise{rel_err=1e-2,method=tt,tensors=W+V}")
    assert (factorise.rel_err, factorise.method, factorise.tensors) == (0.01, "tt", "W+V")
    assert set(factorise.options.tensors) == {"W", "V"}
    with pytest.raises(tlc.TlcError, match="pass fuse has no option 'depth'; options: none"):
        parse_pass("fuse{depth=2}")
    with pytest.raises(tlc.TlcError, match=r"unknown pass 'fusion' \(did you mean 'fuse'\?\)"):
        parse_pass("fusion")
