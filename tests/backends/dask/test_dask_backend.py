"""The Dask backend against the NumPy backend on Dask's synchronous scheduler: every example, the golden
programs, every built-in function; lazy inputs and results, the pairwise emission, the task graph's growth,
chunking and ``explain``."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
pytest.importorskip("distributed")

import tlc  # noqa: E402
from golden_programs import PROGRAMS, inputs as golden_inputs  # noqa: E402
from tlc.ir.functions import Function  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.tl"))


@pytest.fixture(autouse=True)
def synchronous():
    """Every test here computes on Dask's synchronous scheduler (deterministic, one thread)."""
    with dask.config.set(scheduler="synchronous"):
        yield


def nz(rng, *shape):
    """Random values in ±[0.5, 1.5)."""
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


class Counting(dask.callbacks.Callback):
    """Counts the tasks Dask computes while active."""

    def __init__(self):
        super().__init__()
        self.tasks = 0

    def _start_state(self, dsk, state):
        self.tasks += len(state["ready"]) + len(state["waiting"])


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_example_matches_numpy(path, agree):
    data_file = EXAMPLES / "data" / f"{path.stem}.npz"
    data = dict(np.load(data_file)) if data_file.exists() else {}
    agree(path, data)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_golden_programs_match_numpy(name, agree):
    source, _, outputs = PROGRAMS[name]
    agree(source, golden_inputs(name, seed=1), outputs=outputs)


@pytest.mark.parametrize("function", list(Function), ids=lambda f: f.spelling)
def test_every_function_matches_numpy(function, agree):
    from tlc.ir.functions import Function as F
    rng = np.random.default_rng(3)
    programs = {F.SIG: ("Y[i] = sig(X[i], 0.5)", (5,)), F.NOT: ("Y[i] = A[i] ~X[i]", (5,)),
                F.MIN: ("Y[i] = min(X[i], A[i])", (5,)), F.MAX: ("Y[i] = max(X[i], A[i])", (5,)),
                F.SOFTMAX: ("Y[i, j.] = softmax(X[i, j])", (3, 4)), F.LNORM: ("Y[i, j.] = lnorm(X[i, j])", (3, 4)),
                F.CONCAT: ("Y[p, m] = concat(X[h, p, d])", (2, 3, 4))}
    source, shape = programs.get(function, (f"Y[i] = {function.spelling}(X[i])", (5,)))
    data = {"X": np.abs(nz(rng, *shape)) if function.spelling in ("sqrt", "log") else nz(rng, *shape),
            "A": nz(rng, *shape)}
    agree(source, {k: v for k, v in data.items() if k == "X" or "A[i]" in source})


AGGREGATES = {
    "max": "M[i] max= X[i, j] W[j, k] + B[k]\nN[i] min= X[i, j] - 1\nA[i] avg= X[i, j]",
    "shifts": "Y[i] = X[i + 1, j] W[j, k] C[k] + X[i - 1, j] D[j]",
    "pooling": "P[x/2, y/2] max= Image[x, y]\nQ[x/2, y/2] avg= Image[x, y]",
    "conv": "F[x, y] = Image[x + dx, y + dy] K[dx, dy]",
    "sum_of_defs": "Y[i] = X[i, j] D[j]\nY[i] += C[i]\nY[0] = 2",
}


@pytest.mark.parametrize("name", sorted(AGGREGATES))
def test_aggregates_shifts_and_pooling_match_numpy(name, agree):
    rng = np.random.default_rng(5)
    data = {"X": nz(rng, 7, 4), "W": nz(rng, 4, 3), "B": nz(rng, 3), "C": nz(rng, 7 if name == "sum_of_defs" else 3),
            "D": nz(rng, 4), "Image": nz(rng, 9, 8), "K": nz(rng, 3, 2)}
    source = AGGREGATES[name]
    used = {k: v for k, v in data.items() if f"{k}[" in source}
    if name == "shifts":
        used["C"] = nz(rng, 3)
    agree(source, used)


def test_recursions_match_numpy_and_persist_each_round(agree):
    rng = np.random.default_rng(2)
    weights = np.where(rng.random((12, 12)) < 0.3, rng.uniform(1, 5, (12, 12)), np.inf)
    source = "Dist[x, z] min= W[x, z]\nDist[x, z] min= Dist[x, y] + W[y, z]"
    program = tlc.compile(source, backend="dask", chunks={"W": (6, 6), "Dist": (6, 6)})
    np.testing.assert_allclose(np.asarray(program(W=weights)["Dist"]), tlc.compile(source)(W=weights)["Dist"])
    assert "rt.persist(" in program.source() and "rt.eager(" not in program.source()
    assert "stratum 1 (fixpoint) runs on Dask: a driver loop" in program.explain()
    program = agree(source, {"W": weights})       # every array fits in one chunk: eagerly in NumPy
    assert "rt.eager(" in program.source() and "rt.persist(" not in program.source()
    assert "stratum 1 (fixpoint) runs eagerly in NumPy in the client" in program.explain()
    relation = rng.random((10, 10)) < 0.2
    agree("Reach(x, y) = Edge(x, y)\nReach(x, z) = Reach(x, y) Edge(y, z)", {"Edge": relation}, relations="dense")
    agree("S[0] = Init\nS[t+1] = 0.5 S[t] + In[t]", {"Init": 1.5, "In": nz(rng, 20)})


