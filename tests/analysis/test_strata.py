"""Unit tests of ``tlc.analysis.strata``: evaluation order, the mode of each recursive group, the time axes of
recurrences, stratification errors and the round bounds of fixpoints."""

import pytest

from tlc.analysis.strata import (MAX_ROUNDS, Mode, chain_length, check_max_rounds, path_step, round_bound,
                                 stratify, tensor_graph)
from tlc.api import frontend
from tlc.driver.source import lowered
from tlc.errors import TlcError


def strata_of(source: str):
    program = frontend(source)
    return program, stratify(program)


def test_strata_follow_dependencies_not_the_order_of_the_text():
    program, strata = strata_of("C[i] = B[i] + 1\nB[i] = A[i] 2\nD[i] = C[i] B[i]\n")
    assert [s.tensors for s in strata] == [("B",), ("C",), ("D",)]
    assert [s.equations for s in strata] == [(1,), (0,), (2,)]
    assert all(s.mode is Mode.PLAIN and not s.recursive for s in strata)
    assert set(tensor_graph(program).edges) == {("A", "B"), ("B", "C"), ("C", "D"), ("B", "D")}


def test_inputs_get_no_stratum_and_independent_tensors_keep_their_written_order():
    _, strata = strata_of("Z[i] = A[i]\nY[i] = A[i]\nX[i] = A[i]\n")
    assert [s.tensors for s in strata] == [("Z",), ("Y",), ("X",)]


def test_a_shifted_self_read_is_a_recurrence_along_that_axis():
    _, (stratum,) = strata_of("X[i, t] = sig(W[i, j] X[j, t - 1])\n")
    assert stratum.mode is Mode.RECURRENCE and stratum.recursive
    assert stratum.recurrence.axis == {"X": 1}
    assert stratum.recurrence.variable == {0: "t"} and stratum.recurrence.lhs_offset == {0: 0}


def test_an_initial_value_and_a_forward_shift_share_the_recurrence_stratum():
    _, (stratum,) = strata_of("S[0] = Init\nS[t+1] = 0.5 S[t] + In[t]\n")
    assert stratum.mode is Mode.RECURRENCE and stratum.equations == (0, 1)
    assert stratum.recurrence.axis == {"S": 0} and stratum.recurrence.lhs_offset == {1: 1}
    assert stratum.recurrence.step_order == (1,)


def test_a_same_step_read_orders_the_equations_within_a_step():
    # B at step t+1 reads A at step t+1: A's equation runs first in every step
    _, (stratum,) = strata_of("B[i, *t+1] = A[i, *t+1] + B[i, *t]\nA[i, *t+1] = tanh(W[i, j] B[j, *t])\n")
    assert stratum.mode is Mode.RECURRENCE and set(stratum.tensors) == {"A", "B"}
    assert stratum.recurrence.axis == {"A": 1, "B": 1}
    assert stratum.recurrence.step_order == (1, 0)


def test_reads_ahead_make_a_descending_recurrence():
    _, (stratum,) = strata_of("S[t] = 0.5 S[t+1] + In[t]\n")
    assert stratum.mode is Mode.RECURRENCE and stratum.recurrence.descending
    assert stratum.recurrence.axis == {"S": 0} and stratum.recurrence.lhs_offset == {0: 0}
    _, (forward,) = strata_of("S[t+1] = 0.5 S[t] + In[t]\n")
    assert not forward.recurrence.descending


def test_a_descending_recurrence_through_two_tensors_orders_its_step():
    # G at step t reads H one step ahead; H at step t reads G at the same step: G's equation runs first
    _, (stratum,) = strata_of("G[i, t] = H[i, t+1] + A[i, t]\nH[i, t] = 0.5 G[i, t]\n")
    assert stratum.mode is Mode.RECURRENCE and stratum.recurrence.descending
    assert stratum.recurrence.axis == {"G": 1, "H": 1} and stratum.recurrence.step_order == (0, 1)


@pytest.mark.parametrize("source", ["S[t] = 0.5 S[t+1] + 0.25 S[t-1] + In[t]\n",      # both ways: no order works
                                    "S[*t] = 0.5 S[*t+1] + In[t]\n"])                  # a virtual axis looking ahead
def test_reads_both_ways_or_a_virtual_axis_looking_ahead_stay_a_fixpoint(source):
    _, (stratum,) = strata_of(source)
    assert stratum.mode is Mode.FIXPOINT


