"""The fuzzer's gradient oracle (tlc.fuzz.gradient): tlc.grad on random programs against central finite
differences, on every backend; a quick bounded run, a campaign, and the oracle's own verdicts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import tlc.fuzz
from fuzz_campaign import run_campaign
from tlc.fuzz.gradient import check_gradient, compare, jumps
from tlc.fuzz.magnitude import with_sizes
from tlc.gradient import GradientProgram, differentiate

QUICK = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                 suppress_health_check=list(HealthCheck))
CAMPAIGN = settings(max_examples=300, deadline=None, derandomize=False, database=None,
                    suppress_health_check=list(HealthCheck))


def agrees(source: str, inputs: dict, **options) -> None:
    """``source``'s gradient matches central finite differences on ``inputs`` on every available backend."""
    report = check_gradient(source, inputs, **options)
    assert report.configs == [f"grad {b}" for b in tlc.fuzz.available_backends()]
    report.raise_if_failed()


def signed(rng, shapes: dict) -> dict:
    """Random inputs of ``shapes`` with magnitudes in [0.5, 1.5] and random signs (never near 0)."""
    return {n: np.asarray(rng.uniform(0.5, 1.5, s) * rng.choice([-1.0, 1.0], s)) for n, s in shapes.items()}


@QUICK
@given(tlc.fuzz.cases())
def test_gradients_of_random_programs_match_finite_differences(case):
    program, inputs = case
    check_gradient(program, inputs, timeout=60).raise_if_failed()


def test_reduced_index_read_ahead_keeps_its_negative_positions():
    rng = np.random.default_rng(0)
    inputs = {"X3": rng.uniform(0.5, 1.5, (2, 2, 3)), "X4": rng.uniform(0.5, 1.5, (2, 3))}
    check_gradient("T1[i, j, k] max= X3[j, k, l + 1] X4[i, l + 1]\n", inputs).raise_if_failed()


def test_lnorm_of_a_shifted_read():
    check_gradient("T0[i, j, k] = lnorm(X0[i, j, k - 1])\n", {"X0": np.array([[[1.5]]])}).raise_if_failed()


@pytest.mark.parametrize("source", [
    "T0[i] = tanh(X[i, j, l + 1] W[j, l + 1])\n",
    "T0[i, j] = exp(X[i, j, l + 1] V[l + 2])\n",
    "T0[i, j] max= X[i, j, l + 2] V[l + 1]\n",
    "T0[i] avg= X[i, j + 1, l + 1] W[j + 1, l]\n",
    "T0[i, j, k] = lnorm(X[i, j, k - 1])\n",
    "T0[i, j, k] = lnorm(X[i, j, k + 1])\n",
    "T0[i, j, k] = lnorm(X[i, j - 1, k - 1] + X[i, j, k])\n",
    "T0[i, j] = lnorm(X[i, j, k + 1] W[j, k + 1])\n",
    "T0[i, k] = lnorm(X[i, j, k]) W[j, k + 1]\n",
    "T0[i, j, k] = lnorm(X[i, j, k]) W[j + 1, k + 1]\n",
    "T0[i, j, k.] = softmax(X[i, j, k + 2])\n",
    "T0[i, j.] = softmax(X[i, j + 1, k] W[j, k])\n",
    "T0[i, k.] = softmax(X[i, j, k]) W[j, k + 1]\n",
])
def test_shifted_reads_keep_the_forward_positions(source):
    """Tensors the backward pass materialises keep a variable's positions below 0 (``l`` read as ``X[l + 1]``), and
    ``softmax``/``lnorm`` normalise over the forward equation's positions, which its shifts and other reads narrow."""
    rng = np.random.default_rng(3)
    data = {"X": rng.uniform(-1.5, 1.5, (3, 4, 5)), "W": rng.uniform(-1.0, 1.0, (4, 5)), "V": rng.uniform(0.5, 1.5, 5)}
    agrees(source, {n: a for n, a in data.items() if f"{n}[" in source}, seed=5)


@pytest.mark.parametrize("source, shape", [("T0[0, 0]\nT0[i/2, j] = X5[i, j]\n", (1, 1)),
                                           ("T0[2, 0]\nT0[i/2, j] = X5[i, j]\n", (5, 3))])
def test_a_pooled_write_skips_a_partial_window_of_a_wider_tensor(source, shape):
    """The gradient campaign's TLC_FUZZ_SEED=1234 mismatch, minimised: ``T0[i/2, j] =`` keeps whole windows only, but
    ``T0`` (here given a wider extent by a fact) has the position of the partial one, whose adjoint must not flow."""
    inputs = {"X5": np.random.default_rng(1).uniform(-1.0, 1.0, shape)}
    agrees(source, inputs)


@pytest.mark.parametrize("source, shapes", [("T[k] = X3[k/2] X3[k]\n", {"X3": (3,)}),
                                            ("T[x, y] = X[x/2, y/3] W[x, y]\n", {"X": (3, 2), "W": (5, 5)})])
def test_a_pooled_read_sends_its_partial_window_back(source, shapes):
    """Found by the gradient campaign (TLC_FUZZ_SEED=1234 without the filter of shifted reads, minimised): a read
    ``X[k/2]`` repeats X's last element for a partial window, whose adjoint must flow back to it."""
    rng = np.random.default_rng(2)
    agrees(source, {n: rng.uniform(-1.0, 1.0, s) for n, s in shapes.items()})


@pytest.mark.parametrize("source, shapes", [
    ("T[i'] = lnorm(X0[] X1[i' + 1])\n", {"X0": (), "X1": (1,)}),
    ("T0[t, n] = tanh(X0[t - j, n - m] X1[j, m])\nT1[p, p'/3] min= T0[p, p']\nT[s] avg= T1[t, v] X2[s, n, j]\n",
     {"X0": (2, 4), "X1": (4, 4), "X2": (3, 1, 3)}),
])
def test_an_empty_normalisation_or_average_divides_by_one(source, shapes):
    """Found by the gradient campaign (TLC_FUZZ_SEED=7 and 3, minimised): lnorm or avg= over no position at all
    (``i' + 1`` past X1's end; a pooled T1 with no whole window) counts 0, and 0 / 0 made every gradient NaN."""
    rng = np.random.default_rng(4)
    inputs = {n: np.asarray(rng.uniform(0.5, 2.0, s) * rng.choice([-1.0, 1.0], s)) for n, s in shapes.items()}
    agrees(source, inputs)


