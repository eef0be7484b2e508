"""Dense semi-naive strata on the llvm backend stay bitset rows across rounds (``tlc_runtime.bitsets``): rules join
by their ``bitset_plan`` on compiled kernels, each round's delta and union are one compiled pass, and a rule without
a plan joins in NumPy. The results are the NumPy backend's (dense and sparse strategies) on random relations
(cyclic, acyclic, empty, full, with self-loops and unequal extents) on one thread and two; every kernel is checked
against NumPy, and every plan against ``tlc_runtime.sparse.conjunction``."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

import tlc
from bitset_support import agree, agrees_on_random_relations
from spying import record_calls

pytest.importorskip("llvmlite")

import tlc_runtime.bitset_join as bitset_join  # noqa: E402
import tlc_runtime.bitsets as bs  # noqa: E402

MUTUAL = "A(x, z) = E(x, z)\nA(x, z) = B(x, y) E(y, z)\nB(x, z) = A(x, y) F(y, z)"
TURNED = "A(x, z) = E(z, x)\nA(x, z) = E(y, x) B(z, y)\nB(x, z) = F(y, z) A(x, y)"
SAME_GENERATION = "S(x, y) = P(x, z) P(y, z)\nS(x, y) = P(x, a) S(a, b) P(y, b)"
CHAIN3 = "C(x, w) = E(x, w)\nC(x, w) = E(x, y) C(y, z) F(z, w)"
SELF_JOIN = "T(x, z) = E(x, z)\nT(x, z) = T(x, y) T(y, z)"
REACH = "R(x) = S(x)\nR(y) = R(x) E(x, y)"
PROJECTED = ("A(x, y) = E(x, y) F(x, y)\nA(x, y) = M(x) E(x, y)\nM(x) = A(_y, x)\nK(x) = G(x)\n"
             "K(x) = E(x, y) E(y, z) K(z)")
NEGATED = "T(x, z) = E(x, z) ~F(x, z)\nT(x, z) = T(x, y) E(y, z) ~F(x, z)\nU(x) = G(x)\nU(x) = E(x, y) U(y) ~F(x, y)"
NO_PLAN = "T(1, 2, 1)\nT(x, y, w) = T(x, y, z) F(z, w)"
CONSTANT = "T(x) = E(0, x)\nT(y) = T(x) E(x, y)\nL(x) = T(x) E(x, x)"
SELECTIONS = ("R(x, z) = E(x, 3) F(3, z)\nR(x, z) = R(x, y) E(y, z) ~F(y, y)\nH(x, x) = R(x, x)\n"
              "H(x, 5) = R(x, y) E(y, y) S(2)\nH(7, y) = H(y, _x) ~S(4)\nH(x, 200) = H(x, _y) S(300)")
SLICES = "P(x, z) = E(x, z)\nP(x, z) = P(x, y) T(y, z, 1)\nQ(x) = T(0, x, x)\nQ(y) = Q(x) T(x, 2, y) ~S(y)"
FAMILY = ("Parent(Alice, Bob)\nParent(Bob, Carol)\nParent(Carol, Alice)\nParent(Dave, Dave)\n"
          "Desc(x) = Parent(Alice, x)\nDesc(y) = Desc(x) Parent(x, y)\n"
          "Below(x, Carol) = Desc(x)\nBelow(x, y) = Below(x, z) Parent(z, y) ~Parent(y, y)")


def graph(rng, n: int, degree: float, m: int | None = None) -> np.ndarray:
    """A random relation of ``n × m`` pairs with about ``degree`` per row, self-loops included."""
    m = n if m is None else m
    edges = rng.random((n, m)) < degree / m
    edges[np.arange(min(n, m)), np.arange(min(n, m))] |= rng.random(min(n, m)) < 0.1
    return edges


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("degree", [0.5, 2.0, 8.0])
def test_mutual_recursion_on_random_graphs(seed, degree, bitset_rules):
    rng = np.random.default_rng(seed)
    agree(MUTUAL, E=graph(rng, 130, degree), F=graph(rng, 130, degree))
    assert bitset_rules


def test_sparse_rows_join_as_csr(monkeypatch):
    from tlc_runtime.bitset_native import BitsetKernels

    scatters = record_calls(monkeypatch, BitsetKernels, "scatter", lambda args, result: args[1].shape)
    packed = record_calls(monkeypatch, bs, "pack", lambda args, result: tuple(args[1]))
    rng = np.random.default_rng(3)
    agree(MUTUAL, E=graph(rng, 700, 2.0), F=graph(rng, 700, 1.0))
    agree(TURNED, E=graph(rng, 500, 1.0), F=graph(rng, 500, 3.0))
    agree(MUTUAL, E=tlc.Rows(rng.integers(0, 2100, (4200, 2))), F=tlc.Rows(rng.integers(0, 2100, (4200, 2))))
    assert scatters and (2100, 2100) in packed      # sparse storage over 4.4M positions, as many as the stratum's


def test_argument_orders_and_acyclic_graphs(bitset_rules):
    rng = np.random.default_rng(4)
    e, f = np.triu(graph(rng, 100, 6.0), 1), np.triu(graph(rng, 100, 6.0), 1)
    agree(TURNED, E=e, F=f)
    agree(MUTUAL, E=e, F=f)
    assert bitset_rules


def test_rectangular_relations(bitset_rules):
    rng = np.random.default_rng(6)
    agree(MUTUAL, E=graph(rng, 100, 4.0, 130), F=graph(rng, 130, 4.0, 100))
    assert bitset_rules


def test_empty_and_full_relations():
    n = 70
    agree(MUTUAL, E=np.zeros((n, n), bool), F=np.ones((n, n), bool))
    agree(MUTUAL, E=np.ones((n, n), bool), F=np.zeros((n, n), bool))
    agree(MUTUAL, E=np.ones((n, n), bool), F=np.eye(n, dtype=bool))


@pytest.mark.parametrize("seed", range(2))
def test_three_atom_chains_and_self_joins_join_on_bitset_rows(seed, bitset_rules):
    rng = np.random.default_rng(seed)
    agree(SAME_GENERATION, P=graph(rng, 80, 1.5))
    agree(CHAIN3, E=graph(rng, 90, 1.5), F=graph(rng, 90, 1.5))
    agree(SELF_JOIN, E=graph(rng, 100, 1.2))
    agree(SELF_JOIN, E=np.ones((65, 65), bool))
    assert {("x", "y"), ("x", "w"), ("x", "z")} <= set(bitset_rules)


def test_projections_and_unary_relations_join_on_bitset_rows(bitset_rules):
    rng = np.random.default_rng(7)
    e, f = graph(rng, 150, 1.0), graph(rng, 150, 0.5)
    agree(REACH, S=rng.random(150) < 0.02, E=e)
    agree(REACH, S=np.zeros(150, bool), E=e)
    agree(PROJECTED, E=e, F=f | np.eye(150, dtype=bool), G=rng.random(150) < 0.05)
    assert {("x",), ("y",), ("x", "y")} <= set(bitset_rules)


def test_negated_atoms_join_on_bitset_rows(bitset_rules):
    rng = np.random.default_rng(8)
    agree(NEGATED, E=graph(rng, 120, 2.0), F=graph(rng, 120, 30.0), G=rng.random(120) < 0.5)
    assert ("x",) in bitset_rules


def test_rules_without_a_bitset_plan_join_in_numpy(bitset_rules):
    rng = np.random.default_rng(9)
    agree(NO_PLAN, F=graph(rng, 30, 1.5))
    assert bitset_rules == [("x", "y", "w")] * len(bitset_rules)     # the fact T(1, 2, 1) joins in NumPy


def relations(kind: str, rng, n: int) -> dict:
    """``E`` and ``F`` (``n × n``), ``T`` (``n × n × n``) and ``S`` (``n``, holding 2 but not 4 when random) of one
    kind: random (with self-loops), one cycle through every node, empty or full."""
    if kind == "random":
        return {"E": graph(rng, n, 3.0), "F": graph(rng, n, 2.0), "T": rng.random((n, n, n)) < 3.0 / n,
                "S": (rng.random(n) < 0.5) & (np.arange(n) != 4) | (np.arange(n) == 2)}
    if kind == "cycle":
        cycle = np.roll(np.eye(n, dtype=bool), 1, axis=1)
        return {"E": cycle, "F": cycle | np.eye(n, dtype=bool), "T": np.repeat(cycle[:, :, None], n, axis=2),
                "S": np.arange(n) % 3 == 0}
    full = kind == "full"
    return {"E": np.full((n, n), full), "F": np.full((n, n), full), "T": np.full((n, n, n), full),
            "S": np.full(n, full)}


@pytest.mark.parametrize("kind", ["random", "cycle", "empty", "full"])
def test_constants_and_repeated_variables_join_on_bitset_rows(kind, bitset_rules):
    rng = np.random.default_rng(11)
    inputs = relations(kind, rng, 70)
    agree(CONSTANT, E=inputs["E"])
    agree(SELECTIONS, E=inputs["E"], F=inputs["F"], S=inputs["S"])
    agree(SLICES, E=inputs["E"], T=inputs["T"], S=inputs["S"])
    base = {("x",), ("x", "z"), ("x", "x"), ("x", 5)}
    assert base <= set(bitset_rules)
    if kind in ("random", "full"):      # the recursive rules ran
        assert {("y",), (7, "y"), ("x", 200)} <= set(bitset_rules)


def test_constants_join_on_bitset_rows_from_sparse_storage_and_names(bitset_rules):
    rng = np.random.default_rng(12)
    n = 700
    loops, into, out = np.arange(0, n, 5), np.arange(0, n, 11), np.arange(0, n, 13)
    rows = {"E": tlc.Rows(np.concatenate([rng.integers(0, n, (2 * n, 2)), np.stack([loops, loops], 1),
                                          np.stack([into, np.full_like(into, 3)], 1)])),
            "F": tlc.Rows(np.concatenate([rng.integers(0, n, (2 * n, 2)), np.stack([np.full_like(out, 3), out], 1)]))}
    agree(SELECTIONS, **rows, S=np.arange(n) % 4 == 2)
    agree(FAMILY, Parent=[("Bob", "Eve"), ("Eve", "Eve"), ("Eve", "Alice")])
    assert {("x", 5), (7, "y"), ("x", 2)} <= set(bitset_rules)      # Below(x, Carol): Carol is position 2


def test_explain_says_where_each_rule_runs():
    rng = np.random.default_rng(0)
    text = tlc.compile(CONSTANT + "\n" + CHAIN3 + "\n" + SELECTIONS + "\n" + NO_PLAN.replace("T", "V"),
                       backend="llvm", relations="dense").explain(E=graph(rng, 20, 2.0), F=graph(rng, 20, 2.0),
                                                                  S=rng.random(20) < 0.5)
    assert "runs: dense semi-naive: native llvm kernels on bitset rows" in text
    assert "bitset rows, native kernels (delta of T first): projection of x" not in text
    assert "bitset rows, native kernels (delta of T first): and, projection of x" in text
    assert "bitset rows, native kernels (delta of C first): product over y, product over z" in text
    assert "bitset rows, native kernels: row 0" in text
    assert "bitset rows, native kernels: column 3, row 3, cross product" in text
    assert "bitset rows, native kernels (delta of R first): diagonal, and-not, product over y" in text
    assert "bitset rows, native kernels: diagonal, test of 2, and, projection of y, written into column 5" in text
    assert "bitset rows, native kernels (delta of H first): test of 4, not, projection of _x, written into row 7" in text
    assert "NumPy join (tlc_runtime.sparse) on unpacked rows: no bitset plan (a fact)" in text


def test_a_round_limit_fails_as_the_numpy_backend_does():
    edge = np.eye(41, k=1, dtype=bool)
    messages = []
    for backend in ("llvm", "numpy"):
        with pytest.raises(tlc.TlcError) as error:
            tlc.compile(MUTUAL, backend=backend, relations="dense", max_rounds=5)(E=edge, F=np.eye(41, dtype=bool))
        messages.append(str(error.value))
    assert messages[0] == messages[1] and "5 rounds" in messages[0]


RULES = [
    (("x", "z"), [("x", "y"), ("y", "z")], []),
    (("z", "x"), [("x", "y"), ("y", "z")], []),
    (("x", "z"), [("y", "x"), ("z", "y")], []),
    (("x",), [("x", "y")], []),
    (("y",), [("x", "y")], []),
    ((), [("x", "y")], []),
    (("x", "w"), [("x", "y"), ("y", "z"), ("z", "w")], []),
    (("x", "y"), [("x", "a"), ("a", "b"), ("y", "b")], []),
    (("x", "z"), [("x", "y"), ("y", "z"), ("z", "x")], []),
    (("x", "z"), [("x", "y"), ("y",), ("y", "z")], []),
    (("x", "z"), [("x",), ("z",)], []),
    (("x", "z"), [("x", "y"), ("y", "z"), ("y", "w")], []),
    (("x", "z"), [("x", "y"), ("y", "z")], [("x", "z")]),
    (("x", "z"), [("x", "y"), ("y", "z")], [("y",)]),
    (("x",), [("x", "y"), ("y", "z")], [("z",)]),
    (("x", "y"), [("x", "y")], [("y", "x")]),
    (("x",), [("x",), ("x",)], []),
]


SELECTED = [      # constants (in range or not) and repeated variables, in atoms, negated atoms and heads
    (("x",), [(3, "x")], []),
    (("x",), [("x", 70)], []),
    (("x", "y"), [("x", 3), ("y",)], []),
    (("x", "y"), [("x", "y"), ("y", "y")], []),
    (("x",), [("x", "y"), (5,)], []),
    (("x", "y"), [("x", "y")], [("x", 3)]),
    (("x",), [("x", "y")], [("y", "y"), (5,)]),
    (("x", 3), [("x", "y")], []),
    ((150, "y"), [("x", "y")], []),
    (("x", "x"), [("x", "y"), ("y", 2)], []),
    ((2, 70), [("x", "x"), (2, 3)], []),
    (("x", "z"), [("x", "y"), ("y", "z", 2)], []),
    (("z", "x"), [("x", "y"), (1, "y", "z")], []),
    (("x", "z"), [("x", "y"), ("y", 2, "z")], [(0, 0, "z")]),
    (("y", "x"), [("x", "x", 1), ("x", "y")], []),
    (("x",), [(1, "x", 2), ("x", 0, "x")], []),
]


def check_plan(head, atoms, negated, density, kernels) -> None:
    """The rule's plan gives ``rs.conjunction``'s relation (each atom's delta first, or none) on random relations of
    ``density`` whose extents differ a little (an extent per constant argument, so some constants are past it)."""
    rng = np.random.default_rng(len(atoms) * 10 + len(head) + int(density * 100))
    agrees_on_random_relations(head, atoms, negated, density, kernels, rng, "xyzwab", 139, 139)


@pytest.mark.parametrize("head, atoms, negated", RULES)
@pytest.mark.parametrize("density", [0.0, 0.05, 0.3, 1.0])
def test_every_plan_matches_the_numpy_join(head, atoms, negated, density, kernels):
    check_plan(head, atoms, negated, density, kernels)


@pytest.mark.parametrize("head, atoms, negated", SELECTED)
def test_every_selection_plan_matches_the_numpy_join(head, atoms, negated, kernels):
    for density in (0.0, 0.05, 0.3, 1.0):
        check_plan(head, atoms, negated, density, kernels)


def test_a_relations_selections_are_kept_until_its_words_change(monkeypatch, kernels):
    from tlc_runtime.bitset_native import BitsetKernels

    gathers = record_calls(monkeypatch, BitsetKernels, "gather", lambda args, result: args[4:6])
    rng = np.random.default_rng(13)
    a, b = rng.random((100, 90)) < 0.2, rng.random((100, 90)) < 0.2
    relation = bs.pack(a, a.shape)
    for want in (a, a, a | b):
        if want is not a:
            bs.union_into(relation, b, kernels)
        for spec, expected in (((None, 3), want[:, 3]), ((None, None), np.diagonal(want)), ((7, None), want[7])):
            spec = tuple("x" if v is None else v for v in spec)
            target = bs.Bits.empty(expected.shape)
            bs.conjunction(("x",), expected.shape, [(relation, spec)], [], target, kernels)
            np.testing.assert_array_equal(bs.dense(target), expected)
    assert gathers == [(3,), (0, 1), (3,), (0, 1)]     # column 3 and the diagonal: once, then after the change


@pytest.mark.parametrize("shape", [(1, 1), (63, 64), (130, 130), (5, 129, 70), (0, 4), (3, 0, 2)])
def test_the_column_and_diagonal_kernels_match_numpy(shape, kernels):
    rng = np.random.default_rng(sum(shape))
    a = rng.random(shape) < 0.4
    words = bs.pack(a, shape).words
    for column in {0, shape[-1] // 2, shape[-1] - 1}:
        gathered = kernels.gather(words, math.prod(shape[:-2]), shape[-2], column)
        np.testing.assert_array_equal(bs.dense(bs.Bits(gathered, shape[:-1])), a[..., column])
    if len(shape) == 2 and shape[0] == shape[1]:
        diagonal = kernels.gather(words, 1, shape[0], 0, 1)
        np.testing.assert_array_equal(bs.dense(bs.Bits(diagonal, shape[:1])), np.diagonal(a))
        u = rng.random(shape[0]) < 0.5
        out = words.copy()
        kernels.place(out, bs.pack(u, u.shape).words, 0, 1)
        np.testing.assert_array_equal(bs.dense(bs.Bits(out, shape)), a | np.diag(u))
    if len(shape) == 2 and shape[1]:
        u = rng.random(shape[0]) < 0.5
        out = words.copy()
        kernels.place(out, bs.pack(u, u.shape).words, shape[1] - 1)
        a[:, -1] |= u
        np.testing.assert_array_equal(bs.dense(bs.Bits(out, shape)), a)
    if words.size:
        with pytest.raises(ValueError):     # past the rows' words
            kernels.gather(words, 1, words.shape[0], 64 * words.shape[1])


@pytest.mark.parametrize("rows, columns", [(0, 5), (1, 1), (63, 64), (64, 65), (130, 129), (700, 200)])
def test_the_kernels_match_numpy(rows, columns, kernels):
    rng = np.random.default_rng(rows + columns)
    a = rng.random((rows, columns)) < 0.3
    b = rng.random((rows, columns)) < 0.3
    wa, wb = bs.pack(a, a.shape).words, bs.pack(b, b.shape).words
    np.testing.assert_array_equal(bs.dense(bs.Bits(kernels.transpose(wa, columns), (columns, rows))), a.T)
    np.testing.assert_array_equal(bs.dense(bs.Bits(kernels.any(wa), (rows,))), a.any(axis=1))
    for operation, expected in (("and", a & b), ("andnot", a & ~b), ("or", a | b)):
        out = np.empty_like(wa)
        kernels.combine(operation, out, wa, wb)
        np.testing.assert_array_equal(bs.dense(bs.Bits(out, a.shape)), expected)
        kernels.combine(operation, out, wa, wb[:1] if rows else wb)       # one row against every row
        np.testing.assert_array_equal(bs.dense(bs.Bits(out, a.shape)), expected if rows <= 1 else
                                      {"and": a & b[:1], "andnot": a & ~b[:1], "or": a | b[:1]}[operation])
    u = rng.random(rows) < 0.5
    for invert in (False, True):
        out = np.empty_like(wa)
        kernels.select(out, wa, bs.pack(u, (rows,)).words, invert)
        np.testing.assert_array_equal(bs.dense(bs.Bits(out, a.shape)), a & (u != invert)[:, None])
    right = rng.random((columns, 77)) < 0.1
    out = np.zeros((rows, 2), dtype=np.uint64)
    wr = bs.pack(right, right.shape).words
    live = np.zeros((1, wa.shape[1]), dtype=np.uint64)
    live[:, :kernels.any(wr).shape[1]] = kernels.any(wr)
    kernels.product(out, wa, wr, live)
    np.testing.assert_array_equal(bs.dense(bs.Bits(out, (rows, 77))), (a.astype(float) @ right) > 0)
    out = np.zeros((rows, 2), dtype=np.uint64)
    kernels.scatter(out, wa, *bs.rows_csr(wr), live)
    np.testing.assert_array_equal(bs.dense(bs.Bits(out, (rows, 77))), (a.astype(float) @ right) > 0)
    new, known = bs.pack(a, a.shape), bs.pack(b, b.shape)
    delta = bs.advance(new, known, kernels)
    np.testing.assert_array_equal(bs.dense(delta), a & ~b)
    np.testing.assert_array_equal(bs.dense(known), a | b)
    assert delta.count == int((a & ~b).sum()) == len(bs.Bits(delta.words, delta.shape))


def test_the_kernels_refuse_mismatched_operands(kernels):
    words = np.zeros((4, 2), dtype=np.uint64)
    with pytest.raises(ValueError):
        kernels.product(np.zeros((4, 1), dtype=np.uint64), words, np.zeros((200, 1), dtype=np.uint64),
                        np.zeros((1, 2), dtype=np.uint64))
    with pytest.raises(ValueError):
        kernels.combine("and", words, words, np.zeros((3, 2), dtype=np.uint64))
    with pytest.raises(ValueError):
        kernels.advance(words, words)
    with pytest.raises(ValueError):
        kernels.transpose(words.astype(np.int64), 100)


@pytest.mark.parametrize("xs, ys, zs", [(5, 7, 3), (130, 64, 65), (1, 200, 129), (0, 4, 4), (4, 0, 4), (4, 4, 0)])
@pytest.mark.parametrize("sparse_left", [False, True])
def test_the_closure_strategys_product_matches_a_float_product(xs, ys, zs, sparse_left):
    from tlc.backends.llvm.jit import jit
    from tlc.backends.llvm.kernel import ClosureLoop
    from tlc_runtime.native import ClosureSpec, bind

    engine = jit()
    engine.compile(ClosureLoop())
    kernel = bind({"c": ClosureSpec(ClosureLoop().symbol)}, engine.address, threads=2, owner=engine)["c"]
    rng = np.random.default_rng(xs + ys + zs)
    left, right = rng.random((xs, ys)) < 0.1, rng.random((ys, zs)) < 0.3
    operand = sp.csc_matrix(left.astype(float)) if sparse_left else left
    got = bitset_join.product(operand, right, kernel)
    assert got.dtype == bool and got.shape == (xs, zs)
    np.testing.assert_array_equal(got, (left.astype(float) @ right.astype(float)) > 0)


def test_a_large_relation_stored_sparsely_is_read_as_tuples(monkeypatch):
    packed = record_calls(monkeypatch, bs, "pack", lambda args, result: tuple(args[1]))
    rng = np.random.default_rng(10)
    n = 5000        # 25M positions, 15k tuples: packing would cost the positions, NumPy's joins the tuples
    inputs = {"E": tlc.Rows(rng.integers(0, n, (3 * n, 2))), "S": rng.random(n) < 0.01}
    program = tlc.compile(REACH, backend="llvm", relations="auto")
    assert "it reads E as tuples (sparse storage over more positions than the stratum's relations" in \
        program.explain(**inputs)
    got = np.asarray(program(**inputs)["R"])
    assert (n, n) not in packed
    np.testing.assert_array_equal(got, np.asarray(tlc.compile(REACH, relations="sparse")(**inputs)["R"]))
