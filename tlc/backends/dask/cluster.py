"""Where a Dask program runs from the command line: an existing cluster (``--scheduler ADDRESS``), a LocalCluster
started for the run (``--workers N``, ``--memory-limit-per-worker``), or else the active ``distributed.Client`` or
Dask's default scheduler."""

from __future__ import annotations

import contextlib

from tlc.errors import TlcError

CONNECT_TIMEOUT = "10s"


@contextlib.contextmanager
def scheduler(address: str | None = None, workers: int | None = None, memory_limit: str | None = None):
    """A context in which Dask computes where the options say (nothing changes when none is given)."""
    if address is None and workers is None and memory_limit is None:
        yield None
        return
    from distributed import Client, LocalCluster
    if address is not None:
        if workers is not None or memory_limit is not None:
            raise TlcError("--scheduler connects to a running cluster; --workers and --memory-limit-per-worker "
                           "start a local one: give one or the other")
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as err:
            raise TlcError(f"cannot connect to the Dask scheduler at {address}: {err}") from None
        with client:
            yield client
        return
    if workers is not None and workers < 1:
        raise TlcError(f"--workers must be at least 1, not {workers}")
    try:
        cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, memory_limit=memory_limit or "auto",
                               dashboard_address=None, processes=True)
    except (ValueError, TypeError) as err:
        raise TlcError(f"cannot start a local Dask cluster: {err}") from None
    with cluster, Client(cluster) as client:
        yield client
