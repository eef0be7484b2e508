"""Calls that give a program the same names and shapes again (a training loop's) skip re-reading their inputs: a float
per scalar and a C-contiguous float64 array per numeric tensor reuse the specialisation of the first such call
(``tlc.driver.inputs.ready_key``); anything else (other shapes, dtypes, relations, whose tuple counts steer the plan)
is read and checked as on a first call. Values match NumPy on random non-zero inputs either way."""

import numpy as np
import pytest

import tlc

SOURCE = """
H[b, e] = relu(W[e, d] X[b, d] + B[e])
Y[b] = s * H[b, e]
"""


def _expected(w, x, b, s):
    return s * np.maximum(x @ w.T + b, 0.0).sum(axis=1)


@pytest.mark.parametrize("backend", tlc.api.BACKENDS)
def test_the_same_shapes_reuse_the_specialisation_with_new_values(backend):
    program = tlc.compile(SOURCE, backend=backend, outputs=["Y"])
    rng = np.random.default_rng(21)
    specs = []
    for rows in (5, 5, 7, 5):
        w, x, b = rng.normal(size=(3, 4)), rng.normal(size=(rows, 4)), rng.normal(size=3)
        s = float(rng.uniform(0.5, 2.0))
        np.testing.assert_allclose(program(W=w, X=x, B=b, s=s)["Y"], _expected(w, x, b, s), rtol=1e-12)
        specs.append(program.specialisation(W=w, X=x, B=b, s=s))
    assert specs[0] is specs[1] is specs[3] and specs[2] is not specs[0]


def test_inputs_that_need_reading_are_read_after_ready_ones():
    """An integer array, a transposed view and an int scalar, after calls with ready inputs of the same shapes."""
    program = tlc.compile(SOURCE, outputs=["Y"])
    rng = np.random.default_rng(22)
    w, x, b = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=3)
    program(W=w, X=x, B=b, s=1.0)
    xi = rng.integers(-3, 4, size=(5, 4))
    wt = np.ascontiguousarray(w.T).T
    np.testing.assert_allclose(program(W=wt, X=xi, B=b, s=2)["Y"], _expected(w, xi, b, 2.0), rtol=1e-12)
    with pytest.raises(tlc.TlcError, match="shape|extent"):
        program(W=w, X=rng.normal(size=(5, 3)), B=b, s=1.0)


def test_relations_are_counted_at_every_call():
    program = tlc.compile("Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\n")
    chain = np.eye(6, k=1, dtype=bool)
    assert len(program(Edge=chain)["Path"]) == 15
    sparse = np.zeros((6, 6), dtype=bool)
    sparse[0, 1] = True
    assert len(program(Edge=sparse)["Path"]) == 1


def test_ready_inputs_seen_before_skip_the_checks(monkeypatch):
    """A call with the names and shapes of an earlier one goes straight to its specialisation: the names were checked
    then (a training step's call); other names are still checked."""
    program = tlc.compile(SOURCE, outputs=["Y"])
    rng = np.random.default_rng(23)
    w, x, b = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=3)
    program(W=w, X=x, B=b, s=1.0)

    def checked():
        raise AssertionError("the inputs were checked again")
    monkeypatch.setattr(program, "_needed", checked)
    np.testing.assert_allclose(program(W=2 * w, X=x, B=b, s=3.0)["Y"], _expected(2 * w, x, b, 3.0), rtol=1e-12)
    monkeypatch.undo()
    with pytest.raises(tlc.TlcError, match="unknown input 'Z'"):
        program(W=w, X=x, B=b, s=1.0, Z=x)
