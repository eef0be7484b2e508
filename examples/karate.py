"""Train the GNN of examples/karate_gnn.tl on networkx's karate club from two labelled members per club.

Run: ``python examples/karate.py [--backend llvm] [--steps 200]``: full-batch Adam at lr 0.01, then the
accuracy on the 30 members whose club the training did not see.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import networkx as nx
import numpy as np

import tlc

PROGRAM = Path(__file__).resolve().parent / "karate_gnn.tl"
LABELLED = (0, 1, 32, 33)
"""The members whose club training sees: the two leaders (0 and 33) and one close friend of each."""


def data() -> dict:
    """The program's inputs keyed by name (see karate_gnn.tl)."""
    graph = nx.karate_club_graph()
    adjacency = nx.to_numpy_array(graph, nodelist=range(34)) > 0
    loops = adjacency + np.eye(34)
    scale = 1.0 / np.sqrt(loops.sum(1))
    clubs = np.array([graph.nodes[n]["club"] != "Mr. Hi" for n in range(34)], dtype=int)
    mask = np.zeros(34)
    mask[list(LABELLED)] = 1.0
    return {"A": scale[:, None] * loops * scale[None, :], "X": np.eye(34), "Y": np.eye(2)[clubs], "M": mask,
            "Count": float(len(LABELLED))}


def held_out_accuracy(params: dict, inputs: dict, backend: str = "numpy") -> float:
    """The fraction of unlabelled members whose predicted club is right."""
    scores = tlc.compile(PROGRAM, backend=backend)(**inputs, **params)["Z"]
    unseen = inputs["M"] == 0
    return float(np.mean(scores.argmax(1)[unseen] == inputs["Y"].argmax(1)[unseen]))


def main() -> None:
    """Train and print the loss and the held-out accuracy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    inputs = data()
    trained = tlc.train(PROGRAM, inputs, loss="L", opt="adam", lr=0.01, steps=args.steps, seed=args.seed,
                        backend=args.backend, progress=True)
    print(f"loss {trained.losses[0]:.4f} -> {trained.losses[-1]:.4f} in {args.steps} steps")
    print(f"held-out accuracy {held_out_accuracy(trained.params, inputs, args.backend):.4f} "
          f"({34 - len(LABELLED)} unlabelled members)")


if __name__ == "__main__":
    main()
