"""LLVM kernels (tlc.backends.llvm) against NumPy on random non-zero data.

Kernels are built directly in kernel IR and run through the process JIT; each case checks a loop
shape the backend relies on: sum-products, semirings, Boolean joins, shifted and divided indices,
fused elementwise chains and single recurrence steps with run-time ranges.
"""

from __future__ import annotations

import math
import shutil
import signal

import numpy as np
import pytest

pytest.importorskip("llvmlite")

import tlc  # noqa: E402
from tlc.backends.llvm import jit as jit_module  # noqa: E402
from tlc.backends.llvm.jit import call, jit, lower, native_kernel  # noqa: E402
from tlc.backends.llvm.kernel import (  # noqa: E402
    Array, Binary, IndexVal, Kernel, Lit, Normalize, Output, Param, Pos, Read, Reduce, Sig, Unary, describe,
)

RTOL, ATOL = 1e-12, 1e-12


def nz(rng, *shape):
    """Values in ±[0.5, 1.5): random signs, never near zero."""
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def p(*variables, offset=0, divisor=1):
    """Position: the sum of ``variables`` (+offset) // divisor."""
    return Pos(tuple((v, 1) for v in variables), offset, divisor)


def read(array, *positions):
    return Read(array, tuple(positions))


def matmul_like(op, body, rows, dtype="f64", combine="assign"):
    """out[i, k] = op over j of body(A[i, j], B[j, k])."""
    value = Reduce(op, ("j",), Binary(body, read(0, p("i"), p("j")), read(1, p("j"), p("k"))))
    out_dtype = "u8" if dtype == "u8" else "f64"
    return Kernel(("i", "k"), value, Output((p("i"), p("k")), out_dtype, combine), (Array(2, dtype), Array(2, dtype)),
                  rows=rows, split="i")


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.mark.parametrize("rows", [False, True], ids=["register", "rows"])
def test_sum_product(rng, rows):
    a, b = nz(rng, 37, 29), nz(rng, 29, 70)
    out = np.zeros((37, 70))
    call(matmul_like("sum", "mul", rows), out, (a, b))
    np.testing.assert_allclose(out, a @ b, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("rows", [False, True], ids=["register", "rows"])
def test_min_plus(rng, rows):
    a, b = nz(rng, 41, 33), nz(rng, 33, 130)
    a[3, :5] = np.inf          # "no edge" stays exact: no fast-math flag assumes finite values
    out = np.zeros((41, 130))
    call(matmul_like("min", "add", rows), out, (a, b))
    np.testing.assert_array_equal(out, (a[:, :, None] + b[None]).min(axis=1))


@pytest.mark.parametrize("rows", [False, True], ids=["register", "rows"])
def test_max_product(rng, rows):
    a, b = nz(rng, 20, 50), nz(rng, 50, 67)
    out = np.zeros((20, 67))
    call(matmul_like("max", "mul", rows), out, (a, b))
    np.testing.assert_array_equal(out, (a[:, :, None] * b[None]).max(axis=1))


def test_max_and_min_skip_nan_contributions_like_fmax(rng):
    a, b = nz(rng, 6, 9), nz(rng, 9, 70)
    a[2, 4] = np.nan
    for op in ("max", "min"):
        out = np.zeros((6, 70))
        call(matmul_like(op, "add", True), out, (a, b))
        expected = getattr(np, f"f{op}").reduce(a[:, :, None] + b[None], axis=1)
        np.testing.assert_array_equal(out, expected)
        assert not np.isnan(out).any()


@pytest.mark.parametrize("rows", [False, True], ids=["register", "rows"])
def test_boolean_join(rng, rows):
    r, s = rng.random((45, 38)) < 0.1, rng.random((38, 90)) < 0.1
    out = np.zeros((45, 90), dtype=bool)
    out[0, 0] = True           # 'or' keeps what is already there
    call(matmul_like("or", "mul", rows, dtype="u8", combine="or"), out, (r, s))
    expected = (r.astype(float) @ s.astype(float)) > 0
    expected[0, 0] = True
    np.testing.assert_array_equal(out, expected)


def test_convolution_by_shifts(rng):
    image, filt = nz(rng, 30, 41), nz(rng, 3, 4)
    value = Reduce("sum", ("dx", "dy"),
                   Binary("mul", read(0, p("x", "dx"), p("y", "dy")), read(1, p("dx"), p("dy"))))
    h, w = 30 - 3 + 1, 41 - 4 + 1
    expected = sum(filt[dx, dy] * image[dx:dx + h, dy:dy + w] for dx in range(3) for dy in range(4))
    for rows in (False, True):
        out = np.zeros((h, w))
        kernel = Kernel(("x", "y"), value, Output((p("x"), p("y")), "f64", "add"), (Array(2), Array(2)), rows=rows)
        call(kernel, out, (image, filt), ranges={"x": (0, h), "y": (0, w), "dx": (0, 3), "dy": (0, 4)})
        np.testing.assert_allclose(out, expected, rtol=RTOL, atol=ATOL)


def test_pooling_max_and_avg(rng):
    feat = nz(rng, 9, 12)
    windows = feat[:8, :12].reshape(4, 2, 6, 2)
    out = np.full((4, 6), -np.inf)
    pool = Kernel(("x", "y"), read(0, p("x"), p("y")), Output((p("x", divisor=2), p("y", divisor=2)), "f64", "max"),
                  (Array(2),))
    call(pool, out, (feat,), ranges={"x": (0, 8), "y": (0, 12)})
    np.testing.assert_array_equal(out, windows.max(axis=(1, 3)))
    total, count = np.zeros((4, 6)), np.zeros((4, 6))
    avg = Kernel(("x", "y"), read(0, p("x"), p("y")), Output((p("x", divisor=2), p("y", divisor=2)), "f64", "add"),
                 (Array(2),), count=())
    call(avg, total, (feat,), ranges={"x": (0, 8), "y": (0, 12)}, count=count)
    np.testing.assert_array_equal(count, 4.0)
    np.testing.assert_allclose(total / count, windows.mean(axis=(1, 3)), rtol=RTOL)


def test_fused_elementwise_chain(rng):
    a, b, c, d = (nz(rng, 1000) for _ in range(4))
    x = read(0, p("i"))
    value = Binary("mul", Unary("relu", Binary("add", Binary("mul", x, read(1, p("i"))), read(2, p("i")))),
                   read(3, p("i")))
    out = np.zeros(1000)
    call(Kernel(("i",), value, Output((p("i"),), "f64", "assign"), (Array(1),) * 4), out, (a, b, c, d))
    np.testing.assert_allclose(out, np.maximum(a * b + c, 0) * d, rtol=RTOL)


FUNCTIONS = {
    "exp": np.exp, "log": lambda x: np.log(np.abs(x)), "sqrt": lambda x: np.sqrt(np.abs(x)), "abs": np.abs,
    "sin": np.sin, "cos": np.cos, "tanh": np.tanh, "relu": lambda x: np.maximum(x, 0),
    "step": lambda x: (x > 0).astype(float), "neg": np.negative,
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_elementwise_functions(rng, name):
    x = nz(rng, 257)
    arg = read(0, p("i"))
    if name in ("log", "sqrt"):
        arg = Unary("abs", arg)
    out = np.zeros(257)
    call(Kernel(("i",), Unary(name, arg), Output((p("i"),), "f64", "assign"), (Array(1),)), out, (x,))
    np.testing.assert_allclose(out, FUNCTIONS[name](x), rtol=1e-14, atol=1e-15)


def test_binary_ops_params_index_values_and_sigmoid(rng):
    x, y = nz(rng, 50), nz(rng, 50)
    a, b = read(0, p("i")), read(1, p("i"))
    cases = {
        Binary("div", a, b): x / y, Binary("sub", a, b): x - y, Binary("pow", Unary("abs", a), b): np.abs(x) ** y,
        Binary("pow", a, Lit(2.0)): x ** 2, Binary("max", a, b): np.maximum(x, y),
        Binary("min", a, b): np.minimum(x, y),
        Binary("mul", Param(0), IndexVal("i")): 2.5 * np.arange(3, 53), Sig(a): 1 / (1 + np.exp(-x)),
        Sig(a, Param(0)): 1 / (1 + np.exp(-x / 2.5)), Sig(a, Lit(0.0)): (x > 0).astype(float),
    }
    for value, expected in cases.items():
        out = np.zeros(50)
        value = _shift_reads(value, [(p("i", offset=-3),)] * 2)
        kernel = Kernel(("i",), value, Output((p("i", offset=-3),), "f64", "assign"), (Array(1), Array(1)), n_params=1)
        call(kernel, out, (x, y), (2.5,), ranges={"i": (3, 53)})
        np.testing.assert_allclose(out, expected, rtol=1e-14, err_msg=describe(kernel))


def _shift_reads(node, positions):
    """Re-point every read at ``i - 3`` so the loop can run over [3, 53) (exercises run-time lo)."""
    from dataclasses import fields, replace
    if isinstance(node, Read):
        return replace(node, pos=positions[node.array])
    changes = {f.name: _shift_reads(getattr(node, f.name), positions) for f in fields(node)
               if isinstance(getattr(node, f.name), (Read, Unary, Binary, Sig, Reduce))}
    return replace(node, **changes) if changes else node


def test_softmax_and_layer_norm_rows(rng):
    x = nz(rng, 13, 29) * 5
    for kind, expected in (("softmax", np.exp(x - x.max(1, keepdims=True)) / np.exp(x - x.max(1, keepdims=True)).sum(
            1, keepdims=True)), ("lnorm", (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5))):
        out = np.zeros((13, 29))
        kernel = Kernel(("i", "j"), Normalize(kind, "j", read(0, p("i"), p("j"))), Output((p("i"), p("j")), "f64",
                                                                                            "add"), (Array(2),))
        call(kernel, out, (x,))
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)


def softmax_rows(x):
    """NumPy's softmax along the last axis."""
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("assigned", [True, False], ids=["written whole", "added"])
def test_a_softmax_written_whole_exponentiates_each_element_once(rng, assigned):
    """A kernel whose value is a softmax assigned to its output stores each ``exp`` there and divides the row by its
    sum (one vectorised exp per element, and a softmax of a product sums it twice, not three times); one adding into
    its output keeps the second exp. Both agree with NumPy, with one output element per row element."""
    x = nz(rng, 11, 3, 23) * 5
    y = nz(rng, 23, 3)
    value = Normalize("softmax", "j", Reduce("sum", ("k",), Binary("mul", read(0, p("i"), p("k"), p("j")),
                                                                    read(1, p("j"), p("k")))))
    kernel = Kernel(("i", "j"), value, Output((p("i"), p("j")), "f64", "assign" if assigned else "add"),
                    (Array(3), Array(2)))
    out = np.zeros((11, 23))
    call(kernel, out, (x, y))
    np.testing.assert_allclose(out, softmax_rows(np.einsum("ikj,jk->ij", x, y)), rtol=1e-12, atol=1e-14)
    ir_text = lower(kernel, "k")
    products = ir_text.count("getelementptr inbounds double, double* %\".4\"")    # reads of y: one per pass
    assert products == (2 if assigned else 3)


def test_recurrence_steps_reuse_one_kernel(rng):
    """X[t, j] = tanh(W[j, k] X[t-1, k]) one step per call, t passed at run time: compiled once."""
    w, x = 0.5 * nz(rng, 6, 6), np.zeros((8, 6))
    x[0] = nz(rng, 6)
    value = Unary("tanh", Reduce("sum", ("k",), Binary("mul", read(0, p("j"), p("k")),
                                                       read(1, p("t", offset=-1), p("k")))))
    step = Kernel(("t", "j"), value, Output((p("t"), p("j")), "f64", "assign"), (Array(2), Array(2, aliased=True)))
    expected = x.copy()
    for t in range(1, 8):
        expected[t] = np.tanh(w @ expected[t - 1])
    before = None
    for t in range(1, 8):
        call(step, x, (w, x), ranges={"t": (t, t + 1), "j": (0, 6), "k": (0, 6)})
        before = jit().compilations if before is None else before
    assert jit().compilations == before
    np.testing.assert_allclose(x, expected, rtol=RTOL, atol=ATOL)


def test_fast_math_sum_is_reassociated_within_tolerance(rng):
    """Sum reductions carry 'reassoc' (vectorised partial sums): results agree to a few ulps, not bitwise."""
    x = rng.uniform(-1.0, 1.0, 100_003)
    out = np.zeros(())
    total = Kernel((), Reduce("sum", ("i",), read(0, p("i"))), Output((), "f64", "assign"), (Array(1),))
    call(total, out, (x,))
    assert math.isclose(float(out), math.fsum(x), rel_tol=1e-10, abs_tol=1e-10)
    assert "reassoc" in jit().compile(total).llvm_ir


def test_sum_reduction_vectorises():
    kernel = Kernel(("i",), Reduce("sum", ("j",), Binary("mul", read(0, p("i"), p("j")), read(1, p("j")))),
                    Output((p("i"),), "f64", "add"), (Array(2), Array(1)))
    assert "x double>" in jit().compile(kernel).llvm_ir


def test_cache_second_call_does_not_recompile(rng):
    kernel = Kernel(("i",), Binary("add", read(0, p("i")), Lit(3.25)), Output((p("i"),), "f64", "add"),
                    (Array(1),), label="first")
    first = jit().compile(kernel)
    count = jit().compilations
    again = Kernel(("i",), Binary("add", read(0, p("i")), Lit(3.25)), Output((p("i"),), "f64", "add"),
                   (Array(1, name="other"),), label="second")     # names and labels are not part of the key
    assert jit().compile(again) is first
    out = np.zeros(5)
    call(again, out, (np.ones(5),))
    assert jit().compilations == count


@pytest.mark.parametrize("kernel", [
    Kernel(("i",), Unary("erf", read(0, p("i"))), Output((p("i"),), "f64", "add"), (Array(1),)),
    Kernel(("i",), read(3, p("i")), Output((p("i"),), "f64", "add"), (Array(1),)),
    Kernel(("i",), read(0, p("j")), Output((p("i"),), "f64", "add"), (Array(1),)),
    Kernel(("i",), read(0, p("i")), Output((p("i"),), "u8", "add"), (Array(1),)),
    Kernel(("i", "j"), Normalize("softmax", "i", read(0, p("i"), p("j"))), Output((p("i"), p("j"))), (Array(2),)),
], ids=["unknown-function", "missing-array", "unbound-variable", "bad-combine", "softmax-not-innermost"])
def test_a_failing_kernel_is_a_tlc_error(kernel):
    with pytest.raises(tlc.TlcError, match="cannot compile"):
        jit().compile(kernel)


def test_llvm_rejecting_ir_is_a_tlc_error():
    with pytest.raises(tlc.TlcError, match="LLVM rejected"):
        jit_module.optimise("define void @f() { ret i32 0 }", jit()._tm, "line 3")


def test_threads_give_identical_results(rng):
    a, b = nz(rng, 300, 200), nz(rng, 200, 300)
    results = []
    for threads in (1, 2):
        for rows in (False, True):
            out = np.zeros((300, 300))
            call(matmul_like("sum", "mul", rows), out, (a, b), threads=threads)
            results.append(out)
    np.testing.assert_array_equal(results[0], results[2])
    np.testing.assert_array_equal(results[1], results[3])
    np.testing.assert_allclose(results[0], a @ b, rtol=RTOL, atol=1e-11)


def test_extents_that_disagree_with_the_arrays_are_refused(rng):
    kernel = matmul_like("sum", "mul", False)
    a, b, out = nz(rng, 4, 3), nz(rng, 3, 5), np.zeros((4, 5))
    native = native_kernel(kernel)
    ints = [0, 4, 0, 5, 0, 3, 4, 5, 4, 3, 3, 6]
    with pytest.raises(ValueError, match="extents"):
        native(out, None, (a, b), (), ints)


def test_a_kernel_reads_the_params_of_each_call(rng):
    """A kernel keeps the params it was called with for the next call with the same values: calls with other values,
    as a list, or with a 0-d array among them read their own."""
    x = nz(rng, 6)
    kernel = Kernel(("i",), Binary("mul", Param(0), read(0, p("i"))), Output((p("i"),), "f64", "assign"), (Array(1),),
                    n_params=1)
    native = native_kernel(kernel)
    for params in [(2.5,), (-1.0,), (2.5,), [4.0], (np.array(0.5),), (2.5,)]:
        out = np.zeros(6)
        native(out, None, (x,), params, (0, 6, 6, 6))
        np.testing.assert_array_equal(out, float(params[0]) * x)


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler as linker")
def test_ahead_of_time_shared_library(tmp_path, rng):
    from tlc.backends.llvm.aot import write_shared
    from tlc.backends.llvm.kernel import symbol_for
    from tlc_runtime.native import Spec, load_library
    kernel = matmul_like("min", "add", True)
    path = write_shared([kernel], str(tmp_path / "k.so"))
    spec = Spec(symbol_for(kernel), ("f64", "f64"), "f64", 3, 0)
    loaded = load_library(path, {"k": spec}, threads=1)["k"]
    a, b, out = nz(rng, 5, 7), nz(rng, 7, 9), np.zeros((5, 9))
    loaded(out, None, (a, b), (), [0, 5, 0, 9, 0, 7, 5, 9, 5, 7, 7, 9])
    np.testing.assert_array_equal(out, (a[:, :, None] + b[None]).min(axis=1))


def test_vectorised_exp_matches_libm_on_special_values():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 709.78, 709.79, -745.1, -745.2, -708.4, 1e-300, 50.5, -20.25])
    out = np.zeros_like(x)
    call(Kernel(("i",), Unary("exp", read(0, p("i"))), Output((p("i"),), "f64", "assign"), (Array(1),)), out, (x,))
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(out, np.exp(x), rtol=4e-16, atol=0)


