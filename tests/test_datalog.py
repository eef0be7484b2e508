"""tlc.datalog: translation (golden text), errors located in the Datalog source, and results on classic
programs checked against an independent naive bottom-up evaluator written here."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

import tlc
import tlc.datalog as dl

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------------- reference evaluator
def _is_var(term) -> bool:
    return isinstance(term, str) and (term[:1].isupper() or term[:1] == "_")


def _match(args, row, binding):
    binding = dict(binding)
    for arg, value in zip(args, row):
        if arg == "_":
            continue
        if _is_var(arg):
            if binding.setdefault(arg, value) != value:
                return None
        elif arg != value or type(arg) is not type(value):
            return None
    return binding


def _solve(body, db, binding):
    if not body:
        yield binding
        return
    negated, pred, args = body[0]
    if negated:
        if not any(_match(args, row, binding) is not None for row in db.get(pred, ())):
            yield from _solve(body[1:], db, binding)
        return
    for row in list(db.get(pred, ())):
        found = _match(args, row, binding)
        if found is not None:
            yield from _solve(body[1:], db, found)


def fixpoint(strata, facts):
    """Naive bottom-up evaluation of ``strata`` (lists of ``(head, body)`` rules, evaluated in order).

    A head is ``(pred, args)``; a body is a list of ``(negated, pred, args)`` with every positive literal
    before the negated ones. Variables are capitalised strings, ``_`` is a wildcard."""
    db = {pred: set(map(tuple, rows)) for pred, rows in facts.items()}
    for (pred, _), body in (rule for rules in strata for rule in rules):
        for name in (pred, *(b[1] for b in body)):
            db.setdefault(name, set())
    for rules in strata:
        changed = True
        while changed:
            changed = False
            for (pred, args), body in rules:
                for binding in list(_solve(body, db, {})):
                    row = tuple(binding[a] if _is_var(a) else a for a in args)
                    if row not in db.setdefault(pred, set()):
                        db[pred].add(row)
                        changed = True
    return db


def random_graph(seed: int, nodes: int, edges: int, names=True) -> list[tuple]:
    rng = random.Random(seed)
    label = (lambda k: f"n{k}") if names else (lambda k: k)
    return sorted({(label(rng.randrange(nodes)), label(rng.randrange(nodes))) for _ in range(edges)}, key=str)


def model_of(text: str, facts: dict, **kw) -> dict:
    return {pred: set(rows) for pred, rows in dl.evaluate(text, facts, **kw).facts.items()}


# ----------------------------------------------------------------------------------- translation (golden)
def test_translate_transitive_closure_golden():
    src = """% transitive closure
edge(a, b).  edge(b, "New York").  edge("New York", 3).
path(X, Y) :- edge(X, Y).
path(X, Z) :- path(X, Y), edge(Y, Z).   /* linear */
?- path(a, X).
"""
    assert dl.translate(src) == """\
edge('a', 'b')
edge('b', 'New York')
edge('New York', 3)
path(x, y) = edge(x, y)
path(x, z) = path(x, y) edge(y, z)
path('a', x)?
"""


def test_translate_negation_wildcards_and_renaming_golden():
    src = """\
sink(X) :- node(X), not edge(X, _).
proj(X) :- c(X, _, _), \\+ d(X), !e(X, 1).
exp(Var1, _Var1) :- log(Var1, _Var1, Y), log(Y, "it's", _).
"""
    assert dl.translate(src) == """\
