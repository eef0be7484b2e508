"""Train the attention lookup of examples/attention_lookup.tl on random sequences and report held-out accuracy.

Run: ``python examples/attention_lookup.py [--steps 300] [--batch 64]``: Adam at lr 0.05 on minibatches.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import tlc

PROGRAM = Path(__file__).resolve().parent / "attention_lookup.tl"


def sequences(count: int, seed: int, items: int = 6, features: int = 8, labels: int = 4) -> dict:
    """``count`` random lookups keyed by input name (see attention_lookup.tl); the query is the target item's key
    plus noise of a quarter of its scale."""
    rng = np.random.default_rng(seed)
    keys = rng.normal(size=(count, items, features))
    label = rng.integers(labels, size=(count, items))
    target = rng.integers(items, size=count)
    query = keys[np.arange(count), target] + 0.25 * rng.normal(size=(count, features))
    return {"Q": query, "X": keys, "Lab": np.eye(labels)[label], "Y": np.eye(labels)[label[np.arange(count), target]]}


def accuracy(params: dict, data: dict, backend: str = "numpy") -> float:
    """The fraction of lookups whose most attended label is the answer."""
    answer = tlc.compile(PROGRAM, backend=backend)(**data, **params)["O"]
    return float(np.mean(answer.argmax(1) == data["Y"].argmax(1)))


def main() -> None:
    """Train on 2000 sequences, test on 500 others."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    train, test = sequences(2000, seed=1), sequences(500, seed=2)
    trained = tlc.train(PROGRAM, train, loss="L", opt="adam", lr=0.05, steps=args.steps, batch=args.batch,
                        seed=args.seed, progress=True)
    print(f"loss {trained.losses[0]:.4f} -> {trained.losses[-1]:.4f} in {args.steps} steps of {args.batch}")
    print(f"held-out accuracy {accuracy(trained.params, test):.4f} (chance 0.25)")


if __name__ == "__main__":
    main()
