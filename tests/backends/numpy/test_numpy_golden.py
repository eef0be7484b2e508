"""The NumPy backend's emitted module (``Program.source()``) for the programs of ``golden_programs``, pinned
as text in ``golden/NAME.py``.

After an intended change to the emitted code, regenerate the files and review the diff:
``TLC_REGENERATE_GOLDEN=1 python -m pytest tests/backends/numpy/test_numpy_golden.py``
"""

from pathlib import Path

import numpy as np
import pytest

import tlc
from golden_programs import PROGRAMS, inputs


@pytest.mark.parametrize("name", PROGRAMS)
def test_emitted_source_is_pinned(name, golden):
    source, _, outputs = PROGRAMS[name]
    # an explicit memory limit: the default (half the memory available) could change contraction slicing
    program = tlc.compile(source, outputs=outputs, memory_limit="1G")
    golden(f"{name}.py", program.source(**inputs(name)))


@pytest.mark.parametrize("name", PROGRAMS)
def test_pinned_source_runs_like_the_program(name):
    """The pinned text is a module that runs on its own (through ``tlc_runtime``, on plain arrays) and gives
    the program's results."""
    source, _, outputs = PROGRAMS[name]
    text = (Path(__file__).parent / "golden" / f"{name}.py").read_text(encoding="utf-8")
    namespace: dict = {}
    exec(compile(text, f"golden/{name}.py", "exec"), namespace)
    data = inputs(name, seed=1)
    want = tlc.compile(source, outputs=outputs)(**data)
    got = namespace["run"](data)
    for tensor in want:
        np.testing.assert_allclose(np.asarray(got[tensor]), np.asarray(want[tensor]), err_msg=tensor)
