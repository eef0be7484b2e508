"""Benchmark the Dask backend (issue 15): ratios against anchors measured in the same run.

Usage: python benchmarks/bench_dask.py [--json OUT] [--full] [--rows N] [--steps T] [--pool-side N] [--pool-chunk C]
       [--skip SECTION]...

1. Out of core: the dense layer ``relu(X[n,k] W[k,m] + B[m])`` summed to a scalar, X a zarr array (k = 256,
   float64) on a LocalCluster of two single-threaded workers limited to 1 GiB each: tlc's dask backend against
   the same computation written by hand in ``dask.array`` (the anchor; target ≤ 1.2×), and the peak memory
   (RSS) of each worker, sampled every 0.1 s, against the limit. ``--full`` makes X the issue's 2 GB
   (1,000,000 rows); by default it has 250,000 rows (512 MB) so the run stays short on a shared machine.
2. In memory, on Dask's default (threaded) scheduler: a matrix chain A×B×C (1024²) and the transformer
   example scaled up (1024 positions, width 256, 4 heads of 64, hidden 1024, 512 tokens) against the NumPy
   backend (the anchor; target ≤ 1.5× on 2 cores).
3. A recursion: an RNN over T steps, per-step cost against the NumPy backend's (T = 1,000 by default, 10,000
   with ``--full``): as tlc runs it (its arrays each fit in one chunk, so it runs eagerly in NumPy in the client),
   and with ``In`` split into chunks of 100 steps, which keeps it a driver loop that persists its state each step;
   each timed call is the second (the first compiles).
4. A pooling, ``P[x/2, y/2] max= Image[x, y]`` over a 4096² image in 256² chunks (``--pool-side``,
   ``--pool-chunk``), on Dask's synchronous scheduler: the seconds tlc's call takes to build the graph, its task
   count and the compute, against ``dask.array.coarsen`` (the anchor; the same maxima).

Times are the best of the repeats; every figure is measured in this run on this machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

# Benchmark the working tree even when another tlc is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
import tlc  # noqa: E402
from report import add_json_option, machine, write_json  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DENSE = "H[n, m] = relu(X[n, k] W[k, m] + B[m])\nS = H[n, m]\n"
CHAIN = "D[i, l] = A[i, j] B[j, k] C[k, l]\n"
RNN = "State[i, *t+1] = tanh(W[i, j] State[j, *t] + U[i, k] In[k, t])\n"
POOL = "P[x/2, y/2] max= Image[x, y]\n"
WORKER_LIMIT = 2**30


def best(fn, repeat: int) -> float:
    """Best wall time of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


class PeakMemory:
    """Samples every worker's RSS while active; ``peak`` is the largest seen, per worker."""

    def __init__(self, client, interval: float = 0.1):
        self.client, self.interval = client, interval
        self.peak: dict[str, int] = {}
        self._stop = threading.Event()

    def _sample(self):
        import psutil
        while not self._stop.is_set():
            for worker, rss in self.client.run(lambda: psutil.Process().memory_info().rss).items():
                self.peak[worker] = max(self.peak.get(worker, 0), rss)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def out_of_core(rows: int, repeat: int) -> dict:
    """Section 1: tlc against hand-written dask.array on a 2-worker, 1 GiB-per-worker LocalCluster."""
    import dask.array as da
    from distributed import Client, LocalCluster
    k, m = 256, 64
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(k, m)), rng.normal(size=m)
    with tempfile.TemporaryDirectory() as scratch:
        store = f"{scratch}/X.zarr"
        block = 50_000
        x = da.random.default_rng(1).standard_normal((rows, k), chunks=(block, k))
        x.to_zarr(store)
        nbytes = rows * k * 8
        with LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=WORKER_LIMIT, dashboard_address=None) \
                as cluster, Client(cluster) as client:
            program = tlc.compile(DENSE, backend="dask", outputs=["S"])

            def by_tlc():
                return float(np.asarray(program(X=da.from_zarr(store), W=w, B=b)["S"]))

            def by_hand():
                xs = da.from_zarr(store)
                return float(da.maximum(xs @ w + b, 0.0).sum().compute())

            assert np.isclose(by_tlc(), by_hand(), rtol=1e-9)
            with PeakMemory(client) as memory:
                t_tlc = best(by_tlc, repeat)
            t_hand = best(by_hand, repeat)
    peak = max(memory.peak.values(), default=0)
    return {"rows": rows, "X_bytes": nbytes, "tlc_s": t_tlc, "dask_by_hand_s": t_hand, "ratio": t_tlc / t_hand,
            "target_ratio": 1.2, "peak_worker_rss": peak, "worker_limit": WORKER_LIMIT,
            "peak_under_limit": peak < WORKER_LIMIT}


