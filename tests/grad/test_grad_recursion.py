"""Gradients through recursions that are not recurrences: numeric fixpoints (the adjoint fixpoint) and recursive
``max=``/``min=`` (shortest, widest and most probable paths, max-plus recurrences), against central finite
differences and the adjoint identity on every CPU backend.

Fixpoint inputs are positive: the forward iteration then rises monotonically to its fixpoint, which it reaches
exactly (a numeric fixpoint converges only on exact equality, and random signs can leave it alternating in the
last bit, reported as an oscillation: a limitation of the forward, docs/language.md)."""

import numpy as np
import pytest

from gradcheck import check_gradients, check_identity
import tlc
from tlc.analysis.strata import Mode, stratify
from tlc.gradient.printing import format_gradient

PROBABILITIES = {"P": np.random.default_rng(3).uniform(0.1, 0.8, size=(4, 4))}

RECURSIONS = {
    "two-tensor fixpoint": ("P[i] = A[i] + 0.5 Q[i]\nQ[i] = 0.5 P[i]\nL = P[i] P[i] C[i]",
                            dict(A=(3,), C=(3,)), ["A", "C"], None),
    "linear fixpoint": ("P[i] = A[i] + 0.1 M[i, j] P[j]\nL = P[i] P[i] C[i]", dict(A=(3,), M=(3, 3), C=(3,)),
                        ["A", "M"], None),
    "nonlinear fixpoint": ("P[i] = A[i] + 0.2 tanh(M[i, j] P[j])\nL = P[i] P[i] C[i]",
                           dict(A=(3,), M=(3, 3), C=(3,)), ["A", "M"], None),
    "fixpoint through a second tensor": ("P[i] = A[i] + 0.1 M[i, j] Q[j]\nQ[i] = tanh(0.5 P[i]) B[i]\n"
                                         "L = P[i] P[i] C[i]", dict(A=(3,), M=(3, 3), B=(3,), C=(3,)),
                                         ["A", "M", "B"], None),
    "shortest paths": ("D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] + W[y, z]\nL = D[x, z] C[x, z]",
                       dict(W=(4, 4), C=(4, 4)), ["W"], None),
    "widest paths": ("B[x, z] max= Cap[x, z]\nB[x, z] max= min(B[x, y], Cap[y, z])\nL = B[x, z] C[x, z]",
                     dict(Cap=(4, 4), C=(4, 4)), ["Cap"], None),
    "most probable paths": ("R[x, z] max= P[x, z]\nR[x, z] max= R[x, y] P[y, z]\nL = R[x, z] C[x, z]",
                            dict(P=(4, 4), C=(4, 4)), ["P"], PROBABILITIES),
    "running max (step 0 never reached)": ("M[t+1] max= M[t] + A[t]\nM[t+1] max= B[t]\nL = M[t] M[t]",
                                           dict(A=(5,), B=(5,)), ["A", "B"], None),
    "max-plus recurrence (Viterbi)": ("V[i, t+1] max= V[j, t] + T[j, i] + E[i, t]\nV[i, t+1] max= E[i, t]\n"
                                      "L = V[i, t] V[i, t]", dict(T=(3, 3), E=(3, 4)), ["T", "E"], None),
}


@pytest.mark.parametrize("case", RECURSIONS)
def test_finite_differences(case, backend):
    source, shapes, wrt, extra = RECURSIONS[case]
    check_gradients(source, shapes, backend, wrt, positive=True, extra=extra)


@pytest.mark.parametrize("case", RECURSIONS)
def test_adjoint_identity(case, backend):
    source, shapes, wrt, extra = RECURSIONS[case]
    check_identity(source, shapes, wrt, backend, positive=True, extra=extra, scale=0.1)


def test_the_gradient_of_a_fixpoint_is_a_fixpoint():
    program = tlc.grad(RECURSIONS["fixpoint through a second tensor"][0], wrt=["A"]).gradient.program
    modes = {s.tensors: s.mode for s in stratify(program)}
    assert modes[("L_grad_P", "L_grad_Q")] is Mode.FIXPOINT


def test_equal_shortest_paths_share_the_adjoint(backend):
    source = RECURSIONS["shortest paths"][0]
    w = np.full((4, 4), 100.0)
    w[0, 1] = w[1, 3] = w[0, 2] = w[2, 3] = 1.0          # two paths of length 2 from 0 to 3
    c = np.zeros((4, 4))
    c[0, 3] = 1.0
    program = tlc.grad(source, wrt=["W"], backend=backend)
    results = program(W=w, C=c)
    assert float(results["L"]) == 2.0
    expected = np.zeros((4, 4))
    expected[0, 1] = expected[1, 3] = expected[0, 2] = expected[2, 3] = 0.5
    np.testing.assert_array_equal(results[program.gradients["W"]], expected)


def test_elements_never_reached_pass_no_adjoint(backend):
    program = tlc.grad("M[t+1] max= M[t] A[t]\nL = M[t] M[t]", wrt=["A"], backend=backend)
    results = program(A=np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(results["M"], 0.0)
    np.testing.assert_array_equal(results[program.gradients["A"]], 0.0)
    assert "L_reached_M[t + 1] max= L_reached_M[t] * A[t]^0" in format_gradient(program.gradient, "L")


def test_data_for_a_min_recursion_counts_as_reached(backend):
    source = "D[x] min= D[y] + W[y, x]\nL = D[x] C[x]"
    d0 = np.array([0.0, 5.0, 9.0])
    w = np.array([[9.0, 1.0, 4.0], [9.0, 9.0, 1.0], [9.0, 9.0, 9.0]])
    c = np.array([0.0, 1.0, 1.0])
    program = tlc.grad(source, wrt=["W"], backend=backend)
    results = program(D=d0, W=w, C=c)
    np.testing.assert_array_equal(results["D"], [0.0, 1.0, 2.0])      # 0 -> 1 -> 2 beats 0 -> 2
    expected = np.zeros((3, 3))
    expected[0, 1], expected[1, 2] = 2.0, 1.0                           # D[1] and D[2] both use 0 -> 1
    np.testing.assert_array_equal(results[program.gradients["W"]], expected)
