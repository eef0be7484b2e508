"""tlc.grad and tlc grad: defaults, naming, printing round trips and located errors for unsupported constructs."""

import numpy as np
import pytest

from gradcheck import random_inputs
from test_grad_rules import RULES
import tlc
from tlc.api import frontend
from tlc.cli import main
from tlc.gradient import differentiate
from tlc.gradient.printing import format_gradient


def test_default_wrt_is_the_declared_inputs():
    program = tlc.grad("tensor W[2, 3]\nY[i] = W[i, j] X[j]\nL = Y[i] Y[i]")
    assert program.gradients == {"W": "L_grad_W"}


def test_default_wrt_without_declarations_is_every_numeric_input():
    program = tlc.grad("Y[i] = W[i, j] X[j] R(j)\nL = Y[i] Y[i] + s")
    assert set(program.gradients) == {"W", "X"}


def test_gradient_names_avoid_the_programs_names():
    program = tlc.grad("L_grad_W[i] = W[i]\nL = L_grad_W[i] W[i]", wrt=["W"])
    assert program.gradients == {"W": "L_grad_W_2"}
    np.testing.assert_array_equal(program(W=np.array([1.0, 3.0]))["L_grad_W_2"], [2.0, 6.0])


def test_accepts_a_compiled_program_and_a_loss_name():
    forward = tlc.compile("Y[i] = A[i] A[i]\nloss = Y[i]")
    program = tlc.grad(forward, loss="loss", wrt="A")
    np.testing.assert_array_equal(program(A=np.array([3.0]))[program.gradients["A"]], [6.0])


@pytest.mark.parametrize("rule", RULES)
def test_printed_program_reparses_to_the_same_numbers(rule, backend):
    source, shapes, wrt = RULES[rule]
    gradient = differentiate(source, "L", wrt)
    text = format_gradient(gradient, "L")
    assert frontend(text).statements == gradient.program.statements
    inputs = random_inputs(shapes)
    direct = tlc.grad(source, wrt=wrt, backend=backend)(**inputs)
    reparsed = tlc.compile(text, backend=backend)(**inputs)
    for name in gradient.gradients.values():
        np.testing.assert_array_equal(reparsed[name], direct[name])


def test_printed_program_comments_name_the_forward_lines():
    text = format_gradient(differentiate("Y[i] = A[i] A[i]\nL = Y[i]", "L", ["A"]), "L")
    assert "# from line 2: L = Y[i]\n" in text and "# from line 1: Y[i] = A[i] A[i]\n" in text


def test_cli_grad_output_checks_and_runs(tmp_path, capsys):
    source = tmp_path / "mlp.tl"
    source.write_text("tensor W[2, 3]\nH[i] = relu(W[i, j] X[j])\nL = H[i] H[i]\n")
    out = tmp_path / "grad.tl"
    assert main(["grad", str(source), "--loss", "L", "--wrt", "W", "-o", str(out)]) == 0
    assert main(["check", str(out)]) == 0
    data = tmp_path / "data.npz"
    inputs = random_inputs(dict(W=(2, 3), X=(3,)))
    np.savez(data, **inputs)
    capsys.readouterr()
    assert main(["run", str(out), "--data", str(data), "--output", "L_grad_W"]) == 0
    printed = capsys.readouterr().out
    expected = tlc.grad(source.read_text(), wrt=["W"])(**inputs)["L_grad_W"]
    assert printed.startswith("L_grad_W (2, 3) =")
    assert np.allclose(np.array([float(v) for v in printed.split("=", 1)[1].replace("[", " ").replace("]", " ").split()]).reshape(2, 3), expected, atol=1e-6)


def test_cli_grad_reports_a_bad_loss(tmp_path, capsys):
    source = tmp_path / "p.tl"
    source.write_text("Y[i] = A[i]\n")
    assert main(["grad", str(source), "--loss", "Y"]) == 1
    assert "must be a scalar (0-d) tensor" in capsys.readouterr().err


UNSUPPORTED = {
    "min= recursion through a sum": ("D[x] min= A[x]\nD[x] min= E[x]\nE[x] = 0.5 D[x]\nL = D[i]", 3,
                                     "a recursion mixing 'min=' with a sum"),
    "several avg=": ("M[i] avg= A[i, j]\nM[i] avg= A[j, i]\nL = M[i]", 1, "several 'avg=' equations"),
    "max= over a relation": ("M[i] max= R(i, j) A[j]\nL = M[i]", 1, "'max=' over a relation"),
    "avg= recursion": ("M[t+1] avg= M[t] A[t]\nL = M[i]", 1, "an 'avg=' recursion"),
    "constant index in a shifted read": ("Y[i] = A[i + 1, 0]\nL = Y[i]", 1, "a constant index"),
    "diagonal in a convolution": ("Y[x] = A[x + d, d]\nL = Y[x]", 1, "a repeated index"),
    "negation": ("Y[i] = C[i] ~A[i]\nL = Y[i]", 1, "~ (negation)"),
    "relation": ("R(i) = A[i]\nL = R(i) B[i]", 1, "a relation"),
    "concat of an expression": ("M[b, d] = concat(2 A[b, h, e])\nL = M[b, d] M[b, d]", 1, "concat(...) of"),
    "tensor exponent": ("Y[i] = A[i]^B[i]\nL = Y[i]", 1, "a power whose exponent reads a tensor"),
    "summed between arguments": ("Y = max(A[i], B[i])\nL = Y[]", 1, "max(...) summing an index between"),
    "diagonal": ("Y[i] = A[i, i]\nL = Y[i]", 1, "a repeated index"),
    "constant index": ("Y[i] = A[i, 0]\nL = Y[i]", 1, "a constant index"),
}


