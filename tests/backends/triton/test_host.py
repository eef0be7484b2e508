"""How programs reach kernels: the interpreter wrapper, the error without a route, the CLI."""

import numpy as np
import pytest

pytest.importorskip("triton.language")   # the real Triton: a directory named triton is not it

import tlc  # noqa: E402
import tlc_runtime.triton_host as th  # noqa: E402
from triton_support import run_without_interpreter  # noqa: E402
from tlc.cli import main  # noqa: E402

NO_ROUTE = r'''
import sys
import numpy as np
import tlc
from tlc_runtime.triton_host import route, TritonUnavailable
try:
    route()
    print("has a route")
    sys.exit(0)
except TritonUnavailable:
    pass
program = tlc.compile("Y[i] = A[i] * 2", backend="triton")
print(program.source(A=np.ones(3)).count("\n@triton.jit"), "kernel")
try:
    program(A=np.ones(3))
except tlc.TlcError as err:
    print(err)
'''


def test_without_gpu_or_interpreter_the_first_call_says_what_is_needed():
    done = run_without_interpreter(NO_ROUTE)
    assert done.returncode == 0, done.stderr[-3000:]
    if "has a route" in done.stdout:
        pytest.skip("torch with a CUDA device is present")
    assert "1 kernel" in done.stdout      # emitting needs neither
    assert "the triton backend needs Triton and either a CUDA GPU with torch" in done.stdout
    assert "TRITON_INTERPRET=1" in done.stdout


def test_route_is_the_interpreter_here():
    assert th.route() == "interpret"


def test_interpreter_wrapper_shares_memory():
    array = np.arange(6.0).reshape(2, 3)
    wrapped = th._Interpreted(array)
    assert wrapped.data_ptr() == array.ctypes.data
    assert wrapped.stride() == (3, 1) and wrapped.size() == (2, 3)


def test_non_contiguous_inputs_are_read_correctly():
    data = np.arange(12.0).reshape(3, 4).T + 1.0     # Fortran order
    result = tlc.compile("Y[i, j] = A[i, j] * 2", backend="triton")(A=data)["Y"]
    np.testing.assert_array_equal(result, data * 2)


def test_cli_compile_prints_the_module_and_explain_shows_decisions(tmp_path, capsys):
    src = tmp_path / "p.tl"
    src.write_text("Y[i, k] = A[i, j] B[j, k]\nC[k] = concat(Y[i, j])\n")
    np.savez(tmp_path / "d.npz", A=np.ones((16, 16)), B=np.ones((16, 16)))
    assert main(["compile", str(src), "--target", "triton", "--data", str(tmp_path / "d.npz")]) == 0
    out = capsys.readouterr().out
    assert "@triton.jit" in out and "tl.dot(a, b)" in out and "def run(inputs):" in out
    assert main(["explain", str(src), "--backend", "triton", "--data", str(tmp_path / "d.npz")]) == 0
    out = capsys.readouterr().out
    assert "kernel _k1: tl.dot: A x B summed over j" in out and "NumPy: concat reshapes" in out
    assert main(["run", str(src), "--backend", "triton", "--data", str(tmp_path / "d.npz")]) == 0
    assert "C (256,)" in capsys.readouterr().out
