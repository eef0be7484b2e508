"""Every class of user error is a located ``tlc.TlcError``: right line, right column, ``file:line:col:``
header and a caret under the offending text (DESIGN §3: "errors may surface at compile time or at the
first call; either way they are TlcError with a 1-based .line")."""

from __future__ import annotations

import os

import numpy as np
import pytest

import tlc


# ---------------------------------------------------------------------------------------------- helpers
def compile_error(source: str) -> tlc.TlcError:
    """The TlcError that compiling ``source`` raises (fails the test if it compiles)."""
    with pytest.raises(tlc.TlcError) as info:
        tlc.compile(source)
    return info.value


def run_error(source: str, **inputs) -> tlc.TlcError:
    """The TlcError that running ``source`` on ``inputs`` raises; compiling it must succeed."""
    program = tlc.compile(source)
    with pytest.raises(tlc.TlcError) as info:
        program(**inputs)
    return info.value


def check(err: tlc.TlcError, source: str, line: int, column: int, fragment: str,
          filename: str = "<input>") -> None:
    """``err`` is located at ``line:column`` of ``source``, says ``fragment`` and renders a caret there."""
    assert fragment in err.message, err.message
    assert (err.line, err.column) == (line, column), str(err)
    text = str(err)
    rendered = text.splitlines()
    assert rendered[0].startswith(f"{filename}:{line}:{column}: error: "), text
    assert fragment in rendered[0], text
    assert len(rendered) >= 3 and all(r.startswith(("  help: ", "  note: ")) for r in rendered[3:]), text
    source_line = source.splitlines()[line - 1].expandtabs(1)
    excerpt, caret = rendered[1], rendered[2]
    assert excerpt.startswith("  ") and caret.startswith("  "), text
    excerpt, caret = excerpt[2:], caret[2:]
    position = caret.index("^")
    assert set(caret[position:]) == {"^"} and not caret[:position].strip(), text
    if excerpt == source_line:
        assert position == column - 1, text
    else:   # a long line is shown as a window around the error, with '...' where it is cut
        assert len(source_line) > 120, text
        core = excerpt[3:] if excerpt.startswith("...") else excerpt
        core = core[:-3] if core.endswith("...") else core
        assert core in source_line, text
        if column <= len(source_line):
            assert excerpt[position] == source_line[column - 1], text


# ---------------------------------------------------------------------------------------------- syntax
def test_syntax_unexpected_token():
    src = "# a comment\nY[i] = A[i]\nZ[i] = A[i] * * B[i]\n"
    check(compile_error(src), src, 3, 15, "unexpected '*'")


def test_syntax_unexpected_character():
    src = "Y[i] = A[i]\nZ[i] = A[i] $ B[i]\n"
    check(compile_error(src), src, 2, 13, "unexpected character '$'")


def test_syntax_unexpected_character_after_tab():
    src = "Y[i] = A[i]\n\tZ[i] = @\n"
    check(compile_error(src), src, 2, 9, "unexpected character '@'")


def test_syntax_unexpected_character_crlf():
    src = "Y[i] = A[i]\r\nZ[i] = $A[i]\r\n"
    check(compile_error(src), src, 2, 8, "unexpected character '$'")


def test_syntax_unexpected_end_of_input():
    src = "Y[i] = A[i]\nZ[i] = A[i] +"
    check(compile_error(src), src, 2, 14, "unexpected end of input")


def test_syntax_unexpected_end_of_line():
    src = "Y[i] = A[i]\nZ[i] = A[i] +\nW[i] = A[i]\n"
    check(compile_error(src), src, 2, 14, "unexpected end of line")


def test_syntax_unclosed_bracket():
    src = "Y[i] = A[i]\nZ[i] = A[i"
    err = compile_error(src)
    check(err, src, 2, 9, "unclosed '['")     # at the opener, not at the end of input
    assert err.help == "close it with ']'" and "end of the input" in err.notes[0]


def test_syntax_unclosed_parenthesis():
    src = "Y[i] = A[i]\nZ[i] = (A[i] + B[i]"
    check(compile_error(src), src, 2, 8, "unclosed '('")


def test_unclosed_bracket_reported_at_its_opener_not_where_the_next_line_fails():
    src = "Y[i] = f(A[i]\nZ[i] = B[i]\n"
    err = compile_error(src)
    check(err, src, 1, 9, "unclosed '('")
    assert err.help == "close it with ')'"
    assert err.notes == ("a newline inside brackets continues the statement, so it runs on to line 2, where it "
                         "fails: unexpected '='",)
    assert err.more == ()     # line 2 on its own is fine: no cascade