@pytest.mark.parametrize("source, shapes", [("T[w/2] = tanh(X0[w + 1, m])\n", {"X0": (5, 2)}),
                                            ("T[x/2, j] = exp(X[x, j])\n", {"X": (4, 3)}),
                                            ("T[i + j] = tanh(X[i, j])\n", {"X": (2, 2)}),
                                            ("T[i, j + k] = exp(X[i, j] X[j, k])\n", {"X": (3, 3)})])
def test_a_pooled_write_is_not_its_elements_value(source, shapes):
    """Found by the gradient campaign (TLC_FUZZ_SEED=6, minimised; ``T[i + j]``: 70): ``T[w/2] = tanh(...)`` sums a
    window of tanh values, and ``T[i + j]`` those on a diagonal, so tanh's derivative needs its own value, not
    ``T[w/2]``'s or ``T[i + j]``'s."""
    rng = np.random.default_rng(5)
    agrees(source, {n: rng.uniform(-1.5, 1.5, s) for n, s in shapes.items()})


@pytest.mark.parametrize("source", ["T[u] = tanh(X0[i] + u) X1[u]\n",
                                    "T0[u] = tanh((X0[i'] + (2 - u - 1.5)) * (tanh(X0[j]) X0[u] relu(X1[j])))\n"])
def test_a_materialised_value_bounds_an_index_used_as_a_number(source):
    """Found by the gradient campaign (TLC_FUZZ_SEED=8 and 10): a value summing ``i`` inside and using ``u`` only
    as a number got no extent for ``u`` ("cannot infer the range of index u") unless a read bounds it."""
    rng = np.random.default_rng(6)
    agrees(source, {"X0": rng.uniform(-1.5, 1.5, 3), "X1": rng.uniform(0.5, 1.5, 3)})


@pytest.mark.parametrize("source, shapes", [
    ("T0[i, j] = tanh((relu(X0[]) + E0(i, j, k)) * (X1[k] i))\n", {"X0": (), "X1": (2,), "E0": (3, 2, 2)}),
    ("T0[i, j] = tanh((relu(X0[]) + E0(i, j, k)) * (X1[k] i))\n", {"X0": (), "X1": (1,), "E0": (1, 1, 1)}),
])
def test_a_materialised_factor_bounds_an_index_used_as_a_number(source, shapes):
    """Found by the gradient campaign (TLC_FUZZ_SEED=47, program 254): the factor ``X1[k] i`` of X0's adjoint holds
    ``k``, which no other factor reads, so it is a tensor of its own, and ``i`` had no extent there ("cannot infer the
    range of index i"); no read lies within ``k, i``, so a range tensor of the forward's over ``i`` bounds it."""
    rng = np.random.default_rng(22)
    inputs = {n: rng.uniform(size=s) > 0.3 if n.startswith("E") else np.asarray(rng.uniform(0.5, 1.5, s))
              for n, s in shapes.items()}
    agrees(source, inputs)


def test_a_constant_index_on_the_left_of_a_shared_adjoint():
    """Found by the gradient campaign (TLC_FUZZ_SEED=1234 after merging main's shared adjoints, minimised): the
    adjoint ``L_grad_T[0, i]`` has a constant index, which the check for a plainly indexed adjoint compared as None."""
    rng = np.random.default_rng(9)
    agrees("T[0, i] = X1[p] X2[p, i]\n", {"X1": rng.uniform(-1.0, 1.0, 2),
                                          "X2": rng.uniform(-1.0, 1.0, (2, 3))})


@pytest.mark.parametrize("source, shapes", [
    ("T0[p] = sig(X0[p + i'] X1[i'])\nT = T0[q] X2[q] X3[]\n", {"X0": (1,), "X1": (2,), "X2": (3,), "X3": ()}),
    ("T1[i] = X1[i + j] X2[j]\nT2[i] = relu(T1[i]) + (X3[] + X1[i])\n", {"X1": (2,), "X2": (3,), "X3": ()}),
    ("T0[p] = X0[p + 1]\nT[q] = T0[q] X2[q]\n", {"X0": (3,), "X2": (3,)}),
    ("M[b, m] = concat(A[b, h, v])\nT[b, d] = W[d, m] M[b, m]\n", {"A": (2, 2, 2), "W": (3, 5)}),
])
def test_a_gradient_has_its_tensors_shape_where_a_narrower_tensor_bounds_the_read(source, shapes):
    """Found by the gradient campaign (TLC_FUZZ_SEED=15 and 16, minimised): ``T = T0[q] X2[q]`` reads X2 only where
    the defined T0 (no position at all, or fewer than X2) has one, so ``L_grad_X2[q] = ... T0[q]`` was as short as T0;
    the gradient of every ``wrt`` tensor has that tensor's shape, 0 where the tensor does not reach the loss."""
    rng = np.random.default_rng(10)
    inputs = signed(rng, shapes)
    agrees(source, inputs)


@pytest.mark.parametrize("source, data", [
    ("T0[m, k, j'] = sqrt(abs(E0(k/2) X0[j', m]))\n", {"E0": np.zeros(2, dtype=bool)}),
    ("T0[i] = sqrt(abs(E0(i) X0[i, j]))\n", {"E0": np.array([False, True, True])}),
    ("T0[i] = (E0(i) X0[i, j] X0[i, j])^0.75\n", {"E0": np.array([True, False, True])}),
])
def test_an_infinite_slope_at_0_is_taken_as_0(source, data):
    """Found by the gradient campaign (TLC_FUZZ_SEED=4, minimised): sqrt of an exact 0 (here ``E0`` false, so for
    every nearby input) has slope inf, and the chain rule gave 0 * inf = NaN where the loss is constant; tlc takes
    the derivative of ``sqrt`` (and of ``x^p``, 0 < p < 1) at 0 as 0."""
    rng = np.random.default_rng(11)
    x0 = rng.uniform(0.5, 1.5, (3, 2)) * rng.choice([-1.0, 1.0], (3, 2))
    agrees(source, {**data, "X0": x0})


@pytest.mark.parametrize("backend", tlc.fuzz.available_backends())
def test_sqrt_of_a_square_has_the_subgradient_0_at_its_kink(backend):
    """``sqrt(x^2) = |x|``: its gradient is the sign of x, and 0 at x = 0 (as ``abs``'s), not 0 * inf = NaN."""
    g = tlc.grad("T[i] = sqrt(X[i] X[i])\nL = T[i]\n", loss="L", wrt=["X"], backend=backend)
    gradient = g(X=np.array([0.0, -2.0, 3.0]))[g.gradients["X"]]
    np.testing.assert_array_equal(gradient, [0.0, -1.0, 1.0])


