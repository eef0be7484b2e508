"""``tlc.driver.carriers``: a carrier ``R^0`` goes once the extents show another read bounds its indices as
tightly, and stays where it is the tighter bound."""

import numpy as np
import pytest

import tlc
from tlc.driver.carriers import without_redundant_carriers
from tlc.api import frontend

SOURCE = "Y[d, m] = W[d, m]^0 G[b, p, d] M[b, p, m]\n"


def _rhs(source: str, extents: dict) -> str:
    program = without_redundant_carriers(frontend(source), extents)
    return repr(program.equations[0].rhs)


@pytest.mark.parametrize("w, m, dropped", [((5, 6), (2, 3, 6), True), ((5, 7), (2, 3, 6), True),
                                           ((5, 6), (2, 3, 7), False)])
def test_a_carrier_goes_where_another_read_is_no_longer(w, m, dropped):
    extents = {"W": w, "G": (2, 3, 5), "M": m}
    program = frontend(SOURCE)
    pruned = without_redundant_carriers(program, extents)
    assert ("name='W'" not in repr(pruned.equations[0].rhs)) == dropped
    assert (pruned is program) != dropped


def test_a_carrier_does_not_bound_for_another():
    """An index left to carriers alone is summed over them alone: ``X1[k]^0 X2[k]^0`` keeps both."""
    rhs = _rhs("Y[i] = A[i]^0 B[i]^0 C[j]\n", {"A": (3,), "B": (3,), "C": (2,)})
    assert "name='A'" in rhs and "name='B'" in rhs


def test_the_seed_whose_gradient_halved_when_a_carrier_justified_another():
    """TLC_FUZZ_SEED=1592606291 (CI's gradient campaign, after the first version of this step)."""
    from tlc.fuzz.gradient import check_gradient
    inputs = {"X0": np.array(1.5), "X1": np.array([1.5, 0.75]), "X2": np.array([1.5, 0.75])}
    check_gradient("T0[i, j + 1] avg= X0[] + X1[i] X1[k] X2[k] + X1[j]\n", inputs).raise_if_failed()


def test_only_a_read_in_the_same_product_bounds_the_index():
    """A read in another term does not: the product would lose the index, and a term lacking an index counts its
    positions (``T0[i, j + 1] avg= X0[] + X1[i] X1[k] X2[k] + X1[j]``'s gradient doubled, TLC_FUZZ_SEED=1592606291)."""
    rhs = _rhs("Y[i] = X[i]^0 Z[i] W[j] + V[i]\n", {"X": (4,), "Z": (9,), "W": (2,), "V": (3,)})
    assert "name='X'" in rhs
    rhs = _rhs("Y[i] = X[i]^0 (Z[i] W[j]) U[j] + V[i]\n", {"X": (4,), "Z": (3,), "W": (2,), "U": (2,), "V": (9,)})
    assert "name='X'" not in rhs


SUMMED = [("R[k] = B[m]^0 G[k] U[k] * (1 - V[k, m]^2)\n", lambda v: 1 - v ** 2, False),
          ("R[k] = B[m]^0 G[k] U[k] / V[k, m]\n", lambda v: 1 / v, False),
          ("R[k] = B[m]^0 G[k] U[k] V[k, m]\n", lambda v: v, True)]
IDS = ["inside a compound factor", "in a divisor", "in a factor"]


@pytest.mark.parametrize("source, term, dropped", SUMMED, ids=IDS)
def test_a_carrier_stays_where_the_index_would_be_summed_elsewhere(source, term, dropped):
    """``m`` is summed over the product holding ``B[m]^0``; without it, over ``V`` alone: the same sum where ``V`` is
    a factor, but inside ``(1 - V[k, m]^2)`` it is ``(sum_m V[k, m])^2``, and for a divisor ``1 / sum_m V[k, m]``
    (TLC_FUZZ_SEED=298: a pooled write's adjoint, ``B[m]^0 ... * (1 - L_val_T[k, m]^2)``)."""
    rhs = _rhs(source, {"B": (3,), "G": (4,), "U": (4,), "V": (4, 3)})
    assert ("name='B'" not in rhs) == dropped


@pytest.mark.parametrize("backend", ["numpy", "llvm"])
@pytest.mark.parametrize("source, term, dropped", SUMMED, ids=IDS)
def test_a_sum_over_a_carriers_index_keeps_its_value(source, term, dropped, backend):
    rng = np.random.default_rng(4)
    data = {n: rng.uniform(0.5, 1.5, s) for n, s in {"B": 3, "G": 4, "U": 4, "V": (4, 3)}.items()}
    got = tlc.compile(source, backend=backend)(**data)["R"]
    np.testing.assert_allclose(got, data["G"] * data["U"] * term(data["V"]).sum(axis=1), rtol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "llvm"])
def test_results_do_not_change_where_carriers_go_or_stay(backend):
    """``M``, a concat, is as long as its heads make it: ``W``'s carrier bounds ``m`` where ``W`` is shorter."""
    source = "M[b, p, m] = concat(A[b, h, p, v])\n" + SOURCE
    rng = np.random.default_rng(3)
    for w_cols in (5, 6, 7):
        data = {"W": rng.normal(size=(5, w_cols)), "G": rng.normal(size=(2, 3, 5)), "A": rng.normal(size=(2, 2, 3, 3))}
        got = tlc.compile(source, backend=backend)(**data)["Y"]
        merged = data["A"].transpose(0, 2, 1, 3).reshape(2, 3, 6)
        n = min(w_cols, 6)
        np.testing.assert_allclose(got, np.einsum("bpd,bpm->dm", data["G"], merged[:, :, :n]), rtol=1e-12)
