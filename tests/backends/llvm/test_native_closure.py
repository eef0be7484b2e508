"""The llvm backend's native closure loop (``kernel.ClosureLoop`` run by ``tlc_runtime.native.ClosureKernel``)
against the NumPy reference (``tlc_runtime.reach`` on Python integers) and Boolean matrix powers, on random graphs,
chains, cycles, self-loops, empty relations and many components; one thread and two give the same bits; and whole
programs on the llvm backend against the NumPy backend's closure and dense semi-naive strategies."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

pytest.importorskip("llvmlite")

import tlc  # noqa: E402
import tlc_runtime.native as native  # noqa: E402
from tlc.backends.llvm.jit import jit  # noqa: E402
from tlc.backends.llvm.kernel import ClosureLoop  # noqa: E402
from tlc_runtime import reach  # noqa: E402
from tlc_runtime.sparse import Tuples, closure, closure_sparse  # noqa: E402

CLOSURE = "Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\n"
LEFT = "Path(x, y) = Edge(x, y)\nPath(x, z) = Edge(x, y) Path(y, z)\n"
SQUARE = "Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Path(y, z)\n"


def kernel(threads: int) -> native.ClosureKernel:
    compiled = jit().compile(ClosureLoop())
    return native.bind({"closure": native.ClosureSpec(compiled.symbol)}, jit().address, threads, owner=jit())["closure"]


def random_graph(n: int, m: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = np.zeros((n, n), dtype=bool)
    a[rng.integers(0, n, m), rng.integers(0, n, m)] = True       # self-loops and cycles included
    return a


def chain(n: int) -> np.ndarray:
    return np.eye(n, k=1, dtype=bool)


def cycle(n: int) -> np.ndarray:
    return np.roll(np.eye(n, dtype=bool), 1, axis=1)


def components(n: int) -> np.ndarray:
    """Disjoint cycles, chains and self-loops side by side, with edges from some into others."""
    a = np.zeros((n, n), dtype=bool)
    third = n // 3
    a[:third, :third] = cycle(third)
    a[third:2 * third, third:2 * third] = chain(third)
    a[2 * third + 1, 2 * third + 1] = True
    a[third - 1, third] = a[2 * third - 1, 2 * third + 1] = True
    return a


GRAPHS = {
    "empty-1": np.zeros((1, 1), bool), "empty-70": np.zeros((70, 70), bool), "self-loop": np.ones((1, 1), bool),
    "chain-200": chain(200), "cycle-70": cycle(70), "components-99": components(99),
    **{f"random-{n}-{m}-{s}": random_graph(n, m, s) for s, (n, m) in enumerate(
        [(5, 3), (17, 17), (64, 32), (65, 130), (130, 100), (300, 600)])},
}


@pytest.mark.parametrize("name", GRAPHS)
@pytest.mark.parametrize("threads", [1, 2])
def test_native_closure_matches_the_reference_and_matrix_powers(name, threads, closure_by_powers):
    a = GRAPHS[name]
    got = reach.closure_rows(sp.csr_matrix(a), kernel(threads))
    assert got.dtype == bool and got.shape == a.shape and got.flags.c_contiguous
    np.testing.assert_array_equal(got, reach.closure_rows(sp.csr_matrix(a)))
    np.testing.assert_array_equal(got, closure_by_powers(a))


@pytest.mark.parametrize("graph", ["random", "chain", "cycle", "components"])
@pytest.mark.parametrize("mode", ["claim", "split"])
def test_two_threads_give_the_bits_of_one(graph, mode, monkeypatch):
    n = 1100          # 18 words a row: two chunks of whole cache lines when splitting words
    a = {"random": random_graph(n, 3 * n, 5), "chain": chain(n), "cycle": cycle(n), "components": components(n)}[graph]
    want = reach.closure_rows(sp.csr_matrix(a))
    calls = []
    monkeypatch.setattr(native, "CLOSURE_WORK", 0)      # two threads even on this small loop
    monkeypatch.setattr(native, "WIDE_LEVELS", 0 if mode == "claim" else 10**9)
    two = kernel(2)
    original = two._fn
    two._fn = lambda *args: (calls.append(args[-2:]), original(*args))[1]
    np.testing.assert_array_equal(reach.closure_rows(sp.csr_matrix(a), two), want)
    if graph == "cycle":
        assert calls == [(0, 18)]                       # one component: one thread
    else:   # both run the whole loop, claiming components in turn over whole rows, or each over its words
        assert sorted(calls) == ([(0, 18)] * 2 if mode == "claim" else [(0, 8), (8, 18)])
    np.testing.assert_array_equal(reach.closure_rows(sp.csr_matrix(a), kernel(1)), want)


@pytest.mark.parametrize("graph, mode", [("chain", "split"), ("random", "claim")])
def test_threads_claim_components_where_levels_are_wide_and_split_words_where_they_are_not(graph, mode, monkeypatch):
    """A chain has one component a level (each claim would wait for the one before): threads split its words; a
    random DAG has many a level, and threads claim them level by level."""
    n = 4096
    a = chain(n) if graph == "chain" else np.triu(random_graph(n, 40_000, 3), 1)
    monkeypatch.setattr(native, "CLOSURE_WORK", 0)
    two, calls = kernel(2), []
    original = two._fn
    two._fn = lambda *args: (calls.append(args[-2:]), original(*args))[1]
    np.testing.assert_array_equal(reach.closure_rows(sp.csr_matrix(a), two), reach.closure_rows(sp.csr_matrix(a)))
    assert sorted(calls) == ([(0, 64)] * 2 if mode == "claim" else [(0, 32), (32, 64)])


@pytest.mark.parametrize("threads", [1, 2])
def test_successors_reached_already_are_skipped_without_changing_a_bit(threads, monkeypatch, closure_by_powers):
    """With representatives, a successor whose bit the row holds is not ORed (its row is in it); without (-1),
    every one is: the same bits either way, on a DAG where most edges are implied by others."""
    monkeypatch.setattr(native, "CLOSURE_WORK", 0)
    a = np.triu(random_graph(700, 7000, 8), 1)
    count, n = 700, 700
    indptr, successors = reach.condensed(count, *np.nonzero(a))
    order = np.asarray(reach.sinks_first(count, indptr, successors), dtype=np.int64)
    runs = []
    for representative in (np.arange(n), None):
        closed = np.zeros((count, 11), np.uint64)
        closed[np.arange(n), np.arange(n) // 64] = np.left_shift(np.uint64(1), (np.arange(n) % 64).astype(np.uint64))
        kernel(threads)(closed, order, indptr, successors, representative)
        runs.append(closed)
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(np.unpackbits(runs[0].view(np.uint8), axis=1, count=n, bitorder="little"),
                                  closure_by_powers(a) | np.eye(n, dtype=bool))


@pytest.mark.parametrize("threads, mode", [(1, "claim"), (2, "claim"), (2, "split")])
def test_row_bounds_limit_the_words_read_and_are_widened_in_place(threads, mode, monkeypatch):
    """Each row is read only within its bounds: a row of a DAG numbered from lower to higher (np.triu) reaches
    only words above its own. The bounds from each component's own nodes (``reach.own_words``) give the bits of
    whole rows, and come back widened to hold every word each row has set; a chain's last row bounded to no word
    reaches no other row (so the loop reads nothing outside the bounds)."""
    monkeypatch.setattr(native, "CLOSURE_WORK", 0)
    monkeypatch.setattr(native, "WIDE_LEVELS", 0 if mode == "claim" else 10**9)
    n = 1100
    labels = np.arange(n)

    def run(a, bounds):
        indptr, successors = reach.condensed(n, *np.nonzero(a))
        order = np.asarray(reach.sinks_first(n, indptr, successors), dtype=np.int64)
        closed = np.zeros((n, 18), np.uint64)
        closed[labels, labels // 64] = np.left_shift(np.uint64(1), (labels % 64).astype(np.uint64))
        kernel(threads)(closed, order, indptr, successors, labels, bounds)
        return np.unpackbits(closed.view(np.uint8), axis=1, count=n, bitorder="little").view(bool)

    a = np.triu(random_graph(n, 4 * n, 9), 1)
    bounds = reach.own_words(n, labels)
    assert bounds[5].tolist() == [0, 1] and bounds[n - 1].tolist() == [17, 18]
    rows = run(a, bounds)
    np.testing.assert_array_equal(rows, reach.closure_rows(sp.csr_matrix(a)) | np.eye(n, dtype=bool))
    np.testing.assert_array_equal(rows, run(a, None))
    held = rows.reshape(n, -1)[:, :17 * 64].reshape(n, 17, 64).any(axis=2)     # the words with a bit, but the last
    words = np.arange(17)
    assert np.all(~held | ((bounds[:, :1] <= words) & (words < bounds[:, 1:])))
    assert np.all(bounds[:, 0] == labels // 64)       # rows reach above their own word, never below
    narrow = reach.own_words(n, labels)
    narrow[n - 1] = (0, 0)                                  # "the last row holds nothing"
    want = reach.closure_rows(sp.csr_matrix(chain(n))) | np.eye(n, dtype=bool)
    want[:n - 1, n - 1] = False
    np.testing.assert_array_equal(run(chain(n), narrow), want)


def test_bounds_outside_the_rows_are_refused():
    """Bounds past the row's words, of the wrong shape or type are a ValueError: the loop trusts them."""
    a = chain(100)
    indptr, successors = reach.condensed(100, *np.nonzero(a))
    order = np.asarray(reach.sinks_first(100, indptr, successors), dtype=np.int64)
    for bounds in (np.full((100, 2), 3, np.int64), np.zeros((99, 2), np.int64), np.zeros((100, 2), np.int32),
                   np.zeros((2, 100), np.int64).T, -np.ones((100, 2), np.int64)):
        with pytest.raises(ValueError, match="do not match"):
            kernel(1)(np.zeros((100, 2), np.uint64), order, indptr, successors, None, bounds)