edge_not1'(x) = edge(x, _1)
sink(x) = node(x) ~edge_not1'(x)
proj(x) = c(x, _1, _2) ~d(x) ~e(x, 1)
exp'(var1, _Var1) = log'(var1, _Var1, y) log'(y, "it's", _1)
"""


def test_translate_souffle_and_auto_dialects():
    src = 'reach(x, y) :- edge(x, y).\nreach(x, z) :- reach(x, y), edge(y, z), !blocked(z, "gate").\n'
    souffle = "reach(x, y) = edge(x, y)\nreach(x, z) = reach(x, y) edge(y, z) ~blocked(z, 'gate')\n"
    assert dl.translate(src, dialect="souffle") == souffle
    assert dl.translate(src, dialect="auto") == souffle
    # classic: lowercase identifiers are constants, so the head's x, y are not variables at all
    assert dl.translate("p(X) :- q(X, y).", dialect="auto") == "p(x) = q(x, 'y')\n"
    # facts keep lowercase constants in the auto dialect
    assert dl.translate("e(a, b).\np(x) :- e(x, _).", dialect="auto") == "e('a', 'b')\np(x) = e(x, _1)\n"
    with pytest.raises(ValueError, match="dialect"):
        dl.translate("p(a).", dialect="prolog")


def test_translate_variable_collisions_get_primes():
    # In the souffle dialect X and x are different variables; both would be x in Tensor Logic.
    assert dl.translate("p(X, x) :- q(X, x, _1, _).", dialect="souffle") == "p(x, x') = q(x, x', _1, _2)\n"


def test_translation_object_and_source_map():
    tr = dl.translation("p(X) :- q(X),\n       not r(X, _).\n?- p(a).")
    assert tr.dialect == "classic"
    assert tr.executable.splitlines()[-1] == "# p('a')?"
    assert {p.name: (p.arity, p.defined) for p in tr.predicates.values() if not p.helper} == \
        {"p": (1, True), "q": (1, False), "r": (2, False)}
    assert [q.text for q in tr.queries] == ["p(a)"]
    # the helper line for `not r(X, _)` maps back to that literal (line 2)
    assert tr.datalog_line(1) == 2
    assert tr.datalog_line(2) == 1


def test_tl_output_compiles_and_runs_with_tlc_directly():
    tl_source = dl.translate("path(X, Y) :- edge(X, Y).\npath(X, Z) :- path(X, Y), edge(Y, Z).")
    res = tlc.compile(tl_source)(edge=[("a", "b"), ("b", "c")])
    assert set(res["path"]) == {("a", "b"), ("b", "c"), ("a", "c")}


# ----------------------------------------------------------------------------------- located errors
def _error(text, cls=dl.DatalogError, **kw):
    with pytest.raises(cls) as info:
        dl.evaluate(text, **kw)
    assert isinstance(info.value, tlc.TlcError)
    return info.value


@pytest.mark.parametrize("text, cls, code, line, column", [
    ("p(X) :- q(Y).", dl.SafetyViolationError, "unbound_variable", 1, 3),
    ("ok :- p(X).\nok(_) :- ok(_).", dl.ArityError, "arity_mismatch", 2, 1),
    ("q(a).\nok(_) :- q(_).", dl.SafetyViolationError, "wildcard_in_head", 2, 4),
    ("p(X) :- q(X).\nr(X) :- q(X, Y).", dl.ArityError, "arity_mismatch", 2, 9),
    ("p(X) :- q(X).\n?- r(X).", dl.UnknownPredicateError, "unknown_predicate", 2, 4),
    ("p(X) :- q(X).\n?- p(X, Y).", dl.ArityError, "arity_mismatch", 2, 4),
    ("p(a, X).", dl.SafetyViolationError, "unbound_variable", 1, 6),
    ("p(X) :-\n  q(X) r(X).", dl.DatalogSyntaxError, "syntax_error", 2, 8),
    ("p(X) :- q(X), X < 3.", dl.UnsupportedError, "unsupported", 1, 15),
    ("p(X) :- q(X + 1).", dl.SafetyViolationError, "unbound_variable", 1, 3),
    ("p(1.5).", dl.UnsupportedError, "unsupported", 1, 3),
    ("p(X * 2) :- q(X).", dl.UnsupportedError, "unsupported", 1, 3),
])
def test_datalog_level_errors_are_located(text, cls, code, line, column):
    err = _error(text, cls)
    assert (err.code, err.line, err.column) == (code, line, column)


def test_unsafe_negation_comes_from_tlc_mapped_to_the_datalog_variable():
    err = _error("person(alice).\nok(X) :- person(X),\n         not banned(X, Y).", dl.SafetyViolationError)
    assert (err.code, err.line, err.column) == ("unsafe_negation", 3, 24)
    assert "variable Y" in err.message
    assert isinstance(err.__cause__, tlc.TlcError) and not isinstance(err.__cause__, dl.DatalogError)
    text = str(err).splitlines()
    assert text[0] == "<input>:3:24: error: " + err.message
    assert text[1:] == ["           not banned(X, Y).", "                         ^"]


def test_unsafe_negation_through_a_wildcard_helper_is_located():
    err = _error("q(a).\np(X) :- q(X), not r(X, _, Y).", dl.SafetyViolationError)
    assert (err.code, err.line, err.column) == ("unsafe_negation", 2, 27)


@pytest.mark.parametrize("text, line, column", [
    ("win(X) :- move(X, Y), not win(Y).", 1, 27),
    ("p(X) :- q(X).\n\nq(X) :- r(X), not p(X).", 3, 19),
    ("Ok() :- not Ok().", 1, 13),
    ("exp(X) :- step(X), not log(X).\nlog(X) :- exp(X).", 1, 24),
])
def test_recursion_through_negation_is_located(text, line, column):
    err = _error(text, dl.StratificationError)
    assert (err.code, err.line, err.column) == ("cyclic_negation", line, column)
    assert "'" not in err.message          # Tensor Logic names (exp', log') are mapped back


def test_other_tlc_errors_are_mapped_back():
    err = _error("n(0).\nn(X + 1) :- n(X).")
    assert (err.code, err.line, err.column) == ("tlc", 2, 1)
    assert "grows without bound" in err.message


def test_negative_integer_constants():
    assert dl.evaluate("seed(x).\nresult(1 - 2 - 3) :- seed(X).").facts["result"] == {(-4,)}


def test_errors_in_files_name_the_file(tmp_path):
    path = tmp_path / "bad.dl"
    path.write_text("edge(a, b).\npath(X, Y) :- edge(X, Y, Z).\n")
    with pytest.raises(dl.ArityError) as info:
        dl.compile(str(path))
    assert info.value.filename == str(path)
    assert str(info.value).startswith(f"{path}:2:15: error: edge has 3 arguments here but 2 at line 1")
    with pytest.raises(dl.DatalogError, match="cannot read"):
        dl.compile(str(tmp_path / "missing.dl"))


def test_data_errors():
    with pytest.raises(dl.DatalogDataError) as info:
        dl.evaluate("p(X) :- q(X).", {"Fib": [(0, 0, 2), (1, 1)]})
    assert info.value.code == "arity_mismatch"
    with pytest.raises(dl.ArityError) as info:
        dl.evaluate("p(X) :- q(X).", {"q": [(1, 2)]})
    assert (info.value.line, info.value.column) == (1, 9)
    for bad in (-1, 1.5, True, None):
        with pytest.raises(dl.DatalogDataError, match="constants|negative"):
            dl.evaluate("p(X) :- q(X).", {"q": [(bad,)]})
    for bad in ([(1,), (2, 3)], [[1], [-2]], [("a",), (2**63,)], [["a"], [np.int64(2)]]):
        with pytest.raises(dl.DatalogDataError, match="argument but|negative|constants"):
            dl.evaluate("p(X) :- q(X).", {"q": bad})
    prog = dl.compile("p(X) :- q(X).")
    with pytest.raises(dl.DatalogDataError, match="unknown predicate 'r'") as info:
        prog(r=[("a",)])
    assert isinstance(info.value, tlc.DataError)


def test_facts_as_lists_tuples_names_and_integers_give_one_model():
    """Facts of names and integers in a list of lists or tuples are taken as they are; other containers go through
    the checks one by one: the models agree."""
    program = "r(X, Z) :- e(X, Y), e(Y, Z).\n"
    plain = [("a", 1), ("b", 2), (1, "c"), (2, "a")]
    expected = dl.evaluate(program, {"e": plain})["r"]
    assert expected == {("a", "c"), ("b", "a"), (2, 1)}
    assert dl.evaluate(program, {"e": [list(row) for row in plain]})["r"] == expected
    assert dl.evaluate(program, {"e": [plain[0], list(plain[1]), *plain[2:]]})["r"] == expected
    assert dl.evaluate(program, {"e": set(plain)})["r"] == expected


# ----------------------------------------------------------------------------------- results vs the reference
TC = "path(X, Y) :- edge(X, Y).\npath(X, Z) :- path(X, Y), edge(Y, Z).\n"
TC_RULES = [[(("path", ("X", "Y")), [(False, "edge", ("X", "Y"))]),
             (("path", ("X", "Z")), [(False, "path", ("X", "Y")), (False, "edge", ("Y", "Z"))])]]


@pytest.mark.parametrize("seed, nodes, edges, names", [(0, 12, 20, True), (1, 25, 40, False), (2, 8, 30, True)])
def test_transitive_closure(seed, nodes, edges, names):
    graph = random_graph(seed, nodes, edges, names)
    assert model_of(TC, {"edge": graph}) == fixpoint(TC_RULES, {"edge": graph})


def test_one_compiled_program_runs_on_many_inputs_and_answers_queries():
    prog = dl.compile(TC + "?- path(a, X).\n")
    assert isinstance(prog, tlc.Program) and prog.edb() == ["edge"]
    res = prog(edge=[("a", "b"), ("b", "c")])
    assert set(res["path"]) == {("a", "b"), ("b", "c"), ("a", "c")}
    assert res.answers == [("?- path(a, X).", [("b",), ("c",)])]
    assert prog.query("path(X, c)") == [("a",), ("b",)]
    assert prog.query("?- path(a, c).") == [()]
    assert prog.query("path(c, _)") == []
    assert prog.query("edge(_, X)") == [("b",), ("c",)]          # a query on an input predicate
    assert prog.query("path(X, Y)", edge=[(1, 2)]) == [(1, 2)]
    assert prog().answers == [("?- path(a, X).", [])]             # predicates not given are empty
    assert "rs.closure(edge)" in prog.source(edge=[("a", "b")])     # path is the closure of edge
    assert "stratum" in prog.explain()
    with pytest.raises(dl.UnknownPredicateError):
        prog.query("nope(X)")


def test_same_generation():
    src = """sg(X, X) :- person(X).