def test_vectorised_exp_is_within_an_ulp_of_libm_and_takes_no_scalar_steps(rng):
    """exp is straight-line IR whose loop vectorises: within 1 ulp of ``math.exp`` from underflow to overflow, at
    the points where ``x log2(e)`` is a half-integer (where k, the power of two, changes) and near 0; its polynomial
    is evaluated by Estrin's scheme with fused multiply-adds, and k is rounded and converted without ``fptosi``
    (which AVX2 has no vector instruction for: its four conversions were done one by one)."""
    import math
    halves = (np.arange(-1070, 1022) + 0.5) * math.log(2)
    x = np.concatenate([rng.uniform(-745, 709.7, 20_000), rng.uniform(-1, 1, 5_000), rng.uniform(-1e-8, 1e-8, 500),
                        halves[halves > -745], np.nextafter(halves[halves > -745], np.inf)])
    kernel = Kernel(("i",), Unary("exp", read(0, p("i"))), Output((p("i"),), "f64", "assign"), (Array(1),))
    out = np.zeros(len(x))
    call(kernel, out, (x,))
    want = np.array([math.exp(v) for v in x])
    assert np.all(np.abs(out - want) <= np.spacing(want))
    ir_text = lower(kernel, "k")
    assert "fptosi" not in ir_text and "llvm.fmuladd" in ir_text and "llvm.exp" not in ir_text   # (names are quoted)


