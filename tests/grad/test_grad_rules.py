"""Every gradient rule against central finite differences (float64, h = 1e-6), on every CPU backend."""

import numpy as np
import pytest

from gradcheck import check_gradients, random_inputs
import tlc

RULES = {
    "join": ("Y[i, k] = A[i, j] B[j, k]\nL = Y[i, k] C[i, k]", dict(A=(2, 3), B=(3, 4), C=(2, 4)), ["A", "B"]),
    "sum and difference": ("Y[i] = A[i] - B[i] + 2 A[i]\nL = Y[i] Y[i]", dict(A=(3,), B=(3,)), ["A", "B"]),
    "constants and scalar inputs": ("const c = 3\nY[i] = c A[i] + s - 0.5\nL = Y[i] Y[i] B[i]",
                                    dict(A=(3,), B=(3,), s=()), ["A", "B"]),
    "division": ("Y[i] = A[i] / B[i] + 1 / (B[i] A[i] + 3)\nL = Y[i] C[i]", dict(A=(3,), B=(3,), C=(3,)), ["A", "B"]),
    "division summing inside the divisor": ("Y[i] = A[i] / B[i, j]\nL = Y[i] Y[i]", dict(A=(2,), B=(2, 3)), ["A", "B"]),
    "power": ("const c = 2.5\nY[i] = A[i]^3 + (A[i]^2 + 1)^c + (B[i]^2 + 1)^0.5 - A[i]^2 + (A[i]^2 + 2)^-1\n"
              "L = Y[i] B[i]", dict(A=(3,), B=(3,)), ["A", "B"]),
    "negation": ("Y[i] = -A[i] - (-B[i] C[i])\nL = Y[i] Y[i]", dict(A=(3,), B=(3,), C=(3,)), ["A", "B", "C"]),
    "several equations": ("Y[i] = A[i, j] X[j]\nY[i] += B[i]\nY[i] = X[i]^2\nL = Y[i] Y[i]",
                          dict(A=(3, 3), X=(3,), B=(3,)), ["A", "X", "B"]),
    "summed inside a power": ("L = (A[i] - B[i])^2", dict(A=(3,), B=(3,)), ["A", "B"]),
    "summed inside exp": ("K[i, k] = exp(-(X[i, j] - Z[k, j])^2 / 2)\nL = K[i, k] C[i, k]",
                          dict(X=(2, 3), Z=(4, 3), C=(2, 4)), ["X", "Z"]),
    "summed at a reference": ("S = tanh(H[i])\nL = A[i] B[j] + S[] H[k]", dict(A=(2,), B=(3,), H=(4,)), ["A", "B", "H"]),
    "broadcast left-hand side": ("Y[i, j] = A[i] + B[j]\nL = Y[i, j] Y[i, j]", dict(A=(2,), B=(3,)), ["A", "B"]),
    "softmax": ("Y[i, j.] = softmax(A[i, j] X[j])\nL = Y[i, j] C[i, j]", dict(A=(2, 3), X=(3,), C=(2, 3)), ["A", "X"]),
    "softmax inside an expression": ("Y[i, j.] = 2 * softmax(A[i, j]) + A[i, j]\nL = Y[i, j] C[i, j]",
                                     dict(A=(2, 3), C=(2, 3)), ["A"]),
    "avg=": ("M[i] avg= A[i, j] B[j, k]\nL = M[i] M[i]", dict(A=(2, 3), B=(3, 4)), ["A", "B"]),
    "max=": ("M[i] max= A[i, j] B[j]\nL = M[i] C[i]", dict(A=(3, 4), B=(4,), C=(3,)), ["A", "B"]),
    "min=": ("M[i] min= exp(A[i, j]) + B[j]\nL = M[i] C[i]", dict(A=(3, 4), B=(4,), C=(3,)), ["A", "B"]),
    "max= to a scalar": ("M max= A[i] B[i]\nL = M M[]", dict(A=(3,), B=(3,)), ["A", "B"]),
    "pairwise max and min": ("Y[i] = max(A[i], B[i]) + min(A[i], 2 B[i])\nL = Y[i] C[i]",
                             dict(A=(4,), B=(4,), C=(4,)), ["A", "B"]),
    "softmax cross-entropy": ("Y[n, o.] = softmax(W[o, d] X[n, d])\nL = -(T[n, o] log(Y[n, o]))",
                              dict(W=(3, 2), X=(4, 2), T=(4, 3)), ["W", "X"]),
    "lnorm": ("Y[i, j.] = lnorm(A[i, j] X[j])\nL = Y[i, j] C[i, j]", dict(A=(2, 4), X=(4,), C=(2, 4)), ["A", "X"]),
    "lnorm inside an expression": ("Y[i, j] = 2 * lnorm(A[i, j] + B[j]) + A[i, j]\nL = Y[i, j] Y[i, j] C[i, j]",
                                   dict(A=(3, 4), B=(4,), C=(3, 4)), ["A", "B"]),
    "lnorm of a contraction": ("Y[i, j.] = lnorm(A[i, k] B[k, j] + A[i, j] C[j, k] D[i, k])\nL = Y[i, j] E[i, j]",
                               dict(A=(2, 3), B=(3, 3), C=(3, 3), D=(2, 3), E=(2, 3)), ["A", "B", "C", "D"]),
    "lnorm over two indices of a contraction": ("Y[b, p., d.] = lnorm(W[d, e] H[b, p, e] + S[b, p, d])\n"
                                                "L = Y[b, p, d] Y[b, p, d] C[b, p, d]",
                                                dict(W=(3, 2), H=(2, 2, 2), S=(2, 2, 3), C=(2, 2, 3)), ["W", "H", "S"]),
    "lnorm of a shifted read": ("Y[i, j.] = lnorm(A[i, j + 1] B[j, k])\nL = Y[i, j] C[i, j]",
                                dict(A=(2, 4), B=(3, 2), C=(2, 3)), ["A", "B"]),
    "index values": ("Y[i] = A[i] sin(i / 3) + A[i]^2 / (i + 1)\nL = Y[i] Y[i]", dict(A=(4,)), ["A"]),
    "shift": ("Y[i] = A[i + 1] A[i]\nL = Y[i] Y[i]", dict(A=(5,)), ["A"]),
    "shift back and plain": ("Y[i] = A[i - 1] B[i] + B[i]\nL = Y[i] C[i]", dict(A=(5,), B=(5,), C=(5,)), ["A", "B"]),
    "shift on the left": ("Y[i + 1] = A[i] B[i]\nL = Y[i] Y[i]", dict(A=(4,), B=(4,)), ["A", "B"]),
    "convolution": ("Y[x] = W[d] X[x + d]\nL = Y[x] Y[x] C[x]", dict(W=(3,), X=(7,), C=(5,)), ["W", "X"]),
    "2-d convolution": ("Y[x, y] = relu(F[dx, dy] I[x + dx, y + dy])\nL = Y[x, y] Y[x, y]",
                        dict(F=(2, 3), I=(5, 6)), ["F", "I"]),
    "convolution by difference": ("D[x] = I[x - d] F[d]\nL = D[x] D[x] C[x]", dict(I=(6,), F=(3,), C=(6,)),
                                  ["I", "F"]),
    "pooling sum": ("P[x/2] = A[x]\nL = P[x] P[x]", dict(A=(7,)), ["A"]),
    "average pooling": ("P[x/2, y/2] avg= A[x, y]\nL = P[x, y] P[x, y] C[x, y]", dict(A=(5, 4), C=(2, 2)), ["A"]),
    "max pooling": ("P[x/2] max= A[x] B[x]\nL = P[x] C[x]", dict(A=(6,), B=(6,), C=(3,)), ["A", "B"]),
    "repeat (division on the right)": ("U[i] = X[i/2] A[i]\nL = U[i] U[i]", dict(X=(3,), A=(6,)), ["X", "A"]),
    "recurrence": ("S[i, 0] = X0[i]\nS[i, t+1] = tanh(W[i, j] S[j, t] + U[i, t])\nL = S[i, s] S[i, s] V[i]",
                   dict(X0=(2,), W=(2, 2), U=(2, 4), V=(2,)), ["X0", "W", "U"]),
    "prefix sums": ("S[0] = A[0]\nS[t+1] = S[t] + X[t]\nL = S[t] S[t]", dict(X=(4,), A=(1,)), ["X"]),
    "virtual index (stored trajectory)": ("S[i, *t+1] = tanh(W[i, j] S[j, *t] + U[i, k] In[k, t])\n"
                                          "Y[i, t] = S[i, *t] In[i, t]\nL = Y[i, t] Y[i, t]",
                                          dict(W=(2, 2), U=(2, 2), In=(2, 4)), ["W", "U", "In"]),
    "virtual index with an initial state": ("S[i, *0] = X0[i]\nS[i, *t+1] = tanh(W[i, j] S[j, *t] + In[i, t])\n"
                                            "Y[i, t] = S[i, *t] V[i] In[i, t]\nL = Y[i, t] Y[i, t]",
                                            dict(W=(2, 2), X0=(2,), In=(2, 3), V=(2,)), ["W", "X0", "In", "V"]),
    "concat": ("M[b, d] = concat(A[b, h, e])\nL = M[b, d] M[b, d] C[d]", dict(A=(2, 3, 2), C=(6,)), ["A"]),
    # found by the fuzzer's gradient oracle: T0 shares k's domain with the wider T1 (so its adjoint is wider than
    # its equation's range), and an index used as a number that no read inside its sub-expression bounds
    "adjoint wider than the equation": ("T0[v, k] = 2 + X0[k] + X0[v]\nT1[p, k] = concat(X1[i, p, w])\n"
                                        "T1[a, b] += T0[a, b]\nL = T1[p, k] T1[p, k] + T0[a, b] T0[a, b]",
                                        dict(X0=(1,), X1=(1, 1, 3)), ["X0", "X1"]),
    "index value unbounded inside": ("T0[w, j, q] = tanh(X0[w - 1, q] * (j w X1[j]))\nL = T0[w, j, q] T0[w, j, q]",
                                     dict(X0=(3, 2), X1=(3,)), ["X0", "X1"]),
    "a read with an index of its own bounds a shifted write": ("T1[i + 1] = X1[] + X0[i, j]\nL = T1[i] C[i]",
                                                               dict(X1=(), X0=(3, 2), C=(4,)), ["X1", "X0"]),
    "chain": ("H[i] = tanh(W[i, j] X[j])\nO[k] = sig(V[k, i] H[i])\nL = O[k] O[k]",
              dict(W=(3, 2), X=(2,), V=(2, 3)), ["W", "X", "V"]),
}

