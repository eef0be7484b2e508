"""Polynomial-kernel attention: exp(<q, k1∘…∘km>) replaced by its Taylor polynomial, so the sums over
the keys factorise through monomial feature maps (Alman & Song, "How to Capture Higher-order
Correlations? Generalizing Matrix Softmax Attention to Kronecker Computation").

For x = Σ_d q_d k1_d ⋯ km_d, ``x^j = Σ_{|α|=j} (j!/α!) q^α k1^α ⋯ km^α``, so with the Taylor
coefficients 1/j! the weight of monomial α is 1/α!, and

    Σ_{p1..pm} P(x) V1[p1] ∘ ⋯ ∘ Vm[pm] = Σ_α q^α/α! · Π_i (Σ_{pi} ki[pi]^α Vi[pi])

(the product over i is elementwise): time O((n + Σ m_i) · F · e) with F = C(d+k, k) monomials of
degree ≤ k, instead of O(n · Π m_i · d).

Error bound. If |x| ≤ B for every query and key combination, the Taylor remainder gives every
weight a relative error ε ≤ e^B B^(k+1)/(k+1)!, and normalising turns that into an absolute error of
at most 2ε/(1−ε) · Π_i max|Vi| in every output element (for ε < 1, which also keeps weights positive).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations_with_replacement

import numpy as np

MAX_FEATURES = 20_000
"""Largest number of monomials a plan may use (a block of features is rows × this many floats)."""
MAX_DEGREE = 24
ROW_BLOCK = 1024


@dataclass(frozen=True)
class PolynomialPlan:
    """The degree chosen for a tolerance, or why none is affordable."""

    degree: int | None
    entry_bound: float
    """B: an upper bound on |scale · <q, k1∘…∘km>| computed from the inputs' norms."""
    error_bound: float | None
    """The guaranteed bound on the output's absolute error at ``degree`` (None when no degree fits)."""
    features: int
    reason: str
    """Why this degree (or why exact evaluation)."""


def entry_bound(q, keys) -> float:
    """An upper bound on |<q, k1∘…∘km>| over all rows: the smaller of the max-norm bound
    d·max|q|·Π max|ki| and the Cauchy–Schwarz bound max‖q‖₂·max‖k1‖₂·Π_{i>1} max|ki|."""
    d = q.shape[-1]
    inf_norms = [float(np.max(np.abs(x), initial=0.0)) for x in (q, *keys)]
    by_max = d * math.prod(inf_norms)
    row_norm = lambda x: float(np.sqrt(np.max(np.sum(x * x, axis=-1), initial=0.0)))  # noqa: E731
    by_cauchy = row_norm(q) * row_norm(keys[0]) * math.prod(inf_norms[2:])
    return min(by_max, by_cauchy)


def relative_error(bound: float, degree: int) -> float:
    """ε: the largest relative error of the degree-k Taylor polynomial of exp on [-bound, bound]."""
    return math.exp(bound + (degree + 1) * math.log(bound) - math.lgamma(degree + 2)) if bound > 0 else 0.0


def output_error(bound: float, degree: int, value_bound: float) -> float:
    """The guaranteed absolute error of the normalised output: 2ε/(1−ε) · max|V1 ∘ … ∘ Vm| (inf if ε ≥ 1)."""
    eps = relative_error(bound, degree)
    return 2 * eps / (1 - eps) * value_bound if eps < 1 else math.inf


def feature_count(d: int, degree: int) -> int:
    """Monomials of degree at most ``degree`` in ``d`` variables: C(d + degree, degree)."""
    return math.comb(d + degree, degree)


