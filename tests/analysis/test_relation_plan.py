"""Unit tests of ``tlc.analysis.relation_plan``: which strata are Datalog rules, the closure shapes, the strategy
chosen per stratum (with its reason and cost estimates) and the storage of each relation, from shapes and nnz."""

import math

import numpy as np
import pytest

import tlc

from tlc.analysis.relation_plan import (CLOSURE_BUDGET, DENSE_BUDGET, NATIVE_BITSETS, NATIVE_CLOSURE, PLAIN_SPARSE_SIZE,
                                        closure_shape, plan_relations, relational, rule_of)
from tlc.analysis.shapes import infer_shapes, symbolic_axes
from tlc.analysis.strata import stratify
from tlc.api import frontend
from tlc.errors import TlcError

CLOSURE = "Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\n"


def plan(source: str, nnz: dict, force: str = "auto", **extents):
    program = frontend(source)
    strata = stratify(program)
    shapes = infer_shapes(program, strata, extents, {}, symbolic_axes(program, set()), len(program.symbols))
    return program, strata, plan_relations(program, strata, shapes, nnz, force)


def test_a_small_closure_is_computed_per_strong_component():
    _, _, relations = plan(CLOSURE, {"Edge": 3}, Edge=(4, 4))
    (stratum,) = relations.strata
    assert (stratum.strategy, stratum.reason) == ("closure", "lowest estimated cost")
    assert stratum.closure.kind == "right" and stratum.closure.rule == 1 and stratum.closure.step.name == "Edge"
    assert set(stratum.costs) == {"sparse", "dense", "closure"}
    assert stratum.costs["closure"] == min(stratum.costs.values())
    assert relations.storage == {"Path": "dense", "Edge": "dense"}     # 3 of 16 tuples: denser than 10%
    assert stratum.describe().startswith("relations: closure by strong components (lowest estimated cost); estimated ")


def test_a_sparse_input_is_stored_sparsely_and_a_huge_closure_runs_semi_naive_on_tuples():
    _, _, relations = plan(CLOSURE, {"Edge": 1000}, Edge=(1000, 1000))
    assert relations.storage["Edge"] == "sparse" and relations.strata[0].strategy == "closure"
    _, _, relations = plan(CLOSURE, {"Edge": 100_000}, Edge=(100_000, 100_000))
    (stratum,) = relations.strata
    assert 100_000 ** 2 > DENSE_BUDGET and math.isinf(stratum.costs["dense"]) and math.isinf(stratum.costs["closure"])
    assert stratum.strategy == "sparse" and stratum.closure.kind == "right"      # a native backend traverses it
    assert relations.storage == {"Path": "sparse", "Edge": "sparse"} and relations.relational
    assert "dense infeasible, closure infeasible" in stratum.describe()


@pytest.mark.parametrize("force", ["sparse", "dense", "closure"])
def test_a_forced_strategy_is_taken_when_feasible(force):
    _, _, relations = plan(CLOSURE, {"Edge": 3}, force, Edge=(4, 4))
    assert (relations.strata[0].strategy, relations.strata[0].reason) == (force, "forced")
    assert relations.signature()[0] == (force,)


def test_a_forced_closure_of_a_recursion_that_is_not_one_falls_back_to_dense():
    _, _, relations = plan("Even(x) = Zero(x)\nEven(y) = Odd(x) Succ(x, y)\nOdd(y) = Even(x) Succ(x, y)\n",
                           {"Zero": 1, "Succ": 9}, "closure", Zero=(10,), Succ=(10, 10))
    assert (relations.strata[0].strategy, relations.strata[0].reason) == \
        ("dense", "closure forced but the recursion is not closure-shaped")
    assert relations.storage == {"Even": "dense", "Odd": "dense", "Zero": "sparse", "Succ": "sparse"}


def test_an_unknown_choice_is_refused():
    with pytest.raises(TlcError, match="relations must be one of auto, sparse, dense, closure, duckdb, semiring, not 'fast'"):
        plan(CLOSURE, {"Edge": 3}, "fast", Edge=(4, 4))


