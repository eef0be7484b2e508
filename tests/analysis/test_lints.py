"""Unit tests of ``tlc.analysis.lints``: each warning of docs/diagnostics.md fires on its example, stays quiet on
the look-alike that is fine, and reaches Python users through the ``warnings`` module as a ``TlcWarning``."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import tlc
from tlc.analysis.lints import LINTS, lint
from tlc.driver.source import frontend

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def found(source: str) -> list[tuple[str, int, int, str, str | None]]:
    """(code, line, column, message, help) of each warning about ``source``."""
    return [(w.code, w.line, w.column, w.message, w.help) for w in lint(frontend(source))]


# ---------------------------------------------------------------------------------------------- close-name
def test_input_named_like_a_defined_tensor():
    assert found("H[i] = W[i,j] X[j]\nY[i] = relu(Hh[i])\n") == [
        ("close-name", 2, 13, "Hh is read but never defined, so it is an input; H is defined", "did you mean 'H'?")]


@pytest.mark.parametrize("typed, meant", [("Hiden", "Hidden"), ("Hidedn", "Hidden"), ("hidden", "Hidden"),
                                          ("Hiddem", "Hidden")])
def test_keyboard_slips_are_recognised(typed, meant):
    (warning,) = found(f"{meant}[i] = A[i]\nY[i] = {typed}[i]\n")
    assert warning[0] == "close-name" and warning[4] == f"did you mean '{meant}'?"


@pytest.mark.parametrize("source", [
    "EmbR[i] = Emb[i] + 1\n",                 # a name extended from an input's: not a slip
    "W2[i] = W1[i]\n",                        # digits number distinct tensors
    "T12[i] = A12[i]\n",                      # another first letter: another tensor
    "tensor Hh[3]\nH[i] = A[i]\nY[i] = Hh[i]\n",   # declared: the input is meant
])
def test_names_that_are_not_slips_do_not_warn(source):
    assert [w for w in found(source) if w[0] == "close-name"] == []


# ---------------------------------------------------------------------------------------------- undefined-relation
def test_query_on_a_relation_nothing_defines_suggests_the_defined_one():
    src = "Parent(Alice, Bob)\nAnc(x, y) = Parent(x, y)\nAnc(x, z) = Anc(x, y) Parent(y, z)\nAncestor(Alice, x)?\n"
    (warning,) = found(src)
    assert warning[:3] == ("undefined-relation", 4, 1) and warning[4] == "did you mean 'Anc'?"
    assert "no rule or fact defines relation Ancestor, but a query reads it" in warning[3]


def test_rule_reading_a_misspelt_relation():
    src = "Parent(Alice, Bob)\nChild(y, x) = Parnet(x, y)\n"
    assert found(src) == [("undefined-relation", 2, 15, "no rule or fact defines relation Parnet, but a rule reads "
                           "it: it answers only from data given at run time", "did you mean 'Parent'?")]


def test_input_relations_read_by_rules_or_declared_do_not_warn():
    assert found("Anc(x, y) = Parent(x, y)\nAnc(x, z) = Anc(x, y) Parent(y, z)\n") == []
    assert found("relation Edge(4, 4)\nEdge(x, y)?\n") == []


def test_querying_an_input_relation_a_rule_reads_does_not_warn():
    src = "Anc(x, y) = Parent(x, y)\nAnc(x, z) = Anc(x, y) Parent(y, z)\nParent(Bob, x)?\nAnc(Bob, x)?\n"
    assert found(src) == []


def test_a_relation_only_a_query_reads_warns_even_without_a_close_name():
    src = "Anc(x, y) = Parent(x, y)\nSibling(Bob, x)?\n"
    (warning,) = found(src)
    assert warning[:3] == ("undefined-relation", 2, 1) and "but a query reads it" in warning[3]


def test_a_queried_input_named_like_a_defined_relation_still_warns():
    src = "Anc(x, y) = Parent(x, y)\nAnx(x, y) = Anc(x, y) Edge(x, y)\nAnc(Bob, x)?\nEdge(Bob, x)?\n"
    assert found(src) == []     # Edge is read by a rule; Anx is defined
    src = "Anc(x, y) = Parent(x, y)\nB(x, y) = Acn(x, y)\nAcn(Bob, x)?\n"
    assert [(w[0], w[1], w[4]) for w in found(src)] == [("undefined-relation", 2, "did you mean 'Anc'?")]


# ---------------------------------------------------------------------------------------------- single-use-variable
def test_variable_used_once_in_a_rule():
    src = "Anc(x, y) = Parent(x, y)\nAnc(x, z) = Anc(x, y) Parent(w, z)\n"
    assert [(c, line, col) for c, line, col, _, _ in found(src)] == [
        ("single-use-variable", 2, 20), ("single-use-variable", 2, 30)]
    assert found(src)[0][3] == "variable y occurs only once in this rule of Anc, so it joins nothing"


def test_underscore_variables_and_numeric_equations_do_not_warn():
    assert found("Has(x) = Edge(x, _y)\n") == []
    assert found("Y[i] = X[i, j]\n") == []


# ---------------------------------------------------------------------------------------------- summed-away
def test_index_summed_over_a_sum_of_terms():
    (warning,) = found("Z[i] = V[i,j] + B[j]\n")
    assert warning[:4] == ("summed-away", 1, 8, "j is summed away over the terms of V[i, j] + B[j], not kept in Z")
    assert warning[4] == "to keep it, write Z[i, j] on the left-hand side"


def test_index_summed_over_one_term_of_a_sum():
    (warning,) = found("Z[i] = exp(-(X[i] - X[j])^2)\n")
    assert warning[0] == "summed-away" and "over X[j] alone" in warning[3] and warning[4].endswith("Z[i, j] on the "
                                                                                                  "left-hand side")


@pytest.mark.parametrize("source", ["Y[i] = relu(W[i,j] X[j] + B[i])\n", "Y[i] = X[i,j]\n", "Y = (X[i] X[i])^2\n",
                                    "Y[i] = sig(X[i,j])\n"])
def test_sums_inside_products_or_of_the_whole_side_do_not_warn(source):
    assert found(source) == []


# ---------------------------------------------------------------------------------------------- delivery
def test_compile_issues_warnings_through_the_warnings_module():
    with pytest.warns(tlc.TlcWarning) as caught:
        tlc.compile("H[i] = W[i,j] X[j]\nY[i] = relu(Hh[i])\n")
    (record,) = caught
    assert record.filename == __file__      # attributed to the caller of tlc.compile
    assert str(record.message).startswith("<input>:2:13: warning: Hh is read but never defined")
    assert record.message.source is not None


def test_warnings_can_be_errors_or_silenced_with_the_standard_filters():
    source = "H[i] = W[i,j] X[j]\nY[i] = relu(Hh[i])\n"
    with warnings.catch_warnings():
        warnings.simplefilter("error", tlc.TlcWarning)
        with pytest.raises(tlc.TlcWarning):
            tlc.compile(source)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", tlc.TlcWarning)
        tlc.compile(source)


def test_every_lint_has_a_docs_entry():
    docs = (EXAMPLES.parent / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    for code in LINTS:
        assert f"`{code}`" in docs


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.tl")), ids=lambda p: p.name)
def test_the_examples_are_clean(path):
    assert found(path.read_text(encoding="utf-8")) == []


def test_a_sum_of_contractions_over_one_index_does_not_warn():
    assert found("H[i] = tanh(W[i,j] X[j] + U[i,j] G[j])\n") == []
    assert [w[0] for w in found("H[i] = W[i,j] X[j] + B[j]\n")] == ["summed-away"]


def test_long_expressions_are_shortened_in_messages():
    (warning,) = found("Y[i] = " + " + ".join(["W[i,j]"] * 300) + " + B[i]\n")
    assert len(warning[3]) < 150 and "..." in warning[3]