@pytest.mark.parametrize("source, shapes", [
    ("T0[i] = X0[i, j] + X1[] + (X0[i, j] + X1[])\n", {"X0": (1, 2), "X1": ()}),
    ("T[i] = X[i, j] + B[i] + X[i, j]\n", {"X": (2, 3), "B": (2,)}),
    ("T[i] = X[i, j + 1] - B[i] + X[i, j]\n", {"X": (2, 4), "B": (2,)}),
])
def test_a_term_without_the_summed_index_counts_once_per_position(source, shapes):
    """Found by the gradient campaign (TLC_FUZZ_SEED=6): ``j`` occurs twice, so it is summed over the whole sum, and
    ``X1[]`` (or ``B[i]``) is added once per ``j``; its gradient lacked that count (no factor read ``j``)."""
    rng = np.random.default_rng(12)
    inputs = signed(rng, shapes)
    agrees(source, inputs)


@pytest.mark.parametrize("source, shapes", [
    ("T0[i/2, j] max= X0[i - 1, j, k] X1[k]\n", {"X0": (1, 1, 1), "X1": (1,)}),
    ("T0[i] min= X0[i + 1, k] X1[k]\n", {"X0": (3, 2), "X1": (2,)}),
])
def test_a_shifted_read_adds_no_candidate_to_max(source, shapes):
    """Found by the gradient campaign (TLC_FUZZ_SEED=37): the materialised value of ``X0[i - 1, ...]`` is 0 at i = 0,
    where the forward has no position, and that 0 tied with a negative maximum, halving its adjoint."""
    rng = np.random.default_rng(13)
    inputs = {n: -np.asarray(rng.uniform(0.5, 1.5, s)) for n, s in shapes.items()}
    inputs["X1"] = -inputs["X1"]
    agrees(source, inputs)


@pytest.mark.parametrize("source, shapes", [
    ("T0[i] = X0[j] X0[j] + X0[i]\nT0[1]\n", {"X0": (1,)}),
    ("T0[i] = X0[j] X0[j] + X1[] + X0[i]\nT0[2]\n", {"X0": (2,), "X1": ()}),
    ("tensor T0[4]\nT0[i] = exp(X0[j] X1[j]) + X0[i]\n", {"X0": (2,), "X1": (2,)}),
])
def test_a_term_without_the_left_index_is_summed_over_the_equations_positions_only(source, shapes):
    """Found by the gradient campaign (TLC_FUZZ_SEED=43, minimised): ``X0[j] X0[j]`` lacks ``i``, so its adjoint sums
    ``L_grad_T0[i]`` over ``i``; where a fact or a declaration makes ``T0`` wider than ``X0[i]`` allows, that sum ran
    over positions the equation never wrote."""
    agrees(source, signed(np.random.default_rng(14), shapes))


@pytest.mark.parametrize("source, shapes", [
    ("T0[i, j.] = softmax((X0[j, k] X0[k, l]) X1[] * (X0[i, m] + X2[]) / 2)\n", {"X0": (3, 3), "X1": (), "X2": ()}),
    ("T[i, j.] = X[i, k] W[k] softmax(Y[i, j])\n", {"X": (2, 3), "W": (3,), "Y": (2, 3)}),
    ("T[i, j] = X[j, k] W[k] (V[i] + B[])\n", {"X": (2, 3), "W": (3,), "V": (2,), "B": ()}),
    ("T[i] = W[i] * (X[i, j] + (B[i] + C[i]) + X[i, j])\n", {"X": (2, 3), "W": (2,), "B": (2,), "C": (2,)}),
])
def test_an_index_summed_by_an_adjoint_on_the_way_is_not_counted_again(source, shapes):
    """Found by the gradient campaign (TLC_FUZZ_SEED=47, minimised): ``k`` is summed over the product, and the adjoint
    of ``softmax`` (or of a sum with two active terms) made a tensor below it already sums its factors over ``k``; the
    read below still counted ``k``'s positions, as for a term lacking an index summed above it (``B`` in
    ``X[i, j] + B[i] + X[i, j]``), multiplying its gradient by ``k``'s extent."""
    agrees(source, signed(np.random.default_rng(15), shapes))


@pytest.mark.parametrize("source, relations, shapes", [
    ("T0[i, m + j, 0] = relu(E0(j/2, k, k) E0(k, j, n) / 2) X0[i, k] X1[m]\n", {"E0": (2, 2, 2)},
     {"X0": (2, 2), "X1": (3,)}),
    ("T[m + j] = relu(E(j/2) F(j, n)) Y[m]\n", {"E": (2,), "F": (2, 2)}, {"Y": (3,)}),
    ("T[i] = X[i] relu(E(i + n) Y[n])\n", {"E": (5,)}, {"X": (3,), "Y": (3,)}),
    ("T[i, w] = X[i] relu(Y[w + u] Y[u])\n", {}, {"X": (3,), "Y": (3,)}),
])
def test_a_read_adding_an_index_of_its_own_bounds_the_others_in_the_forwards_order(source, relations, shapes):
    """Found by the gradient campaign (TLC_FUZZ_SEED=50, minimised): with index arithmetic the reads bound the indices
    in order, and ``F(j, n)`` narrows the ``j < 4`` that ``E(j/2)`` allows; its carrier was left out (``j`` counted as
    bounded), so the backward equation's read ``L_grad_T[m + j]`` took ``j < 4`` and narrowed ``m`` to nothing: gradient
    0. A range tensor over the read's other indices now carries it, made from every read of the forward, in its order
    (``i`` by ``X`` before ``n`` by ``E``; ``u`` by ``Y[u]`` before ``w`` by ``Y[w + u]``, which alone bound nothing:
    "cannot infer the range of index w")."""
    rng = np.random.default_rng(17)
    inputs = {n: rng.uniform(size=s) > 0.3 for n, s in relations.items()}
    agrees(source, {**inputs, **signed(rng, shapes)})


