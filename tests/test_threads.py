"""A compiled Program is re-entrant: calls from many threads at once each get their own results."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import tlc

THREADS = 8


def run_threads(work, count=THREADS * 4):
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(work, range(count)))


def test_results_belong_to_the_call(backend):
    prog = tlc.compile("H[i] = relu(W[i, j] X[j])\nY[i] = H[i] + B[i]", backend=backend)
    rng = np.random.default_rng(0)
    w = rng.normal(size=(64, 48))
    cases = [(rng.normal(size=48), rng.normal(size=64)) for _ in range(THREADS * 4)]

    def work(k):
        x, b = cases[k]
        got = prog(W=w, X=x, B=b)["Y"]
        return np.allclose(got, np.maximum(w @ x, 0) + b)

    assert all(run_threads(work))


def test_queries_answer_their_own_call(backend):
    prog = tlc.compile("Anc(x, y) = Parent(x, y)\nAnc(x, z) = Anc(x, y) Parent(y, z)", backend=backend)

    def work(k):
        chain = [(f"P{n}", f"P{n + 1}") for n in range(k % 5 + 2)]
        answer = prog.query("Anc(P0, x)", Parent=chain)
        again = prog.query("Anc(P0, x)")       # this thread's last call, not another thread's
        expected = {(f"P{n}",) for n in range(1, k % 5 + 3)}
        return set(answer) == expected and set(again) == expected

    assert all(run_threads(work))


def test_shapes_differ_between_threads():
    prog = tlc.compile("Y[i] = A[i, j] X[j]")

    def work(k):
        n = k % 6 + 1
        a, x = np.full((n, n + 1), float(k)), np.ones(n + 1)
        y = prog(A=a, X=x)["Y"]
        return y.shape == (n,) and np.allclose(y, k * (n + 1)) and f"({n}, {n + 1})" in prog.source()

    assert all(run_threads(work))


def test_factorised_variants_per_thread():
    prog = tlc.compile("Y[i] = W[i, j] X[j]", factorise="rel_err=1e-6")
    rng = np.random.default_rng(1)
    weights = [rng.normal(size=(40, 3)) @ rng.normal(size=(3, 30)) for _ in range(3)]
    x = rng.normal(size=30)

    def work(k):
        w = weights[k % 3]
        return np.allclose(prog(W=w, X=x)["Y"], w @ x, atol=1e-8)

    assert all(run_threads(work, 12))
