"""Benchmark one training step (forward, gradient and Adam update) of tlc against JAX and HIPS autograd, in one run.

Usage: python benchmarks/bench_train.py [--json OUT] [--repeat N] [--quick] [--backends numpy,llvm] [--jax-threads 1]

Cases: the paper's MLP on the digits (examples/digits_mlp.tl, full batch: scikit-learn's digits when installed,
else random data of the same shape) and one transformer block (multi-head attention, concat, lnorm, MLP,
softmax cross-entropy) on a batch of random sequences. Each step is timed as training runs it: tlc's one compiled
call of the update program (``tlc.train``'s loop), ``jax.jit`` of value-and-grad plus the same Adam update (CPU,
float64 like tlc), and ``autograd.grad`` plus the Adam update in NumPy. Times are the best of N steps after a
warm-up (compilation excluded). Before timing, each anchor's gradients are checked against tlc's on the same
parameters. Each anchor is optional: skipped when its package is not installed (pip install 'tlc[bench-train]').

Threads: tlc and autograd run NumPy on the calling thread with BLAS's threads (set OPENBLAS_NUM_THREADS=1 on a shared
machine); XLA has its own thread pool (``--jax-threads 1`` confines it to one thread: XLA_FLAGS
``--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1``). The run prints the BLAS and XLA settings, and
for each engine its best CPU time per step (steadier than wall time on a shared machine, for the engines computing on
the calling thread: the process clock can lag behind XLA's pool threads) and its process CPU time over wall time
during the timed steps: above 1 means more than one thread was busy.

Targets (issue 14): tlc's step time <= 1.5x JAX's and >= 3x faster than autograd. Also reported: the gradient
program's FLOPs against the forward program's (target within 3x): the planner's contraction FLOPs plus one per
element per elementwise operation, counted over the operation's operands' indices (as the array backends evaluate
it), not over its whole equation's index space.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Benchmark the working tree even when another tlc is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
import tlc  # noqa: E402
from tlc.analysis.contractions import equation_flops, free_indices  # noqa: E402
from tlc.api import Program  # noqa: E402
from tlc.gradient import differentiate  # noqa: E402
from tlc.ir import nodes as ir  # noqa: E402
from tlc.train.init import initialise  # noqa: E402
from tlc.train.optimisers import hyper, with_update  # noqa: E402
from report import add_json_option, machine, write_json  # noqa: E402
from tlc_runtime.contraction import contract as tlc_runtime_contract  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LR, B1, B2, EPS = 0.01, 0.9, 0.999, 1e-8

TRANSFORMER = """
const Dk = 8
tensor WQ[4, 8, 32]
tensor WK[4, 8, 32]
tensor WV[4, 8, 32]
tensor WS[32, 32]
tensor W1[64, 32]
tensor B1[64]
tensor W2[32, 64]
tensor WO[16, 32]

