"""A GNN learns the karate club's two factions from two labelled members each (examples/karate.py)."""

import importlib.util
import sys
from pathlib import Path

import tlc

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
_spec = importlib.util.spec_from_file_location("karate_example", EXAMPLES / "karate.py")
karate = importlib.util.module_from_spec(_spec)
sys.modules["karate_example"] = karate
_spec.loader.exec_module(karate)


def test_gnn_classifies_the_unlabelled_members():
    inputs = karate.data()
    trained = tlc.train(karate.PROGRAM, inputs, loss="L", opt="adam", lr=0.01, steps=200)
    assert trained.losses[-1] < 0.01
    assert karate.held_out_accuracy(trained.params, inputs) >= 0.9
