"""The paper's MLP learns scikit-learn's bundled handwritten digits (examples/digits.py)."""

import importlib.util
import sys
from pathlib import Path

import pytest

import tlc

pytest.importorskip("sklearn")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
_spec = importlib.util.spec_from_file_location("digits_example", EXAMPLES / "digits.py")
digits = importlib.util.module_from_spec(_spec)
sys.modules["digits_example"] = digits
_spec.loader.exec_module(digits)


@pytest.mark.slow
def test_mlp_reaches_95_percent_held_out():
    train, test = digits.split()
    trained = tlc.train(digits.PROGRAM, train, loss="L", opt="adam", lr=0.01, steps=300)
    assert trained.losses[-1] < 0.05
    assert digits.accuracy(trained.params, test) >= 0.95
