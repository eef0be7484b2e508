"""Benchmark transitive closure in tlc against scipy.sparse, dense NumPy, networkx and sqlite3 in one run.

Usage: python benchmarks/bench_closure.py [--backend B] [--threads 1,2] [--limit SECONDS] [--repeat N] [--tree N]
       [--only-programs | --only-threads | --graph NAME...] [--json OUT]

The program is ``Path(x,y) = Edge(x,y)`` and ``Path(x,z) = Path(x,y) Edge(y,z)``, on (a) a random
directed graph of 2,000 nodes and 10,000 edges, (b) chains of 1,000 and 3,000 nodes, (c) a 60×60 grid with
edges right and down, (d) a layered DAG of 100,000 nodes and 300,000 edges (4 layers, so the closure is
small) and (e) LUBM's ``subOrganizationOf`` facts when the ``datalog_conformance`` package is installed.
DuckDB's recursive CTE joins the anchors when ``duckdb`` is installed, and SuiteSparse:GraphBLAS (semi-naive,
masked ``any_pair`` products, on one OpenMP thread: on a loaded machine its busy-waiting threads made a 1,000-node
chain 19x slower) when ``python-graphblas`` is. tlc runs on ``--backend`` (default ``llvm``, where the closure loop
is native) once per ``--threads`` count; the row with the most threads is the one the others are compared with, and
for each graph the speedup of the most threads over one is printed, for the whole run, for tlc's run alone (``run``:
the program called again after a first call compiled, planned and built its kernels) and for the native closure
loop alone (``loop``: the compiled ``ClosureKernel`` call on the graph's condensation), each best of ``--repeat``.
Each method runs in a forked child,
``--repeat`` times (once when a run takes over 5 s): its best time (tlc's includes compiling, planning
and emitting for the input, every time) and its peak memory (the child's peak resident set above its
size at the fork, so the graph itself is not counted), with the CPU time (user + system) of its best run. A method
that would not fit (dense squaring over 10^10 elements) is skipped, and one over ``--limit`` seconds is
stopped; both are reported. Every finished method must find the same number of closure pairs. On the llvm backend
tlc's first call is also timed in a new process (``first_call.py``: a spawned interpreter, tlc imported, nothing
compiled in memory), once with the disk cache of compiled kernels empty (cold) and once holding what that run
compiled (warm), each with the number of kernels compiled and loaded; the rows above are the best of ``--repeat``
calls in one process, whose kernels are compiled (or loaded) by the first call only. ``--graph NAME`` (repeatable)
measures only the graphs named, without the whole programs and the threads section.
The ratio column is each method's time over tlc's, measured in the same run. The load average is printed per
graph: the machine is shared, so timings taken under load say so.

Whole programs follow, tlc's native semi-naive joins (llvm, ``relations="sparse"``, once per ``--threads`` count)
against its in-memory NumPy paths and DuckDB (``relations="duckdb"``, and a recursive CTE where one applies): same
generation (``Sg(x,y) = Par(x,p) Sg(p,q) Par(y,q)``) on a random tree of ``--tree`` nodes, and the whole LUBM
program (``tlc.datalog``, the datalog-conformance package's case); every method must derive as many tuples. Then a
dense semi-naive stratum: mutual recursion ``A(x,z) = E(x,z)``, ``A(x,z) = B(x,y) E(y,z)``, ``B(x,z) = A(x,y) F(y,z)``
on two random relations of ``--mutual`` nodes and 2 pairs a node (about two thirds of all pairs end up derived), with
``relations="dense"`` on llvm (the stratum kept as bitset rows, ``tlc_runtime.bitsets``: joins, deltas and unions
in compiled kernels, once per ``--threads`` count; the anchor of the ratios) and NumPy (float products), NumPy sparse,
and scipy.sparse semi-naive by hand (Boolean CSR products), the anchor. Last, a three-atom chain rule
``C(x,w) = E(x,y) C(y,z) F(z,w)`` (with ``C(x,w) = E(x,w)``) on two random relations of ``--chain`` nodes, the same
way (no scipy anchor).

Targets (issue 18, llvm backend): tlc at most half the best anchor's time on every graph, the 3,000-node chain
within 0.3 s, and two threads at least 1.7x one on the closure; a miss is printed as ``TARGET MISSED``.
"""

