"""Diagnostics in the style of rustc/clang (issue 17): ``help:``/``note:`` lines, colour only on a terminal,
every failing statement of a file in one run, suggestions for misspelt functions, a fix for negation cycles."""

from __future__ import annotations

import io

import pytest

import tlc
from tlc.errors import Span, TlcError, TlcWarning, closest, render, use_colour


def compile_error(source: str) -> tlc.TlcError:
    with pytest.raises(tlc.TlcError) as info:
        tlc.compile(source)
    return info.value


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# ---------------------------------------------------------------------------------------------- rendering
def test_render_has_header_source_caret_range_help_and_notes():
    text = render("error", "bad thing", Span(2, 5, 2, 9), "f.tl", "A = 1\nY = sigmoid(X)\n",
                  help="did you mean 'sig'?", notes=("functions are ...",))
    assert text.splitlines() == [
        "f.tl:2:5: error: bad thing",
        "  Y = sigmoid(X)",
        "      ^^^^",
        "  help: did you mean 'sig'?",
        "  note: functions are ...",
    ]


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(Terminal()) and not use_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(Terminal())
    coloured = TlcError("oops", Span(1, 1), source="Y = 1\n", help="fix it").render(colour=True)
    assert "\x1b[1;31merror:\x1b[0m" in coloured and "\x1b[" not in str(TlcError("oops", Span(1, 1)))


def test_warning_renders_like_an_error_and_becomes_one():
    warning = TlcWarning("odd", Span(1, 1, 1, 2), filename="p.tl", source="Y = 1\n", help="h")
    assert str(warning).startswith("p.tl:1:1: warning: odd\n  Y = 1\n  ^\n  help: h")
    err = warning.as_error()
    assert isinstance(err, TlcError) and str(err).startswith("p.tl:1:1: error: odd")


# ---------------------------------------------------------------------------------------------- recovery
def test_every_failing_statement_is_reported_in_one_run():
    src = "Y[i] = A[i] * * B[i]\nZ[i] = A[i]\nW[i] = $\nQ = 1 +\nR[i] = A[i]\n"
    err = compile_error(src)
    assert [(e.line, e.column) for e in err.errors] == [(1, 15), (3, 8), (4, 8)]
    assert str(err).rstrip().endswith("3 errors")
    assert all(e.source == src for e in err.errors)


def test_independent_lowering_errors_are_all_reported():
    src = "Y[i] = sigmoid(A[i])\nZ[i] = A[i]\nW[i] = A[i] B[i, j]\nV[i] = B[i]\n"
    err = compile_error(src)
    assert [e.line for e in err.errors] == [1, 4]
    assert "unknown function 'sigmoid'" in err.message and "B has 1 index here but 2" in err.more[0].message


def test_recovery_stops_at_twenty_errors():
    src = "Y[i] = $\n" * 30
    assert len(compile_error(src).errors) == 20


def test_unclosed_bracket_on_the_last_line_is_reported_at_its_opener_with_earlier_errors():
    src = "Y[i] = A[i] +\nZ[i] = (A[i]\n"
    err = compile_error(src)
    assert [(e.line, e.column) for e in err.errors] == [(1, 14), (2, 8)]
    assert err.more[0].message == "unclosed '('"


def test_a_single_error_renders_without_a_count():
    err = compile_error("Y[i] = $\n")
    assert err.more == () and "errors" not in str(err)


# ---------------------------------------------------------------------------------------------- suggestions
@pytest.mark.parametrize("typed, meant", [("sigmoid", "sig"), ("sofmax", "softmax"), ("tahn", "tanh"),
                                          ("exp2", "exp")])
def test_unknown_function_suggests_the_closest(typed, meant):
    err = compile_error(f"Y[i] = {typed}(A[i])\n")
    assert err.message == f"unknown function '{typed}'"
    assert err.help == f"did you mean '{meant}'?" and err.notes == ()
    assert (err.span.column, err.span.caret_width()) == (8, len(typed))     # the name, not the whole call


def test_unknown_function_without_a_close_name_lists_the_functions():
    err = compile_error("Y[i] = frobnicate(A[i])\n")
    assert err.help is None and err.notes[0].startswith("functions are abs, ")


def test_closest_does_not_suggest_unrelated_names():
    assert closest("frobnicate", ["sig", "exp"]) is None
    assert closest("H", ["H"]) is None


def test_negation_cycle_error_names_the_cycle_and_a_fix():
    err = compile_error("A(x) = B(x) ~C(x)\nB(x) = E(x)\nC(x) = A(x)\n")
    assert "no stratification" in err.message and (err.line, err.column) == (1, 14)
    assert err.notes == ("the cycle: A -> C -> A (an arrow reads 'is used to compute')",)
    assert err.help.startswith("stratify: a negated relation must be complete before it is read")
    self_cycle = compile_error("Win(x) = Move(x, y) ~Win(y)\n")
    assert self_cycle.notes == ("Win is defined from its own negation",)


# ---------------------------------------------------------------------------------------------- unbounded
def test_recursion_without_first_element_grows_without_bound_instead_of_an_empty_result():
    program = tlc.compile("S[t+1] = S[t] + 1\n")
    with pytest.raises(tlc.TlcError) as info:
        program()
    assert "the extent of S grows without bound" in info.value.message and info.value.line == 1
    assert info.value.notes == ("nothing gives S a first element either, so as written it stays empty",)


def test_bounded_recurrences_still_run():
    import numpy as np
    result = tlc.compile("tensor S[4]\nS[0] = 1\nS[t+1] = S[t] + 1\n")()
    np.testing.assert_array_equal(result["S"], [1, 2, 3, 4])


def test_missing_input_at_run_time_suggests_the_defined_tensor():
    import warnings

    import numpy as np
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tlc.TlcWarning)
        program = tlc.compile("H[i] = W[i,j] X[j]\nY[i] = relu(Hh[i])\n")
    with pytest.raises(tlc.TlcError) as info:
        program(W=np.ones((2, 2)), X=np.ones(2))
    assert info.value.message == "no data for input Hh" and (info.value.line, info.value.column) == (2, 13)
    assert info.value.help == "did you mean 'H'? (H is defined by an equation)"


def test_unknown_output_suggests_a_defined_tensor():
    err = compile_error_with_outputs("H[i] = W[i,j] X[j]\n", ["Hh"])
    assert err.help == "did you mean 'H'?"


def compile_error_with_outputs(source: str, outputs) -> tlc.TlcError:
    with pytest.raises(tlc.TlcError) as info:
        tlc.compile(source, outputs=outputs)
    return info.value
