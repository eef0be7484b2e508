"""Benchmark relations inside DuckDB: tlc with ``relations="duckdb"`` against the same recursive query written
by hand in DuckDB SQL, and against tlc in memory, in one run.

Usage: python benchmarks/bench_relations_db.py [--repeat N] [--lubm] [--paths] [--stored] [--json OUT]

Workloads: the transitive closure ``Path(x,y) = Edge(x,y)``, ``Path(x,z) = Path(x,y) Edge(y,z)`` of (a) a
3,000-node chain (4.5M pairs) and (b) a 60x60 grid with edges right and down (3.35M pairs); (c) with ``--lubm``,
the datalog-conformance suite's LUBM program and facts (about 10 s to read its 16 MB of YAML, not timed);
(d) a generated relation ten times larger than a small memory budget (``--memory-limit``, default 16M, a budget of
2M elements): a two-hop join over 5 edges per budget element (10M edges, 20M positions), which tlc in memory
refuses before running and tlc with ``relations="auto"`` runs in DuckDB; (e) with ``--paths``, shortest paths
``D[x,z] min= W[x,z]``, ``D[x,z] min= D[x,y] + W[y,z]`` on a 300-node chain, a 20x20 grid (right and down) and a
random 400-node graph (4 edges per node): tlc with ``relations="duckdb"`` (one ``WITH RECURSIVE ... USING KEY``)
against the semi-naive loop over temporary tables that tlc emitted before (grouped ``min(v)`` per round, the
improved elements merged by ``DELETE``/``INSERT``), driven from Python, both from the NumPy weights to a dense
array (tlc's program compiled once: its best run reuses the specialisation); the distances must agree with
``scipy.sparse.csgraph.shortest_path``; (f) with ``--stored``, inputs kept in a database file (``database=``):
the two-hop join over 1M random pairs (1M nodes) stored by a first run, then run again given the same data
(``given``: read, hashed, found unchanged) and without it (``reused``: read in place from the file), the target
being reused <= given; and the over-budget relation of (d) reused from the file without its data, in DuckDB
(``auto``) and refused in memory (``sparse``).

Each method's time is its best of ``--repeat`` runs and includes loading the edges: tlc's includes compiling,
planning and emitting for the input, every time; the hand-written query registers the NumPy edge columns,
creates the edge table and creates the closure table with one ``WITH RECURSIVE ... UNION`` (what tlc emits).
Every method reports the number of tuples it found, and they must agree. ``ratio`` is a method's time over the
hand-written DuckDB query's, measured in the same run; the target for tlc with DuckDB is at most 1.3.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmark the working tree
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
import tlc  # noqa: E402
from report import add_json_option, machine, write_json  # noqa: E402

PROGRAM = "Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\n"
TWO_HOPS = "Two(x, z) = Edge(x, y) Edge(y, z)\n"
HAND = ("CREATE TABLE path AS WITH RECURSIVE path(x, y) AS (SELECT x, y FROM edge UNION "
        "SELECT path.x, edge.y FROM path JOIN edge ON path.y = edge.x) SELECT * FROM path")
TARGET = 1.3
SHORTEST = "D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] + W[y, z]\n"
LOOP = ('CREATE TABLE d AS SELECT c0, c1, min(v) AS v FROM w GROUP BY ALL',
        'CREATE TEMP TABLE delta AS SELECT * FROM d')
LOOP_ROUND = ('CREATE OR REPLACE TEMP TABLE new AS SELECT n.* FROM (SELECT d.c0 AS c0, w.c1 AS c1, min(d.v + w.v) AS v '
              'FROM delta AS d, w WHERE w.c0 = d.c1 GROUP BY ALL) AS n WHERE NOT EXISTS (SELECT 1 FROM d AS o '
              'WHERE o.c0 = n.c0 AND o.c1 = n.c1 AND o.v <= n.v)')
LOOP_MERGE = ('DELETE FROM d AS o USING new AS n WHERE o.c0 = n.c0 AND o.c1 = n.c1',
              'INSERT INTO d SELECT * FROM new', 'CREATE OR REPLACE TEMP TABLE delta AS SELECT * FROM new')


def chain(n: int) -> tuple[int, np.ndarray]:
    """The path 0 -> 1 -> ... -> n-1."""
    return n, np.stack([np.arange(n - 1), np.arange(1, n)], axis=1).astype(np.int64)


def grid(side: int) -> tuple[int, np.ndarray]:
    """A side x side grid, node r*side+c, with edges right and down."""
    node = np.arange(side * side).reshape(side, side)
    right = np.stack([node[:, :-1].ravel(), node[:, 1:].ravel()], axis=1)
    down = np.stack([node[:-1, :].ravel(), node[1:, :].ravel()], axis=1)
    return side * side, np.concatenate([right, down]).astype(np.int64)


def edge_matrix(n: int, edges: np.ndarray):
    """The edges as an n x n CSR matrix of ones (how tlc takes a large relation)."""
    import scipy.sparse as sp
    matrix = sp.csr_matrix((np.ones(len(edges), np.float32), (edges[:, 0], edges[:, 1])), shape=(n, n))
    matrix.sum_duplicates()
    matrix.data[:] = 1
    return matrix


def run_tlc(n: int, edges: np.ndarray, relations: str) -> int:
    """tlc compiling, planning, emitting and running the closure; the tuples of Path."""
    return len(tlc.compile(PROGRAM, relations=relations)(Edge=edge_matrix(n, edges))["Path"])


def run_hand(n: int, edges: np.ndarray) -> int:
    """The recursive query by hand in DuckDB: register the columns, create the tables, count."""
    import duckdb
    con = duckdb.connect()
    con.register("edges", {"x": edges[:, 0], "y": edges[:, 1]})
    con.execute("CREATE TABLE edge AS SELECT * FROM edges")
    con.execute(HAND)
    return con.execute("SELECT count(*) FROM path").fetchall()[0][0]


def best(function, repeat: int) -> tuple[float, int]:
    """The best time of ``repeat`` calls and the count they returned."""
    times, count = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        count = function()
        times.append(time.perf_counter() - start)
    return min(times), count


def closure_rows(repeat: int) -> list[dict]:
    rows = []
    for name, (n, edges) in (("chain-3000", chain(3000)), ("grid-60x60", grid(60))):
        hand, expected = best(lambda: run_hand(n, edges), repeat)
        row = {"workload": name, "tuples": expected, "duckdb-by-hand": hand}
        for label, relations in (("tlc-duckdb", "duckdb"), ("tlc-memory", "auto")):
            seconds, count = best(lambda: run_tlc(n, edges, relations), repeat)
            if count != expected:
                raise SystemExit(f"{name}: {label} found {count} tuples, DuckDB by hand {expected}")
            row[label] = seconds
        rows.append(row)
    return rows


def lubm_row(repeat: int) -> dict:
    """The conformance suite's LUBM case (its rules and facts), in memory and in DuckDB."""
    import yaml
    from datalog_conformance.plugin import get_tests_dir
    from datalog_conformance.schema import TestCase
    from tlc.datalog.conformance import program_text
    from tlc.datalog.program import evaluate
    path = next(get_tests_dir().rglob("souffle_example_lubm.yaml"))
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    entry = raw["tests"][0] if "tests" in raw else raw
    merged = {**{k: raw[k] for k in ("source", "verification") if raw.get(k) is not None}, **entry}
    program = TestCase.from_dict(merged).program
    text, facts = program_text(program), program.facts
    row = {"workload": "lubm", "facts": sum(len(r) for r in facts.values())}
    counts = {}
    for label, relations in (("tlc-memory", "auto"), ("tlc-duckdb", "duckdb")):
        def run():
            model = evaluate(text, facts, dialect="auto", relations=relations)
            return sum(len(rows) for rows in model.facts.values())
        row[label], counts[label] = best(run, repeat)
    if len(set(counts.values())) != 1:
        raise SystemExit(f"lubm: the models differ in size: {counts}")
    row["tuples"] = counts["tlc-duckdb"]
    return row


