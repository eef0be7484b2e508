"""Each optimiser's update, emitted as TL equations, against a hand-written NumPy reference."""

import numpy as np
import pytest

from tlc.api import Program
from tlc.gradient import differentiate
from tlc.train.optimisers import OPTIMISERS, hyper, with_update

SOURCE = """tensor W[3, 4]
tensor B[3]
H[n, i] = tanh(W[i, j] X[n, j] + B[i])
L = H[n, i] H[n, i] / 2
"""


def _reference(opt, w, g, state, lr, t):
    """One step of ``opt`` written directly in NumPy: (new value, new state)."""
    b1, b2, eps, mu, wd = 0.9, 0.999, 1e-8, 0.9, 0.01
    if opt == "sgd":
        return w - lr * g, {}
    if opt == "momentum":
        m = mu * state["m"] + g
        return w - lr * m, {"m": m}
    m = b1 * state["m"] + (1 - b1) * g
    v = b2 * state["v"] + (1 - b2) * g * g
    step = lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    if opt == "adamw":
        step = step + lr * wd * w
    return w - step, {"m": m, "v": v}


def _gradients(w, b, x):
    """dL/dW and dL/dB of SOURCE, by hand."""
    h = np.tanh(x @ w.T + b)
    d = h * (1 - h * h)
    return {"W": d.T @ x, "B": d.sum(0)}


@pytest.mark.parametrize("backend", ["numpy", "llvm"])
@pytest.mark.parametrize("opt", OPTIMISERS)
def test_update_matches_numpy(opt, backend):
    rng = np.random.default_rng(1)
    params = {"W": rng.normal(size=(3, 4)), "B": rng.normal(size=3)}
    x = rng.normal(size=(5, 4))
    update = with_update(differentiate(SOURCE, "L"), "L", opt)
    program = Program(update.program, backend)
    state = {w: {s: rng.normal(size=params[w].shape) ** 2 for s in update.state[w]} for w in params}
    lr, t = 0.05, 3
    inputs = {"X": x, **params, **{update.scalars[k]: v for k, v in hyper(opt, lr, t).items()}}
    inputs.update({update.state[w][s][0]: state[w][s] for w in params for s in state[w]})
    results = program(**inputs)
    grads = _gradients(params["W"], params["B"], x)
    for w in params:
        expected, new_state = _reference(opt, params[w], grads[w], state[w], lr, t)
        np.testing.assert_allclose(results[update.next[w]], expected, rtol=1e-10, atol=1e-12)
        for s, value in new_state.items():
            np.testing.assert_allclose(results[update.state[w][s][1]], value, rtol=1e-10, atol=1e-12)


def test_generated_names_avoid_the_users():
    update = with_update(differentiate("tensor W[2]\nW_next[i] = W[i]\nL = W_next[i] W[i] opt_lr\n", "L"), "L", "sgd")
    assert update.next == {"W": "W_next_2"} and update.scalars == {"lr": "opt_lr_2"}


@pytest.mark.parametrize("opt", OPTIMISERS)
def test_update_equations_come_kind_by_kind(opt):
    """Every tensor's first moment, then every second moment, then every new value: runs of one shape, which the
    NumPy backend computes as one (tests/backends/numpy/test_batched_runs.py)."""
    grad = differentiate(SOURCE, "L")
    update = with_update(grad, "L", opt)
    defined = [eq.lhs.name for eq in update.program.statements[len(grad.program.statements):]]
    kinds = [*({s: [update.state[w][s][1] for w in update.next] for s in update.state["W"]}.values()),
             list(update.next.values())]
    assert defined == [name for kind in kinds for name in kind]
