"""Write small random inputs for the examples to examples/data/NAME.npz (run: python examples/make_data.py).

Each file is keyed by input name, so ``tlc run examples/mlp.tl --data examples/data/mlp.npz`` works.
Relations are bool arrays, scalars 0-d arrays. ``family.tl`` needs no data (its facts are in the file).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"


def _nz(rng, *shape):
    """Values in ±[0.5, 1.5): random signs, bounded away from zero."""
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def _cpt(rng, *shape):
    """A conditional probability table normalised over its last axis, every entry non-zero."""
    table = rng.uniform(0.1, 1.0, shape)
    return table / table.sum(axis=-1, keepdims=True)


def perceptron(rng):
    return {"W": _nz(rng, 4), "X": _nz(rng, 4)}


def mlp(rng):
    return {"X": _nz(rng, 5), "W1": _nz(rng, 4, 5), "B1": _nz(rng, 4),
            "W2": _nz(rng, 3, 4), "B2": _nz(rng, 3)}


def deep_mlp(rng):
    return {"X": _nz(rng, 1, 4), "W": _nz(rng, 3, 4, 4)}


def rnn(rng):
    return {"In": _nz(rng, 3, 5), "W": 0.5 * _nz(rng, 4, 4), "U": _nz(rng, 4, 3)}


def cnn(rng):
    return {"Image": _nz(rng, 7, 8), "Filter": _nz(rng, 3, 3)}


def gnn(rng):
    n = 5
    neig = rng.random((n, n)) < 0.5
    neig = (neig | neig.T) & ~np.eye(n, dtype=bool)
    neig[np.arange(n), (np.arange(n) + 1) % n] = True   # every node has a neighbour
    return {"Neig": neig, "X": _nz(rng, n, 3), "WP": _nz(rng, 2, 3, 3),
            "WAgg": np.array(0.5), "WSelf": np.array(0.8), "WOut": _nz(rng, 3)}


def transformer(rng):
    positions, vocab, width, heads, dk, hidden = 5, 7, 8, 2, 4, 6   # positions, width: consts in the file
    tokens = rng.integers(0, vocab, positions)
    d = np.arange(width)
    return {"X": np.eye(vocab, dtype=bool)[tokens], "Emb": _nz(rng, vocab, width),
            "Even": d % 2 == 0, "Odd": d % 2 == 1,
            "WQ": _nz(rng, heads, dk, width) / 2, "WK": _nz(rng, heads, dk, width) / 2,
            "WV": _nz(rng, heads, dk, width) / 2, "Dk": np.array(float(dk)),
            "WS": _nz(rng, width, heads * dk) / 2, "W1": _nz(rng, hidden, width) / 2, "B1": _nz(rng, hidden),
            "W2": _nz(rng, width, hidden) / 2, "WO": _nz(rng, vocab, width)}


def kernel(rng):
    return {"X": _nz(rng, 6, 3), "Lab": rng.choice([-1.0, 1.0], 6), "A": rng.uniform(0.1, 1.0, 6),
            "B": np.array(-0.25), "Q": _nz(rng, 4, 3), "Var": np.array(2.0)}


def bayes(rng):
    return {"PC": _cpt(rng, 2), "PS": _cpt(rng, 2, 2), "PR": _cpt(rng, 2, 2), "PW": _cpt(rng, 2, 2, 2)}


def embedding(rng):
    n = 5
    return {"R": rng.random((n, n)) < 0.4, "Emb": np.eye(n)[rng.permutation(n)], "T": np.array(0.0)}


def tucker(rng):
    return {"Core": _nz(rng, 2, 3, 3), "U": _nz(rng, 3, 2), "A": _nz(rng, 5, 3)}


def paths(rng, n=8):
    ring = np.roll(np.eye(n, dtype=bool), 1, axis=1)                # a cycle keeps every pair connected
    edges = ring | (rng.random((n, n)) < 0.3) & ~np.eye(n, dtype=bool)
    dag = np.triu(rng.random((n, n)) < 0.5, k=1)
    return {"W": np.where(edges, rng.uniform(1.0, 9.0, (n, n)), np.inf),
            "Cap": np.where(edges, rng.uniform(1.0, 9.0, (n, n)), 0.0),
            "P": np.where(edges, rng.uniform(0.5, 1.0, (n, n)), 0.0),
            "E": dag.astype(float)}


def _one_hot(rng, *shape, classes):
    """One-hot rows: ``shape`` random labels among ``classes``."""
    return np.eye(classes)[rng.integers(classes, size=shape)]


def digits_mlp(rng):
    weights = {"W1": _nz(rng, 32, 64) / 8, "B1": _nz(rng, 32), "W2": _nz(rng, 10, 32) / 6, "B2": _nz(rng, 10)}
    return {"X": rng.uniform(0.0, 1.0, (5, 64)), "Y": _one_hot(rng, 5, classes=10), **weights}


def karate_gnn(rng, n=6):
    return {"A": rng.uniform(0.1, 1.0, (n, n)), "X": np.eye(n, 34), "Y": _one_hot(rng, n, classes=2),
            "M": (rng.random(n) < 0.5).astype(float), "Count": np.array(3.0),
            "W1": _nz(rng, 16, 34), "W2": _nz(rng, 2, 16) / 4}


def soft_datalog(rng):
    return {"Parent": (rng.random((8, 8)) < 0.2).astype(float), "Emb": _nz(rng, 8, 5) / 2, "Rel": _nz(rng, 5, 5) / 2}


def attention_lookup(rng, b=4):
    labels = _one_hot(rng, b, 6, classes=4)
    answer = labels[np.arange(b), rng.integers(6, size=b)]          # a label present in its sequence
    return {"Q": _nz(rng, b, 8), "X": _nz(rng, b, 6, 8), "Lab": labels, "Y": answer,
            "WQ": _nz(rng, 8, 8) / 4, "WK": _nz(rng, 8, 8) / 4}


def rnn_recall(rng, b=3, length=6):
    tokens = _one_hot(rng, b, length, classes=4).transpose(0, 2, 1)
    return {"In": tokens, "Y": np.roll(tokens, 3, axis=2), "M": (np.arange(length) >= 3).astype(float),
            "W": _nz(rng, 16, 16) / 8, "U": _nz(rng, 16, 4) / 2, "B": _nz(rng, 16) / 4, "V": _nz(rng, 4, 16) / 4}


BUILDERS = {f.__name__: f for f in (perceptron, mlp, deep_mlp, rnn, cnn, gnn, transformer, kernel, bayes,
                                    embedding, tucker, paths, digits_mlp, karate_gnn, soft_datalog, attention_lookup,
                                    rnn_recall)}


def build(name: str, seed: int = 0) -> dict[str, np.ndarray]:
    """The inputs for one example, generated from ``seed``."""
    return BUILDERS[name](np.random.default_rng(seed))


def main(out: Path = DATA) -> None:
    """Write every example's inputs to ``out/NAME.npz``."""
    out.mkdir(parents=True, exist_ok=True)
    for name in BUILDERS:
        np.savez(out / f"{name}.npz", **build(name))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)
