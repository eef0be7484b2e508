"""The Dask backend on a distributed LocalCluster of 2 workers: results match the NumPy backend, the tasks run on
the cluster (recursion rounds included), and ``tlc run --workers`` starts one for the run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import tlc  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture(scope="module")
def client():
    """A client of a LocalCluster of 2 single-threaded workers (in this process: quick to start)."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    with cluster, distributed.Client(cluster) as connected:
        yield connected


@pytest.mark.parametrize("name", ["mlp", "rnn", pytest.param("transformer", marks=pytest.mark.slow),
                                  pytest.param("paths", marks=pytest.mark.slow)])
def test_examples_on_the_cluster_match_numpy(client, name):
    data = dict(np.load(EXAMPLES / "data" / f"{name}.npz"))
    expected = tlc.compile(EXAMPLES / f"{name}.tl")(**data)
    with distributed.get_task_stream(client) as stream:
        actual = tlc.compile(EXAMPLES / f"{name}.tl", backend="dask")(**data)
        values = {k: np.asarray(v) for k, v in actual.items()}
    assert stream.data, "nothing ran on the cluster"
    for key in expected:
        np.testing.assert_allclose(values[key], np.asarray(expected[key]), rtol=1e-9, atol=1e-12, err_msg=key)


def test_chunked_contraction_spreads_over_both_workers(client):
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(4000, 64)), rng.normal(size=(64, 32))
    program = tlc.compile("Y[n, m] = relu(X[n, k] W[k, m])", backend="dask", chunks={"X": (500, -1)})
    with distributed.get_task_stream(client) as stream:
        y = np.asarray(program(X=x, W=w)["Y"])
    np.testing.assert_allclose(y, np.maximum(x @ w, 0.0), rtol=1e-12)
    assert len({task["worker"] for task in stream.data}) == 2


@pytest.mark.slow
def test_tlc_run_starts_a_local_cluster(tmp_path):
    rng = np.random.default_rng(2)
    np.save(tmp_path / "X.npy", rng.normal(size=(300, 6)))
    np.save(tmp_path / "W.npy", rng.normal(size=(6, 4)))
    np.save(tmp_path / "B.npy", rng.normal(size=4))
    (tmp_path / "dense.tl").write_text("H[n, m] = relu(X[n, k] W[k, m] + B[m])\nS = H[n, m]\n")
    proc = subprocess.run([sys.executable, "-m", "tlc", "run", str(tmp_path / "dense.tl"), "--backend", "dask",
                           "--workers", "2", "--memory-limit-per-worker", "512MiB", "--output", "S",
                           *(f"--input={n}={tmp_path / n}.npy" for n in "XWB")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    x, w, b = (np.load(tmp_path / f"{n}.npy") for n in "XWB")
    assert proc.stdout.startswith("S = ") and float(proc.stdout.split("=")[1]) == pytest.approx(
        np.maximum(x @ w + b, 0).sum(), rel=1e-5)