@pytest.mark.parametrize("source, shapes", [
    ("T[i.] = lnorm(X[i] / ((Y[u/2] Y[u + 2])^2 + 1))\n", {"X": (3,), "Y": (1,)}),
    ("T[i.] = lnorm(X[i] + Y[u/2] Y[u + 2])\n", {"X": (1,), "Y": (1,)}),
    ("T[i., w] = lnorm(X[i] + Y[w + u] Y[u])\n", {"X": (3,), "Y": (3,)}),
])
def test_lnorm_normalises_where_an_index_summed_inside_it_has_no_position(source, shapes):
    """Found by the gradient campaign (TLC_FUZZ_SEED=47 after its first find, minimised): on Y's one position ``u/2``
    and ``u + 2`` leave ``u`` no value, so the sum over ``u`` inside lnorm's argument is 0, but the forward still
    normalises over ``i``. lnorm's ``ones`` (where the forward normalised) was a product of every read's ``R^0`` over
    ``u`` too, so 0 everywhere, and the adjoint came out divided by sqrt(eps) instead of centred; an axis that cannot
    bound the normalised positions now reads a fresh index of its own there."""
    agrees(source, signed(np.random.default_rng(18), shapes))


@pytest.mark.parametrize("source, shapes", [
    ("T0[i, j + 1] = X0[i, j] + X0[k, l]\n", {"X0": (1, 1)}),
    ("T0[i, j + 1] = X0[i, j] + X0[k, l]\n", {"X0": (2, 3)}),
    ("T0[i] = tanh(X1[i, j])\nT1[i] = lnorm(T0[i/2] X0[j])\n", {"X0": (2,), "X1": (2, 2)}),
])
def test_an_adjoint_keeping_ones_of_other_indices_runs_on_every_backend(source, shapes):
    """Found by the gradient campaign (TLC_FUZZ_SEED=50, and 47 while shrinking): the adjoint
    ``X0[i, j]^0 * X0[k, l]^0 L_grad_T0[i, j + 1]`` (or lnorm's, with a carrier over ``j``) keeps the ones of a read
    whose indices no other factor carries, and Dask's plan of the product lacked their extents (``KeyError: 'k'``)."""
    agrees(source, signed(np.random.default_rng(20), shapes))


@pytest.mark.parametrize("n", [1, 3])
def test_a_term_lacking_an_averaged_index_with_arithmetic_counts_its_positions(n):
    """``T0[i] avg= X0[i, k] + X1[l] X1[l + 1]`` averages over ``k`` and ``l`` together, ``l`` below n - 1, so X0's
    term counts once per such ``l`` (none when n = 1: T0 is then 0 for every input), and X1's once per ``k``
    (TLC_FUZZ_SEED=77: neither adjoint counted the other term's indices)."""
    rng = np.random.default_rng(24)
    agrees("T0[i] avg= X0[i, k] + X1[l] X1[l + 1]\n", {"X0": rng.uniform(0.5, 1.5, (n, n)),
                                                        "X1": rng.uniform(0.5, 1.5, n)})


@pytest.mark.parametrize("source, shapes", [
    ("T[i] avg= A[i, k] + B[i]\n", {"A": (3, 4), "B": (3,)}),
    ("T[i] avg= sig(A[i, k]) + B[l] C[l]\n", {"A": (2, 3), "B": (4,), "C": (4,)}),
    ("T[i] avg= A[i, k] * B[l] + C[i, l]\n", {"A": (2, 3), "B": (4,), "C": (2, 4)}),
], ids=["a term lacking the averaged index", "terms over disjoint indices", "a product beside a term"])
def test_avg_terms_count_once_per_position_of_the_indices_they_lack(source, shapes):
    """``avg=`` averages over every index its left-hand side lacks, across all terms: a term without one counts
    once per its positions (a sum would sum it over its own term alone)."""
    agrees(source, signed(np.random.default_rng(5), shapes))


@pytest.mark.parametrize("source, shapes", [
    ("T0[i, j] = X0[j] X0[i + 1]\nT1[i, j] = T0[l, j] + X1[i + 1]\n", {"X0": (1,), "X1": (2,)}),
    ("S[b, h, t+1] = tanh(W[h, g] S[b, g, t] + U[h, k] In[b, k, t] + B[h])\nL = S[b, h, t] S[b, h, t]\n",
     {"W": (3, 3), "U": (3, 0), "B": (3,), "In": (2, 0, 4)}),
], ids=["a term summing an empty index (TLC_FUZZ_SEED=267)", "a recurrence without input features"])
def test_a_term_summing_an_index_with_no_positions_keeps_the_others_positions(source, shapes):
    """``T0`` is empty along ``l`` (``X0`` has one element, so ``i + 1`` has no position), yet ``T0[l, j]`` sums to 0
    over its ``j`` extent, where ``X1``'s term still counts: the range tensor bounding ``j`` took the positions where
    some ``l`` exists (``max=``, none) and X1's gradient came out 0. Likewise ``U[h, k] In[b, k, t]`` over no ``k``."""
    agrees(source, signed(np.random.default_rng(7), shapes))


@pytest.mark.parametrize("source, shapes", [
    ("T[i.] = lnorm(X2[i - 1, l] + X3[])\n", {"X2": (1, 1), "X3": ()}),
    ("T[i] = X2[i - 1, l] + X3[]\n", {"X2": (3, 2), "X3": ()}),
    ("T[i] = tanh(X2[i - 2, l] + X3[i])\n", {"X2": (3, 2), "X3": (5,)}),
    ("T[i] = X2[(i - 1)/2, l] + X3[]\n", {"X2": (3, 2), "X3": ()}),
    ("T0[i, j + 1] = X0[j/2, k] + X1[i]\n", {"X0": (1, 1), "X1": (1,)}),
], ids=["lnorm (TLC_FUZZ_SEED=279)", "a shift back", "a shift back under tanh", "a shifted pooling",
        "a pooled read of an index written ahead (TLC_FUZZ_SEED=366)"])
def test_a_shift_back_keeps_the_other_terms_off_the_positions_before_its_start(source, shapes):
    """``X2[i - 1, l]`` starts ``i`` at 1, and ``X3``'s term counts from there only, but the backward's range tensor
    ``L_grad_T_range[i] = X2[i - 1, l']^0`` also has the position ``i = 0`` (with 0): read as a carrier (``^0``: 1
    at every position) it let ``X3``'s adjoint flow from ``i = 0``, and lnorm's over a single position (whose
    gradient is 0) come out ~1/sqrt(1e-5). Likewise ``T0[i, j + 1]`` starts ``j`` at -1, where ``X0[j/2, k]`` has
    no position."""
    agrees(source, signed(np.random.default_rng(7), shapes))


