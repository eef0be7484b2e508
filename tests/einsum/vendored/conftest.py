"""numpy's and opt_einsum's own einsum tests, run against tlc's drop-ins: the opt-in ``slow`` conformance suite."""

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


OTHER_LIBRARIES = ("test_tensorflow", "test_theano", "test_cupy", "test_jax", "test_autograd", "test_dask",
                   "test_sparse", "test_torch")
"""opt_einsum's tests of arrays from other libraries: tlc's drop-ins evaluate NumPy arrays only (docs/einsum.md),
so these are skipped whether or not the library is installed (the ``dask`` extra installs dask, for one)."""


def pytest_collection_modifyitems(config, items):
    """Mark every vendored test ``slow`` (the quick tier, ``-m 'not slow'``, leaves them out), and skip the tests
    of other array libraries."""
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.slow)
            if item.name.startswith(OTHER_LIBRARIES):
                item.add_marker(pytest.mark.skip(reason="needs a non-NumPy array library; tlc evaluates NumPy arrays"))
