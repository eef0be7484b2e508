"""Attention learns a lookup from minibatches (examples/attention_lookup.py)."""

import importlib.util
import sys
from pathlib import Path

import tlc

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
_spec = importlib.util.spec_from_file_location("attention_lookup_example", EXAMPLES / "attention_lookup.py")
lookup = importlib.util.module_from_spec(_spec)
sys.modules["attention_lookup_example"] = lookup
_spec.loader.exec_module(lookup)


def test_attention_learns_the_lookup():
    train, test = lookup.sequences(2000, seed=1), lookup.sequences(500, seed=2)
    trained = tlc.train(lookup.PROGRAM, train, loss="L", opt="adam", lr=0.05, steps=300, batch=64)
    assert trained.losses[-1] < 0.5 * trained.losses[0]
    assert lookup.accuracy(trained.params, test) >= 0.85        # chance is 0.25; the noisy query caps it near 0.93
