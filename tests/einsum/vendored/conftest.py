"""numpy's and opt_einsum's own einsum tests, run against tlc's drop-ins: the opt-in ``slow`` conformance suite."""

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Mark every vendored test ``slow``: the quick tier (``-m 'not slow'``) leaves them out."""
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.slow)
