"""Fused attention: equal to the unfused program on every backend, tensor attention, the polynomial
path and its bound, outputs, explain, printing and bad input."""

import importlib
from pathlib import Path

import numpy as np
import pytest

import tlc
from tlc.api import frontend
from tlc.ir import nodes as ir
from tlc.ir.printer import format_program
from tlc.passes.attention import attention as fuse

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
RNG = np.random.default_rng(7)


def normal(*shape):
    return RNG.normal(size=shape)


def fused_and_reference(src, backend, outputs, **inputs):
    """Results of the fused program (checked to hold an Attention node) and of the -O0 program."""
    fast = tlc.compile(src, backend=backend, outputs=outputs)
    assert any(isinstance(eq.rhs, ir.Attention) for eq in fast.ir.equations)
    slow = tlc.compile(src, backend=backend, opt_level=0)
    return fast(**inputs), slow(**inputs), fast


TWO_WAY = "Comp[p, p'.] = softmax(Q[p, d] K[p', d] / sqrt(Dk))\nOut[p, e] = Comp[p, p'] V[p', e]\n"


def test_two_way_equals_unfused_across_blocks(backend, monkeypatch):
    # small blocks: 600 queries and 700 keys span several query and key blocks, some partial
    blocks = importlib.import_module("tlc_runtime.attention")
    monkeypatch.setattr(blocks, "QUERY_BLOCK", 128)
    monkeypatch.setattr(blocks, "BLOCK_ELEMENTS", 128 * 96)
    inputs = dict(Q=normal(600, 16), K=normal(700, 16), V=normal(700, 5), Dk=16.0)
    fast, slow, prog = fused_and_reference(TWO_WAY, backend, ["Out"], **inputs)
    assert list(fast) == ["Out"]
    assert np.allclose(fast["Out"], slow["Out"], rtol=1e-10, atol=1e-12)
    assert prog.report[0].method == "exact"


@pytest.mark.parametrize("src", [
    # batch and heads in unusual positions; keys and values shared across heads (multi-query)
    "S[h, p, b, q.] = softmax(Q[b, p, h, d] K[q, b, d] * 0.3)\nO[b, e, h, p] = S[h, p, b, q] V[b, q, e]\n",
    # an additive mask tensor
    "S[b, p, q.] = softmax(Q[b, p, d] K[b, q, d] / 4 + M[p, q])\nO[b, p, e] = S[b, p, q] V[b, q, e]\n",
    # causal: keys after the query position are pushed out of the softmax
    "S[b, p, q.] = softmax(Q[b, p, d] K[b, q, d] - 1e9 step(q - p))\nO[b, p, e] = S[b, p, q] V[b, q, e]\n",
    # a Boolean mask relation and a key-padding mask
    "S[b, p, q.] = softmax(Q[b, p, d] K[b, q, d] - 1e9 ~Allowed(p, q) + Pad[b, q])\n"
    "O[b, p, e] = S[b, p, q] V[b, q, e]\n",
])
def test_masked_and_batched_equal_unfused(backend, src):
    n = 9
    data = dict(Q=normal(2, n, 3, 4) if "Q[b, p, h" in src else normal(2, n, 4),
                K=normal(n, 2, 4) if "K[q, b" in src else normal(2, n, 4), V=normal(2, n, 3), M=normal(n, n),
                Allowed=(RNG.random((n, n)) < 0.7) | np.eye(n, dtype=bool), Pad=normal(2, n))
    prog = tlc.compile(src)
    inputs = {k: v for k, v in data.items() if k in prog.input_names()}
    fast, slow, _ = fused_and_reference(src, backend, ["O"], **inputs)
    assert np.allclose(fast["O"], slow["O"], rtol=1e-10, atol=1e-12)


def test_causal_is_recognised_as_causal():
    src = "S[p, q.] = softmax(Q[p, d] K[q, d] - 1e9 step(q - p))\nO[p, e] = S[p, q] V[q, e]\n"
    node = tlc.compile(src, outputs=["O"]).ir.equations[0].rhs
    assert node.causal and node.mask is None


def test_transformer_example_is_fused(backend):
    data = dict(np.load(EXAMPLES / "data" / "transformer.npz"))
    fast, slow, prog = fused_and_reference(EXAMPLES / "transformer.tl", backend, ["Y"], **data)
    assert np.allclose(fast["Y"], slow["Y"], rtol=1e-10, atol=1e-12)
    assert "lines 21, 22: fused: Comp is not materialised" in prog.explain()


THREE_WAY = ("Comp[p, p1., p2.] = softmax(Q[p, d] K1[p1, d] K2[p2, d] / C)\n"
             "Out[p, e] = Comp[p, p1, p2] V1[p1, e] V2[p2, e]\n")


def tensor_inputs(n, m1, m2, d=4, e=3, spread=0.5):
    return dict(Q=RNG.uniform(-spread, spread, (n, d)), K1=RNG.uniform(-spread, spread, (m1, d)),
                K2=RNG.uniform(-spread, spread, (m2, d)), V1=RNG.uniform(-1, 1, (m1, e)),
                V2=RNG.uniform(-1, 1, (m2, e)), C=1.0)


