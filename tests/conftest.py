"""Shared fixtures: the backend matrix every backend-independent test runs over."""

import pytest

from tlc.api import BACKENDS


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Each available backend in turn (tests compare against independent NumPy computations)."""
    return request.param