@pytest.mark.parametrize("source, shapes", [
    ("T0[i, j, k + l] = tanh(X0[j, k, l] + X0[i, j, m]) + (X0[j, k, l] + X0[i, j, m])\n", {"X0": (1, 1, 2)}),
    ("T[k/2] = tanh(A[k] + B[m]) + B[m]\n", {"A": (4,), "B": (2,)}),
], ids=["TLC_FUZZ_SEED=298", "a pooled write"])
def test_a_carrier_keeps_an_index_summed_over_the_whole_product(source, shapes):
    """``L_grad_A[k] += A[k]^0 * B[m]^0 ... L_grad_T[k/2] * (1 - L_val_T[k, m]^2)`` sums ``m`` over the product,
    which ``B[m]^0`` holds; the planner left the carrier out (``V`` reads ``m`` as long), and ``m`` was summed inside
    the square, ``(sum_m L_val_T[k, m])^2``: A's gradient was wrong."""
    agrees(source, signed(np.random.default_rng(8), shapes))


@pytest.mark.parametrize("source, shapes", [
    ("T[i, j] = X2[i - j, l] + X3[j]\n", {"X2": (3, 2), "X3": (2,)}),
    ("T[i, j] = X2[i + j, l] + X3[j]\n", {"X2": (4, 2), "X3": (2,)}),
    ("T[i] = X2[i - j, l] + X3[j]\n", {"X2": (3, 2), "X3": (2,)}),
    ("T[i, j] = X2[(i - j)/2, l] + X3[j]\n", {"X2": (3, 2), "X3": (2,)}),
    ("T[i, j, k] = X2[i - j - k, l] + X3[j] + X4[k]\n", {"X2": (5, 2), "X3": (2,), "X4": (2,)}),
    ("T[i, j, k] = X2[i - j + k, l] + X3[j, k]\n", {"X2": (5, 2), "X3": (2, 2)}),
    ("T[i, j] = X2[i - j, l] X3[j]\n", {"X2": (3, 2), "X3": (2,)}),
    ("T[i, j] = tanh(X2[i - j, l] X3[j])\n", {"X2": (3, 2), "X3": (2,)}),
    ("T[i, j.] = softmax(X2[i - j, l] + X3[j])\n", {"X2": (3, 2), "X3": (2,)}),
])
def test_a_read_tying_two_kept_indices_by_arithmetic_is_bounded_with_the_reads_that_bound_one(source, shapes):
    """Issue #14: ``X2[i - j, l]`` bounds ``i`` only once ``X3[j]`` has bounded ``j``, but the range tensor of X3's
    adjoint took the group of reads joined by ``l`` alone, ``L_grad_T_range[i, j] = X2[i - j, l']^0``, and the value
    ``L_val_T[i, j] = X2[i - j, l]`` of a product read nothing else: "cannot infer the range of index i". Both now
    take the forward's reads that bound the indices tied to theirs (``* X3[j]^0``), in its order."""
    agrees(source, signed(np.random.default_rng(33), shapes))


@pytest.mark.parametrize("source, shapes", [
    ("T1[i, j + l, k] = X0[i, j + 1] 2 * (X1[k, m] X0[l - 1, m])\n", {"X0": (1, 1), "X1": (1, 1)}),
    ("T1[i, j + l, k] = X0[i, j + 1] 2 * (X1[k, m] X0[l - 1, m])\n", {"X0": (3, 2), "X1": (2, 2)}),
    ("T[j + l] = X[j + 1] Y[l - 1, m]\n", {"X": (3,), "Y": (3, 2)}),
    ("T[j + l] = X[j + 1] tanh(Y[l - 1, m] Z[m])\n", {"X": (3,), "Y": (3, 2), "Z": (2,)}),
    ("T[j + l] = X[j + 1] Y[(l - 1)/2, m]\n", {"X": (3,), "Y": (3, 2)}),
])
def test_a_tensor_made_over_an_index_starting_past_0_starts_there(source, shapes):
    """Found by the gradient campaign (TLC_FUZZ_SEED=397, minimised): ``Y[l - 1, m]`` starts ``l`` at 1, but the
    backward pass made tensors over ``l`` from position 0 (``L_grad_T_range[l] = Y[l - 1, m']^0``, 0 at ``l = 0``), so
    X's adjoint ranged ``l`` from 0, and its read ``L_grad_T[j + l]`` (``j`` from -1, by ``X[j + 1]``) then narrowed
    ``j`` to start at 0: X's gradient lost its first element. They are now written from the start,
    ``L_grad_T_range[l - 1]``."""
    agrees(source, signed(np.random.default_rng(34), shapes))


def gradient_failure(case):
    """Where a program's gradient disagrees with finite differences on some backend; run by the campaign's child."""
    report = check_gradient(*case, timeout=60)
    return not report.ok and report


@pytest.mark.slow
@pytest.mark.xfail(strict=False, raises=(AssertionError, BaseExceptionGroup),      # a CampaignCrash still fails
                   reason="open: a seed still finds something new now and then (of seeds 47 and 50-791 "
                          "replayed in full, 47, 50, 69, 70, 77, 89, 96, 131, 164, 206, 259, 267, 279, 298, 366, 397 "
                          "and 764 found wrong gradients, crashes or hangs, all fixed, and 83 and 653 oracle "
                          "artefacts, also fixed: README)")
def test_gradient_campaign():
    """A bounded campaign with a fresh seed every run (TLC_FUZZ_SEED=N replays one): up to 300 programs, 30 s to six
    minutes on the shared 2-core machine, stopped by the budget (TLC_FUZZ_BUDGET, 90 s unless set; inf for all)."""
    run_campaign("gradient", tlc.fuzz.cases(), CAMPAIGN, gradient_failure)


def test_a_program_is_checked_on_every_backend():
    report = check_gradient("Y[i] = tanh(W[i, j] X[j])\n", {"W": np.full((2, 3), 0.5), "X": np.ones(3)})
    assert report.ok and report.configs == [f"grad {b}" for b in tlc.fuzz.available_backends()]


def test_a_refused_construct_passes_and_says_why():
    report = check_gradient("Y[i] = W[i, i]\n", {"W": np.ones((2, 2))})
    assert report.ok and report.configs == ["refused: the gradient of a repeated index in a read of W (a diagonal) "
                                            "is not implemented yet"]


