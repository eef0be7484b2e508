"""``tlc compile --print-after PASS`` for the programs of ``golden_programs``, pinned as text in
``golden/NAME.txt``: the IR after every pass of ``-O3``, each headed ``# IR after PASS``.

The command runs in a temporary directory on ``prog.tl`` and ``data.npz`` there, so no path reaches the output.
After an intended change to a pass or to the IR printer, regenerate the files and review the diff:
``TLC_REGENERATE_GOLDEN=1 python -m pytest tests/passes/test_print_after_golden.py``
"""

import numpy as np
import pytest

from golden_programs import PROGRAMS, inputs
from tlc.cli import main
from tlc.passes.registry import PIPELINE


def tlc_command(capsys, name: str, *flags: str) -> str:
    source, shapes, outputs = PROGRAMS[name]
    with open("prog.tl", "w", encoding="utf-8") as handle:
        handle.write(source)
    args = list(flags) + ["prog.tl", "-O3"]
    if shapes:
        np.savez("data.npz", **inputs(name))
        args += ["--data", "data.npz"]
    for output in outputs or ():
        args += ["--output", output]
    assert main(args) == 0
    return capsys.readouterr().out


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def print_after_every_pass() -> list[str]:
    return [arg for name in PIPELINE for arg in ("--print-after", name)]


@pytest.mark.parametrize("name", PROGRAMS)
def test_print_after_is_pinned(name, golden, capsys):
    text = tlc_command(capsys, name, "compile", "-o", "emitted.py", *print_after_every_pass())
    assert text.count("# IR after ") == len(PIPELINE)
    golden(f"{name}.txt", text)


@pytest.mark.parametrize("name", ["dense", "attention"])
def test_print_after_one_pass_prints_that_pass_only(name, capsys):
    whole = tlc_command(capsys, name, "compile", "-o", "emitted.py", *print_after_every_pass())
    for position, pass_name in enumerate(PIPELINE):
        text = tlc_command(capsys, name, "compile", "-o", "emitted.py", "--print-after", pass_name)
        assert text.startswith(f"# IR after {pass_name}\n") and text.count("# IR after ") == 1
        assert text in whole
    assert tlc_command(capsys, name, "compile", "-o", "emitted.py", "--print-ir") == whole


def test_run_prints_the_same_ir_before_the_results(capsys):
    whole = tlc_command(capsys, "dense", "compile", "-o", "emitted.py", *print_after_every_pass())
    text = tlc_command(capsys, "dense", "run", *print_after_every_pass())
    assert text.startswith(whole) and "Y (2, 2) =" in text[len(whole):]