def test_an_order_putting_a_component_before_its_successor_is_refused():
    """The loop waits for each successor's row: an order that would make it wait forever is a ValueError."""
    closed = np.zeros((2, 1), np.uint64)
    indptr, successors = np.array([0, 1, 1]), np.array([1])          # 0 -> 1
    with pytest.raises(ValueError, match="after its successors"):
        kernel(1)(closed, np.array([0, 1]), indptr, successors)
    with pytest.raises(ValueError, match="after its successors"):
        kernel(1)(closed, np.array([1, 1]), indptr, successors)
    kernel(1)(closed, np.array([1, 0]), indptr, successors)


@pytest.mark.parametrize("n", [1, 63, 64, 65, 200])
def test_rows_expand_bitsets_over_node_ranges(n, monkeypatch):
    rng = np.random.default_rng(n)
    words = (n + 63) // 64
    closed = rng.integers(0, 2**63, size=(3, words), dtype=np.int64).astype(np.uint64) * np.uint64(3)
    labels = rng.integers(0, 3, n)
    want = np.unpackbits(closed[labels].view(np.uint8), axis=1, count=n, bitorder="little").view(bool)
    monkeypatch.setattr(native, "ROWS_WORK", 0)          # two threads even for one row
    for threads in (1, 2):
        np.testing.assert_array_equal(kernel(threads).rows(closed, labels, n), want)