@pytest.mark.parametrize("tail", ["\n\n", "\n\n# trailing comment\n\n"], ids=["blank-lines", "comment"])
def test_syntax_unexpected_end_after_trailing_blank_lines(tail):
    src = "Y[i] = A[i]\nZ[i] = A[i] +" + tail
    err = compile_error(src)
    assert "unexpected end of line" in err.message
    assert err.line == 2, str(err)
    assert str(err).splitlines()[1].strip(), str(err)


def test_syntax_extra_closing_bracket():
    src = "Y[i] = A[i]\nZ[i] = A[i]]\n"
    check(compile_error(src), src, 2, 12, "unexpected ']'")


def test_syntax_mismatched_closing_bracket():
    src = "Y[i] = A[i]\nZ[i] = A[i)\n"
    check(compile_error(src), src, 2, 11, "unexpected ')'; expected ']'")


def test_syntax_extra_closing_parenthesis_on_continuation_line():
    src = "Y[i] = A[i]\nZ[i] = (A[i]\n  + B[i]))\n"
    check(compile_error(src), src, 3, 10, "unexpected ')'")


def test_brackets_nested_too_deeply_is_located():
    src = "Y = " + "(" * 300 + "1" + ")" * 300
    check(compile_error(src), src, 1, 205, "brackets nested deeper than")


# ---------------------------------------------------------------------------------------------- names
def test_unknown_function():
    src = "Y[i] = X[i]\nZ[i] = foo(X[i] + 1)\n"
    check(compile_error(src), src, 2, 8, "unknown function 'foo'")


def test_rank_mismatch_between_uses():
    src = "A[i] = B[i,j]\nC = B[i]\n"
    err = compile_error(src)
    check(err, src, 2, 5, "B has 1 index here but 2 where first used")
    assert "(line 1)" in err.message


def test_rank_mismatch_on_left_hand_side():
    src = "Y[i] = A[i]\nY[i,j] = B[i,j]\n"
    check(compile_error(src), src, 2, 1, "Y has 2 indices here but 1 where first used")


def test_relation_and_tensor_with_one_name():
    src = "R(x) = T[x]\nS[x] = R[x]\n"
    check(compile_error(src), src, 2, 8, "R was used as a relation R(...) before")


def test_tensor_then_relation_with_one_name():
    src = "S[x] = T[x]\nR(x) = T(x)\n"
    check(compile_error(src), src, 2, 8, "T was used as a numeric tensor T[...] before")


def test_function_name_as_relation_head():
    src = "Y[i] = A[i]\nrelu(x) = R(x)\n"
    check(compile_error(src), src, 2, 1, "'relu' is a built-in function")


# ---------------------------------------------------------------------------------------------- data
def test_inconsistent_extents_between_inputs():
    src = "Y[i] = A[i] B[i]\n"
    err = run_error(src, A=np.ones(3), B=np.ones(4))
    check(err, src, 1, 15, "inconsistent extents for one index")
    assert "A has 3" in err.message and "B has 4" in err.message


def test_data_rank_mismatch():
    src = "# one-dimensional\nY[i] = A[i]\n"
    err = run_error(src, A=np.ones((2, 3)))
    check(err, src, 2, 8, "data for A has 2 dimensions (shape (2, 3)) but the program uses it with 1")


def test_data_shape_differs_from_declaration():
    src = "tensor A[3]\nY[i] = A[i]\n"
    check(run_error(src, A=np.ones(4)), src, 1, 1, "data for A has shape (4,) but it is declared (3,)")


def test_missing_input():
    src = "Y[i] = A[i]\nZ[i] = Y[i] B[i]\n"
    check(run_error(src, A=np.ones(3)), src, 2, 13, "no data for input B")


def test_missing_relation_input():
    src = "Ancestor(x, y) = Parent(x, y)\n"
    check(run_error(src), src, 1, 18, "no data for relation Parent")


def test_missing_scalar_input():
    src = "Y[i] = A[i] + S\n"
    check(run_error(src, A=np.ones(3)), src, 1, 15, "no data for input S")


def test_scalar_input_with_array_data():
    src = "Y[i] = A[i] + S\n"
    check(run_error(src, A=np.ones(3), S=np.ones(2)), src, 1, 15, "S is used as a scalar but its data has shape (2,)")


def test_non_numeric_data():
    src = "Y[i] = A[i]\n"
    check(run_error(src, A=np.array(["a", "b"])), src, 1, 8, "data for A must be numeric")


