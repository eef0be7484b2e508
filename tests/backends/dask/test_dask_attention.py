"""Fused attention on the Dask backend honours a ``tolerance``: every block of query rows chooses exact or the
polynomial path from its own rows' bound, so each row's error stays within the tolerance."""

from __future__ import annotations

import math

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
pytest.importorskip("distributed")

import tlc  # noqa: E402

TWO_WAY = "Comp[p, p'.] = softmax(Q[p, d] K[p', d] / sqrt(Dk))\nOut[p, e] = Comp[p, p'] V[p', e]\n"


@pytest.fixture(autouse=True)
def synchronous():
    """Every test here computes on Dask's synchronous scheduler (deterministic, one thread)."""
    with dask.config.set(scheduler="synchronous"):
        yield


def small_entries(rng):
    """Inputs whose scores are small: the polynomial path meets a tight tolerance."""
    return dict(Q=rng.uniform(-0.1, 0.1, (300, 3)), K=rng.uniform(-0.1, 0.1, (400, 3)),
                V=rng.normal(size=(400, 2)), Dk=1.0)


def test_a_tolerance_is_honoured_per_block_of_query_rows():
    rng = np.random.default_rng(31)
    inputs = small_entries(rng)
    exact = tlc.compile(TWO_WAY, opt_level=0)(**inputs)["Out"]
    polynomial = tlc.compile(TWO_WAY, outputs=["Out"], tolerance=1e-6)(**inputs)["Out"]
    program = tlc.compile(TWO_WAY, backend="dask", outputs=["Out"], tolerance=1e-6)
    out = np.asarray(program(Q=da.from_array(inputs["Q"], chunks=(100, 3)), K=inputs["K"], V=inputs["V"],
                             Dk=1.0)["Out"])
    error = np.abs(out - exact).max()
    assert 0 < error <= 1e-6            # not exact: the blocks took the polynomial path, within the tolerance
    np.testing.assert_allclose(out, polynomial, rtol=0, atol=2e-6)
    (report,) = program.report
    assert report.method == "per block" and report.tolerance == 1e-6 and "within the tolerance" in report.reason
    assert math.isnan(report.measure())     # the blocks' operands stay on the cluster: nothing to measure


def test_without_a_tolerance_attention_is_exact():
    rng = np.random.default_rng(32)
    inputs = small_entries(rng)
    exact = tlc.compile(TWO_WAY, opt_level=0)(**inputs)["Out"]
    program = tlc.compile(TWO_WAY, backend="dask", outputs=["Out"])
    np.testing.assert_allclose(np.asarray(program(**inputs)["Out"]), exact, rtol=1e-12, atol=1e-14)
    assert program.report[0].method == "exact" and program.report[0].measure() == 0.0
