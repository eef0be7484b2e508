"""Random well-typed programs (tlc.fuzz) on the triton backend, in the interpreter, against NumPy -O0."""

import pytest

pytest.importorskip("triton.language")   # the real Triton: a directory named triton is not it
pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402

import tlc.fuzz  # noqa: E402


@pytest.mark.slow
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(tlc.fuzz.cases())
def test_random_programs_agree_with_numpy(case):
    program, inputs = case
    tlc.fuzz.check(program, inputs, backends=("triton",), opt_levels=(0, 2), pass_orders=0,
                   timeout=60).raise_if_failed()
