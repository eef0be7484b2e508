"""Benchmark ``tlc.fuzz``: programs per second generated, and generated + checked by the oracle; coverage
reached per 1,000 programs with and without guidance.

Usage: python benchmarks/bench_fuzz.py [--programs N] [--coverage N] [--json OUT]

"generation" draws ``tlc.fuzz.cases()`` (program + inputs) through Hypothesis; "generation+oracle" also
runs ``tlc.fuzz.check`` on every available backend x opt level (the NumPy -O0 reference included).
Coverage counts distinct IR/emitted-code features and lines of ``tlc``/``tlc_runtime`` executed while
compiling and running at -O0 (see ``tlc/fuzz/coverage.py``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

# Benchmark the working tree even when another tlc is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))

import hypothesis  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

import tlc.fuzz  # noqa: E402
from tlc.fuzz.coverage import measure  # noqa: E402
from tlc.fuzz.oracle import available_backends, configurations  # noqa: E402
from report import add_json_option, machine, write_json  # noqa: E402


def rate(count: int, with_oracle: bool, seed_value: int) -> dict:
    """Programs per second over ``count`` generated cases."""
    checked = {"programs": 0, "failures": 0, "equations": 0}

    @settings(max_examples=count, database=None, deadline=None, phases=(Phase.generate,),
              suppress_health_check=list(HealthCheck))
    @given(tlc.fuzz.cases())
    def body(case):
        program, inputs = case
        checked["programs"] += 1
        checked["equations"] += len(program.ir.equations)
        if with_oracle:
            checked["failures"] += not tlc.fuzz.check(program, inputs, timeout=60).ok

    start = time.perf_counter()
    seed(seed_value)(body)()
    seconds = time.perf_counter() - start
    return {"programs": checked["programs"], "seconds": round(seconds, 2),
            "programs_per_second": round(checked["programs"] / seconds, 2),
            "mean_equations": round(checked["equations"] / max(1, checked["programs"]), 2),
            **({"programs_failing": checked["failures"]} if with_oracle else {})}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=300, help="programs per rate measurement (default 300)")
    parser.add_argument("--coverage", type=int, default=1000, help="programs per coverage run (0 to skip)")
    parser.add_argument("--seed", type=int, default=1)
    add_json_option(parser, "fuzz")
    args = parser.parse_args(argv)
    wall = time.perf_counter()
    results = {"generation": rate(args.programs, False, args.seed),
               "generation+oracle": rate(args.programs, True, args.seed)}
    configs = 1 + len(configurations())      # the reference, the other opt levels, other pass orders
    for name, r in results.items():
        print(f"{name:18s} {r['programs_per_second']:7.1f} programs/s  ({r['programs']} programs, "
              f"{r['seconds']} s, {r['mean_equations']} equations each)")
    print(f"{'':18s} oracle: {configs} runs per program ({', '.join(available_backends())} x -O0..3, "
          f"plus other orders of the -O3 passes)")
    coverage = {}
    if args.coverage:
        for guided in (False, True):
            run = measure(args.coverage, guided=guided, seed=args.seed, step=max(1, args.coverage // 4))
            key = "guided" if guided else "unguided"
            coverage[key] = {"programs": run.programs, "seconds": round(run.seconds, 1),
                             "features": len(run.features), "lines": len(run.lines),
                             "curve": [{"programs": p, "features": f, "lines": l} for p, f, l in run.curve]}
            print(f"coverage {key:9s} {run.programs} programs: {len(run.features)} features, "
                  f"{len(run.lines)} lines of tlc/tlc_runtime ({run.seconds:.0f} s)")
    meta = {**machine(hypothesis=hypothesis.__version__), "backends": list(available_backends()),
            "oracle_runs_per_program": configs}
    write_json(args.json, {"meta": meta, "rates": results, "coverage": coverage}, wall)
    return 0


if __name__ == "__main__":
    sys.exit(main())
