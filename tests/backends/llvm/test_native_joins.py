"""The llvm backend's native semi-naive joins (``join_plan``/``joins`` run by ``tlc_runtime.native_joins``) against
``tlc_runtime.sparse`` (the NumPy backend's sparse strategy) and the dense strategy: same generation, mutual and
non-linear recursion, negated lower strata, arity 3, empty relations, self loops and duplicated input tuples;
merge and hash joins, one thread and two; round limits; the kernels alone against NumPy set operations."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("llvmlite")

import tlc  # noqa: E402
import tlc.analysis.relation_plan as relation_plan  # noqa: E402
import tlc_runtime.native_joins as nj  # noqa: E402
import tlc_runtime.sparse as rs  # noqa: E402
from tlc.backends.llvm.jit import jit  # noqa: E402
from tlc.backends.llvm.join_plan import SetOps, join_order, join_shapes  # noqa: E402

SAME_GENERATION = "Sg(x, y) = Par(x, p) Par(y, p)\nSg(x, y) = Par(x, p) Sg(p, q) Par(y, q)\n"
MUTUAL = "A(x, y) = E(x, y)\nA(x, z) = B(x, y) E(y, z)\nB(x, z) = A(x, y) F(y, z)\n"
NONLINEAR = "T(x, y) = E(x, y)\nT(x, z) = T(x, y) T(y, z)\n"
NEGATION = ("Loop(x) = F(x, x)\n"
            "R(x, y) = E(x, y) not(Loop(y))\nR(x, z) = R(x, y) E(y, z) not(Loop(z)) not(F(x, z))\n")
ARITY3 = ("P(x, y, z) = G(x, y, z)\n"
          "P(x, y, w) = P(x, y, z) G(z, w, y)\n"
          "P(x, w, z) = P(x, y, z) E(y, w) G(w, y, z)\n")
PROGRAMS = {"same-generation": (SAME_GENERATION, "Sg"), "mutual": (MUTUAL, "A"), "non-linear": (NONLINEAR, "T"),
            "negation": (NEGATION, "R"), "arity-3": (ARITY3, "P")}


def relation(rng, n: int, m: int, arity: int = 2) -> list[tuple[int, ...]]:
    """``m`` random tuples over ``n`` values, duplicates and self loops included (given as written)."""
    rows = [tuple(int(v) for v in row) for row in rng.integers(0, n, (m, arity))]
    return rows + rows[: m // 4] + [(0,) * arity, (0,) * arity]


def tree(rng, n: int) -> list[tuple[int, int]]:
    """Child-to-parent tuples of a random tree over ``n`` nodes (a parent a few numbers below its child)."""
    child = np.arange(1, n)
    parent = np.maximum(0, child - 1 - rng.integers(0, 6, n - 1))
    return list(zip(child.tolist(), parent.tolist()))


def inputs_for(name: str, rng, n: int, m: int) -> dict:
    if name == "same-generation":
        return {"Par": tree(rng, n)}
    if name == "arity-3":
        return {"G": relation(rng, n, m, 3), "E": relation(rng, n, m)}
    if name == "non-linear":
        return {"E": relation(rng, n, m)}
    return {"E": relation(rng, n, m), "F": relation(rng, n, m)}


def results(source: str, inputs: dict, backend: str, relations: str, **options) -> dict:
    return {k: set(v) for k, v in tlc.compile(source, backend=backend, relations=relations, **options)(**inputs).items()
            if not isinstance(v, np.ndarray)}


@pytest.mark.parametrize("name", PROGRAMS)
@pytest.mark.parametrize("size", [(12, 20), (40, 60)])
@pytest.mark.parametrize("method", ["merge", "hash"])
def test_native_joins_match_the_sparse_runtime_and_the_dense_strategy(name, size, method, monkeypatch):
    source, relation_name = PROGRAMS[name]
    inputs = inputs_for(name, np.random.default_rng(sum(size)), *size)
    monkeypatch.setattr(relation_plan, "HASH_JOIN_TUPLES", 0 if method == "hash" else 1 << 40)
    program = tlc.compile(source, backend="llvm", relations="sparse", max_rounds=10_000)    # no native closure
    assert f"native llvm kernel ({method} join)" in program.explain(**inputs)
    assert "nj.conjunction(" in program.source(**inputs) and "rs.conjunction(" not in program.source(**inputs)
    got = {k: set(v) for k, v in program(**inputs).items()}
    assert got[relation_name]
    assert got == results(source, inputs, "numpy", "sparse") == results(source, inputs, "numpy", "dense")


@pytest.mark.parametrize("name", PROGRAMS)
def test_one_thread_and_two_give_the_same_tuples(name, monkeypatch):
    source, _ = PROGRAMS[name]
    inputs = inputs_for(name, np.random.default_rng(7), 60, 90)
    monkeypatch.setattr(nj, "JOIN_WORK", 2)        # split even these small joins and lookups over threads
    one, two = (results(source, inputs, "llvm", "sparse", threads=t, max_rounds=10_000) for t in (1, 2))
    assert one == two == results(source, inputs, "numpy", "sparse")


def test_empty_relations_and_a_self_loop():
    empty = {"E": [], "F": []}
    assert results(MUTUAL, empty, "llvm", "sparse") == {"A": set(), "B": set()}
    loop = {"E": [(3, 3)], "F": [(3, 3)]}
    assert results(MUTUAL, loop, "llvm", "sparse") == results(MUTUAL, loop, "numpy", "dense") == \
        {"A": {(3, 3)}, "B": {(3, 3)}}
    par = {"Par": [(1, 0)]}
    assert results(SAME_GENERATION, par, "llvm", "sparse") == {"Sg": {(1, 1)}}


def test_named_constants_in_rules():
    source = "Reach(x) = Edge(Root, x)\nReach(y) = Reach(x) Edge(x, y) not(Blocked(y))\n"
    inputs = {"Edge": [("Root", "a"), ("a", "b"), ("b", "c"), ("c", "a"), ("b", "d")], "Blocked": [("d",)]}
    got = results(source, inputs, "llvm", "sparse")
    assert got == results(source, inputs, "numpy", "sparse") == results(source, inputs, "numpy", "dense")
    assert got["Reach"] == {("a",), ("b",), ("c",)}


def test_a_round_limit_fails_as_the_sparse_runtime_does():
    edge = [(i, i + 1) for i in range(40)]
    for backend in ("llvm", "numpy"):
        with pytest.raises(tlc.TlcError) as error:
            tlc.compile(MUTUAL, backend=backend, relations="sparse", max_rounds=5)(E=edge, F=[(i, i) for i in range(41)])
        assert "5" in str(error.value)
        if backend == "llvm":
            message = str(error.value)
    assert message == str(error.value)


def test_explain_names_the_join_method_and_why():
    small = {"Par": tree(np.random.default_rng(1), 50)}
    text = tlc.compile(SAME_GENERATION, backend="llvm", relations="sparse", threads=2).explain(**small)
    assert "runs: sparse semi-naive: native llvm kernel (merge join), 2 threads; the input relations hold at most " \
           "49 tuples, under 1,024" in text
    large = {"Par": tree(np.random.default_rng(1), relation_plan.HASH_JOIN_TUPLES + 2)}
    text = tlc.compile(SAME_GENERATION, backend="llvm", relations="sparse", threads=1).explain(**large)
    assert f"runs: sparse semi-naive: native llvm kernel (hash join), 1 thread; an input relation holds " \
           f"{relation_plan.HASH_JOIN_TUPLES + 1:,} tuples" in text
    assert "NumPy/scipy runtime (tlc_runtime.sparse)" in tlc.compile(SAME_GENERATION, relations="sparse").explain(**small)


def test_join_kernels_are_compiled_once_per_shape():
    inputs = {"Par": tree(np.random.default_rng(2), 30)}
    tlc.compile(SAME_GENERATION, backend="llvm", relations="sparse")(**inputs)
    before = jit().compilations
    tlc.compile(SAME_GENERATION.replace("Sg", "Cousin"), backend="llvm", relations="sparse")(**inputs)
    assert jit().compilations == before


def test_join_order_and_shapes_project_variables_out_once_joined():
    atoms = [("x", "p"), ("p", "q"), ("y", "q")]
    assert join_order(atoms, 1) == [1, 0, 2]
    first, second = join_shapes(("x", "y"), [atoms[k] for k in (1, 0, 2)], [], "merge")
    assert (first.left, first.right, first.left_kept, first.kept) == (2, 2, (1,), (0,))    # p is dropped
    assert (second.left, second.right, second.left_kept, second.kept) == (2, 2, (1,), (0,))  # q is dropped


@pytest.fixture(scope="module")
def sets():
    jit().compile(SetOps())
    return nj.SetSpec(SetOps().symbol).bind(jit().address, threads=2)


@pytest.mark.parametrize("seed", range(6))
def test_set_kernels_match_numpy(sets, seed, monkeypatch):
    rng = np.random.default_rng(seed)
    a = np.unique(rng.integers(0, 50 * (seed + 1), rng.integers(0, 300)))
    b = np.unique(rng.integers(0, 50 * (seed + 1), rng.integers(0, 300)))
    np.testing.assert_array_equal(sets.union(a, b), np.union1d(a, b))
    np.testing.assert_array_equal(sets.difference(a, b), np.setdiff1d(a, b))
    np.testing.assert_array_equal(sets.difference(b, a), np.setdiff1d(b, a))
    raw = rng.integers(-5, 60, rng.integers(0, 400))
    np.testing.assert_array_equal(sets.unique(raw), np.unique(raw))
    monkeypatch.setattr(nj, "JOIN_WORK", 3)
    np.testing.assert_array_equal(sets.member(raw, a), np.isin(raw, a))


@pytest.mark.parametrize("n", [0, 1, 1023, 1024, 5000, 70000])
@pytest.mark.parametrize("top", [1, 2, 2**11, 2**22 + 5, 4 * 10**8, 2**62, 2**63 - 1])
def test_the_radix_sort_sorts_like_numpy(sets, n, top):
    rng = np.random.default_rng(n + top % 1000)
    keys = rng.integers(0, top, n, endpoint=True)
    before = keys.copy()
    np.testing.assert_array_equal(sets.sort(keys), np.sort(keys))
    np.testing.assert_array_equal(sets.unique(keys), np.unique(keys))
    np.testing.assert_array_equal(keys, before)          # a sorted copy: the argument is left alone
    np.testing.assert_array_equal(sets.sort(np.sort(keys)[::-1]), np.sort(keys))


def test_the_radix_sort_leaves_negative_keys_to_numpy(sets):
    keys = np.random.default_rng(3).integers(-2**62, 2**62, 4096)
    np.testing.assert_array_equal(sets.sort(keys), np.sort(keys))
    np.testing.assert_array_equal(sets.unique(np.r_[keys, keys]), np.unique(keys))


@pytest.mark.parametrize("gap", [1, 3, 100, 10**5])
def test_galloping_union_and_difference_match_numpy_at_every_spacing(sets, gap):
    rng = np.random.default_rng(gap)
    big = np.unique(rng.integers(0, 10**7, 50000))
    small = np.unique(np.r_[big[::gap][:400], rng.integers(0, 10**7 + 10, 400)])
    np.testing.assert_array_equal(sets.union(big, small), np.union1d(big, small))
    np.testing.assert_array_equal(sets.difference(small, big), np.setdiff1d(small, big))
    np.testing.assert_array_equal(sets.difference(big, small), np.setdiff1d(big, small))


@pytest.mark.parametrize("method", ["merge", "hash"])
@pytest.mark.parametrize("seed", range(4))
def test_a_join_kernel_matches_the_sparse_runtimes_join(sets, method, seed):
    from tlc.backends.llvm.join_plan import JoinLoop
    rng = np.random.default_rng(seed)
    n = 30
    left = rs.Tuples.from_rows(rng.integers(0, n, (200, 3)), (n, n, n))
    right = rs.Tuples.from_rows(rng.integers(0, n, (150, 2)), (n, n))
    atoms = [(left, ("x", "y", "z")), (right, ("z", "w"))]
    (loop,) = join_shapes(("x", "w"), [s for _, s in atoms], [], method)
    assert loop == JoinLoop(3, 2, (0,), (1,), method)    # y and z are read by nothing later
    jit().compile(loop)
    kernel = nj.JoinSpec(loop.symbol, loop.left, loop.right, loop.left_kept, loop.kept, method).bind(jit().address)
    got = nj.conjunction(("x", "w"), (n, n), atoms, joins=(kernel,), sets=sets)
    np.testing.assert_array_equal(got.keys, rs.conjunction(("x", "w"), (n, n), atoms).keys)
    with pytest.raises(ValueError, match="do not fit"):
        kernel(np.zeros((2, 2), np.int64), np.zeros(2, np.int64),
               nj.Inner(np.zeros((1, 2), np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64), 0))


def test_an_artefact_runs_its_joins_from_the_shared_library(tmp_path):
    import shutil
    from tlc.backends.llvm import aot
    from tlc_runtime.native import load_module
    if shutil.which("cc") is None and shutil.which("gcc") is None and shutil.which("clang") is None:
        pytest.skip("needs a C compiler as linker")
    par = np.zeros((200, 200), dtype=bool)
    par[tuple(np.array(tree(np.random.default_rng(3), 200)).T)] = True
    inputs = {"Par": par}      # a dense Boolean array: the artefact's run reads it as it is
    program = tlc.compile(SAME_GENERATION, backend="llvm", relations="sparse")
    spec = program.specialisation(**inputs)
    aot.write_module(spec.emitted, str(tmp_path / "sg.py"), str(tmp_path / "sg.so"))
    namespace = load_module(str(tmp_path / "sg.py"), str(tmp_path / "sg.so"), threads=2)
    assert isinstance(namespace["_sets"], nj.SetKernel) and isinstance(namespace["_j1"], nj.JoinKernel)
    got = namespace["run"](inputs)["Sg"]
    want = {tuple(map(int, t)) for t in program(**inputs)["Sg"]}
    assert set(map(tuple, got.rows().tolist())) == want and len(want) > 200


def test_unions_keep_sorted_runs_that_read_as_one_relation(sets):
    rng = np.random.default_rng(11)
    shape = (40, 40)
    total = rs.Tuples(np.zeros(0, dtype=np.int64), shape)
    want = np.zeros(0, dtype=np.int64)
    for size in (300, 5, 40, 2, 200, 1, 0, 70):
        part = rs.Tuples(np.unique(rng.integers(0, 1600, size)), shape)
        probe = rs.Tuples(np.unique(rng.integers(0, 1600, 100)), shape)
        delta = nj.minus(probe, total, sets)
        np.testing.assert_array_equal(delta.keys, np.setdiff1d(probe.keys, want))
        np.testing.assert_array_equal(nj.union(total, delta, sets).keys, np.union1d(want, probe.keys))
        total = nj.union(total, part, sets)
        want = np.union1d(want, part.keys)
        assert len(total) == len(want)
    assert isinstance(total, nj.Runs) and len(total.runs) > 1
    np.testing.assert_array_equal(total.keys, want)
    np.testing.assert_array_equal(np.asarray(total), np.asarray(rs.Tuples(want, shape)))


def test_facts_in_sparse_strata_stay_facts():
    source = SAME_GENERATION + "Par(1, 0)\nPar(2, 0)\nPar(3, 1)\nPar(4, 2)\n"
    program = tlc.compile(source, backend="llvm", relations="sparse")
    assert "runs: sparse joins: native llvm kernel (merge join), 1 thread; it reads no input relation" in \
        tlc.compile(source, backend="llvm", relations="sparse", threads=1).explain()
    assert set(program()["Sg"]) == set(tlc.compile(source, relations="sparse")()["Sg"]) == \
        {(1, 1), (1, 2), (2, 1), (2, 2), (3, 3), (3, 4), (4, 3), (4, 4)}
