"""Pinned language semantics (DESIGN.md §2), each against an independent NumPy computation."""

import numpy as np
import pytest

import tlc

rng = np.random.default_rng(7)


def rand(*shape):
    return rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def test_projection_inside_first_term_only(compile_tl):
    W, X, B = rand(4, 3), rand(3), rand(4)
    res = compile_tl("Y[i] = relu(W[i,j] X[j] + B[i])")(W=W, X=X, B=B)
    np.testing.assert_allclose(res["Y"], np.maximum(W @ X + B, 0))


def test_projection_over_enclosing_subexpression(compile_tl):
    X = rand(3, 4)
    src = "D[i, i'] = (X[i,j] - X[i',j])^2\nG[i, i'] = exp(-(X[i,j] - X[i',j])^2 / V)\nS[i] = A[i,j] + B[i,j]"
    res = compile_tl(src)(X=X, A=X, B=2 * X, V=2.0)
    diff = X[:, None, :] - X[None, :, :]
    np.testing.assert_allclose(res["D"], diff.sum(-1) ** 2)       # no product: summed inside the square
    np.testing.assert_allclose(res["G"], np.exp(-(diff ** 2).sum(-1) / 2.0))   # summed at the product
    np.testing.assert_allclose(res["S"], 3 * X.sum(1))


def test_same_lhs_equations_are_summed(compile_tl):
    A, B = rand(5), rand(5)
    res = compile_tl("Y[i] = A[i]\nY[i] += B[i]\nZ[i] = A[i] + B[i]")(A=A, B=B)
    np.testing.assert_allclose(res["Y"], A + B)
    np.testing.assert_allclose(res["Z"], A + B)


def test_max_min_reduce_over_contributions_only(compile_tl):
    A = -np.abs(rand(3, 4))          # all negative: an implicit 0 would win the max
    res = compile_tl("M[i] max= A[i,j]\nN[i] min= -A[i,j]")(A=A)
    np.testing.assert_allclose(res["M"], A.max(1))
    np.testing.assert_allclose(res["N"], (-A).min(1))


def test_min_plus_shortest_paths_fixpoint(compile_tl):
    W = np.array([[0, 1, 5], [9, 0, 1], [9, 9, 0]], dtype=float)
    res = compile_tl("D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] + W[y, z]")(W=W)
    np.testing.assert_allclose(res["D"], [[0, 1, 2], [9, 0, 1], [9, 9, 0]])


def test_nonlinear_and_mutual_recursion(compile_tl):
    edges = [(0, 1), (1, 2), (2, 3), (3, 4)]
    prog = compile_tl("P(x, y) = E(x, y)\nP(x, z) = P(x, y) P(y, z)\n"
                       "Odd(x, y) = E(x, y)\nOdd(x, z) = Even(x, y) E(y, z)\nEven(x, z) = Odd(x, y) E(y, z)")
    res = prog(E=edges)
    assert set(res["P"]) == {(a, b) for a in range(5) for b in range(5) if a < b}
    assert set(res["Odd"]) == {(a, b) for a in range(5) for b in range(5) if b > a and (b - a) % 2 == 1}
    assert set(res["Even"]) == {(a, b) for a in range(5) for b in range(5) if b > a and (b - a) % 2 == 0}


def test_numeric_fixpoint_converges_and_non_convergence_is_located(compile_tl):
    A = np.array([[0.0, 0.5], [0.25, 0.0]])
    b = np.array([1.0, 2.0])
    res = compile_tl("X[i] = A[i,j] X[j] + B[i]")(A=A, B=b)
    np.testing.assert_allclose(res["X"], np.linalg.solve(np.eye(2) - A, b))
    with pytest.raises(tlc.TlcError) as err:
        compile_tl("\nX[i] = A[i,j] X[j] + B[i]")(A=2 * np.ones((2, 2)), B=b)
    assert err.value.line == 2 and "fixpoint" in str(err.value)


def test_data_and_equations_combine_and_valid_shift_semantics(compile_tl):
    W, X0 = rand(4, 3, 3), rand(1, 3)
    res = compile_tl("X[i,j] = sig(W[i,j,k] X[i-1,k])")(W=W, X=X0)
    x = [X0[0]]
    for i in range(1, 4):
        x.append(1 / (1 + np.exp(-(W[i] @ x[-1]))))
    np.testing.assert_allclose(res["X"], np.array(x))