FUNCTIONS = ["relu", "sig", "tanh", "exp", "abs", "step", "sin", "cos"]


@pytest.mark.parametrize("rule", RULES)
def test_rule(rule, backend):
    source, shapes, wrt = RULES[rule]
    check_gradients(source, shapes, backend, wrt)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_elementwise_function(function, backend):
    check_gradients(f"Y[i] = {function}(A[i, j] X[j] - B[i])\nL = Y[i] C[i]",
                    dict(A=(3, 2), X=(2,), B=(3,), C=(3,)), backend, ["A", "X", "B"])


@pytest.mark.parametrize("function", ["log", "sqrt"])
def test_function_of_positive_argument(function, backend):
    check_gradients(f"Y[i] = {function}(A[i, j] X[j])\nL = Y[i] C[i]", dict(A=(3, 2), X=(2,), C=(3,)), backend,
                    ["A", "X"], positive=True)


def test_sigmoid_with_temperature(backend):
    check_gradients("const T = 0.5\nY[i] = sig(A[i] X[i], T) + sig(A[i], 2)\nL = Y[i] C[i]",
                    dict(A=(3,), X=(3,), C=(3,)), backend, ["A", "X"])


def test_step_and_zero_temperature_have_zero_gradient(backend):
    program = tlc.grad("Y[i] = step(A[i]) + sig(A[i], 0)\nL = Y[i] Y[i]", wrt=["A"], backend=backend)
    np.testing.assert_array_equal(program(A=np.array([0.5, -1.0, 0.0]))[program.gradients["A"]], 0.0)


