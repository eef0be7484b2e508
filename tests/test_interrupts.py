"""tlc.interrupts: a signal handler's exception is held back inside a deferred section and raised when it ends;
tlc_runtime.native.in_threads keeps the memory its kernel threads use alive when the caller is interrupted."""

from __future__ import annotations

import gc
import signal
import threading
import weakref

import numpy as np
import pytest

from tlc.fuzz.oracle import Hang, time_limit
from tlc.interrupts import deferred, interrupt
from tlc_runtime.native import in_threads


class Stop(Exception):
    """The exception the tests interrupt with."""


def test_an_interrupt_outside_a_section_raises_at_once():
    with pytest.raises(Stop):
        interrupt(Stop())


def test_an_interrupt_inside_nested_sections_waits_for_the_outermost_end():
    done = []
    with pytest.raises(Stop, match="first"):
        with deferred():
            with deferred():
                interrupt(Stop("first"))
                interrupt(Stop("second"))          # the first one is what is raised
                done.append("inner")
            done.append("outer")
    assert done == ["inner", "outer"]
    with deferred():            # nothing left pending
        pass


def test_an_interrupt_is_raised_over_the_sections_own_error():
    with pytest.raises(Stop) as caught:
        with deferred():
            interrupt(Stop())
            raise KeyError("the section's own error")
    assert isinstance(caught.value.__context__, KeyError)


@pytest.mark.skipif(not hasattr(signal, "raise_signal") or not hasattr(signal, "SIGALRM"), reason="POSIX alarm")
def test_the_time_limits_alarm_is_deferred_to_the_end_of_a_section():
    done = []
    with pytest.raises(Hang):
        with time_limit(100) as expiry:
            with deferred():
                signal.raise_signal(signal.SIGALRM)       # runs the handler now, as an expiry would
                done.append("after the alarm")
            done.append("after the section")
    assert done == ["after the alarm"] and expiry.reason


def test_kernel_threads_keep_their_arrays_when_the_caller_is_interrupted():
    out = np.zeros(4)
    alive = weakref.ref(out)
    release, started, finished = threading.Event(), threading.Event(), threading.Event()

    def chunk(lo, hi):
        if lo == 0:                 # this thread: interrupted while the other chunk still runs
            started.wait(10)
            raise Stop()
        started.set()
        release.wait(10)
        finished.set()

    with pytest.raises(Stop):
        in_threads(chunk, [(0, 2), (2, 4)], (out,))
    del out
    gc.collect()
    assert alive() is not None            # a kernel thread still writes there
    release.set()
    assert finished.wait(10)
    for _ in range(100):
        gc.collect()
        if alive() is None:
            break
        threading.Event().wait(0.01)
    assert alive() is None                # and lets go once it has run


def test_in_threads_returns_every_chunks_result_in_order():
    assert in_threads(lambda lo, hi: hi - lo, [(0, 3), (3, 4), (4, 9)]) == [3, 1, 5]
