"""Low-rank decompositions within a relative Frobenius error budget: truncated SVD, Tucker, tensor train, CP.

Every function takes the dense array and ``rel_err`` and returns a :class:`Decomposition` whose achieved
relative error ``‖T - T̂‖_F / ‖T‖_F`` (measured on the reconstruction, not estimated) is at most ``rel_err``.
Ranks come from singular-value tails: for an SVD the smallest rank whose tail meets the budget; for the
sequential sweeps (ST-HOSVD, TT-SVD), whose squared error is exactly the sum of the squared tails dropped at
each step, the budget is shared out step by step (what one step leaves unused passes to the next), then every
rank is lowered one at a time while the budget still holds, so no single rank can drop by one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tlc.errors import TlcError

METHODS = ("auto", "svd", "tucker", "tt", "cp")
"""Decomposition methods; ``auto`` takes the SVD for matrices and the smaller of Tucker and TT otherwise."""

EXACT_SVD_MAX = 256
"""Matrices whose smaller side is at most this get a full SVD; larger ones a randomised top-k SVD."""

GRAM_MIN_REL_ERR = 1e-5
"""Budgets at least this loose let the sweeps take unfoldings' spectra from Gram matrices (BLAS and a small
symmetric eigenproblem, much faster than LAPACK's SVD of a wide block); the eigenvalues' absolute error,
about eps times the largest, is then far below the squared budget. The result is measured either way."""

MAX_DESCENT_TRIALS = 64
"""Re-decompositions spent lowering ranks one at a time after the budget-shared sweep."""

CP_MAX_ITERATIONS = 200
"""ALS sweeps per CP rank tried."""
CP_STARTS = 3
"""Starts of ALS per CP rank: the singular vectors of the unfoldings, then seeded random ones."""


@dataclass(frozen=True, slots=True)
class Leg:
    """One axis of a factor: ``mode`` n is axis n of the original tensor, ``rank`` k is the k-th rank index."""

    kind: str
    number: int


@dataclass(frozen=True)
class Decomposition:
    """A factorised tensor: factor arrays, the legs of each factor's axes, ranks and achieved error."""

    method: str
    factors: tuple[np.ndarray, ...]
    legs: tuple[tuple[Leg, ...], ...]
    ranks: tuple[int, ...]
    rel_error: float

    @property
    def elements(self) -> int:
        """Numbers stored by the factors."""
        return sum(f.size for f in self.factors)

    def subscripts(self) -> str:
        """The einsum equation that rebuilds the tensor from the factors."""
        def letter(leg: Leg) -> str:
            return chr(ord("a") + leg.number) if leg.kind == "mode" else chr(ord("A") + leg.number)
        modes = sorted({leg.number for legs in self.legs for leg in legs if leg.kind == "mode"})
        inputs = ",".join("".join(letter(leg) for leg in legs) for legs in self.legs)
        return f"{inputs}->{''.join(chr(ord('a') + n) for n in modes)}"

    def reconstruct(self) -> np.ndarray:
        """The dense tensor the factors represent."""
        import opt_einsum
        return opt_einsum.contract(self.subscripts(), *self.factors)


def check_budget(rel_err) -> float:
    """``rel_err`` as a float in [0, 1), else a TlcError saying why it cannot be met."""
    if isinstance(rel_err, bool) or not isinstance(rel_err, (int, float, np.floating)) or not math.isfinite(rel_err):
        raise TlcError(f"rel_err must be a finite number, not {rel_err!r}")
    if rel_err < 0:
        raise TlcError(f"rel_err={rel_err} cannot be met: a relative error is never negative")
    if rel_err >= 1:
        raise TlcError(f"rel_err={rel_err} allows a relative error of 100% or more (the zero tensor); "
                       "give a budget below 1")
    return float(rel_err)


def relative_error(tensor: np.ndarray, approximation: np.ndarray) -> float:
    """``‖tensor - approximation‖_F / ‖tensor‖_F`` (0 for the zero tensor approximated exactly)."""
    norm = np.linalg.norm(tensor)
    diff = np.linalg.norm(tensor - approximation)
    return float(diff / norm) if norm else (0.0 if diff == 0 else math.inf)


def smallest_rank(spectrum: np.ndarray, allowed: float, total: float | None = None) -> int:
    """The smallest r whose squared tail is at most ``allowed`` (squared): the tail is summed from the small end
    of a full spectrum (no cancellation), or is ``total - Σ_{k<r} s_k²`` for the top of a partial one."""
    squares = np.asarray(spectrum, dtype=np.float64) ** 2
    if total is None:
        tails = np.concatenate((np.cumsum(squares[::-1])[::-1], [0.0]))
    else:
        tails = total - np.concatenate(([0.0], np.cumsum(squares)))
    fits = np.nonzero(tails <= allowed * (1 + 1e-12))[0]
    return int(fits[0]) if fits.size else len(squares)


