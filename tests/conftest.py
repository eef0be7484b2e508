"""Shared fixtures: the backend matrix every backend-independent test runs over, goldens, and references."""

import os

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


@pytest.fixture
def golden(request):
    """``golden(name, text)``: compare ``text`` with ``golden/NAME`` next to the test module.

    The files pin emitted code as text. After an intended change to it, regenerate them and review the diff:
    ``TLC_REGENERATE_GOLDEN=1 python -m pytest TEST_FILE``."""
    from pathlib import Path

    directory = Path(str(request.fspath)).resolve().parent / "golden"

    def check(name: str, text: str) -> None:
        path = directory / name
        if os.environ.get("TLC_REGENERATE_GOLDEN") == "1":
            directory.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"{path} is missing; run with TLC_REGENERATE_GOLDEN=1 to write it"
        assert text == path.read_text(encoding="utf-8"), \
            f"{path} differs; if the change is intended, rerun with TLC_REGENERATE_GOLDEN=1 and review the diff"
    return check


def _closure_by_powers(adjacency):
    """Paths of length >= 1 by iterating R <- R | R·A to a fixpoint."""
    a = adjacency.astype(int)
    r = a.copy()
    while True:
        grown = ((r + r @ a) > 0).astype(int)
        if (grown == r).all():
            return r.astype(bool)
        r = grown


@pytest.fixture
def closure_by_powers():
    """The reference transitive closure of a dense Boolean adjacency matrix: Boolean matrix powers."""
    return _closure_by_powers