def test_rows_refuse_labels_outside_the_bitsets():
    with pytest.raises(ValueError, match="do not match 2 nodes"):
        kernel(1).rows(np.zeros((1, 1), np.uint64), np.array([0, 1]), 2)
    with pytest.raises(ValueError, match="do not match 65 nodes"):
        kernel(1).rows(np.zeros((1, 1), np.uint64), np.zeros(65, np.int64), 65)


def test_levels_are_the_longest_paths_to_a_sink():
    """0 -> 1 -> 3, 0 -> 2 -> 3 -> 4, and 5 alone: levels 3, 2, 2, 1, 0, 0."""
    edges = np.array([[0, 1], [0, 2], [1, 3], [2, 3], [3, 4]])
    indptr, successors = reach.condensed(6, edges[:, 0], edges[:, 1])
    order = np.asarray(reach.sinks_first(6, indptr, successors), dtype=np.int64)
    level = np.zeros(6, dtype=np.int64)
    kernel(1)._levels(order.ctypes.data, indptr.ctypes.data, successors.ctypes.data, level.ctypes.data, 6)
    assert level.tolist() == [3, 2, 2, 1, 0, 0]


def test_a_large_acyclic_graph_runs_on_two_threads_without_help():
    a = np.triu(random_graph(4096, 40_000, 3), 1)       # acyclic: every node its own component
    assert np.count_nonzero(a) * 64 >= native.CLOSURE_WORK
    want = reach.closure_rows(sp.csr_matrix(a))
    two, calls = kernel(2), []
    original = two._fn
    two._fn = lambda *args: (calls.append(args[-2:]), original(*args))[1]
    np.testing.assert_array_equal(reach.closure_rows(sp.csr_matrix(a), two), want)
    assert len(calls) == 2
    np.testing.assert_array_equal(reach.closure_rows(sp.csr_matrix(a), kernel(1)), want)


