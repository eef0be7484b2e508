"""The frame of the bounded fuzz campaigns (tests/test_fuzz.py, tests/test_fuzz_gradient.py): a fresh seed every run,
replayed with TLC_FUZZ_SEED=N, and named in every assertion message so that a CI failure can be reproduced.

Hypothesis draws the programs here; each is checked in a child process (``tlc.fuzz.child``), reused from one program
to the next, so an abort or a fatal signal in native code fails the test naming the program, its seed and the
child's standard error instead of killing the run (a ``CampaignCrash``, not an assertion). A wall-clock budget (``TLC_FUZZ_BUDGET`` seconds, default
``DEFAULT_BUDGET``; ``inf`` for none) stops drawing new programs: the programs checked are the first ones of the
seed's sequence, so ``TLC_FUZZ_SEED=N TLC_FUZZ_BUDGET=inf`` replays a seed over its full count. Each campaign prints
how many programs it checked (``conftest.py`` repeats the line in the terminal summary).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from hypothesis import given
from hypothesis import seed as hypothesis_seed

from tlc.fuzz.campaign import campaign_seed
from tlc.fuzz.child import Child, ChildDied

DEFAULT_BUDGET = 90.0
"""Seconds a campaign draws new programs for when ``TLC_FUZZ_BUDGET`` is not set."""
WATCHDOG = 600.0
"""Seconds one program's check may take in the child before it is killed (each run inside has its own time limit;
this catches a hang in native code, which no signal handler can interrupt)."""
SUMMARY = "fuzz campaign"
"""How each campaign's report line starts."""


class CampaignCrash(Exception):
    """A program's check killed its child process: not an ``AssertionError``, so an ``xfail(raises=AssertionError)``
    campaign still fails on it."""


def campaign_budget() -> float:
    """Seconds from ``TLC_FUZZ_BUDGET`` (``inf`` for no budget), else ``DEFAULT_BUDGET``."""
    text = os.environ.get("TLC_FUZZ_BUDGET", "").strip()
    if not text:
        return DEFAULT_BUDGET
    try:
        budget = float(text)
    except ValueError:
        raise ValueError(f"TLC_FUZZ_BUDGET must be a number of seconds or inf, not {text!r}") from None
    if not budget > 0:
        raise ValueError(f"TLC_FUZZ_BUDGET must be positive (inf for no budget), not {text!r}")
    return budget


def verdict(failure: Callable[[object], object], case) -> str | None:
    """What ``failure(case)`` found, as text (None when nothing): run in the child, whose objects stay there."""
    found = failure(case)
    return str(found) if found else None


def run_campaign(name: str, cases, settings, failure: Callable[[object], object]) -> None:
    """Draw ``cases`` (a Hypothesis strategy) under ``settings``, seeded by ``campaign_seed()``, until they run out or
    the budget does; ``failure(case)`` (a module-level function: it runs in the child) returns what went wrong (shown
    in the assertion message after the seed) or something false when nothing did."""
    seed = campaign_seed()
    budget = campaign_budget()
    start = time.perf_counter()
    state = {"checked": 0, "shrinks": 0, "failing": False, "out of budget": False, "crash": None}

    def check(case):
        if state["crash"]:
            return                      # stop cleanly: the crash is reported once the campaign ends
        if not state["failing"]:
            if time.perf_counter() - start > budget:
                state["out of budget"] = True
                return
            state["checked"] += 1
        else:
            state["shrinks"] += 1
        try:
            found = child.run(verdict, failure, case)
        except ChildDied as died:
            state["crash"] = (f"TLC_FUZZ_SEED={seed}: the check of program {state['checked']} crashed: {died}\n"
                              f"program:\n{case[0].source}")
            return
        if found:
            state["failing"] = True
        assert not found, f"TLC_FUZZ_SEED={seed}: {found}"

    campaign = hypothesis_seed(seed)(settings(given(cases)(check)))
    with Child(watchdog=WATCHDOG) as child:
        try:
            campaign()
        finally:
            stop = f"; stopped by the budget, TLC_FUZZ_BUDGET={budget:g} s" if state["out of budget"] else ""
            shrinks = f" (and {state['shrinks']} while shrinking a failure)" if state["shrinks"] else ""
            print(f"{SUMMARY} {name}: TLC_FUZZ_SEED={seed}: {state['checked']} programs checked{shrinks} in "
                  f"{time.perf_counter() - start:.0f} s{stop}")
    if state["crash"]:
        raise CampaignCrash(state["crash"])
