"""Benchmark ``tlc_runtime.contract`` (numpy.einsum along tlc's planned path, what emitted code calls)
against ``opt_einsum.contract`` along the same path (what emitted code called before), on the cases of
``bench_einsum.py`` plus a dense layer.

Usage: python benchmarks/bench_runtime_contract.py [--json OUT] [--repeat N]

Both are given the same path, so this measures the per-call overhead and the pairwise kernels (BLAS
through ``tensordot`` or ``einsum``), not path search. Times are the best of N batches, the two methods
interleaved per batch so machine load hits both alike; results are checked equal first.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import opt_einsum

# Benchmark the working tree even when another tlc is installed.
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "runtime"), str(ROOT / "benchmarks")]
import tlc_runtime as rt  # noqa: E402
from bench_einsum import CASES, Case  # noqa: E402
from tlc.contract import contract_path  # noqa: E402
from report import add_json_option, machine, write_json

EXTRA = [Case("dense-layer", "bj,ij->bi", [(256, 512), (1024, 512)]),
         Case("small-three", "ij,jk,k->i", [(8, 8), (8, 8), (8,)])]


def run_case(case: Case, repeat: int) -> dict:
    """Best-of-``repeat`` seconds per call for both methods on one case."""
    rng = np.random.default_rng(0)
    ops = [rng.random(s) for s in case.shapes]
    path = list(contract_path(case.subscripts, *case.shapes, shapes=True)[0])
    methods = {"opt_einsum": lambda: opt_einsum.contract(case.subscripts, *ops, optimize=path),
               "rt.contract": lambda: rt.contract(case.subscripts, *ops, optimize=path)}
    want = methods["opt_einsum"]()
    np.testing.assert_allclose(methods["rt.contract"](), want, rtol=1e-10, atol=1e-12 * float(np.abs(want).max()))
    start = time.perf_counter()
    methods["opt_einsum"]()
    number = max(1, min(2000, int(0.02 / max(time.perf_counter() - start, 1e-7))))
    best = dict.fromkeys(methods, float("inf"))
    for _ in range(repeat):
        for name, fn in methods.items():
            start = time.perf_counter()
            for _ in range(number):
                fn()
            best[name] = min(best[name], (time.perf_counter() - start) / number)
    return {"case": case.name, "subscripts": case.subscripts, **best,
            "ratio": best["rt.contract"] / best["opt_einsum"]}


def main(argv=None) -> int:
    """Run every case, print the table and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_json_option(parser, "runtime_contract")
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = [run_case(case, args.repeat) for case in [*CASES, *EXTRA] if len(case.shapes) > 1]
    print(f"{'case':18s} {'opt_einsum':>12s} {'rt.contract':>12s} {'rt/oe':>6s}")
    for r in results:
        print(f"{r['case']:18s} {r['opt_einsum'] * 1e6:10.1f}us {r['rt.contract'] * 1e6:10.1f}us {r['ratio']:6.2f}")
    write_json(args.json, {"meta": machine(opt_einsum=opt_einsum.__version__), "cases": results}, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
