"""Benchmark single-source shortest paths (a ``min=`` semiring recursion) in tlc against scipy.sparse.csgraph.

Usage: python benchmarks/bench_semiring.py [--nodes N]... [--backend B]... [--degree D] [--repeat N] [--json OUT]

The program is ``Dist[y] min= Src[y]`` and ``Dist[y] min= Dist[x] + W[x, y]`` on a random directed graph of N nodes
with D * N edges of uniform (0, 1) weights; Src is 0 at node 0 and inf elsewhere. W is given two ways: as
``tlc.Weights(csr)`` (the CSR matrix's entries, inf elsewhere) and as the dense N x N array with inf where there is
no edge. Rows, each the best of ``--repeat`` runs in this process, measured in the same run:

- ``dijkstra (CSR)``: ``scipy.sparse.csgraph.dijkstra`` on the CSR matrix, the anchor;
- ``tlc Weights``: ``tlc.compile(...)(W=tlc.Weights(csr), Src=src)``, compiling, planning and emitting for the
  input every time (wrapping the CSR matrix is included);
- ``tlc Weights, warm``: a second call of one compiled program (specialised already: the run alone);
- ``tlc dense W``, ``tlc dense W, warm``: the same with the dense W (the runtime reads all N² weights once);
- ``dijkstra (dense W)``: scipy's dijkstra on that dense W (it converts it first);
- ``tlc dense rounds``: ``relations="dense"``, the dense Bellman-Ford rounds the semiring strategy replaces (once,
  up to 5,000 nodes).

The ``tlc`` rows run on each ``--backend`` (default numpy and llvm; the llvm backend's native kernels in
``tlc_runtime.semiring_native``), the backend in brackets after the row's name ("tlc Weights [llvm]"); the
dense rounds on the NumPy backend only. A cold llvm row includes compiling the kernels the first time only: they
are cached per process, as every llvm kernel is. So on the llvm backend ``tlc Weights, first call`` is also timed
in a new process (``first_call.py``: a spawned interpreter, tlc imported, nothing compiled in memory), once with the
disk cache of compiled kernels empty (``cold disk cache``) and once holding what that run compiled (``warm disk
cache``); the kernels each compiled and loaded are printed with them.

Rows with the dense W are skipped when it would exceed ``--max-dense`` elements. Every row must give the anchor's
distances exactly. The ratio column is each row's time over the anchor's.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmark the working tree
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
import tlc  # noqa: E402
from first_call import cold_and_warm, describe  # noqa: E402
from report import add_json_option, machine, write_json  # noqa: E402

PROGRAM = "Dist[y] min= Src[y]\nDist[y] min= Dist[x] + W[x, y]\n"
DENSE_ROUNDS_LIMIT = 5000   # nodes: the dense rounds take minutes beyond


def graph(n: int, degree: float, seed: int = 0) -> sp.csr_matrix:
    """A random directed graph with ``degree * n`` distinct weighted edges, as CSR."""
    rng = np.random.default_rng(seed)
    m = int(degree * n)
    keys = np.unique(rng.integers(0, n, 2 * m) * n + rng.integers(0, n, 2 * m))[:m]
    rows, cols = np.divmod(keys, n)
    weights = rng.random(len(keys))
    return sp.csr_matrix((weights, (rows, cols)), shape=(n, n))


def best(run, repeat: int) -> tuple[float, np.ndarray]:
    """The best time of ``repeat`` runs of ``run()`` and its last result."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def tlc_weights(csr: sp.csr_matrix, src: np.ndarray, backend: str) -> np.ndarray:
    """tlc's distances with ``W=tlc.Weights(csr)``: compiling, planning and emitting for the input, then running."""
    return tlc.compile(PROGRAM, backend=backend)(W=tlc.Weights(csr), Src=src)["Dist"]