def test_relu_gradient_is_zero_at_zero(backend):
    program = tlc.grad("Y[i] = relu(A[i])\nL = Y[i]", wrt=["A"], backend=backend)
    np.testing.assert_array_equal(program(A=np.array([0.0, 2.0, -1.0]))[program.gradients["A"]], [0.0, 1.0, 0.0])


def test_relation_as_constant_mask(backend):
    mask = np.array([[True, False, True], [False, True, True]])
    check_gradients("Y[i] = R(i, j) A[j] W[i, j]\nL = Y[i] Y[i]", dict(A=(3,), W=(2, 3)), backend, ["A", "W"],
                    extra={"R": mask})


def test_mlp_with_squared_error(backend):
    source = """
    tensor W1[4, 3]
    tensor B1[4]
    tensor W2[2, 4]
    H[n, h] = relu(W1[h, d] X[n, d] + B1[h])
    O[n, o] = sig(W2[o, h] H[n, h])
    E[n, o] = (O[n, o] - T[n, o])^2
    L = E[n, o] / 2
    """
    shapes = dict(W1=(4, 3), B1=(4,), W2=(2, 4), X=(5, 3), T=(5, 2))
    program = check_gradients(source, shapes, backend)
    assert set(program.gradients) == {"W1", "B1", "W2"}