def test_relation_tuple_of_wrong_arity():
    src = "Y(x) = R(x)\n"
    check(run_error(src, R=[("a", "b")]), src, 1, 8, "relation R has 1 argument but the tuple")


def test_unknown_input_name():
    err = run_error("Y[i] = A[i]\n", A=np.ones(3), Q=np.ones(3))
    assert "unknown input 'Q'" in err.message
    assert "this program reads A" in err.message
    assert "error: unknown input 'Q'" in str(err)


def test_unknown_input_name_is_not_pinned_on_an_unrelated_line_and_suggests_a_name():
    err = run_error("Y[i] = A[i] + Bias[i]\n", A=np.ones(3), Bias=np.ones(3), Bais=np.ones(3))
    assert err.line is None     # the name is the caller's, not the source's: no statement is underlined
    assert err.help == "did you mean 'Bias'?"
    assert str(err).startswith("<input>: error: unknown input 'Bais'")


# ---------------------------------------------------------------------------------------------- typing
def test_relation_with_max_aggregator():
    src = "S(x) = T(x)\nR(x) max= S(x)\n"
    check(compile_error(src), src, 2, 1, "a relation is defined with '='")


def test_relation_with_avg_aggregator():
    src = "R(x) avg= S(x)\n"
    check(compile_error(src), src, 1, 1, "'avg=' needs a numeric tensor")


def test_softmax_without_dotted_axis():
    src = "# attention\nY[i, j] = softmax(X[i, j])\n"
    check(compile_error(src), src, 2, 11, "softmax normalises over an index of the left-hand side; mark it")


def test_dotted_axis_without_normaliser():
    src = "Y[i, j.] = X[i, j]\n"
    check(compile_error(src), src, 1, 6, "marked as the normalised axis but there is no softmax or lnorm")


def test_two_dotted_axes_normalise_jointly():
    x = np.arange(6.0).reshape(2, 3)
    y = tlc.compile("Y[i., j.] = softmax(X[i, j])\n")(X=x)["Y"]
    assert np.allclose(y, np.exp(x) / np.exp(x).sum())


def test_dotted_axis_on_right_hand_side():
    src = "Y[i.] = softmax(X[i.])\n"
    check(compile_error(src), src, 1, 19, "the normalised-axis mark '.' belongs on the left-hand side")


def test_sig_with_three_arguments():
    src = "Y[i] = sig(X[i], 1, 2)\n"
    check(compile_error(src), src, 1, 8, "sig takes 1 or 2 arguments, got 3")


def test_string_constant_as_value():
    src = "Y[i] = X[i] + 'Bob'\n"
    check(compile_error(src), src, 1, 15, "the named constant 'Bob' can only appear as an index")


# ---------------------------------------------------------------------------------------------- recursion
def test_recursion_through_negation():
    src = "P(x) = B(x)\nP(x) = Q(x)\nQ(x) = 1 - P(x)\n"
    check(compile_error(src), src, 3, 12, "depends on P through negation")


def test_recursion_through_not():
    src = "Node(0)\nWin(x) = Move(x, y) ~Win(y)\n"
    check(compile_error(src), src, 2, 22, "negation")


def test_unsafe_negation():
    src = "P(0)\nS(x, y) = P(x) ~K(x, y)\n"
    check(compile_error(src), src, 2, 22, "unsafe negation: y occurs only inside a negated atom")


def test_unbounded_recursion_errors_rather_than_hangs():
    src = "X[t+1] = X[t]\n"
    err = run_error(src, X=np.ones(1))
    check(err, src, 1, 1, "the extent of X grows without bound")


def test_numeric_fixpoint_that_never_converges():
    src = "# diverges\nX[i] = X[i] + A[i]\n"
    check(run_error(src, X=np.zeros(3), A=np.ones(3)), src, 2, 1,
          "X did not converge after 10000 rounds (last change 1)")


def test_numeric_fixpoint_error_points_at_the_recursive_equation():
    src = "Y[i] = A[i]\nY[i] = Y[i] + 1\n"
    err = run_error(src, A=np.ones(3))
    assert "did not converge after 10000 rounds (last change 2)" in err.message
    assert err.line == 2, str(err)


# ---------------------------------------------------------------------------------------------- indices
def test_fact_with_a_variable():
    src = "Parent(Alice, Bob)\nParent(Bob, x)\n"
    check(compile_error(src), src, 2, 1, "a fact's arguments must be constants")


def test_non_integer_index():
    src = "Y[i] = A[i]\nZ = A[1.5]\n"
    check(compile_error(src), src, 2, 7, "an index must be an integer, not 1.5")


