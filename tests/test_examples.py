"""The paper's examples (``examples/*.tl``), each checked against an independent NumPy computation.

Expected values are computed here with plain NumPy (or plain Python for Datalog), never with tlc.
Data is random, seeded, and bounded away from zero so that no test passes by multiplying zeros.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tlc

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def load(name: str, backend: str):
    """Compile ``examples/NAME.tl`` (by path) for ``backend``."""
    return tlc.compile(EXAMPLES / f"{name}.tl", backend=backend)


def nz(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Random values in ±[0.5, 1.5): random signs, never near zero."""
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def relu(x):
    return np.maximum(x, 0.0)


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def layer_norm(x, axis=-1):
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True)          # biased, as in the language
    return (x - mean) / np.sqrt(var + 1e-5)


def close(actual, expected):
    """``actual`` is a float64 array of exactly ``expected``'s shape and values."""
    actual = np.asarray(actual)
    assert actual.dtype == np.float64, actual.dtype
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-12)


def pool(a: np.ndarray, reduce) -> np.ndarray:
    """2x2 pooling with a floor on odd extents."""
    h, w = a.shape[0] // 2, a.shape[1] // 2
    return reduce(a[:2 * h, :2 * w].reshape(h, 2, w, 2), axis=(1, 3))


def _make_data_module():
    spec = importlib.util.spec_from_file_location("make_data", EXAMPLES / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- every example compiles

@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.tl")), ids=lambda p: p.stem)
def test_example_compiles(path):
    tlc.compile(path)


# ---------------------------------------------------------------- 1. perceptron

@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_perceptron(seed, sign, backend):
    rng = np.random.default_rng(seed)
    w, x = nz(rng, 6), sign * nz(rng, 6)
    res = load("perceptron", backend)(W=w, X=x)
    close(res["Y"], np.array(1.0 if w @ x > 0 else 0.0))


def test_perceptron_fires_on_aligned_input(backend):
    rng = np.random.default_rng(10)
    w = nz(rng, 5)
    prog = load("perceptron", backend)
    close(prog(W=w, X=w)["Y"], np.array(1.0))
    close(prog(W=w, X=-w)["Y"], np.array(0.0))


# ---------------------------------------------------------------- 2. MLP

def test_mlp(backend):
    rng = np.random.default_rng(1)
    x, w1, b1, w2, b2 = nz(rng, 5), nz(rng, 4, 5), nz(rng, 4), nz(rng, 3, 4), nz(rng, 3)
    res = load("mlp", backend)(X=x, W1=w1, B1=b1, W2=w2, B2=b2)
    h = relu(w1 @ x + b1)
    close(res["H"], h)
    close(res["Y"], sigmoid(w2 @ h + b2))


@pytest.mark.parametrize("padded", [False, True], ids=["input-layer-only", "zero-padded"])
def test_deep_mlp(padded, backend):
    rng = np.random.default_rng(2)
    layers, width = 4, 5
    w = nz(rng, layers, width, width)
    x0 = nz(rng, width)
    data = np.zeros((layers, width)) if padded else np.zeros((1, width))
    data[0] = x0
    res = load("deep_mlp", backend)(X=data, W=w)
    expected = [x0]
    for i in range(1, layers):
        expected.append(sigmoid(w[i] @ expected[-1]))
    close(res["X"], np.stack(expected))


# ---------------------------------------------------------------- 3. RNN

@pytest.mark.parametrize("steps", [1, 6])
def test_rnn_final_state(steps, backend):
    rng = np.random.default_rng(3)
    hidden, inputs = 4, 3
    w, u, seq = 0.5 * nz(rng, hidden, hidden), nz(rng, hidden, inputs), nz(rng, inputs, steps)
    res = load("rnn", backend)(W=w, U=u, In=seq)
    state = np.zeros(hidden)
    for t in range(steps):
        state = np.tanh(w @ state + u @ seq[:, t])
    close(res["State"], state)


# ---------------------------------------------------------------- 4. CNN

def test_cnn(backend):
    rng = np.random.default_rng(4)
    image, filt = nz(rng, 7, 8), nz(rng, 3, 3)
    res = load("cnn", backend)(Image=image, Filter=filt)
    conv = np.zeros((5, 6))                               # valid: 7-3+1 by 8-3+1
    for dx in range(3):
        for dy in range(3):
            conv += filt[dx, dy] * image[dx:dx + 5, dy:dy + 6]
    feat = relu(conv)
    assert (conv < 0).any() and (conv > 0).any()
    close(res["Conv"], conv)
    close(res["Feat"], feat)
    close(res["MaxPool"], pool(feat, np.max))           # 2x3: the odd last row of Feat is dropped
    close(res["AvgPool"], pool(feat, np.mean))
    close(res["MinPool"], pool(conv, np.min))


# ---------------------------------------------------------------- 5. GNN (Table 1)

def test_gnn(backend):
    rng = np.random.default_rng(5)
    n, d, layers = 6, 3, 2                                # layers = const L in gnn.tl
    neig = rng.random((n, n)) < 0.5
    neig = (neig | neig.T) & ~np.eye(n, dtype=bool)
    neig[np.arange(n), (np.arange(n) + 1) % n] = True
    x, wp, wout = nz(rng, n, d), nz(rng, layers, d, d), nz(rng, d)
    wagg, wself = 0.7, 0.4
    res = load("gnn", backend)(Neig=neig, X=x, WP=wp, WAgg=wagg, WSelf=wself, WOut=wout)

    emb = [x]
    for layer in range(layers):
        z = relu(emb[layer] @ wp[layer].T)                # Z[n, d'] = relu(WP[l, d', d] Emb[n, l, d])
        agg = neig.astype(float) @ z                      # sum over neighbours n'
        emb.append(relu(wagg * agg + wself * emb[layer]))
    emb = np.stack(emb, axis=1)                           # [n, l, d], l = 0..L
    final = emb[:, layers]
    close(res["Emb"], emb)
    close(res["Y"], sigmoid(final @ wout))
    close(res["YEdge"], sigmoid(final @ final.T))
    close(res["YGraph"], np.array(sigmoid((final @ wout).sum())))


# ---------------------------------------------------------------- 6. transformer (Table 2)

def test_transformer(backend):
    rng = np.random.default_rng(6)
    positions, width = 5, 8                               # const P, const De in transformer.tl
    vocab, heads, dk, dv, hidden = 7, 2, 4, 3, 6
    tokens = rng.integers(0, vocab, positions)
    onehot = np.eye(vocab, dtype=bool)[tokens]
    dims = np.arange(width)
    even, odd = dims % 2 == 0, dims % 2 == 1
    emb = nz(rng, vocab, width)
    wq, wk, wv = nz(rng, heads, dk, width) / 2, nz(rng, heads, dk, width) / 2, nz(rng, heads, dv, width) / 2
    ws, w1, b1, w2, wo = (nz(rng, width, heads * dv) / 2, nz(rng, hidden, width) / 2, nz(rng, hidden),
                          nz(rng, width, hidden) / 2, nz(rng, vocab, width))
    res = load("transformer", backend)(X=onehot, Emb=emb, Even=even, Odd=odd, WQ=wq, WK=wk, WV=wv, Dk=dk,
                              WS=ws, W1=w1, B1=b1, W2=w2, WO=wo)

    emb_x = emb[tokens]
    p, d = np.arange(positions)[:, None], dims[None, :]
    pos = even * np.sin(p / 10000 ** (d / width)) + odd * np.cos(p / 10000 ** ((d - 1) / width))
    stream0 = emb_x + pos
    query = np.einsum("hkd,pd->hpk", wq, stream0)
    key = np.einsum("hkd,pd->hpk", wk, stream0)
    val = np.einsum("hvd,pd->hpv", wv, stream0)
    comp = softmax(np.einsum("hpk,hqk->hpq", query, key) / np.sqrt(dk), axis=-1)
    attn = np.einsum("hpq,hqv->hpv", comp, val)
    merge = attn.transpose(1, 0, 2).reshape(positions, heads * dv)
    stream1 = layer_norm(merge @ ws.T + stream0)
    stream2 = layer_norm(relu(stream1 @ w1.T + b1) @ w2.T + stream1)
    y = softmax(stream2 @ wo.T, axis=-1)

    close(res["EmbX"], emb_x)
    close(res["PosEnc"], pos)
    close(res["Comp"], comp)
    close(res["Merge"], merge)
    close(res["Stream1"], stream1)
    close(res["Stream2"], stream2)
    close(res["Y"], y)


# ---------------------------------------------------------------- 7. kernel machines

def test_kernel_machine(backend):
    rng = np.random.default_rng(7)
    x, q = nz(rng, 6, 3), nz(rng, 4, 3)
    lab, a, b, var = rng.choice([-1.0, 1.0], 6), rng.uniform(0.1, 1.0, 6), -0.3, 2.5
    res = load("kernel", backend)(X=x, Q=q, Lab=lab, A=a, B=b, Var=var)

    def sqdist(u, v):
        return ((u[:, None, :] - v[None, :, :]) ** 2).sum(axis=-1)

    kpoly, kgauss = (q @ x.T) ** 2, np.exp(-sqdist(q, x) / var)
    close(res["K"], (x @ x.T) ** 2)
    close(res["KG"], np.exp(-sqdist(x, x) / var))
    close(res["KPoly"], kpoly)
    close(res["KGauss"], kgauss)
    close(res["YPoly"], kpoly @ (a * lab) + b)
    close(res["YGauss"], sigmoid(kgauss @ (a * lab) + b))


# ---------------------------------------------------------------- 8. Bayesian network

def test_bayes_network(backend):
    rng = np.random.default_rng(8)

    def cpt(*shape):
        table = rng.uniform(0.1, 1.0, shape)
        return table / table.sum(axis=-1, keepdims=True)

    pc, ps, pr, pw = cpt(2), cpt(2, 2), cpt(2, 2), cpt(2, 2, 2)
    res = load("bayes", backend)(PC=pc, PS=ps, PR=pr, PW=pw)

    joint = np.zeros((2, 2, 2, 2))
    for c, s, r, w in np.ndindex(2, 2, 2, 2):
        joint[c, s, r, w] = pc[c] * ps[c, s] * pr[c, r] * pw[s, r, w]
    evidence = joint[..., 1].sum()
    close(res["Joint"], joint)
    close(res["PWet"], joint.sum(axis=(0, 1, 2)))
    close(res["PRain"], joint.sum(axis=(0, 1, 3)))
    close(res["PEvidence"], np.array(evidence))
    close(res["PRainGivenWet"], joint[..., 1].sum(axis=(0, 1)) / evidence)


# ---------------------------------------------------------------- 9. Datalog family

PEOPLE = ["Alice", "Bob", "Charlie", "Diana", "Eve", "Frank", "Grace", "Henry"]   # the domain, in order
PARENT = {("Alice", "Bob"), ("Alice", "Grace"), ("Bob", "Charlie"), ("Bob", "Diana"),
          ("Charlie", "Eve"), ("Diana", "Frank")}
SISTER = {("Grace", "Bob"), ("Diana", "Charlie")}


def compose(r, s):
    return {(x, z) for (x, y) in r for (y2, z) in s if y == y2}


def transitive_closure(pairs):
    closure = set(pairs)
    while True:
        new = compose(closure, pairs) - closure
        if not new:
            return closure
        closure |= new


def dense(pairs):
    out = np.zeros((len(PEOPLE), len(PEOPLE)), dtype=bool)
    for x, y in pairs:
        out[PEOPLE.index(x), PEOPLE.index(y)] = True
    return out


def test_family_relations(backend):
    res = load("family", backend)()
    ancestor = transitive_closure(PARENT)
    assert set(res["Parent"]) == PARENT
    assert set(res["Grandparent"]) == compose(PARENT, PARENT)
    assert set(res["Aunt"]) == compose(SISTER, PARENT) == {("Grace", "Charlie"), ("Grace", "Diana"),
                                                           ("Diana", "Eve")}
    assert set(res["Ancestor"]) == ancestor
    dense_ancestor = np.asarray(res["Ancestor"])
    assert dense_ancestor.dtype == bool
    np.testing.assert_array_equal(dense_ancestor, dense(ancestor))


@pytest.mark.parametrize("query, expected", [
    ("Ancestor(Bob, x)", {("Charlie",), ("Diana",), ("Eve",), ("Frank",)}),
    ("Ancestor(x, Frank)", {("Alice",), ("Bob",), ("Diana",)}),
    ("Grandparent(Alice, x)", {("Charlie",), ("Diana",)}),
    ("Aunt(x, Eve)", {("Diana",)}),
    ("Aunt(x, y)", {("Grace", "Charlie"), ("Grace", "Diana"), ("Diana", "Eve")}),
    ("Ancestor(y, x)", transitive_closure(PARENT)),     # tuples follow first appearance: (y, x)
    ("Ancestor(Henry, x)", set()),
])
def test_family_queries(query, expected, backend):
    answers = load("family", backend).query(query)
    assert len(answers) == len(set(answers))
    assert {tuple(a) for a in answers} == expected


def test_family_runtime_facts_join_the_fixpoint(backend):
    res = load("family", backend)(Parent=[("Frank", "Henry")])
    parent = PARENT | {("Frank", "Henry")}
    assert set(res["Parent"]) == parent
    assert set(res["Ancestor"]) == transitive_closure(parent)
    assert {x for x, y in res["Ancestor"] if y == "Henry"} == {"Alice", "Bob", "Diana", "Frank"}


# ---------------------------------------------------------------- 10. embedding-space reasoning

def _relation(rng, n):
    r = rng.random((n, n)) < 0.35
    r[0, 1] = r[1, 2] = True                              # at least one two-step chain
    return r


def test_embedding_one_hot_exact(backend):
    rng = np.random.default_rng(10)
    n = 6
    r = _relation(rng, n)
    emb = np.eye(n)[rng.permutation(n)]                  # one-hot, orthonormal rows
    res = load("embedding", backend)(R=r, Emb=emb, T=0)
    close(res["EmbR"], emb.T @ r.astype(float) @ emb)
    close(res["D"], r.astype(float))                      # T = 0 recovers R exactly
    close(res["D2"], (r.astype(int) @ r.astype(int) > 0).astype(float))   # and R∘R
    close(res["Sim"], np.eye(n))


def test_embedding_random_soft(backend):
    rng = np.random.default_rng(11)
    n, dim, temp = 6, 4, 0.7
    r = _relation(rng, n)
    emb = rng.normal(size=(n, dim))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)     # random unit vectors
    res = load("embedding", backend)(R=r, Emb=emb, T=temp)
    emb_r = emb.T @ r.astype(float) @ emb
    close(res["EmbR"], emb_r)
    close(res["D"], sigmoid(emb @ emb_r @ emb.T / temp))
    close(res["D2"], sigmoid(emb @ emb_r @ emb_r @ emb.T / temp))
    close(res["Sim"], emb @ emb.T)