def test_a_non_square_relation_is_padded_and_cut_back():
    rows = np.array([[0, 1], [1, 2], [2, 0], [3, 4]])
    step = Tuples.from_rows(rows, (4, 6))
    np.testing.assert_array_equal(closure(step, kernel(2)), closure(step))
    assert closure(np.zeros((0, 3), bool), kernel(2)).shape == (0, 3)


def test_the_kernel_refuses_indices_outside_its_rows():
    closed = np.zeros((2, 1), np.uint64)
    k = kernel(1)
    with pytest.raises(ValueError, match="do not match 2 rows"):
        k(closed, np.array([0, 1]), np.array([0, 1, 1]), np.array([5]))
    with pytest.raises(ValueError, match="do not match 2 rows"):
        k(closed, np.array([0, 2]), np.array([0, 0, 0]), np.array([], np.int64))
    with pytest.raises(ValueError, match="uint64"):
        k(np.zeros((2, 1), np.int64), np.array([0, 1]), np.array([0, 0, 0]), np.array([], np.int64))


@pytest.mark.parametrize("source", [CLOSURE, LEFT, SQUARE], ids=["right", "left", "square"])
@pytest.mark.parametrize("name", ["empty-70", "chain-200", "cycle-70", "components-99", "random-130-100-4",
                                  "random-300-600-5"])
@pytest.mark.parametrize("threads", [1, 2])
def test_programs_on_llvm_match_numpy_closure_and_dense(source, name, threads):
    edge = sp.csr_matrix(GRAPHS[name])
    program = tlc.compile(source, backend="llvm", threads=threads, relations="closure")   # auto may traverse these
    got = np.asarray(program(Edge=edge)["Path"])
    assert "rs.closure(" in program.source(Edge=edge) and "_closure)" in program.source(Edge=edge)
    assert f"runs: closure: native llvm kernel, {threads} thread" in program.explain(Edge=edge)
    np.testing.assert_array_equal(got, np.asarray(tlc.compile(source)(Edge=edge)["Path"]))
    np.testing.assert_array_equal(got, np.asarray(tlc.compile(source, relations="dense")(Edge=edge)["Path"]))


@pytest.mark.parametrize("name", GRAPHS)
@pytest.mark.parametrize("threads", [1, 2])
def test_the_sparse_traversal_matches_the_bitset_closure(name, threads, monkeypatch):
    monkeypatch.setattr(native, "CLOSURE_WORK", 0)      # split the sources even of small graphs
    a = GRAPHS[name]
    got = closure_sparse(Tuples.from_dense(a), kernel(threads))
    assert isinstance(got, Tuples) and got.shape == a.shape
    np.testing.assert_array_equal(np.asarray(got), reach.closure_rows(sp.csr_matrix(a)))
    assert np.all(np.diff(got.keys) > 0)                  # sorted and distinct once read as keys


def test_the_sparse_traversal_pads_a_non_square_relation_and_cuts_it_back():
    rows = np.array([[0, 1], [1, 2], [2, 0], [3, 4]])
    step = Tuples.from_rows(rows, (4, 6))
    np.testing.assert_array_equal(np.asarray(closure_sparse(step, kernel(2))), closure(step))
    assert len(closure_sparse(Tuples.from_rows(np.zeros((0, 2)), (0, 3)), kernel(1))) == 0


def test_the_traversal_refuses_edges_outside_the_graph():
    with pytest.raises(ValueError, match="rows and edges do not match"):
        kernel(1).reach(np.array([0, 1, 1]), np.array([2]))
    with pytest.raises(ValueError, match="rows and edges do not match"):
        kernel(1).reach(np.array([0, 2, 1]), np.array([0]))


