"""JAX as an extra gradient oracle: each example that trains, written again in jax.numpy, differentiated by
jax.grad (CPU, float64) and compared with tlc.grad's gradients on random non-zero inputs, on every CPU backend."""

from pathlib import Path

import numpy as np
import pytest

import tlc

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _softmax(z, axis):
    return jnp.exp(z - jax.scipy.special.logsumexp(z, axis=axis, keepdims=True))


def digits_mlp(p, d):
    h = jax.nn.relu(jnp.einsum("hp,np->nh", p["W1"], d["X"]) + p["B1"])
    z = jnp.einsum("kh,nh->nk", p["W2"], h) + p["B2"]
    return jnp.mean(-jnp.sum(d["Y"] * jnp.log(_softmax(z, 1)), axis=1))


def karate_gnn(p, d):
    h = jax.nn.relu(jnp.einsum("nm,hf,mf->nh", d["A"], p["W1"], d["X"]))
    z = jnp.einsum("nm,kh,mh->nk", d["A"], p["W2"], h)
    c = d["M"] * jnp.sum(d["Y"] * jnp.log(_softmax(z, 1)), axis=1)
    return jnp.sum(-c / d["Count"])


def rnn_recall(p, d):
    s, states = jnp.zeros((d["In"].shape[0], p["W"].shape[0])), []
    for t in range(d["In"].shape[2]):
        s = jnp.tanh(s @ p["W"].T + d["In"][:, :, t] @ p["U"].T + p["B"])
        states.append(s)
    probabilities = _softmax(jnp.einsum("ch,bht->bct", p["V"], jnp.stack(states, axis=2)), 1)
    return jnp.mean(-(d["M"] * d["Y"] * jnp.log(probabilities)))


def soft_datalog(p, d):
    score = jnp.einsum("ij,xi,yj->xy", p["Rel"], p["Emb"], p["Emb"])
    soft = jax.nn.sigmoid(score)
    return jnp.mean(-(d["Parent"] * jnp.log(soft) + (1 - d["Parent"]) * jnp.log(1 - soft)))


def attention_lookup(p, d):
    scores = jnp.einsum("ef,bf,eg,btg->bt", p["WQ"], d["Q"], p["WK"], d["X"])
    attended = jnp.einsum("bt,btk->bk", _softmax(scores, 1), d["Lab"])
    return jnp.mean(-jnp.log(jnp.sum(d["Y"] * attended, axis=1)))


def _one_hot(rng, count: int, classes: int, axis: int = -1) -> np.ndarray:
    return np.moveaxis(np.eye(classes)[rng.integers(classes, size=count)], -1, axis)


def _signed(rng, shape, low=0.2, high=1.2) -> np.ndarray:
    """Random values away from zero, of either sign."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], size=shape)


def _data(example: str, rng) -> dict:
    """Random non-zero inputs (data) for ``example``, smaller than its real data."""
    if example == "digits_mlp":
        return {"X": rng.uniform(0.1, 1.0, (6, 64)), "Y": np.eye(10)[rng.integers(10, size=6)]}
    if example == "karate_gnn":
        return {"A": rng.uniform(0.1, 0.5, (5, 5)), "X": rng.uniform(0.1, 1.0, (5, 34)),
                "Y": np.eye(2)[rng.integers(2, size=5)], "M": np.array([1.0, 0.0, 1.0, 1.0, 0.0]), "Count": 3.0}
    if example == "rnn_recall":
        return {"In": np.stack([_one_hot(rng, 5, 4, 0) for _ in range(3)]),
                "Y": np.stack([_one_hot(rng, 5, 4, 0) for _ in range(3)]), "M": np.array([0.0, 1.0, 1.0, 1.0, 1.0])}
    if example == "soft_datalog":
        return {"Parent": (rng.uniform(size=(8, 8)) < 0.3).astype(float)}
    rows = rng.integers(4, size=(3, 6))
    return {"Q": _signed(rng, (3, 8)), "X": _signed(rng, (3, 6, 8)), "Lab": np.eye(4)[rows],
            "Y": np.eye(4)[rows[:, 2]]}


MODELS = {"digits_mlp": digits_mlp, "karate_gnn": karate_gnn, "rnn_recall": rnn_recall, "soft_datalog": soft_datalog,
          "attention_lookup": attention_lookup}


@pytest.mark.slow
@pytest.mark.parametrize("example", sorted(MODELS))
def test_gradients_match_jax(example, backend):
    source = EXAMPLES / f"{example}.tl"
    rng = np.random.default_rng(7)
    data = _data(example, rng)
    program = tlc.grad(source, loss="L", backend=backend)
    shapes = program.gradient.program.shapes
    params = {name: 0.5 * _signed(rng, shapes[name].dims) for name in program.gradients}
    results = program(**data, **params)
    model = MODELS[example]
    expected_loss = float(model(params, data))
    assert float(results["L"]) == pytest.approx(expected_loss, rel=1e-10)
    expected = jax.jit(jax.grad(model))(params, data)
    for name, gradient in program.gradients.items():
        assert np.any(np.asarray(expected[name]) != 0), f"dL/d{name} is zero: the test would show nothing"
        np.testing.assert_allclose(results[gradient], np.asarray(expected[name]), rtol=1e-9, atol=1e-12,
                                   err_msg=f"dL/d{name} of {example}")