def plan(q, keys, values, tolerance: float, scale: float, batch: int = 1, lengths=None) -> PolynomialPlan:
    """The smallest Taylor degree whose error bound meets ``tolerance`` and whose cost is below the
    exact evaluation's, from the inputs' norms (q, keys, values: 2-d, the rows of all ``batch`` batch
    elements stacked; ``lengths``: each key's rows per batch element, default all its rows)."""
    n, d = q.shape
    bound = abs(scale) * entry_bound(q, keys)
    value_bound = math.prod(float(np.max(np.abs(v), initial=0.0)) for v in values)
    e = values[0].shape[-1]
    lengths = lengths or [k.shape[0] for k in keys]
    exact_cost = n * math.prod(lengths) * (d + e)
    for degree in range(MAX_DEGREE + 1):
        error = output_error(bound, degree, value_bound)
        if error > tolerance:
            continue
        features = feature_count(d, degree)
        cost = (n + batch * sum(lengths)) * features * (e + 1 + degree)
        if features > MAX_FEATURES or cost >= exact_cost:
            why = (f"{features} monomials exceed the limit of {MAX_FEATURES}" if features > MAX_FEATURES
                   else f"it would cost {cost:.3g} operations, not less than the exact {exact_cost:.3g}")
            return PolynomialPlan(None, bound, None, features,
                                  f"entry bound B = {bound:.3g} needs Taylor degree {degree} for tolerance "
                                  f"{tolerance:g}, and {why}")
        return PolynomialPlan(degree, bound, error, features,
                              f"entry bound B = {bound:.3g}: Taylor degree {degree} ({features} monomials) "
                              f"guarantees max error {error:.3g} <= tolerance {tolerance:g}")
    return PolynomialPlan(None, bound, None, 0,
                          f"entry bound B = {bound:.3g} is too large: no Taylor degree up to {MAX_DEGREE} "
                          f"guarantees tolerance {tolerance:g}")


@dataclass(frozen=True)
class _Monomials:
    """Monomials of degree ≤ k in d variables, built degree by degree from a parent times one variable."""

    parent: np.ndarray
    variable: np.ndarray
    weight: np.ndarray
    """1/α! per monomial (the Taylor coefficient times the multinomial coefficient)."""
    levels: tuple[int, ...]
    """Column where each degree starts (and the total count last)."""

    @classmethod
    def build(cls, d: int, degree: int) -> "_Monomials":
        index = {(): 0}
        parent, variable, weight, levels = [0], [0], [1.0], [0]
        for j in range(1, degree + 1):
            levels.append(len(parent))
            for combo in combinations_with_replacement(range(d), j):
                index[combo] = len(parent)
                parent.append(index[combo[:-1]])
                variable.append(combo[-1])
                weight.append(1.0 / math.prod(math.factorial(combo.count(v)) for v in set(combo)))
        levels.append(len(parent))
        return cls(np.array(parent), np.array(variable), np.array(weight), tuple(levels))

    def features(self, x: np.ndarray) -> np.ndarray:
        """Every monomial of the rows of ``x`` (rows × F), one degree at a time from the previous one."""
        out = np.empty((x.shape[0], len(self.parent)))
        out[:, 0] = 1.0
        for start, stop in zip(self.levels[1:-1], self.levels[2:]):
            out[:, start:stop] = out[:, self.parent[start:stop]] * x[:, self.variable[start:stop]]
        return out


def polynomial_attention(q, keys, values, scale: float, degree: int) -> np.ndarray:
    """Normalised attention with exp replaced by its degree-k Taylor polynomial (2-d arrays of one
    batch element): q (n, d), keys[i] (m_i, d), values[i] (m_i, e); returns (n, e)."""
    monomials = _Monomials.build(q.shape[1], degree)
    summary = None
    for k, v in zip(keys, values):
        augmented = np.concatenate([v, np.ones((v.shape[0], 1))], axis=1)   # last column: the denominator
        part = np.zeros((len(monomials.parent), augmented.shape[1]))
        for r0 in range(0, k.shape[0], ROW_BLOCK):
            part += monomials.features(k[r0:r0 + ROW_BLOCK]).T @ augmented[r0:r0 + ROW_BLOCK]
        summary = part if summary is None else summary * part
    summary *= monomials.weight[:, None]
    out = np.empty((q.shape[0], values[0].shape[1]))
    for r0 in range(0, q.shape[0], ROW_BLOCK):
        both = monomials.features(q[r0:r0 + ROW_BLOCK] * scale) @ summary
        out[r0:r0 + ROW_BLOCK] = both[:, :-1] / both[:, -1:]
    return out
