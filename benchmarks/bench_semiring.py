"""Benchmark single-source shortest paths (a ``min=`` semiring recursion) in tlc against scipy.sparse.csgraph, and
path counting (a sum recursion) against scipy's triangular solve.

Usage: python benchmarks/bench_semiring.py [--nodes N]... [--backend B]... [--degree D] [--repeat N] [--json OUT]
       python benchmarks/bench_semiring.py --counting [--nodes N]... [--sources S] [--repeat N] [--json OUT]

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

``--counting`` counts paths instead: ``C[s, y] = Src[s, y]`` and ``C[s, y] += C[s, x] E[x, y]`` on a layered DAG of
N nodes (``LAYERS`` layers, each node with two edges into the next layer, in a random node order) from S sources
(one-hot rows of Src, in the first layer), every count exact (at most 2^(LAYERS-1)). Rows, measured in the same run:

- ``spsolve_triangular``: ``scipy.sparse.linalg.spsolve_triangular`` of ``(I - E)^T C^T = Src^T`` with the nodes in
  topological order (the permutation and the CSR system matrix are built beforehand, not timed), the anchor;
- ``spsolve_triangular, from dense E``: the same, building the system matrix from the dense E (tlc's input) in the
  run (the topological order still given);
- ``tlc dense rounds`` (NumPy backend) and ``tlc dense rounds [llvm]`` (``relations="dense"``: the llvm backend's
  dense loop, its kernels per equation): the rounds the native pass replaces, warm;
- ``tlc counting [llvm]`` (the native pass, ``tlc_runtime.counting``; compiled and planned every time) and ``tlc
  counting, warm [llvm]`` (a specialised program's calls).
Every row must give the anchor's counts exactly.
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
COUNTING = "C[s, y] = Src[s, y]\nC[s, y] += C[s, x] E[x, y]\n"
LAYERS = 40
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


def layered(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A layered DAG of ``n`` nodes (``LAYERS`` layers, two edges from each node into the next layer) as a dense
    0/1 matrix in a random node order, and the nodes in topological order (layer by layer)."""
    rng = np.random.default_rng(seed)
    width = n // LAYERS
    e = np.zeros((n, n))
    for layer in range(LAYERS - 1):
        lo = layer * width
        for node in range(lo, lo + width):
            e[node, lo + width + rng.choice(width, 2, replace=False)] = 1.0
    order = rng.permutation(n)
    return e[np.ix_(order, order)], np.argsort(order)


def measure_counting(n: int, sources: int, repeat: int) -> dict:
    """Every path-counting row for one graph size."""
    from scipy.sparse.linalg import spsolve_triangular
    e, topological = layered(n)
    sources = min(sources, n // LAYERS)
    src = np.zeros((sources, n))
    src[np.arange(sources), topological[:sources]] = 1.0      # nodes of the first layer
    system = sp.csr_matrix(np.eye(n) - e[np.ix_(topological, topological)].T)
    rows = {}

    def anchor_run():
        counts = np.empty_like(src)
        counts[:, topological] = spsolve_triangular(system, src[:, topological].T, lower=True).T
        return counts

    rows["spsolve_triangular"], anchor = best(anchor_run, repeat)

    def from_dense():
        permuted = sp.csr_matrix(e[np.ix_(topological, topological)].T)
        counts = np.empty_like(src)
        counts[:, topological] = spsolve_triangular(sp.identity(n, format="csr") - permuted, src[:, topological].T,
                                                    lower=True).T
        return counts

    rows["spsolve_triangular, from dense E"], got = best(from_dense, repeat)
    assert np.array_equal(got, anchor), "the triangular solves differ"
    dense_numpy = tlc.compile(COUNTING)
    dense_llvm = tlc.compile(COUNTING, backend="llvm", relations="dense")
    native = tlc.compile(COUNTING, backend="llvm")
    for program in (dense_numpy, dense_llvm, native):
        program(E=e, Src=src)
    assert "runs: path counting: native llvm" in native.explain(E=e, Src=src), "auto did not choose native counting"
    for row, run in (("tlc dense rounds", lambda: dense_numpy(E=e, Src=src)["C"]),
                     ("tlc dense rounds [llvm]", lambda: dense_llvm(E=e, Src=src)["C"]),
                     ("tlc counting [llvm]", lambda: tlc.compile(COUNTING, backend="llvm")(E=e, Src=src)["C"]),
                     ("tlc counting, warm [llvm]", lambda: native(E=e, Src=src)["C"])):
        rows[row], got = best(run, repeat)
        assert np.array_equal(got, anchor), f"{row} differs from the triangular solve"
    return {"nodes": n, "edges": int(e.sum()), "sources": sources, "seconds": rows,
            "ratio": {k: v / rows["spsolve_triangular"] for k, v in rows.items()}, "skipped": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, action="append", help="graph sizes (default 2000 and 100000)")
    parser.add_argument("--backend", action="append", help="tlc backends (default numpy and llvm)")
    parser.add_argument("--degree", type=float, default=5.0, help="edges per node (default 5)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--max-dense", type=float, default=2**28, help="most elements of the dense W (default 2^28)")
    parser.add_argument("--counting", action="store_true", help="count paths on layered DAGs instead (default 1000 "
                                                                "and 4000 nodes)")
    parser.add_argument("--sources", type=int, default=16, help="sources of --counting (default 16)")
    add_json_option(parser, "semiring")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cpus, {platform.python_version()}")
    results = []
    anchor = "spsolve_triangular" if args.counting else "dijkstra (CSR)"
    for n in args.nodes or ([1000, 4000] if args.counting else [2000, 100_000]):
        if args.counting:
            result = measure_counting(n, args.sources, args.repeat)
        else:
            result = measure(n, args.degree, args.repeat, int(args.max_dense), args.backend or ["numpy", "llvm"])
        results.append(result)
        print(f"{n:>8} nodes, {result['edges']} edges")
        for row, seconds in result["seconds"].items():
            print(f"    {row:<47} {seconds * 1e3:10.2f} ms   {result['ratio'][row]:8.2f}x {anchor}")
        if result.get("first_call"):
            print(f"    first call in a new process [llvm]: {describe(result['first_call'])}")
        if result["skipped"]:
            print(f"    skipped {result['skipped']}")
    write_json(args.json, {"machine": machine(), "program": "counting" if args.counting else "shortest paths",
                           "graphs": results})


if __name__ == "__main__":
    main()
