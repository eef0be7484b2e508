"""Random well-typed programs (``tlc.fuzz``) give the same results with their relational strata and path
fixpoints inside DuckDB as in memory (or fail alike, with a ``TlcError``)."""

from __future__ import annotations

import pytest

pytest.importorskip("duckdb")
hypothesis = pytest.importorskip("hypothesis")

import tlc  # noqa: E402
import tlc.fuzz  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(tlc.fuzz.cases())
def test_random_programs_agree_in_duckdb(case):
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