def test_closure_shapes():
    for source, kind in [(CLOSURE, "right"), ("P(x, y) = E(x, y)\nP(x, z) = E(x, y) P(y, z)\n", "left"),
                         ("P(x, z) = P(x, y) P(y, z)\nP(x, y) = E(x, y)\n", "square")]:
        program = frontend(source)
        (stratum,) = stratify(program)
        assert closure_shape(program, stratum).kind == kind, source
    program = frontend("P(x, y) = E(x, y)\nP(x, z) = P(x, y) E(z, y)\n")      # joins on the wrong argument
    assert closure_shape(program, stratify(program)[0]) is None


def test_non_recursive_rules_run_as_dense_tensor_code_unless_a_relation_is_huge():
    _, _, relations = plan("R(x) = E(x, y)\n", {"E": 2}, E=(30, 30))
    assert (relations.strata[0].strategy, relations.strata[0].reason) == ("einsum", "non-recursive rules, small relations")
    assert relations.storage == {"R": "dense", "E": "dense"}    # 2 of 900 tuples, but read by dense tensor code
    _, _, relations = plan("R(x) = E(x, y)\n", {"E": 2}, E=(3000, 3000))
    assert 3000 * 3000 > PLAIN_SPARSE_SIZE
    assert relations.strata[0].strategy == "sparse"
    assert relations.strata[0].reason == "non-recursive rules; a relation has 9e+06 elements"
    assert relations.storage == {"R": "sparse", "E": "sparse"}


def test_a_relation_read_by_tensor_code_stays_dense():
    _, _, relations = plan("R(x) = E(x, y)\nS(x) = E(x, y) + F(x)\n", {"E": 2}, F=(30,), E=(30, 30))
    assert [p.strategy for p in relations.strata] == ["einsum", "einsum"]
    assert relations.strata[1].reason == "not a set of Datalog rules"
    assert relations.storage["E"] == "dense" and not relations.relational


def test_numeric_strata_are_not_relational():
    program, strata, relations = plan("D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] + W[y, z]\n", {}, W=(5, 5))
    assert not relational(program, strata[0])
    assert (relations.strata[0].strategy, relations.strata[0].reason) == \
        ("einsum", "a min= path step by add through W; lowest estimated cost")     # a small semiring recursion
    assert relations.storage == {}
    _, _, relations = plan("N[x, z] = E[x, z]\nN[x, z] = N[x, y] E[y, z]\n", {}, E=(5, 5))
    assert (relations.strata[0].strategy, relations.strata[0].reason) == ("einsum", "fixpoint stratum")


def test_rules_and_non_rules():
    program = frontend("R(x) = E(x, y) not(F(y))\nS(x) = E(x, y) + F(x)\nT(x, 2) = E(x, y)\n")
    rule = rule_of(program.equations[0], program)
    assert rule.head.name == "R" and [a.name for a in rule.atoms] == ["E"] and [n.name for n in rule.negated] == ["F"]
    assert rule_of(program.equations[1], program) is None            # a sum is not a conjunction
    assert [a.name for a in rule_of(program.equations[2], program).atoms] == ["E"]   # a constant in the head


def test_a_call_with_other_tuple_counts_is_planned_again():
    """The relation plan is reused for calls with the same counts of tuples only: storage follows the data."""
    program = tlc.compile("Reach(x, y) = Edge(x, y)\nReach(x, z) = Reach(x, y) Edge(y, z)")
    sparse = np.zeros((400, 400), dtype=bool)
    sparse[np.arange(399), np.arange(1, 400)] = True
    dense = np.ones((400, 400), dtype=bool)
    for edges in (sparse, dense, sparse):
        reach = np.asarray(program(Edge=edges)["Reach"])
        expected = np.triu(np.ones((400, 400), dtype=bool), 1) if edges is sparse else dense
        np.testing.assert_array_equal(reach, expected)
        assert program.specialisation(Edge=edges).plan.storage["Edge"] == ("sparse" if edges is sparse else "dense")


