"""Stratified negation: ``~R(...)`` syntax, safety, stratification, and its results."""

import pytest

import tlc


def test_negation_complements_a_relation(compile_tl):
    prog = compile_tl("Person(Ann)\nPerson(Bob)\nKnows(Ann, Bob)\n"
                       "Stranger(x, y) = Person(x) Person(y) ~Knows(x, y)\n")
    assert set(prog()["Stranger"]) == {("Ann", "Ann"), ("Bob", "Ann"), ("Bob", "Bob")}


def test_negation_of_a_recursive_relation_in_a_later_stratum(compile_tl):
    prog = compile_tl("Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\n"
                       "Unreachable(x, y) = Node(x) Node(y) ~Path(x, y)\n")
    res = prog(Edge=[(0, 1), (1, 2)], Node=[(0,), (1,), (2,)])
    assert set(res["Unreachable"]) == {(0, 0), (1, 0), (1, 1), (2, 0), (2, 1), (2, 2)}


def test_recursion_through_negation_is_located(compile_tl):
    with pytest.raises(tlc.TlcError) as err:
        compile_tl("Win(x) = Move(x, y) ~Win(y)")
    assert (err.value.line, err.value.column) == (1, 22) and "negation" in err.value.message


def test_unsafe_negation_is_located(compile_tl):
    with pytest.raises(tlc.TlcError) as err:
        compile_tl("S(x, y) = P(x) ~K(x, y)")
    assert (err.value.line, err.value.column) == (1, 22) and "unsafe negation: y" in err.value.message


def test_tilde_round_trips_through_the_printer():
    from tlc.frontend.lower import lower
    from tlc.frontend.parser import parse
    from tlc.ir.printer import format_program
    program = lower(parse("S(x) = P(x) ~(A(x) B(x)) + ~K(x)"))
    text = format_program(program.statements)
    assert text == "S(x) = P(x) ~(A(x) B(x)) + ~K(x)\n"
    assert lower(parse(text)).statements == program.statements
