"""The factorise pass: factorised programs agree with the dense ones within the reported error, on every backend."""

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import tlc
import tlc.fuzz
from tlc.factorise import decompositions
from tlc.factorise.decompositions import Leg
from tlc.fuzz.oracle import compare_values
from tlc.passes.factorise import factor_blocker, rewrite
from tlc.frontend.lower import lower
from tlc.frontend.parser import parse
from tlc.ir.printer import format_program
from tlc.passes.manager import PassManager

RNG = np.random.default_rng(11)
MATVEC = "Y[i, b] = W[i, j] X[j, b]\n"
TENSOR = "Y[i, b] = T[i, j, k] X[j, b] Z[k, b]\n"


def low_rank(m, n, r, noise=1e-4):
    return RNG.standard_normal((m, r)) @ RNG.standard_normal((r, n)) + noise * RNG.standard_normal((m, n))


def tucker_tensor(shape=(12, 10, 9), ranks=(3, 2, 4), noise=1e-4):
    core = RNG.standard_normal(ranks)
    bases = [RNG.standard_normal((n, r)) for n, r in zip(shape, ranks)]
    return np.einsum("abc,ia,jb,kc->ijk", core, *bases) + noise * RNG.standard_normal(shape)


def outcome(program, name):
    return next(o for o in program.weights.outcomes if o.tensor == name)


@pytest.mark.parametrize("rel_err", [1e-2, 1e-4])
def test_matrix_factorisation_agrees_within_the_reported_error(backend, rel_err):
    w, x = low_rank(40, 30, 5), RNG.standard_normal((30, 6))
    dense = tlc.compile(MATVEC, backend=backend)(W=w, X=x)["Y"]
    program = tlc.compile(MATVEC, backend=backend, factorise=f"rel_err={rel_err}")
    y = program(W=w, X=x)["Y"]
    found = outcome(program, "W").decomposition
    assert found.method == "svd" and found.rel_error <= rel_err
    assert "W" not in program.ir.tensors and {"W_svd0", "W_svd1"} <= set(program.ir.tensors)
    bound = found.rel_error * np.linalg.norm(w) * np.linalg.norm(x)     # ‖ΔW X‖ ≤ ‖ΔW‖ ‖X‖
    assert np.linalg.norm(y - dense) <= bound * (1 + 1e-9) + 1e-12


@pytest.mark.parametrize("method", ["tucker", "tt", "cp"])
def test_tensor_factorisation_agrees_within_the_reported_error(backend, method):
    t = tucker_tensor() if method != "cp" else np.einsum("ir,jr,kr->ijk", *(RNG.standard_normal((n, 2))
                                                                            for n in (12, 10, 9)))
    x, z = RNG.standard_normal((10, 5)), RNG.standard_normal((9, 5))
    dense = tlc.compile(TENSOR, backend=backend)(T=t, X=x, Z=z)["Y"]
    program = tlc.compile(TENSOR, backend=backend, factorise={"rel_err": 1e-3, "method": method})
    y = program(T=t, X=x, Z=z)["Y"]
    found = outcome(program, "T").decomposition
    assert found.method == method and found.rel_error <= 1e-3 and outcome(program, "T").kept_dense is None
    bound = found.rel_error * np.linalg.norm(t) * np.linalg.norm(x) * np.linalg.norm(z)
    assert np.linalg.norm(y - dense) <= bound * (1 + 1e-9) + 1e-12


def test_reads_outside_products_and_shifted_reads_are_rewritten(backend):
    src = "Y[i, j] = relu(W[i, j]) + W[i, j+1] - W[0, j] / (1 + W[i, 2])^2\n"
    w = low_rank(9, 8, 2, noise=0.0)
    dense = tlc.compile(src, backend=backend)(W=w)["Y"]
    program = tlc.compile(src, backend=backend, factorise="rel_err=1e-9")
    assert np.allclose(program(W=w)["Y"], dense, atol=1e-9)
    assert outcome(program, "W").kept_dense is None and "W" not in program.ir.tensors


def test_weights_bound_at_compile_time_and_cached_variants(monkeypatch):
    calls = []
    original = decompositions.truncated_svd
    monkeypatch.setattr(decompositions, "truncated_svd", lambda *a: calls.append(1) or original(*a))
    w, x = low_rank(30, 20, 3), RNG.standard_normal((20, 4))
    program = tlc.compile(MATVEC, factorise="rel_err=1e-3,tensors=W", weights={"W": w})
    assert len(calls) == 1                       # factorised at compile time
    assert program.input_names() == ["X"]        # W is bound; its factors are not the user's business
    first = program(X=x)["Y"]
    program(X=x)
    assert len(calls) == 1 and np.allclose(first, w @ x, atol=1e-3 * np.linalg.norm(w) * np.linalg.norm(x))
    program(W=w.copy(), X=x)                      # the same values, a different array: still cached
    assert len(calls) == 1
    program(W=w + 1.0, X=x)                       # new values: a new variant
    assert len(calls) == 2 and len(program.weights.variants) == 2


def test_call_time_factorisation_and_explain():
    w, x = low_rank(64, 48, 4), RNG.standard_normal((48, 8))
    program = tlc.compile(MATVEC, factorise="rel_err=1e-3")
    assert "W, X: factorised once their values are known" in program.explain()
    program(W=w, X=x)
    text = program.explain()
    assert "W: svd ranks (4,) -> W_svd0, W_svd1; error" in text
    assert "memory 3072 -> 448 elements" in text
    assert "line 1: 4.92e+04 -> 7.17e+03 FLOPs (6.86x fewer)" in text
    assert "X: kept dense: rel_err=0.001 needs ranks" in text