@pytest.mark.parametrize(("force", "capabilities", "threads", "max_rounds", "where"), [
    ("closure", frozenset(), 2, None, "closure: NumPy runtime (tlc_runtime.reach, bitsets in Python integers)"),
    ("closure", frozenset({NATIVE_CLOSURE}), 2, None, "closure: native llvm kernel, 2 threads"),
    ("closure", frozenset({NATIVE_CLOSURE}), 1, None, "closure: native llvm kernel, 1 thread"),
    ("sparse", frozenset({NATIVE_CLOSURE}), 2, None,
     "sparse closure: native llvm kernel (a traversal per source), 2 threads"),
    ("sparse", frozenset({NATIVE_CLOSURE}), 2, 10, "sparse semi-naive: NumPy/scipy runtime (tlc_runtime.sparse)"),
    ("sparse", frozenset(), 2, None, "sparse semi-naive: NumPy/scipy runtime (tlc_runtime.sparse)"),
    ("dense", frozenset({NATIVE_BITSETS}), 2, None, "dense semi-naive: native llvm kernels on bitset rows "
     "(tlc_runtime.bitsets: the relations stay packed across rounds; joins, deltas and unions word-parallel), "
     "2 threads; a rule without a bitset plan joins in NumPy on unpacked rows (the backend's notes name each rule's)"),
    ("dense", frozenset({NATIVE_CLOSURE}), 2, None, "dense semi-naive: NumPy/scipy runtime (tlc_runtime.sparse)"),
    ("dense", frozenset(), 2, None, "dense semi-naive: NumPy/scipy runtime (tlc_runtime.sparse)"),
])
def test_a_stratum_says_where_it_runs(force, capabilities, threads, max_rounds, where):
    _, _, relations = plan(CLOSURE, {"Edge": 3}, force, Edge=(4, 4))
    assert relations.strata[0].runs_on(capabilities, threads, max_rounds) == where


def test_a_sparse_recursion_that_is_not_a_closure_keeps_semi_naive_everywhere():
    _, _, relations = plan("Sg(x, y) = Sib(x, y)\nSg(x, y) = Par(x, p) Sg(p, q) Par(y, q)\n",
                           {"Sib": 3, "Par": 4}, "sparse", Sib=(6, 6), Par=(6, 6))
    (stratum,) = relations.strata
    assert stratum.strategy == "sparse" and stratum.closure is None
    assert stratum.runs_on(frozenset({NATIVE_CLOSURE}), 2) == \
        "sparse semi-naive: NumPy/scipy runtime (tlc_runtime.sparse)"


def test_a_semiring_stratum_says_it_runs_on_the_semiring_runtime():
    source = "Dist[y] min= Src[y]\nDist[y] min= Dist[x] + W[x, y]\n"
    weights = np.full((30, 30), np.inf)
    weights[np.arange(29), np.arange(1, 30)] = 1.0
    start = np.full(30, np.inf)
    start[0] = 0.0
    shown = tlc.compile(source, backend="numpy", relations="semiring").explain(W=weights, Src=start)
    assert "runs: semiring relaxation: NumPy/scipy runtime (tlc_runtime.semiring)" in shown
    shown = tlc.compile(source, backend="llvm", relations="semiring", threads=1).explain(W=weights, Src=start)
    assert "runs: semiring: native llvm kernels (semi-naive relaxation over CSR a slice at a time; label setting " \
           "with a heap when no path step can improve a value, checked at run time), 1 thread over " \
           "slices" in shown


