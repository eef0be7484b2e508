"""Pass ``cse``: shared products become one intermediate, with unchanged results."""

import numpy as np

import tlc
from tlc.api import frontend
from tlc.ir.printer import format_program
from tlc.passes.cse import cse

rng = np.random.default_rng(3)


def rand(*shape):
    return rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def rewritten(source: str) -> str:
    return format_program(cse(frontend(source)).statements)


def test_product_shared_across_equations_up_to_renaming():
    text = rewritten("Y[i] = relu(W[i,j] X[j] + B[i])\nZ[k] = sig(W[k,m] X[m]) + W[k,n] X[n]\n")
    assert text == ("_cse1[i0] = W[i0, i1] X[i1]\nY[i] = relu(_cse1[i] + B[i])\n"
                    "Z[k] = sig(_cse1[k]) + _cse1[k]\n")


def test_not_shared_when_summation_differs_or_recursive():
    assert rewritten("Y[n] = A[d] E[n, d]\nG = A[d] E[n, d]\n").count("_cse") == 0
    assert rewritten("P(x, z) = P(x, y) E(y, z)\nQ(x, z) = P(x, y) E(y, z)\n").count("_cse") == 0


def test_results_unchanged_and_intermediates_hidden():
    src = "C[i,l] = A[i,j] B[j,k] D[k,l]\nE[i,l] = relu(A[i,j] B[j,k] D[k,l])\nF[i,l] = A[i,j] B[j,k] D[k,l] + 1\n"
    data = dict(A=rand(4, 5), B=rand(5, 6), D=rand(6, 3))
    plain = tlc.compile(src, opt_level=0)(**data)
    shared = tlc.compile(src, opt_level=2)
    res = shared(**data)
    assert sorted(res) == ["C", "E", "F"]
    for name in res:
        np.testing.assert_allclose(res[name], plain[name], rtol=1e-12)
    assert shared.source().count("contract(") == 1


def test_shared_tensor_laid_out_as_its_first_reader():
    """The intermediate's axes follow its first reader's left-hand side (then its other indices as they appear):
    that reader takes it as laid out (here an lnorm over its last index); results unchanged."""
    src = "S[b, d.] = lnorm(W[d, m] X[b, m] + X[b, d])\nT[d, b] = relu(W[d, n] X[b, n])\nU[d] = W[d, m] X[b, m]\n"
    assert rewritten(src) == ("_cse1[i2, i0] = W[i0, i1] X[i2, i1]\nS[b, d.] = lnorm(_cse1[b, d] + X[b, d])\n"
                              "T[d, b] = relu(_cse1[b, d])\nU[d] = W[d, m] X[b, m]\n")
    data = dict(W=rand(4, 4), X=rand(5, 4))
    plain = tlc.compile(src, opt_level=0)(**data)
    shared = tlc.compile(src, opt_level=2)
    assert "rt.lnorm((__cse1_ + X), axis=1)" in shared.source(**data)     # S reads it as laid out
    for name, value in shared(**data).items():
        np.testing.assert_allclose(value, plain[name], rtol=1e-12)