def test_vectorised_log_is_within_an_ulp_of_libm_and_keeps_special_values(rng):
    """log is straight-line IR (no libm call, so its loop vectorises): within 1 ulp of ``math.log`` over the whole
    range, subnormals and the halving point sqrt(2) included; log(0) is -inf, a negative or NaN argument NaN, log(inf)
    inf."""
    import math
    x = np.concatenate([np.exp(rng.uniform(-745, 709.7, 20_000)), rng.uniform(0, 3, 5_000),
                        1 + rng.uniform(-1e-6, 1e-6, 500), np.nextafter(math.sqrt(2), [0, 3]),
                        [5e-324, 1e-310, 2.2250738585072014e-308, 1.0, 2.0, 0.5, 1.7976931348623157e308]])
    special = np.array([0.0, -0.0, -1.0, -np.inf, np.inf, np.nan])
    kernel = Kernel(("i",), Unary("log", read(0, p("i"))), Output((p("i"),), "f64", "assign"), (Array(1),))
    out = np.zeros(len(x) + len(special))
    call(kernel, out, (np.concatenate([x, special]),))
    want = np.array([math.log(v) for v in x])
    assert np.all(np.abs(out[:len(x)] - want) <= np.spacing(np.abs(want)))
    np.testing.assert_array_equal(out[len(x):], [-np.inf, -np.inf, np.nan, np.nan, np.inf, np.nan])
    assert "llvm.log" not in lower(kernel, "k") and '@"log"' not in lower(kernel, "k")   # (IR names are quoted)


