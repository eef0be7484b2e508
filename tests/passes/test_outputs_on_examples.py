"""Every example with only its final tensors as outputs: intermediates fuse away (``fuse``, ``attention``) and the
outputs equal the full program's at -O0, on every backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tlc
from tlc.api import frontend
from tlc.fuzz.oracle import final_tensors

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WITH_DATA = sorted(p.stem for p in (EXAMPLES / "data").glob("*.npz"))


@pytest.mark.parametrize("name", WITH_DATA)
def test_final_tensors_match_the_full_program(name, backend):
    path = EXAMPLES / f"{name}.tl"
    with np.load(EXAMPLES / "data" / f"{name}.npz") as data:
        inputs = {key: data[key] for key in data.files}
    outputs = list(final_tensors(frontend(path.read_text(), str(path))))
    assert outputs
    reference = tlc.compile(path, backend="numpy", opt_level=0)(**inputs)
    program = tlc.compile(path, backend=backend, outputs=outputs)
    results = program(**inputs)
    assert sorted(results) == sorted(outputs)
    for key in outputs:
        np.testing.assert_allclose(np.asarray(results[key], dtype=float), np.asarray(reference[key], dtype=float),
                                   rtol=1e-9, atol=1e-12, err_msg=key)
