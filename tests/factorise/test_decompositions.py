"""The decompositions on their own: each meets its budget with minimal ranks, and bad budgets are refused."""

import numpy as np
import pytest

from tlc.errors import TlcError
from tlc.factorise import decompositions as dec

RNG = np.random.default_rng(7)


def low_rank_matrix(m=80, n=60, r=6, noise=1e-4):
    return RNG.standard_normal((m, r)) @ RNG.standard_normal((r, n)) + noise * RNG.standard_normal((m, n))


def tucker_tensor(shape=(14, 12, 10), ranks=(3, 4, 2), noise=1e-4):
    core = RNG.standard_normal(ranks)
    bases = [RNG.standard_normal((n, r)) for n, r in zip(shape, ranks)]
    return np.einsum("abc,ia,jb,kc->ijk", core, *bases) + noise * RNG.standard_normal(shape)


def tt_tensor(shape=(8, 9, 10, 7), ranks=(3, 4, 2), noise=1e-4):
    bounds = (1, *ranks, 1)
    cores = [RNG.standard_normal((bounds[k], n, bounds[k + 1])) for k, n in enumerate(shape)]
    full = cores[0]
    for core in cores[1:]:
        full = np.tensordot(full, core, axes=(-1, 0))
    return full.reshape(shape) + noise * RNG.standard_normal(shape)


@pytest.mark.parametrize("rel_err", [1e-1, 1e-2, 1e-3, 0.0])
def test_svd_meets_budget_with_the_smallest_rank(rel_err):
    m = low_rank_matrix()
    found = dec.truncated_svd(m, rel_err)
    assert found.rel_error <= rel_err + 1e-12
    assert dec.relative_error(m, found.reconstruct()) == pytest.approx(found.rel_error)
    if found.ranks[0] > 1:
        assert dec.with_ranks(m, "svd", (found.ranks[0] - 1,)).rel_error > rel_err


def test_svd_recovers_the_planted_rank():
    assert dec.truncated_svd(low_rank_matrix(r=6), 1e-3).ranks == (6,)


def test_randomised_svd_finds_the_exact_rank(monkeypatch):
    m = low_rank_matrix(300, 250, 40)
    exact = dec.truncated_svd(m, 1e-3)
    monkeypatch.setattr(dec, "EXACT_SVD_MAX", 16)
    randomised = dec.truncated_svd(m, 1e-3)
    assert randomised.ranks == exact.ranks == (40,)
    assert randomised.rel_error <= 1e-3


@pytest.mark.parametrize("method, make", [("tucker", tucker_tensor), ("tt", tt_tensor)])
@pytest.mark.parametrize("rel_err", [1e-1, 1e-3])
def test_sweeps_meet_budget_and_no_rank_can_drop(method, make, rel_err):
    t = make()
    found = dec.decompose(t, rel_err, method)
    assert found.method == method
    assert found.rel_error <= rel_err
    assert dec.relative_error(t, found.reconstruct()) == pytest.approx(found.rel_error)
    for n, r in enumerate(found.ranks):
        if r > 1:
            lower = found.ranks[:n] + (r - 1,) + found.ranks[n + 1:]
            assert dec.with_ranks(t, method, lower).rel_error > rel_err, (n, found.ranks)


def test_sweeps_recover_planted_ranks():
    assert dec.decompose(tucker_tensor(), 1e-3, "tucker").ranks == (3, 4, 2)
    assert dec.decompose(tt_tensor(), 1e-3, "tt").ranks == (3, 4, 2)


def test_tucker_folds_full_rank_modes_into_the_core():
    t = tucker_tensor(shape=(3, 12, 10), ranks=(3, 4, 2))
    found = dec.decompose(t, 1e-3, "tucker")
    assert found.ranks == (3, 4, 2)
    assert len(found.factors) == 3      # core plus two bases: mode 0 needs none
    assert found.rel_error <= 1e-3


def test_cp_meets_budget_on_a_cp_tensor():
    factors = [RNG.standard_normal((n, 3)) for n in (9, 8, 7)]
    t = np.einsum("ir,jr,kr->ijk", *factors)
    found = dec.decompose(t, 1e-6, "cp")
    assert found.ranks[0] <= 3 and found.rel_error <= 1e-6


def test_cp_reports_an_unreachable_budget():
    with pytest.raises(TlcError, match="no CP rank up to 8 meets rel_err"):
        dec.decompose(RNG.standard_normal((5, 5, 5)), 1e-8, "cp")


def test_auto_picks_svd_for_matrices_and_the_smaller_sweep_otherwise():
    assert dec.decompose(low_rank_matrix(), 1e-3).method == "svd"
    t = tucker_tensor()
    auto = dec.decompose(t, 1e-3)
    assert auto.elements == min(dec.decompose(t, 1e-3, m).elements for m in ("tucker", "tt"))


@pytest.mark.parametrize("rel_err, message", [
    (-1e-3, "never negative"), (1.0, "100%"), (float("nan"), "finite"), ("x", "finite number"), (True, "finite"),
])
def test_impossible_budgets_are_refused(rel_err, message):
    with pytest.raises(TlcError, match=message):
        dec.decompose(low_rank_matrix(), rel_err)


def test_bad_method_and_rank_are_refused():
    with pytest.raises(TlcError, match="unknown factorisation method 'qr'"):
        dec.decompose(low_rank_matrix(), 1e-3, "qr")
    with pytest.raises(TlcError, match="nothing to factorise"):
        dec.decompose(np.ones(5), 1e-3)
    with pytest.raises(TlcError, match="method=svd factorises matrices"):
        dec.decompose(tucker_tensor(), 1e-3, "svd")


def test_cp_recovers_exact_rank_three_tensors_on_every_seed():
    """ALS from one random start stalled on 2 of 30 such tensors; singular-vector and restarted starts do not."""
    for seed in range(30):
        rng = np.random.default_rng(seed)
        t = np.einsum("ir,jr,kr->ijk", *[rng.standard_normal((n, 3)) for n in (9, 8, 7)])
        found = dec.decompose(t, 1e-6, "cp")
        assert found.ranks[0] <= 3 and found.rel_error <= 1e-6, seed