from __future__ import annotations

import argparse
import os
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
from child import in_child  # noqa: E402
from first_call import cold_and_warm, describe  # noqa: E402
from report import add_json_option, machine, write_json  # noqa: E402

PROGRAM = "Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\n"
DENSE_LIMIT = 10**8  # elements: dense squaring over more is not attempted
QUOTED = {"random-2k": 0.5, "chain-1k": 0.15}  # seconds issue 8 quotes for these graphs on this machine class
ANCHOR_SHARE = 0.5          # tlc's time over the best anchor's (issue 18)
CHAIN_3K_SECONDS = 0.3
THREAD_SPEEDUP = 1.7        # most threads over one, on the closure loop
BACKEND, THREADS = "llvm", (1, 2)      # set from the command line before any child forks


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


def lubm() -> tuple[int, np.ndarray] | None:
    """LUBM's ``subOrganizationOf`` facts (the transitive relation of the LUBM program; research groups, departments
    and universities) from the ``datalog_conformance`` package's Soufflé LUBM test, as numbered nodes; None when the
    package or a YAML loader is not installed."""
    try:
        from importlib.resources import files
        import yaml
        path = files("datalog_conformance") / "_tests" / "recursion" / "souffle_example_lubm.yaml"
        data = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (ImportError, OSError):
        return None
    pairs = data["tests"][0]["program"]["facts"]["subOrganizationOf"]
    names = {name: k for k, name in enumerate(sorted({x for pair in pairs for x in pair}))}
    return len(names), np.array([[names[a], names[b]] for a, b in pairs], dtype=np.int64)


def lubm_program() -> tuple[str, dict] | None:
    """The whole LUBM program of the ``datalog_conformance`` package's Soufflé LUBM test (56 rules over 30 input
    predicates) with its facts; None when the package or a YAML loader is not installed."""
    try:
        from importlib.resources import files
        import yaml
        path = files("datalog_conformance") / "_tests" / "recursion" / "souffle_example_lubm.yaml"
        data = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (ImportError, OSError):
        return None
    from tlc.datalog.conformance import program_text
    from datalog_conformance.schema import Program
    program = data["tests"][0]["program"]
    return program_text(Program(rules=program["rules"], facts={})), program["facts"]


def random_tree(n: int, window: int, seed: int = 0) -> np.ndarray:
    """Child-to-parent edges of a random tree on ``n`` nodes: node ``i``'s parent is one of the ``window`` nodes
    before it, so the tree has about ``2 n / window`` generations of about ``window / 2`` nodes each."""
    rng = np.random.default_rng(seed)
    child = np.arange(1, n)
    return np.stack([child, np.maximum(0, child - 1 - rng.integers(0, window, n - 1))], axis=1).astype(np.int64)


SAME_GENERATION = "Sg(x, y) = Par(x, p) Par(y, p)\nSg(x, y) = Par(x, p) Sg(p, q) Par(y, q)\n"
MUTUAL = "A(x, z) = E(x, z)\nA(x, z) = B(x, y) E(y, z)\nB(x, z) = A(x, y) F(y, z)\n"
CHAIN3 = "C(x, w) = E(x, w)\nC(x, w) = E(x, y) C(y, z) F(z, w)\n"


def run_scipy_mutual(e: np.ndarray, f: np.ndarray) -> int:
    """``MUTUAL`` semi-naive with scipy.sparse Boolean products: the number of pairs of A and B."""
    e, f = sp.csr_matrix(e, dtype=bool), sp.csr_matrix(f, dtype=bool)
    a, b = e.copy(), sp.csr_matrix(e.shape, dtype=bool)
    delta_a, delta_b = a, b
    while delta_a.nnz or delta_b.nnz:
        new_a, new_b = (delta_b @ e).astype(bool), (delta_a @ f).astype(bool)
        delta_a, delta_b = new_a > a, new_b > b        # new pairs only
        a, b = a + delta_a, b + delta_b
    return int(a.nnz + b.nnz)


