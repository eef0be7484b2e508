"""Whole-program checks (aggregators, safety, stratification, data and shapes) report every independent error of a
file in one run, in source order, with the count line; an error that follows from another is not reported."""

from __future__ import annotations

import numpy as np
import pytest

import tlc
from tlc.cli import main

SHAPES = "C[i] = X[i] Y[i]\nP(x) = Q(x) ~R(x)\nR(x) = P(x)\nD[j] = U[j] V[j]\nE[k] = C[k] + 1\n"
DATA = dict(X=np.random.rand(3) + 0.5, Y=np.random.rand(4) + 0.5, U=np.random.rand(2) + 0.5,
            V=np.random.rand(5) + 0.5, Q=np.array([True, False, True]))


def places(err: tlc.TlcError) -> list[tuple[int, int]]:
    return [(e.line, e.column) for e in err.errors]


def write(tmp_path, text: str, data: dict | None = None):
    (tmp_path / "p.tl").write_text(text)
    if data is not None:
        np.savez(tmp_path / "d.npz", **data)
    return str(tmp_path / "p.tl")


def test_negation_cycle_and_two_shape_mismatches_in_one_check(tmp_path, capsys):
    path = write(tmp_path, SHAPES, DATA)
    assert main(["check", path, "--data", str(tmp_path / "d.npz")]) == 1
    err = capsys.readouterr().err
    headers = [line for line in err.splitlines() if ": error: " in line]
    assert [h.split(": error: ")[0] for h in headers] == [f"{path}:1:15", f"{path}:2:14", f"{path}:4:15"]
    assert "axis 0 of X has 3 but axis 0 of Y has 4" in headers[0] and "through negation" in headers[1]
    assert "axis 0 of U has 2 but axis 0 of V has 5" in headers[2]
    assert err.rstrip().endswith("3 errors") and err.count("^") >= 3


@pytest.mark.parametrize("command", ["run", "compile"])
def test_run_and_compile_report_every_shape_error(tmp_path, capsys, command):
    path = write(tmp_path, SHAPES.replace("~R(x)", "R(x)"), DATA)
    assert main([command, path, "--data", str(tmp_path / "d.npz")]) == 1
    err = capsys.readouterr().err
    assert err.count(": error: inconsistent extents") == 2 and err.rstrip().endswith("2 errors")


def test_negation_cycle_alone_without_data(tmp_path, capsys):
    path = write(tmp_path, SHAPES)
    assert main(["check", path]) == 1
    err = capsys.readouterr().err
    assert err.count(": error: ") == 1 and "through negation" in err and "errors" not in err.splitlines()[-1]


def test_api_raises_every_shape_mismatch_in_source_order():
    program = tlc.compile(SHAPES.replace("~R(x)", "R(x)"))
    with pytest.raises(tlc.TlcError) as info:
        program(**DATA)
    assert places(info.value) == [(1, 15), (4, 15)]
    assert str(info.value).rstrip().endswith("2 errors")


def test_every_negation_cycle_is_reported():
    with pytest.raises(tlc.TlcError) as info:
        tlc.compile("A(x) = N(x) ~B(x)\nB(x) = A(x)\nC(x) = N(x) ~D(x)\nD(x) = C(x)\n")
    assert places(info.value) == [(1, 14), (3, 14)]


def test_every_unsafe_rule_and_aggregator_clash_is_reported():
    with pytest.raises(tlc.TlcError) as info:
        tlc.compile("S(x, y) = P(x) ~K(x, y)\nT[i] max= W[i]\nT[i] += W[i]\nU(x, z) = P(x) ~K(x, z)\n")
    assert places(info.value) == [(1, 22), (3, 1), (4, 22)]


def test_unbounded_ranges_in_unrelated_equations_are_all_reported_without_cascades():
    src = "A[i] = 1\nB[j] = A[j] + 2\nC[k] = 3\nS[t+1] = S[t] + 1\n"
    with pytest.raises(tlc.TlcError) as info:
        tlc.compile(src)()
    assert places(info.value) == [(1, 3), (3, 3), (4, 1)]     # B reads A, whose extent is unknown: not reported


def test_indices_joined_across_equations_disagree_once():
    program = tlc.compile("C[i] = X[i] Y[i]\nE[k, m] = C[k] Z[k, m]\n")
    with pytest.raises(tlc.TlcError) as info:
        program(X=np.ones(3), Y=np.ones(4), Z=np.ones((5, 2)))
    assert len(info.value.errors) == 1 and "X has 3 but axis 0 of Z has 5" in info.value.message


def test_every_bad_input_is_reported():
    program = tlc.compile("C[i] = X[i] + 1\nD[i, j] = Y[i, j] + 1\n")
    with pytest.raises(tlc.TlcError) as info:
        program(X=np.ones((2, 2)), Y=np.ones(3))
    assert [e.message.split(" has ")[0] for e in info.value.errors] == ["data for X", "data for Y"]


def test_a_negation_cycle_with_a_shape_error_elsewhere_in_check(tmp_path, capsys):
    src = "P(x) = Q(x) ~R(x)\nR(x) = P(x)\nA[i] = 1\n"
    path = write(tmp_path, src, {"Q": np.array([True, True])})
    assert main(["check", path, "--data", str(tmp_path / "d.npz")]) == 1
    err = capsys.readouterr().err
    assert f"{path}:1:14: error:" in err and f"{path}:3:3: error: cannot infer the range of index i" in err
    assert err.rstrip().endswith("2 errors")


def test_the_negated_relation_s_readers_are_not_shape_checked_after_the_cycle(tmp_path, capsys):
    src = "P(x) = Q(x) ~R(x)\nR(x) = P(x)\nS[i] = P(i) + 1\n"
    path = write(tmp_path, src, {"Q": np.array([True, True])})
    assert main(["check", path, "--data", str(tmp_path / "d.npz")]) == 1
    assert capsys.readouterr().err.count(": error: ") == 1


def test_every_input_without_data_is_reported():
    program = tlc.compile("C[i] = X[i] + 1\nD[i] = Y[i] + s\n")
    with pytest.raises(tlc.TlcError) as info:
        program()
    assert [e.message for e in info.value.errors] == ["no data for input X", "no data for input Y",
                                                       "no data for input s"]
