"""The backward program reuses what the forward stored and computes each adjoint once: no recomputed
pre-activation, no ``R^0`` carrier or range tensor where the left-hand side's adjoint already bounds the indices,
one materialised adjoint for a node several tensors read through; each case against central finite differences on
random non-zero inputs, on every CPU backend."""

import numpy as np
import pytest

import tlc
from gradcheck import check_gradients, random_inputs
from tlc.gradient import differentiate
from tlc.gradient.printing import format_gradient

LAYER = """
tensor W1[4, 3]
tensor B1[4]
tensor W2[2, 4]
tensor B2[2]
H[n, h] = relu(W1[h, d] X[n, d] + B1[h])
Z[n, k] = W2[k, h] H[n, h] + B2[k]
P[n, k.] = softmax(Z[n, k])
C[n] = Y[n, k] log(P[n, k])
L avg= -C[n]
"""
LAYER_SHAPES = dict(W1=(4, 3), B1=(4,), W2=(2, 4), B2=(2,), X=(5, 3))

BLOCK = """
tensor WS[4, 6]
tensor W1[5, 4]
tensor WO[3, 4]
Merge[b, p, m] = concat(A[b, h, p, v])
S1[b, p, d.] = lnorm(WS[d, m] Merge[b, p, m] + X[b, p, d])
Hid[b, p, e] = relu(W1[e, d] S1[b, p, d])
Y[b, p, t.] = softmax(WO[t, d] S1[b, p, d] + WO[t, d] Hid[b, p, d'] W1[d', d])
L = Y[b, p, t] Y[b, p, t] G[b, p, t]
"""
BLOCK_SHAPES = dict(WS=(4, 6), W1=(5, 4), WO=(3, 4), A=(2, 2, 3, 3), X=(2, 3, 4), G=(2, 3, 3))


def _backward(source: str) -> list[str]:
    """The gradient program's generated equations, one line each (comments left out)."""
    text = format_gradient(differentiate(source, "L"), "L")
    return [line for line in text.split("# gradient of")[1].splitlines()[1:] if not line.startswith("#")]


def test_relu_reads_its_stored_output(backend):
    check_gradients(LAYER, LAYER_SHAPES, backend, extra={"Y": np.eye(2)[[0, 1, 1, 0, 1]]})
    backward = "\n".join(_backward(LAYER))
    assert "L_val_H" not in backward                 # the pre-activation W1 X + B1 is not computed again
    assert "step(H[n, h])" in backward


def test_an_adjoint_that_bounds_its_indices_needs_no_carrier(backend):
    check_gradients(LAYER, LAYER_SHAPES, backend, extra={"Y": np.eye(2)[[1, 1, 0, 0, 1]]})
    backward = _backward(LAYER)
    linear = [line for line in backward if line.startswith(("L_grad_W2", "L_grad_H[", "L_grad_B2"))]
    assert linear == ["L_grad_W2[k, h] = L_grad_Z[n, k] H[n, h]", "L_grad_H[n, h] = L_grad_Z[n, k] W2[k, h]",
                      "L_grad_B2[k] = L_grad_Z[n, k]"]
    assert not any("_range" in line for line in backward)


def test_a_declared_wider_tensor_keeps_its_carrier(backend):
    # Y is declared wider than its equation writes, so its adjoint is wider than B: B^0 keeps dL/dB at B's extent
    # (a declaration could as well be narrower than B, so dL/dB starts from a zero base shaped like B, which the
    # backends leave out: it adds 0 to an array of zeros)
    source = "tensor Y[5]\nY[i] = B[i]\nL = Y[i] Y[i]"
    program = check_gradients(source, dict(B=(3,)), backend, wrt=["B"])
    assert program(B=np.ones(3))[program.gradients["B"]].shape == (3,)
    assert "L_grad_B[i] += B[i]^0 L_grad_Y[i]" in _backward(source)


def test_a_node_read_by_several_children_has_its_adjoint_computed_once(backend):
    check_gradients(BLOCK, BLOCK_SHAPES, backend)
    backward = _backward(BLOCK)
    softmax = [line for line in backward if "Y[b, p, t] * (" in line]
    assert len(softmax) == 1, softmax                 # Y (dY - sum) once, then read by WO, S1, Hid and W1's terms
    normalised = [line for line in backward if "sqrt(L_grad_S1_var" in line]
    assert len(normalised) == 1, normalised


