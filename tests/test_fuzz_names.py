"""tlc.fuzz.names: hostile names for generated programs, and the oracle's check against the plain-named program."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings

import tlc.fuzz
from tlc.fuzz import FuzzProgram, check, load_case, write_case
from tlc.fuzz.campaign import add_arguments, run
from tlc.fuzz.names import CLASSES, NEAR, HostileProgram, class_names, rename, roles, valid
from tlc.fuzz.oracle import judge_renamed
from tlc.fuzz.oracle import Outcome, run_config
from tlc.ir.printer import format_program

QUICK = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                 suppress_health_check=list(HealthCheck))


@QUICK
@given(tlc.fuzz.programs(hostile_names=True))
def test_hostile_names_are_valid_injective_and_rename_back(program):
    assert isinstance(program, HostileProgram) and program.error is None, program.error
    names = dict(program.renaming)
    assert len(set(names.values())) == len(names)                      # injective
    plain_roles = roles(program.plain)
    assert set(names) == set(plain_roles)
    for plain, name in names.items():
        assert valid(name, plain_roles[plain]), (plain, name)
    back = {h: p for p, h in names.items()}
    assert format_program(rename(program, back)) == format_program(program.plain.statements)
    assert program.supplied == tuple(names[n] for n in program.plain.supplied)


@pytest.mark.slow
def test_every_class_is_drawn():
    seen: set[str] = set()

    @settings(max_examples=80, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(tlc.fuzz.programs(hostile_names=True))
    def collect(program):
        seen.update(c for _, c in program.classes)

    collect()
    assert set(CLASSES) | {NEAR} <= seen


def test_classes_can_be_selected():
    assert class_names("prime,helper") == ("prime", "helper")
    assert class_names(True) == class_names("all")
    with pytest.raises(ValueError, match="unknown hostile name class 'nope'"):
        class_names("nope")

    @settings(max_examples=20, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(tlc.fuzz.programs(hostile_names="prime"))
    def only_primes(program):
        assert {c for _, c in program.classes} <= {"prime", "plain"}

    only_primes()


def hostile_by_hand(plain_source: str, names: dict[str, str]) -> HostileProgram:
    plain = FuzzProgram.from_source(plain_source)
    renamed = FuzzProgram.from_statements(rename(plain, names))
    return HostileProgram(renamed.source, renamed.statements, renamed.error, plain=plain,
                          renaming=tuple(names.items()), classes=tuple((n, "test") for n in names.values()))


def test_judge_renamed_catches_swapped_values():
    program = hostile_by_hand("A[i] = X[i]\nB[i] = 2 X[i]\n", {"A": "Alpha", "B": "Beta", "X": "Xs", "i": "k"})
    inputs = {"Xs": np.array([1.0, 2.0])}
    good = run_config(program, inputs, "numpy", 0)
    assert judge_renamed(program, inputs, good) == []
    swapped = Outcome({"Alpha": good.values["Beta"], "Beta": good.values["Alpha"]}, good.answers)
    failures = judge_renamed(program, inputs, swapped)
    assert {f.tensor for f in failures} == {"Alpha", "Beta"} and failures[0].kind == "renamed"
    assert "A there" in failures[0].message
    missing = Outcome({"Alpha": good.values["Alpha"]}, good.answers)
    assert any("results" in f.message for f in judge_renamed(program, inputs, missing))
    assert check(program, inputs, backends=("numpy",), opt_levels=(0, 1)).ok


def test_a_hostile_case_round_trips_through_its_files(tmp_path):
    program = hostile_by_hand("A[i] = X[i] S\n", {"A": "file", "X": "allow_pickle", "S": "self", "i": "range"})
    inputs = {"allow_pickle": np.array([1.0, 2.0]), "self": 0.5}
    files = write_case(tmp_path, "case", program, inputs)
    assert any(f.name == "case.names.json" for f in files)
    again, data = load_case(tmp_path / "case.tl")
    assert isinstance(again, HostileProgram) and again.plain.source == program.plain.source
    assert dict(again.renaming) == dict(program.renaming)
    assert set(data) == {"allow_pickle", "self"} and data["self"] == 0.5


def test_cli_option(tmp_path):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args(["--hostile-names"]).hostile_names == "all"
    assert parser.parse_args(["--hostile-names", "prime"]).hostile_names == "prime"
    args = parser.parse_args(["--hostile-names", "nope", "--count", "1", "--out", str(tmp_path)])
    assert run(args) == 2


# ------------------------------------------------------------------------------------------ each class
# Each class on its own, so that a regression shows which class it breaks (tlc.backends.shared.quoting is the cure).
@pytest.mark.slow
@pytest.mark.parametrize("which", sorted(CLASSES) + [NEAR])
def test_hostile_names_of_one_class(which):
    @settings(max_examples=8, deadline=None, derandomize=True, database=None, phases=(Phase.generate,),
              suppress_health_check=list(HealthCheck))     # no shrinking: it is slow on these programs
    @given(tlc.fuzz.cases(hostile_names=which, max_equations=4))
    def agree(case):
        program, inputs = case
        check(program, inputs, pass_orders=0, timeout=60).raise_if_failed()

    agree()


RECURSIVE_MAX = "A[i, j] max= sig(X[i, j])\nA[i, k] max= A[i, j] sig(X[j, k])\n"
M = np.array([[1.0, -2.0], [0.5, 1.5]])


@pytest.mark.parametrize("source, names, inputs", [
    # X' and X_p become one Python name: Y gets 2 X_p instead of X' + X_p
    ("Y[i] = X[i] + Z[i]\n", {"X": "X'", "Z": "X_p"}, {"X'": np.array([1.0, 2.0]), "X_p": np.array([10.0, 20.0])}),
    ("A[i] = X[i]\nB[i] = 2 X[i]\n", {"A": "A'", "B": "A_p"}, {"X": np.array([1.0, 2.0])}),   # A' gets A_p's value
    ("A[i, j] = concat(X[k, i, l])\n", {"A": "X'", "X": "X_p"}, {"X_p": np.ones((2, 2, 2))}),  # ValueError: axes
    (RECURSIVE_MAX, {"A": "X'"}, {"X": M}),           # TlcError "the program is nested too deeply to compile"
    (RECURSIVE_MAX, {"A": "range"}, {"X": M}),        # the fixpoint loop's range() is the tensor: not callable
    ("A[i] = X[i]\n", {"X": "self"}, {"self": np.array([1.0, 2.0])}),   # Program.__call__(self, **inputs)
])
def test_hostile_name_reproducers(source, names, inputs):
    """Minimal reproducers of the classes tlc fuzz --hostile-names found before names were mangled injectively."""
    program = hostile_by_hand(source, names)
    check(program, inputs, backends=("numpy", "llvm"), opt_levels=(0, 3), pass_orders=0, timeout=60).raise_if_failed()