sg(X, Y) :- parent(XP, X), sg(XP, YP), parent(YP, Y).
person(X) :- parent(X, _).
person(X) :- parent(_, X).
"""
    rules = [[(("person", ("X",)), [(False, "parent", ("X", "_"))]),
              (("person", ("X",)), [(False, "parent", ("_", "X"))])],
             [(("sg", ("X", "X")), [(False, "person", ("X",))]),
              (("sg", ("X", "Y")), [(False, "parent", ("XP", "X")), (False, "sg", ("XP", "YP")),
                                    (False, "parent", ("YP", "Y"))])]]
    for seed in range(3):
        rng = random.Random(seed)
        parent = [(f"p{rng.randrange(6)}", f"p{rng.randrange(6, 20)}") for _ in range(15)]
        parent += [(f"p{rng.randrange(6, 20)}", f"p{rng.randrange(20, 30)}") for _ in range(15)]
        assert model_of(src, {"parent": parent}) == fixpoint(rules, {"parent": parent})


def test_non_linear_recursion():
    src = "p(X, Y) :- e(X, Y).\np(X, Z) :- p(X, Y), p(Y, Z).\n"
    rules = [[(("p", ("X", "Y")), [(False, "e", ("X", "Y"))]),
              (("p", ("X", "Z")), [(False, "p", ("X", "Y")), (False, "p", ("Y", "Z"))])]]
    chain = [(k, k + 1) for k in range(20)]
    for graph in (chain, random_graph(5, 15, 25)):
        expected = fixpoint(rules, {"e": graph})
        assert model_of(src, {"e": graph}) == expected
    assert len(model_of(src, {"e": chain})["p"]) == 20 * 21 // 2


def test_mutual_recursion():
    src = """even(zero).
