"""Benchmark tlc's contraction-order search against opt_einsum's ``greedy`` and ``auto`` in one run.

Usage: python benchmarks/bench_paths.py [--json OUT]

For each generated tensor network it prints log10 FLOPs and log2 largest intermediate for opt_einsum
``greedy``, opt_einsum ``auto`` (what ``opt_einsum.contract`` uses by default) and ``tlc.contract.contract_path``
with its default budget, the search times, and the time to contract on NumPy (``opt_einsum.contract`` with the
given path; skipped when the estimate is over ~20 s). FLOPs use opt_einsum's ``PathInfo.opt_cost`` convention
in every column: a pairwise step costs the product of the extents of all its indices, doubled when it sums one.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import opt_einsum
from opt_einsum.parser import get_symbol

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmark the working tree
from tlc.contract import contract_path  # noqa: E402

SKIP_SECONDS = 20.0  # estimated contraction time above which a contraction is not run
FLOPS_PER_SECOND = 1e9  # NumPy speed on large intermediates (measured ~2.4e9 here), for the skip estimate
SECONDS_PER_STEP = 1e-4  # per-step overhead for the skip estimate
TARGETS = {"rr-120": 7.7, "lattice-3x3x4": 5.9}  # log10 FLOPs tlc must reach
SEARCH_LIMIT = 10.0  # seconds, for the targeted instances


def graph_network(g: nx.Graph, bonds: dict[tuple[int, int], int]) -> tuple[str, list[tuple[int, ...]]]:
    """One tensor per node with its edges as indices, every edge summed: a scalar contraction."""
    edge_symbol = {frozenset(e): get_symbol(k) for k, e in enumerate(g.edges())}
    size = {edge_symbol[frozenset(e)]: bonds[e] for e in g.edges()}
    terms = ["".join(edge_symbol[frozenset((u, v))] for v in g.neighbors(u)) for u in g.nodes()]
    return ",".join(terms) + "->", [tuple(size[c] for c in t) for t in terms]


def random_regular(n: int, seed: int = 0) -> tuple[str, list[tuple[int, ...]]]:
    """Random 3-regular graph on ``n`` nodes, bond dimension 2."""
    g = nx.random_regular_graph(3, n, seed=seed)
    return graph_network(g, {e: 2 for e in g.edges()})


def lattice(dims: tuple[int, ...], bond: tuple[int, int], seed: int = 0) -> tuple[str, list[tuple[int, ...]]]:
    """Open-boundary lattice with bond dimensions drawn from ``bond`` (inclusive)."""
    g = nx.convert_node_labels_to_integers(nx.grid_graph(dim=list(dims)))
    rng = np.random.default_rng(seed)
    return graph_network(g, {e: int(rng.integers(bond[0], bond[1] + 1)) for e in g.edges()})


def matrix_chain(n: int, seed: int = 0) -> tuple[str, list[tuple[int, ...]]]:
    """Product of ``n`` matrices with random sizes in [2, 200]."""
    dims = np.random.default_rng(seed).integers(2, 201, size=n + 1).tolist()
    terms = [get_symbol(i) + get_symbol(i + 1) for i in range(n)]
    return ",".join(terms) + "->" + get_symbol(0) + get_symbol(n), list(zip(dims, dims[1:]))


def mps_norm(length: int, bond: int, phys: int) -> tuple[str, list[tuple[int, ...]]]:
    """<psi|psi> of an open matrix-product state: ket and bra sites joined by their physical indices."""
    sym = iter(get_symbol(k) for k in range(10**6))
    phys_ix = [next(sym) for _ in range(length)]
    terms, shapes = [], []
    for _ in ("ket", "bra"):
        links = [next(sym) for _ in range(length - 1)]
        for i in range(length):
            left = [links[i - 1]] if i else []
            right = [links[i]] if i < length - 1 else []
            terms.append("".join(left + [phys_ix[i]] + right))
            shapes.append(tuple([bond] * len(left) + [phys] + [bond] * len(right)))
    return ",".join(terms) + "->", shapes


INSTANCES = {
    "rr-60": lambda: random_regular(60),
    "rr-120": lambda: random_regular(120),
    "lattice-6x6": lambda: lattice((6, 6), (2, 4)),
    "lattice-3x3x4": lambda: lattice((3, 3, 4), (2, 2)),
    "chain-60": lambda: matrix_chain(60),
    "mps-30": lambda: mps_norm(30, 16, 2),
}


def estimate_seconds(info) -> float:
    """Rough NumPy time for a path, to decide whether to run it."""
    return float(info.opt_cost) / FLOPS_PER_SECOND + len(info.path) * SECONDS_PER_STEP


def time_contraction(eq: str, arrays: list[np.ndarray], path, info) -> tuple[float | None, object]:
    """Seconds to run ``opt_einsum.contract`` along ``path`` (None when skipped) and the result."""
    if estimate_seconds(info) > SKIP_SECONDS:
        return None, None
    start = time.perf_counter()
    result = opt_einsum.contract(eq, *arrays, optimize=list(path))
    return time.perf_counter() - start, result


def run_instance(name: str) -> dict:
    """All measurements for one network."""
    eq, shapes = INSTANCES[name]()
    rng = np.random.default_rng(1)
    # Entries ~ 1/sqrt(size) make each summed bond contribute ~1, keeping 100+ factors in float64's range.
    arrays = [rng.uniform(0.5, 1.5, size=s) / math.sqrt(math.prod(s)) for s in shapes]
    row: dict = {"name": name, "operands": len(shapes)}
    paths = {}
    for method in ("greedy", "auto", "tlc"):
        start = time.perf_counter()
        if method == "tlc":
            path, info = contract_path(eq, *shapes, shapes=True)
            row["tlc_strategy"] = info.strategy
        else:
            path, info = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize=method)
        search = time.perf_counter() - start
        paths[method] = (path, info)
        row[method] = {
            "log10_flops": round(math.log10(max(1, float(info.opt_cost))), 3),
            "log2_largest": round(math.log2(max(1, float(info.largest_intermediate))), 2),
            "search_s": round(search, 4),
        }
    results = {}
    for method in ("greedy", "auto", "tlc"):
        path, info = paths[method]
        same = [m for m in results if paths[m][0] == path]
        if same:  # opt_einsum's auto is greedy above 14 operands: same path, time it once
            row[method]["contract_s"] = row[same[0]]["contract_s"]
            results[method] = results[same[0]]
            continue
        seconds, results[method] = time_contraction(eq, arrays, path, info)
        row[method]["contract_s"] = None if seconds is None else round(seconds, 4)
    measured = [results[m] for m in results if results[m] is not None]
    row["results_agree"] = all(np.allclose(r, measured[0], rtol=1e-6) for r in measured)
    return row


def check_targets(rows: list[dict]) -> list[tuple[str, bool, str]]:
    """PASS/FAIL lines for the issue's targets."""
    checks = []
    for row in rows:
        tlc, greedy = row["tlc"], row["greedy"]
        checks.append(
            (
                f"{row['name']}: tlc FLOPs <= greedy",
                tlc["log10_flops"] <= greedy["log10_flops"] + 1e-9,
                f"10^{tlc['log10_flops']} vs 10^{greedy['log10_flops']}",
            )
        )
        if row["name"] in TARGETS:
            goal, name = TARGETS[row["name"]], row["name"]
            checks.append((f"{name}: tlc <= 10^{goal} FLOPs", tlc["log10_flops"] <= goal, f"10^{tlc['log10_flops']}"))
            fast = tlc["search_s"] < SEARCH_LIMIT
            checks.append((f"{name}: search < {SEARCH_LIMIT:g} s", fast, f"{tlc['search_s']} s"))
        auto = row["auto"]
        slow = auto["contract_s"] is None or auto["contract_s"] > 1.0
        if slow:
            base = auto["search_s"] + (auto["contract_s"] if auto["contract_s"] is not None else SKIP_SECONDS)
            ours = tlc["search_s"] + (tlc["contract_s"] if tlc["contract_s"] is not None else math.inf)
            bound = "" if auto["contract_s"] is not None else " (opt_einsum default skipped: > 20 s est.)"
            checks.append(
                (
                    f"{row['name']}: end-to-end tlc < opt_einsum default",
                    ours < base,
                    f"{ours:.2f} s vs {'>' if bound else ''}{base:.2f} s{bound}",
                )
            )
        checks.append((f"{row['name']}: results agree", row["results_agree"], ""))
    return checks