def native_plan(n: int, edges: int, reach: float | None, max_rounds: int | None = None, force: str = "auto"):
    """The plan of ``CLOSURE`` over an ``n``-node ``Edge`` with ``edges`` tuples whose nodes reach ``reach`` nodes
    each on average (None: not sampled), on a backend with native closures."""
    program = frontend(CLOSURE)
    strata = stratify(program)
    shapes = infer_shapes(program, strata, {"Edge": (n, n)}, {}, symbolic_axes(program, set()), len(program.symbols))
    (stratum,) = plan_relations(program, strata, shapes, {"Edge": edges}, force, max_rounds=max_rounds,
                                capabilities=frozenset({NATIVE_CLOSURE}),
                                reach={} if reach is None else {"Edge": reach}).strata
    return stratum


@pytest.mark.parametrize(("graph", "n", "edges", "reach", "strategy"), [
    ("chain 3,000", 3000, 2999, 1499.5, "closure"),
    ("grid 60 x 60", 3600, 7080, 900, "closure"),
    ("random 2,000 / 10,000", 2000, 10_000, 990, "closure"),
    ("random DAG 16,384 / 160,000 (a 256 MiB result)", 16_384, 160_000, 3300, "closure"),
    ("random 500 / 400 (reaches little)", 500, 400, 1.5, "sparse"),
    ("layered DAG 100,000 / 300,000", 100_000, 300_000, 27, "sparse"),
    ("random 100,000 / 300,000", 100_000, 300_000, 40_000, "sparse"),
])
def test_auto_on_a_native_backend_picks_the_bitset_closure_unless_the_closure_is_thin_or_too_large(
        graph, n, edges, reach, strategy):
    stratum = native_plan(n, edges, reach)
    assert stratum.strategy == strategy, stratum.describe()
    assert stratum.costs["dense"] > min(stratum.costs.values())
    assert math.isinf(stratum.costs["closure"]) == (n * n > CLOSURE_BUDGET)


def test_a_sampled_reach_sizes_the_traversal_and_the_native_closure_is_priced_below_the_python_loop():
    thin, unsampled = native_plan(100_000, 300_000, 27), native_plan(100_000, 300_000, None)
    assert unsampled.costs["sparse"] > 1000 * thin.costs["sparse"]      # 10^10 pairs assumed, 2.7 10^6 sampled
    assert thin.costs["sparse"] == pytest.approx(20_000 + 30 * 2.7e6 + 2 * 2.7e6 * 3)
    _, _, numpy = plan(CLOSURE, {"Edge": 2999}, Edge=(3000, 3000))
    assert native_plan(3000, 2999, 1499.5).costs["closure"] < numpy.strata[0].costs["closure"]
    limited = native_plan(3000, 2999, 1499.5, max_rounds=5000)     # under a round limit sparse stays semi-naive
    assert limited.costs["sparse"] > 100 * native_plan(3000, 2999, 1499.5).costs["sparse"]


def test_a_forced_closure_over_its_budget_falls_back_to_the_traversal_and_says_so():
    stratum = native_plan(20_000, 20_000, 1.0, force="closure")
    assert stratum.strategy == "sparse" and stratum.closure is not None
    assert stratum.reason == f"closure forced but infeasible over {CLOSURE_BUDGET:.3g} elements"


def test_each_equation_s_rule_and_each_stratum_s_closure_shape_are_worked_out_once(monkeypatch):
    """The reach sampling, the planner and the emitter ask about the same equations and strata several times a
    call; ``program.analyses`` keeps the answers (one computation per equation and stratum per program)."""
    from spying import record_calls
    from tlc.analysis import relation_plan
    import scipy.sparse as sp
    rules = record_calls(monkeypatch, relation_plan, "_rule_of", lambda args, result: args[0])
    shapes = record_calls(monkeypatch, relation_plan, "_closure_shape", lambda args, result: args[1])
    text = "# asked once\nPath(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\n"   # a text of its own: a
    program = tlc.compile(text, relations="closure")                 # program compiled before keeps its answers
    edges = sp.csr_matrix(np.eye(5, k=1, dtype=np.float32))
    assert len(program(Edge=edges)["Path"]) == 10
    assert sorted(id(eq) for eq in rules) == sorted({id(eq) for eq in rules}) and len(rules) == 2
    assert len(shapes) == 1
