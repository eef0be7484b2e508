"""``tlc_runtime.Workspace`` gives each thread its own scratch arrays, made at its first use; ``step``, ``negate`` and
``relu`` write into ``out=`` the values they return without it."""

import threading

import numpy as np
import pytest

import tlc_runtime as rt


def test_each_thread_has_its_own_arrays():
    workspace = rt.Workspace({"H": (3, 4), "_t1": (5,)})
    mine = workspace.arrays
    assert {k: a.shape for k, a in mine.items()} == {"H": (3, 4), "_t1": (5,)}
    assert workspace.arrays["H"] is mine["H"]           # kept between calls
    theirs = []
    thread = threading.Thread(target=lambda: theirs.append(workspace.arrays))
    thread.start()
    thread.join()
    assert theirs[0].keys() == mine.keys()
    assert all(not np.shares_memory(theirs[0][k], mine[k]) for k in mine)


@pytest.mark.parametrize("function", [rt.step, rt.negate, rt.relu])
def test_into_a_given_array(function):
    rng = np.random.default_rng(5)
    x = rng.uniform(0.5, 1.5, (4, 6)) * rng.choice([-1.0, 1.0], (4, 6))
    x[0, 0] = 0.0
    out = np.full(x.shape, np.nan)
    assert function(x, out=out) is out
    np.testing.assert_array_equal(out, function(x))
    assert function(x).dtype == np.float64
