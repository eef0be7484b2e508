"""The min=/max= path programs and random weight matrices that the semiring strategy's tests share (its NumPy
runtime in ``test_semiring_strategy.py``, its native kernels in ``backends/llvm/test_native_semiring.py``)."""

from __future__ import annotations

import numpy as np

SSSP = "Dist[y] min= Src[y]\nDist[y] min= Dist[x] + W[x, y]"
MULTI = "D[s, y] min= Src[s, y]\nD[s, y] min= D[s, x] + W[x, y]"
ALL_PAIRS = "D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] + W[y, z]"
LEFT = "D[x, z] min= W[x, z]\nD[x, z] min= W[x, y] + D[y, z]"
TRANSPOSED = "Dist[y] min= Src[y]\nDist[y] min= W[y, x] + Dist[x]"
WIDEST = "B[x, z] max= C[x, z]\nB[x, z] max= min(B[x, y], C[y, z])"
RELIABLE = "R[x, z] max= P[x, z]\nR[x, z] max= R[x, y] P[y, z]"
LONGEST = "L[y] max= Src[y]\nL[y] max= L[x] + G[x, y]"
MINIMAX = "M[x, z] min= W[x, z]\nM[x, z] min= max(M[x, y], W[y, z])"


def weighted(rng, n: int, degree: float, none: float, low=0.0, high=9.0, integers=False) -> np.ndarray:
    """A random weight matrix with self loops and (for a small degree) unreachable nodes; ``none`` elsewhere."""
    mask = rng.random((n, n)) < degree / n
    mask[np.arange(n), np.arange(n)] |= rng.random(n) < 0.2
    values = rng.integers(int(low), int(high) + 1, (n, n)).astype(float) if integers else rng.uniform(low, high, (n, n))
    return np.where(mask, values, none)


def finite_csr(w: np.ndarray):
    """The finite entries of ``w`` as a scipy CSR matrix (the graph scipy.sparse.csgraph reads)."""
    from scipy.sparse import csr_matrix
    rows, cols = np.nonzero(np.isfinite(w))
    return csr_matrix((w[rows, cols], (rows, cols)), shape=w.shape)


def longest_paths_case(rng, n: int):
    """A random DAG of ``n`` nodes (-inf for no edge), a start vector with node 0 as the source, and the longest
    distances from it by ``scipy.sparse.csgraph.bellman_ford`` on the negated weights."""
    from scipy.sparse import csgraph
    dag = np.triu(weighted(rng, n, 4.0, -np.inf, -3.0, 9.0), 1)
    dag[np.tril_indices(n)] = -np.inf
    src = np.full(n, -np.inf)
    src[0] = 0.0
    return dag, src, -csgraph.bellman_ford(finite_csr(np.where(np.isfinite(dag), -dag, np.inf)), indices=0)