def transformer(length: int = 1024, width: int = 256, heads: int = 4, head_width: int = 64, hidden: int = 1024,
                vocabulary: int = 512) -> tuple[str, dict]:
    """The transformer example at a size that keeps 2 cores busy: its source with the constants changed, and
    random inputs (X one token per position)."""
    source = (ROOT / "examples" / "transformer.tl").read_text()
    source = source.replace("const P = 5 ", f"const P = {length} ").replace("const De = 8 ", f"const De = {width} ")
    rng = np.random.default_rng(4)
    tokens = np.zeros((length, vocabulary), dtype=bool)
    tokens[np.arange(length), rng.integers(0, vocabulary, length)] = True
    scale = 1 / np.sqrt(width)
    data = {"X": tokens, "Emb": rng.normal(size=(vocabulary, width)), "Even": np.arange(width) % 2 == 0,
            "Odd": np.arange(width) % 2 == 1, "Dk": float(head_width),
            "WS": rng.normal(size=(width, heads * head_width)) * scale,
            "W1": rng.normal(size=(hidden, width)) * scale, "B1": rng.normal(size=hidden),
            "W2": rng.normal(size=(width, hidden)) / np.sqrt(hidden), "WO": rng.normal(size=(vocabulary, width))}
    for name in ("WQ", "WK", "WV"):
        data[name] = rng.normal(size=(heads, head_width, width)) * scale
    return source, data


def in_memory(repeat: int) -> dict:
    """Section 2: the matrix chain and the transformer example, dask backend against NumPy backend."""
    import dask
    rng = np.random.default_rng(2)
    n = 1024
    chain = {name: rng.normal(size=(n, n)) for name in "ABC"}
    out = {}
    for label, source, data in (("chain", CHAIN, chain),
                                ("transformer", *transformer())):
        reference = tlc.compile(source)
        lazy = tlc.compile(source, backend="dask")
        expected = reference(**data)
        got = lazy(**data)
        for key in expected:
            assert np.allclose(np.asarray(got[key]), np.asarray(expected[key]), rtol=1e-9, atol=1e-12), key
        t_numpy = best(lambda: reference(**data), repeat)
        t_dask = best(lambda: dask.compute(*lazy(**data).values()), repeat)   # shared intermediates once
        out[label] = {"numpy_s": t_numpy, "dask_s": t_dask, "ratio": t_dask / t_numpy, "target_ratio": 1.5}
    out["chain"]["n"] = n
    return out


def recursion(steps: int) -> dict:
    """Section 3: an RNN over ``steps`` steps, per-step cost of the eager NumPy run and of the persisted driver loop
    against NumPy's."""
    rng = np.random.default_rng(3)
    h, i = 32, 16
    data = {"W": rng.normal(size=(h, h)) / h, "U": rng.normal(size=(h, i)) / i, "In": rng.normal(size=(i, steps))}
    reference = tlc.compile(RNN)
    expected = reference(**data)["State"]
    out = {"steps": steps}
    for label, options in (("eager", {}), ("persisted", {"chunks": {"In": (i, 100)}})):
        lazy = tlc.compile(RNN, backend="dask", **options)
        np.asarray(lazy(**data)["State"])     # the first call compiles (and imports Dask): the second is timed
        start = time.perf_counter()
        got = np.asarray(lazy(**data)["State"])
        elapsed = time.perf_counter() - start
        assert np.allclose(got, expected, rtol=1e-9, atol=1e-12)
        assert ("rt.eager(" in lazy.source()) == (label == "eager")
        out[f"dask_{label}_s"], out[f"dask_{label}_per_step_ms"] = elapsed, 1e3 * elapsed / steps
    t_numpy = best(lambda: reference(**data), 1)
    out.update(numpy_s=t_numpy, numpy_per_step_ms=1e3 * t_numpy / steps)
    return out


