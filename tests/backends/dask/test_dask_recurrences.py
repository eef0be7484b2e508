"""Recurrences on the Dask backend: one whose arrays each fit in one chunk runs eagerly in NumPy in the client
(``rt.eager``), a larger one as a driver loop that persists each step; both against the NumPy backend."""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
pytest.importorskip("distributed")

import tlc  # noqa: E402

RNN = "State[i, *t+1] = tanh(W[i, j] State[j, *t] + U[i, k] In[k, t])\n"
SEEDED = "H[i, t+1] = tanh(W[i, j] H[j, t] Gate(j) + In[i, t]) + Bias\n"


@pytest.fixture(autouse=True)
def synchronous():
    """Every test here computes on Dask's synchronous scheduler (deterministic, one thread)."""
    with dask.config.set(scheduler="synchronous"):
        yield


def rnn_inputs(rng, hidden=6, width=4, steps=30):
    return {"W": rng.normal(size=(hidden, hidden)) / hidden, "U": rng.normal(size=(hidden, width)) / width,
            "In": rng.normal(size=(width, steps))}


def test_a_recurrence_that_fits_in_a_chunk_runs_eagerly_in_numpy():
    rng = np.random.default_rng(41)
    data = rnn_inputs(rng)
    expected = tlc.compile(RNN)(**data)["State"]
    program = tlc.compile(RNN, backend="dask")
    result = program(**{**data, "In": da.from_array(data["In"], chunks=(2, 7))})["State"]
    assert isinstance(result, da.Array)
    np.testing.assert_allclose(np.asarray(result), expected, rtol=1e-12)
    emitted = program.source()
    assert "rt.eager(" in emitted and "rt.persist(" not in emitted
    assert "stratum 1 (recurrence) runs eagerly in NumPy in the client" in program.explain()


def test_a_recurrence_over_several_chunks_persists_each_step():
    rng = np.random.default_rng(42)
    data = rnn_inputs(rng)
    expected = tlc.compile(RNN)(**data)["State"]
    program = tlc.compile(RNN, backend="dask", chunks={"In": (2, 10)})
    np.testing.assert_allclose(np.asarray(program(**data)["State"]), expected, rtol=1e-12)
    assert "rt.persist(" in program.source() and "rt.eager(" not in program.source()
    assert "stratum 1 (recurrence) runs on Dask: a driver loop" in program.explain()


def test_an_eager_recurrence_reads_supplied_data_scalars_and_relations():
    rng = np.random.default_rng(43)
    data = {"W": rng.normal(size=(5, 5)) / 5, "In": rng.normal(size=(5, 12)), "H": rng.normal(size=(5, 1)),
            "Bias": 0.25, "Gate": rng.random(5) < 0.7}
    expected = tlc.compile(SEEDED)(**data)
    program = tlc.compile(SEEDED, backend="dask")
    result = program(**{**data, "H": da.from_array(data["H"])})
    assert "rt.eager(" in program.source()
    np.testing.assert_allclose(np.asarray(result["H"]), expected["H"], rtol=1e-12)


def test_an_eager_recurrence_computes_its_inputs_once():
    rng = np.random.default_rng(44)
    data = rnn_inputs(rng, steps=200)
    program = tlc.compile(RNN, backend="dask")
    computations = []

    class Starts(dask.callbacks.Callback):
        def _start(self, dsk):
            computations.append(len(dsk))

    with Starts():
        result = program(**data)
    assert len(computations) == 1, computations     # one call computes the inputs; no step builds a graph
    np.testing.assert_allclose(np.asarray(result["State"]), tlc.compile(RNN)(**data)["State"], rtol=1e-12)