def measure(n: int, degree: float, repeat: int, max_dense: int, backends: list[str]) -> dict:
    """Every row for one graph size."""
    csr = graph(n, degree)
    src = np.full(n, np.inf)
    src[0] = 0.0
    rows = {}
    anchor_time, anchor = best(lambda: dijkstra(csr, indices=0), repeat)
    rows["dijkstra (CSR)"] = anchor_time
    first_call = {}
    for backend in backends:
        tag = "" if backend == "numpy" else f" [{backend}]"
        if backend == "llvm":
            first_call = cold_and_warm(tlc_weights, csr, src, backend)
            for state, result in first_call.items():
                rows[f"tlc Weights, first call, {state} disk cache{tag}"] = result.get("seconds", float("nan"))
        rows[f"tlc Weights{tag}"], got = best(lambda: tlc_weights(csr, src, backend), repeat)
        assert np.array_equal(got, anchor), "tlc differs from dijkstra"
        rows[f"tlc Weights, warm{tag}"], got = warm(tlc.Weights(csr), src, repeat, backend)
        assert np.array_equal(got, anchor), "tlc differs from dijkstra"
    skipped = None
    if n * n > max_dense:
        skipped = f"dense W rows: the dense W would have {n * n:.3g} elements, over --max-dense {max_dense:.3g}"
    else:
        dense = np.full((n, n), np.inf)
        coo = csr.tocoo()
        dense[coo.row, coo.col] = coo.data
        for backend in backends:
            tag = "" if backend == "numpy" else f" [{backend}]"
            rows[f"tlc dense W{tag}"], got = best(
                lambda: tlc.compile(PROGRAM, backend=backend)(W=dense, Src=src)["Dist"], repeat)
            assert np.array_equal(got, anchor), "tlc differs from dijkstra"
            rows[f"tlc dense W, warm{tag}"], got = warm(dense, src, repeat, backend)
        rows["dijkstra (dense W)"], _ = best(lambda: dijkstra(dense, indices=0), 1)
        if n <= DENSE_ROUNDS_LIMIT:
            rows["tlc dense rounds"], got = best(
                lambda: tlc.compile(PROGRAM, relations="dense")(W=dense, Src=src)["Dist"], 1)
            assert np.array_equal(got, anchor), "the dense rounds differ from dijkstra"
    return {"nodes": n, "edges": int(csr.nnz), "seconds": rows, "ratio": {k: v / anchor_time for k, v in rows.items()},
            "skipped": skipped, "first_call": first_call}


def warm(weights, src: np.ndarray, repeat: int, backend: str) -> tuple[float, np.ndarray]:
    """The best time of a compiled, specialised program's calls (the semiring strategy, checked)."""
    program = tlc.compile(PROGRAM, backend=backend)
    program(W=weights, Src=src)
    assert "semiring: relaxing" in program.explain(W=weights, Src=src), "auto did not choose semiring"
    return best(lambda: program(W=weights, Src=src)["Dist"], repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, action="append", help="graph sizes (default 2000 and 100000)")
    parser.add_argument("--backend", action="append", help="tlc backends (default numpy and llvm)")
    parser.add_argument("--degree", type=float, default=5.0, help="edges per node (default 5)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--max-dense", type=float, default=2**28, help="most elements of the dense W (default 2^28)")
    add_json_option(parser, "semiring")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cpus, {platform.python_version()}")
    results = []
    for n in args.nodes or [2000, 100_000]:
        result = measure(n, args.degree, args.repeat, int(args.max_dense), args.backend or ["numpy", "llvm"])
        results.append(result)
        print(f"{n:>8} nodes, {result['edges']} edges")
        for row, seconds in result["seconds"].items():
            print(f"    {row:<47} {seconds * 1e3:10.2f} ms   {result['ratio'][row]:8.2f}x dijkstra (CSR)")
        if result["first_call"]:
            print(f"    first call in a new process [llvm]: {describe(result['first_call'])}")
        if result["skipped"]:
            print(f"    skipped {result['skipped']}")
    write_json(args.json, {"machine": machine(), "graphs": results})


if __name__ == "__main__":
    main()