def test_a_wrong_gradient_is_found():
    def loss_at(values):
        return float(np.sum(np.sin(values["W"])))
    w = np.array([0.3, -0.7])
    v = {"W": np.array([1.0, 0.5])}
    assert compare({"W": np.cos(w)}, v, loss_at, {"W": w}, loss_at({"W": w})) is None
    assert "central differences give" in compare({"W": np.sin(w)}, v, loss_at, {"W": w}, loss_at({"W": w}))


def test_a_gradient_not_shaped_like_its_tensor_is_found():
    """TLC_FUZZ_SEED=131's X1 gradient was one longer than X1; broadcast against v, a longer gradient padded with 0
    gives the right ``<gradient, v>``, so the shapes are compared first."""
    def loss_at(values):
        return float(np.sum(np.sin(values["W"])))
    w = np.array([0.3])
    assert compare({"W": np.cos(w)}, {"W": np.ones(1)}, loss_at, {"W": w}, loss_at({"W": w})) is None
    found = compare({"W": np.array([np.cos(0.3), 0.0])}, {"W": np.ones(1)}, loss_at, {"W": w}, loss_at({"W": w}))
    assert found == "the gradient of W has shape (2,), W (1,)"


def test_a_kink_is_not_judged():
    def loss_at(values):
        return float(np.sum(np.abs(values["W"])))
    w = np.array([0.0, 1.0])
    assert compare({"W": np.array([5.0, 1.0])}, {"W": np.ones(2)}, loss_at, {"W": w}, loss_at({"W": w})) is None


def test_a_kink_with_a_non_finite_gradient_is_not_judged_but_a_smooth_loss_is():
    def kink(values):
        return float(np.sum(np.abs(values["W"])))

    def smooth(values):
        return float(np.sum(np.sin(values["W"])))
    w = np.array([0.0, 1.0])
    nan = {"W": np.array([np.nan, 1.0])}
    assert compare(nan, {"W": np.ones(2)}, kink, {"W": w}, kink({"W": w})) is None
    assert "central differences give" in compare(nan, {"W": np.ones(2)}, smooth, {"W": w}, smooth({"W": w}))


def test_masked_exact_ties_are_not_judged():
    """TLC_FUZZ_SEED=653: ``max(-1, -X0[0, 1])`` ties at X0[0, 1] = 1 and the ``min=`` over ``j/2`` ties that with
    T0[0, 0] = -1, so the loss is flat around the inputs (central differences 0, no kink in the one-sided slopes),
    while the tie rules send the adjoint to ``-X0`` and share it in ``min=`` (<gradient, v> = 0.207). The gradient
    jumps to 0 off the tie either way, so it is the rules' convention there, not a derivative."""
    source = "T0[i + k, j] = max(-E0(k - 1), -X0[i, j])\nT1[i, j/2] min= T0[i, j]\n"
    report = check_gradient(source, {"E0": np.array([True]), "X0": np.array([[1.5, 1.0]])})
    report.raise_if_failed()
    assert report.configs[1::2] == [f"unjudged: the gradient on {b} jumps at the inputs (an exact tie)"
                                    for b in tlc.fuzz.available_backends()]
    agrees(source, {"E0": np.array([True]), "X0": np.array([[0.5, 0.75]])})     # off the tie it is judged


def test_only_a_gradient_that_jumps_at_the_inputs_is_left_unjudged():
    """``jumps`` looks at the gradient just around x: ``sign(w)`` at w = 0 jumps (a kink), a wrong gradient that is
    wrong nearby too (``2 cos`` for ``sin``) does not, nor does the right one."""
    w = {"W": np.array([0.0, 0.5])}
    v = {"W": np.array([1.0, -0.5])}

    def sign(values):
        return {"W": np.sign(values["W"])}

    def twice_cos(values):
        return {"W": 2 * np.cos(values["W"])}
    assert jumps(sign, w, v, sign(w), 0.5)
    assert not jumps(twice_cos, w, v, twice_cos(w), float(np.sum(np.sin(w["W"]))))
    assert not jumps(sign, {"W": np.array([0.25, 0.5])}, v, sign({"W": np.array([0.25, 0.5])}), 0.75)


@pytest.mark.parametrize("source", ["T0[i] = tanh(X0[j] X0[k] X1[i/2, j])\nT1[i] = lnorm(T0[i/2])\n",
                                    "T0[i] = tanh(X1[i, j])\nT1[i] = lnorm(T0[i/2] X0[j])\n"])
def test_a_slope_0_by_cancellation_is_judged_by_the_terms_the_backward_pass_summed(source):
    """The gradient campaign's TLC_FUZZ_SEED=47: ``lnorm`` of equal values is 0 for every input, so the central
    differences are exactly 0, while its adjoint sends +a and -a (each ~|dY| / sqrt(eps)) to the equal elements:
    ``<gradient, v>`` is their rounding, ~1e-15, which the loss's scale (0) could not tell from a wrong gradient."""
    rng = np.random.default_rng(19)
    for _ in range(3):
        agrees(source, {"X0": rng.uniform(-1.5, 1.5, 1), "X1": rng.uniform(-1.5, 1.5, (1, 1))})


def test_the_sizes_of_a_gradients_terms_bound_it_and_are_it_without_cancellation():
    """``with_sizes``'s twin of a gradient is the sum of its terms' absolute values: |gradient| or more, and equal
    to it where every term is positive."""
    rng = np.random.default_rng(21)
    source = "H[i] = tanh(W[i, j] X[j] - B[i])\nL = H[i] D[i]\n"
    for signs in (1.0, -1.0):
        data = {"W": rng.uniform(0.5, 1.5, (3, 4)), "X": signs * rng.uniform(0.5, 1.5, 4),
                "B": rng.uniform(-1.0, 1.0, 3), "D": rng.uniform(-1.0, 1.0, 3)}
        sized, sizes = with_sizes(differentiate(source, "L", ["W", "X", "B"]))
        results = GradientProgram(sized, "numpy", 0)(**data)
        for w in ("W", "X", "B"):
            assert np.all(results[sizes[w]] >= np.abs(results[sized.gradients[w]]) * (1 - 1e-12))
    positive = {"W": rng.uniform(0.5, 1.5, (3, 4)), "X": rng.uniform(0.5, 1.5, 4), "D": rng.uniform(0.5, 1.5, 3)}
    sized, sizes = with_sizes(differentiate("L = W[i, j] X[j] D[i]\n", "L", ["W", "X"]))
    results = GradientProgram(sized, "numpy", 0)(**positive)
    for w in ("W", "X"):
        np.testing.assert_allclose(results[sizes[w]], results[sized.gradients[w]], rtol=1e-14)


