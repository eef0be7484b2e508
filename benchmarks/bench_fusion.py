"""Benchmark the ``fuse`` pass: the same program with its intermediates as results (nothing fuses) and with
only the last tensor as output (``outputs=``: every intermediate read once joins its reader), in one run.

Usage: python benchmarks/bench_fusion.py [--json OUT] [--repeat N] [--quick]

Times are the best of N calls of the compiled program (inputs prepared alike); peak memory is the largest
traced allocation during one call (tracemalloc, which sees NumPy's buffers). Ratio = unfused / fused
(> 1: fusion pays). Target (issue 4): on the llvm backend, where an equation is one kernel, the fused
elementwise chain is >= 1.5x faster and needs less memory; the NumPy backend is reported for reference.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

# Benchmark the working tree even when another tlc is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
import tlc  # noqa: E402
from report import add_json_option, machine, write_json  # noqa: E402

CHAIN = """\
H[i] = A[i] B[i] + C[i]
G[i] = relu(H[i])
E[i] = exp(-G[i])
Y[i] = E[i] D[i] + B[i] / 2
"""
LAYER = """\
H[b, i] = W[i, j] X[b, j] + Bias[i]
G[b, i] = relu(H[b, i])
Y[b, i] = G[b, i] * S[i]
"""


def cases(quick: bool):
    rng = np.random.default_rng(0)
    n = 1_000_000 if quick else 10_000_000
    chain = {k: rng.uniform(-1, 1, n) for k in "ABCD"}
    batch, width = (128, 256) if quick else (1024, 1024)
    layer = {"W": rng.standard_normal((width, width)), "X": rng.standard_normal((batch, width)),
             "Bias": rng.standard_normal(width), "S": rng.uniform(0.5, 1.5, width)}
    return [("elementwise chain (4 equations)", CHAIN, chain, 1.5), ("dense layer + relu + scale", LAYER, layer, None)]


def measure(source: str, inputs: dict, backend: str, outputs, repeat: int) -> tuple[float, int, dict]:
    """Best time, peak traced bytes of one call, and the results."""
    program = tlc.compile(source, backend=backend, outputs=outputs)
    results = program(**inputs)                       # compile and warm up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        program(**inputs)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    program(**inputs)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return min(times), peak, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_json_option(parser, "fusion")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    args = parser.parse_args()
    backends = ["numpy"] + (["llvm"] if importlib.util.find_spec("llvmlite") else [])
    rows, ok = [], True
    print(f"{'case':34} {'backend':8} {'unfused s':>10} {'fused s':>9} {'x':>6} {'peak MiB':>17}  target")
    for name, source, inputs, target in cases(args.quick):
        for backend in backends:
            t0, m0, r0 = measure(source, inputs, backend, None, args.repeat)
            t1, m1, r1 = measure(source, inputs, backend, ["Y"], args.repeat)
            np.testing.assert_allclose(r1["Y"], r0["Y"], rtol=1e-9, atol=1e-12)
            ratio = t0 / t1
            verdict = ""
            if target and backend == "llvm":
                passed = ratio >= target and m1 < m0
                ok &= passed
                verdict = f">={target}x, less memory {'PASS' if passed else 'FAIL'}"
            print(f"{name:34} {backend:8} {t0:10.4f} {t1:9.4f} {ratio:6.2f} {m0 / 2**20:8.1f} -> {m1 / 2**20:6.1f}"
                  f"  {verdict}")
            rows.append({"case": name, "backend": backend, "unfused_s": t0, "fused_s": t1, "speedup": ratio,
                         "unfused_peak_bytes": m0, "fused_peak_bytes": m1, "target": target, "verdict": verdict})
    print('all targets PASS' if ok else 'some target FAILED')
    write_json(args.json, {"machine": machine(), "rows": rows})


if __name__ == "__main__":
    main()