@pytest.mark.parametrize("source, shapes, normalised", [
    (BLOCK, BLOCK_SHAPES, "S1"),
    ("Y[i, j.] = lnorm(A[i, j] B[j])\nL = Y[i + 1, j] C[i, j]", dict(A=(3, 5), B=(5,), C=(3, 5)), "Y"),
    ("Y[b, p., d.] = lnorm(W[d, e] H[b, p, e] + S[b, p, d])\nL = Y[b, p, d] Y[b, p, d] C[b, p, d]",
     dict(W=(3, 2), H=(2, 3, 2), S=(2, 3, 3), C=(2, 3, 3)), "Y"),
])
def test_lnorm_backward_reads_the_forwards_mean_and_variance(source, shapes, normalised, backend):
    # the forward computes the normalised tensor as centred * scale from the tensors its backward reads: the mean,
    # the variance and its square root once in the whole program, and the same forward values as the program alone
    check_gradients(source, shapes, backend)
    text = format_gradient(differentiate(source, "L"), "L")
    equations = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert not any("lnorm(" in line for line in equations)
    assert sum(line.count("sqrt(") for line in equations) == 1
    assert f"{normalised}[" in "".join(line.split("=")[0] for line in equations if "_scale[" in line)
    inputs = random_inputs(shapes)
    alone = tlc.compile(source, backend=backend)(**inputs)[normalised]
    np.testing.assert_allclose(tlc.grad(source, backend=backend)(**inputs)[normalised], alone, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("source, shapes", [
    ("Y[i, k] = A[i, j] (B[j, k] + C[j, k])\nL = Y[i, k] Y[i, k]", dict(A=(2, 3), B=(3, 4), C=(3, 4))),
    ("Y[i] = exp(A[i, j] B[j] - C[i])\nL = Y[i] Y[i]", dict(A=(2, 3), B=(3,), C=(2,))),
    ("Y[i] = relu(A[i, j] B[j]) relu(C[i] - A[i, j] B[j])\nL = Y[i] Y[i]", dict(A=(3, 2), B=(2,), C=(3,))),
])
def test_shared_adjoints_of_inner_nodes(source, shapes, backend):
    check_gradients(source, shapes, backend)


@pytest.mark.parametrize("width", [4, 6])
def test_a_zero_base_costs_nothing_at_run_time(width, backend):
    # M's extent (from concat) is not known before the data, so dL/dW starts from a zero base shaped like W; it adds
    # 0 to an array of zeros, so no backend runs it, and W wider than M gets zeros past M's end
    source = "M[b, m] = concat(A[b, h, v])\nT[b, d] = W[d, m] M[b, m]\nL = T[b, d] T[b, d]"
    program = check_gradients(source, dict(A=(2, 2, 2), W=(3, width)), backend, wrt=["W"])
    assert "L_grad_W[i1, i2] = 0 * W[i1, i2]^0" in _backward(source)
    inputs = {"A": np.ones((2, 2, 2)), "W": np.ones((3, width))}
    assert program(**inputs)[program.gradients["W"]].shape == (3, width)
    assert "# (adds 0 to an array of zeros: it gives only its extent)" in program.source(**inputs)


RECURRENCE = """
tensor W[3, 3]
tensor U[3, 2]
tensor B[3]
S[b, h, t+1] = tanh(W[h, g] S[b, g, t] + U[h, k] In[b, k, t] + B[h])
L = S[b, h, t] S[b, h, t]
"""


def test_a_recurrences_range_tensors_read_one_group_of_reads_each(backend):
    # With index arithmetic every forward read bounds a range tensor, but reads that share no summed index are
    # reduced apart: one product over W's, U's and In's other indices took 5 GB for examples/rnn_recall.tl
    check_gradients(RECURRENCE, dict(W=(3, 3), U=(3, 2), B=(3,), In=(2, 2, 4)), backend, wrt=["W", "U", "B"])
    ranges = [line.split(" = ", 1)[1] for line in _backward(RECURRENCE)
              if " = " in line and "_range" in line.split(" = ")[0]]
    assert ranges and all(rhs.count("^0") == 1 for rhs in ranges)
