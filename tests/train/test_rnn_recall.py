"""A recurrent network learns to recall the token three steps back (examples/rnn_recall.py)."""

import importlib.util
import sys
from pathlib import Path

import tlc
from tlc.api import frontend
from tlc.train.init import initialise

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
_spec = importlib.util.spec_from_file_location("rnn_recall_example", EXAMPLES / "rnn_recall.py")
recall = importlib.util.module_from_spec(_spec)
sys.modules["rnn_recall_example"] = recall
_spec.loader.exec_module(recall)


def test_the_rnn_learns_to_recall(backend):
    train, test = recall.sequences(2000, seed=1), recall.sequences(500, seed=2)
    trained = tlc.train(recall.PROGRAM, train, loss="L", opt="adam", lr=0.05, steps=150, batch=64, seed=0,
                        backend=backend)
    assert trained.losses[-1] < 0.05 * trained.losses[0]
    assert recall.accuracy(trained.params, test, backend) >= 0.95      # chance is 0.25


def test_untrained_weights_recall_at_chance():
    program = frontend(recall.PROGRAM.read_text())
    params = initialise(program, ["W", "U", "B", "V"], seed=0)
    assert recall.accuracy(params, recall.sequences(500, seed=2)) < 0.4
