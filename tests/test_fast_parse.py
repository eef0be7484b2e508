"""The fast LALR parse (``tlc.frontend.lalr``) of both front ends: it builds exactly the AST, spans included, that
Lark's own parse builds with the same reductions, without running Lark's parse on valid text; a syntax error is
left to Lark, so it is reported as before."""

from __future__ import annotations

import dataclasses

import pytest

from tlc.datalog import syntax as dl
from tlc.errors import Span, TlcError
from tlc.frontend import lalr
from tlc.frontend import parser as tl

TL_PROGRAMS = [
    "",
    "Y[i] = (A[i] + B[i]) * C[i]\n",
    "Y[i, j] = A[*t, j.]\nX = 1.\n# a comment\nZ[i] max= -~A[i,\n  j] ^ 2 ; W = 'a' \"b\"\n",
    "const n = -3\ntensor W[3, n,] factorise(rel_err=1e-3, method=tt)\nrelation Edge(n, n)\ndomain D: a, b,\n",
    "Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\nPath(a, x)?\n",
    "S = sigmoid(W[i] X[i] / 2 - (1 - ((b)))) \\\n  + c\nT[i] avg= A[i, j] B[j] + 2.5e-3\n",
]

DL_PROGRAMS = [
    "",
    "edge(a, b). edge(b, c).\npath(X, Y) :- edge(X, Y).\npath(X, Z) :- path(X, Y), edge(Y, Z).\n?- path(a, X).\n",
    ".decl r(x: number, y: symbol) output brie\n.decl e()\n.type T <: symbol\n.type U = A | B\n"
    ".input r(IO=file, filename=\"r.csv\", delimiter='\\t')\n.input e\n.output r()\n.printsize r, e\n",
    "% comment\nq(X) :- p(X, Y), !s(Y), not t(X), \\+ u(X), (X < Y), Y != 3. /* block\n comment */\n"
    "v(X + 2 * (Y - 1), -Z / 4) :- w(X, Y, Z).\nflag :- on.\nf(\"a\\\"b\", 'O''Brien', 1.5).\n",
]


def _spanned(value):
    """``value`` with every dataclass field, spans included (AST equality leaves spans out)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__,) + tuple(_spanned(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, (tuple, list)):
        return tuple(_spanned(v) for v in value)
    return value


@pytest.mark.parametrize("text", TL_PROGRAMS)
def test_tensor_logic_fast_parse_is_lark_s_parse(text):
    fast = tl._driver().parse(text).value
    assert _spanned(fast) == _spanned(tl._parser().parse(text).value)


@pytest.mark.parametrize("text", DL_PROGRAMS)
def test_datalog_fast_parse_is_lark_s_parse(text):
    fast = dl._driver().parse(text).value
    assert _spanned(fast) == _spanned(dl._parser().parse(text).value)


def test_datalog_placeholders_and_spans():
    """Absent ``[...]`` parts are None to the builder, as in Lark's tree; a parenthesised term keeps its own span
    and widens its parent's."""
    decl, empty, *_, io_bare, output = dl.parse(DL_PROGRAMS[2])[:7]
    assert decl.attributes[1].type == "symbol" and decl.qualifiers == ("output", "brie")
    assert empty.names == ("e",) and empty.attributes == ()
    assert io_bare.kind == "input" and io_bare.parameters == ()
    assert output.kind == "output" and output.parameters == ()
    rule = dl.parse("v(X * (Y - 1)) :- w(X, Y).\n")[0]
    product = rule.head.args[0]
    assert product.span == Span(1, 3, 1, 14) and product.right.span == Span(1, 8, 1, 13)
    assert rule.head.name_span == Span(1, 1, 1, 2) and rule.span == Span(1, 1, 1, 27)


@pytest.mark.parametrize("module, text", [(tl, TL_PROGRAMS[2]), (dl, DL_PROGRAMS[3])])
def test_valid_text_does_not_run_lark_s_parse(module, text, monkeypatch):
    expected = _spanned(module._parser().parse(text).value)

    def refused(*args, **kwargs):
        raise AssertionError("Lark's parse ran on valid text")
    monkeypatch.setattr(module._parser(), "parse", refused)
    assert _spanned(module.parse(text)) == expected


@pytest.mark.parametrize("module, text, message", [
    (tl, "Y[i] = (A[i] +\n", "unclosed '\\('"),
    (tl, "Y[i] = A[i] $\n", "unexpected character"),
    (dl, "p(X) :- q(X)\nr(a).\n", "unexpected"),
])
def test_a_syntax_error_is_left_to_lark(module, text, message):
    with pytest.raises(lalr.Rejected):
        module._driver().parse(text)
    with pytest.raises(TlcError, match=message):
        module.parse(text)


def test_the_post_lexer_still_bounds_nesting():
    with pytest.raises(TlcError, match="nested deeper than 200"):
        tl.parse("Y = " + "(" * 201 + "1" + ")" * 201 + "\n")
