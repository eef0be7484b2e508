"""``tlc_runtime.addresses.data_address``: the data pointer read from the array object equals ``ctypes.data``."""

import platform

import numpy as np
import pytest

from tlc_runtime import addresses


@pytest.mark.parametrize("make", [
    lambda: np.random.default_rng(0).random((7, 5)),
    lambda: np.arange(60.0).reshape(3, 4, 5)[1:, ::2, 3:],
    lambda: np.asfortranarray(np.ones((4, 3))),
    lambda: np.zeros(0),
    lambda: np.array(3.0),
    lambda: np.ones(9, dtype=np.bool_)[2:],
    lambda: np.frombuffer(bytearray(64), dtype=np.float64)[3:],
], ids=["array", "strided view", "fortran", "empty", "0-d", "bool view", "foreign buffer"])
def test_the_address_is_ctypes_data(make):
    array = make()
    assert addresses.data_address(array) == array.ctypes.data


def test_cpython_reads_the_address_from_the_object():
    if platform.python_implementation() != "CPython":
        pytest.skip("the fast reading is CPython's")
    assert addresses.data_address is addresses.from_object
