"""Datalog files are linted like Tensor Logic (issue 17): single-use variables in Datalog names at the Datalog
text, and ``undefined-relation`` aware of Soufflé's ``.decl``/``.input`` (an undeclared relation stays an error,
as in Soufflé)."""

from __future__ import annotations

import warnings

import pytest

import tlc
import tlc.datalog as dl
from tlc.cli import main

CLASSIC = """\
parent(alice, bob).
parent(bob, carol).
anc(X, Y) :- parent(X, Y).
anc(X, Z) :- anc(X, Y), parent(W, Z).
child(Y, X) :- parnet(X, Y).
?- parent(bob, X).
"""

SOUFFLE = """\
.decl edge(x: symbol, y: symbol)
.decl node(x: symbol)
.decl path(x: symbol, y: symbol)
.input edge
.output path
path(X, Y) :- edge(X, Y).
path(X, Z) :- path(X, Y), edge(Y, Z).
path(X, X) :- node(X).
"""


def warned(text: str) -> list[tlc.TlcWarning]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dl.compile(text)
    return [w.message for w in caught if isinstance(w.message, tlc.TlcWarning)]


def test_single_use_variables_are_reported_in_datalog_names_and_places():
    found = [(w.code, w.line, w.column, w.message, w.help) for w in warned(CLASSIC) if w.code == "single-use-variable"]
    assert found == [
        ("single-use-variable", 4, 21, "variable Y occurs only once in this rule of anc, so it joins nothing",
         "name it _Y if any value will do; otherwise it should match a variable of another atom"),
        ("single-use-variable", 4, 32, "variable W occurs only once in this rule of anc, so it joins nothing",
         "name it _W if any value will do; otherwise it should match a variable of another atom")]


def test_underscore_variables_and_wildcards_do_not_warn():
    assert warned("anc(X, Z) :- anc(X, _Y), parent(_, Z).\nanc(X, Y) :- parent(X, Y).\n") == []


def test_a_misspelt_input_predicate_suggests_the_defined_one_and_inputs_do_not_warn():
    (found,) = [w for w in warned(CLASSIC) if w.code == "undefined-relation"]
    assert (found.line, found.column, found.help) == (5, 16, "did you mean 'parent'?")
    assert "parnet" in found.message
    assert warned("anc(X, Y) :- edge(X, Y).\n?- edge(a, X).\n") == []     # edge is an input, queried legitimately


def test_a_declared_relation_without_rules_facts_or_input_warns_as_souffle_does():
    (found,) = warned(SOUFFLE)
    assert (found.code, found.line, found.column) == ("undefined-relation", 2, 1)
    assert "node" in found.message and ".input" in found.message and found.help == \
        "add '.input node' to read its facts from node.facts"
    assert warned(SOUFFLE.replace(".input edge", ".input edge, node")) == []


def test_an_undeclared_relation_in_a_declared_program_is_an_error():
    with pytest.raises(dl.UnknownPredicateError) as info:
        dl.compile(SOUFFLE + "path(X, Y) :- hop(X, Y).\n")
    assert info.value.line == 9 and "not declared" in info.value.message


@pytest.mark.parametrize("command", ["check", "run"])
def test_cli_lints_datalog_files(tmp_path, capsys, command):
    path = tmp_path / "p.dl"
    path.write_text(CLASSIC)
    assert main([command, str(path)]) == 0
    err = capsys.readouterr().err
    assert f"{path}:4:21: warning: variable Y occurs only once" in err
    assert f"{path}:5:16: warning: no rule or fact defines predicate parnet" in err
    assert main([command, "-q", str(path)]) == 0 and capsys.readouterr().err == ""
    assert main([command, "-W", "error", str(path)]) == 1
    assert capsys.readouterr().err.rstrip().endswith("3 errors")


def test_cli_facts_given_for_a_declared_relation_silence_the_warning(tmp_path, capsys):
    path = tmp_path / "p.dl"
    path.write_text(SOUFFLE)
    (tmp_path / "edge.facts").write_text("a\tb\n")
    (tmp_path / "node.facts").write_text("c\n")
    assert main(["run", str(path), "-F", str(tmp_path), "-D", "-", "--input", f"node={tmp_path / 'node.facts'}"]) == 0
    captured = capsys.readouterr()
    assert "warning" not in captured.err and "c\tc" in captured.out


def test_evaluate_with_facts_for_a_predicate_does_not_warn_about_it():
    with warnings.catch_warnings():
        warnings.simplefilter("error", tlc.TlcWarning)
        model = dl.evaluate("anc(X, Y) :- edge(X, Y).\n", {"edge": [("a", "b")]})
    assert model["anc"] == {("a", "b")}


def test_every_whole_program_error_is_reported_at_the_datalog_text():
    with pytest.raises(dl.StratificationError) as info:
        dl.compile("a(X) :- n(X), !b(X).\nb(X) :- a(X).\nc(X) :- n(X), !d(X).\nd(X) :- c(X).\n")
    assert [(type(e).__name__, e.line) for e in info.value.errors] == [("StratificationError", 1),
                                                                       ("StratificationError", 3)]
    assert str(info.value).rstrip().endswith("2 errors")