even(Y) :- odd(X), succ(X, Y).
odd(Y) :- even(X), succ(X, Y).
both(X) :- even(X), odd(X).
"""
    rules = [[(("even", ("zero",)), []),
              (("even", ("Y",)), [(False, "odd", ("X",)), (False, "succ", ("X", "Y"))]),
              (("odd", ("Y",)), [(False, "even", ("X",)), (False, "succ", ("X", "Y"))])],
             [(("both", ("X",)), [(False, "even", ("X",)), (False, "odd", ("X",))])]]
    line = [("zero", "one"), ("one", "two"), ("two", "three"), ("three", "four")]
    cycle = line + [("four", "zero"), ("four", "five")]
    for succ in (line, cycle):
        assert model_of(src, {"succ": succ}) == fixpoint(rules, {"succ": succ})
    assert model_of(src, {"succ": line})["both"] == set()
    assert model_of(src, {"succ": cycle})["both"] == {("zero",), ("one",), ("two",), ("three",), ("four",),
                                                      ("five",)}


def test_stratified_negation():
    src = TC + """node(X) :- edge(X, _).
node(Y) :- edge(_, Y).
unreachable(X, Y) :- node(X), node(Y), not path(X, Y).
sink(X) :- node(X), not edge(X, _).
lonely(X) :- node(X), not path(X, _), \\+ path(_, X).
"""
    rules = [TC_RULES[0] + [(("node", ("X",)), [(False, "edge", ("X", "_"))]),
                            (("node", ("Y",)), [(False, "edge", ("_", "Y"))])],
             [(("unreachable", ("X", "Y")), [(False, "node", ("X",)), (False, "node", ("Y",)),
                                             (True, "path", ("X", "Y"))]),
              (("sink", ("X",)), [(False, "node", ("X",)), (True, "edge", ("X", "_"))]),
              (("lonely", ("X",)), [(False, "node", ("X",)), (True, "path", ("X", "_")),
                                    (True, "path", ("_", "X"))])]]
    for seed in range(3):
        graph = random_graph(seed, 10, 12) + [("solo", "solo")]
        expected = fixpoint(rules, {"edge": graph})
        assert model_of(src, {"edge": graph}) == expected
        assert expected["sink"] and expected["unreachable"]


def test_integer_and_string_constants():
    src = """age("Ann Lee", 31).  age(bob, 7).  age('O''Brien', 31).