def run_tlc_program(source: str, inputs: dict, backend: str, relations: str, threads: int) -> int:
    """tlc on a whole program (compile, plan, emit and run): the number of tuples it derives."""
    os.environ["TLC_NUM_THREADS"] = str(threads)       # in the forked child only
    results = tlc.compile(source, backend=backend, relations=relations)(**inputs)
    return sum(len(v) for v in results.values())


def run_lubm(text: str, facts: dict, backend: str, relations: str, threads: int) -> int:
    """tlc.datalog on the LUBM program (translate, compile, plan, emit and run): the number of facts of its model."""
    from tlc.datalog.program import evaluate
    os.environ["TLC_NUM_THREADS"] = str(threads)       # in the forked child only
    return sum(len(v) for v in evaluate(text, facts, dialect="auto", backend=backend, relations=relations).values())


def run_duckdb_same_generation(par: np.ndarray) -> int:
    """DuckDB's recursive CTE for same generation (semi-naive: each round joins only the new pairs)."""
    import duckdb
    con = duckdb.connect()
    con.register("par", _edge_table(par))
    sql = ("WITH RECURSIVE sg(x, y) AS (SELECT a.x, b.x FROM par a JOIN par b ON a.y = b.y UNION "
           "SELECT a.x, b.x FROM sg JOIN par a ON a.y = sg.x JOIN par b ON b.y = sg.y) SELECT count(*) FROM sg")
    return con.execute(sql).fetchone()[0]


def program_methods(runner, native_threads) -> dict:
    """tlc's methods on a whole program: ``runner(backend, relations, threads)``; the native joins once per thread
    count, then the in-memory NumPy paths and DuckDB through ``relations="duckdb"`` when it is installed."""
    runs = {f"tlc llvm sparse, {t} thread{'s' if t != 1 else ''}": (lambda t=t: runner("llvm", "sparse", t))
            for t in native_threads}
    runs["tlc llvm auto"] = lambda: runner("llvm", "auto", max(native_threads))
    runs["tlc numpy sparse"] = lambda: runner("numpy", "sparse", max(native_threads))
    runs["tlc numpy auto"] = lambda: runner("numpy", "auto", max(native_threads))
    if "duckdb recursive CTE" in ANCHORS:
        runs["tlc relations=duckdb"] = lambda: runner("numpy", "duckdb", max(native_threads))
    return runs


def _program_report(name: str, runs: dict, args, failures: list, strategy: str = "sparse") -> dict:
    """Measure and print one whole program's methods (the most-threads native ``strategy`` row is the ratios'
    anchor)."""
    print(f"\n{name}; load average {os.getloadavg()[0]:.2f}")
    rows = {m: measure_call(call, args.limit, args.repeat) for m, call in runs.items()}
    own = f"tlc llvm {strategy}, {max(THREADS)} thread{'s' if max(THREADS) != 1 else ''}"
    _print_rows(rows, rows[own].get("seconds"))
    finished = [r for r in rows.values() if "pairs" in r]
    if len({r["pairs"] for r in finished}) != 1:
        failures.append(f"{name}: methods disagree on the number of tuples")
    return {"load_average": os.getloadavg(), "methods": rows}


def matrix(n: int, edges: np.ndarray) -> sp.csr_matrix:
    """The edge list as an n x n CSR matrix of ones."""
    return sp.csr_matrix((np.ones(len(edges), np.float32), (edges[:, 0], edges[:, 1])), shape=(n, n))


def run_tlc(n, edges, threads):
    """tlc on ``BACKEND`` with ``threads`` threads and the planner's choice (compile, plan, emit and run)."""
    res = tlc.compile(PROGRAM, backend=BACKEND, threads=threads)(Edge=matrix(n, edges))
    return len(res["Path"])


def tlc_method(threads: int) -> str:
    """The name of tlc's row with ``threads`` threads."""
    return f"tlc {BACKEND}, {threads} thread{'s' if threads != 1 else ''}"


