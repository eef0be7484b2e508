"""The llvm backend end to end: programs compiled with ``backend="llvm"`` agree with the NumPy backend.

Every paper example runs on its data (examples/data/*.npz), plus programs for the paths the
examples do not reach: shortest paths by min= fixpoint over inf, semi-naive Datalog, pooling,
recurrences, BLAS decisions in ``explain`` and thread counts.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("llvmlite")

import tlc  # noqa: E402

compile_llvm = functools.partial(tlc.compile, backend="llvm")
"""``tlc.compile`` on the llvm backend."""

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def nz(rng, *shape):
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def agree(source, **inputs):
    """Run ``source`` on both backends and check every result; returns the llvm program."""
    fast = compile_llvm(source)
    got = fast(**inputs)
    want = tlc.compile(source)(**inputs)
    assert set(got) == set(want)
    for name in want:
        a, b = np.asarray(got[name]), np.asarray(want[name])
        assert a.dtype == b.dtype and a.shape == b.shape, name
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)
    assert got.answers == want.answers
    return fast


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.tl")), ids=lambda p: p.stem)
def test_examples_agree_with_numpy(path):
    data = EXAMPLES / "data" / f"{path.stem}.npz"
    inputs = dict(np.load(data)) if data.exists() else {}
    program = agree(str(path), **inputs)
    assert "_k1(" in program.source()       # at least one equation runs as a native kernel


def test_kernels_replace_numpy_code():
    program = agree("Y[i] = relu(A[i] B[i] + C[i]) * D[i]", **{n: np.arange(1.0, 6.0) * s for n, s in
                                                               zip("ABCD", (1, -1, 2, 0.5))})
    source = program.source()
    assert "_k1(Y, None, (A, B, C, D), ()" in source and "rt.relu" not in source
    assert "kernel _k1" in program.explain()


def test_gemm_shaped_work_goes_to_blas_and_explain_says_so():
    rng = np.random.default_rng(1)
    program = agree("H[b, i] = relu(W[i, j] X[b, j] + B[i])", W=nz(rng, 64, 96), X=nz(rng, 40, 96), B=nz(rng, 64))
    source, plan = program.source(), program.explain()
    assert "contract(" in source and "_k1(" in source      # BLAS product, fused bias + relu
    assert "BLAS" in plan
    tiny = agree("H[i] = W[i, j] X[j]", W=nz(rng, 3, 4), X=nz(rng, 4))
    assert "contract(" not in tiny.source()               # too small to pay for a BLAS call


def test_plain_gemm_stays_numpy():
    rng = np.random.default_rng(2)
    program = agree("C[i, k] = A[i, j] B[j, k]", A=nz(rng, 64, 64), B=nz(rng, 64, 64))
    assert "_k1(" not in program.source()
    assert "GEMM-shaped" in program.explain()


def test_shortest_paths_min_plus_fixpoint_over_infinity():
    rng = np.random.default_rng(3)
    w = np.where(rng.random((12, 12)) < 0.3, rng.uniform(1, 5, (12, 12)), np.inf)
    agree("D[x, y] min= W[x, y]\nD[x, z] min= D[x, y] + W[y, z]", W=w)


def test_widest_paths_max_product():
    rng = np.random.default_rng(4)
    agree("C[x, y] max= P[x, y]\nC[x, z] max= C[x, y] P[y, z]", P=rng.uniform(0.1, 0.9, (10, 10)))


def test_seminaive_datalog_with_negation_and_queries():
    rng = np.random.default_rng(5)
    edges = rng.random((15, 15)) < 0.15
    src = ("Reach(x, y) = Edge(x, y)\nReach(x, z) = Reach(x, y) Edge(y, z)\n"
           "Node(x) = Edge(x, y)\nNode(y) = Edge(x, y)\nAlone(x) = Node(x) - Reach(x, x)\nReach(0, x)?")
    agree(src, Edge=edges)


def test_pooling_conv_and_shifted_reads():
    rng = np.random.default_rng(6)
    src = ("C[x, y] = I[x+dx, y+dy] F[dx, dy]\nM[x/2, y/2] max= C[x, y]\nA[x/3, y/3] avg= C[x, y]\n"
           "S[x] = I[x, 0] - I[x+1, 1] + I[x-1, 2]")
    agree(src, I=nz(rng, 11, 13), F=nz(rng, 3, 2))


def test_recurrence_and_avg_over_projected_indices():
    rng = np.random.default_rng(7)
    src = "S[0] = 1\nS[t+1] = S[t] * G[t] + X[t]\nM[i] avg= A[i, j] B[j]\nE[i] = exp(-(X[i] - Y[j])^2 / V)"
    agree(src, G=nz(rng, 6), X=nz(rng, 6), A=nz(rng, 6, 4), B=nz(rng, 4), Y=nz(rng, 5), V=0.7)


def test_threads_option_and_large_kernels_agree():
    rng = np.random.default_rng(8)
    a, b = nz(rng, 300, 300), nz(rng, 300, 300)
    results = []
    for threads in (1, 2):
        program = compile_llvm("C[i, k] min= A[i, j] + B[j, k]", threads=threads)
        results.append(program(A=a, B=b)["C"])
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], (a[:, :, None] + b[None]).min(axis=1))


def test_bad_threads_option_is_a_tlc_error():
    with pytest.raises(tlc.TlcError, match="threads"):
        compile_llvm("Y[i] = X[i]", threads=0)


def test_new_shapes_reuse_compiled_kernels():
    from tlc.backends.llvm.jit import jit
    program = compile_llvm("Y[i] = sig(X[i] * 3 + 1)")
    program(X=np.ones(4))
    before = jit().compilations
    out = program(X=np.arange(9.0))["Y"]
    assert jit().compilations == before     # extents are run-time arguments
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-(np.arange(9.0) * 3 + 1))))


def test_threads_split_kernels_that_read_numpy_temporaries():
    """The fused epilogue of a BLAS product addresses the temporary from the whole range's start,
    not from a thread's chunk."""
    rng = np.random.default_rng(9)
    w, x, b = nz(rng, 500, 40), nz(rng, 300, 40), nz(rng, 500)
    expected = np.maximum(x @ w.T + b, 0)
    for threads in (1, 2):
        program = compile_llvm("H[b, i] = relu(W[i, j] X[b, j] + B[i])", threads=threads)
        np.testing.assert_allclose(program(W=w, X=x, B=b)["H"], expected, rtol=1e-12, atol=1e-12)
        assert "contract(" in program.source()