@pytest.mark.parametrize("chunks", [None, {"A": (2,), "X": (2,)}], ids=["eager", "persisted"])
def test_a_diverging_recursion_is_a_located_error(chunks):
    with pytest.raises(tlc.TlcError, match="diverges|did not converge") as err:
        tlc.compile("X[i] = A[i]\nX[i] = X[i] + X[i]", backend="dask", max_rounds=12, chunks=chunks)(A=np.ones(3))
    assert err.value.line == 2


def test_dask_inputs_of_any_chunking_stay_lazy_until_asked():
    rng = np.random.default_rng(4)
    x, w = nz(rng, 40, 12), nz(rng, 12, 6)
    source = "H[b, i] = relu(X[b, j] W[j, i])\nY = H[b, i] H[b, i]"
    expected = tlc.compile(source)(X=x, W=w)
    program = tlc.compile(source, backend="dask", outputs=["Y"])
    counting = Counting()
    with counting:
        result = program(X=da.from_array(x, chunks=(7, 5)), W=w)
    assert counting.tasks == 0, "the call computed something"
    assert list(result) == ["Y"] and isinstance(result["Y"], da.Array)
    np.testing.assert_allclose(np.asarray(result["Y"]), expected["Y"], rtol=1e-12)


def _einsum_operands(source: str) -> list[int]:
    """The number of array operands of every ``da.einsum`` call in emitted source."""
    counts = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "da.einsum":
            counts.append(len(node.args) - 1)
    return counts


def test_each_planned_step_is_one_pairwise_operation(agree):
    rng = np.random.default_rng(6)
    source = "Y[i, m] = A[i, j] B[j, k] C[k, l] D[l, m]\nZ[b] = P[b, i, j] Q[b, j, k] R[b, k]"
    data = {"A": nz(rng, 5, 6), "B": nz(rng, 6, 7), "C": nz(rng, 7, 8), "D": nz(rng, 8, 3),
            "P": nz(rng, 2, 3, 4), "Q": nz(rng, 2, 4, 5), "R": nz(rng, 2, 5)}
    program = agree(source, data)
    emitted = program.source()
    assert "rt.contract" not in emitted
    assert emitted.count("da.matmul(") == 3             # the chain: one matrix product per planned step
    assert all(n <= 2 for n in _einsum_operands(emitted))
    assert _einsum_operands(emitted) == [2, 2]          # the batched product keeps b: pairwise einsums
    assert "one da.matmul over j" in program.explain()


def test_the_task_graph_grows_linearly_with_the_planned_steps():
    rng = np.random.default_rng(8)
    sizes = []
    for n in range(2, 9):
        indices = "abcdefghij"
        factors = " ".join(f"M{k}[{indices[k]}, {indices[k + 1]}]" for k in range(n))
        source = f"Y[a, {indices[n]}] = {factors}"
        data = {f"M{k}": nz(rng, 40, 40) for k in range(n)}
        result = tlc.compile(source, backend="dask", chunks={f"M{k}": (20, 20) for k in range(n)})(**data)
        sizes.append(len(dict(result["Y"].__dask_graph__())))
    growth = np.diff(sizes)
    # linear: each planned step adds a bounded number of tasks (the path's shape may vary), a steady one at the end
    assert growth.min() > 0 and growth.max() <= 2 * growth.min() and len(set(growth[-3:])) == 1, sizes


def test_chunks_override_and_explain():
    rng = np.random.default_rng(9)
    x, w = nz(rng, 64, 16), nz(rng, 16, 8)
    program = tlc.compile("Y[b, i] = X[b, j] W[j, i]", backend="dask", chunks={"X": (16, -1)})
    result = program(X=x, W=w)
    assert result["Y"].chunks[0] == (16, 16, 16, 16)
    explained = program.explain()
    assert "X: chunks (16, 16) of (64, 16), 4 chunks (NumPy data; Dask data keeps its own chunks)" in explained
    assert "one da.matmul over j" in explained and "tasks" in explained and "per task (estimate)" in explained
    small = tlc.compile("Y[b, i] = X[b, j] W[j, i]", backend="dask", chunks="4K")
    small(X=x, W=w)
    assert "chunk size 4 KiB (chunks=4 KiB)" in small.explain()
    assert "X: chunks (32, 16) of (64, 16), 2 chunks" in small.explain()   # j, contracted, kept whole


