"""Train the recurrent network of examples/rnn_recall.tl to recall the token three steps back; report held-out accuracy.

Run: ``python examples/rnn_recall.py [--steps 300] [--batch 64]``: Adam at lr 0.05 on minibatches.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import tlc

PROGRAM = Path(__file__).resolve().parent / "rnn_recall.tl"
DELAY = 3


def sequences(count: int, seed: int, length: int = 10, symbols: int = 4) -> dict:
    """``count`` random token sequences keyed by input name (see rnn_recall.tl)."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(symbols, size=(count, length))
    answer = np.roll(tokens, DELAY, axis=1)            # the token DELAY steps back (wrapped where M is 0)
    eye = np.eye(symbols)
    return {"In": eye[tokens].transpose(0, 2, 1), "Y": eye[answer].transpose(0, 2, 1),
            "M": (np.arange(length) >= DELAY).astype(float)}


def accuracy(params: dict, data: dict, backend: str = "numpy") -> float:
    """The fraction of answered steps (t >= DELAY) whose most probable symbol is the token DELAY steps back."""
    p = tlc.compile(PROGRAM, backend=backend, outputs=["P"])(**data, **params)["P"]
    right = p.argmax(1) == data["Y"].argmax(1)
    return float(right[:, DELAY:].mean())


def main() -> None:
    """Train on 2000 sequences, test on 500 others."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default="numpy")
    args = parser.parse_args()
    train, test = sequences(2000, seed=1), sequences(500, seed=2)
    trained = tlc.train(PROGRAM, train, loss="L", opt="adam", lr=0.05, steps=args.steps, batch=args.batch,
                        seed=args.seed, backend=args.backend, progress=True)
    print(f"loss {trained.losses[0]:.4f} -> {trained.losses[-1]:.4f} in {args.steps} steps of {args.batch}")
    print(f"held-out accuracy {accuracy(trained.params, test, args.backend):.4f} (chance 0.25)")


if __name__ == "__main__":
    main()