def test_the_rounding_allowed_is_relative_to_the_backward_terms():
    """A constant loss (slope exactly 0): a gradient of 1e-15 is the rounding of terms of size 1, but not of a
    backward pass that summed nothing, and a gradient of 1e-9 is wrong either way."""
    def constant(values):
        return 0.0
    w, v = {"W": np.array([0.5, -1.0])}, {"W": np.array([1.0, 0.0])}
    assert compare({"W": np.array([1e-15, 0.0])}, v, constant, w, 0.0, terms=1.0) is None
    assert "central differences give" in compare({"W": np.array([1e-15, 0.0])}, v, constant, w, 0.0)
    assert "central differences give" in compare({"W": np.array([1e-9, 0.0])}, v, constant, w, 0.0, terms=1.0)


def test_a_read_of_a_tensor_written_at_a_shift_does_not_bound_another_reads_indices():
    """``T0`` is written at ``i + 1``, so it is longer than ``X1``'s axis ``k``: ``X1``'s gradient must stay within
    ``X1`` (TLC_FUZZ_SEED=144413531: ``L_grad_X1`` came out shaped (1, 2) for a 1x1 ``X1``)."""
    source = ("T0[i + 1] = tanh(T1[i] + X0[i])\nT1[i + 1] = sin(T0[i] - X0[i])\n"
              "T2[i, j] = (T0[k] X1[i, k]) X2[j]\n")
    agrees(source, {"X0": np.array([1.5]), "X1": np.array([[1.5]]), "X2": np.array([1.5])})
    rng = np.random.default_rng(8)
    inputs = {"X0": rng.uniform(0.5, 1.5, 2), "X1": rng.uniform(0.5, 1.5, (3, 2)), "X2": rng.uniform(0.5, 1.5, 2)}
    program = tlc.grad(source + "L = T2[i, j] T2[i, j]\n", loss="L", wrt=["X0", "X1", "X2"])
    results = program(**inputs)
    assert {w: np.shape(results[g]) for w, g in program.gradients.items()} == {w: x.shape for w, x in inputs.items()}


@pytest.mark.parametrize("source, shapes", [
    ("T0[i, j] = -min(X0[i - 1, j], X0[j, k])\nT1[i] = tanh(sig(T0[i, j], 2) * (relu(T0[k, i]) * (X1[l] X2[] T0[l, j])))\n",
     {"X0": (1, 1), "X1": (1,), "X2": ()}),
    ("T0[i] = X0[i - 1]\nT1[j] = T0[l] X1[l] X2[j]\n", {"X0": (2,), "X1": (2,), "X2": (1,)}),
])
def test_a_read_of_a_tensor_whose_index_starts_past_0_does_not_bound_another_reads_indices(source, shapes):
    """Found by the gradient campaign (TLC_FUZZ_SEED=131, minimised): ``X0[i - 1]`` starts ``i`` at 1, so ``T0`` has a
    position more than ``X0`` (0 at i = 0), as when written at ``T0[i + 1]``; ``L_grad_X1[l] += ... T0[l, j]`` let
    ``T0`` bound ``l`` and came out longer than ``X1``."""
    agrees(source, signed(np.random.default_rng(26), shapes))
    program = tlc.grad(source + "L = T1[i]\n", loss="L", wrt=list(shapes))
    inputs = signed(np.random.default_rng(27), shapes)
    results = program(**inputs)
    assert {w: np.shape(results[g]) for w, g in program.gradients.items()} == {w: x.shape for w, x in inputs.items()}


SHORTEST_PATHS = "T2[i, j] min= abs(X3[i, j])\nT2[i, k] min= T2[i, j] + abs(X3[j, k])\nT1[i] = 1024 X1[i]\n"
"""TLC_FUZZ_SEED=83's find, minimised: with data ``T2 = 1`` and ``X3 = -1``, ``T2``'s data ties exactly with
``abs(X3)``, a kink at the inputs, whose jump is tiny beside the steep ``T1``."""


@pytest.mark.parametrize("seed", [2, 6, 7])
def test_a_kink_at_the_inputs_below_the_smoothness_threshold_is_not_judged(seed):
    """TLC_FUZZ_SEED=83: the kink's jump was 9.7e-5 of the loss's scale, under ``SMOOTH`` (1e-4), so it counted as
    smooth, but the central difference, the mean of the two slopes, was half of it (4.85e-5) off the gradient (the
    slope on one side), past ``RTOL`` (1e-5): a wrong gradient reported on every backend for a loss with no
    derivative along v. The one-sided derivatives extrapolated to a step of 0 now show the kink."""
    inputs = {"X1": np.array([0.5, -1.0, 1.5]), "X3": np.array([[-1.0]]), "T2": np.array([[1.0]])}
    agrees(SHORTEST_PATHS, inputs, seed=seed)


def test_a_wrong_gradient_beside_a_kink_at_the_inputs_is_still_caught():
    """The same program: along a direction crossing the tie of ``T2``'s data and ``abs(X3)`` there is no derivative
    to judge, but along one that does not cross it, or off the tie, a gradient wrong by less than that kink's jump
    is caught (and the right one passes)."""
    source = SHORTEST_PATHS + "L = T2[i, j] D2[i, j]\nL = T1[i] D1[i]\n"
    weights = {"D2": np.array([[0.5]]), "D1": np.array([0.25, -0.5, 1.0])}
    forward = tlc.compile(source, outputs=["L"])
    program = tlc.grad(source, loss="L", wrt=["X1", "X3"])

    def loss_at(values):
        return float(forward(**values)["L"])
    for x3, v3, judged in ((-1.0, 0.4, False), (-1.0, 0.0, True), (-0.5, 0.4, True)):
        inputs = {"X1": np.array([0.5, -1.0, 1.5]), "X3": np.array([[x3]]), "T2": np.array([[1.0]]), **weights}
        direction = {"X1": np.array([1.0, -0.5, 0.25]), "X3": np.array([[v3]])}
        results = program(**inputs)
        right = {w: np.asarray(results[g], dtype=float) for w, g in program.gradients.items()}
        base = loss_at(inputs)
        assert compare(right, direction, loss_at, inputs, base) is None
        wrong = {"X1": right["X1"] * (1 + 1e-4), "X3": right["X3"]} if v3 == 0.0 else {**right, "X3": 0 * right["X3"]}
        found = compare(wrong, direction, loss_at, inputs, base)
        assert (found is not None) == judged, (x3, v3, found)


