"""Where a native closure run's time goes, per phase, with one thread and with two.

Usage: python benchmarks/bench_closure_phases.py [--threads 1,2] [--repeat N] [--json OUT]

On the graphs of ``bench_closure.py`` whose closure fits as bitset rows (chain of 3,000, 60×60 grid, random 2,000 /
10,000, random DAG 16,384 / 160,000), each phase of ``tlc_runtime.reach.closure_rows`` with the llvm backend's
``ClosureKernel`` is timed alone (best of ``--repeat``, wall milliseconds): the step's CSR (``edge_csr``), scipy's
strong components, the condensation, the sinks-first order, the bitset rows' start (zeroing and member bits), the
OR loop, the whole bitset stage (``_native_reach``), the expansion to the dense result (``rows``), and the whole
``tlc_runtime.sparse.closure`` call; the share of the two threaded phases (loop and expansion) bounds what a second
thread can gain. The load average is printed: the machine is shared, so figures taken under load say so.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmark the working tree
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
from bench_closure import chain, grid, matrix, random_dag, random_graph  # noqa: E402
from report import add_json_option, machine, write_json  # noqa: E402

GRAPHS = {"chain-3k": lambda: chain(3000), "grid-60": lambda: grid(60),
          "random-2k": lambda: random_graph(2000, 10_000), "dag-16k": lambda: random_dag(16_384, 160_000)}


def best_ms(run, repeat: int) -> float:
    """The best wall time of ``run()`` over ``repeat`` calls, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def phases(n: int, edges: np.ndarray, kernel, repeat: int) -> dict[str, float]:
    """Milliseconds per phase of the native closure of the graph (see the module docstring)."""
    from scipy.sparse.csgraph import connected_components
    from tlc_runtime import reach
    from tlc_runtime.sparse import Tuples, closure

    step = Tuples.from_matrix(matrix(n, edges), (n, n))
    csr = step.csr()
    out = {"edge_csr": best_ms(lambda: reach.edge_csr(csr), repeat)}
    graph = reach.edge_csr(csr)
    out["components"] = best_ms(lambda: connected_components(graph, directed=True, connection="strong"), repeat)
    count, labels = connected_components(graph, directed=True, connection="strong")
    labels = labels.astype(np.int64)
    source = labels[np.repeat(np.arange(n, dtype=np.int64), np.diff(graph.indptr))]
    target = labels[graph.indices.astype(np.int64)]
    out["condense"] = best_ms(lambda: reach.condensed(count, source, target), repeat)
    indptr, successors = reach.condensed(count, source, target)
    out["order"] = best_ms(lambda: reach.sinks_first(count, indptr, successors), repeat)
    order = np.asarray(reach.sinks_first(count, indptr, successors), dtype=np.int64)
    nodes = np.arange(n, dtype=np.int64)
    bits = np.left_shift(np.uint64(1), (nodes % reach.WORD).astype(np.uint64))

    def start():
        closed = np.zeros((count, (n + reach.WORD - 1) // reach.WORD), dtype=np.uint64)
        np.bitwise_or.at(closed, (labels, nodes // reach.WORD), bits)
        return closed

    out["start"] = best_ms(start, repeat)
    loops = []
    for _ in range(repeat):
        closed = start()
        begin = time.perf_counter()
        kernel(closed, order, indptr, successors)
        loops.append(time.perf_counter() - begin)
    out["loop"] = min(loops) * 1e3
    out["bitsets"] = best_ms(lambda: reach._native_reach(count, labels, source, target, kernel), repeat)
    closed = reach._native_reach(count, labels, source, target, kernel)
    out["rows"] = best_ms(lambda: kernel.rows(closed, labels, n), repeat)
    out["closure"] = best_ms(lambda: closure(step, kernel), repeat)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per phase, best taken (default: %(default)s)")
    add_json_option(parser, "closure_phases")
    args = parser.parse_args()
    from tlc.backends.llvm.jit import jit
    from tlc.backends.llvm.kernel import ClosureLoop
    from tlc_runtime import native

    compiled = jit().compile(ClosureLoop())
    report = {"machine": machine(), "graphs": {}}
    for name, make in GRAPHS.items():
        n, edges = make()
        report["graphs"][name] = {}
        for threads in (int(t) for t in args.threads.split(",")):
            kernel = native.bind({"closure": native.ClosureSpec(compiled.symbol)}, jit().address, threads)["closure"]
            load = os.getloadavg()[0]
            times = phases(n, edges, kernel, args.repeat)
            threaded = (times["loop"] + times["rows"]) / times["closure"]
            print(f"{name}, {threads} thread{'s' if threads != 1 else ''} (load {load:.2f}): " +
                  " ".join(f"{k} {v:.2f}" for k, v in times.items()) + f" ms; loop and rows {threaded:.0%}")
            report["graphs"][name][threads] = {"load": load, "ms": times}
    write_json(args.json, report)


if __name__ == "__main__":
    main()
