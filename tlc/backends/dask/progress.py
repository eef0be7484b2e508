"""Dask's own progress bars on the command line: ``dask.diagnostics.ProgressBar`` for the local schedulers,
``distributed.progress`` when a ``distributed.Client`` is active (both on standard error, when it is a
terminal and ``--quiet`` is not given)."""

from __future__ import annotations

import contextlib

import numpy as np

MINIMUM = 0.5
"""Seconds a local computation runs before its bar is drawn (quick ones stay quiet)."""


def _client():
    """The active ``distributed.Client``, or None (Dask's local schedulers compute)."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None


@contextlib.contextmanager
def local_progress(stream, show: bool):
    """While in the block, computations on Dask's local schedulers draw Dask's progress bar on ``stream`` (when
    ``show``; a distributed Client's are shown by ``computed``)."""
    if not show or _client() is not None:
        yield
        return
    from dask.diagnostics import ProgressBar
    with ProgressBar(minimum=MINIMUM, out=stream):
        yield


def computed(values: dict, stream, show: bool) -> dict:
    """``values`` with every Dask array computed, all in one computation (shared intermediates once); with a
    distributed Client and ``show``, ``distributed.progress`` draws the cluster's progress on ``stream``."""
    import dask

    lazy = {name: value for name, value in values.items() if dask.is_dask_collection(value)}
    if not lazy:
        return values
    client = _client()
    if client is None:
        arrays = dask.compute(*lazy.values())
    else:
        futures = client.compute(list(lazy.values()))
        if show:
            from distributed import progress
            with contextlib.redirect_stdout(stream):     # its text bar writes to standard output
                progress(futures)
        arrays = client.gather(futures)
    return {**values, **{name: np.asarray(array) for name, array in zip(lazy, arrays)}}
