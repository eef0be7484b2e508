"""Benchmark how fast a failing recursion is reported: a negative cycle through every node of a 200-node graph
(``D[x,z] min= D[x,y] + W[y,z]``), a gaining cycle for max-plus, and a 300x300 matrix recursion that oscillates.

Usage: python benchmarks/bench_convergence.py [--json OUT] [--backend B]... [--nodes N]

Each case is timed once per backend after compiling (time to the located TlcError), with the rounds the stated
rule allows; the anchor is scipy.sparse.csgraph.bellman_ford on the same graph (it raises NegativeCycleError) in
the same run. "old rounds" is what the rule before issue 5 allowed (one round per element plus one; 10,000 for a
sum), and "old estimate" that count times this run's measured time per round (a lower bound for NumPy, whose old
loop ran the min-plus fold unblocked, about 4x slower per round at 200 nodes).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

# Benchmark the working tree even when another tlc is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
import tlc  # noqa: E402
from report import add_json_option, machine, write_json  # noqa: E402

SHORTEST = "D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] + W[y, z]"
LONGEST = "L[x, z] max= G[x, z]\nL[x, z] max= L[x, y] + G[y, z]"
OSCILLATES = "X[i, j] = B[i, j] - P[i, k] X[k, j]"


def ring(n: int, weight: float, none: float) -> np.ndarray:
    w = np.full((n, n), none)
    w[np.arange(n), (np.arange(n) + 1) % n] = weight
    return w


def cases(n: int):
    negative = ring(n, 1.0, np.inf)
    negative[n - 1, 0] = -1.5 * n
    p = np.eye(300)[::-1].copy()
    b = np.random.default_rng(0).random((300, 300))
    return [("negative cycle", SHORTEST, {"W": negative}, n * n + 1, negative),
            ("gaining cycle (max-plus)", LONGEST, {"G": ring(n, 1.0, -np.inf)}, n * n + 1, None),
            ("300x300 oscillation", OSCILLATES, {"P": p, "B": b + p @ b}, 10_000, None)]


def time_error(source: str, inputs: dict, backend: str) -> tuple[float, str]:
    program = tlc.compile(source, backend=backend)
    program.specialisation(**inputs)             # emit and compile first: time the run only
    start = time.perf_counter()
    try:
        program(**inputs)
        message = "(no error)"
    except tlc.TlcError as err:
        message = str(err).splitlines()[0]
    return time.perf_counter() - start, message


def round_time(source: str, inputs: dict, backend: str, rounds: int = 5) -> float:
    """Seconds per round of the same loop, from a run stopped by max_rounds."""
    program = tlc.compile(source, backend=backend, max_rounds=rounds)
    program.specialisation(**inputs)
    start = time.perf_counter()
    try:
        program(**inputs)
    except tlc.TlcError:
        pass
    return (time.perf_counter() - start) / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_json_option(parser, "convergence")
    parser.add_argument("--backend", action="append")
    parser.add_argument("--nodes", type=int, default=200)
    args = parser.parse_args()
    backends = args.backend or ["numpy"] + (["llvm"] if importlib.util.find_spec("llvmlite") else [])
    rows = []
    for name, source, inputs, old_rounds, graph in cases(args.nodes):
        anchor = None
        if graph is not None:
            from scipy.sparse.csgraph import NegativeCycleError, bellman_ford, csgraph_from_dense
            start = time.perf_counter()
            try:
                bellman_ford(csgraph_from_dense(graph, null_value=np.inf), directed=True)
            except NegativeCycleError:
                pass
            anchor = time.perf_counter() - start
        for backend in backends:
            seconds, message = time_error(source, inputs, backend)
            per_round = round_time(source, inputs, backend) if name != "300x300 oscillation" else \
                round_time(source.replace("B[i, j] -", "B[i, j] + 0.5"), inputs, backend)
            row = {"case": name, "backend": backend, "seconds": seconds, "message": message,
                   "old_rounds": old_rounds, "per_round": per_round, "old_estimate": old_rounds * per_round,
                   "scipy_bellman_ford": anchor}
            rows.append(row)
            extra = f", scipy bellman_ford {anchor:.3f} s" if anchor is not None else ""
            print(f"{name:28s} {backend:6s} {seconds:7.2f} s  (old rule: {old_rounds} rounds, "
                  f"~{old_rounds * per_round:.0f} s{extra})\n    {message}")
    write_json(args.json, {"machine": machine(), "nodes": args.nodes, "rows": rows})


if __name__ == "__main__":
    main()
