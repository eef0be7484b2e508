"""The Dask backend: a planned program as one module of lazy ``dask.array`` operations, so it runs beyond one
machine's memory on Dask's threads, a LocalCluster or a cluster (whichever scheduler is active when the results
are computed).

The module is the shared schedule rendered by ``tlc.backends.dask.emitter``; it imports dask and
``tlc_runtime.dask_ops``. Results are Dask arrays (``np.asarray`` computes one); relations are computed.
"""

from __future__ import annotations

from tlc.analysis.relation_plan import ARRAY_RELATIONS
from tlc.backends.registry import LAZY_RESULTS, Backend, Emitted
from tlc.backends.shared.load import load_emitted
from tlc.driver.plan import CHUNKED_ARRAYS
from tlc.driver.planned import PlannedProgram


def emit(planned: PlannedProgram) -> Emitted:
    """The Dask module for ``planned``, with how each equation runs on Dask."""
    from tlc.backends.dask.emitter import DaskEmitter   # imports dask: only once the backend is used
    emitter = DaskEmitter(planned)
    source = emitter.module()
    if planned.program.equations:
        emitter.decisions.setdefault(0, []).append(f"contraction steps: ~{emitter.tasks} tasks in all (estimate)")
    return Emitted(source, planned.program.filename, decisions=emitter.decisions)


def load(planned: PlannedProgram, emitted: Emitted):
    """The emitted module's ``run`` function (it builds the task graph; computing is the caller's)."""
    return load_emitted(emitted.source, emitted.filename)


BACKEND = Backend("dask", "lazy dask.array code: out of core, on a LocalCluster or a cluster", emit, load,
                  extra="dask", requires=("dask", "dask.array", "distributed"),
                  capabilities=frozenset({LAZY_RESULTS, CHUNKED_ARRAYS, ARRAY_RELATIONS}))
