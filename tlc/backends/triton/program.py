"""Load the triton backend's module for one specialisation, on first use."""

from __future__ import annotations

import tlc_runtime.triton_host as th
from tlc.backends.registry import Emitted
from tlc.driver.planned import PlannedProgram


def load(planned: PlannedProgram, emitted: Emitted):
    """``run(prepared_inputs)``, which loads the module (checking that kernels can run here) when first called."""
    return th.runner(emitted.source)
