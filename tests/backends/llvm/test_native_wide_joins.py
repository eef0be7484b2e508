"""Rules the bitset planner once refused join on bitset rows on the llvm backend: a head of three or more arguments
repeating its last variable (each row set on the diagonal of a batch of rows, ``Plan.place``), two factors sharing
more than the variable joined out (a ``Product`` per combination of the others, ``kept`` as rows), a variable in three
factors (two of them joined first) and a negated atom over variables no one atom holds (factors joined until one
does). Programs match the NumPy backend (dense and sparse strategies) on random sparse and dense relations, stored
dense or as tuples, empty ones and ones of a single tuple, with and without recursion; every plan matches
``tlc_runtime.sparse.conjunction`` with each atom's delta first or none; the batched product and place kernels match
NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import tlc
from bitset_support import agree, agrees_on_random_relations, inputs_of

pytest.importorskip("llvmlite")

import tlc_runtime.bitsets as bs  # noqa: E402
from tlc_runtime.bitset_plan import obstacle, plan  # noqa: E402

PROGRAMS = {
    "repeated last": "P(x, y, x) = E(x, y)\nP(x, z, x) = P(x, y, x) F(y, z)\nD(x, x, x) = G(x)\n"
                     "D(y, y, y) = D(x, x, x) E(x, y)\nC(x, 1, y, x) = E(x, y)\nC(x, z, y, x) = C(x, w, y, x) F(w, z)",
    "same label": "R(x, l, z) = T(x, l, y) T(y, l, z)\nR(x, l, z) = R(x, l, y) T(y, l, z)",
    "two shared": "S(x, z) = E(x, z)\nS(x, z) = T(x, y, w) Q(y, w, z)\nQ(y, w, z) = S(y, z) G(w)",
    "three holders": "H(x, z, w) = E(x, y) F(y, z) E(y, w)\nH(x, z, w) = E(x, y) H(y, z, _u) F(y, w)",
    "negated": "N(y) = G(x) B(y) ~E(x, y)\nN(y) = N(x) B(y) ~E(x, y)\nM(x) = G(x)\n"
               "M(x) = E(x, y) M(y) F(y, z) ~E(x, z)\nK(x, y) = E(x, y)\nK(x, z) = K(x, y) G(z) ~T(y, x, z)",
}
EXPLAINED = {
    "repeated last": ["P(x, y, x) = E(x, y)\n    bitset rows, native kernels: transpose, written into (x, y, x)",
                      "bitset rows, native kernels (delta of P first): diagonal of arguments 1 and 3, transpose, "
                      "product over y, transpose, written into (x, z, x)",
                      "D(x, x, x) = G(x)\n    bitset rows, native kernels: written into (x, x, x)",
                      "bitset rows, native kernels (delta of C first): diagonal of arguments 1 and 4, reorder to "
                      "(y, x, w), product over w, reorder to (z, y, x), written into (x, z, y, x)"],
    "same label": ["bitset rows, native kernels: reorder to (l, x, y), reorder to (l, y, z), product over y per (l), "
                   "reorder to (x, l, z)",
                   "bitset rows, native kernels (delta of R first): reorder to (l, x, y), reorder to (l, y, z), "
                   "product over y per (l), reorder to (x, l, z)"],
    "two shared": ["bitset rows, native kernels (delta of Q first): reorder to (y, x, w), product over w per (y), "
                   "projection of y"],
    "three holders": ["bitset rows, native kernels: transpose, join into (x, z, y), product over y",
                      "bitset rows, native kernels (delta of H first): projection of _u, transpose, join into "
                      "(x, z, y), product over y"],
    "negated": ["bitset rows, native kernels: join into (x, y), and-not, projection of x",
                "bitset rows, native kernels (delta of N first): join into (x, y), and-not, projection of x",
                "bitset rows, native kernels (delta of M first): and, product over y, and-not, projection of z",
                "bitset rows, native kernels (delta of K first): join into (x, y, z), reorder to (x, y, z), and-not, "
                "projection of y"],
}


def relations(kind: str, rng, n: int, density: float) -> dict:
    """The inputs of ``PROGRAMS`` on ``n`` nodes: random at ``density`` (binary ones at ``density`` too, ternary ones
    at ``density / n``), empty, or a single tuple each."""
    shapes = {"E": (n, n), "F": (n, n), "T": (n, n, n), "G": (n,), "B": (n,)}
    if kind == "random":
        return {k: rng.random(s) < (density / n if len(s) == 3 else density) for k, s in shapes.items()}
    out = {k: np.zeros(s, dtype=bool) for k, s in shapes.items()}
    if kind == "single":
        for k, s in shapes.items():
            out[k][tuple(int(rng.integers(0, m)) for m in s)] = True
    return out


@pytest.mark.parametrize("name", PROGRAMS)
@pytest.mark.parametrize("kind, density", [("random", 0.1), ("random", 0.4), ("empty", 0), ("single", 0)])
def test_rules_once_without_a_plan_join_on_bitset_rows(name, kind, density, bitset_rules, numpy_joins):
    source = PROGRAMS[name]
    agree(source, **inputs_of(source, relations(kind, np.random.default_rng(31), 14, density)))
    assert bitset_rules and not numpy_joins


@pytest.mark.parametrize("name", PROGRAMS)
def test_rules_once_without_a_plan_read_sparsely_stored_inputs(name, bitset_rules, numpy_joins):
    data = relations("random", np.random.default_rng(32), 40, 0.06)
    stored = {k: tlc.Rows(np.argwhere(v)) if v.ndim >= 2 else v for k, v in data.items()}
    source = PROGRAMS[name]
    agree(source, **inputs_of(source, stored))
    assert bitset_rules and not numpy_joins


@pytest.mark.parametrize("name", PROGRAMS)
def test_every_kernel_call_of_rules_once_without_a_plan_split_over_two_threads(name, monkeypatch, numpy_joins):
    import tlc_runtime.bitset_native as bitset_native

    monkeypatch.setattr(bitset_native, "WORK", 1)
    source = PROGRAMS[name]
    agree(source, **inputs_of(source, relations("random", np.random.default_rng(34), 70, 0.03)))
    assert not numpy_joins


def test_explain_says_rules_once_without_a_plan_run_on_bitset_rows():
    source = "\n".join(PROGRAMS.values())
    data = relations("random", np.random.default_rng(33), 12, 0.2)
    text = tlc.compile(source, backend="llvm", relations="dense").explain(**inputs_of(source, data))
    for name, lines in EXPLAINED.items():
        for line in lines:
            assert line in text, (name, line)
    assert "NumPy join" not in text and "no bitset plan" not in text


WIDE = [      # heads repeating their last variable, factors sharing two variables, variables in three factors,
    (("x", "y", "x"), [("x", "y")], []),            # negated atoms over variables no one atom holds
    (("x", "y", "y"), [("x", "y")], []),
    (("x", "z", "x"), [("x", "z")], []),
    (("x", "x", "x"), [("x",)], []),
    ((2, "y", "x", "y"), [("x", "y")], []),
    (("y", "x", "z", "y"), [("x", "y", "z")], [("z", "y")]),
    (("x", "w"), [("x", "y", "z"), ("y", "z", "w")], []),
    (("x", "z"), [("x", "y", "w"), ("y", "w", "z")], []),
    (("x", "l", "z"), [("x", "l", "y"), ("y", "l", "z")], []),
    (("x", "z"), [("x", "y", "w", "a"), ("w", "y", "a", "z")], []),
    (("a", "z"), [("x", "y", "a"), ("y", "x", "z")], [("x", "z")]),
    (("x", "z", "w"), [("x", "y"), ("y", "z"), ("y", "w")], []),
    (("x",), [("x", "y"), ("x", "z"), ("y", "z"), ("y", "w"), ("z", "w"), ("x", "w")], []),
    (("x", "y"), [("x",), ("y",)], [("x", "y")]),
    (("x",), [("x", "y"), ("y", "z")], [("x", "z")]),
    (("x",), [("x", "y"), ("z",)], [("y", "z")]),
    ((), [("x",), ("y", "z")], [("x", "z"), ("y",)]),
]


@pytest.mark.parametrize("head, atoms, negated", WIDE)
def test_every_wide_plan_matches_the_numpy_join(head, atoms, negated, kernels):
    assert obstacle(head, tuple(atoms), tuple(negated)) is None
    for density in (0.0, 0.05, 0.3, 1.0):
        rng = np.random.default_rng(int(density * 100) + 7 * len(head) + len(atoms))
        variables = {v for spec in (head, *atoms, *negated) for v in spec if isinstance(v, str)}
        largest = min(40, int(1e6 ** (1 / len(variables))))     # the NumPy join's dense product of every variable
        agrees_on_random_relations(head, atoms, negated, density, kernels, rng, "alwxyz", largest, 4)


@pytest.mark.parametrize("head, atoms, negated, why", [
    (("x",), [], [], "a fact"),
    (("x", "y"), [("x",)], [], "a variable of the head or of a negated atom that no positive atom holds"),
    (("x",), [("x",)], [("x", "y")], "a variable of the head or of a negated atom that no positive atom holds"),
])
def test_only_facts_and_unbound_variables_have_no_plan(head, atoms, negated, why):
    assert plan(head, tuple(atoms), tuple(negated)) is None
    assert obstacle(head, tuple(atoms), tuple(negated)) == why


@pytest.mark.parametrize("batches, per, rper, words", [(1, 5, 7, 1), (3, 4, 64, 2), (4, 1, 65, 1), (2, 0, 3, 1),
                                                       (5, 70, 1, 3), (6, 33, 130, 2)])
def test_the_batched_product_and_place_match_numpy(batches, per, rper, words, kernels, monkeypatch):
    import tlc_runtime.bitset_native as bitset_native

    monkeypatch.setattr(bitset_native, "WORK", 1)       # two threads split every call
    rng = np.random.default_rng(batches * 100 + per + rper)
    left = rng.random((batches, per, rper)) < 0.2
    right = rng.random((batches, rper, 64 * words - 3)) < 0.2
    right[:, ::3] = False        # empty rows, which live skips
    wl = bs.pack(left, left.shape).words
    wr = bs.pack(right, right.shape).words
    live = bs.pack(right.any(axis=2), (batches, rper)).words
    out = np.zeros((batches * per, words), dtype=np.uint64)
    kernels.product(out, wl, wr, live, batches)
    want = np.einsum("bxy,byz->bxz", left.astype(float), right.astype(float)) > 0
    np.testing.assert_array_equal(bs.dense(bs.Bits(out, want.shape)), want)
    u = rng.random((batches, rper)) < 0.5
    target = bs.pack(np.zeros((batches, rper, rper + 2), dtype=bool), (batches, rper, rper + 2)).words
    kernels.place(target, bs.pack(u, u.shape).words, 1, 1, rper)
    placed = np.zeros((batches, rper, rper + 2), dtype=bool)
    b, j = np.nonzero(u)
    placed[b, j, j + 1] = True
    np.testing.assert_array_equal(bs.dense(bs.Bits(target, placed.shape)), placed)


def test_the_batched_kernels_refuse_mismatched_batches(kernels):
    rows = np.zeros((6, 1), dtype=np.uint64)
    with pytest.raises(ValueError):     # 6 rows of the left side are not 4 batches
        kernels.product(np.zeros((6, 1), dtype=np.uint64), rows, np.zeros((8, 1), dtype=np.uint64),
                        np.zeros((4, 1), dtype=np.uint64), 4)
    with pytest.raises(ValueError):     # a live bit past the right side's 3 rows of a batch
        kernels.product(np.zeros((6, 1), dtype=np.uint64), rows, np.zeros((6, 1), dtype=np.uint64),
                        np.full((2, 1), 8, dtype=np.uint64), 2)
    with pytest.raises(ValueError):     # 2 rows of u in batches of 4 are not 6 rows
        kernels.place(rows, np.zeros((2, 1), dtype=np.uint64), 0, 1, 4)
    with pytest.raises(ValueError):     # a bit past the 3 of a batch
        kernels.place(rows, np.full((2, 1), 8, dtype=np.uint64), 0, 1, 3)