def over_budget_row(memory_limit: str) -> dict:
    """A relation ten times the memory budget: in memory is refused before running; auto runs it in DuckDB."""
    budget = tlc.compile(TWO_HOPS, memory_limit=memory_limit).memory_limit
    m, n = 5 * budget, 4 * budget      # 5x budget edges: 10x budget positions
    rng = np.random.default_rng(0)
    edges = np.unique(rng.integers(0, n, size=(m, 2)), axis=0)
    matrix = edge_matrix(n, edges)
    row = {"workload": f"two-hops over {len(edges):,} edges", "budget elements": budget,
           "input positions": 2 * len(edges)}
    try:
        tlc.compile(TWO_HOPS, memory_limit=memory_limit, relations="sparse")(Edge=matrix)
        row["tlc-memory"] = "ran"
    except tlc.TlcError as err:
        row["tlc-memory"] = f"refused: {err.message}"
    start = time.perf_counter()
    prog = tlc.compile(TWO_HOPS, memory_limit=memory_limit)
    row["tuples"] = len(prog(Edge=matrix)["Two"])
    row["tlc-auto (DuckDB)"] = time.perf_counter() - start
    row["strategy"] = prog.specialisation(Edge=matrix).plan.strata[0].reason
    return row


def stored_rows(repeat: int, memory_limit: str) -> list[dict]:
    """Inputs reused from a database file: the second run of a stored 1M-pair relation given its data again and
    without it, and the over-budget relation reused without its data."""
    import tempfile
    rows = []
    with tempfile.TemporaryDirectory(prefix="tlc-bench-") as folder:
        n = 1_000_000
        edges = np.unique(np.random.default_rng(1).integers(0, n, size=(n, 2)), axis=0)
        matrix = edge_matrix(n, edges)
        database = str(Path(folder) / "pairs.duckdb")

        def run(**inputs) -> int:
            return len(tlc.compile(TWO_HOPS, relations="duckdb", database=database)(**inputs)["Two"])
        first = time.perf_counter()
        expected = run(Edge=matrix)
        row = {"workload": f"stored {len(edges):,} pairs, two hops", "tuples": expected,
               "first run (stores)": time.perf_counter() - first}
        for label, inputs in (("given", {"Edge": matrix}), ("reused", {})):
            row[label], count = best(lambda: run(**inputs), repeat)
            if count != expected:
                raise SystemExit(f"stored pairs: the {label} run found {count} tuples, the first {expected}")
        row["ratio reused/given"] = row["reused"] / row["given"]
        rows.append(row)

        budget = tlc.compile(TWO_HOPS, memory_limit=memory_limit).memory_limit
        m, n = 5 * budget, 4 * budget
        edges = np.unique(np.random.default_rng(0).integers(0, n, size=(m, 2)), axis=0)
        database = str(Path(folder) / "big.duckdb")
        start = time.perf_counter()
        expected = len(tlc.compile(TWO_HOPS, memory_limit=memory_limit, database=database)(
            Edge=edge_matrix(n, edges))["Two"])
        row = {"workload": f"stored over-budget {len(edges):,} edges", "budget elements": budget,
               "input positions": 2 * len(edges), "first run (stores)": time.perf_counter() - start}
        try:
            tlc.compile(TWO_HOPS, memory_limit=memory_limit, relations="sparse", database=database)()
            row["tlc-memory reused"] = "ran"
        except tlc.TlcError as err:
            row["tlc-memory reused"] = f"refused: {err.message}"
        start = time.perf_counter()
        count = len(tlc.compile(TWO_HOPS, memory_limit=memory_limit, database=database)()["Two"])
        row["reused (auto, DuckDB)"] = time.perf_counter() - start
        if count != expected:
            raise SystemExit(f"stored over-budget relation: reused found {count} tuples, the first run {expected}")
        row["tuples"] = count
        rows.append(row)
    return rows