age("1", 1).
same_age(X, Y) :- age(X, A), age(Y, A).
thirty_one(X) :- age(X, 31).
one(X) :- age(X, 1).
named_one(X) :- age("1", X).
"""
    model = model_of(src, {})
    assert model["thirty_one"] == {("Ann Lee",), ("O'Brien",)}
    assert model["one"] == {("1",)} and model["named_one"] == {(1,)}
    ages = [("Ann Lee", 31), ("bob", 7), ("O'Brien", 31), ("1", 1)]
    expected = {(x, y) for x, a in ages for y, b in ages if a == b}
    assert model["same_age"] == expected


def test_quoted_atoms_and_escapes():
    model = model_of('q("it\'s").\nq(\'say "hi"\').\nq("tab\\there").\np(X) :- q(X).', {})
    assert model["p"] == {("it's",), ('say "hi"',), ("tab\there",)}
    with pytest.raises(dl.UnsupportedError, match="both kinds of quote"):
        dl.translate('q("it\'s \\"x\\"").')


def test_wildcards_are_fresh_per_occurrence():
    src = "a(X) :- r(X, _, _).\nb(X) :- r(X, Y, Y).\nc :- r(_, _, _).\nd(X) :- r(X, _, Y), r(Y, _, X).\n"
    rules = [[(("a", ("X",)), [(False, "r", ("X", "_", "_"))]),
              (("b", ("X",)), [(False, "r", ("X", "Y", "Y"))]),
              (("c", ()), [(False, "r", ("_", "_", "_"))]),
              (("d", ("X",)), [(False, "r", ("X", "_", "Y")), (False, "r", ("Y", "_", "X"))])]]
    rng = random.Random(3)
    r = [(rng.randrange(4), rng.randrange(4), rng.randrange(4)) for _ in range(12)]
    assert model_of(src, {"r": r}) == fixpoint(rules, {"r": r})
    assert model_of(src, {"r": []})["c"] == set()


def test_arithmetic_on_integer_arguments():
    model = model_of("sum(A, B, A + B) :- r(A, B).\nprev(X - 1) :- n(X), n(X - 1).", {"r": [(1, 2), (3, 4)],
                                                                                       "n": [(1,), (2,), (5,)]})
    assert model["sum"] == {(1, 2, 3), (3, 4, 7)}
    assert model["prev"] == {(1,)}


def test_facts_given_as_data_and_untouched_predicates():
    model = dl.evaluate("p(X) :- q(X).\n?- p(X).\n?- extra(X, 2).", {"q": [("a",)], "extra": [(1, 2), (3, 4)]})
    assert model["extra"] == {(1, 2), (3, 4)} and model["p"] == {("a",)} and model["q"] == {("a",)}
    assert model.answers == [("?- p(X).", [("a",)]), ("?- extra(X, 2).", [(1,)])]
    assert dict(dl.evaluate("", {"e": [("a", "b")]})) == {"e": {("a", "b")}}


def test_examples():
    family = dl.evaluate(ROOT / "examples" / "datalog" / "family.dl")
    assert family.answers == [("?- ancestor(alice, X).", [("bob",), ("carol",), ("dave",), ("eve",), ("frank",)]),
                              ("?- sg(dave, X).", [("dave",), ("eve",)])]
    reach = dl.evaluate(str(ROOT / "examples" / "datalog" / "reachability.dl"))
    assert reach.answers == [("?- unreachable(Y).", [("c",), ("d",), ("start",)]),
                             ("?- sink(X).", [("New York",), ("d",)])]


# ----------------------------------------------------------------------------------- conformance adapter
def test_conformance_adapter():
    schema = pytest.importorskip("datalog_conformance.schema")
    from tlc.datalog.conformance import TlcEvaluator

    evaluator = TlcEvaluator()
    program = schema.Program(facts={"edge": [("a", "b"), ("b", "c")]},
                             rules=["path(X, Y) :- edge(X, Y).", "path(X, Z) :- path(X, Y), edge(Y, Z)"])
    model = evaluator.evaluate(program)
    assert isinstance(model, schema.Model)
    assert model.facts["path"] == {("a", "b"), ("b", "c"), ("a", "c")}
    assert evaluator.evaluate(program) == model                    # cached
    with pytest.raises(dl.SafetyViolationError) as info:
        evaluator.evaluate(schema.Program(rules=["Ok(_) :- Ok(_)"]))
    assert info.value.code == "safety_violations"                # the suite's name for wildcard_in_head
    with pytest.raises(dl.SafetyViolationError) as again:
        evaluator.evaluate(schema.Program(rules=["Ok(_) :- Ok(_)"]))
    assert again.value is not info.value and again.value.code == "safety_violations"
