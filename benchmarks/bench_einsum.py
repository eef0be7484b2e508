"""Benchmark ``tlc.einsum`` against ``opt_einsum.contract`` and ``numpy.einsum`` in one run.

Usage: python benchmarks/bench_einsum.py [--json OUT] [--repeat N]

Every time is the best of N batches (timeit-style, the methods interleaved per batch so drift hits
all of them alike). "tlc first" is a call with an empty plan cache; "tlc" is the steady state.
The target is tlc <= 1.1x opt_einsum.contract on every case.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import opt_einsum
from opt_einsum.testing import rand_equation

# Benchmark the working tree even when another tlc is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tlc.einsum import contraction_plan, einsum  # noqa: E402
from report import add_json_option, machine, write_json  # noqa: E402

TARGET = 1.1  # tlc steady state / opt_einsum.contract
UNOPTIMISED_LIMIT = 2e7  # loop-nest points above which numpy.einsum(optimize=False) is too slow to time


@dataclass(frozen=True)
class Case:
    """One benchmarked call."""

    name: str
    subscripts: str
    shapes: list[tuple[int, ...]]


def _chain(sizes: list[int]) -> tuple[str, list[tuple[int, ...]]]:
    letters = "abcdefghij"[: len(sizes)]
    terms = [letters[i : i + 2] for i in range(len(sizes) - 1)]
    return ",".join(terms) + f"->{letters[0]}{letters[-1]}", list(zip(sizes, sizes[1:]))


def _network(regularity: int, seed: int) -> tuple[str, list[tuple[int, ...]]]:
    subscripts, shapes = rand_equation(10, regularity, n_out=2, d_min=2, d_max=8, seed=seed)
    return subscripts, [tuple(s) for s in shapes]


CASES = [
    Case("chain3", *_chain([300, 100, 500, 200])),
    Case("chain4", *_chain([100, 500, 200, 400, 150])),
    Case("chain5", *_chain([400, 120, 350, 250, 100, 300])),
    Case("matmul-256", "ij,jk->ik", [(256, 256), (256, 256)]),
    Case("attention", "bhqd,bhkd->bhqk", [(4, 8, 256, 64), (4, 8, 256, 64)]),
    Case("network-10", *_network(4, 1)),
    Case("network-10-small", *_network(3, 4)),
    Case("small-matmul", "ij,jk->ik", [(8, 8), (8, 8)]),
    Case("small-dot", "i,i->", [(16,), (16,)]),
    Case("small-diagonal", "ii->i", [(8, 8)]),
    Case("small-batched", "...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    Case("small-chain3", *_chain([8, 8, 8, 8])),
    Case("small-trace-chain", "ab,bc,cd,da->", [(6, 7), (7, 8), (8, 5), (5, 6)]),
]


def _per_call(fn: Callable[[], object], min_batch: float = 0.05) -> tuple[Callable[[], float], int]:
    """Return a timer for one batch of calls and the batch size that makes a batch take ``min_batch`` s."""
    start = time.perf_counter()
    fn()
    number = max(1, min(10_000, int(min_batch / max(time.perf_counter() - start, 1e-7))))

    def batch() -> float:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        return (time.perf_counter() - start) / number

    return batch, number


def _first_call(fn: Callable[[], object], repeat: int) -> float:
    """Best time of a call made with an empty plan cache."""
    best = math.inf
    for _ in range(repeat):
        contraction_plan.cache_clear()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run_case(case: Case, repeat: int) -> dict:
    """Time every method on one case and check that tlc agrees with opt_einsum."""
    rng = np.random.default_rng(0)
    arrays = [rng.uniform(0.5, 1.5, shape) for shape in case.shapes]
    methods: dict[str, Callable[[], object]] = {
        "tlc": lambda: einsum(case.subscripts, *arrays),
        "opt_einsum": lambda: opt_einsum.contract(case.subscripts, *arrays),
        "numpy_opt": lambda: np.einsum(case.subscripts, *arrays, optimize=True),
    }
    loop_points = math.prod(_index_sizes(case).values())
    if loop_points <= UNOPTIMISED_LIMIT:
        methods["numpy"] = lambda: np.einsum(case.subscripts, *arrays, optimize=False)

    first = _first_call(methods["tlc"], repeat)
    np.testing.assert_allclose(methods["tlc"](), methods["opt_einsum"](), rtol=1e-8)
    timers = {name: _per_call(fn) for name, fn in methods.items()}
    best = {name: math.inf for name in methods}
    for _ in range(repeat):
        for name, (batch, _) in timers.items():
            best[name] = min(best[name], batch())
    tlc = best["tlc"]
    return {
        "name": case.name,
        "subscripts": case.subscripts,
        "shapes": case.shapes,
        "seconds": {"tlc_first": first, **best},
        "first_call_overhead": first - tlc,
        "tlc_over_opt_einsum": tlc / best["opt_einsum"],
        "tlc_over_numpy_opt": tlc / best["numpy_opt"],
        "tlc_over_numpy": tlc / best["numpy"] if "numpy" in best else None,
        "pass": tlc <= TARGET * best["opt_einsum"],
    }


def _index_sizes(case: Case) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for term, shape in zip(case.subscripts.split("->")[0].split(","), case.shapes):
        for c, n in zip(term.replace("...", ""), shape[len(shape) - len(term.replace("...", "")) :]):
            sizes[c] = max(sizes.get(c, 1), n)
    return sizes


def _fmt(seconds: float | None) -> str:
    if seconds is None or math.isinf(seconds):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def print_table(results: list[dict]) -> None:
    """Print one row per case: times, ratios and the verdict against the target."""
    header = ("case", "tlc first", "overhead", "tlc", "opt_einsum", "np opt", "np", "tlc/oe", "tlc/np-opt",
              "tlc/np", f"<= {TARGET}x oe")
    rows = [header]
    for r in results:
        s = r["seconds"]
        rows.append((
            r["name"], _fmt(s["tlc_first"]), _fmt(max(0.0, r["first_call_overhead"])), _fmt(s["tlc"]),
            _fmt(s["opt_einsum"]), _fmt(s["numpy_opt"]), _fmt(s.get("numpy")),
            f"{r['tlc_over_opt_einsum']:.2f}", f"{r['tlc_over_numpy_opt']:.2f}",
            "-" if r["tlc_over_numpy"] is None else f"{r['tlc_over_numpy']:.2f}",
            "PASS" if r["pass"] else "FAIL",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:])]
        print("  ".join(cells))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    passed = sum(r["pass"] for r in results)
    print(f"\n{passed}/{len(results)} cases PASS (tlc steady state <= {TARGET}x opt_einsum.contract)")


def main(argv: list[str] | None = None) -> int:
    """Run every case, print the table and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_json_option(parser, "einsum")
    parser.add_argument("--repeat", type=int, default=7, help="batches per method; the best is kept")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    results = [run_case(case, args.repeat) for case in CASES]
    print_table(results)
    meta = {
        **machine(opt_einsum=opt_einsum.__version__), "repeat": args.repeat, "target": TARGET,
    }
    write_json(args.json, {"meta": meta, "cases": results}, start)
    return 0 if all(r["pass"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