def main() -> None:
    """Run every instance, print the table and the targets, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parent / "results" / "paths.json"
    parser.add_argument("--json", type=Path, default=default, help=f"output JSON (default {default})")
    args = parser.parse_args()

    print("FLOPs: opt_einsum PathInfo.opt_cost convention (pairwise step = product of all its index extents,")
    print("x2 when it sums an index) in every column; size = log2 elements of the largest intermediate.")
    print("search/contract in seconds; contraction is opt_einsum.contract(..., optimize=path) on NumPy;")
    print(f"'skip' = estimated > {SKIP_SECONDS:g} s, not run.\n")
    head = f"{'network':<14}{'ops':>4} | {'greedy flops/size':>17} | {'auto flops/size':>15} | {'tlc flops/size':>14}"
    head += f" | {'search g/a/tlc':>20} | {'contract g/a/tlc':>22} | tlc strategy"
    print(head)
    print("-" * len(head))
    rows = []
    fmt = lambda x: "skip" if x is None else f"{x:.3f}"  # noqa: E731
    for name in INSTANCES:
        row = run_instance(name)
        rows.append(row)
        g, a, t = row["greedy"], row["auto"], row["tlc"]
        print(
            f"{name:<14}{row['operands']:>4} | {g['log10_flops']:>8.2f} /{g['log2_largest']:>6.1f} |"
            f" {a['log10_flops']:>6.2f} /{a['log2_largest']:>6.1f} |"
            f" {t['log10_flops']:>5.2f} /{t['log2_largest']:>6.1f}"
            f" | {g['search_s']:>6.3f} {a['search_s']:>6.3f} {t['search_s']:>6.3f}"
            f" | {fmt(g['contract_s']):>7}{fmt(a['contract_s']):>8}{fmt(t['contract_s']):>7} | {row['tlc_strategy']}",
            flush=True,
        )
    print()
    checks = check_targets(rows)
    for label, ok, detail in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}  {detail}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "opt_einsum": opt_einsum.__version__,
        "cpus": os.cpu_count(),
        "flops_convention": "opt_einsum PathInfo.opt_cost",
    }
    args.json.write_text(
        json.dumps(
            {"meta": meta, "rows": rows, "targets": [{"check": c, "pass": ok, "detail": d} for c, ok, d in checks]},
            indent=1,
        )
        + "\n"
    )
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
