"""Dense semi-naive strata on the llvm backend whose rules have heads or atoms of three or more arguments: they join
on bitset rows (``tlc_runtime.bitset_plan``'s ``Permute``, ``Mask``, ``Join`` and the n-ary ``Product``, ``Project``,
``Fix`` and ``Diagonal``) with the same results as the NumPy backend (dense and sparse strategies, the reference) on
dense and sparsely stored inputs, one thread and two; every plan is checked against ``tlc_runtime.sparse.conjunction``
at densities 0, 0.05, 0.3 and 1, and the batched transpose and gather kernels against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import tlc
from bitset_support import agree, inputs_of, plan_agrees
from spying import record_calls

pytest.importorskip("llvmlite")

import tlc_runtime.bitsets as bs  # noqa: E402
import tlc_runtime.sparse as rs  # noqa: E402
from tlc_runtime.bitset_plan import plan, variable_sizes  # noqa: E402

THROUGH = "R(x, z) = E(x, z)\nR(x, z) = R(x, y) T(y, w, z) G(w)\nQ(x, z) = T(x, 0, z)\nQ(x, z) = Q(x, y) T(x, y, z)"
TERNARY_HEAD = "P(x, y, z) = E(x, y) F(y, z)\nP(x, y, w) = P(x, y, z) F(z, w)"
PATH3 = "Path3(x, y, n) = E(x, y) One(n)\nPath3(x, z, m) = Path3(x, y, n) E(y, z) Succ(n, m)"
DIAGONALS = ("D(x, y) = T(x, x, y)\nD(x, z) = D(x, y) T(y, z, y)\n"
             "K(x, y, z) = T(x, y, z) ~T(z, y, x)\nK(x, y, z) = K(y, x, w) T(w, w, z) ~B(x, y, z)")
REORDERED = "W(z, x, y) = T(x, y, z)\nW(x, y, z) = W(y, z, w) T(w, x, _a) G(x)\nV(x, y, z, w) = W(x, y, z) G(w)\n" \
    "V(x, y, z, w) = V(x, y, z, a) F(a, w)"

PLACED = ("Len(x, y, 1) = E(x, y)\nLen(x, z, m) = Len(x, y, n) E(y, z) Succ(n, m)\n"
          "M(x, x, y) = E(x, y)\nM(x, x, z) = M(x, x, y) F(y, z)\n"
          "N(0, y, z, 2) = T(y, z, 1)\nN(x, y, z, w) = N(x, z, y, w)")

PROGRAMS = {"through": THROUGH, "ternary head": TERNARY_HEAD, "path3": PATH3, "diagonals": DIAGONALS,
            "reordered": REORDERED, "placed": PLACED}


def relations(kind: str, rng, n: int, density: float = 0.0) -> dict:
    """The inputs of ``PROGRAMS`` on ``n`` nodes: random at ``density`` (two-argument relations at 3 / n), one cycle
    through every node, empty or full; ``Succ``/``One`` count path lengths up to ``n``."""
    counting = {"Succ": np.eye(n, k=1, dtype=bool), "One": np.arange(n) == 1}
    if kind == "random":
        return {"E": rng.random((n, n)) < 3 / n, "F": rng.random((n, n)) < 2 / n,
                "T": rng.random((n, n, n)) < density, "B": rng.random((n, n, n)) < 0.3, "G": rng.random(n) < 0.5,
                **counting}
    if kind == "cycle":
        cycle = np.roll(np.eye(n, dtype=bool), 1, axis=1)
        return {"E": cycle, "F": cycle | np.eye(n, dtype=bool), "T": cycle[:, :, None] & cycle[None, :, :],
                "B": np.zeros((n, n, n), bool), "G": np.arange(n) % 3 == 0, **counting}
    full = kind == "full"
    return {"E": np.full((n, n), full), "F": np.full((n, n), full), "T": np.full((n, n, n), full),
            "B": np.full((n, n, n), full), "G": np.full(n, full), **counting}


@pytest.mark.parametrize("name", PROGRAMS)
@pytest.mark.parametrize("kind, density", [("random", 0.05), ("random", 0.3), ("cycle", 0), ("empty", 0),
                                           ("full", 0)])
def test_rules_over_three_arguments_join_on_bitset_rows(name, kind, density, bitset_rules, numpy_joins):
    source = PROGRAMS[name]
    agree(source, **inputs_of(source, relations(kind, np.random.default_rng(21), 20, density)))
    assert bitset_rules and not numpy_joins


@pytest.mark.parametrize("name", PROGRAMS)
def test_every_kernel_call_split_over_two_threads(name, monkeypatch, numpy_joins):
    import tlc_runtime.bitset_native as bitset_native

    monkeypatch.setattr(bitset_native, "WORK", 1)
    source = PROGRAMS[name]
    n = 20 if name == "reordered" else 70      # rows of two words; REORDERED's V has n⁴ positions
    agree(source, **inputs_of(source, relations("random", np.random.default_rng(28), n, 0.01)))
    assert not numpy_joins


@pytest.mark.parametrize("name", PROGRAMS)
def test_sparsely_stored_inputs_of_three_arguments(name, bitset_rules, numpy_joins):
    rng = np.random.default_rng(22)
    n = 20 if name == "reordered" else 70      # rows of two words; REORDERED's V has n⁴ positions
    data = {k: tlc.Rows(np.argwhere(v)) if v.ndim >= 2 else v
            for k, v in relations("random", rng, n, 1.5 / n ** 2).items()}
    source = PROGRAMS[name]
    agree(source, **inputs_of(source, data))
    assert bitset_rules and not numpy_joins


def test_explain_names_the_steps_of_rules_over_three_arguments():
    data = relations("random", np.random.default_rng(23), 20, 0.05)
    source = "\n".join(PROGRAMS.values())
    text = tlc.compile(source, backend="llvm", relations="dense").explain(**inputs_of(source, data))
    assert "runs: dense semi-naive: native llvm kernels on bitset rows" in text
    for words in ("bitset rows, native kernels (delta of R first): and over (w), projection of w, product over y",
                  "bitset rows, native kernels: slice 0 of argument 2",
                  "bitset rows, native kernels (delta of Q first): and over (x, y), projection of y",
                  "bitset rows, native kernels: join into (x, y, z)",
                  "bitset rows, native kernels (delta of P first): product over z",
                  "bitset rows, native kernels (delta of Path3 first): reorder to (x, n, y), product over y, "
                  "reorder to (x, z, n), product over n",
                  "bitset rows, native kernels (delta of D first): diagonal of arguments 1 and 3, transpose, product "
                  "over y",
                  "bitset rows, native kernels: reorder to (x, y, z), and-not",
                  "bitset rows, native kernels (delta of K first): diagonal, product over w, reorder to (y, x, z), "
                  "and-not, reorder to (x, y, z)",
                  "bitset rows, native kernels: reorder to (z, x, y)",
                  "bitset rows, native kernels (delta of W first): and over (x), projection of _a, product over w, "
                  "reorder to (x, y, z)",
                  "bitset rows, native kernels: join into (x, y, z, w)",
                  "bitset rows, native kernels: written into (x, y, 1)",
                  "bitset rows, native kernels: written into (x, x, y)",
                  "bitset rows, native kernels (delta of M first): diagonal, product over y, written into (x, x, z)",
                  "bitset rows, native kernels: slice 1 of argument 3, written into (0, y, z, 2)"):
        assert words in text, words
    assert "NumPy join" not in text


def test_a_plan_over_the_memory_budget_joins_in_numpy():
    source = "T(x, y, w) = B(x, y, w)\nT(x, y, w) = T(x, y, v) U(v, z, w) V(y, z)"
    rng = np.random.default_rng(24)
    n = 65     # the product over v makes (x, y, z, w): 65³ rows of 2 words, 4.2 MiB; T is 65³ elements, 2.1 MiB
    data = {"B": rng.random((n, n, n)) < 0.003, "U": rng.random((n, n, n)) < 0.003, "V": rng.random((n, n)) < 0.05}
    want = np.asarray(tlc.compile(source, relations="dense")(**data)["T"])
    for limit, where in (("3M", "NumPy join (tlc_runtime.sparse) on unpacked rows (delta of T first): its bitset plan "
                                "(product over v, and over (y, z), projection of z) makes a factor of 4.19 MiB, over "
                                "the memory limit of 3 MiB"),
                         ("8M", "bitset rows, native kernels (delta of T first): product over v, and over (y, z), "
                                "projection of z")):
        program = tlc.compile(source, backend="llvm", relations="dense", memory_limit=limit)
        assert where in program.explain(**data)
        np.testing.assert_array_equal(np.asarray(program(**data)["T"]), want)


NARY = [      # heads and atoms of three or more arguments, constants, repeated variables and negations among them
    (("x", "z"), [("x", "y", "z"), ("y", "z")], []),
    (("x", "z"), [("x", "y", "z"), ("y", "w")], []),
    (("x", "y", "z"), [("x", "y"), ("y", "z")], []),
    (("x", "y", "w"), [("x", "y", "z"), ("z", "w")], []),
    (("x", "y"), [("x", "x", "y")], []),
    (("x", "y"), [("x", "y", "x")], []),
    (("y", "x"), [("x", "y", "y")], []),
    (("x",), [("x", "x", "x")], []),
    (("x", "z"), [("x", "y", "z")], []),
    (("z", "y", "x"), [("x", "y", "z")], []),
    (("y", "z", "x"), [("x", "y", "z")], [("x", "z")]),
    (("x", "y", "z"), [("x", "y", "z"), ("y",)], [("z",)]),
    (("x", "y", "z"), [("x",), ("y",), ("z",)], []),
    (("x", "y", "z"), [("x", "y"), ("z",)], []),
    (("x", "w"), [("x", "y"), ("y", "z", "w")], []),
    (("x", "z", "w"), [("x", "y"), ("y", "z", "w")], []),
    (("a", "b", "c", "d"), [("a", "b", "c"), ("c", "d")], []),
    (("x", "z"), [("x", "y", "z"), ("y", "z", "w")], []),
    (("x", "y", "z"), [("x", "y", "z"), ("z", "y", "x")], [("y", "x", "z")]),
    (("x", "y", "z"), [("x", 1, "y"), ("y", "z")], []),
    (("x", "z"), [("x", "y", 2, "z"), ("y",)], []),
    (("x", "z", "m"), [("x", "y", "n"), ("y", "z"), ("n", "m")], []),
    (("x", "y", "z"), [("y", "w", "x"), ("w", "z")], [("z", "x")]),
    (("x", "y"), [("y",), ("x",)], []),                 # two unary factors crossed against the head's order
    (("y", "y"), [("y",)], []),                         # a unary atom longer than the head's diagonal
    (("z", "z"), [("z",), ("x", "y")], [("y",)]),
    (("x", "y", 1), [("x", "y")], []),                  # heads of three or more arguments placed
    (("x", "x", "y"), [("x", "z"), ("z", "y")], []),
    ((2, "x", "y"), [("y", "x")], [("x", "y")]),
    (("x", 0, "y", 3), [("x", "y", "z")], []),
    (("y", "x", "y", "z"), [("x", "y", "z")], []),
    ((1, 2, 0), [("x",)], []),
]


@pytest.mark.parametrize("head, atoms, negated", NARY)
def test_every_plan_over_three_arguments_matches_the_numpy_join(head, atoms, negated, kernels):
    for density in (0.0, 0.05, 0.3, 1.0):
        rng = np.random.default_rng(int(density * 100) + 7 * len(head) + len(atoms))
        variables = {v for spec in (head, *atoms, *negated) for v in spec if isinstance(v, str)}
        largest = min(70, int(4e6 ** (1 / len(variables))))    # the NumPy join's dense product of every variable
        for _ in range(2):
            sizes = {v: int(rng.integers(1, largest)) for v in "abcdmnxyzw"}

            def extent(v, spare: int) -> int:
                return sizes[v] + int(rng.integers(0, spare + 1)) if isinstance(v, str) else int(rng.integers(1, 5))
            relations = [(rng.random(tuple(extent(v, 2) for v in s)) < density, s) for s in atoms]
            negations = [(rng.random(tuple(extent(v, 0) for v in s)) < 0.3, s) for s in negated]
            shape = tuple(extent(v, 0) for v in head)
            plan_agrees(head, atoms, negated, relations, negations, shape, kernels)


def test_a_plans_words_are_its_largest_factor():
    steps = plan(("x", "y", "w"), (("x", "y", "v"), ("v", "z", "w"), ("y", "z")), (), 0)
    sizes = variable_sizes(("x", "y", "w"), (10, 20, 65), [((10, 20, 30), ("x", "y", "v")),
                                                            ((30, 40, 65), ("v", "z", "w")), ((20, 40), ("y", "z"))])
    assert steps.words(sizes) == 10 * 20 * 40 * 2        # (x, y, z, w): 8,000 rows of 65 bits


@pytest.mark.parametrize("shape", [(3, 70, 130), (5, 129, 65), (1, 64, 64), (2, 0, 5), (0, 3, 4), (400, 70, 70)])
def test_the_batched_transpose_and_the_diagonal_gather_match_numpy(shape, kernels, monkeypatch):
    import tlc_runtime.bitset_native as bitset_native

    monkeypatch.setattr(bitset_native, "WORK", 1)       # two threads split every call (64 rows of a batch each)
    rng = np.random.default_rng(sum(shape))
    a = rng.random(shape) < 0.3
    turned = kernels.transpose(bs.pack(a, shape).words, shape[2], shape[1])
    np.testing.assert_array_equal(bs.dense(bs.Bits(turned, (shape[0], shape[2], shape[1]))), a.transpose(0, 2, 1))
    side = min(shape[1:])
    if side and shape[0]:
        square = bs.pack(a[:, :side, :], (shape[0], side, shape[2])).words
        got = kernels.gather(square, shape[0], side, 0, 1)
        np.testing.assert_array_equal(bs.dense(bs.Bits(got, (shape[0], side))),
                                      np.diagonal(a[:, :side, :side], axis1=1, axis2=2))
    with pytest.raises(ValueError):     # batches that do not divide the rows
        kernels.transpose(np.zeros((7, 1), dtype=np.uint64), 10, 3)


def test_steps_over_relations_no_round_changes_run_once(monkeypatch, kernels):
    import tlc_runtime.bitset_axes as axes

    masks = record_calls(monkeypatch, axes, "joined", lambda args, result: result.shape)
    rng = np.random.default_rng(25)
    t, g, more = rng.random((40, 30, 50)) < 0.1, rng.random(30) < 0.5, rng.random(30) < 0.5
    packed_t, packed_g = bs.pack(t, t.shape), bs.pack(g, g.shape)
    spec = [("x", "y"), ("y", "w", "z"), ("w",)]
    for n, (shape, delta_rows) in enumerate([((40, 50), 40), ((40, 50), 40), ((40, 45), 40), ((40, 45), 40)]):
        if n == 3:
            bs.union_into(packed_g, more, kernels)
        r = rng.random((delta_rows, 40)) < 0.1
        target = bs.Bits.empty(shape)
        bs.conjunction(("x", "z"), shape, [(bs.pack(r, r.shape), spec[0]), (packed_t, spec[1]), (packed_g, spec[2])],
                       [], target, kernels, 0)
        want = rs.conjunction(("x", "z"), shape, [(r, spec[0]), (t, spec[1]), (g | (more if n == 3 else False),
                                                                                 spec[2])], [], storage="dense")
        np.testing.assert_array_equal(bs.dense(target), want)
    assert len(masks) == 3      # T masked by G once, again for other extents, again once G changed


def test_a_large_sparse_relation_read_with_constants_is_packed_slice_by_slice(monkeypatch, numpy_joins):
    packed = record_calls(monkeypatch, bs, "pack", lambda args, result: tuple(args[1]))
    slices = record_calls(monkeypatch, bs, "pack_slice", lambda args, result: (tuple(args[1]), args[2]))
    source = "R(x, z) = L(x, z, 0)\nR(x, z) = R(x, y) L(y, z, 1)\nQ(x) = S(x)\nQ(y) = Q(x) L(x, 1, y) ~L(y, y, 0)"
    rng = np.random.default_rng(26)
    n = 3000    # L: n³ positions (its last argument shares the nodes' domain); each L(., ., c) 9M, as many as R
    rows = np.concatenate([rng.integers(0, n, (2 * n, 3)) % [n, n, 2], [[5, 1, 7], [7, 7, 0], [1, 1, 0], [1, 2, 1]]])
    data = {"L": tlc.Rows(rows), "S": rng.random(n) < 0.01}
    program = tlc.compile(source, backend="llvm", relations="dense")
    text = program.explain(**data)
    assert "bitset rows, native kernels (delta of R first): product over y (L at argument 3 = 1: a slice packed once " \
        "from the tuples)" in text
    assert "(delta of Q first): it reads L as tuples" in text     # L(x, 1, y), L(y, y, 0): 9M-position slices
    got = program(**data)
    want = tlc.compile(source, relations="sparse")(**data)
    for name in ("R", "Q"):
        np.testing.assert_array_equal(np.asarray(got[name]), np.asarray(want[name]))
    assert (n, n, n) not in packed and slices == [((n, n, n), ((2, 0),)), ((n, n, n), ((2, 1),))]
    assert numpy_joins      # Q's recursive rule


@pytest.mark.parametrize("fixed", [((2, 1),), ((0, 3),), ((1, 0), (2, 4)), ((0, 1), (1, 2), (2, 3)), ((1, 9),)])
def test_a_slice_packed_from_tuples_is_the_relations_slice(fixed):
    rng = np.random.default_rng(27)
    t = rng.random((6, 7, 5)) < 0.4
    t[1, 2, 3] = True
    want = t[tuple(dict(fixed).get(axis, slice(None)) for axis in range(3))] if all(
        p < t.shape[a] for a, p in fixed) else np.zeros([n for a, n in enumerate(t.shape) if a not in dict(fixed)],
                                                          bool)
    got = bs.pack_slice(rs.store(t, t.shape, rs.SPARSE), t.shape, fixed)
    np.testing.assert_array_equal(bs.dense(got), want)


def random_rule(rng) -> tuple:
    """A rule of one to three atoms of one to three arguments over four variables, constants and repeated variables
    among them, maybe a negated atom over their variables, and a head over some of them (a constant or a repeated
    variable in it at times, its last one among them, up to four arguments)."""
    def atom(arity: int) -> tuple:
        return tuple(str(rng.choice(list("xyzw"))) if rng.random() < 0.85 else int(rng.integers(0, 4))
                     for _ in range(arity))
    atoms = [atom(int(rng.integers(1, 4))) for _ in range(int(rng.integers(1, 4)))]
    used = sorted({v for a in atoms for v in a if isinstance(v, str)})
    negated = [n for n in [atom(int(rng.integers(1, 4)))] * int(rng.integers(0, 2))
               if all(v in used for v in n if isinstance(v, str))]
    head = tuple(str(v) for v in rng.permutation(used)[:int(rng.integers(0, min(3, len(used)) + 1))])
    if head and rng.random() < 0.4:
        at = int(rng.integers(0, len(head)))
        extra = head[0] if rng.random() < 0.5 else int(rng.integers(0, 4))
        head = head[:at] + (extra,) + head[at:]     # a constant or a repeat
        if len(head) > 2 and rng.random() < 0.5:
            head = head[:-1] + (head[0],)               # a repeat of the last variable
    return head, atoms, negated


@pytest.mark.parametrize("seed", range(4))
def test_random_rules_match_the_numpy_join(seed, kernels):
    rng = np.random.default_rng(seed)
    checked = 0
    for _ in range(60):
        head, atoms, negated = random_rule(rng)
        assert plan(head, tuple(atoms), tuple(negated)) is not None, (head, atoms, negated)     # every one has one
        sizes = {v: int(rng.integers(1, 12)) for v in "xyzw"}

        def extent(v) -> int:
            return sizes[v] + int(rng.integers(0, 2)) if isinstance(v, str) else int(rng.integers(1, 6))
        density = float(rng.choice([0.0, 0.05, 0.3, 1.0]))
        relations = [(rng.random(tuple(extent(v) for v in a)) < density, a) for a in atoms]
        negations = [(rng.random(tuple(extent(v) for v in a)) < 0.3, a) for a in negated]
        shape = tuple(sizes[v] if isinstance(v, str) else int(rng.integers(1, 6)) for v in head)
        if len(atoms) == 1 and any(r.shape[a] > shape[head.index(v)] for r, spec in relations
                                   for a, v in enumerate(spec) if v in head):
            continue        # rs.conjunction copies a single atom without cutting it to the head
        want = rs.conjunction(head, shape, relations, negations, storage="dense")
        for delta in (None, *range(len(atoms))):
            target = bs.Bits.empty(shape)
            bs.conjunction(head, shape, [(bs.pack(r, r.shape), s) for r, s in relations], negations, target,
                           kernels, delta)
            np.testing.assert_array_equal(bs.dense(target), want, err_msg=f"{head} {atoms} ~{negated} {delta}")
        checked += 1
    assert checked > 40
