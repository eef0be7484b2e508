"""Dense semi-naive strata whose recursive rule has a constant or a repeated variable: llvm's bitset rows against NumPy.

Usage: python benchmarks/bench_bitset_selections.py [--nodes N] [--ternary-nodes N] [--nary-nodes N]
       [--negated-nodes N] [--threads 1,2] [--repeat N] [--only NAME,...] [--json OUT]

Three programs on random relations, ``relations="dense"``: paths through nodes of colour 0 (``R(x, z) = R(x, y)
E(y, z) C(y, 0)``, a constant: a column of ``C``) and paths through nodes with a self-loop (``R(x, z) = R(x, y)
E(y, z) E(y, y)``, a repeated variable: the diagonal of ``E``) on ``--nodes`` nodes, and paths over labelled edges
(``R(x, z) = R(x, y) L(y, z, 1)``, a ternary atom with a constant: a slice of ``L``) on ``--ternary-nodes`` nodes (a
sparsely stored ``L`` over more positions than the stratum's relations and ``PACKED_SPARSE`` is packed slice by slice
from its tuples), each with ``R(x, z) = E(x, z)`` (``L(x, z, 0)``) as its base; and three programs over
relations of three arguments on ``--nary-nodes`` nodes: paths through a ternary atom without a constant (``R(x, z) =
R(x, y) T(y, w, z) G(w)``), a ternary head (``R(x, y, w) = R(x, y, z) F(z, w)`` from ``R(x, y, z) = E(x, y) F(y,
z)``: every path's first edge) and paths with their lengths (``R(x, z, m) = R(x, y, n) E(y, z) Succ(n, m)``). Six
more are rules the bitset planner once refused (``tlc_runtime.bitset_plan``): on ``--nary-nodes`` nodes a head
repeating its last variable (``R(x, z, x) = R(x, y, x) F(y, z)``), paths keeping one label (``R(x, l, z) = R(x, l, y)
L(y, l, z)``, two variables shared), a join over two shared variables of which one is then projected (``R(x, z) =
A(x, y, w) Q(y, w, z)``, ``Q(y, w, z) = R(y, z) C(w)``) and a variable in three atoms (``R(x, z, w) = E(x, y) R(y, z,
_u) F(y, w)``); on ``--negated-nodes`` nodes negated atoms over variables no one atom holds (``R(y) = R(x) B(y)
~E(x, y)``, ``R(x) = E(x, y) R(y) F(y, z) ~G(x, z)``). Each program is compiled once
per method, called once (planning, emitting and building kernels), then called ``--repeat`` more times, the methods
taking turns; the best of those calls counts:
the llvm backend once per ``--threads`` count (the rules joined on bitset rows: ``explain``'s notes are printed) and
the NumPy backend (dense float products). Every method must derive as many tuples. The load average is printed: the
machine is shared, so figures taken under load say so.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmark the working tree
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
import tlc  # noqa: E402
from report import add_json_option, machine, write_json  # noqa: E402

PROGRAMS = {
    "constant": "R(x, z) = E(x, z)\nR(x, z) = R(x, y) E(y, z) C(y, 0)\n",
    "repeated": "R(x, z) = E(x, z)\nR(x, z) = R(x, y) E(y, z) E(y, y)\n",
    "ternary": "R(x, z) = L(x, z, 0)\nR(x, z) = R(x, y) L(y, z, 1)\n",
    "through ternary": "R(x, z) = E(x, z)\nR(x, z) = R(x, y) T(y, w, z) G(w)\n",
    "ternary head": "R(x, y, z) = E(x, y) F(y, z)\nR(x, y, w) = R(x, y, z) F(z, w)\n",
    "path lengths": "R(x, y, n) = E(x, y) One(n)\nR(x, z, m) = R(x, y, n) E(y, z) Succ(n, m)\n",
    "repeated last": "R(x, y, x) = E(x, y)\nR(x, z, x) = R(x, y, x) F(y, z)\n",
    "same label": "R(x, l, z) = L(x, l, z)\nR(x, l, z) = R(x, l, y) L(y, l, z)\n",
    "two shared": "R(x, z) = E(x, z)\nR(x, z) = A(x, y, w) Q(y, w, z)\nQ(y, w, z) = R(y, z) C(w)\n",
    "three holders": "R(x, z, w) = E(x, z) F(z, w)\nR(x, z, w) = E(x, y) R(y, z, _u) F(y, w)\n",
    "negated pairs": "R(x) = S(x)\nR(y) = R(x) B(y) ~E(x, y)\n",
    "negated through": "R(x) = S(x)\nR(x) = E(x, y) R(y) F(y, z) ~G(x, z)\n",
}
NARY = ("through ternary", "ternary head", "path lengths", "repeated last", "same label", "two shared", "three holders")
NEGATED = ("negated pairs", "negated through")
"""The programs with a negated atom no one atom covers (``--negated-nodes``)."""
"""The programs over relations of three arguments (``--nary-nodes``)."""


def inputs(name: str, n: int, rng) -> dict:
    """The relations of program ``name`` on ``n`` nodes: 2 edges a node (3 through coloured or looped nodes, so
    paths spread), half the nodes of colour 0 (of 4), 60% with a self-loop, 2 edges a node per label; ``T`` 3 pairs
    ``(w, z)`` a node (tuples), half the ``w`` in ``G``; path lengths counted up to ``n``. The once refused rules:
    1.5 to 3 edges a node (a label), ``A`` ``n`` pairs a node, a tenth of the nodes in ``C``; the negated ones half of
    all pairs and nodes (``S``: node 0, or 1% of them)."""
    if name == "constant":
        return {"E": rng.random((n, n)) < 3 / n, "C": np.eye(4, dtype=bool)[rng.integers(0, 2, n) * 2]}
    if name == "repeated":
        edges = rng.random((n, n)) < 3 / n
        edges[np.diag_indices(n)] = rng.random(n) < 0.6
        return {"E": edges}
    if name == "through ternary":
        triples = np.argwhere(rng.random((n, n, n)) < 3 / n ** 2)       # as tuples: how a large relation comes
        return {"E": rng.random((n, n)) < 2 / n, "T": tlc.Rows(triples), "G": rng.random(n) < 0.5}
    if name == "ternary head":
        return {"E": rng.random((n, n)) < 2 / n, "F": rng.random((n, n)) < 1.5 / n}
    if name == "path lengths":
        return {"E": rng.random((n, n)) < 1.5 / n, "One": np.arange(n) == 1, "Succ": np.eye(n, k=1, dtype=bool)}
    if name == "repeated last":
        return {"E": rng.random((n, n)) < 2 / n, "F": rng.random((n, n)) < 2 / n}
    if name == "same label":
        return {"L": rng.random((n, n, n)) < 1.5 / n}
    if name == "two shared":
        return {"E": rng.random((n, n)) < 1 / n, "A": rng.random((n, n, n)) < 1 / n, "C": rng.random(n) < 0.1}
    if name == "three holders":
        return {"E": rng.random((n, n)) < 3 / n, "F": rng.random((n, n)) < 3 / n}
    if name == "negated pairs":
        return {"S": np.arange(n) == 0, "B": rng.random(n) < 0.5, "E": rng.random((n, n)) < 0.5}
    if name == "negated through":
        return {"S": rng.random(n) < 0.01, "E": rng.random((n, n)) < 1.5 / n, "F": rng.random((n, n)) < 2 / n,
                "G": rng.random((n, n)) < 0.5}
    return {"L": rng.random((n, n, 2)) < 2 / n}


def measure(args) -> dict:
    """Best call time and tuples per program and method."""
    threads = [int(t) for t in args.threads.split(",")]
    report = {}
    for name, source in PROGRAMS.items():
        if args.only and name not in args.only.split(","):
            continue
        nodes = args.nary_nodes if name in NARY else args.ternary_nodes if name == "ternary" else \
            args.negated_nodes if name in NEGATED else args.nodes
        data = inputs(name, nodes, np.random.default_rng(0))
        methods = {f"llvm dense, {t} thread{'s' if t != 1 else ''}": tlc.compile(
            source, backend="llvm", relations="dense", threads=t) for t in threads}
        methods["numpy dense"] = tlc.compile(source, relations="dense")
        notes = methods[next(iter(methods))].explain(**data).split("llvm backend:")[-1]
        print(f"\n{name}: {nodes} nodes; load average {os.getloadavg()[0]:.2f}{notes.rstrip()}")
        first, best, tuples = {}, {m: float("inf") for m in methods}, {}
        for method, program in methods.items():
            start = time.perf_counter()
            tuples[method] = int(np.asarray(program(**data)["R"]).sum())
            first[method] = time.perf_counter() - start
        for _ in range(args.repeat):
            for method, program in methods.items():
                start = time.perf_counter()
                program(**data)
                best[method] = min(best[method], time.perf_counter() - start)
        anchor = best["numpy dense"]
        for method in methods:
            print(f"  {method:<22} best {best[method]:8.4f} s  first call {first[method]:8.4f} s  "
                  f"NumPy / this {anchor / best[method]:6.1f}x  {tuples[method]} tuples")
        if len(set(tuples.values())) != 1:
            raise SystemExit(f"{name}: methods disagree on the number of tuples: {tuples}")
        report[name] = {"best_seconds": best, "first_call_seconds": first, "tuples": tuples,
                        "load_average": os.getloadavg()}
    return report


def main() -> None:
    """Parse the options, measure, print and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=3000, help="nodes of every relation (default 3000)")
    parser.add_argument("--ternary-nodes", type=int, default=1400,
                        help="nodes of the ternary program (default 1400: L's 2n² positions stay within "
                             "relational_bitsets.PACKED_SPARSE, so the stratum packs it whole)")
    parser.add_argument("--nary-nodes", type=int, default=160,
                        help="nodes of the programs over relations of three arguments (default 160: 4.1M positions)")
    parser.add_argument("--negated-nodes", type=int, default=2000,
                        help="nodes of the programs with a negated atom no one atom covers (default 2000: their "
                             "sparsely stored binary relations stay within PACKED_SPARSE, so the stratum packs them)")
    parser.add_argument("--only", default="", help="comma-separated names of the programs to run (default: all)")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts of the llvm runs")
    parser.add_argument("--repeat", type=int, default=5, help="calls per method after the first; the best counts")
    add_json_option(parser, "bitset_selections")
    args = parser.parse_args()
    started = time.perf_counter()
    results = {"machine": machine(), "programs": measure(args)}
    write_json(args.json, results, started)


if __name__ == "__main__":
    main()