def run_graphblas(n, edges):
    """SuiteSparse:GraphBLAS semi-naive: each round the frontier times the edges (``any_pair``), masked by the
    pairs not yet found (one OpenMP thread, see the module docstring)."""
    import graphblas as gb
    from graphblas import semiring
    gb.ss.config["nthreads"] = 1
    a = gb.Matrix.from_coo(edges[:, 0], edges[:, 1], True, nrows=n, ncols=n, dtype=bool)
    path, frontier = a.dup(), a.dup()
    while frontier.nvals:
        frontier = frontier.mxm(a, semiring.any_pair).new(mask=~path.S)
        path(frontier.S) << frontier
    return path.nvals


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


ANCHORS = {"scipy.sparse semi-naive": run_scipy, "numpy dense squaring": run_squaring,
           "networkx transitive_closure": run_networkx, "sqlite3 recursive CTE": run_sqlite}
try:
    import duckdb  # noqa: F401
    import pyarrow  # noqa: F401
    ANCHORS["duckdb recursive CTE"] = run_duckdb
except ImportError:     # an optional anchor
    pass
try:
    import graphblas  # noqa: F401
    ANCHORS["graphblas semi-naive"] = run_graphblas
except ImportError:     # an optional anchor, not a dependency of tlc
    pass


def methods() -> dict:
    """Every method by name: tlc once per thread count, then the anchors."""
    runs = {tlc_method(t): (lambda n, edges, t=t: run_tlc(n, edges, t)) for t in THREADS}
    return {**runs, **ANCHORS}


def _rss_kib() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child(call, repeat, pipe):
    start_rss = _rss_kib()
    runs = []      # (wall, cpu) seconds per run
    while len(runs) < repeat and sum(r[0] for r in runs) < 5.0:
        cpu, start = _cpu_seconds(), time.perf_counter()
        count = call()
        runs.append((time.perf_counter() - start, _cpu_seconds() - cpu))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    wall, cpu = min(runs)
    pipe.send((wall, cpu, count, max(peak - start_rss, 0) / 1024))


def measure(method: str, n: int, edges: np.ndarray, limit: float, repeat: int) -> dict:
    """Run one method in a forked child: seconds, closure size and peak MiB, or why it did not finish."""
    if method == "numpy dense squaring" and n * n > DENSE_LIMIT:
        return {"skipped": f"dense {n}x{n} is over {DENSE_LIMIT:.0e} elements"}
    return measure_call(lambda: methods()[method](n, edges), limit, repeat)


def measure_call(call, limit: float, repeat: int) -> dict:
    """Run ``call()`` (returning a result size) in a forked child: seconds, size and peak MiB, or why it stopped."""
    result = in_child(_child, (call, repeat), limit)
    if result is None:
        return {"skipped": f"stopped after {limit:.0f} s"}
    seconds, cpu, count, mib = result
    return {"seconds": seconds, "cpu_seconds": cpu, "pairs": count, "peak_mib": mib}


