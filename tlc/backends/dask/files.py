"""Files on the Dask backend: ``.npy`` and ``.zarr`` inputs opened lazily, results written to a ``.zarr`` store
without gathering them."""

from __future__ import annotations

import os

import numpy as np

from tlc.errors import TlcError

LAZY_SUFFIXES = (".npy", ".zarr")
"""Input files the Dask backend opens lazily (the others are read as on any backend)."""


def open_lazy(path: str):
    """The array in a ``.npy`` file (memory-mapped) or a ``.zarr`` store as a Dask array; nothing is read yet."""
    import dask.array as da
    if not os.path.exists(path):
        raise TlcError(f"no such input file: {path}", filename=path)
    try:
        if path.lower().rstrip("/").endswith(".zarr"):
            return da.from_zarr(path)
        return da.from_array(np.load(path, mmap_mode="r", allow_pickle=False), chunks="auto")
    except (OSError, ValueError, TypeError, KeyError) as err:
        raise TlcError(f"cannot open {path} as an array: {type(err).__name__}: {err}", filename=path) from None


def write_zarr(path: str, results) -> None:
    """Write every result into the ``.zarr`` store ``path``, one array per tensor (relations as Boolean arrays),
    in one computation so shared intermediates are computed once."""
    import dask
    import dask.array as da
    writes = []
    for name, value in results.items():
        array = value if isinstance(value, da.Array) else da.from_array(np.asarray(value))
        if array.ndim == 0:
            array = array.reshape((1,))     # zarr stores a 0-d result as one element
        writes.append(da.to_zarr(array, path, component=name, overwrite=True, compute=False))
    try:
        dask.compute(*writes)
    except OSError as err:
        raise TlcError(f"cannot write {path}: {err}", filename=path) from None