# ---------------------------------------------------------------- matrices
def truncated_svd(matrix: np.ndarray, rel_err: float) -> Decomposition:
    """``M ≈ (U·S)[a,r] V[r,b]`` with the smallest rank r whose singular-value tail meets ``rel_err``."""
    matrix = np.asarray(matrix, dtype=np.float64)
    budget = (check_budget(rel_err) * np.linalg.norm(matrix)) ** 2
    if min(matrix.shape) <= EXACT_SVD_MAX:
        u, s, vt = np.linalg.svd(matrix, full_matrices=False)
        rank = smallest_rank(s, budget)
    else:
        u, s, vt = _top_svd(matrix, budget)
        rank = smallest_rank(s, budget, float(np.sum(matrix * matrix)))
    while True:     # the randomised spectrum is approximate: confirm on the reconstruction
        left, right = u[:, :rank] * s[:rank], vt[:rank]
        error = relative_error(matrix, left @ right)
        if error <= rel_err or rank >= len(s):
            break
        rank += 1
    legs = ((Leg("mode", 0), Leg("rank", 0)), (Leg("rank", 0), Leg("mode", 1)))
    return Decomposition("svd", (left, right), legs, (rank,), error)


def _top_svd(matrix: np.ndarray, budget: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A randomised SVD (Halko et al., two power iterations) with k doubled until the tail meets ``budget``.

    Only matrix products and small dense problems: LAPACK's QR and SVD of tall thin blocks are far slower
    here than BLAS, so blocks are orthonormalised by CholeskyQR2 and the small SVD comes from a Gram matrix.
    """
    rng = np.random.default_rng(seed)
    total = float(np.sum(matrix * matrix))
    smaller = min(matrix.shape)
    k = 32
    while True:
        if 2 * k >= smaller:
            return np.linalg.svd(matrix, full_matrices=False)
        sample = matrix @ rng.standard_normal((matrix.shape[1], k + 16))
        for _ in range(2):
            sample = matrix @ (matrix.T @ _orthonormal(sample))
        basis = _orthonormal(sample)
        small = basis.T @ matrix
        values, vectors = np.linalg.eigh(small @ small.T)
        order = np.argsort(values)[::-1]
        s = np.sqrt(np.maximum(values[order], 0.0))
        small_u = vectors[:, order]
        if smallest_rank(s, budget, total) < k:
            keep = s > s[0] * 1e-12
            vt = (small_u[:, keep].T @ small) / s[keep, None]
            return basis @ small_u[:, keep], s[keep], vt
        k *= 2


def _orthonormal(block: np.ndarray) -> np.ndarray:
    """An orthonormal basis of a tall block's columns by CholeskyQR2 (falls back to QR if rank-deficient)."""
    try:
        for _ in range(2):
            block = block @ np.linalg.inv(np.linalg.cholesky(block.T @ block).T)
        return block
    except np.linalg.LinAlgError:
        return np.linalg.qr(block)[0]


# ---------------------------------------------------------------- sequential sweeps (Tucker, TT)
def _shared_budget(budget: float, steps: int) -> Callable[[int, np.ndarray, float], int]:
    """A rank chooser for a sweep: step n may spend (budget - spent) / (steps - n) of the squared error."""
    def choose(n: int, spectrum: np.ndarray, spent: float) -> int:
        return max(1, smallest_rank(spectrum, (budget - spent) / (steps - n)))
    return choose


def _fixed(ranks: tuple[int, ...]) -> Callable[[int, np.ndarray, float], int]:
    return lambda n, spectrum, spent: min(ranks[n], len(spectrum))


def _descend(sweep: Callable, tensor: np.ndarray, rel_err: float, first: Decomposition, gram: bool) -> Decomposition:
    """Lower single ranks by one while the measured error stays within budget, largest saving first."""
    best = first
    for _ in range(MAX_DESCENT_TRIALS):
        trials = []
        for n, r in enumerate(best.ranks):
            if r > 1:
                lower = best.ranks[:n] + (r - 1,) + best.ranks[n + 1:]
                trials.append(sweep(tensor, _fixed(lower), gram))
        fitting = [d for d in trials if d.rel_error <= rel_err]
        if not fitting:
            return best
        best = min(fitting, key=lambda d: (d.elements, d.rel_error))
    return best


def _left_svd(matrix: np.ndarray, gram: bool) -> tuple[np.ndarray, np.ndarray]:
    """Left singular vectors and singular values, largest first (from the smaller Gram matrix if ``gram``)."""
    if not gram or matrix.shape[0] > matrix.shape[1]:
        u, s, _ = np.linalg.svd(matrix, full_matrices=False)
        return u, s
    values, vectors = np.linalg.eigh(matrix @ matrix.T)
    order = np.argsort(values)[::-1]
    return vectors[:, order], np.sqrt(np.maximum(values[order], 0.0))


def _unfold(tensor: np.ndarray, mode: int) -> np.ndarray:
    return np.moveaxis(tensor, mode, 0).reshape(tensor.shape[mode], -1)


def _st_hosvd(tensor: np.ndarray, choose, gram: bool = False) -> Decomposition:
    """Sequentially truncated HOSVD; a mode kept at full rank needs no factor (its basis stays in the core)."""
    core, bases, ranks, spent = tensor, [], [], 0.0
    for n in range(tensor.ndim):
        u, s = _left_svd(_unfold(core, n), gram)
        r = choose(n, s, spent)
        spent += float(np.sum(s[r:] ** 2))
        bases.append(u[:, :r])
        ranks.append(r)
        core = np.moveaxis(np.tensordot(u[:, :r].T, core, axes=(1, n)), 0, n)
    factors, legs = [], []
    core_legs = []
    for n, (basis, r) in enumerate(zip(bases, ranks)):
        if r >= tensor.shape[n]:    # full rank: fold the (square) basis back into the core
            core = np.moveaxis(np.tensordot(basis, core, axes=(1, n)), 0, n)
            core_legs.append(Leg("mode", n))
        else:
            factors.append(basis)
            legs.append((Leg("mode", n), Leg("rank", n)))
            core_legs.append(Leg("rank", n))
    result = Decomposition("tucker", (core, *factors), (tuple(core_legs), *legs), tuple(ranks), 0.0)
    return _measured(tensor, result)


def _tt_svd(tensor: np.ndarray, choose, gram: bool = False) -> Decomposition:
    """TT-SVD (Oseledets 2011): cores ``C1[a,r0] C2[r0,b,r1] ... Cd[r_{d-2},z]``."""
    shape = tensor.shape
    cores, ranks, spent = [], [], 0.0
    rest = tensor.reshape(shape[0], -1)
    previous = 1
    for n in range(tensor.ndim - 1):
        unfolding = rest.reshape(previous * shape[n], -1)
        u, s = _left_svd(unfolding, gram)
        r = choose(n, s, spent)
        spent += float(np.sum(s[r:] ** 2))
        cores.append(u[:, :r].reshape(previous, shape[n], r))
        ranks.append(r)
        rest = u[:, :r].T @ unfolding
        previous = r
    cores.append(rest.reshape(previous, shape[-1]))
    cores[0] = cores[0][0]
    legs = [(Leg("mode", 0), Leg("rank", 0))]
    legs += [(Leg("rank", n - 1), Leg("mode", n), Leg("rank", n)) for n in range(1, tensor.ndim - 1)]
    legs.append((Leg("rank", tensor.ndim - 2), Leg("mode", tensor.ndim - 1)))
    return _measured(tensor, Decomposition("tt", tuple(cores), tuple(legs), tuple(ranks), 0.0))


def _measured(tensor: np.ndarray, result: Decomposition) -> Decomposition:
    return Decomposition(result.method, result.factors, result.legs, result.ranks,
                         relative_error(tensor, result.reconstruct()))


def _sweep_within(sweep, tensor: np.ndarray, rel_err: float, steps: int) -> Decomposition:
    tensor = np.asarray(tensor, dtype=np.float64)
    budget = (check_budget(rel_err) * np.linalg.norm(tensor)) ** 2
    gram = rel_err >= GRAM_MIN_REL_ERR
    first = sweep(tensor, _shared_budget(budget, steps), gram)
    if first.rel_error > rel_err and gram:      # never expected; the exact spectra settle it
        gram = False
        first = sweep(tensor, _shared_budget(budget, steps), gram)
    return _descend(sweep, tensor, rel_err, first, gram)


def tucker(tensor: np.ndarray, rel_err: float) -> Decomposition:
    """``T ≈ G[r0,r1,..] U0[a,r0] U1[b,r1] ...`` by ST-HOSVD with ranks chosen from the budget."""
    _check_order(tensor, 2)
    return _sweep_within(_st_hosvd, tensor, rel_err, np.ndim(tensor))


def tensor_train(tensor: np.ndarray, rel_err: float) -> Decomposition:
    """``T ≈ C1[a,r0] C2[r0,b,r1] ... Cd[r,z]`` by TT-SVD with ranks chosen from the budget."""
    _check_order(tensor, 2)
    return _sweep_within(_tt_svd, tensor, rel_err, np.ndim(tensor) - 1)


def with_ranks(tensor: np.ndarray, method: str, ranks: tuple[int, ...]) -> Decomposition:
    """The ``svd``, ``tucker`` or ``tt`` factorisation with the given ranks (capped by the tensor's extents)."""
    tensor = np.asarray(tensor, dtype=np.float64)
    if method == "svd":
        u, s, vt = np.linalg.svd(tensor, full_matrices=False)
        r = min(ranks[0], len(s))
        legs = ((Leg("mode", 0), Leg("rank", 0)), (Leg("rank", 0), Leg("mode", 1)))
        return _measured(tensor, Decomposition("svd", (u[:, :r] * s[:r], vt[:r]), legs, (r,), 0.0))
    sweep = {"tucker": _st_hosvd, "tt": _tt_svd}[method]
    return sweep(tensor, _fixed(tuple(ranks)))


# ---------------------------------------------------------------- CP
def cp(tensor: np.ndarray, rel_err: float, seed: int = 0) -> Decomposition:
    """``T ≈ Σ_r A0[a,r] A1[b,r] ...`` by alternating least squares, trying ranks 1, 2, ... until the
    budget is met (each rank from the leading singular vectors of the unfoldings, then from ``CP_STARTS - 1``
    seeded random starts: ALS can stall in a swamp from any one start); raises when no rank storing fewer
    numbers than the tensor meets it."""
    _check_order(tensor, 2)
    tensor = np.asarray(tensor, dtype=np.float64)
    check_budget(rel_err)
    limit = tensor.size // sum(tensor.shape)
    best = None
    rng = np.random.default_rng(seed)
    for rank in range(1, limit + 1):
        for start in range(CP_STARTS):
            initial = _singular_start(tensor, rank, rng) if start == 0 else \
                [rng.standard_normal((n, rank)) for n in tensor.shape]
            result = _cp_als(tensor, initial)
            if best is None or result.rel_error < best.rel_error:
                best = result
            if result.rel_error <= rel_err:
                return result
    raise TlcError(f"no CP rank up to {limit} meets rel_err={rel_err} (best {best.rel_error:.3g} at rank "
                   f"{best.ranks[0]}); a CP factorisation storing fewer numbers than the tensor cannot meet "
                   "this budget: use method=tucker or tt, or a larger rel_err")


def _singular_start(tensor: np.ndarray, rank: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Initial CP factors: each mode's leading left singular vectors of its unfolding (random columns beyond
    the mode's extent)."""
    factors = []
    for n, extent in enumerate(tensor.shape):
        u = np.linalg.svd(_unfold(tensor, n), full_matrices=False)[0][:, :rank]
        extra = rng.standard_normal((extent, rank - u.shape[1]))
        factors.append(np.concatenate([u, extra], axis=1))
    return factors


def _cp_als(tensor: np.ndarray, factors: list[np.ndarray]) -> Decomposition:
    """Alternating least squares from the initial ``factors`` until the error stops improving."""
    factors = list(factors)
    rank = factors[0].shape[1]
    previous = math.inf
    for _ in range(CP_MAX_ITERATIONS):
        for n in range(tensor.ndim):
            others = [f for m, f in enumerate(factors) if m != n]
            gram = np.ones((rank, rank))
            for f in others:
                gram *= f.T @ f
            kr = others[0]
            for f in others[1:]:     # Khatri-Rao product, first factor slowest, matching the unfolding
                kr = (kr[:, None, :] * f[None, :, :]).reshape(-1, rank)
            factors[n] = np.linalg.lstsq(gram, (_unfold(tensor, n) @ kr).T, rcond=None)[0].T
        legs = tuple((Leg("mode", n), Leg("rank", 0)) for n in range(tensor.ndim))
        result = _measured(tensor, Decomposition("cp", tuple(factors), legs, (rank,), 0.0))
        if previous - result.rel_error < 1e-10:
            break
        previous = result.rel_error
    return result


# ---------------------------------------------------------------- dispatch
def _check_order(tensor, order: int) -> None:
    if np.ndim(tensor) < order:
        raise TlcError(f"a tensor of rank {np.ndim(tensor)} has nothing to factorise; rank {order} or more is needed")


def decompose(tensor: np.ndarray, rel_err: float, method: str = "auto") -> Decomposition:
    """Factorise ``tensor`` within ``rel_err`` by ``method`` (one of :data:`METHODS`)."""
    if method not in METHODS:
        raise TlcError(f"unknown factorisation method {method!r}; methods are {', '.join(METHODS)}")
    _check_order(tensor, 2)
    if method == "svd" or (method == "auto" and np.ndim(tensor) == 2):
        if np.ndim(tensor) != 2:
            raise TlcError(f"method=svd factorises matrices; this tensor has rank {np.ndim(tensor)}")
        return truncated_svd(tensor, rel_err)
    if method == "auto":
        return min((tucker(tensor, rel_err), tensor_train(tensor, rel_err)), key=lambda d: d.elements)
    return {"tucker": tucker, "tt": tensor_train, "cp": cp}[method](tensor, rel_err)