Query[b, h, p, k] = WQ[h, k, d] X[b, p, d]
Key[b, h, p, k] = WK[h, k, d] X[b, p, d]
Val[b, h, p, v] = WV[h, v, d] X[b, p, d]
Comp[b, h, p, q.] = softmax(Query[b, h, p, k] Key[b, h, q, k] / sqrt(Dk))
Attn[b, h, p, v] = Comp[b, h, p, q] Val[b, h, q, v]
Merge[b, p, m] = concat(Attn[b, h, p, v])
S1[b, p, d.] = lnorm(WS[d, m] Merge[b, p, m] + X[b, p, d])
Hid[b, p, e] = relu(W1[e, d] S1[b, p, d] + B1[e])
S2[b, p, d.] = lnorm(W2[d, e] Hid[b, p, e] + S1[b, p, d])
Y[b, p, t.] = softmax(WO[t, d] S2[b, p, d])
C[b, p] = T[b, p, t] log(Y[b, p, t])
L avg= -C[b, p]
"""


@dataclass
class Case:
    name: str
    source: str
    data: dict
    loss_np: object                     # loss(params, data, np) for a NumPy-like module np
    result: dict = field(default_factory=dict)


def _log_softmax(z, np_):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np_.log(np_.exp(shifted).sum(axis=-1, keepdims=True))


def _lnorm(x, np_):
    centred = x - x.mean(axis=-1, keepdims=True)
    return centred / np_.sqrt((centred * centred).mean(axis=-1, keepdims=True) + 1e-5)


def mlp_loss(p, data, np_):
    """examples/digits_mlp.tl in a NumPy-like module: the mean softmax cross-entropy."""
    h = np_.maximum(data["X"] @ p["W1"].T + p["B1"], 0.0)
    z = h @ p["W2"].T + p["B2"]
    return -(data["Y"] * _log_softmax(z, np_)).sum(axis=1).mean()


def transformer_loss(p, data, np_):
    """TRANSFORMER in a NumPy-like module."""
    x = data["X"]
    b, n, _ = x.shape
    q = np_.einsum("hkd,bpd->bhpk", p["WQ"], x)
    k = np_.einsum("hkd,bpd->bhpk", p["WK"], x)
    v = np_.einsum("hvd,bpd->bhpv", p["WV"], x)
    scores = np_.einsum("bhpk,bhqk->bhpq", q, k) / math.sqrt(8.0)
    comp = np_.exp(_log_softmax(scores, np_))
    attn = np_.einsum("bhpq,bhqv->bhpv", comp, v)
    merge = np_.reshape(np_.transpose(attn, (0, 2, 1, 3)), (b, n, -1))
    s1 = _lnorm(merge @ p["WS"].T + x, np_)
    hid = np_.maximum(s1 @ p["W1"].T + p["B1"], 0.0)
    s2 = _lnorm(hid @ p["W2"].T + s1, np_)
    logy = _log_softmax(s2 @ p["WO"].T, np_)
    return -(data["T"] * logy).sum(axis=2).mean()


def digits(quick: bool) -> dict:
    """The digits training split (1437 images) or, without scikit-learn, random data of that shape."""
    try:
        from sklearn.datasets import load_digits
        d = load_digits()
        x, labels = d.data[:1437] / 16.0, d.target[:1437]
    except ImportError:
        rng = np.random.default_rng(0)
        x, labels = rng.uniform(0.0, 1.0, (1437, 64)), rng.integers(10, size=1437)
    if quick:
        x, labels = x[:200], labels[:200]
    return {"X": x, "Y": np.eye(10)[labels]}


def sequences(quick: bool) -> dict:
    """A batch of random embedded sequences and one-hot next tokens."""
    rng = np.random.default_rng(1)
    batch = 4 if quick else 16
    return {"X": rng.normal(size=(batch, 16, 32)), "T": np.eye(16)[rng.integers(16, size=(batch, 16))]}


def cases(quick: bool) -> list[Case]:
    return [Case("digits MLP", (ROOT / "examples" / "digits_mlp.tl").read_text(), digits(quick), mlp_loss),
            Case("transformer block", TRANSFORMER, sequences(quick), transformer_loss)]


@dataclass
class Timing:
    """One engine's step: the best wall time, the best process CPU time of one step, and the CPU time over the wall
    time of all the timed steps (above 1: more than one thread busy; well below 1: the machine is shared)."""

    wall: float
    cpu: float
    busy: float


def best(step, repeat: int, budget: float = 20.0) -> Timing:
    """``repeat`` calls of ``step`` timed after one warm-up call (fewer past ``budget`` seconds)."""
    step()
    walls, cpus, start, cpu = [], [], time.perf_counter(), time.process_time()
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        step()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
        if time.perf_counter() - start > budget:
            break
    return Timing(min(walls), min(cpus), (time.process_time() - cpu) / (time.perf_counter() - start))


def record(result: dict, name: str, timing: Timing) -> str:
    """Store ``timing`` under ``name`` in ``result``; its printed form."""
    result[f"{name}_s"], result[f"{name}_cpu_s"], result[f"{name}_cpu_per_wall"] = timing.wall, timing.cpu, timing.busy
    return f"{timing.wall * 1e3:.2f} ms per step (CPU time {timing.cpu * 1e3:.2f} ms; CPU/wall {timing.busy:.2f})"


def threads() -> dict:
    """The thread settings the engines run with: BLAS's pools (threadpoolctl, when installed) and XLA's flags."""
    try:
        from threadpoolctl import threadpool_info
        blas = {f"{pool['internal_api']} threads": pool["num_threads"] for pool in threadpool_info()}
    except ImportError:
        blas = {"OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "unset")}
    return {**blas, "XLA_FLAGS": os.environ.get("XLA_FLAGS", "unset (XLA's pool: one thread per core)"),
            "cores": os.cpu_count()}


def replayed(step, pick, rounds: int = 5) -> tuple[float, int]:
    """The CPU time of the calls one ``step`` makes that ``pick(frame)`` records (as ``(function, args, kwargs)``,
    else None) at their Python call event, replayed alone on the same operands (the best of ``rounds`` replays), and
    their number."""
    calls = []

    def hook(frame, event, arg):
        if event == "call":
            call = pick(frame)
            if call is not None:
                calls.append(call)
    sys.setprofile(hook)
    try:
        step()
    finally:
        sys.setprofile(None)
    times = []
    for _ in range(rounds):
        start = time.process_time()
        for function, args, kwargs in calls:
            function(*args, **kwargs)
        times.append(time.process_time() - start)
    return min(times), len(calls)


def tlc_contraction(frame):
    """``pick`` for ``replayed``: a call of ``tlc_runtime.contract`` (every contraction a tlc step runs in BLAS or
    numpy.einsum), without its ``out=``."""
    if frame.f_code is not tlc_runtime_contract.__code__:
        return None
    names = frame.f_locals
    return tlc_runtime_contract, (names["subscripts"], *names["operands"]), {"optimize": names["optimize"]}


def autograd_blas(frame):
    """``pick`` for ``replayed``: the NumPy call inside an autograd primitive of matmul, dot, einsum or tensordot
    (the forward pass's products and the vector-Jacobian products).

    A primitive called on boxed values (the forward pass) unboxes them and calls itself again, possibly by way of
    NumPy's ufunc dispatch; only the innermost call, on no box, runs the NumPy function, so only it is recorded.
    (Recording the outermost call instead, by ``called_by_autograd_dispatcher``, counted ``h @ W2.T`` twice and
    missed ``X @ W1.T``, which NumPy dispatches to the box directly.)"""
    from autograd.tracer import Box
    if frame.f_code.co_name != "f_wrapped":
        return None
    function = frame.f_locals.get("f_raw")
    if not any(function is f for f in (np.matmul, np.dot, np.einsum, np.tensordot)):
        return None
    args = frame.f_locals["args"]
    if any(isinstance(a, Box) for a in args):
        return None
    return function, tuple(args), dict(frame.f_locals["kwargs"])


def flops(program: Program, inputs: dict) -> float:
    """The planner's contraction FLOPs plus one per element per elementwise operation, over every equation; an
    operation's elements are those of its operands' indices (as the array backends evaluate it), not the whole
    equation's index space."""
    spec = program.specialisation(**inputs)
    total = 0.0
    for k, eq in enumerate(program.ir.equations):
        ranges = spec.shapes.ranges.get(k, {})
        total += equation_flops(eq, ranges)
        free = free_indices(eq)
        for path, node in ir.with_paths(eq.rhs):
            if isinstance(node, (ir.Sum, ir.Neg, ir.Power, ir.Call)):
                variables = {v for c in range(len(ir.children(node))) for v in free[path + (c,)]}
                total += math.prod(max(0, ranges[v][1] - ranges[v][0]) for v in variables)
    return total


class TlcStep:
    """One training step as ``tlc.train`` runs it: the update program called once, its outputs read back."""

    def __init__(self, case: Case, backend: str):
        program = tlc.api.frontend(case.source)
        self.wrt = [n for n in tlc.gradient.default_wrt(program) if n not in case.data]
        self.gradient = differentiate(program, "L", self.wrt)
        self.update = with_update(self.gradient, "L", "adam")
        self.compiled = Program(self.update.program, backend)
        self.params = initialise(program, self.wrt, seed=0)
        self.state = {w: {s: np.zeros_like(self.params[w]) for s in self.update.state[w]} for w in self.wrt}
        self.data = case.data
        self.forward = Program(program, backend)

    def inputs(self, step: int = 1) -> dict:
        u = self.update
        return {**self.data, **self.params, **{u.scalars[k]: v for k, v in hyper("adam", LR, step).items()},
                **{u.state[w][s][0]: self.state[w][s] for w in self.wrt for s in u.state[w]}}

    def gradients(self) -> dict:
        """The gradients at the current parameters (the gradient program alone: the update program keeps only the
        updated tensors)."""
        results = Program(self.gradient.program, self.compiled.backend)(**self.data, **self.params)
        return {w: np.asarray(results[self.gradient.gradients[w]]) for w in self.wrt}

    def __call__(self) -> None:
        results = self.compiled(**self.inputs())
        self.params = {w: np.asarray(results[self.update.next[w]]) for w in self.wrt}
        self.state = {w: {s: np.asarray(results[n]) for s, (_, n) in self.update.state[w].items()} for w in self.wrt}


def adam(params, grads, m, v, t, np_):
    """One Adam update with tlc's hyper-parameters and bias corrections."""
    m = {w: B1 * m[w] + (1 - B1) * grads[w] for w in params}
    v = {w: B2 * v[w] + (1 - B2) * grads[w] ** 2 for w in params}
    c1, c2 = 1 / (1 - B1 ** t), 1 / (1 - B2 ** t)
    return {w: params[w] - LR * (c1 * m[w]) / (np_.sqrt(c2 * v[w]) + EPS) for w in params}, m, v


def jax_step(case: Case, params: dict):
    """``(step, gradients)`` with JAX on CPU in float64, or None without jax."""
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    import jax.numpy as jnp

    data = {k: jnp.asarray(v) for k, v in case.data.items()}
    value_and_grad = jax.value_and_grad(lambda p: case.loss_np(p, data, jnp))

    @jax.jit
    def update(p, m, v, t):
        loss, grads = value_and_grad(p)
        return (loss, *adam(p, grads, m, v, t, jnp))

    state = {"p": {w: jnp.asarray(a) for w, a in params.items()}}
    state["m"] = {w: jnp.zeros_like(a) for w, a in state["p"].items()}
    state["v"] = {w: jnp.zeros_like(a) for w, a in state["p"].items()}

    def step():
        loss, state["p"], state["m"], state["v"] = update(state["p"], state["m"], state["v"], 1.0)
        jax.block_until_ready(state["p"])

    grads = jax.jit(jax.grad(lambda p: case.loss_np(p, data, jnp)))(dict(state["p"]))
    return step, {w: np.asarray(g) for w, g in grads.items()}


def autograd_step(case: Case, params: dict):
    """``(step, gradients)`` with HIPS autograd, or None without it."""
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        return None
    gradient = autograd.grad(lambda p: case.loss_np(p, case.data, anp))
    state = {"p": dict(params), "m": {w: np.zeros_like(a) for w, a in params.items()},
             "v": {w: np.zeros_like(a) for w, a in params.items()}}

    def step():
        state["p"], state["m"], state["v"] = adam(state["p"], gradient(state["p"]), state["m"], state["v"], 1.0, np)

    return step, gradient(dict(params))


def run_case(case: Case, backends: list[str], repeat: int) -> None:
    print(f"{case.name}:")
    steps = {b: TlcStep(case, b) for b in backends}
    first = steps[backends[0]]
    params = dict(first.params)
    reference = first.gradients()
    forward_flops = flops(first.forward, {**first.data, **first.params})
    gradient_flops = flops(first.compiled, first.inputs())
    case.result["forward_flops"], case.result["train_step_flops"] = forward_flops, gradient_flops
    print(f"  FLOPs: forward {forward_flops:.3g}, forward + gradient + update {gradient_flops:.3g} "
          f"(ratio {gradient_flops / forward_flops:.2f}, target <= 3)")
    for backend, step in steps.items():
        print(f"  tlc {backend}: {record(case.result, f'tlc_{backend}', best(step, repeat))}")
    for anchor, make in (("jax", jax_step), ("autograd", autograd_step)):
        made = make(case, params)
        if made is None:
            print(f"  {anchor}: not installed, skipped")
            continue
        step, grads = made
        for w in grads:
            np.testing.assert_allclose(grads[w], reference[w], rtol=1e-7, atol=1e-10, err_msg=f"{anchor} d/d{w}")
        timing = best(step, repeat)
        seconds = timing.wall
        print(f"  {anchor}: {record(case.result, anchor, timing)}; gradients agree with tlc's")
        if anchor == "autograd":
            blas, count = replayed(step, autograd_blas)
            mine, mine_count = replayed(steps[backends[0]], tlc_contraction)
            case.result.update(autograd_blas_s=blas, tlc_contractions_s=mine)
            print(f"    CPU time of autograd's {count} matmul/dot/einsum/tensordot calls, replayed alone: {blas * 1e3:.2f} "
                  f"ms ({blas / timing.cpu:.0%} of its step's); of tlc {backends[0]}'s {mine_count} contractions alone: "
                  f"{mine * 1e3:.2f} ms; a step 3x faster than autograd's takes {timing.cpu / 3 * 1e3:.2f} ms")
        for backend in backends:
            ratio = case.result[f"tlc_{backend}_s"] / seconds
            case.result[f"tlc_{backend}_over_{anchor}"] = ratio
            target = "target <= 1.5" if anchor == "jax" else "target <= 0.33"
            by_cpu = ""
            if anchor == "autograd":    # both compute on the calling thread (XLA's pool threads' CPU time can lag)
                case.result[f"tlc_{backend}_over_{anchor}_cpu"] = cpu = case.result[f"tlc_{backend}_cpu_s"] / timing.cpu
                by_cpu = f", by CPU time {cpu:.2f}"
            print(f"    tlc {backend} / {anchor} = {ratio:.2f}{by_cpu} ({target})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_json_option(parser, "train")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test, not the targets)")
    parser.add_argument("--backends", default="numpy,llvm", help="tlc backends to time, comma-separated")
    parser.add_argument("--jax-threads", type=int, choices=[1], help="confine XLA to one thread (set before jax loads)")
    args = parser.parse_args()
    if args.jax_threads == 1:
        os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    wall = time.perf_counter()
    settings = threads()
    print("threads: " + ", ".join(f"{k} {v}" for k, v in settings.items()))
    backends = [b for b in args.backends.split(",") if b]
    all_cases = cases(args.quick)
    for case in all_cases:
        run_case(case, backends, args.repeat)
    out = {"machine": machine(), "quick": args.quick, "threads": settings,
           "cases": {c.name: c.result for c in all_cases}}
    write_json(args.json, out, wall)


if __name__ == "__main__":
    main()
