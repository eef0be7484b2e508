"""Shared fixtures: the backend matrix every backend-independent test runs over, goldens, and references."""

import os
import random
import tempfile

import pytest
from hypothesis import HealthCheck, settings

from tlc.api import BACKENDS

# Hypothesis's timing checks (a 200 ms deadline per example, "data generation too slow") measure the machine, not
# tlc: on CI's two shared cores, with pytest-xdist running a test per core, they fail at random. Correctness checks
# and every other health check stay on.
settings.register_profile("tlc", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tlc")


CACHE_DIR = pytest.StashKey[tuple]()
"""This process's temporary cache directory and the ``TLC_CACHE_DIR`` it replaced."""


def pytest_configure(config):
    """Every cache tlc keeps on disk (the llvm backend's object code, Triton's modules) goes to a directory of this
    process: ``TLC_CACHE_DIR``, set before collection (some test modules compile kernels when imported) and
    inherited by subprocesses, so the suite never writes to the user's ``~/.cache``."""
    directory = tempfile.TemporaryDirectory(prefix="tlc-test-cache-")
    config.stash[CACHE_DIR] = (directory, os.environ.get("TLC_CACHE_DIR"))
    os.environ["TLC_CACHE_DIR"] = directory.name


def pytest_unconfigure(config):
    """Remove this process's cache directory and restore ``TLC_CACHE_DIR``."""
    directory, before = config.stash[CACHE_DIR]
    if before is None:
        os.environ.pop("TLC_CACHE_DIR", None)
    else:
        os.environ["TLC_CACHE_DIR"] = before
    directory.cleanup()


def pytest_sessionstart(session):
    """Choose the fuzz campaigns' seed once per run (``TLC_FUZZ_SEED``, unless given) and show it on the terminal
    before any test runs: a campaign that crashes the process (an abort in native code) loses its captured
    output, so the seed it printed would be lost with it."""
    given = os.environ.get("TLC_FUZZ_SEED", "").strip()
    if not given:
        os.environ["TLC_FUZZ_SEED"] = str(random.SystemRandom().randrange(2**32))
    reporter = session.config.pluginmanager.getplugin("terminalreporter")
    if reporter is not None and not hasattr(session.config, "workerinput"):
        note = "" if given else " (random; set TLC_FUZZ_SEED to replay)"
        reporter.write_line(f"fuzz campaigns: TLC_FUZZ_SEED={os.environ['TLC_FUZZ_SEED']}{note}")


def pytest_terminal_summary(terminalreporter):
    """Repeat each fuzz campaign's report line (``fuzz_campaign.run_campaign``: programs checked, seed, budget), taken
    from the tests' captured output (so it also works with pytest-xdist)."""
    from fuzz_campaign import SUMMARY

    lines = [line for reports in terminalreporter.stats.values() for report in reports
             if getattr(report, "when", None) == "call"
             for _, text in getattr(report, "sections", ()) for line in text.splitlines()
             if line.startswith(f"{SUMMARY} ")]
    if lines:
        terminalreporter.section("fuzz campaigns")
        for line in lines:
            terminalreporter.write_line(line)


SEMANTICS_BACKENDS = (*BACKENDS, "dask")
"""The backends the semantics tests run on: the CPU backends and Dask (lazy arrays, on its synchronous scheduler)."""


SLOW_ON_DASK = ("tests/train/test_rnn_recall.py::", "tests/test_fuzz_source.py::test_long_chains_compile_and_are_right")
"""Tests whose Dask case takes a minute (training loops, chains of hundreds of equations: task graphs built call
after call): it runs in the slow tier."""


def pytest_collection_modifyitems(items):
    """Mark the Dask cases of ``SLOW_ON_DASK`` slow."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("backend") == "dask" and item.nodeid.startswith(SLOW_ON_DASK):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(params=SEMANTICS_BACKENDS)
def backend(request):
    """Each backend in turn (tests compare against independent NumPy computations); llvm needs llvmlite, dask
    the dask extra, and computes on Dask's synchronous scheduler while the test runs."""
    if request.param == "llvm":
        pytest.importorskip("llvmlite")
    if request.param != "dask":
        yield request.param
        return
    dask = pytest.importorskip("dask")
    pytest.importorskip("dask.array")
    with dask.config.set(scheduler="synchronous"):
        yield request.param


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
