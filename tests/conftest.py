"""Shared fixtures: the backend matrix every backend-independent test runs over."""

import pytest

from tlc.api import BACKENDS


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Each backend in turn (tests compare against independent NumPy computations); llvm needs llvmlite."""
    if request.param == "llvm":
        pytest.importorskip("llvmlite")
    return request.param


@pytest.fixture
def compile_tl(backend):
    """``tlc.compile`` for the backend under test."""
    import functools

    import tlc
    return functools.partial(tlc.compile, backend=backend)
