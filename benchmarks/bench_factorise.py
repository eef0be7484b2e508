"""Benchmark the factorise pass: low-rank weights plus noise, the factorised program against the dense one.

Usage: python benchmarks/bench_factorise.py [--backend numpy|llvm] [--repeat N] [--small] [--json OUT]

For each weight (a 4096x4096 dense layer of rank 64, a Tucker-shaped 3-way tensor, a TT-shaped 4-way tensor,
each plus 1e-4 Gaussian noise) the same program is compiled twice on the same backend with the weight bound by
``weights=``: dense, and with ``factorise=`` (the anchor is the dense program, in the same run). Reported:
the achieved relative error against the budget, the relative difference of the outputs, the time to factorise
(once, at compile time), the best-of-N call time of each program and the speed-up, planned FLOPs and the
memory of the weight before and after.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Benchmark the working tree even when another tlc is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
import tlc  # noqa: E402
from tlc.analysis.contractions import equation_flops  # noqa: E402
from report import add_json_option, machine, write_json  # noqa: E402

NOISE = 1e-4


@dataclass(frozen=True)
class Case:
    """One weight, the program that uses it, and the factorisation asked for."""

    name: str
    source: str
    weight: str
    options: str
    make: object
    """``make(rng, small) -> dict`` of inputs (the weight included)."""


def dense_layer(rng, small):
    n, rank, batch = (1024, 32, 64) if small else (4096, 64, 256)
    w = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, n)) / math.sqrt(rank)
    return {"W": w + NOISE * rng.standard_normal(w.shape), "X": rng.standard_normal((n, batch))}


def tucker_tensor(rng, small):
    n, rank, batch = (48, 6, 32) if small else (128, 8, 64)
    core = rng.standard_normal((rank,) * 3)
    t = np.einsum("abc,ia,jb,kc->ijk", core, *(rng.standard_normal((n, rank)) for _ in range(3)))
    t /= np.linalg.norm(t) / math.sqrt(t.size)
    return {"T": t + NOISE * rng.standard_normal(t.shape), "X": rng.standard_normal((n, batch)),
            "Z": rng.standard_normal((n, batch))}


def tt_tensor(rng, small):
    n, ranks, batch = (12, (3, 4, 3), 32) if small else (32, (4, 6, 4), 64)
    bounds = (1, *ranks, 1)
    t = rng.standard_normal((1, n, bounds[1]))
    for k in range(1, 4):
        t = np.tensordot(t, rng.standard_normal((bounds[k], n, bounds[k + 1])), axes=(-1, 0))
    t = t.reshape((n,) * 4)
    t /= np.linalg.norm(t) / math.sqrt(t.size)
    return {"T": t + NOISE * rng.standard_normal(t.shape), "X": rng.standard_normal((n, batch)),
            "Z": rng.standard_normal((n, batch)), "V": rng.standard_normal((n, batch))}


CASES = [
    Case("dense-layer", "Y[i, b] = W[i, j] X[j, b]\n", "W", "rel_err=1e-3,method=svd,tensors=W", dense_layer),
    Case("tucker-3way", "Y[i, b] = T[i, j, k] X[j, b] Z[k, b]\n", "T", "rel_err=1e-3,method=tucker,tensors=T",
         tucker_tensor),
    Case("tt-4way", "Y[a, b] = T[a, j, k, l] X[j, b] Z[k, b] V[l, b]\n", "T", "rel_err=1e-3,method=tt,tensors=T",
         tt_tensor),
]


def best_time(fn, repeat: int) -> float:
    """Best wall time of ``repeat`` calls."""
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def planned_flops(program, inputs) -> float:
    """The planner's FLOPs for the program's single equation with these inputs."""
    spec = program.specialisation(**inputs)
    return equation_flops(program.ir.equations[0], spec.shapes.ranges[0])


def run_case(case: Case, backend: str, repeat: int, small: bool) -> dict:
    """Compile the dense and the factorised program, check agreement, time both."""
    inputs = case.make(np.random.default_rng(0), small)
    weight = {case.weight: inputs.pop(case.weight)}
    dense = tlc.compile(case.source, backend=backend, weights=weight)
    start = time.perf_counter()
    factorised = tlc.compile(case.source, backend=backend, weights=weight, factorise=case.options)
    factorise_seconds = time.perf_counter() - start
    outcome = factorised.weights.outcomes[0]
    found = outcome.decomposition
    expected, got = dense(**inputs)["Y"], factorised(**inputs)["Y"]
    output_error = float(np.linalg.norm(got - expected) / np.linalg.norm(expected))
    dense_time = factorised_time = math.inf
    for _ in range(repeat):        # interleaved, so drift hits both alike
        dense_time = min(dense_time, best_time(lambda: dense(**inputs), 1))
        factorised_time = min(factorised_time, best_time(lambda: factorised(**inputs), 1))
    flops_before, flops_after = planned_flops(dense, inputs), planned_flops(factorised, inputs)
    return {
        "name": case.name, "weight_shape": list(weight[case.weight].shape), "method": found.method,
        "ranks": list(found.ranks), "kept_dense": outcome.kept_dense, "budget": outcome.budget.rel_err,
        "achieved_error": found.rel_error, "output_rel_diff": output_error,
        "factorise_seconds": factorise_seconds, "dense_seconds": dense_time, "factorised_seconds": factorised_time,
        "speedup": dense_time / factorised_time, "flops_before": flops_before, "flops_after": flops_after,
        "memory_before_bytes": outcome.dense_elements * 8, "memory_after_bytes": found.elements * 8,
        "memory_saving": outcome.dense_elements / found.elements,
        "pass": found.rel_error <= outcome.budget.rel_err and outcome.kept_dense is None,
    }


def print_table(results: list[dict]) -> None:
    """One line per case."""
    print(f"{'case':<12} {'method':<7} {'ranks':<12} {'error/budget':>18} {'out diff':>9} {'factorise':>9} "
          f"{'dense':>9} {'factored':>9} {'speed-up':>8} {'FLOPs':>17} {'memory MiB':>16} {'saving':>7}")
    for r in results:
        print(f"{r['name']:<12} {r['method']:<7} {str(tuple(r['ranks'])):<12} "
              f"{r['achieved_error']:>9.2e}/{r['budget']:<8.0e} {r['output_rel_diff']:>9.2e} "
              f"{r['factorise_seconds']:>8.2f}s {r['dense_seconds']:>8.4f}s {r['factorised_seconds']:>8.4f}s "
              f"{r['speedup']:>7.1f}x {r['flops_before']:>8.2e}->{r['flops_after']:<8.2e} "
              f"{r['memory_before_bytes'] / 2**20:>7.2f}->{r['memory_after_bytes'] / 2**20:<7.2f} "
              f"{r['memory_saving']:>6.1f}x")


def main(argv: list[str] | None = None) -> int:
    """Run every case, print the table and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_json_option(parser, "factorise")
    parser.add_argument("--backend", choices=tlc.api.BACKENDS, default="numpy")
    parser.add_argument("--repeat", type=int, default=5, help="calls per program; the best is kept")
    parser.add_argument("--small", action="store_true", help="smaller weights (a quick check)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    results = [run_case(case, args.backend, args.repeat, args.small) for case in CASES]
    print_table(results)
    meta = {
        **machine(), "backend": args.backend, "repeat": args.repeat, "small": args.small, "noise": NOISE,
    }
    write_json(args.json, {"meta": meta, "cases": results}, start)
    return 0 if all(r["pass"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