# ---------------------------------------------------------------- 11. Tucker predicate invention

def test_tucker(backend):
    rng = np.random.default_rng(12)
    core, u, a = nz(rng, 2, 3, 3), nz(rng, 4, 2), nz(rng, 5, 3)
    res = load("tucker", backend)(Core=core, U=u, A=a)
    score = np.einsum("cij,rc,xi,yj->rxy", core, u, a, a)
    assert np.abs(score).min() > 1e-9                     # no ties at the step
    close(res["Score"], score)
    rel = np.asarray(res["R"])
    assert rel.dtype == bool
    np.testing.assert_array_equal(rel, score > 0)
    assert set(res["R"]) == {tuple(int(v) for v in idx) for idx in np.argwhere(score > 0)}


# ---------------------------------------------------------------- 12. semirings: four readings of one path recursion

def test_paths(backend):
    rng = np.random.default_rng(13)
    n = 7
    ring = np.roll(np.eye(n, dtype=bool), 1, axis=1)
    edges = ring | (rng.random((n, n)) < 0.3) & ~np.eye(n, dtype=bool)
    w = np.where(edges, rng.uniform(0.5, 2.0, (n, n)), np.inf)
    cap = np.where(edges, rng.uniform(0.5, 2.0, (n, n)), 0.0)
    p = np.where(edges, rng.uniform(0.5, 1.0, (n, n)), 0.0)
    e = np.triu(rng.random((n, n)) < 0.5, k=1).astype(float)
    res = load("paths", backend)(W=w, Cap=cap, P=p, E=e)
    best = {"Dist": (w, np.minimum, np.add), "Width": (cap, np.maximum, np.minimum),
            "Reliable": (p, np.maximum, np.multiply)}
    for name, (d, plus, times) in best.items():        # Floyd-Warshall over the semiring
        for k in range(n):
            d = plus(d, times(d[:, k:k + 1], d[k:k + 1, :]))
        close(res[name], d)
    count = sum(np.linalg.matrix_power(e, k) for k in range(1, n))   # paths of 1..n-1 edges in a DAG
    close(res["Count"], count)


