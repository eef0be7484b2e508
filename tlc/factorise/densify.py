"""The paper's §6 densification: a sparse relation as a dense Tucker core over random embeddings, denoised by step.

Each argument position a of a relation R gets a random embedding ``E_a[x, d]`` with unit rows. The core
``C[d1..dk] = Σ R(x1..xk) E_1[x1,d1] ... E_k[xk,dk]`` is a Tucker projection of R; contracting it back with the
embeddings gives ``R̂ = R + noise``, the noise being a sum of products of dot products of distinct random unit
vectors (each about ``1/sqrt(dim)``). ``step(R̂ - threshold)`` removes it when ``dim`` is large enough relative
to the number of facts sharing a row; otherwise the mismatches are reported, never hidden.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import opt_einsum

from tlc.errors import TlcError


@dataclass(frozen=True)
class Densified:
    """A relation projected onto random embeddings: core, embeddings, and how well step recovers the relation."""

    core: np.ndarray
    embeddings: tuple[np.ndarray, ...]
    threshold: float
    reconstruction: np.ndarray
    """``R̂``: the core contracted back with the embeddings (before denoising)."""
    recovered: np.ndarray
    """``step(R̂ - threshold)`` as a bool array."""
    false_positives: int
    false_negatives: int
    max_noise: float
    """Largest ``|R̂ - R|``; below ``min(threshold, 1 - threshold)`` recovery is exact."""

    @property
    def errors(self) -> int:
        """Entries the denoised reconstruction gets wrong."""
        return self.false_positives + self.false_negatives

    @property
    def exact(self) -> bool:
        """True when step recovers the relation exactly."""
        return self.errors == 0

    def __str__(self) -> str:
        verdict = "recovered exactly" if self.exact else (
            f"{self.errors} wrong entries ({self.false_positives} false positives, "
            f"{self.false_negatives} false negatives)")
        return (f"densified over {self.core.shape} embedding dimensions: {verdict}; largest noise "
                f"{self.max_noise:.3g} against threshold {self.threshold:g}")


def densify(relation, dim: int, *, seed: int = 0, threshold: float = 0.5) -> Densified:
    """Densify a Boolean relation (array or ``tlc_runtime.Relation``) into a ``dim``-per-axis core over random
    unit embeddings, reconstruct it, denoise with ``step(R̂ - threshold)`` and report the mismatches."""
    facts = np.asarray(relation)
    if facts.dtype != bool:
        if facts.dtype.kind not in "biuf" or not np.isin(facts, (0, 1)).all():
            raise TlcError(f"densify needs a Boolean (or 0/1) relation, got dtype {facts.dtype}")
        facts = facts.astype(bool)
    if facts.ndim < 1:
        raise TlcError("densify needs a relation with at least one argument")
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise TlcError(f"the embedding dimension must be a positive integer, not {dim!r}")
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold) and 0 < threshold < 1):
        raise TlcError(f"the denoising threshold must lie strictly between 0 and 1, not {threshold!r}")
    rng = np.random.default_rng(seed)
    embeddings = []
    for extent in facts.shape:
        e = rng.standard_normal((extent, dim))
        embeddings.append(e / np.linalg.norm(e, axis=1, keepdims=True))
    letters = "abcdefghijklmnopqrstuvwxyz"[:facts.ndim]
    project = ",".join([letters] + [f"{x}{x.upper()}" for x in letters]) + "->" + letters.upper()
    core = opt_einsum.contract(project, facts.astype(np.float64), *embeddings)
    rebuild = ",".join([letters.upper()] + [f"{x}{x.upper()}" for x in letters]) + "->" + letters
    reconstruction = opt_einsum.contract(rebuild, core, *embeddings)
    recovered = reconstruction > threshold
    return Densified(core, tuple(embeddings), float(threshold), reconstruction, recovered,
                     int(np.sum(recovered & ~facts)), int(np.sum(~recovered & facts)),
                     float(np.max(np.abs(reconstruction - facts), initial=0.0)))