def _loop_child(n, edges, repeat, pipe):
    """Best wall and CPU seconds of the native closure loop alone, per thread count, on the graph's condensation."""
    from scipy.sparse.csgraph import connected_components
    from tlc.backends.llvm.jit import jit
    from tlc.backends.llvm.kernel import ClosureLoop
    from tlc_runtime import native, reach
    compiled = jit().compile(ClosureLoop())
    count, labels = connected_components(matrix(n, edges), directed=True, connection="strong")
    labels = labels.astype(np.int64)
    source, target = labels[edges[:, 0]], labels[edges[:, 1]]
    indptr, successors = reach.condensed(count, source, target)
    order = np.asarray(reach.sinks_first(count, indptr, successors), dtype=np.int64)
    words = (n + reach.WORD - 1) // reach.WORD
    representative = np.empty(count, dtype=np.int64)
    representative[labels] = np.arange(n)
    bits = np.left_shift(np.uint64(1), (np.arange(n) % reach.WORD).astype(np.uint64))
    result = {}
    for threads in THREADS:
        kernel = native.bind({"closure": native.ClosureSpec(compiled.symbol)}, jit().address, threads)["closure"]
        runs = []
        for _ in range(max(repeat, 5)):
            closed = np.zeros((count, words), dtype=np.uint64)
            np.bitwise_or.at(closed, (labels, np.arange(n) // reach.WORD), bits)     # each node's own bit
            bounds = reach.own_words(count, labels)
            cpu, start = _cpu_seconds(), time.perf_counter()
            kernel(closed, order, indptr, successors, representative, bounds)
            runs.append((time.perf_counter() - start, _cpu_seconds() - cpu))
        result[threads] = min(runs)
    pipe.send(result)


def _run_child(n, edges, repeat, pipe):
    """Best wall and CPU seconds of tlc's run alone, per thread count: the program compiled, planned and its kernels
    built by a first call, then called again (the run a second thread can speed up)."""
    edge = matrix(n, edges)
    result = {}
    for threads in THREADS:
        program = tlc.compile(PROGRAM, backend=BACKEND, threads=threads)
        program(Edge=edge)
        runs = []
        for _ in range(max(repeat, 3)):
            cpu, start = _cpu_seconds(), time.perf_counter()
            program(Edge=edge)
            runs.append((time.perf_counter() - start, _cpu_seconds() - cpu))
        result[threads] = min(runs)
    pipe.send(result)


def measure_loop(n: int, edges: np.ndarray, limit: float, repeat: int, target=_loop_child) -> dict | None:
    """The native closure loop's (or with ``target=_run_child``, the compiled run's) best (wall, cpu) seconds per
    thread count, in a forked child (None if stopped)."""
    return in_child(target, (n, edges, repeat), limit)


def plan_of(n: int, edges: np.ndarray) -> str:
    """tlc's plan line for the closure stratum and where it runs."""
    prog = tlc.compile(PROGRAM, backend=BACKEND, threads=max(THREADS))
    lines = [line.strip() for line in prog.explain(Edge=matrix(n, edges)).splitlines()]
    return "; ".join(line for line in lines if line.startswith(("relations:", "runs:")))


def random_dag(n: int, m: int, seed: int = 0) -> tuple[int, np.ndarray]:
    """``m`` random edges ``i -> j`` with ``i < j`` on ``n`` nodes (duplicates dropped): an acyclic graph."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, n, size=(2, m))
    keep = a != b
    return n, np.unique(np.stack([np.minimum(a, b)[keep], np.maximum(a, b)[keep]], axis=1), axis=0)


def _print_rows(rows: dict, anchor: float | None) -> None:
    print(f"  {'method':30} {'seconds':>9} {'cpu s':>7} {'x tlc':>7} {'peak MiB':>9} {'pairs':>11}")
    for method, row in rows.items():
        if "skipped" in row:
            print(f"  {method:30} skipped: {row['skipped']}")
            continue
        ratio = row["seconds"] / anchor if anchor else float("nan")
        print(f"  {method:30} {row['seconds']:9.3f} {row['cpu_seconds']:7.3f} {ratio:7.2f} {row['peak_mib']:9.1f} "
              f"{row['pairs']:11}")


def _loop_report(name: str, n: int, edges: np.ndarray, args, failures: list, target: bool,
                 run: bool = False) -> dict | None:
    """Measure and print the native closure loop (or with ``run``, tlc's compiled run) per thread count; a missed
    speedup fails when ``target``."""
    what = "tlc run alone (compiled by a first call)" if run else "closure loop alone"
    loop = measure_loop(n, edges, args.limit, args.repeat, _run_child if run else _loop_child)
    if loop is None:
        print(f"  {what}: stopped")
        return None
    cells = ", ".join(f"{t} thread{'s' if t != 1 else ''} {w * 1e3:.2f} ms (cpu {c * 1e3:.2f} ms)"
                      for t, (w, c) in loop.items())
    speedup = loop[min(THREADS)][0] / loop[max(THREADS)][0]
    print(f"  {what}: {cells}; {max(THREADS)} over {min(THREADS)}: {speedup:.2f}x")
    if target and len(THREADS) > 1 and speedup < THREAD_SPEEDUP:
        failures.append(f"{name}: the {what} on {max(THREADS)} threads is {speedup:.2f}x one, under "
                        f"{THREAD_SPEEDUP}x")
    return {str(t): {"seconds": w, "cpu_seconds": c} for t, (w, c) in loop.items()}


def _whole_programs_and_threads(report: dict, args, failures: list, threads_section: bool) -> None:
    """Measure and print the whole programs (same generation, LUBM, dense mutual recursion) and, when ``threads_section``, threads on the
    closure loop and on tlc's run over a random DAG."""
    par = random_tree(args.tree, 100)
    runs = program_methods(lambda b, r, t: run_tlc_program(SAME_GENERATION, {"Par": tlc.Rows(par)}, b, r, t),
                           THREADS)
    if "duckdb recursive CTE" in ANCHORS:
        runs["duckdb recursive CTE"] = lambda: run_duckdb_same_generation(par)
    report["programs"] = {"same-generation": _program_report(
        f"same generation on a random tree of {args.tree} nodes (parents among the 100 nodes before)", runs, args,
        failures)}
    university = lubm_program()
    if university is not None:
        text, facts = university
        runs = program_methods(lambda b, r, t: run_lubm(text, facts, b, r, t), THREADS)
        report["programs"]["lubm"] = _program_report(
            f"LUBM, the whole program ({len(text.splitlines())} rules, {sum(map(len, facts.values()))} facts), "
            f"through tlc.datalog", runs, args, failures)
    rng = np.random.default_rng(0)
    e, f = (rng.random((args.mutual, args.mutual)) < 2 / args.mutual for _ in range(2))
    runs = {f"tlc llvm dense, {t} thread{'s' if t != 1 else ''}":
            (lambda t=t: run_tlc_program(MUTUAL, {"E": e, "F": f}, "llvm", "dense", t)) for t in THREADS}
    runs["tlc numpy dense"] = lambda: run_tlc_program(MUTUAL, {"E": e, "F": f}, "numpy", "dense", max(THREADS))
    runs["tlc numpy sparse"] = lambda: run_tlc_program(MUTUAL, {"E": e, "F": f}, "numpy", "sparse", max(THREADS))
    runs["scipy.sparse semi-naive"] = lambda: run_scipy_mutual(e, f)
    report["programs"]["mutual-dense"] = _program_report(
        f"mutual recursion, dense semi-naive, on two random relations of {args.mutual} nodes (2 pairs a node)", runs,
        args, failures, strategy="dense")
    e, f = (rng.random((args.chain, args.chain)) < 2 / args.chain for _ in range(2))
    runs = {f"tlc llvm dense, {t} thread{'s' if t != 1 else ''}":
            (lambda t=t: run_tlc_program(CHAIN3, {"E": e, "F": f}, "llvm", "dense", t)) for t in THREADS}
    runs["tlc numpy dense"] = lambda: run_tlc_program(CHAIN3, {"E": e, "F": f}, "numpy", "dense", max(THREADS))
    runs["tlc numpy sparse"] = lambda: run_tlc_program(CHAIN3, {"E": e, "F": f}, "numpy", "sparse", max(THREADS))
    report["programs"]["chain3-dense"] = _program_report(
        f"a three-atom chain rule, dense semi-naive, on two random relations of {args.chain} nodes (2 pairs a node)",
        runs, args, failures, strategy="dense")
    if threads_section:
        _threads_section(report, args, failures)


def _threads_section(report: dict, args, failures: list) -> None:
    """Measure and print threads on the closure loop (a missed speedup fails) and on tlc's run over a random DAG."""
    n, edges = random_dag(16_384, 160_000)     # enough word ORs (edges x 256 words) for threads to matter
    print(f"\nthreads on the closure loop and on tlc's run: a random DAG of {n} nodes, {len(edges)} edges; "
          f"load average {os.getloadavg()[0]:.2f}")
    report["loop_dag_16k"] = _loop_report("dag-16k", n, edges, args, failures, target=True)
    report["run_dag_16k"] = _loop_report("dag-16k", n, edges, args, failures, target=False, run=True)


def main() -> None:
    global BACKEND, THREADS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="llvm", help="tlc's backend (default llvm)")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts tlc runs with")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds before a method is stopped")
    parser.add_argument("--repeat", type=int, default=3, help="runs per method; the best time counts")
    parser.add_argument("--tree", type=int, default=20_000, help="nodes of the same-generation tree")
    parser.add_argument("--only-programs", action="store_true", help="skip the closure graphs")
    parser.add_argument("--only-threads", action="store_true",
                        help="measure only the threads section (the closure loop and tlc's run over a random DAG)")
    parser.add_argument("--mutual", type=int, default=3000, help="nodes of the dense mutual recursion")
    parser.add_argument("--chain", type=int, default=1000, help="nodes of the dense three-atom chain recursion")
    parser.add_argument("--graph", action="append", metavar="NAME",
                        help="measure only this graph (repeatable; skips the whole programs and the threads section)")
    add_json_option(parser, "closure")
    args = parser.parse_args()
    BACKEND, THREADS = args.backend, tuple(sorted({int(t) for t in args.threads.split(",")}))
    graphs = {"random-2k": random_graph(2000, 10_000), "chain-1k": chain(1000), "chain-3k": chain(3000),
              "grid-60": grid(60), "dag-100k": layered_dag(100_000, 300_000)}
    university = lubm()
    if university is not None:
        graphs["lubm-suborganization"] = university
    if args.only_programs or args.only_threads:
        graphs = {}
    unknown = sorted(set(args.graph or ()) - set(graphs))
    if unknown:
        parser.error(f"unknown graph {', '.join(unknown)}; the graphs are {', '.join(graphs)}")
    if args.graph:
        graphs = {name: graphs[name] for name in args.graph}
    report = {"machine": machine(), "backend": BACKEND,
              "threads": THREADS, "repeat": args.repeat, "graphs": {}}
    failures = []
    native = BACKEND == "llvm"
    for name, (n, edges) in graphs.items():
        load = os.getloadavg()
        plan = plan_of(n, edges)
        print(f"\n{name}: {n} nodes, {len(edges)} edges; load average {load[0]:.2f}; {plan}")
        rows = {m: measure(m, n, edges, args.limit, args.repeat) for m in methods()}
        own = tlc_method(max(THREADS))
        anchor = rows[own].get("seconds")
        _print_rows(rows, anchor)
        entry = {"nodes": n, "edges": len(edges), "plan": plan, "load_average": load, "methods": rows,
                 "issue_quote_seconds": QUOTED.get(name)}
        if native:
            entry["first_call"] = cold_and_warm(run_tlc, n, edges, max(THREADS), limit=args.limit)
            print(f"  tlc's first call in a new process, {max(THREADS)} threads: {describe(entry['first_call'])}")
        one = rows[tlc_method(min(THREADS))].get("seconds")
        if anchor and one and len(THREADS) > 1:
            print(f"  tlc, whole run: {max(THREADS)} threads over {min(THREADS)}: {one / anchor:.2f}x")
        if native and "runs: closure: native" in plan:
            entry["loop"] = _loop_report(name, n, edges, args, failures, target=False)
        if native and "native llvm kernel" in plan:
            entry["run"] = _loop_report(name, n, edges, args, failures, target=False, run=True)
        report["graphs"][name] = entry
        if name in QUOTED:
            print(f"  (issue 8 quotes {QUOTED[name]} s for this graph on this machine class)")
        finished = [r for r in rows.values() if "pairs" in r]
        if len({r["pairs"] for r in finished}) != 1:
            failures.append(f"{name}: methods disagree on the closure size")
        best = min((r["seconds"] for m, r in rows.items() if m in ANCHORS and "seconds" in r), default=None)
        if anchor is None:
            failures.append(f"{name}: tlc did not finish")
        elif best is not None and anchor > ANCHOR_SHARE * best:
            failures.append(f"{name}: tlc {anchor:.3f} s is over {ANCHOR_SHARE}x the best anchor's {best:.3f} s")
        if name == "chain-3k" and anchor is not None and anchor > CHAIN_3K_SECONDS:
            failures.append(f"{name}: tlc {anchor:.3f} s is over {CHAIN_3K_SECONDS} s")
    if args.only_threads:
        _threads_section(report, args, failures)
    elif not args.graph:
        _whole_programs_and_threads(report, args, failures, native and not args.only_programs)
    write_json(args.json, report)
    for failure in failures:
        print("TARGET MISSED:", failure)


if __name__ == "__main__":
    main()
