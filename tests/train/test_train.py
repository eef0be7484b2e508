"""``tlc.train`` and ``tlc train``: learning, initialisation, batches, checkpoints and the errors a user can cause."""

import numpy as np
import pytest

import tlc
from tlc.cli import main
from tlc.ir.program import Program
from tlc.train.batches import batched
from tlc.driver.source import frontend
from tlc.train.init import initialise

LINEAR = """tensor W[1, 5]
tensor B[1]
P[n, o] = W[o, j] X[n, j] + B[o]
E[n, o] = P[n, o] - Y[n, o]
L avg= E[n, o] E[n, o]
"""


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5))
    return {"X": x, "Y": (x @ np.arange(1.0, 6.0) + 0.5)[:, None]}


@pytest.mark.parametrize("opt", ["sgd", "momentum", "adam", "adamw"])
def test_every_optimiser_fits_a_line(opt, data):
    trained = tlc.train(LINEAR, data, opt=opt, lr=0.05, steps=300)
    assert trained.losses[-1] < 1e-2 * trained.losses[0] and trained.step == 300
    if opt != "adamw":          # weight decay pulls the weights off the exact fit
        np.testing.assert_allclose(trained.params["W"][0], np.arange(1.0, 6.0), atol=0.05)


def test_llvm_backend_learns_the_same(data):
    ours = tlc.train(LINEAR, data, lr=0.05, steps=20)
    native = tlc.train(LINEAR, data, lr=0.05, steps=20, backend="llvm")
    np.testing.assert_allclose(native.params["W"], ours.params["W"], rtol=1e-9)


def test_initialisation_is_seeded_glorot_and_zero_biases():
    program = frontend("tensor W[4, 6]\ntensor B[4]\nH[i] = W[i, j] X[j] + B[i]\n")
    first, again = initialise(program, ["W", "B"], seed=3), initialise(program, ["W", "B"], seed=3)
    np.testing.assert_array_equal(first["W"], again["W"])
    assert np.abs(first["W"]).max() <= np.sqrt(6 / 10) and first["W"].std() > 0
    assert not first["B"].any()


def test_batch_rule_samples_tensors_sharing_the_batch_index(data):
    program = frontend(LINEAR + "Z[k] = C[k]\n")
    assert batched(program, {**data, "C": np.ones(3)}, ["W", "B"]) == ("X", "Y")
    trained = tlc.train(LINEAR, data, lr=0.05, steps=200, batch=16)
    assert trained.losses[-1] < 1e-2 * trained.losses[0]


def test_resume_continues_the_run(tmp_path, data):
    whole = tlc.train(LINEAR, data, steps=20)
    half = tlc.train(LINEAR, data, steps=10)
    half.save(tmp_path / "half.npz")
    rest = tlc.train(LINEAR, data, steps=10, resume=tmp_path / "half.npz")
    assert rest.step == 20
    np.testing.assert_allclose(rest.params["W"], whole.params["W"], rtol=1e-12)


def test_diverging_loss_names_the_step(data):
    with pytest.raises(tlc.TlcError, match=r"the loss 'L' became (inf|nan) at step \d+"):
        tlc.train(LINEAR, data, opt="sgd", lr=100.0, steps=500)


@pytest.mark.parametrize("kwargs, message", [
    ({"opt": "rmsprop"}, "unknown optimiser 'rmsprop'"),
    ({"lr": -1.0}, "learning rate must be a positive number"),
    ({"steps": 0}, "steps must be a positive integer"),
    ({"loss": "P"}, "must be a scalar"),
    ({"wrt": ["V"]}, "cannot differentiate with respect to 'V'"),
])
def test_user_errors_are_tlc_errors(kwargs, message, data):
    with pytest.raises(tlc.TlcError, match=message):
        tlc.train(LINEAR, data, **kwargs)


def test_undeclared_learned_tensor_is_located():
    with pytest.raises(tlc.TlcError, match="declare its shape") as err:
        tlc.train("H[n] = V[j] X[n, j]\nL = H[n] H[n]\n", {"X": np.ones((2, 3))}, wrt=["V"], steps=1)
    assert "1:8" in str(err.value)


def test_cli_trains_writes_and_resumes(tmp_path, data, capsys):
    source, archive = tmp_path / "lin.tl", tmp_path / "lin.npz"
    source.write_text(LINEAR)
    np.savez(archive, **data)
    out = tmp_path / "learned.npz"
    assert main(["train", str(source), "--data", str(archive), "--loss", "L", "--lr", "0.05", "--steps", "50",
                 "--out", str(out)]) == 0
    assert "L = " in capsys.readouterr().out
    assert set(np.load(out).files) == {"W", "B"}
    assert {"name", "step", "W.m", "W.v", "B.m", "B.v"} == set(np.load(tmp_path / "learned.opt.npz").files)
    assert main(["run", str(source), "--data", str(archive), "--data", str(out)]) == 0
    assert main(["train", str(source), "--data", str(archive), "--loss", "L", "--steps", "5", "--opt", "sgd",
                 "--resume", str(out)]) == 1
    assert "cannot resume a run of adam with sgd" in capsys.readouterr().err
    assert main(["train", str(source), "--data", str(archive), "--loss", "L", "--steps", "5", "--resume",
                 str(out), "--batch", "8"]) == 0
    assert "after step 55" in capsys.readouterr().out


def test_init_overrides_the_scheme_and_rejects_stray_names(data):
    start = {"W": np.zeros((1, 5)), "B": np.ones(1)}
    first = tlc.train(LINEAR, data, opt="sgd", lr=0.01, steps=1, init=start)
    np.testing.assert_allclose(first.losses[0], np.mean((data["Y"] - 1) ** 2))
    with pytest.raises(tlc.TlcError, match="init gives 'V', which this run does not learn"):
        tlc.train(LINEAR, data, steps=1, init={"V": np.ones(2)})


def test_progress_without_tqdm_prints_plain_lines(monkeypatch, data, capsys):
    monkeypatch.setitem(__import__("sys").modules, "tqdm", None)
    tlc.train(LINEAR, data, steps=20, progress=True)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 10 and lines[-1].startswith("step 20  loss ") and lines[-1].endswith("steps/s")
