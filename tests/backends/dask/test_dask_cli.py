"""``tlc run --backend dask``: lazy ``.npy``/``.zarr`` inputs, ``--out DIR.zarr``, ``--chunks`` and the cluster
flags (a LocalCluster started for the run is in ``test_dask_cluster.py``)."""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
zarr = pytest.importorskip("zarr")
pytest.importorskip("distributed")

from tlc.cli import main  # noqa: E402

SOURCE = "H[n, m] = relu(X[n, k] W[k, m] + B[m])\nS = H[n, m]\n"


@pytest.fixture
def files(tmp_path):
    """A dense layer's program, X as a chunked .zarr store, W and B as .npy files; and the expected values."""
    rng = np.random.default_rng(11)
    x, w, b = rng.normal(size=(120, 8)), rng.normal(size=(8, 5)), rng.normal(size=5)
    da.from_array(x, chunks=(30, 8)).to_zarr(str(tmp_path / "X.zarr"))
    np.save(tmp_path / "W.npy", w)
    np.save(tmp_path / "B.npy", b)
    (tmp_path / "dense.tl").write_text(SOURCE)
    h = np.maximum(x @ w + b, 0.0)
    args = [str(tmp_path / "dense.tl"), "--backend", "dask", "--input", f"X={tmp_path / 'X.zarr'}",
            "--input", f"W={tmp_path / 'W.npy'}", "--input", f"B={tmp_path / 'B.npy'}"]
    return tmp_path, args, h


def test_zarr_and_npy_inputs_run_and_write_a_zarr_store(files, capsys):
    tmp_path, args, h = files
    out = tmp_path / "out.zarr"
    assert main(["run", *args, "--out", str(out), "--output", "H", "--output", "S"]) == 0
    stored = zarr.open(str(out), mode="r")
    np.testing.assert_allclose(np.asarray(stored["H"]), h, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(stored["S"]), [h.sum()], rtol=1e-12)
    assert f"S = {h.sum():.6g}"[:8] in capsys.readouterr().out


def test_open_lazy_keeps_the_data_on_disk(files):
    from tlc.backends.dask.files import open_lazy
    tmp_path, _, _ = files
    stored = open_lazy(str(tmp_path / "X.zarr"))
    assert isinstance(stored, da.Array) and stored.chunks[0] == (30, 30, 30, 30)
    assert isinstance(open_lazy(str(tmp_path / "W.npy")), da.Array)


def test_chunks_flag_reaches_explain(files, capsys):
    _, args, _ = files
    assert main(["explain", *args, "--chunks", "1K"]) == 0
    assert "chunk size 1 KiB (chunks=1 KiB)" in capsys.readouterr().out


@pytest.mark.parametrize("extra, message", [
    (["--workers", "2"], "--workers is for --backend dask"),
    (["--out", "results.zarr"], "--out DIR.zarr is for --backend dask"),
])
def test_dask_flags_need_the_dask_backend(files, capsys, extra, message):
    _, args, _ = files
    numpy_args = [a for a in args if a not in ("--backend", "dask")]
    numpy_args = [a.replace("X.zarr", "W.npy") for a in numpy_args]
    with pytest.raises(SystemExit) as exited:
        main(["run", *numpy_args, *extra])
    assert exited.value.code == 2 and message in capsys.readouterr().err


def test_chunks_on_the_numpy_backend_is_an_error(files, capsys):
    _, args, _ = files
    numpy_args = [a.replace("X.zarr", "W.npy") for a in args if a not in ("--backend", "dask")]
    assert main(["run", *numpy_args, "--chunks", "1M"]) == 1
    assert "does not chunk" in capsys.readouterr().err


def test_a_missing_zarr_store_is_an_error(files, capsys):
    tmp_path, args, _ = files
    bad = [a.replace("X.zarr", "missing.zarr") for a in args]
    assert main(["run", *bad]) == 1
    assert "no such input file" in capsys.readouterr().err


def test_scheduler_and_workers_together_is_an_error(files, capsys):
    _, args, _ = files
    assert main(["run", *args, "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"]) == 1
    assert "give one or the other" in capsys.readouterr().err