def test_softmax_and_layer_norm_run_as_kernels():
    rng = np.random.default_rng(10)
    src = ("S[h, p, q.] = softmax(Q[h, p, d] K[h, q, d] / sqrt(Dk))\nN[p., d] = lnorm(X[p, d] + 1)\n"
           "M[p, d.] = lnorm(W[d, e] X[p, e])")
    program = agree(src, Q=nz(rng, 2, 5, 3), K=nz(rng, 2, 6, 3), Dk=3.0, X=nz(rng, 5, 4), W=nz(rng, 4, 4))
    assert "rt.softmax" not in program.source() and "rt.lnorm" not in program.source()


def test_normaliser_over_a_reduction_is_not_given_row_tiles():
    rng = np.random.default_rng(11)
    agree("T0[l, r., j'] = lnorm(X0[r, l] * (X1[] - X0[j, l]) * (1 - X2[] - X0[j', l]))",
          X0=nz(rng, 4, 4), X1=np.array(0.5), X2=np.array(1.5))


@pytest.mark.slow
def test_generated_programs_agree_with_numpy():
    """A bounded differential run over tlc.fuzz programs (the same errors, or the same results)."""
    hypothesis = pytest.importorskip("hypothesis")
    fuzz = pytest.importorskip("tlc.fuzz")

    @hypothesis.settings(max_examples=30, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(fuzz.cases())
    def check(case):
        program, inputs = case
        try:
            want = tlc.compile(program.source)(**inputs)
        except tlc.TlcError as err:
            with pytest.raises(type(err)):
                compile_llvm(program.source)(**inputs)
            return
        got = compile_llvm(program.source)(**inputs)
        for name in want:
            a, b = np.asarray(got[name]), np.asarray(want[name])
            assert a.dtype == b.dtype and a.shape == b.shape, (program.source, name)
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=program.source)
    check()


@pytest.mark.parametrize("source, shapes", [
    # an lnorm adjoint as the fuse pass leaves it: the means over d1 and d2 sit inside the loop over d
    ("G[b, d] = (A[b, d] - A[b, d1] / N[b] - Y[b, d] * (A[b, d2] Y[b, d2] / N[b])) / sqrt(V[b] + 1e-05)",
     dict(A=(24, 48), Y=(24, 48), N=(24,), V=(24,))),
    # a contraction inside another: the inner sum over q does not depend on d
    ("W[k, d] = tanh(C[b, q] K[q, k]) X[b, d]", dict(C=(16, 24), K=(24, 6), X=(16, 40))),
])
def test_a_sum_the_loop_nest_would_repeat_is_computed_once_by_numpy(source, shapes):
    rng = np.random.default_rng(0)
    inputs = {n: rng.uniform(0.5, 1.5, s) * rng.choice([-1.0, 1.0], s) for n, s in shapes.items()}
    inputs.update({n: np.abs(v) + 1.0 for n, v in inputs.items() if n in ("N", "V")})
    program = tlc.compile(source, backend="llvm")
    got = program(**inputs)
    want = tlc.compile(source)(**inputs)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-10, atol=1e-12)
    assert "would repeat" in program.explain()