def test_mutually_recursive_relations_are_one_seminaive_stratum():
    _, strata = strata_of("Even(x) = Zero(x)\nEven(y) = Odd(x) Succ(x, y)\nOdd(y) = Even(x) Succ(x, y)\n")
    assert [(s.tensors, s.equations, s.mode) for s in strata] == [(("Even", "Odd"), (0, 1, 2), Mode.SEMINAIVE)]


def test_transitive_closure_after_its_facts():
    _, strata = strata_of("domain N: A, B, C\nEdge(A, B)\nEdge(B, C)\nPath(x, y) = Edge(x, y)\n"
                          "Path(x, z) = Path(x, y) Edge(y, z)\n")
    assert [(s.tensors, s.mode) for s in strata] == [(("Edge",), Mode.PLAIN), (("Path",), Mode.SEMINAIVE)]


def test_numeric_and_min_recursions_are_fixpoints():
    _, (numeric,) = strata_of("X[i] = 0.5 X[i] + B[i]\n")
    _, (shortest,) = strata_of("D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] + W[y, z]\n")
    assert numeric.mode is Mode.FIXPOINT and shortest.mode is Mode.FIXPOINT and shortest.recurrence is None


@pytest.mark.parametrize("rule, column", [("Win(x) = Move(x, y) not(Win(y))", 25), ("Win(x) = Move(x, y) ~Win(y)", 22)])
def test_recursion_through_negation_is_a_located_error(rule, column):
    with pytest.raises(TlcError, match="Win depends on Win through negation") as err:
        strata_of(rule + "\n")
    assert (err.value.span.line, err.value.span.column) == (1, column)


def test_negation_of_a_lower_stratum_is_allowed():
    _, strata = strata_of("Reach(x, y) = Edge(x, y)\nReach(x, z) = Reach(x, y) Edge(y, z)\n"
                          "Cut(x, y) = Node(x) Node(y) not(Reach(x, y))\n")
    assert [s.tensors for s in strata] == [("Reach",), ("Cut",)] and strata[1].mode is Mode.PLAIN


def test_shortest_paths_get_the_bellman_ford_bound_as_a_proof():
    program, (stratum,) = strata_of("D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] + W[y, z]\n")
    assert chain_length(program, stratum, {"D": (4, 4)})[0] == 4      # axis 0 is carried: a path's 4 nodes
    bound = round_bound(program, stratum, {"D": (4, 4)})
    assert (bound.rounds, bound.proof) == (5, True) and "negative cycle" in bound.why
    capped = round_bound(program, stratum, {"D": (4, 4)}, max_rounds=3)
    assert (capped.rounds, capped.proof) == (3, False) and capped.why.startswith("max_rounds=3")


def test_a_numeric_sum_recursion_gets_the_default_bound_without_proof():
    program, (stratum,) = strata_of("X[i] = 0.5 X[i] + B[i]\n")
    assert not path_step(program.equations[0].rhs, {"X"})
    bound = round_bound(program, stratum, {"X": (3,)})
    assert (bound.rounds, bound.proof) == (MAX_ROUNDS, False) and "a sum" in bound.why
    assert round_bound(program, stratum, {"X": (3,)}, max_rounds=7).rounds == 7


def test_path_steps():
    members = {"D"}
    program = frontend("D[x, z] min= D[x, y] + W[y, z]\nE[x, z] min= 2 D[x, z]\nF[x, z] min= W[x, y] - D[y, z]\n")
    assert [path_step(eq.rhs, members) for eq in program.equations] == [True, True, False]


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "3"])
def test_max_rounds_must_be_a_positive_integer(value):
    with pytest.raises(TlcError, match="max_rounds must be a positive integer"):
        check_max_rounds(value)
    assert check_max_rounds(None) is None and check_max_rounds(12) == 12


def test_the_strata_of_a_program_are_computed_once_and_errors_every_time():
    program, strata = strata_of("Reach(x, y) = Edge(x, y)\nReach(x, z) = Reach(x, y) Edge(y, z)\n")
    assert stratify(program) is strata
    unsound = lowered("Win(x) = Move(x, y) ~Win(y)\n")
    for _ in range(2):
        with pytest.raises(TlcError, match="Win depends on Win through negation") as err:
            stratify(unsound)
        assert (err.value.span.line, err.value.span.column) == (1, 22)
