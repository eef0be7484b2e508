"""Tensors whose values depend on no input (the gradient's lnorm and concat carriers) are computed once, when the
emitted module loads, not at every call (``tlc.backends.shared.constants``): read-only, never returned, and the
values match NumPy's on random non-zero inputs on every CPU backend, call after call."""

import numpy as np
import pytest

import tlc
import tlc.fuzz

SOURCE = """
O[i, j] = X[i, j]^0
C[i] = O[i, j]
S[i] = 1 / max(C[i], 1)
E[i, k] = (1 - step(abs(i - k))) O[i, j]^0 O[k, j]^0
M[i] = X[i, j] S[i]
N[i, k] = E[i, k] M[k] + a * X[i, k]^0
"""


def _inputs(rng):
    x = rng.uniform(0.5, 2.0, (4, 4)) * rng.choice([-1.0, 1.0], (4, 4))
    return {"X": x, "a": 0.5}


def _expected(x):
    m = x.mean(axis=1)
    return m, 4 * np.diag(m) + 0.5


def test_constants_are_computed_when_the_module_loads():
    """O and E read no input: their code is at module level (before ``run``), their arrays read-only; N (which reads
    X and the scalar a, and the rest, inlined) stays in ``run``."""
    text = tlc.compile(SOURCE, outputs=["N"]).source(X=np.ones((4, 4)), a=1.0)
    module, run = text.split("def run(inputs):")
    for name in "OE":
        assert f"\n{name} = " in module and f"{name}.setflags(write=False)" in module
    assert "\n    N = " in run and "N = " not in module
    assert "'O'" not in run.split("return")[-1]     # a constant is never returned


def test_a_returned_tensor_stays_in_run():
    """With every tensor an output, the constants are results: each call returns arrays of its own."""
    program = tlc.compile(SOURCE)
    text = program.source(X=np.ones((4, 4)), a=1.0)
    assert "setflags" not in text
    first = program(X=np.ones((4, 4)), a=1.0)
    first["O"][0, 0] = 7.0
    np.testing.assert_array_equal(program(X=np.ones((4, 4)), a=1.0)["O"], np.ones((4, 4)))


@pytest.mark.parametrize("backend", tlc.fuzz.available_backends())
def test_constants_match_numpy(backend):
    program = tlc.compile(SOURCE, backend=backend, outputs=["M", "N"])
    rng = np.random.default_rng(13)
    for _ in range(2):      # the module's constants serve the second call as the first
        inputs = _inputs(rng)
        got = program(**inputs)
        m, n = _expected(inputs["X"])
        np.testing.assert_allclose(np.asarray(got["M"]), m, rtol=1e-13)
        np.testing.assert_allclose(np.asarray(got["N"]), n, rtol=1e-13)


def test_constants_past_the_budget_stay_in_run(monkeypatch):
    """A module holds at most ``SCRATCH_BYTES`` of constants (as much as of scratch arrays): O (16 floats) fits in
    160 bytes, E (16 more) does not, and is computed at each call."""
    from tlc.backends.shared import schedule
    monkeypatch.setattr(schedule, "SCRATCH_BYTES", 160)
    text = tlc.compile(SOURCE, outputs=["N"]).source(X=np.ones((4, 4)), a=1.0)
    module, run = text.split("def run(inputs):")
    assert "O.setflags(write=False)" in module and "\n    E = " in run