def test_forward_results_are_kept(backend):
    program = tlc.grad("Y[i] = A[i] A[i]\nL = Y[i]", wrt=["A"], backend=backend)
    results = program(A=np.array([1.0, 2.0]))
    assert float(results["L"]) == 5.0
    np.testing.assert_array_equal(results["Y"], [1.0, 4.0])
    np.testing.assert_array_equal(results[program.gradients["A"]], [2.0, 4.0])


def test_unused_tensor_has_zero_gradient(backend):
    program = tlc.grad("Y[i] = A[i] A[i]\nZ[i] = B[i]\nL = Y[i]", wrt=["A", "B"], backend=backend)
    inputs = random_inputs(dict(A=(2,), B=(3,)))
    np.testing.assert_array_equal(program(**inputs)[program.gradients["B"]], np.zeros(3))


def test_max_shares_the_adjoint_between_ties(backend):
    program = tlc.grad("M max= A[i]\nL = 2 M[]", wrt=["A"], backend=backend)
    np.testing.assert_array_equal(program(A=np.array([1.0, 3.0, 3.0]))[program.gradients["A"]], [0.0, 1.0, 1.0])


def test_pairwise_max_tie_goes_to_the_second_argument(backend):
    program = tlc.grad("Y[i] = max(A[i], B[i])\nL = Y[i]", wrt=["A", "B"], backend=backend)
    results = program(A=np.array([2.0, 1.0]), B=np.array([2.0, 0.0]))
    np.testing.assert_array_equal(results[program.gradients["A"]], [0.0, 1.0])
    np.testing.assert_array_equal(results[program.gradients["B"]], [1.0, 0.0])


def test_relation_bounds_a_shifted_write(backend):
    # found by the fuzzer's gradient oracle: only E0(i) keeps i >= 0 (i + 1 >= 0 would allow i = -1)
    check_gradients("T1[i + 1] = X1[] + E0(i)\nL = T1[i] C[i]", dict(X1=(), C=(4,)), backend, ["X1"],
                    extra={"E0": np.array([True, False, True])})
