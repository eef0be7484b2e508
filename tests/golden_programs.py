"""Small programs, one per kind of code the backends emit, for the golden tests of the NumPy and llvm
backends and of ``--print-after`` (each test module pins its own text under its ``golden/`` directory).

Each entry: the source, the shape of every input (``()``: a scalar) and the outputs asked for (None: every
defined tensor). The emitted code depends on the shapes only, not on the values."""

import numpy as np

PROGRAMS = {
    # dense layers: contractions, a shared subexpression, a foldable constant, an intermediate to fuse
    "dense": ("H[b, i] = relu(W1[i, j] X[b, j] + B1[i])\n"
              "G[b, i] = sig(W1[i, j] X[b, j]) * (4 / 2)\n"
              "Y[b, k] = sig(W2[k, i] H[b, i] + B2[k])\n",
              {"W1": (4, 3), "X": (2, 3), "B1": (4,), "W2": (2, 4), "B2": (2,)}, ["G", "Y"]),
    # Datalog: named constants, facts, a transitive closure over a relation, a query
    "closure": ("domain Node: A, B, C, D\n"
                "Edge(A, B)\nEdge(B, C)\nEdge(C, D)\n"
                "Path(x, y) = Edge(x, y)\n"
                "Path(x, z) = Path(x, y) Edge(y, z)\n"
                "Path(B, x)?\n", {}, None),
    # a recurrence along a shifted index, run in index order from an initial value
    "recurrence": ("S[0] = Init\nS[t+1] = 0.5 S[t] + In[t]\n", {"Init": (), "In": (5,)}, None),
    # a recurrent network over a virtual index (only the current step is stored)
    "rnn": ("State[i, *t+1] = tanh(W[i, j] State[j, *t] + U[i, k] In[k, t])\n",
            {"W": (3, 3), "U": (3, 2), "In": (2, 4)}, None),
    # a min= fixpoint: shortest paths
    "shortest": ("Dist[x, z] min= W[x, z]\nDist[x, z] min= Dist[x, y] + W[y, z]\n", {"W": (4, 4)}, None),
    # softmax along a marked axis, and attention fused when its scores are an intermediate
    "attention": ("S[p, q.] = softmax(Q[p, d] K[q, d] / 2)\n"
                  "O[p, e] = S[p, q] V[q, e]\n"
                  "P[p, q.] = softmax(Q[p, d] K[q, d])\n",
                  {"Q": (3, 4), "K": (5, 4), "V": (5, 2)}, ["O", "P"]),
    # names that are Python builtins, modules of the emitted code, primes and underscores
    "hostile": ("X'[i] = relu(W'[i, j'] np[j'] + rt[i]) * self\n"
                "_[i] max= W'[i, j']\n"
                "range[i] avg= W'[i, j'] - _[i]\n",
                {"W'": (3, 2), "np": (2,), "rt": (3,), "self": ()}, None),
}


def inputs(name: str, seed: int | None = None) -> dict:
    """Inputs for program ``name``: ones of the stated shapes (scalars as 0-d arrays), or with a ``seed``
    values in [0.5, 1.5)."""
    rng = np.random.default_rng(seed)
    return {k: np.ones(shape) if seed is None else rng.uniform(0.5, 1.5, shape)
            for k, shape in PROGRAMS[name][1].items()}