# ---------------------------------------------------------------- data files and the CLI

def test_data_files_are_current(backend):
    make_data = _make_data_module()
    for name in make_data.BUILDERS:
        with np.load(EXAMPLES / "data" / f"{name}.npz") as stored:
            fresh = make_data.build(name)
            assert set(stored.files) == set(fresh), name
            for key, value in fresh.items():
                np.testing.assert_array_equal(stored[key], value, err_msg=f"{name}: {key}")


@pytest.mark.parametrize("name", sorted(p.stem for p in (EXAMPLES / "data").glob("*.npz")))
def test_example_runs_on_its_data_file(name, backend):
    with np.load(EXAMPLES / "data" / f"{name}.npz") as data:
        inputs = {key: data[key] for key in data.files}
    res = load(name, backend)(**inputs)
    for key in res:
        value = np.asarray(res[key])
        if value.dtype != bool:
            assert np.isfinite(value).all(), key


def test_cli_runs_mlp_with_data_file(tmp_path, backend):
    out = tmp_path / "out.npz"
    data_file = EXAMPLES / "data" / "mlp.npz"
    proc = subprocess.run([sys.executable, "-m", "tlc", "run", str(EXAMPLES / "mlp.tl"),
                           "--data", str(data_file), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    with np.load(data_file) as d, np.load(out) as got:
        h = relu(d["W1"] @ d["X"] + d["B1"])
        close(got["H"], h)
        close(got["Y"], sigmoid(d["W2"] @ h + d["B2"]))
