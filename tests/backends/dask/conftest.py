"""The Dask tests' reference check: a program on the dask backend against the same program on the NumPy backend."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import tlc  # noqa: E402


def agree_with_numpy(source, data, *, nonempty: bool = False, **options):
    """Run ``source`` on both backends with the same options: every relation has the same tuples (some, with
    ``nonempty``, so the comparison checks something), and every numeric result is a Dask array holding the NumPy
    backend's values; returns the dask program."""
    expected = tlc.compile(source, **options)(**data)
    program = tlc.compile(source, backend="dask", **options)
    actual = program(**data)
    assert set(actual) == set(expected)
    for name in expected:
        if isinstance(actual[name], tlc.api.rt.Relation):
            assert set(actual[name]) == set(expected[name]), name
            assert set(actual[name]) or not nonempty, f"{name} is empty: the test checks nothing"
            continue
        assert isinstance(actual[name], da.Array), (name, type(actual[name]))
        np.testing.assert_allclose(np.asarray(actual[name]), np.asarray(expected[name]), rtol=1e-9, atol=1e-12,
                                   err_msg=name)
    return program


@pytest.fixture
def agree():
    """:func:`agree_with_numpy`."""
    return agree_with_numpy