@pytest.mark.parametrize("source, shapes", [
    ("T0[i + j] = X0[i, j]\nT1[i + k, j] = (X1[l] + X2[] - X1[k]) X3[i, j, l]\nT2[i] = tanh(relu(T0[i]) + T1[i, j])\n",
     {"X0": (1, 1), "X1": (2,), "X2": (), "X3": (1, 1, 2)}),
    ("T1[i + k] = X1[k] X3[i]\nT2[i] = tanh(X0[i] + T1[i])\n", {"X0": (1,), "X1": (2,), "X3": (1,)}),
    ("T1[i + k] = X1[k] X3[i]\nT2[i] = X0[i] T1[i]\n", {"X0": (2,), "X1": (3,), "X3": (2,)}),
])
def test_the_adjoint_of_a_tensor_written_at_computed_positions_keeps_its_whole_extent(source, shapes):
    """Found by the gradient campaign (TLC_FUZZ_SEED=89): ``T2[i]`` reads ``T1`` only where the shorter ``X0`` (or
    ``T0``) has a position, so ``L_grad_T1`` was that short; ``T1[i + k]``'s backward equations read it at ``i + k``,
    and a read shorter than ``k``'s range left ``i`` no position: X1's and X3's gradients were 0."""
    agrees(source, signed(np.random.default_rng(25), shapes))


@pytest.mark.parametrize("source, shapes", [
    ("T0[j, i, k] max= X0[j, i/2, k]\nT3[i., j] = softmax(relu(X0[i, j, k] T0[l, k, i]))\n", {"X0": (1, 1, 1)}),
    ("T0[j, i, k] = X0[j, i/2, k]\nT3[i, j] = X0[i, j, k] T0[l, k, i]\n", {"X0": (2, 3, 2)}),
])
def test_a_value_made_from_a_stretched_tensor_does_not_bound_another_reads_indices(source, shapes):
    """Found by the gradient campaign (TLC_FUZZ_SEED=164, minimised): ``X0[j, i/2, k]`` makes ``T0`` longer than X0
    along ``i``, and X0's adjoint ``L_grad_T3[i, j] L_val_T3[i, k]`` reads ``T0`` through the value ``L_val_T3[i, k] =
    T0[l, k, i]``, which let ``T0``'s extent bound ``k``: X0's gradient came out (1, 1, 2) for a 1x1x1 X0."""
    agrees(source, signed(np.random.default_rng(28), shapes))
    program = tlc.grad(source + "L = T3[i, j] T3[i, j]\n", loss="L", wrt=list(shapes))
    inputs = signed(np.random.default_rng(29), shapes)
    results = program(**inputs)
    assert {w: np.shape(results[g]) for w, g in program.gradients.items()} == {w: x.shape for w, x in inputs.items()}


@pytest.mark.parametrize("source, shapes", [
    ("R0(0, 0)\nR1(i, j) = R0(i, j)\nR1(i, k) = R1(i, j) R0(j, k)\nT0 = X0[] + X1[i] + X2[] + R0(i, j)\n",
     {"X0": (), "X1": (2,), "X2": ()}),
    ("R0[0] = 1.0\nT0 = X1[i] + R0[i]\n", {"X1": (2,)}),
    ("R0[0] = 1.0\nT0 = (X1[i] + R0[i]) Z[i]\n", {"X1": (2,), "Z": (2,)}),
    ("R0[0] = 1.0\nT0 = X1[i] Z[i] + R0[i]\n", {"X1": (2,), "Z": (2,)}),
    ("R0[0] = 1.0\nT0 = X1[i] + X1[i] R0[i]\n", {"X1": (3,)}),
])
def test_a_defined_tensor_shorter_than_the_inputs_bounds_a_summed_index(source, shapes):
    """Found by the gradient campaign (TLC_FUZZ_SEED=687884897, program 291, minimised): ``R0``, written at a
    constant, is one long beside a two-long ``X1``, so ``i`` in ``T0 = X1[i] + R0[i]`` stops at 1. The backward
    equation carried ``X1[i]^0`` alone (one read was taken to bound ``i`` as every read does, true of inputs only):
    X1's gradient came out [1, 1] for [1, 0], and X0's 2 for 1."""
    agrees(source, signed(np.random.default_rng(31), shapes))


@pytest.mark.parametrize("source, shapes", [
    ("tensor T0[2]\nT0[j] = j + 1\nT2 = X1[j] T0[j]\n", {"X1": (1,)}),
    ("tensor T0[1, 2]\nT0[i, j] = sin(i / 4^(j / 2))\nT2[i] = tanh(relu(X1[i] + X1[j] T0[k, j] X1[k]))\n",
     {"X1": (1,)}),
])
def test_a_read_of_a_tensor_declared_longer_does_not_bound_another_reads_indices(source, shapes):
    """Found by the gradient campaign (TLC_FUZZ_SEED=259, minimised): ``tensor T0[2]`` makes the defined ``T0`` longer
    than X1, whose reads narrow ``j`` in the forward; X1's adjoint ``... T0[j]`` let T0 bound ``j``, and X1's gradient
    came out shaped (2,) for a 1-element X1."""
    agrees(source, signed(np.random.default_rng(31), shapes))
    loss = "L = T2[]\n" if "T2 =" in source else "L = T2[i]\n"
    program = tlc.grad(source + loss, loss="L", wrt=["X1"])
    results = program(**signed(np.random.default_rng(32), shapes))
    assert np.shape(results[program.gradients["X1"]]) == shapes["X1"]


def test_the_gradient_of_a_cosine_of_a_cosine_under_max_runs_on_every_backend():
    """Found by the gradient campaign (TLC_FUZZ_SEED=206, program 121): LLVM's loop vectoriser aborted the process on
    the forward reduction ``max= cos(cos(...))`` (tests/backends/llvm: a sine or cosine of another under max); checked
    in a child process, so that an abort fails this test only."""
    import subprocess
    import sys
    script = ("import numpy as np\n"
              "from tlc.fuzz.gradient import check_gradient\n"
              "x = np.random.default_rng(30).uniform(-1.5, 1.5, (3, 5))\n"
              "report = check_gradient('T0[n] max= cos(cos(X0[n, p]))\\n', {'X0': x})\n"
              "report.raise_if_failed()\n"
              "print(report.configs)\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == str([f"grad {b}" for b in tlc.fuzz.available_backends()])
