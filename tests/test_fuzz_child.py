"""tlc.fuzz.child: checks in a reused child process; a crash or a hang there is a ``ChildDied`` with the child's
standard error, and the next call gets a new child. Also the campaign frame's budget (tests/fuzz_campaign.py)."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from fuzz_campaign import CampaignCrash, campaign_budget, run_campaign
from tlc.fuzz.child import Child, ChildDied, ChildError


def say_and_exit(text: str, status: int) -> None:
    """Write ``text`` to standard error and end the process with ``status`` at once."""
    sys.stderr.write(text)
    sys.stderr.flush()
    os._exit(status)


@dataclass(frozen=True)
class Numbered:
    """A stand-in for a generated program: the campaign shows its source."""

    source: str


CASES = st.integers(0, 5).map(lambda n: (Numbered(f"case {n}\n"), n))
SETTINGS = settings(max_examples=50, database=None, deadline=None, suppress_health_check=list(HealthCheck))


def abort_on_3(case) -> str | None:
    """A campaign's check that aborts its process on the case 3 (as a corrupted heap would) and passes the rest."""
    if case[1] == 3:
        os.abort()
    return None


def pid_and_sum(*numbers) -> tuple[int, int]:
    return os.getpid(), sum(numbers)


@pytest.fixture(scope="module")
def child():
    """One child for the module's tests (each start imports tlc: about a second of CPU)."""
    with Child(watchdog=120) as shared:
        yield shared


def test_a_child_is_reused_and_answers(child):
    answers = [child.run(pid_and_sum, 1, n) for n in range(3)]
    assert [s for _, s in answers] == [1, 2, 3] and len({p for p, _ in answers}) == 1
    assert answers[0][0] != os.getpid()


def test_an_exception_in_the_child_comes_back_as_its_traceback(child):
    with pytest.raises(ChildError, match="ZeroDivisionError"):
        child.run(divmod, 1, 0)
    started = child.started
    assert child.run(pid_and_sum, 4)[1] == 4 and child.started == started       # the same child


def test_a_death_keeps_what_the_child_wrote_and_the_next_call_gets_a_new_child(child):
    with pytest.raises(ChildDied, match="exited with status 3") as died:
        child.run(say_and_exit, "LLVM ERROR: out of luck\n", 3)
    assert "LLVM ERROR: out of luck" in died.value.stderr
    with pytest.raises(ChildDied, match="killed by SIGABRT") as died:
        child.run(os.abort)
    assert "Fatal Python error: Aborted" in died.value.stderr and "LLVM ERROR" not in died.value.stderr
    started = child.started
    assert child.run(pid_and_sum, 2, 3)[1] == 5 and child.started == started + 1


def test_a_hang_is_killed_by_the_watchdog():
    with Child(watchdog=0.5) as child:
        start = time.perf_counter()
        with pytest.raises(ChildDied, match="gave no answer after 0.5 s"):
            child.run(time.sleep, 60)
    assert time.perf_counter() - start < 30


def test_a_crash_stops_the_campaign_and_names_the_program(capsys):
    with pytest.raises(CampaignCrash, match=r"(?s)TLC_FUZZ_SEED=\d+: the check of program \d+ crashed: the child "
                       r"process was killed by SIGABRT.*Fatal Python error: Aborted.*program:\ncase 3"):
        run_campaign("abort", CASES, SETTINGS, abort_on_3)
    assert "fuzz campaign abort: TLC_FUZZ_SEED=" in capsys.readouterr().out


def test_the_budget_stops_drawing_programs(monkeypatch, capsys):
    monkeypatch.setenv("TLC_FUZZ_BUDGET", "1e-9")       # spent before the first program: no child is even started
    run_campaign("budget", CASES, SETTINGS, abort_on_3)
    assert "0 programs checked in 0 s; stopped by the budget, TLC_FUZZ_BUDGET=1e-09 s" in capsys.readouterr().out


def test_the_budget_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("TLC_FUZZ_BUDGET", raising=False)
    assert campaign_budget() == 90
    monkeypatch.setenv("TLC_FUZZ_BUDGET", "inf")
    assert campaign_budget() == float("inf")
    monkeypatch.setenv("TLC_FUZZ_BUDGET", "12.5")
    assert campaign_budget() == 12.5
    for bad in ("soon", "0", "-3"):
        monkeypatch.setenv("TLC_FUZZ_BUDGET", bad)
        with pytest.raises(ValueError, match="TLC_FUZZ_BUDGET"):
            campaign_budget()
