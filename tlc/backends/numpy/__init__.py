"""The NumPy backend: a planned program as one readable NumPy module (the reference every other backend and
pass is checked against).

The module is the shared schedule (``tlc.backends.shared.schedule``) with every equation rendered by
``tlc.backends.shared.arrays`` (runs of equations of one elementwise shape as one: ``tlc.backends.shared.batching``);
it imports only numpy and ``tlc_runtime``.
"""

from __future__ import annotations

from tlc.backends.registry import Backend, Emitted
from tlc.backends.shared.load import load_emitted
from tlc.backends.shared.schedule import ScheduleEmitter
from tlc.driver.planned import PlannedProgram


class NumpyEmitter(ScheduleEmitter):
    """The shared schedule, with runs of strata of one elementwise shape computed as one and concat's adjoint as a
    reshape."""

    BATCHES_ELEMENTWISE = True
    UNMERGES_SELECTORS = True


def emit(planned: PlannedProgram) -> Emitted:
    """The NumPy module for ``planned``."""
    return Emitted(NumpyEmitter(planned).module(), planned.program.filename)


def load(planned: PlannedProgram, emitted: Emitted):
    """The emitted module's ``run`` function."""
    return load_emitted(emitted.source, emitted.filename)


BACKEND = Backend("numpy", "readable NumPy code, the reference", emit, load)