def test_thread_count_comes_from_tlc_num_threads(monkeypatch):
    from tlc_runtime.native import default_threads
    monkeypatch.setenv("TLC_NUM_THREADS", "3")
    assert default_threads() == 3
    monkeypatch.setenv("TLC_NUM_THREADS", "lots")
    with pytest.raises(tlc.TlcError, match="TLC_NUM_THREADS"):      # a RuntimeFailure, reported as a TlcError
        tlc.compile("Y[i] = X[i] * 2", backend="llvm")(X=np.ones(4))
    monkeypatch.delenv("TLC_NUM_THREADS")
    assert default_threads() >= 1


@pytest.mark.skipif(not hasattr(signal, "raise_signal") or not hasattr(signal, "SIGALRM"), reason="POSIX alarm")
def test_an_alarm_inside_a_compile_waits_until_the_engine_owns_the_kernel(monkeypatch):
    """A time limit's alarm that fired after the engine took a module but before llvmlite marked it as the engine's
    left the module owned twice, and Python freed memory LLVM went on using (an abort, later, in the pass manager)."""
    from llvmlite.binding import ffi
    from tlc.fuzz.oracle import Hang, time_limit

    add = ffi.lib.LLVMPY_AddModule
    taken = []

    def add_then_alarm(engine, module):
        add(engine, module)
        taken.append(module)
        signal.raise_signal(signal.SIGALRM)       # the handler runs here, as an expiry at this moment would

    rng = np.random.default_rng(31)
    a = nz(rng, 3, 5)
    value = Binary("mul", Lit(0.318), Unary("tanh", read(0, p("i"), p("j"))))     # a kernel no other test compiles
    kernel = Kernel(("i", "j"), value, Output((p("i"),), "f64", "add"), (Array(2),), label="interrupted")
    monkeypatch.setitem(ffi.lib._fntab, "LLVMPY_AddModule", add_then_alarm)
    compilations = jit().compilations
    with pytest.raises(Hang):
        with time_limit(100):
            jit().compile(kernel)
    monkeypatch.setitem(ffi.lib._fntab, "LLVMPY_AddModule", add)
    assert [m._owned for m in taken] == [True]        # Python will not free what the engine owns
    assert jit().compilations == compilations + 1     # and the kernel is cached: no second module with its symbol
    result = np.zeros(3)
    call(kernel, result, (a,))
    np.testing.assert_allclose(result, 0.318 * np.tanh(a).sum(axis=1), rtol=RTOL, atol=ATOL)
    assert jit().compilations == compilations + 1


def test_a_kernel_tells_a_negative_zero_param_from_zero(rng):
    """-0.0 equals 0.0 as a key of the kept params, but dividing by it gives the other infinity: each call's sign of
    zero reaches the kernel."""
    x = np.abs(nz(rng, 6))
    kernel = Kernel(("i",), Binary("div", read(0, p("i")), Param(0)), Output((p("i"),), "f64", "assign"), (Array(1),),
                    n_params=1)
    native = native_kernel(kernel)
    for zero in (0.0, -0.0, 0.0, -0.0):
        out = np.zeros(6)
        with np.errstate(divide="ignore"):
            native(out, None, (x,), (zero,), (0, 6, 6, 6))
            np.testing.assert_array_equal(out, x / zero)
