"""Benchmark the memory-budget check: the same programs compiled with the default budget and with
``memory_limit="none"`` (no check, no slicing limit), in one run.

Usage: python benchmarks/bench_budget.py [--json OUT] [--repeat N] [--quick]

The programs are those of bench_einsum (contractions written as equations), bench_fusion (the elementwise chain and
the dense layer, with and without ``outputs=``) and bench_llvm (fused chains, BLAS layer, convolution, softmax,
Boolean join), on the NumPy backend and, when llvmlite is installed, the llvm backend. Per case:

- first call: ``tlc.compile`` + the first call (parse, passes, specialisation with the check, emission, run), the
  best of N fresh programs (load only adds time), the two variants interleaved (warm JIT and plan caches for both);
- steady state: the best of N batches of calls on one program (specialisations are cached, so no check runs);
- check: the best time of ``tlc.analysis.budget.check_budget`` itself on the case's specialisation (best, like the
  first call), and its share of the default first call. Target: < 2% on every case (the ratios of whole calls move
  with machine load by more than the check costs; they are reported alongside).

Times are CPU seconds of this process (``time.process_time``, all its threads): on a shared machine wall time
mostly measures the neighbours' load.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import numpy as np

# Benchmark the working tree even when another tlc is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
import tlc  # noqa: E402
from tlc.analysis.budget import check_budget  # noqa: E402
from report import add_json_option, machine, write_json  # noqa: E402

TARGET = 0.02
"""The check's own time as a share of compile + first call."""
CLOCK = time.process_time


def _equation(subscripts: str, shapes, rng) -> tuple[str, dict]:
    """``ij,jk->ik`` as ``Y[i, k] = T0[i, j] T1[j, k]`` with random inputs of ``shapes``."""
    inputs, output = subscripts.split("->")
    names: dict[str, str] = {}

    def index(c: str) -> str:
        return names.setdefault(c, c if "a" <= c <= "z" else f"x{len(names)}")

    factors, data = [], {}
    for k, (term, shape) in enumerate(zip(inputs.split(","), shapes)):
        factors.append(f"T{k}[{', '.join(index(c) for c in term)}]")
        data[f"T{k}"] = rng.random(shape)
    lhs = f"Y[{', '.join(index(c) for c in output)}]" if output else "Y"
    return f"{lhs} = {' '.join(factors)}\n", data