@pytest.mark.parametrize("construct", UNSUPPORTED)
def test_unsupported_construct_is_a_located_error(construct):
    source, line, named = UNSUPPORTED[construct]
    with pytest.raises(tlc.TlcError) as caught:
        tlc.grad(source, wrt=["A"])
    assert caught.value.line == line
    assert f"the gradient of {named}" in caught.value.message and "not implemented yet" in caught.value.message


@pytest.mark.parametrize("loss, wrt, message", [("Z", ["A"], "not a tensor of this program"),
                                                ("Y", ["A"], "must be a scalar"),
                                                ("L", ["Q"], "not a tensor of this program"),
                                                ("L", ["L"], "the loss itself"),
                                                ("L", ["s"], "scalar inputs are constants")])
def test_bad_loss_or_wrt(loss, wrt, message):
    with pytest.raises(tlc.TlcError, match=message):
        tlc.grad("Y[i] = A[i] + s\nL = Y[i]", loss=loss, wrt=wrt)


MLP = """
tensor W1[4, 3]
tensor W2[2, 4]
H[n, h] = tanh(W1[h, d] X[n, d])
Y[n, o.] = softmax(W2[o, h] H[n, h])
L = -(T[n, o] log(Y[n, o]))
"""


def test_gradient_program_verifies_and_agrees_at_every_optimisation_level(backend):
    from tlc.ir.verify import verify
    verify(differentiate(MLP, "L").program)
    inputs = random_inputs(dict(W1=(4, 3), W2=(2, 4), X=(5, 3), T=(5, 2)), positive=True)
    reference = tlc.grad(MLP, backend=backend, opt_level=0)(**inputs)
    for level in (1, 2, 3):
        results = tlc.grad(MLP, backend=backend, opt_level=level)(**inputs)
        for name in ("L", "L_grad_W1", "L_grad_W2"):
            np.testing.assert_allclose(results[name], reference[name], rtol=1e-12, atol=1e-14)


def test_a_recursion_the_loss_does_not_depend_on_is_allowed():
    program = tlc.grad("Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\nY[i] = A[i] A[i]\nL = Y[i]",
                       wrt=["A"])
    results = program(A=np.array([1.0, 2.0]), Edge=[(0, 1), (1, 2)])
    np.testing.assert_array_equal(results[program.gradients["A"]], [2.0, 4.0])
    assert (0, 2) in list(results["Path"])


RNN = "S[i, *t+1] = tanh(W[i, j] S[j, *t] + In[i, t])\nY[i, t] = S[i, *t] In[i, t]\nL = Y[i, t] Y[i, t]\n"


def test_virtual_index_stores_the_trajectory_and_keeps_the_final_state(backend):
    program = tlc.grad(RNN, wrt=["W"], backend=backend)
    inputs = random_inputs(dict(W=(2, 2), In=(2, 3)))
    assert program.gradient.trajectories == {"S": "L_traj_S"} and program(**inputs)["S"].shape == (2,)
    text = format_gradient(program.gradient, "L")
    assert "# the stored trajectory from line 1: S[i, *t + 1] =" in text
    results = tlc.compile(text, backend=backend)(**inputs)
    assert results["L_traj_S"].shape == (2, 4)
    np.testing.assert_array_equal(results["S"], results["L_traj_S"][:, -1])


def test_data_for_a_defined_tensor_on_the_path_is_a_located_error():
    program = tlc.grad("Y[i] = tanh(X[i])\nL = Y[i] Y[i]", wrt=["X"])
    with pytest.raises(tlc.TlcError, match="data for Y, which the program defines") as caught:
        program(X=np.ones(2), Y=np.ones(2))
    assert (caught.value.line, caught.value.column) == (1, 1)


def test_data_for_a_virtual_state_is_a_located_error():
    program = tlc.grad(RNN, wrt=["W"])
    with pytest.raises(tlc.TlcError, match="initial state of a virtual index") as caught:
        program(**random_inputs(dict(W=(2, 2), In=(2, 3), S=(2, 1))))
    assert (caught.value.line, caught.value.column) == (1, 1)


def test_virtual_tensor_is_not_a_wrt():
    with pytest.raises(tlc.TlcError, match="it has a virtual index") as caught:
        tlc.grad(RNN, wrt=["S"])
    assert caught.value.line == 1


def test_convolution_input_gradient_is_a_left_indexed_accumulation():
    text = format_gradient(differentiate("Y[x] = W[d] X[x + d]\nL = Y[x] Y[x]", "L", ["X"]), "L")
    assert "L_grad_X[i1] = 0 * X[i1]^0\n" in text
    assert "L_grad_X[x + d] += W[d]^0 * X[x + d]^0 L_grad_Y[x] W[d]\n" in text


def test_recurrence_gradient_is_the_reverse_recursion():
    text = format_gradient(differentiate("S[0] = A[0]\nS[t+1] = S[t] + X[t]\nL = S[t] S[t]", "L", ["X"]), "L")
    assert "L_grad_S[t] += X[t]^0 L_grad_S[t + 1]\n" in text
