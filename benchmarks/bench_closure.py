"""Benchmark transitive closure in tlc against scipy.sparse, dense NumPy, networkx and sqlite3 in one run.

Usage: python benchmarks/bench_closure.py [--limit SECONDS] [--repeat N] [--json OUT]

The program is ``Path(x,y) = Edge(x,y)`` and ``Path(x,z) = Path(x,y) Edge(y,z)``, on (a) a random
directed graph of 2,000 nodes and 10,000 edges, (b) chains of 1,000 and 3,000 nodes, (c) a 60×60 grid with
edges right and down and (d) a layered DAG of 100,000 nodes and 300,000 edges (4 layers, so the closure is
small). DuckDB's recursive CTE joins the anchors when ``duckdb`` is installed. Each method runs in a forked child,
``--repeat`` times (once when a run takes over 5 s): its best time (tlc's includes compiling, planning
and emitting for the input, every time) and its peak memory (the child's peak resident set above its
size at the fork, so the graph itself is not counted). A method
that would not fit (dense squaring over 10^10 elements) is skipped, and one over ``--limit`` seconds is
stopped; both are reported. Every finished method must find the same number of closure pairs.
The ratio column is each method's time over tlc's, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import sqlite3
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmark the working tree
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
import tlc  # noqa: E402

PROGRAM = "Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\n"
DENSE_LIMIT = 10**8  # elements: dense squaring over more is not attempted
QUOTED = {"random-2k": 0.5, "chain-1k": 0.15}  # seconds issue 8 quotes for these graphs on this machine class


def random_graph(n: int, m: int, seed: int = 0) -> tuple[int, np.ndarray]:
    """``m`` distinct random directed edges without self-loops on ``n`` nodes."""
    rng = np.random.default_rng(seed)
    keys: set[tuple[int, int]] = set()
    while len(keys) < m:
        src, dst = rng.integers(0, n, size=(2, m))
        keys.update((int(a), int(b)) for a, b in zip(src, dst) if a != b)
    return n, np.array(sorted(keys)[:m], dtype=np.int64)


def chain(n: int) -> tuple[int, np.ndarray]:
    """The path 0 -> 1 -> ... -> n-1."""
    return n, np.stack([np.arange(n - 1), np.arange(1, n)], axis=1).astype(np.int64)


def grid(k: int) -> tuple[int, np.ndarray]:
    """A k×k grid, node ``r * k + c``, with edges right and down."""
    node = np.arange(k * k).reshape(k, k)
    right = np.stack([node[:, :-1].ravel(), node[:, 1:].ravel()], axis=1)
    down = np.stack([node[:-1].ravel(), node[1:].ravel()], axis=1)
    return k * k, np.concatenate([right, down]).astype(np.int64)


def layered_dag(n: int, m: int, layers: int = 4, seed: int = 0) -> tuple[int, np.ndarray]:
    """``n`` nodes in ``layers`` equal layers; ``m`` distinct edges, each from a layer to the next."""
    rng = np.random.default_rng(seed)
    per = n // layers
    sources = np.arange(per * (layers - 1))
    out = -(-m // len(sources))
    src = np.repeat(sources, out)[:m]
    dst = (src // per + 1) * per + rng.integers(0, per, size=len(src))
    edges = np.unique(np.stack([src, dst], axis=1), axis=0)
    return n, edges


def matrix(n: int, edges: np.ndarray) -> sp.csr_matrix:
    """The edge list as an n x n CSR matrix of ones."""
    return sp.csr_matrix((np.ones(len(edges), np.float32), (edges[:, 0], edges[:, 1])), shape=(n, n))


def run_tlc(n, edges):
    """tlc with the planner's choice (compile, plan, emit and run)."""
    res = tlc.compile(PROGRAM)(Edge=matrix(n, edges))
    return len(res["Path"])


def run_scipy(n, edges):
    """Semi-naive evaluation on scipy.sparse CSR matrices."""
    e = matrix(n, edges)
    path = e.copy()
    delta = e
    while delta.nnz:
        new = (delta @ e).astype(bool).astype(np.float32)
        new = new - new.multiply(path)
        new.eliminate_zeros()
        path = path + new
        delta = new
    return path.nnz


def run_squaring(n, edges):
    """Dense NumPy repeated squaring (float32 matrix products)."""
    reach = np.zeros((n, n), np.float32)
    reach[edges[:, 0], edges[:, 1]] = 1
    while True:
        grown = (reach + reach @ reach) > 0
        if np.array_equal(grown, reach > 0):
            return int(grown.sum())
        reach = grown.astype(np.float32)


def run_networkx(n, edges):
    """networkx.transitive_closure (reflexive=False: paths of length >= 1)."""
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(map(tuple, edges.tolist()))
    return nx.transitive_closure(g, reflexive=False).number_of_edges()