def cases(quick: bool) -> list[tuple[str, str, dict, dict]]:
    """(name, source, inputs, compile options)."""
    rng = np.random.default_rng(0)
    out = []
    from opt_einsum.testing import rand_equation
    network, shapes = rand_equation(10, 4, n_out=2, d_min=2, d_max=8, seed=1)
    scale = 4 if quick else 1
    for name, subscripts, shapes in [
        ("einsum chain3", "ab,bc,cd->ad", [(300 // scale, 100), (100, 500 // scale), (500 // scale, 200)]),
        ("einsum attention", "bhqd,bhkd->bhqk", [(4, 8, 256 // scale, 64), (4, 8, 256 // scale, 64)]),
        ("einsum network-10", network, [tuple(s) for s in shapes]),
        ("einsum small-matmul", "ij,jk->ik", [(8, 8), (8, 8)]),
        ("einsum small-trace-chain", "ab,bc,cd,da->", [(6, 7), (7, 8), (8, 5), (5, 6)]),
    ]:
        source, data = _equation(subscripts, shapes, rng)
        out.append((name, source, data, {}))
    n = 100_000 if quick else 1_000_000
    chain = {k: rng.uniform(-1, 1, n) for k in "ABCD"}
    batch, width = (64, 128) if quick else (256, 512)
    layer = {"W": rng.standard_normal((width, width)), "X": rng.standard_normal((batch, width)),
             "Bias": rng.standard_normal(width), "S": rng.uniform(0.5, 1.5, width)}
    fusion_chain = "H[i] = A[i] B[i] + C[i]\nG[i] = relu(H[i])\nE[i] = exp(-G[i])\nY[i] = E[i] D[i] + B[i] / 2\n"
    fusion_layer = "H[b, i] = W[i, j] X[b, j] + Bias[i]\nG[b, i] = relu(H[b, i])\nY[b, i] = G[b, i] * S[i]\n"
    out += [("fusion chain", fusion_chain, chain, {}), ("fusion chain, outputs=Y", fusion_chain, chain,
                                                        {"outputs": ["Y"]}),
            ("fusion layer", fusion_layer, layer, {}), ("fusion layer, outputs=Y", fusion_layer, layer,
                                                        {"outputs": ["Y"]})]
    m = 128 if quick else 512
    image, filt = rng.standard_normal((m, m)), rng.standard_normal((5, 5))
    r, s = rng.random((m, m)) < 0.02, rng.random((m, m)) < 0.02
    out += [("llvm relu(A B + C) D", "Y[i] = relu(A[i] B[i] + C[i]) * D[i]\n", chain, {}),
            ("llvm dense layer", "H[b, i] = relu(W[i, j] X[b, j] + B[i])\n",
             {"W": layer["W"], "X": layer["X"], "B": layer["Bias"]}, {}),
            ("llvm convolution", "Conv[x, y] = Image[x+dx, y+dy] Filter[dx, dy]\n", {"Image": image, "Filter": filt},
             {}),
            ("llvm softmax", "Y[i, j.] = softmax(L[i, j])\n", {"L": rng.standard_normal((m, m))}, {}),
            ("llvm Boolean join", "C(x, z) = R(x, y) S(y, z)\n", {"R": r, "S": s}, {})]
    return out


def first_calls(source: str, inputs: dict, backend: str, options: dict, repeat: int) -> dict[str, float]:
    """Best compile + first call per variant, the variants alternating (and swapping order) every round."""
    times: dict[str, list[float]] = {"default": [], "none": []}
    limits = {"default": {}, "none": {"memory_limit": "none"}}
    for round_ in range(repeat + 1):
        order = ("default", "none") if round_ % 2 else ("none", "default")
        for variant in order:
            start = CLOCK()
            tlc.compile(source, backend=backend, **options, **limits[variant])(**inputs)
            if round_:      # round 0 warms the JIT and plan caches for both
                times[variant].append(CLOCK() - start)
    return {v: min(t) for v, t in times.items()}


def steady(source: str, inputs: dict, backend: str, options: dict, repeat: int) -> dict[str, float]:
    """Best per-call time of batches on one program per variant (interleaved batches)."""
    programs = {"default": tlc.compile(source, backend=backend, **options),
                "none": tlc.compile(source, backend=backend, **options, memory_limit="none")}
    for program in programs.values():
        program(**inputs)
    start = CLOCK()
    programs["default"](**inputs)
    number = max(1, min(2000, int(0.05 / max(CLOCK() - start, 1e-7))))
    best = {v: float("inf") for v in programs}
    for _ in range(repeat):
        for variant, program in programs.items():
            start = CLOCK()
            for _ in range(number):
                program(**inputs)
            best[variant] = min(best[variant], (CLOCK() - start) / number)
    return best


def check_cost(source: str, inputs: dict, backend: str, options: dict) -> float:
    """Best seconds of one budget check on this case's specialisation."""
    program = tlc.compile(source, backend=backend, **options)
    spec = program.specialisation(**inputs)
    runs = []
    for _ in range(51):
        start = CLOCK()
        check_budget(program.ir, program.strata, spec.shapes, spec.plan, program.budget)
        runs.append(CLOCK() - start)
    return min(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_json_option(parser, "budget")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    args = parser.parse_args()
    wall = time.perf_counter()
    backends = ["numpy"] + (["llvm"] if importlib.util.find_spec("llvmlite") else [])
    budget = tlc.compile("Y = 1").budget
    print(f"default budget: {budget.describe()}")
    print(f"{'case':28} {'backend':7} {'first s':>8} {'x none':>7} {'steady ms':>10} {'x none':>7} "
          f"{'check us':>9} {'share':>7}")
    rows, ok = [], True
    with np.errstate(all="ignore"):
        for name, source, inputs, options in cases(args.quick):
            for backend in backends:
                first = first_calls(source, inputs, backend, options, args.repeat)
                calls = steady(source, inputs, backend, options, args.repeat)
                cost = check_cost(source, inputs, backend, options)
                share = cost / first["default"]
                ok &= share < TARGET
                rows.append({"case": name, "backend": backend, "first_call_s": first,
                             "first_call_ratio": first["default"] / first["none"], "steady_s": calls,
                             "steady_ratio": calls["default"] / calls["none"], "check_s": cost,
                             "check_share_of_first_call": share, "pass": share < TARGET})
                print(f"{name:28} {backend:7} {first['default']:8.4f} {first['default'] / first['none']:7.3f} "
                      f"{calls['default'] * 1e3:10.3f} {calls['default'] / calls['none']:7.3f} {cost * 1e6:9.1f} "
                      f"{share:7.2%}")
    first_ratios = [r["first_call_ratio"] for r in rows]
    steady_ratios = [r["steady_ratio"] for r in rows]
    worst = max(r["check_share_of_first_call"] for r in rows)
    print(f"first call default/none: median {statistics.median(first_ratios):.3f} (range {min(first_ratios):.3f}-"
          f"{max(first_ratios):.3f}); steady state: median {statistics.median(steady_ratios):.3f} (range "
          f"{min(steady_ratios):.3f}-{max(steady_ratios):.3f})")
    print(f"budget check: at most {worst:.2%} of compile + first call (target < {TARGET:.0%}): "
          f"{'PASS' if ok else 'FAIL'}")
    out = {"machine": machine(),
           "default_budget_bytes": budget.bytes, "repeat": args.repeat, "quick": args.quick, "cases": rows,
           "first_call_ratio_median": statistics.median(first_ratios),
           "steady_ratio_median": statistics.median(steady_ratios), "worst_check_share": worst, "pass": ok}
    write_json(args.json, out, wall)


if __name__ == "__main__":
    main()