def test_the_planned_chunks_keep_contracted_axes_whole():
    program = tlc.compile("Y[b, i] = X[b, j] W[j, i]", backend="dask", memory_limit="2M")
    program(X=np.ones((4096, 64)), W=np.ones((64, 8)))
    explained = program.explain()
    assert "a quarter of the memory budget" in explained
    line = next(text for text in explained.splitlines() if text.strip().startswith("X: chunks"))
    rows, cols = ast.literal_eval(line.split("chunks ")[1].split(" of")[0])
    assert cols == 64 and rows * cols * 8 <= 2**19


@pytest.mark.parametrize("chunks, message", [
    ({"Nope": (2,)}, "not a tensor"), ({"X": (2,)}, "must be 2 positive integers"), ("lots", "bytes per chunk")])
def test_bad_chunks_are_errors(chunks, message):
    with pytest.raises(tlc.TlcError, match=message):
        tlc.compile("Y[b, i] = X[b, j] W[j, i]", backend="dask", chunks=chunks)


def test_chunks_on_another_backend_is_an_error():
    with pytest.raises(tlc.TlcError, match="does not chunk"):
        tlc.compile("Y[i] = X[i]", chunks="1M")


def test_relational_strata_say_they_run_in_memory():
    program = tlc.compile(EXAMPLES / "family.tl", backend="dask")
    program()
    assert "runs in memory on tlc_runtime.sparse, not on Dask" in program.explain()


def test_tensors_larger_than_the_budget_run_in_chunks():
    rng = np.random.default_rng(12)
    x, w = nz(rng, 2000, 16), nz(rng, 16, 4)
    source = "H[n, m] = relu(X[n, k] W[k, m])\nS = H[n, m]"
    with pytest.raises(tlc.TlcError):
        tlc.compile(source, memory_limit="64K")(X=x, W=w)      # NumPy: X alone is 256 KB
    program = tlc.compile(source, backend="dask", memory_limit="64K", outputs=["S"])
    result = program(X=da.from_array(x, chunks=(250, 16)), W=w)
    np.testing.assert_allclose(np.asarray(result["S"]), np.maximum(x @ w, 0).sum(), rtol=1e-12)
    assert "chunk size 16 KiB (a quarter of the memory budget" in program.explain()


def test_negation_and_step_of_a_number(agree):
    # found by the fuzzer: ``~2`` negates a literal (a Python number, not an array)
    rng = np.random.default_rng(13)
    agree("T0 = X0[i]\nT0 += X0[i] ~2\nT1[i] = X1[i] step(0 - 3) + X1[i] ~X0[i]", {"X0": nz(rng, 4), "X1": nz(rng, 4)})


def test_names_of_the_module_globals_are_mangled(agree):
    rng = np.random.default_rng(14)
    program = agree("CHUNKS[i] = da[i, j] rt[j]\nnp[i] max= CHUNKS[i] da[i, j]", {"da": nz(rng, 4, 3), "rt": nz(rng, 3)})
    assert "CHUNKS = {" in program.source() and "'CHUNKS'" in program.source()


@pytest.mark.parametrize("source", [
    "T0[i, j, k] = X[i, j] X[j + 2, k]\nR0(j) = T0[j, j, m]\n",
    "T0[i, j, k] = X[i, j] X[j + 2, k]\nT1[j] = T0[j, j, m]\n",
    "T0[i, j, k] = X[i, j] X[j + 2, k]\nT1[j, n] = T0[j, j, m] Y[n]\n",
])
@pytest.mark.parametrize("opt_level", [0, 2])
def test_a_diagonal_of_axes_chunked_apart(source, opt_level, agree):
    """Found by the gradient campaign (TLC_FUZZ_SEED=764, minimised): ``T0`` (4 x 2 x 4, from a pairwise
    ``da.einsum``) has its first axes chunked (2, 2) and (1, 1); its diagonal ``T0[j, j, m]`` (an einsum ``'aab'``
    of ``T0[0:2]``) failed in Dask ("dimensions in single operand for collapsing index 'a' don't match (2 != 1)"):
    Dask's einsum of one operand takes it block by block. The axes read with one index are now chunked alike."""
    rng = np.random.default_rng(15)
    data = {"X": nz(rng, 4, 4), "Y": nz(rng, 3)}
    agree(source, {n: a for n, a in data.items() if f"{n}[" in source}, opt_level=opt_level, nonempty=True)
