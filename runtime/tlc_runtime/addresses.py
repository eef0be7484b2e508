"""The address of an ndarray's data, read from the array object: NumPy's ABI puts ``char *data`` first in
``PyArrayObject``, right after the object header, and CPython's ``id`` is the object's address. That takes about a
fifth of ``ndarray.ctypes.data`` (which builds a helper object per call), most of the cost of calling a small
native kernel. At import the fast reading is checked against ``ctypes.data`` on arrays, views and scalars; where it
disagrees (another Python, another NumPy layout), ``ctypes.data`` is used.
"""

from __future__ import annotations

import ctypes

import numpy as np

_HEADER = object.__basicsize__
"""Bytes of the object header before ``PyArrayObject``'s ``data`` field (reference count and type)."""
_read_pointer = ctypes.c_void_p.from_address


def from_object(array: np.ndarray) -> int:
    """The data address as NumPy stores it in the array object (CPython: ``id`` is the object's address)."""
    return _read_pointer(id(array) + _HEADER).value or 0


def from_ctypes(array: np.ndarray) -> int:
    """The data address through ``ndarray.ctypes`` (any Python)."""
    return array.ctypes.data


def _reads_correctly() -> bool:
    base = np.arange(24.0).reshape(4, 6)
    samples = (base, base[1:, 2:], base.T, np.zeros(3, dtype=np.bool_), np.array(2.5), np.empty((2, 3))[1])
    return all(from_object(a) == a.ctypes.data for a in samples)


data_address = from_object if _reads_correctly() else from_ctypes
"""``data_address(array)``: the address of ndarray ``array``'s first element (the caller keeps ``array`` alive)."""