def run_sqlite(n, edges):
    """sqlite3 recursive CTE over an in-memory table with an index on the join column."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE edge(x INTEGER, y INTEGER)")
    db.executemany("INSERT INTO edge VALUES (?, ?)", edges.tolist())
    db.execute("CREATE INDEX edge_x ON edge(x)")
    (count,) = db.execute("WITH RECURSIVE path(x, y) AS (SELECT x, y FROM edge UNION "
                          "SELECT path.x, edge.y FROM path JOIN edge ON path.y = edge.x) "
                          "SELECT count(*) FROM path").fetchone()
    return count


def run_duckdb(n, edges):
    """DuckDB's recursive CTE with UNION (semi-naive) over an in-memory table."""
    import duckdb
    db = duckdb.connect()
    db.register("edges_view", _edge_table(edges))
    db.execute("CREATE TABLE edge AS SELECT x, y FROM edges_view")
    (count,) = db.execute("WITH RECURSIVE path(x, y) AS (SELECT x, y FROM edge UNION "
                          "SELECT path.x, edge.y FROM path JOIN edge ON path.y = edge.x) "
                          "SELECT count(*) FROM path").fetchone()
    return count


def _edge_table(edges):
    """The edge list as a pyarrow table (DuckDB reads it without copying through Python objects)."""
    import pyarrow as pa
    return pa.table({"x": edges[:, 0], "y": edges[:, 1]})


METHODS = {"tlc": run_tlc, "scipy.sparse semi-naive": run_scipy, "numpy dense squaring": run_squaring,
           "networkx transitive_closure": run_networkx, "sqlite3 recursive CTE": run_sqlite}
try:
    import duckdb  # noqa: F401
    import pyarrow  # noqa: F401
    METHODS["duckdb recursive CTE"] = run_duckdb
except ImportError:     # an optional anchor
    pass


def _rss_kib() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _child(method, n, edges, repeat, pipe):
    start_rss = _rss_kib()
    times = []
    while len(times) < repeat and sum(times) < 5.0:
        start = time.perf_counter()
        count = METHODS[method](n, edges)
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    pipe.send((min(times), count, max(peak - start_rss, 0) / 1024))


def measure(method: str, n: int, edges: np.ndarray, limit: float, repeat: int) -> dict:
    """Run one method in a forked child: seconds, closure size and peak MiB, or why it did not finish."""
    if method == "numpy dense squaring" and n * n > DENSE_LIMIT:
        return {"skipped": f"dense {n}x{n} is over {DENSE_LIMIT:.0e} elements"}
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(method, n, edges, repeat, send))
    child.start()
    if not receive.poll(limit):
        child.kill()
        child.join()
        return {"skipped": f"stopped after {limit:.0f} s"}
    seconds, count, mib = receive.recv()
    child.join()
    return {"seconds": seconds, "pairs": count, "peak_mib": mib}


def plan_of(n: int, edges: np.ndarray) -> str:
    """tlc's plan line for the closure stratum."""
    prog = tlc.compile(PROGRAM)
    text = prog.explain(Edge=matrix(n, edges))
    return next(line.strip() for line in text.splitlines() if line.strip().startswith("relations:"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=60.0, help="seconds before a method is stopped")
    parser.add_argument("--repeat", type=int, default=3, help="runs per method; the best time counts")
    parser.add_argument("--json", default=str(Path(__file__).resolve().parent / "results" / "closure.json"))
    args = parser.parse_args()
    graphs = {"random-2k": random_graph(2000, 10_000), "chain-1k": chain(1000), "chain-3k": chain(3000),
              "grid-60": grid(60), "dag-100k": layered_dag(100_000, 300_000)}
    report = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
              "repeat": args.repeat, "graphs": {}}
    failures = []
    for name, (n, edges) in graphs.items():
        print(f"\n{name}: {n} nodes, {len(edges)} edges; {plan_of(n, edges)}")
        rows = {m: measure(m, n, edges, args.limit, args.repeat) for m in METHODS}
        report["graphs"][name] = {"nodes": n, "edges": len(edges), "plan": plan_of(n, edges), "methods": rows,
                                  "issue_quote_seconds": QUOTED.get(name)}
        anchor = rows["tlc"].get("seconds")
        print(f"  {'method':30} {'seconds':>9} {'x tlc':>7} {'peak MiB':>9} {'pairs':>11}")
        for method, row in rows.items():
            if "skipped" in row:
                print(f"  {method:30} skipped: {row['skipped']}")
                continue
            ratio = row["seconds"] / anchor if anchor else float("nan")
            print(f"  {method:30} {row['seconds']:9.3f} {ratio:7.2f} {row['peak_mib']:9.1f} {row['pairs']:11}")
        if name in QUOTED:
            print(f"  (issue 8 quotes {QUOTED[name]} s for this graph on this machine class)")
        finished = [r for r in rows.values() if "pairs" in r]
        if len({r["pairs"] for r in finished}) != 1:
            failures.append(f"{name}: methods disagree on the closure size")
        best = min((r["seconds"] for m, r in rows.items() if m != "tlc" and "seconds" in r), default=None)
        if anchor is None:
            failures.append(f"{name}: tlc did not finish")
        elif best is not None and anchor > best:
            failures.append(f"{name}: tlc {anchor:.3f} s is slower than the best baseline {best:.3f} s")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2))
    print(f"\nwrote {args.json}")
    for failure in failures:
        print("TARGET MISSED:", failure)


if __name__ == "__main__":
    main()