def test_a_recursion_reading_ahead_runs_down_its_index(compile_tl):
    X, W, H5 = rand(5), rand(2, 2), rand(2)
    program = compile_tl("H[i, t] = tanh(W[i, j] H[j, t+1] + X[t])\nH[i, 5] = H5[i]")
    h = np.zeros((2, 6))
    h[:, 5] = H5
    for t in range(4, -1, -1):
        h[:, t] = np.tanh(W @ h[:, t + 1] + X[t])
    np.testing.assert_allclose(program(X=X, W=W, H5=H5)["H"], h)
    assert "steps down the recursive index" in program.source(X=X, W=W, H5=H5)


def test_a_recursion_reading_past_its_end_stays_a_fixpoint(compile_tl):
    # S[5] reads S[6], past the end: 0, and S[5] is still defined (as for every recursive read past the end)
    X = rand(6)
    program = compile_tl("S[t] = S[t+1] + X[t]")
    np.testing.assert_allclose(program(X=X)["S"], np.cumsum(X[::-1])[::-1])
    assert "iterate to a fixpoint" in program.source(X=X)


def test_sig_temperature_zero_is_step(compile_tl):
    X = rand(6)
    res = compile_tl("A[i] = sig(X[i], T)\nB[i] = sig(X[i])")(X=X, T=0.0)
    np.testing.assert_array_equal(res["A"], (X > 0).astype(float))
    np.testing.assert_allclose(res["B"], 1 / (1 + np.exp(-X)))


def test_softmax_and_lnorm_axes(compile_tl):
    S = rand(3, 4)
    res = compile_tl("P[i, j.] = softmax(S[i,j])\nQ[i., j] = softmax(S[i,j])\nL[i, j] = lnorm(S[i,j])")(S=S)
    e = np.exp(S)
    np.testing.assert_allclose(res["P"], e / e.sum(1, keepdims=True))
    np.testing.assert_allclose(res["Q"], e / e.sum(0, keepdims=True))
    z = (S - S.mean(1, keepdims=True)) / np.sqrt(S.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(res["L"], z)


def test_query_binds_variables_in_order(compile_tl):
    prog = compile_tl("R(Ann, Bo)\nR(Bo, Cy)\nR(Cy, Cy)")
    assert prog.query("R(x, y)") == [("Ann", "Bo"), ("Bo", "Cy"), ("Cy", "Cy")]
    assert prog.query("R(x, x)") == [("Cy",)]
    assert prog.query("R(Ann, Bo)") == [()]
    assert prog.query("R(Zed, x)") == []


def test_explain_and_source_name_the_plan():
    prog = tlc.compile("C[i,l] = A[i,j] B[j,k] D[k,l]")
    data = dict(A=rand(30, 40), B=rand(40, 5), D=rand(5, 30))
    np.testing.assert_allclose(prog(**data)["C"], data["A"] @ data["B"] @ data["D"])
    assert "contract(" in prog.source() and "optimize=" in prog.source()
    assert "FLOPs" in prog.explain() and "largest intermediate" in prog.explain()


def test_virtual_index_initial_state_and_ring_buffer():
    W, U, In, h0 = rand(4, 4) / 4, rand(4, 3), rand(3, 9), rand(4)
    prog = tlc.compile("S[i, *t+1] = tanh(W[i,j] S[j, *t] + U[i,k] In[k, t])\nS[i, *0] = H0[i]")
    res = prog(W=W, U=U, In=In, H0=h0)
    s = h0
    for t in range(9):
        s = np.tanh(W @ s + U @ In[:, t])
    np.testing.assert_allclose(res["S"], s)
    assert "S = np.zeros((4, 2))" in prog.source()      # only two steps are ever stored


def test_inputs_are_read_in_place_and_never_written(compile_tl):
    """float64 C-ordered data reaches the program without a copy, is left unchanged, and results do not alias it."""
    a = np.random.default_rng(0).uniform(0.5, 1.5, (3, 4))
    before = a.copy()
    res = compile_tl("Y[i, j] = A[i, j]\nZ[i, j] max= A[i, j]\nW[i] = A[i, j]")(A=a)
    np.testing.assert_array_equal(a, before)
    for name in "YZ":
        assert not np.shares_memory(res[name], a)
        np.testing.assert_array_equal(res[name], a)
    transposed = compile_tl("Y[i, j] = A[i, j]")(A=a.T)["Y"]        # a strided view is made contiguous
    np.testing.assert_array_equal(transposed, a.T)
