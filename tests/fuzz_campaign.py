"""The frame of the bounded fuzz campaigns (tests/test_fuzz.py, tests/test_fuzz_gradient.py): a fresh seed every run,
replayed with TLC_FUZZ_SEED=N, and named in every assertion message so that a CI failure can be reproduced."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import seed as hypothesis_seed

from tlc.fuzz.campaign import campaign_seed


def run_campaign(cases, settings, failure: Callable[[object], object]) -> None:
    """Draw ``cases`` (a Hypothesis strategy) under ``settings``, seeded by ``campaign_seed()``; ``failure(case)``
    returns what went wrong (shown in the assertion message after the seed) or something false when nothing did."""
    seed = campaign_seed()

    @hypothesis_seed(seed)
    @settings
    @given(cases)
    def campaign(case):
        found = failure(case)
        assert not found, f"TLC_FUZZ_SEED={seed}: {found}"

    campaign()
