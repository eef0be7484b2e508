"""Spans of AST nodes built as the parser reduces: each runs from its first to its last token as written, brackets
and a statement's '.' included, as Lark's propagate_positions computed them."""

import pytest

from tlc.errors import Span
from tlc.frontend import ast
from tlc.frontend.parser import parse


def test_a_parenthesised_operand_widens_its_parent_but_keeps_its_own_span():
    module = parse("Y[i] = (A[i] + B[i]) * C[i]\n")
    equation = module.statements[0]
    product = equation.rhs
    assert isinstance(product, ast.BinOp) and product.op == "*"
    assert product.span == Span(1, 8, 1, 28)
    assert product.left.span == Span(1, 9, 1, 20)
    assert equation.span == Span(1, 1, 1, 28)


def test_references_cover_their_brackets_and_arguments_their_marks():
    equation = parse("Y[i, j] = A[*t, j.]\n").statements[0]
    assert equation.lhs.span == Span(1, 1, 1, 8)
    assert equation.rhs.span == Span(1, 11, 1, 20)
    first, second = equation.rhs.args
    assert first.virtual and first.span == Span(1, 13, 1, 15)
    assert second.normalised and second.span == Span(1, 17, 1, 19)


def test_a_statement_period_is_in_the_module_but_not_the_equation():
    module = parse("\nX = 1.\n")
    assert module.statements[0].span == Span(2, 1, 2, 6)
    assert module.span == Span(1, 1, 3, 1)


def test_a_declaration_runs_to_the_end_of_its_factorise_options():
    decl = parse("tensor W[3, n,] factorise(rel_err=1e-3, method=tt)\n").statements[0]
    assert decl.span == Span(1, 1, 1, 51)


def test_negations_and_names_spanning_lines_inside_brackets():
    equation = parse("Y[i] = -~A[i,\n  j] ^ 2\n").statements[0]
    assert equation.rhs.span == Span(1, 8, 2, 9)
    assert equation.rhs.operand.span == Span(1, 9, 2, 9)
    power = equation.rhs.operand.args[0].expr
    assert power.op == "^" and power.span == Span(1, 10, 2, 9)
    assert power.left.args[1].span == Span(2, 3, 2, 4)


def test_an_empty_program_has_no_span():
    assert parse("").span is None
    assert parse("").statements == ()


def test_a_lark_without_the_parser_callbacks_is_refused_by_name():
    """A Lark release whose LALR parser keeps its reductions elsewhere gets a clear error, not an AttributeError."""
    import types
    from lark import Lark
    from tlc.frontend import reductions
    parser = Lark("start: \"a\"", parser="lalr", maybe_placeholders=False)
    parser.parser.parser.parser = types.SimpleNamespace()      # as a release without ``callbacks`` would be
    with pytest.raises(RuntimeError, match="lark 1.3"):
        reductions.install(parser, object())