@pytest.mark.parametrize("source, shapes", [
    ("Attn[b, h, p, v] = Comp[b, h, p, q] Val[b, h, q, v]", dict(Comp=(8, 4, 16, 16), Val=(8, 4, 16, 8))),
    ("W[k, d] = (A[b, k] + C[b, k]) tanh(X[b, d])", dict(A=(64, 24), C=(64, 24), X=(64, 40))),
    ("S[b, h, p, q] = relu(Q[b, h, p, k] K[b, h, q, k] / sqrt(8))", dict(Q=(8, 4, 16, 8), K=(8, 4, 16, 8))),
])
def test_batched_and_compound_matrix_products_go_to_blas(source, shapes):
    rng = np.random.default_rng(4)
    inputs = {n: nz(rng, *s) for n, s in shapes.items()}
    program = agree(source, **inputs)
    assert "BLAS" in program.explain()


def test_a_relation_read_under_sin_in_a_softmax_compiles():
    """Found by the gradient campaign (TLC_FUZZ_SEED=69, program 101): ``softmax(sin(E0(v, q, s)))`` over the first
    axis read the relation as ``uitofp i8`` in a strided loop, and LLVM's loop vectoriser aborted the process (its
    cost models disagreed); run in a child process, so that an abort fails this test only."""
    agrees_in_a_child("T0[v., q, s] = softmax(sin(E0(v, q, s)))\n", "T0", "E0",
                      "np.random.default_rng(23).uniform(size=(3, 4, 5)) > 0.5")


def agrees_in_a_child(source: str, result: str, name: str, data: str) -> None:
    """``source`` gives the same ``result`` on llvm as on numpy, with ``name`` given the value of the expression
    ``data``, compiled and run in a child process (an abort in LLVM fails the calling test only)."""
    import subprocess
    import sys
    script = ("import numpy as np, tlc\n"
              f"data = {data}\n"
              f"got = tlc.compile({source!r}, backend='llvm')({name}=data)[{result!r}]\n"
              f"want = tlc.compile({source!r}, backend='numpy')({name}=data)[{result!r}]\n"
              "np.testing.assert_allclose(got, want, rtol=1e-13)\n"
              "print('agreed')\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "agreed" in run.stdout, run.stderr[-2000:]


def test_tensors_that_depend_on_no_input_are_computed_once_at_load():
    """The gradient's lnorm carrier ``O`` (all ones) depends on no input: NumPy code at module level, as on the NumPy
    backend, not a kernel call in ``run`` at every call (kernels are bound only after the module has run); ``M``,
    which reads ``X`` (and ``O``'s count, inlined), stays a kernel in ``run``."""
    source = "O[i, j] = X[i, j]^0\nC[i] = O[i, j]\nS[i] = 1 / max(C[i], 1)\nM[i, j] = X[i, j] S[i] + 2"
    program = compile_llvm(source, outputs=["M"])
    x = nz(np.random.default_rng(5), 4, 6)
    module, run = program.source(X=x).split("def run(inputs):")
    assert "\nO = np.ones((4, 6))" in module and "O.setflags(write=False)" in module
    assert "(O," not in run and "\n    O = " not in run
    assert "_k1(M," in run
    for _ in range(2):
        np.testing.assert_allclose(program(X=x)["M"], x / 6 + 2, rtol=1e-14)


@pytest.mark.parametrize("source", ["G max= (X[r, x]^3)^3\n", "G[r] min= (X[r, x]^1.5)^4\n"])
def test_a_power_of_a_power_under_max_compiles(source):
    """Found by CI's hostile-names campaign (TLC_FUZZ_SEED=3770761251, program 8): a ``max=``/``min=`` reduction of a
    power of a power made LLVM's loop vectoriser abort the process (its cost models disagreed); run in a child
    process, so that an abort fails this test only."""
    agrees_in_a_child(source, "G", "X", "np.random.default_rng(29).uniform(0.5, 2.0, size=(3, 5))")


@pytest.mark.parametrize("source", ["T0[n] max= cos(cos(X[n, p]))\n", "T0[n] min= sin(cos(X[n, p]))\n",
                                    "T0 max= cos(sin(X[n, p]))\n"])
def test_a_sine_or_cosine_of_another_under_max_compiles(source):
    """Found by the gradient campaign (TLC_FUZZ_SEED=206, program 121): a ``max=``/``min=`` reduction of ``cos`` of
    ``cos`` (any pair of ``sin`` and ``cos``) made LLVM's loop vectoriser abort the process (its cost models
    disagreed), as a power of a power did; run in a child process, so that an abort fails this test only."""
    agrees_in_a_child(source, "T0", "X", "np.random.default_rng(30).uniform(-1.5, 1.5, size=(3, 5))")