def naive_tensor_attention(Q, K1, K2, V1, V2, C):
    s = np.einsum("pd,ad,bd->pab", Q, K1, K2) / C
    w = np.exp(s - s.max(axis=(1, 2), keepdims=True))
    w /= w.sum(axis=(1, 2), keepdims=True)
    return np.einsum("pab,ae,be->pe", w, V1, V2)


def test_tensor_attention_exact_equals_naive(backend, monkeypatch):
    blocks = importlib.import_module("tlc_runtime.attention")
    monkeypatch.setattr(blocks, "QUERY_BLOCK", 8)
    monkeypatch.setattr(blocks, "BLOCK_ELEMENTS", 8 * 100)    # pair blocks: 3 rows of K1 by all 30 of K2
    inputs = tensor_inputs(20, 600, 30, spread=2.0)
    fast, slow, prog = fused_and_reference(THREE_WAY, backend, ["Out"], **inputs)
    expected = naive_tensor_attention(**inputs)
    assert np.allclose(fast["Out"], expected, rtol=1e-10, atol=1e-12)
    assert np.allclose(slow["Out"], expected, rtol=1e-10, atol=1e-12)
    assert prog.report[0].keys == 2 and prog.report[0].method == "exact"


@pytest.mark.parametrize("tolerance", [1e-2, 1e-4, 1e-7])
def test_polynomial_path_meets_its_bound(tolerance):
    inputs = tensor_inputs(150, 120, 130)
    prog = tlc.compile(THREE_WAY, outputs=["Out"], tolerance=tolerance)
    out = prog(**inputs)["Out"]
    report = prog.report[0]
    assert report.method == "polynomial" and report.error_bound <= tolerance
    error = np.abs(out - naive_tensor_attention(**inputs)).max()
    assert 0 < error <= report.error_bound
    assert 0 < report.measure() <= error
    assert "polynomial" in prog.explain() and "measured max error" in prog.explain()


def test_two_way_polynomial_when_entries_are_small():
    inputs = dict(Q=RNG.uniform(-0.1, 0.1, (300, 3)), K=RNG.uniform(-0.1, 0.1, (400, 3)), V=normal(400, 2), Dk=1.0)
    prog = tlc.compile(TWO_WAY, outputs=["Out"], tolerance=1e-6)
    out = prog(**inputs)["Out"]
    exact = tlc.compile(TWO_WAY, opt_level=0)(**inputs)["Out"]
    assert prog.report[0].method == "polynomial"
    assert np.abs(out - exact).max() <= prog.report[0].error_bound <= 1e-6


def test_tolerance_the_bound_cannot_guarantee_falls_back_to_exact():
    inputs = tensor_inputs(10, 11, 12, spread=4.0)
    prog = tlc.compile(THREE_WAY, outputs=["Out"], tolerance=1e-3)
    out = prog(**inputs)["Out"]
    assert prog.report[0].method == "exact"
    assert np.allclose(out, naive_tensor_attention(**inputs))
    assert "tolerance not guaranteed (entry bound B = " in prog.explain()


def test_scores_are_materialised_by_default_and_explain_says_how_to_fuse():
    prog = tlc.compile(TWO_WAY)
    assert not any(isinstance(eq.rhs, ir.Attention) for eq in prog.ir.equations)
    text = prog.explain()
    assert "attention recognised but not fused: Comp is a result" in text and "outputs=[" in text
    assert set(prog(Q=normal(3, 2), K=normal(4, 2), V=normal(4, 2), Dk=2.0)) == {"Comp", "Out"}


def test_a_queried_score_tensor_is_kept():
    prog = tlc.compile(TWO_WAY + "Comp[0, 1]?\n", outputs=["Out"])
    assert not any(isinstance(eq.rhs, ir.Attention) for eq in prog.ir.equations)
    assert "Comp is a result (it is queried)" in prog.explain()


@pytest.mark.parametrize("src, reason", [
    (TWO_WAY + "Other[p] = Comp[p, p'] W[p']\n", "Comp is read 2 times (lines 2, 3)"),
    ("Comp[p., p'] = softmax(Q[p, d] K[p', d])\nOut[p, e] = Comp[p, p'] V[p', e]\n",
     "the softmax axis must be the key index"),
    ("Comp[p, p'.] = softmax(Q[p, d] K[p', d] X[p, p'])\nOut[p, e] = Comp[p, p'] V[p', e]\n",
     "needs a query and 1 key tensor"),
])
def test_not_recognised(src, reason):
    outputs = [n for n in ("Out", "Other") if f"\n{n}[" in f"\n{src}"]
    prog = tlc.compile(src, outputs=outputs)
    assert not any(isinstance(eq.rhs, ir.Attention) for eq in prog.ir.equations)
    assert reason in prog.explain()