def test_source_declaration_turns_factorisation_on_and_round_trips(backend):
    src = "tensor W[30, 20] factorise(rel_err=1e-4, method=svd)\n" + MATVEC
    program = tlc.compile(src, backend=backend)
    assert list(program.weights.targets) == ["W"]
    w, x = low_rank(30, 20, 3), RNG.standard_normal((20, 4))
    error = np.linalg.norm(program(W=w, X=x)["Y"] - w @ x)
    found = outcome(program, "W").decomposition
    assert found.ranks == (3,) and error <= found.rel_error * np.linalg.norm(w) * np.linalg.norm(x)
    ir = lower(parse(src))
    assert lower(parse(format_program(ir.statements))).statements == ir.statements
    rewritten = format_program(program.ir.statements)      # the factorised IR prints and re-parses too
    assert "W_svd0[i, w_r0_0] W_svd1[w_r0_0, j]" in rewritten
    assert lower(parse(rewritten)).statements == program.ir.statements


def test_print_after_factorise_and_verifier():
    out = io.StringIO()
    passes = PassManager(2, frozenset({"factorise"}), verify_each=True, out=out)
    program = tlc.compile(MATVEC, passes=passes, factorise="rel_err=1e-3,tensors=W")
    program(W=low_rank(10, 8, 2), X=RNG.standard_normal((8, 3)))
    assert out.getvalue().startswith("# IR after factorise\nY[i, b] = W_svd0[i, w_r0_0] W_svd1[w_r0_0, j] X[j, b]")


@pytest.mark.parametrize("src, reason", [
    ("M[i] max= W[i, j] X[j, b]\n", "line 1 reads it under 'max=', which reduces every index missing"),
    ("W[0, 1]?\n" + MATVEC, "a query reads its elements"),
])
def test_kept_dense_where_a_rank_index_would_not_be_summed(src, reason):
    w = low_rank(10, 8, 2)
    program = tlc.compile(src, factorise="rel_err=1e-3,tensors=W")
    program(W=w, X=np.ones((8, 3)))
    assert reason in outcome(program, "W").kept_dense and "W" in program.ir.tensors


def test_kept_dense_when_factors_do_not_save_memory():
    w = RNG.standard_normal((6, 6))
    program = tlc.compile(MATVEC, factorise="rel_err=1e-3,tensors=W")
    y = program(W=w, X=np.ones((6, 2)))["Y"]
    assert np.allclose(y, w @ np.ones((6, 2)))
    assert "W" in program.ir.tensors and "not fewer than the 36 of the dense tensor" in outcome(program, "W").kept_dense


@pytest.mark.parametrize("src, options, message", [
    (MATVEC, "rel_err=1e-3,tensors=V", "the program has no tensor V"),
    (MATVEC + "V[i, b] = Y[i, b]\n", "rel_err=1e-3,tensors=Y", "an equation defines it"),
    ("Y(x) = R(x, y)\n", "rel_err=1e-3,tensors=R", "it is a relation"),
    ("Y = W[i] X[i]\n", "rel_err=1e-3,tensors=W", "it has rank 1"),
    (MATVEC, "rel_err=-1", "never negative"),
    (MATVEC, "rel_err=1e-3,size=3", "unknown --factorise key 'size'"),
    (MATVEC, "rel_err", "KEY=VALUE"),
    (MATVEC, {"rel_err": 2.0}, "100%"),
    (MATVEC, {"tensors": {"W": {"rank": 3}}}, "unknown factorise option 'rank' for tensor W"),
    (MATVEC, 3, "factorise must be text"),
])
def test_bad_factorise_options(src, options, message):
    with pytest.raises(tlc.TlcError, match=message):
        tlc.compile(src, factorise=options)


def test_unreachable_budget_and_bad_weights():
    with pytest.raises(tlc.TlcError, match="cannot factorise T: no CP rank up to 8 meets rel_err") as err:
        tlc.compile(TENSOR, factorise="rel_err=1e-9,method=cp,tensors=T", weights={"T": RNG.standard_normal((5, 5, 5))})
    assert err.value.line == 1
    with pytest.raises(tlc.TlcError, match="not an input of this program"):
        tlc.compile(MATVEC, weights={"Q": np.ones(3)})
    with pytest.raises(tlc.TlcError, match="data for W must be numeric"):
        tlc.compile(MATVEC, factorise="rel_err=1e-3,tensors=W", weights={"W": np.array([["a"]])})


@settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(tlc.fuzz.cases())
def test_rewrite_keeps_every_generated_program_exact(case):
    """Splitting every weight exactly as ``I[a, r] W[r, ...]`` (an identity factor) changes no result, whatever
    expression reads it (shifts, constants, sums, functions, divisors, recursion)."""
    program, inputs = case
    ir = program.ir
    try:
        expected = tlc.api.Program(ir)(**inputs)
    except tlc.TlcError:
        return      # a program the reference rejects has nothing to preserve
    rewritten, given_ = ir, dict(inputs)
    for name, info in ir.tensors.items():
        value = inputs.get(name)
        if info.defined or info.relation or info.rank < 2 or name in ir.virtual_axes or factor_blocker(ir, name) \
                or not isinstance(value, np.ndarray) or value.ndim != info.rank:
            continue
        legs = ((Leg("mode", 0), Leg("rank", 0)), (Leg("rank", 0), *(Leg("mode", n) for n in range(1, info.rank))))
        factors = (f"{name}_id0", f"{name}_id1")
        rewritten = rewrite(rewritten, name, legs, factors)
        del given_[name]
        given_.update({factors[0]: np.eye(value.shape[0]), factors[1]: value})
    actual = tlc.api.Program(rewritten)(**given_)
    for name in expected:
        assert compare_values(name, expected[name], actual[name]) is None, format_program(rewritten.statements)