def weighted(n: int, edges: np.ndarray, seed: int) -> np.ndarray:
    """An n x n weight matrix: uniform weights in [0.1, 5) on ``edges``, +inf elsewhere."""
    w = np.full((n, n), np.inf)
    w[edges[:, 0], edges[:, 1]] = np.random.default_rng(seed).uniform(0.1, 5.0, len(edges))
    return w


def path_graphs():
    """The shortest-path workloads: name and weight matrix."""
    yield "chain-300", weighted(*chain(300), 0)
    yield "grid-20x20", weighted(*grid(20), 1)
    rng = np.random.default_rng(2)
    yield "random-400", weighted(400, np.unique(rng.integers(0, 400, size=(1600, 2)), axis=0), 3)


def run_loop(w: np.ndarray) -> np.ndarray:
    """Shortest paths by the semi-naive loop over temporary tables (tlc's former SQL), as a dense array."""
    import duckdb
    con = duckdb.connect()
    rows = np.argwhere(np.isfinite(w))
    con.register("ws", {"c0": rows[:, 0], "c1": rows[:, 1], "v": w[np.isfinite(w)]})
    con.execute("CREATE TABLE w AS SELECT * FROM ws")
    for statement in LOOP:
        con.execute(statement)
    while True:
        con.execute(LOOP_ROUND)
        if not con.execute("SELECT count(*) FROM new").fetchall()[0][0]:
            break
        for statement in LOOP_MERGE:
            con.execute(statement)
    out = np.full(w.shape, np.inf)
    found = con.execute("SELECT c0, c1, v FROM d").fetchnumpy()
    out[found["c0"], found["c1"]] = found["v"]
    return out