def test_printed_fused_program_reparses_to_the_unfused_equivalent():
    program = fuse(frontend(THREE_WAY, None, ["Out"]))
    text = format_program(program.statements)
    assert text.startswith("# fused attention: Comp is not materialised\n")
    inputs = tensor_inputs(5, 6, 7)
    again = tlc.compile(text, opt_level=0)(**inputs)["Out"]
    assert np.allclose(again, naive_tensor_attention(**inputs))


def test_mismatched_head_dimensions_are_located():
    # computed keys two features shorter: the unfused program would silently use the common features
    src = ("Query[p, d] = X[p, d]\nKey[p, d] = X[p, d + 2]\n"
           "Comp[p, p'.] = softmax(Query[p, d] Key[p', d])\nOut[p, e] = Comp[p, p'] X[p', e]\n")
    prog = tlc.compile(src, outputs=["Out"])
    with pytest.raises(tlc.TlcError) as info:
        prog(X=normal(5, 8))
    assert (info.value.line, info.value.column) == (3, 44)
    assert "Key has extent 6 along the head (feature) index d, but Query has 8" in info.value.message
    assert str(info.value).splitlines()[-1].strip() == "^"


@pytest.mark.parametrize("shapes, fragment", [
    (dict(Q=(4, 3), K=(5, 2), V=(5, 2), M=(4, 5)), "axis 1 of K has 2 but axis 1 of Q has 3"),
    (dict(Q=(4, 3), K=(5, 3), V=(5, 2), M=(4, 6)), "has 5 but axis 1 of M has 6"),
])
def test_input_shape_mismatches_are_located(shapes, fragment):
    src = "S[p, q.] = softmax(Q[p, d] K[q, d] + M[p, q])\nO[p, e] = S[p, q] V[q, e]\n"
    with pytest.raises(tlc.TlcError) as info:
        tlc.compile(src, outputs=["O"])(**{k: normal(*v) for k, v in shapes.items()})
    assert info.value.line == 1 and fragment in info.value.message


@pytest.mark.parametrize("outputs, fragment", [(["Nope"], "not a tensor of this program"),
                                               (["Q"], "an input, not defined by an equation")])
def test_unknown_outputs_are_user_errors(outputs, fragment):
    with pytest.raises(tlc.TlcError, match=fragment):
        tlc.compile(TWO_WAY, outputs=outputs)


@pytest.mark.parametrize("tolerance", [0, -1.0, float("inf"), "1e-3"])
def test_bad_tolerance(tolerance):
    with pytest.raises(tlc.TlcError, match="tolerance must be a positive number"):
        tlc.compile(TWO_WAY, tolerance=tolerance)


def test_cli_output_and_tolerance(tmp_path, capsys):
    from tlc.cli import main
    src = tmp_path / "tensor.tl"
    src.write_text(THREE_WAY)
    data = tmp_path / "data.npz"
    np.savez(data, **tensor_inputs(40, 50, 60))
    assert main(["run", str(src), "--data", str(data), "--output", "Out", "--tolerance", "1e-3"]) == 0
    captured = capsys.readouterr()
    assert "Out (40, 3)" in captured.out and "Comp" not in captured.out
    assert "tensor attention ran polynomial" in captured.err and "measured max error" in captured.err
    assert main(["explain", str(src), "--output", "Out"]) == 0
    assert "fused: Comp is not materialised" in capsys.readouterr().out
    assert main(["run", str(src), "--data", str(data), "--output", "Missing"]) == 1
    assert "unknown output 'Missing'" in capsys.readouterr().err


def test_batched_tensor_attention_both_paths():
    src = ("C[b, p, p1., p2.] = softmax(Q[b, p, d] K1[b, p1, d] K2[p2, d])\n"
           "O[b, p, e] = C[b, p, p1, p2] V1[b, p1, e] V2[p2, e]\n")
    u = lambda *shape: RNG.uniform(-0.5, 0.5, shape)   # noqa: E731
    inputs = dict(Q=u(2, 40, 3), K1=u(2, 30, 3), K2=u(35, 3), V1=u(2, 30, 2), V2=u(35, 2))
    reference = tlc.compile(src, opt_level=0)(**inputs)["O"]
    exact = tlc.compile(src, outputs=["O"])(**inputs)["O"]
    assert np.allclose(exact, reference, rtol=1e-10, atol=1e-12)
    approx = tlc.compile(src, outputs=["O"], tolerance=1e-5)
    out = approx(**inputs)["O"]
    assert approx.report[0].method == "polynomial"
    assert np.abs(out - reference).max() <= approx.report[0].error_bound <= 1e-5


@pytest.mark.parametrize("bound", [0.1, 0.7, 2.0])
def test_taylor_relative_error_bound_holds(bound):
    from math import factorial
    from tlc_runtime.polynomial import relative_error
    x = np.linspace(-bound, bound, 2001)
    for degree in (1, 3, 6):
        taylor = sum(x ** j / factorial(j) for j in range(degree + 1))
        assert np.abs(taylor * np.exp(-x) - 1).max() <= relative_error(bound, degree)
