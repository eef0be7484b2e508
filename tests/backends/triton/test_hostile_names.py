"""Hostile tensor and index names in Triton kernels (parameters, kernel locals, counts, relation copies), run
in the interpreter against the same programs under plain names on the NumPy backend."""

import numpy as np
import pytest

pytest.importorskip("triton.language")   # the real Triton: a directory named triton is not it

import tlc  # noqa: E402
from triton_support import nz  # noqa: E402

PROGRAM = ("{Y}[{i}] = relu({W}[{i}, {j}] {X}[{j}] + {B}[{i}]) * {S}\n{Z}[{i}] avg= {W}[{i}, {j}]\n"
           "{M}[{i}] max= {W}[{i}, {j}] - {B}[{i}]\n{P}[{i}, {j}.] = softmax({W}[{i}, {j}])\n")
PLAIN = dict(Y="Y", W="W", X="X", B="B", S="S", Z="Z", M="M", P="P", i="i", j="j")
HOSTILE = [
    dict(Y="Y_ptr", W="W'", X="W_p", B="pid", S="tl", Z="_count_Z", M="acc", P="t1", i="pid", j="acc"),
    dict(Y="dst", W="triton", X="np", B="th", S="range", Z="Z_count", M="om", P="lo_i", i="t1", j="lo_i"),
    dict(Y="X'", W="X_p", X="X_p_", B="_", S="self", Z="__", M="float", P="_t1", i="dst", j="x_ptr"),
]
SHAPES = dict(W=(6, 5), X=(5,), B=(6,), S=())


@pytest.mark.parametrize("names", HOSTILE, ids=lambda n: n["W"])
def test_hostile_names_on_triton(names):
    rng = np.random.default_rng(3)
    values = {slot: (nz(rng, *shape) if shape else 1.5) for slot, shape in SHAPES.items()}
    expected = tlc.compile(PROGRAM.format(**PLAIN))(**values)
    prog = tlc.compile(PROGRAM.format(**names), backend="triton")
    got = prog(**{names[slot]: value for slot, value in values.items()})
    assert "kernel" in prog.explain()
    for slot in ("Y", "Z", "M", "P"):
        np.testing.assert_allclose(got[names[slot]], expected[slot], rtol=1e-12, err_msg=names[slot])


def test_a_constant_cannot_close_a_kernel_docstring(monkeypatch):
    monkeypatch.delenv("TLC_INJECTION_CANARY", raising=False)
    constant = "'a\"\"\" + __import__(\"os\").environ.__setitem__(\"TLC_INJECTION_CANARY\", \"1\") + \"\"\"'"
    prog = tlc.compile(f"R({constant}, B)\nY[i] = A[i, {constant}] * 2\n", backend="triton")
    np.testing.assert_allclose(prog(A=np.full((3, 2), 1.5))["Y"], 3.0)
    assert "kernel _k1" in prog.explain()
    assert "TLC_INJECTION_CANARY" not in __import__("os").environ
