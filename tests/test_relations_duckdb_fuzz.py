"""Random well-typed programs (``tlc.fuzz``), with plain and with hostile names (which reach SQL as table
names), give the same results with their relational strata and path fixpoints inside DuckDB as in memory (or
fail alike, with a ``TlcError``)."""

from __future__ import annotations

import pytest

pytest.importorskip("duckdb")
hypothesis = pytest.importorskip("hypothesis")

import tlc  # noqa: E402
import tlc.fuzz  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402


def agree(case):
    """The case's results in memory and in DuckDB agree (or both raise ``TlcError``)."""
    program, inputs = case
    try:
        expected = tlc.compile(program.source)(**inputs)
    except tlc.TlcError:
        with pytest.raises(tlc.TlcError):
            tlc.compile(program.source, relations="duckdb")(**inputs)
        return
    got = tlc.compile(program.source, relations="duckdb")(**inputs)
    assert set(got) == set(expected)
    for name in expected:
        why = tlc.fuzz.compare_values(name, expected[name], got[name])
        assert why is None, f"{why}\n{program.source}"


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(tlc.fuzz.cases())
def test_random_programs_agree_in_duckdb(case):
    agree(case)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(tlc.fuzz.cases(hostile_names=True))
def test_programs_with_hostile_names_agree_in_duckdb(case):
    agree(case)
