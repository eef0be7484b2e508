"""Train the paper's MLP (examples/digits_mlp.tl) on scikit-learn's bundled digits and report held-out accuracy.

Run: ``python examples/digits.py [--backend llvm] [--steps 300] [--write DIR]`` (needs scikit-learn: pip install
'tlc[examples]'). It splits the 1797 images 80/20 (stratified, seed 0), trains with full-batch Adam at lr 0.01 and
prints the held-out accuracy; ``--write DIR`` also writes DIR/digits_train.npz and DIR/digits_test.npz for
``tlc train`` and ``tlc run``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import tlc

PROGRAM = Path(__file__).resolve().parent / "digits_mlp.tl"


def split(seed: int = 0) -> tuple[dict, dict]:
    """Train and test data keyed by input name: X (pixels / 16) and Y (one-hot labels)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    x, labels = digits.data / 16.0, digits.target
    x_train, x_test, y_train, y_test = train_test_split(x, labels, test_size=0.2, random_state=seed,
                                                        stratify=labels)
    return {"X": x_train, "Y": np.eye(10)[y_train]}, {"X": x_test, "Y": np.eye(10)[y_test]}


def accuracy(params: dict, data: dict, backend: str = "numpy") -> float:
    """The fraction of ``data``'s images whose largest logit is the true digit."""
    logits = tlc.compile(PROGRAM, backend=backend)(**data, **params)["Z"]
    return float(np.mean(logits.argmax(1) == data["Y"].argmax(1)))


def main() -> None:
    """Write the data, train, print the loss, the time and the held-out accuracy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", metavar="DIR", help="also write the split to DIR/digits_{train,test}.npz")
    args = parser.parse_args()
    train, test = split()
    if args.write:
        Path(args.write).mkdir(parents=True, exist_ok=True)
        np.savez(Path(args.write) / "digits_train.npz", **train)
        np.savez(Path(args.write) / "digits_test.npz", **test)
    start = time.perf_counter()
    trained = tlc.train(PROGRAM, train, loss="L", opt="adam", lr=0.01, steps=args.steps, seed=args.seed,
                        backend=args.backend, progress=True)
    seconds = time.perf_counter() - start
    print(f"loss {trained.losses[0]:.4f} -> {trained.losses[-1]:.4f} in {args.steps} steps, {seconds:.1f} s "
          f"({args.steps / seconds:.0f} steps/s, {args.backend})")
    print(f"train accuracy {accuracy(trained.params, train, args.backend):.4f}, "
          f"test accuracy {accuracy(trained.params, test, args.backend):.4f}")


if __name__ == "__main__":
    main()