@pytest.mark.parametrize("source", [CLOSURE, LEFT, SQUARE], ids=["right", "left", "square"])
@pytest.mark.parametrize("name", ["empty-70", "chain-200", "components-99", "random-300-600-5"])
def test_sparse_programs_on_llvm_traverse_natively_and_match_numpy(source, name):
    edge = sp.csr_matrix(GRAPHS[name])
    program = tlc.compile(source, backend="llvm", relations="sparse", threads=2)
    got = program(Edge=edge)["Path"]
    assert "rs.closure_sparse(" in program.source(Edge=edge)
    assert "runs: sparse closure: native llvm kernel (a traversal per source), 2 threads" in program.explain(Edge=edge)
    want = np.asarray(tlc.compile(source, relations="sparse")(Edge=edge)["Path"])
    np.testing.assert_array_equal(np.asarray(got), want)
    assert set(got) == set(tlc.compile(source)(Edge=edge)["Path"])


def test_a_round_limit_keeps_the_sparse_closure_semi_naive():
    edge = sp.csr_matrix(chain(50))
    program = tlc.compile(CLOSURE, backend="llvm", relations="sparse", max_rounds=100)
    assert "rs.closure_sparse(" not in program.source(Edge=edge) and "nj.minus(" in program.source(Edge=edge)
    assert "runs: sparse semi-naive: native llvm kernel (merge join)" in program.explain(Edge=edge)
    np.testing.assert_array_equal(np.asarray(program(Edge=edge)["Path"]), np.triu(np.ones((50, 50), bool), 1))
    with pytest.raises(tlc.TlcError):
        tlc.compile(CLOSURE, backend="llvm", relations="sparse", max_rounds=10)(Edge=edge)


@pytest.mark.parametrize("fmt", ["csr", "coo"])
def test_stored_zeros_and_duplicates_are_edges_only_where_an_entry_is_nonzero(fmt):
    # (0, 1) is stored twice, as 1 and -1: an edge (some entry is nonzero, though they sum to 0); (1, 2) is an
    # explicit zero: no edge
    indptr, cols, data = np.array([0, 2, 3, 4, 5, 5]), np.array([1, 1, 2, 3, 3]), np.array([1.0, -1.0, 0.0, 2.0, 1.0])
    matrix = sp.csr_matrix((data, cols, indptr), shape=(5, 5))
    assert not matrix.has_canonical_format and matrix.nnz == 5
    if fmt == "coo":
        matrix = sp.coo_matrix((data, (np.array([0, 0, 1, 2, 3]), cols)), shape=(5, 5))
    edges = np.zeros((5, 5), bool)
    edges[[0, 2, 3], [1, 3, 3]] = True
    want = reach.closure_rows(sp.csr_matrix(edges))
    assert want[0, 1] and want[2, 3] and want[3, 3] and not want[0, 2] and not want[1, 2]
    np.testing.assert_array_equal(reach.closure_rows(matrix, kernel(2)), want)
    np.testing.assert_array_equal(reach.closure_rows(matrix), want)
    np.testing.assert_array_equal(reach.closure_csr(matrix, kernel(1)).toarray() != 0, want)


@pytest.mark.parametrize(("name", "edge", "strategy", "runs"), [
    ("chain", chain(1000), "closure", "runs: closure: native llvm kernel, 2 threads"),
    ("thin", random_graph(4000, 2000, 7), "sparse", "runs: sparse closure: native llvm kernel (a traversal per source)"),
])
def test_auto_on_llvm_sizes_the_closure_by_sampling_and_matches_numpy(name, edge, strategy, runs):
    edge = sp.csr_matrix(edge)
    program = tlc.compile(CLOSURE, backend="llvm", threads=2)
    stratum = program.specialisation(Edge=edge).plan.strata[0]
    assert stratum.strategy == strategy and stratum.costs[strategy] == min(stratum.costs.values())
    assert runs in program.explain(Edge=edge)
    np.testing.assert_array_equal(np.asarray(program(Edge=edge)["Path"]),
                                  reach.closure_rows(edge)[:edge.shape[0], :edge.shape[1]])