def test_index_divided_by_non_integer():
    src = "Y[i] = A[i/2.5]\n"
    check(compile_error(src), src, 1, 12, "an index must be an integer, not 2.5")


def test_index_divided_by_variable():
    src = "Y[i] = A[i/j]\n"
    check(compile_error(src), src, 1, 10, "an index can only be divided by a positive integer")


def test_index_divided_by_zero():
    src = "Y[i] = A[i/0]\n"
    check(compile_error(src), src, 1, 10, "an index can only be divided by a positive integer")


def test_index_product_unsupported():
    src = "Y[i] = A[i*j]\n"
    check(compile_error(src), src, 1, 10, "unsupported index expression")


def test_cannot_infer_range():
    src = "# no data, no declaration\nW[i,j] = 0.5\n"
    check(run_error(src), src, 2, 3, "cannot infer the range of index i")


def test_mixed_aggregators_for_one_tensor():
    src = "Y[i] = A[i]\nY[i] max= B[i]\n"
    err = compile_error(src)
    check(err, src, 2, 1, "Y is defined with 'max=' here but with '=' on line 1")


def test_unknown_extent_in_declaration():
    src = "tensor W[N, 3]\n"
    check(compile_error(src), src, 1, 1, "unknown extent 'N'")


def test_const_used_as_tensor():
    src = "const N = 3\nY[i] = N[i]\n"
    check(compile_error(src), src, 2, 8, "'N' is a const and cannot be used as a tensor")


# ---------------------------------------------------------------------------------------------- file names
@pytest.fixture
def write(tmp_path):
    """Write a ``.tl`` file and return its path as a string."""
    def _write(text: str, name: str = "prog.tl") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)
    return _write


def test_file_name_in_syntax_error(write):
    src = "Y[i] = A[i]\nY[i] = @\n"
    path = write(src)
    err = compile_error(path)
    assert err.filename == path
    check(err, src, 2, 8, "unexpected character '@'", filename=path)


def test_file_name_in_lowering_error(write):
    src = "A[i] = B[i,j]\nC = B[i]\n"
    path = write(src)
    check(compile_error(path), src, 2, 5, "B has 1 index here", filename=path)


def test_file_name_in_stratification_error(write):
    src = "P(x) = B(x)\nP(x) = Q(x)\nQ(x) = 1 - P(x)\n"
    path = write(src)
    check(compile_error(path), src, 3, 12, "through negation", filename=path)


def test_file_name_in_aggregator_error(write):
    src = "Y[i] = A[i]\nY[i] max= B[i]\n"
    path = write(src)
    check(compile_error(path), src, 2, 1, "Y is defined with 'max='", filename=path)


def test_file_name_in_data_error(write):
    src = "Y[i] = A[i] B[i]\n"
    path = write(src)
    program = tlc.compile(path)
    with pytest.raises(tlc.TlcError) as info:
        program(A=np.ones(3), B=np.ones(4))
    check(info.value, src, 1, 15, "inconsistent extents", filename=path)


def test_file_name_in_shape_inference_error(write):
    src = "X[t+1] = X[t]\n"
    path = write(src)
    program = tlc.compile(os.fspath(path))
    with pytest.raises(tlc.TlcError) as info:
        program(X=np.ones(1))
    check(info.value, src, 1, 1, "grows without bound", filename=path)


def test_file_name_for_pathlike(tmp_path):
    src = "Y[i] = A[i]\nY[i] = @\n"
    path = tmp_path / "prog.tl"
    path.write_text(src, encoding="utf-8")
    err = compile_error(path)
    check(err, src, 2, 8, "unexpected character", filename=str(path))


def test_file_name_in_unknown_input_error(write):
    path = write("Y[i] = A[i]\n")
    program = tlc.compile(path)
    with pytest.raises(tlc.TlcError) as info:
        program(A=np.ones(3), Q=np.ones(3))
    assert info.value.filename == path
    assert str(info.value).startswith(f"{path}:")


def test_missing_file_is_a_tlc_error(tmp_path):
    path = str(tmp_path / "missing.tl")
    err = compile_error(path)
    assert err.filename == path
    assert "cannot read" in err.message
    assert str(err).startswith(f"{path}: error: cannot read")


def test_undecodable_file_is_a_tlc_error(tmp_path):
    path = tmp_path / "bad.tl"
    path.write_bytes(b"Y = \xff\xfe\n")
    err = compile_error(str(path))
    assert "cannot read" in err.message


def test_path_with_nul_byte_is_a_tlc_error():
    compile_error("prog\x00.tl")