def path_rows(repeat: int) -> list[dict]:
    """Shortest paths: tlc in DuckDB (USING KEY) against the former loop, both checked against scipy."""
    from scipy.sparse.csgraph import csgraph_from_dense, shortest_path
    rows = []
    for name, w in path_graphs():
        dist = shortest_path(csgraph_from_dense(w, null_value=np.inf), directed=True)
        expected = dist.copy()       # D holds paths of at least one edge: its diagonal is the shortest cycle
        np.fill_diagonal(expected, np.min(w + dist.T, axis=1))
        row = {"workload": f"shortest {name}"}
        program = tlc.compile(SHORTEST, relations="duckdb")     # specialised by its first call
        for label, function in (("loop", lambda: run_loop(w)), ("tlc-duckdb", lambda: program(W=w)["D"])):
            row[label], got = best(function, repeat)
            if not np.allclose(got, expected):
                raise SystemExit(f"{name}: {label} differs from scipy.sparse.csgraph.shortest_path")
        rows.append(row)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per method; the best counts (default 3)")
    parser.add_argument("--lubm", action="store_true", help="also the conformance suite's LUBM case (slow to load)")
    parser.add_argument("--paths", action="store_true", help="also shortest paths: USING KEY against the former loop")
    parser.add_argument("--stored", action="store_true", help="also inputs reused from a database file")
    parser.add_argument("--memory-limit", default="16M", help="the budget of the over-budget workload (default 16M)")
    add_json_option(parser, "relations_db")
    args = parser.parse_args(argv)
    import duckdb
    rows = closure_rows(args.repeat)
    print(f"{'workload':<12} {'tuples':>9} {'by hand':>9} {'tlc+duckdb':>11} {'ratio':>6} {'tlc memory':>11} "
          f"{'ratio':>6}")
    for row in rows:
        hand = row["duckdb-by-hand"]
        print(f"{row['workload']:<12} {row['tuples']:>9} {hand:>8.3f}s {row['tlc-duckdb']:>10.3f}s "
              f"{row['tlc-duckdb'] / hand:>6.2f} {row['tlc-memory']:>10.3f}s {row['tlc-memory'] / hand:>6.2f}")
        row["ratio tlc-duckdb"] = row["tlc-duckdb"] / hand
        row["within target"] = row["ratio tlc-duckdb"] <= TARGET
    if args.lubm:
        row = lubm_row(args.repeat)
        print(f"lubm: {row['facts']} facts, {row['tuples']} tuples: tlc memory {row['tlc-memory']:.3f}s, "
              f"tlc+duckdb {row['tlc-duckdb']:.3f}s")
        rows.append(row)
    if args.paths:
        for row in path_rows(args.repeat):
            print(f"{row['workload']}: former loop {row['loop']:.3f}s, tlc+duckdb (USING KEY) {row['tlc-duckdb']:.3f}s "
                  f"({row['tlc-duckdb'] / row['loop']:.2f}x)")
            rows.append(row)
    row = over_budget_row(args.memory_limit)
    print(f"{row['workload']}, {row['input positions']:,} positions, budget {row['budget elements']:,} elements: "
          f"in memory {row['tlc-memory']}; auto {row['tlc-auto (DuckDB)']:.3f}s, {row['tuples']:,} tuples "
          f"({row['strategy']})")
    rows.append(row)
    if args.stored:
        pairs, big = stored_rows(args.repeat, args.memory_limit)
        print(f"{pairs['workload']}: first run {pairs['first run (stores)']:.3f}s; again given the data "
              f"{pairs['given']:.3f}s, reused without it {pairs['reused']:.3f}s "
              f"({pairs['ratio reused/given']:.2f}x), {pairs['tuples']:,} tuples")
        print(f"{big['workload']}, {big['input positions']:,} positions, budget {big['budget elements']:,} elements: "
              f"first run {big['first run (stores)']:.3f}s; reused in memory {big['tlc-memory reused']}; reused "
              f"(auto) {big['reused (auto, DuckDB)']:.3f}s, {big['tuples']:,} tuples")
        rows.extend((pairs, big))
    write_json(args.json, {"meta": machine(duckdb=duckdb.__version__), "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
