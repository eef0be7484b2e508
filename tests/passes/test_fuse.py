"""Pass ``fuse``: an intermediate read once is inlined into its reader, with results unchanged."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import tlc
import tlc.fuzz
from tlc.api import frontend
from tlc.ir.printer import format_program
from tlc.passes.fuse import fuse

rng = np.random.default_rng(4)


def rand(*shape):
    return rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def fused(source: str, outputs) -> str:
    return format_program(fuse(frontend(source, outputs=outputs)).statements)


LAYER = "H[i] = W[i, j] X[j] + B[i]\nY[i] = relu(H[i])\n"


def test_elementwise_chain_joins_its_contraction():
    assert fused(LAYER, ["Y"]) == "Y[i] = relu(W[i, j] X[j] + B[i])\n"


def test_results_are_never_inlined():
    assert fused(LAYER, None) == LAYER
    assert fused(LAYER, ["Y", "H"]) == LAYER


def test_read_twice_or_recursive_is_kept():
    assert fused("H[i] = A[i, j] X[j]\nY[i] = H[i] H[i]\n", ["Y"]).count("\n") == 2
    src = "H[x, y] = E[x, y]\nP[x, y] = H[x, y]\nP[x, z] = P[x, y] E[y, z]\n"
    assert fused("H[x, y] = E[x, y] E[x, y]\nP[x, z] min= P[x, y] + H[y, z]\nP[x, y] min= E[x, y]\n",
                 ["P"]).count("H[") == 2
    assert fused(src, ["P"]) == src                    # a recursive stratum may re-evaluate its reader every round


def test_summed_variables_are_renamed_apart():
    text = fused("H[i] = A[i, j] B[j]\nY[j] = H[j] C[j]\n", ["Y"])
    assert text == "Y[j] = A[j, j1] B[j1] C[j]\n" or text == "Y[j] = (A[j, j1] B[j1]) C[j]\n"


def test_kept_when_the_projection_would_move():
    # Z = 2 exp(sum_i H[i]); inlining H = A[i, j] B[j] + C[i] would sum i over the outer product instead
    src = "H[i] = A[i, j] B[j] + C[i]\nZ = 2 * exp(H[i])\n"
    assert fused(src, ["Z"]) == src.replace(" * ", " ")
    # a max= reader would reduce the definition's summed j by max
    assert "H[" in fused("H[i, k] = A[i, j] B[j, k]\nM[i] max= H[i, k]\n", ["M"])


@pytest.mark.parametrize("src, outputs, data", [
    (LAYER, ["Y"], dict(W=rand(5, 4), X=rand(4), B=rand(5))),
    ("H[i] = A[i, j] B[j]\nY[j] = H[j] C[j]\n", ["Y"], dict(A=rand(3, 3), B=rand(3), C=rand(3))),
    ("H[i] = A[i, j] B[j] + C[i]\nZ = 2 * exp(H[i])\n", ["Z"], dict(A=rand(3, 4), B=rand(4), C=rand(3))),
    ("G[i, k] = A[i, j] B[j, k]\nH[i, k] = tanh(G[i, k]) / 2\nY[i, l] = H[i, k] D[k, l]\n", ["Y"],
     dict(A=rand(3, 4), B=rand(4, 5), D=rand(5, 2))),
])
def test_fused_results_equal_unfused(src, outputs, data, backend):
    plain = tlc.compile(src, backend=backend, opt_level=0)(**data)
    res = tlc.compile(src, backend=backend, outputs=outputs)(**data)
    assert sorted(res) == sorted(outputs)
    for name in outputs:
        np.testing.assert_allclose(res[name], plain[name], rtol=1e-9, atol=1e-12)


def random_chain(seed: int) -> tuple[str, dict]:
    """A random chain of layers: contractions, elementwise functions, biases, transposed reads."""
    r = np.random.default_rng(seed)
    sizes = {v: int(r.integers(2, 5)) for v in "ijkl"}
    lines, data, previous = [], {}, ("X", "j")
    data["X"] = rand(sizes["j"], sizes["k"])
    for n in range(int(r.integers(2, 5))):
        name, out = f"H{n}", "ijl"[n % 3]
        src, inner = previous[0], previous[1]
        weight = f"W{n}"
        data[weight] = rand(sizes[out], sizes[inner])
        body = f"{weight}[{out}, {inner}] {src}[{inner}, k]"
        if r.random() < 0.5:
            data[f"B{n}"] = rand(sizes[out])
            body = f"{body} + B{n}[{out}]"
        if r.random() < 0.7:
            body = f"{r.choice(['relu', 'tanh', 'sig', 'abs'])}({body})"
        if r.random() < 0.3:
            body = f"({body})^2 / 2"
        lines.append(f"{name}[{out}, k] = {body}")
        previous = (name, out)
    lines.append(f"Y[k] = {previous[0]}[{previous[1]}, k]")
    return "\n".join(lines) + "\n", data


@pytest.mark.parametrize("seed", range(12))
def test_random_chains_fuse_with_equal_results(seed, backend):
    """Every layer joins the next; the final sum Y[k] = H[j, k] joins too unless the last layer is non-linear
    (moving the sum over j inside a function would change the value)."""
    src, data = random_chain(seed)
    assert len(fuse(frontend(src, outputs=["Y"])).equations) <= 2, src
    reference = tlc.compile(src, backend=backend, opt_level=0)(**data)
    res = tlc.compile(src, backend=backend, outputs=["Y"])(**data)
    np.testing.assert_allclose(res["Y"], reference["Y"], rtol=1e-9, atol=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(tlc.fuzz.cases())
def test_random_programs_keep_their_last_result(case):
    program, inputs = case
    last = program.ir.equations[-1].lhs.name
    # a defined tensor the case gives data (its initial values) must stay: the optimiser may not remove it
    kept = [last] + [n for n in program.supplied if n in inputs and n != last]
    try:
        reference = tlc.compile(program.source, opt_level=0)(**inputs)
    except tlc.TlcError:        # a generated program can be wrong for any data (a declared extent meets named
        with pytest.raises(tlc.TlcError):       # constants): the optimised program must refuse it too
            tlc.compile(program.source, outputs=kept)(**inputs)
        return
    res = tlc.compile(program.source, outputs=kept)(**inputs)
    np.testing.assert_allclose(np.asarray(res[last], dtype=float), np.asarray(reference[last], dtype=float),
                               rtol=1e-9, atol=1e-9, equal_nan=True)


# A definition that leaves a hole at the low end of its extent (a read shifted down: ``T1[q] = X1[q - 1]`` leaves
# ``T1[0]`` undefined, i.e. 0) must not be inlined where 0 is not absorbing: the fused reader would leave its own
# element undefined instead of computing with 0. Found by ``tlc fuzz --seed 7 --count 300`` (max with a scalar).
FUZZ_SEED_7 = "T0[j] = X0[j]\nT1[v, t, q] = X1[v/2, t, q - 1]\nT0[k] += max(T1[p, l, k], X2[] - E0())\n"


def test_a_program_wrong_for_any_data_is_refused_with_or_without_fusion():
    """Found by the random-program test (a Hypothesis database entry): ``T0`` is declared 1 × 2 but both of its axes
    join named-constant axes of ``R0``, which has one constant."""
    source = ("tensor T0[1, 2]\nT0[i, j] = sin(i / 4^(j / 2))\nR0(Alice, Alice)\nR1(i, j) = R0(i, j)\n"
              "R1(i, k) = R1(i, j) R0(j, k)\nR0(i, j) += T0[i, j]\nR1(Alice, i)?\n")
    for outputs in (None, ["R1", "T0"]):
        with pytest.raises(tlc.TlcError, match="declared"):
            tlc.compile(source, outputs=outputs)(T0=np.array([[1.5]]))


SHIFTED_UP_SUMMED = "T0 = X0[]\nT1[i, j] = X1[i, j + 1, k]\nT2[i, j] = tanh(relu(T1[i, k] X2[j]))\n"


def test_definition_with_a_hole_is_not_inlined():
    assert "T1[" in fused(FUZZ_SEED_7, ["T0"])
    assert "T1[" in fused("T1[q] = X1[q - 1]\nY[k] = T1[k] + 1\n", ["Y"])
    assert "T1[" in fused("T1[q] = X1[q - 1] + X1[q + 1]\nY[k] = exp(T1[k])\n", ["Y"])
    assert "T1[" in fused("T1[x] = I[x - d] F[d]\nY[k] = T1[k] + 1\n", ["Y"])
    # a read of several variables (a convolution) ends its valid range early: kept (found by tlc fuzz
    # --hostile-names --seed 20261206, where the reader joined the result with a wider tensor)
    assert "T1[" in fused("T1[x] = I[x + d] F[d]\nY[k] = relu(T1[k])\n", ["Y"])
    # a read shifted up is valid from -1: where the reader sums that variable, kept (the differential campaign's
    # TLC_FUZZ_SEED=123352394: fused, k took -1 and read X1[i, 0, :] where T1 is empty)
    assert "T1[" in fused(SHIFTED_UP_SUMMED, ["T2"])
    # reads whose valid range starts at 0, or shifted up where the reader keeps the variable, still fuse
    assert "T1[" not in fused("T1[q] = X1[q + 1]\nY[k] = T1[k] + 1\n", ["Y"])
    assert "T1[" not in fused("T1[v] = X1[v/2]\nY[k] = T1[k] + 1\n", ["Y"])


@pytest.mark.parametrize("src, outputs, data", [
    (FUZZ_SEED_7, ["T0"], dict(X0=rand(4), X1=rand(2, 3, 3), X2=np.array(2.0), E0=np.array(True))),
    ("T1[q] = X1[q - 1]\nY[k] = T1[k] + 1\n", ["Y"], dict(X1=rand(3))),
    ("T1[q] = X1[q - 1] + 1\nY[k] = exp(T1[k])\n", ["Y"], dict(X1=rand(3))),
    ("T1[q] = X1[q - 1] + X1[q + 1]\nY[k] = max(T1[k], C[])\n", ["Y"], dict(X1=rand(5), C=np.array(1.5))),
    ("T1[q] = X1[q + 1]\nY[k] = T1[k] + 1\n", ["Y"], dict(X1=rand(3))),
    ("T1[x] = I[x + d] F[d]\nY[k] = relu(T1[k]) + 1\n", ["Y"], dict(I=rand(6), F=rand(3))),
    (SHIFTED_UP_SUMMED, ["T0", "T2"], dict(X0=np.array(1.5), X1=np.array([[[1.5]]]), X2=np.array([1.5]))),
    (SHIFTED_UP_SUMMED, ["T2"], dict(X0=np.array(1.5), X1=rand(2, 4, 3), X2=rand(3))),
    ("T0[j, s] = tanh(X0[j + p, s + w] X1[p, w])\nT2[l, i] = A[l, i] - T0[i, l]\n", ["T2"],
     dict(X0=rand(5, 5), X1=rand(3, 3), A=rand(6, 6))),
])
def test_holes_stay_holes_at_o3_with_outputs(src, outputs, data, backend):
    """``-O3`` with only the final tensor as output equals ``-O0`` (regression: fuse inlined a shifted read)."""
    plain = tlc.compile(src, backend=backend, opt_level=0)(**data)
    res = tlc.compile(src, backend=backend, opt_level=3, outputs=outputs)(**data)
    for name in outputs:
        np.testing.assert_allclose(res[name], plain[name], rtol=1e-9, atol=1e-12)


# A sum over an empty range is 0 and still defines its element: T0 is 0 here, and fused into T1 the sum must
# stay 0 too (sig(0) = 0.5), not make T1's equation define nothing (found by tlc fuzz --hostile-names).
def test_an_empty_sum_still_defines_its_element(backend):
    src = "T0 = -(X0[p] X1[] X2[p + 1])\nT1 = sig(T0[])\n"
    data = dict(X0=np.array([1.75]), X1=np.array(-1.5), X2=np.array([-1.5]))
    for outputs in (None, ["T1"]):
        np.testing.assert_allclose(tlc.compile(src, backend=backend, opt_level=3, outputs=outputs)(**data)["T1"], 0.5)
