"""Arrays that never leave a call (intermediate tensors, a statement's temporaries) of 128 KiB or more are computed
into per-thread scratch arrays kept between calls (``ScheduleEmitter.scratch``): every operation that writes into
one (``out=`` of functions, softmax and lnorm, sums, negation, division, scalar and broadcast products, contractions,
transposes)
matches NumPy on random non-zero inputs on every CPU backend; results never share memory with a later call's or
another thread's; arrays below the threshold, and results, are new at each call."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import tlc
from tlc.api import BACKENDS

N, M, P = 160, 128, 24     # N x M = 20480 elements: past the 16384 of a scratch array
SOURCE = """
T1[n, m] = relu(W[m, p] X[n, p] + B[m])
T2[n, m] = -T1[n, m] + 2 V[n, m] - 0.5
T3[n, m] = exp(-T2[n, m]) / (1 + T1[n, m])
T4[n, m] = 0.5 T3[n, m] step(T2[n, m])
T5[n, m] = sqrt(abs(T4[n, m])) + tanh(T1[n, m]) - sin(T2[n, m]) cos(T3[n, m]) + log(1 + T3[n, m])
T6[m, n] = T5[n, m]
T7[n, m.] = softmax(T5[n, m])
T8[n, m.] = lnorm(T7[n, m] + T3[n, m])
Y[m] = T6[m, n] V[n, m] + T8[n, m] V[n, m]
"""


def signed(rng, shape):
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def inputs(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {"W": signed(rng, (M, P)), "X": signed(rng, (N, P)), "B": signed(rng, M), "V": signed(rng, (N, M))}


def reference(d: dict) -> dict:
    t1 = np.maximum(d["X"] @ d["W"].T + d["B"], 0.0)
    t2 = -t1 + 2 * d["V"] - 0.5
    t3 = np.exp(-t2) / (1 + t1)
    t4 = 0.5 * t3 * (t2 > 0)
    t5 = np.sqrt(np.abs(t4)) + np.tanh(t1) - np.sin(t2) * np.cos(t3) + np.log(1 + t3)
    t7 = np.exp(t5 - t5.max(axis=1, keepdims=True))
    t7 /= t7.sum(axis=1, keepdims=True)
    centred = t7 + t3 - (t7 + t3).mean(axis=1, keepdims=True)
    t8 = centred / np.sqrt((centred ** 2).mean(axis=1, keepdims=True) + 1e-5)
    return {"T1": t1, "T4": t4, "T5": t5, "Y": (t5 * d["V"]).sum(axis=0) + (t8 * d["V"]).sum(axis=0)}


def agrees(got, want) -> bool:
    """Equal up to rounding, relative to the largest value (Y sums 160 terms of either sign, up to a few hundred)."""
    return np.abs(np.asarray(got) - want).max() <= 1e-8 * np.abs(want).max()


def check(results, want: dict) -> None:
    for name in results:
        assert agrees(results[name], want[name]), name


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("opt_level", [0, 2])
def test_scratch_arrays_match_numpy(backend, opt_level):
    program = tlc.compile(SOURCE, backend=backend, opt_level=opt_level, outputs=["Y", "T4"])
    data = inputs(0)
    text = program.source(**data)
    assert "WORKSPACE = rt.Workspace(" in text and "out=_workspace[" in text
    returned = text.split("return {")[-1]     # the module's run() never returns a scratch array, used alone either
    assert "'T4': T4" in returned and (opt_level > 0 or "'T5'" not in returned)
    check(program(**data), reference(data))
    again = inputs(1)
    check(program(**again), reference(again))     # the scratch arrays hold the last call's values: overwritten


@pytest.mark.parametrize("backend", BACKENDS)
def test_results_never_share_a_later_calls_memory(backend):
    program = tlc.compile(SOURCE, backend=backend, opt_level=0, outputs=["Y", "T1", "T4"])
    first_inputs, second_inputs = inputs(2), inputs(3)
    first = {n: np.asarray(v) for n, v in program(**first_inputs).items()}
    kept = {n: v.copy() for n, v in first.items()}
    second = program(**second_inputs)
    check(second, reference(second_inputs))
    for name, value in first.items():
        np.testing.assert_array_equal(value, kept[name], err_msg=f"{name} changed by a later call")
        for other in second.values():
            assert not np.shares_memory(value, np.asarray(other)), f"{name} shares memory with a later result"


@pytest.mark.parametrize("backend", BACKENDS)
def test_threads_have_their_own_scratch_arrays(backend):
    """Calls from four threads at once give each call the values one call alone gives, bit for bit."""
    program = tlc.compile(SOURCE, backend=backend, opt_level=0, outputs=["Y"])
    alone = {seed: program(**inputs(seed))["Y"] for seed in range(16)}
    assert all(agrees(alone[seed], reference(inputs(seed))["Y"]) for seed in alone)

    def work(seed):
        data = inputs(seed)
        return all(np.array_equal(program(**data)["Y"], alone[seed]) for _ in range(3))

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(work, range(16)))


def test_small_arrays_and_results_are_new_at_each_call():
    """Below 16384 elements nothing is scratch; a result is never computed into a scratch array."""
    small = tlc.compile("H[i, j] = relu(A[i, j] + 1)\nY[i] = H[i, j]", outputs=["Y"])
    assert "Workspace" not in small.source(A=np.ones((100, 100)))
    results = tlc.compile("H[i, j] = relu(A[i, j] + 1)\nY[i] = H[i, j]")    # H is a result
    assert "Workspace" not in results.source(A=np.ones((200, 100)))