def pooling(side: int, chunk: int, repeat: int) -> dict:
    """Section 4: a 2x2 max pooling scattered blockwise: tlc's graph build (its call), task count and compute against
    ``dask.array.coarsen``'s."""
    import dask
    import dask.array as da
    image = da.random.RandomState(4).random_sample((side, side), chunks=(chunk, chunk)).persist()
    program = tlc.compile(POOL, backend="dask", chunks={"Image": (chunk, chunk)})
    with dask.config.set(scheduler="synchronous"):
        start = time.perf_counter()
        pooled = program(Image=image)["P"]
        built = time.perf_counter() - start
        tasks = len(dict(pooled.__dask_graph__()))
        t_tlc = best(lambda: np.asarray(program(Image=image)["P"]), repeat)
        t_anchor = best(lambda: np.asarray(da.coarsen(np.max, image, {0: 2, 1: 2})), repeat)
        assert np.array_equal(np.asarray(pooled), np.asarray(da.coarsen(np.max, image, {0: 2, 1: 2})))
    return {"side": side, "chunk": chunk, "blocks": image.numblocks[0] * image.numblocks[1], "build_s": built,
            "tasks": tasks, "tlc_s": t_tlc, "coarsen_s": t_anchor, "ratio": t_tlc / t_anchor}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_json_option(parser, "dask")
    parser.add_argument("--full", action="store_true", help="the issue's sizes: X of 2 GB, 10,000 RNN steps")
    parser.add_argument("--rows", type=int, help="rows of X (k = 256) in section 1 (default 250,000; --full 10^6)")
    parser.add_argument("--steps", type=int, help="RNN steps in section 3 (default 1,000; --full 10,000)")
    parser.add_argument("--repeat", type=int, default=3, help="repeats per timing (best is kept)")
    parser.add_argument("--pool-side", type=int, default=4096, help="side of the pooled image in section 4")
    parser.add_argument("--pool-chunk", type=int, default=256, help="side of its chunks")
    parser.add_argument("--skip", action="append", default=[],
                        choices=("out-of-core", "in-memory", "recursion", "pooling"))
    args = parser.parse_args()
    rows = args.rows or (1_000_000 if args.full else 250_000)
    steps = args.steps or (10_000 if args.full else 1_000)
    results = {"machine": machine()}
    if "out-of-core" not in args.skip:
        r = results["out_of_core"] = out_of_core(rows, args.repeat)
        print(f"out of core: X {r['X_bytes'] / 2**30:.2f} GiB, 2 workers x 1 GiB: tlc {r['tlc_s']:.2f} s, "
              f"dask.array by hand {r['dask_by_hand_s']:.2f} s, ratio {r['ratio']:.2f} (target <= 1.2); "
              f"peak worker RSS {r['peak_worker_rss'] / 2**20:.0f} MiB "
              f"({'under' if r['peak_under_limit'] else 'OVER'} the 1024 MiB limit)")
    if "in-memory" not in args.skip:
        r = results["in_memory"] = in_memory(args.repeat)
        for label, row in r.items():
            print(f"in memory, {label}: dask {row['dask_s'] * 1e3:.1f} ms, numpy {row['numpy_s'] * 1e3:.1f} ms, "
                  f"ratio {row['ratio']:.2f} (target <= 1.5)")
    if "recursion" not in args.skip:
        r = results["recursion"] = recursion(steps)
        print(f"recursion, RNN over {r['steps']} steps: dask eager {r['dask_eager_s']:.3f} s "
              f"({r['dask_eager_per_step_ms']:.3f} ms per step), dask persisted each step {r['dask_persisted_s']:.2f} s "
              f"({r['dask_persisted_per_step_ms']:.2f} ms per step), numpy {r['numpy_s']:.3f} s "
              f"({r['numpy_per_step_ms']:.3f} ms per step)")
    if "pooling" not in args.skip:
        r = results["pooling"] = pooling(args.pool_side, args.pool_chunk, args.repeat)
        print(f"pooling, {r['side']}² in {r['chunk']}² chunks ({r['blocks']} blocks): tlc builds its graph in "
              f"{r['build_s']:.2f} s ({r['tasks']} tasks), call and compute {r['tlc_s']:.2f} s, dask.array.coarsen "
              f"{r['coarsen_s']:.2f} s, ratio {r['ratio']:.2f}")
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
