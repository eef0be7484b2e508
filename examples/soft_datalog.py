"""Learn the embeddings of examples/soft_datalog.tl and check that, at temperature 0, the learned relation and the
rules over it (Grandparent, Ancestor) answer exactly like the Boolean program of examples/family.tl.

Run: ``python examples/soft_datalog.py [--steps 300]``: full-batch Adam at lr 0.05.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import tlc

HERE = Path(__file__).resolve().parent
PROGRAM = HERE / "soft_datalog.tl"
RELATIONS = ("Learned", "Grandparent", "Ancestor")


def parent() -> np.ndarray:
    """family.tl's Parent relation as a 0/1 matrix over its 8 people (in the domain's order)."""
    return np.asarray(tlc.compile(HERE / "family.tl")()["Parent"], dtype=float)


def boolean_answers() -> dict:
    """Parent, Grandparent and Ancestor as family.tl's Boolean program derives them (bool matrices)."""
    results = tlc.compile(HERE / "family.tl")()
    return {"Learned": np.asarray(results["Parent"]), "Grandparent": np.asarray(results["Grandparent"]),
            "Ancestor": np.asarray(results["Ancestor"])}


def learned_answers(params: dict, backend: str = "numpy") -> dict:
    """The relations of soft_datalog.tl at temperature 0, given the learned embeddings (bool matrices)."""
    results = tlc.compile(PROGRAM, backend=backend)(Parent=parent(), **params)
    return {name: np.asarray(results[name]) for name in RELATIONS}


def main() -> None:
    """Train, then compare every relation with the Boolean program's."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    trained = tlc.train(PROGRAM, {"Parent": parent()}, loss="L", opt="adam", lr=0.05, steps=args.steps,
                        seed=args.seed, progress=True)
    print(f"loss {trained.losses[0]:.4f} -> {trained.losses[-1]:.4f} in {args.steps} steps")
    expected, learned = boolean_answers(), learned_answers(trained.params)
    for name in RELATIONS:
        wrong = int((expected[name] != learned[name]).sum())
        print(f"{name}: {'same as the Boolean program' if not wrong else f'{wrong} pairs differ'}")


if __name__ == "__main__":
    main()
