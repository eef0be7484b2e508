"""Learned embeddings read back at temperature 0 answer like the Boolean program (examples/soft_datalog.py)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np

import tlc

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
_spec = importlib.util.spec_from_file_location("soft_datalog_example", EXAMPLES / "soft_datalog.py")
soft = importlib.util.module_from_spec(_spec)
sys.modules["soft_datalog_example"] = soft
_spec.loader.exec_module(soft)


def test_learned_relation_answers_like_the_boolean_program():
    trained = tlc.train(soft.PROGRAM, {"Parent": soft.parent()}, loss="L", opt="adam", lr=0.05, steps=300)
    assert trained.losses[-1] < 0.01
    expected, learned = soft.boolean_answers(), soft.learned_answers(trained.params)
    for name in soft.RELATIONS:
        np.testing.assert_array_equal(learned[name], expected[name], err_msg=name)
    assert expected["Ancestor"].sum() > expected["Learned"].sum()      # the rules derive new pairs
