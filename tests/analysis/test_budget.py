"""The memory budget: checked once per specialisation, before any tensor, temporary or native loop exists.

End to end through ``tlc.compile`` first; the unit tests of ``tlc.analysis.budget.check_budget`` on inferred
shapes are at the end."""

import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tlc
import tlc.fuzz
from tlc import memory_limit as ml
from tlc.backends.registry import backend as find_backend
from tlc.cli import main
from tlc.driver.plan import CHUNKED_ARRAYS

HUGE_TENSOR = "T[2000000000] = 1\n"
"""A dense tensor of 2·10^9 float64 elements (15 GiB)."""

CHAIN = "Y[i] = sig(A[i,j] + B[j,k] + C[k,l]) E[l]\n"
"""sig's argument ranges over i, j, k and l: 10^12 elements with 1000 per index, inputs of 8 MB each."""


@pytest.fixture
def backend(backend):
    """The backends whose budget bounds whole tensors; on a chunked backend (Dask) it sizes chunks instead, which
    ``tests/backends/dask`` tests."""
    if CHUNKED_ARRAYS in find_backend(backend).capabilities:
        pytest.skip(f"the {backend} backend's budget sizes chunks, not whole tensors")
    return backend


def chain_inputs(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    return dict(A=rng.random((n, n)), B=rng.random((n, n)), C=rng.random((n, n)), E=rng.random(n))


def refused(program, **inputs) -> tlc.TlcError:
    start = time.perf_counter()
    with pytest.raises(tlc.TlcError) as err:
        program(**inputs)
    assert time.perf_counter() - start < 5, "the budget is checked before anything runs"
    return err.value


def test_a_huge_tensor_is_refused_before_it_is_allocated(backend):
    err = refused(tlc.compile(HUGE_TENSOR, backend=backend))
    assert err.line == 1
    assert err.message.startswith("T[2000000000] = 1: T would have shape (2000000001,): 2,000,000,001 elements "
                                  "(14.9 GiB), over the memory budget of ")
    assert "of the available memory; memory_limit= or --memory-limit changes it" in err.message


def test_a_huge_temporary_is_refused_on_every_backend(backend):
    # The llvm backend fuses the chain into one loop with no temporary, but that loop would run 10^12 times:
    # the same plan-level rule holds on every backend.
    err = refused(tlc.compile(CHAIN, backend=backend), **chain_inputs())
    assert err.message.startswith("Y[i] = sig(A[i, j] + B[j, k] + C[k, l]) E[l]: the temporary "
                                  "sig(A[i, j] + B[j, k] + C[k, l]) over i, j, k, l would hold "
                                  "1,000,000,000,000 elements (7.28 TiB), over the memory budget of ")
    assert (err.line, err.column) == (1, 8)
    assert str(err).splitlines()[1:] == ["  Y[i] = sig(A[i,j] + B[j,k] + C[k,l]) E[l]",
                                         "         " + "^" * len("sig(A[i,j] + B[j,k] + C[k,l])")]


def test_the_issue_example_under_an_explicit_limit(backend):
    rng = np.random.default_rng(1)
    program = tlc.compile("Y[i] = sig(A[i,j] + B[j,k]) E[k]", backend=backend, memory_limit="64M")
    err = refused(program, A=rng.random((10_000, 100)), B=rng.random((100, 100)), E=rng.random(100))
    assert err.message == ("Y[i] = sig(A[i, j] + B[j, k]) E[k]: the temporary sig(A[i, j] + B[j, k]) over i, j, k "
                           "would hold 100,000,000 elements (763 MiB), over the memory limit of 64 MiB")


def test_refusals_allocate_nothing_under_an_address_space_limit():
    """In a child limited to 3 GiB of address space, each case must end in a TlcError, not a MemoryError; the
    default budget follows the rlimit (half of what it leaves)."""
    script = textwrap.dedent(f"""
        import resource, numpy as np
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, resource.RLIM_INFINITY))
        import tlc
        from tlc.memory_limit import default_budget
        assert default_budget().bytes < 1.5 * 2**30, default_budget()   # half of what the rlimit leaves
        rng = np.random.default_rng(0)
        chain = dict(A=rng.random((1000, 1000)), B=rng.random((1000, 1000)), C=rng.random((1000, 1000)),
                     E=rng.random(1000))
        for backend in ("numpy", "llvm"):
            for source, inputs in (({HUGE_TENSOR!r}, {{}}), ({CHAIN!r}, chain),
                                   ("Y[i] = 2 A[i]\\n", dict(A=np.ones(10)))):
                try:
                    tlc.compile(source, backend=backend)(**inputs)
                except tlc.TlcError as err:
                    print(backend, "refused", err.line)
                else:
                    print(backend, "ran")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:6] == ["numpy refused 1", "numpy refused 1", "numpy ran",
                                          "llvm refused 1", "llvm refused 1", "llvm ran"]


def test_memory_limit_none_lifts_the_budget(backend):
    small = chain_inputs(n=8)
    expected = (1 / (1 + np.exp(-(small["A"][:, :, None, None] + small["B"][None, :, :, None]
                                  + small["C"][None, None, :, :])))) @ small["E"]
    expected = expected.sum(axis=(1, 2))
    refused(tlc.compile(CHAIN, backend=backend, memory_limit=100 * 8), **small)
    for limit in ("none", "None", " NONE "):
        program = tlc.compile(CHAIN, backend=backend, memory_limit=limit)
        assert program.memory_limit is None and "memory budget" not in program.explain(**small)
        np.testing.assert_allclose(program(**small)["Y"], expected)
    np.testing.assert_allclose(tlc.compile(CHAIN, backend=backend)(**small)["Y"], expected)


def test_the_default_budget_is_half_the_available_memory(monkeypatch):
    available = ml.available_bytes()
    assert available is not None     # Linux: /proc/meminfo
    budget = tlc.compile("Y = 1").budget
    assert budget.kind == "memory budget" and ml.DEFAULT_FRACTION == 0.5
    assert budget == ml.process_budget() == tlc.compile("Y = 2").budget     # read once per process
    assert ml.default_budget().bytes == pytest.approx(available * ml.DEFAULT_FRACTION, rel=0.2)   # others allocate
    with open("/proc/meminfo") as handle:
        total = next(int(line.split()[1]) * 1024 for line in handle if line.startswith("MemTotal:"))
    assert budget.bytes <= total * ml.DEFAULT_FRACTION
    assert "memory budget: " in tlc.compile("Y = 1").explain()
    monkeypatch.setattr(ml, "available_bytes", lambda: None)
    fallback = ml.default_budget()
    assert fallback.bytes == ml.FALLBACK_BYTES * ml.DEFAULT_FRACTION and "assumed 4 GiB" in fallback.describe()


def test_an_explicit_limit_is_the_budget_and_the_planners_limit():
    program = tlc.compile("Y = 1", memory_limit="1G")
    assert program.memory_limit == 2**27 and program.budget.describe() == "the memory limit of 1 GiB"


def test_tensors_together_must_fit():
    source = "A[i] = 1.0\nB[i] = 2.0\ntensor A[100000]\ntensor B[100000]\n"
    program = tlc.compile(source, memory_limit="1M")      # 131,072 elements: each fits, both do not
    with pytest.raises(tlc.TlcError, match=r"the tensors this program defines would hold 200,000 elements "
                                           r"\(1.53 MiB\) together, over the memory limit of 1 MiB; the largest: "
                                           r"A 100,000 elements \(781 KiB\), B 100,000 elements") as err:
        program()
    assert err.value.line == 1
    assert tlc.compile(source, memory_limit="2M")()["B"].shape == (100000,)


def test_relations_stored_sparse_are_not_counted():
    n = 200_000   # a dense Path would have 4e10 elements
    src = np.arange(0, n - 1, 2)
    edges = sp.csr_matrix((np.ones(len(src)), (src, src + 1)), shape=(n, n))
    program = tlc.compile("Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\n", memory_limit="64M")
    assert len(program(Edge=edges)["Path"]) == len(src)


def test_a_recurrence_counts_one_step_at_a_time(backend):
    # U[t, j] + W[i, j] ranges over t, i, j (270,000 elements), but the recurrence runs one step t at a time,
    # so each step's temporary has 900; H itself has 9,030 and the limit is 10,240 elements.
    rng = np.random.default_rng(2)
    U, W = rng.random((300, 30)), rng.random((30, 30))
    program = tlc.compile("H[t+1, i] = H[t, i] + sig(U[t, j] + W[i, j])\n", backend=backend,
                          memory_limit=f"{80 * 1024}")
    expected = np.zeros((301, 30))
    for t in range(300):
        expected[t + 1] = expected[t] + 1 / (1 + np.exp(-(U[t][None, :] + W).sum(axis=1)))
    np.testing.assert_allclose(program(W=W, U=U, H=np.zeros((1, 30)))["H"], expected)


def test_cli_memory_limit_none_and_refusals(tmp_path, capsys):
    source, data = tmp_path / "chain.tl", tmp_path / "d.npz"
    source.write_text(CHAIN)
    np.savez(data, **chain_inputs(n=6))
    assert main(["run", str(source), "--data", str(data), "--memory-limit", "none"]) == 0
    assert "Y" in capsys.readouterr().out
    assert main(["run", str(source), "--data", str(data), "--memory-limit", "8K"]) == 1
    err = capsys.readouterr().err
    assert f"{source}:1:8: error: Y[i] = sig(A[i, j] + B[j, k] + C[k, l]) E[l]: the temporary " in err
    assert "would hold 1,296 elements (10.1 KiB), over the memory limit of 8 KiB" in err
    assert main(["explain", str(source), "--data", str(data), "--memory-limit", "none"]) == 0
    assert "memory budget" not in capsys.readouterr().out
    assert main(["check", str(source), "--data", str(data), "--memory-limit", "8K"]) == 1
    assert "over the memory limit of 8 KiB" in capsys.readouterr().err
    assert main(["check", str(source), "--data", str(data)]) == 0


def test_fused_attention_counts_its_result_not_its_scores():
    source = ("S[b, p, q.] = softmax(Q[b, p, d] K[b, q, d] / sqrt(Dk))\n"
              "Out[b, p, e] = S[b, p, q] V[b, q, e]\n")
    rng = np.random.default_rng(3)
    inputs = dict(Q=rng.random((2, 64, 8)), K=rng.random((2, 64, 8)), V=rng.random((2, 64, 8)), Dk=8.0)
    limit = 5000 * 8      # the scores have 8,192 elements, the result 1,024
    with pytest.raises(tlc.TlcError, match=r"S would have shape \(2, 64, 64\): 8,192 elements"):
        tlc.compile(source, outputs=["Out"], opt_level=0, memory_limit=limit)(**inputs)
    fused = tlc.compile(source, outputs=["Out"], memory_limit=limit)(**inputs)["Out"]
    np.testing.assert_allclose(fused, tlc.compile(source, outputs=["Out"], opt_level=0)(**inputs)["Out"])


def test_a_relation_stored_sparse_by_native_kernels_counts_as_on_numpy():
    """The llvm backend's native closure stores R1 sparse where NumPy's closure stores it dense; the budget counts it
    dense on both, so the program is refused alike (found by the campaign below: llvm ran it, NumPy refused it)."""
    pytest.importorskip("llvmlite")
    source = "T0[i] = X0[i]\nR0(1, 1)\nR1(i, j) = R0(i, j)\nR1(i, k) = R1(i, j) R0(j, k)\nR1(1, i)?\n"
    messages = set()
    for backend in ("numpy", "llvm"):
        with pytest.raises(tlc.TlcError, match="would hold 9 elements") as caught:
            tlc.compile(source, backend=backend, memory_limit=64)(X0=np.ones(1))
        messages.add(caught.value.message)
    assert len(messages) == 1
    assert tlc.compile(source, backend="llvm", memory_limit=72)(X0=np.ones(1))["R1"].shape == (2, 2)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(case=tlc.fuzz.cases(), limit=st.sampled_from([64, 800, 8000]))
def test_random_programs_are_refused_alike_on_every_backend(case, limit):
    """The same plan-level rule on numpy and llvm: a random program runs on both or is refused with one message."""
    pytest.importorskip("llvmlite")
    program, inputs = case
    outcome = {}
    for backend in ("numpy", "llvm"):
        try:
            tlc.compile(program.source, backend=backend, memory_limit=limit)(**inputs)
            outcome[backend] = "ran"
        except tlc.TlcError as err:
            outcome[backend] = err.message
    assert outcome["numpy"] == outcome["llvm"], program.source


# ---------------------------------------------------------------- check_budget on inferred shapes
def check(source: str, elements: int | None, **extents) -> None:
    """``check_budget`` for ``source`` with these input extents and a budget of ``elements`` float64s."""
    from tlc.analysis.budget import check_budget
    from tlc.analysis.relation_plan import plan_relations
    from tlc.analysis.shapes import infer_shapes, symbolic_axes
    from tlc.analysis.strata import stratify
    from tlc.analysis.windows import plan_windows
    from tlc.api import frontend

    program = frontend(source)
    strata = stratify(program)
    shapes = infer_shapes(program, strata, extents, {}, symbolic_axes(program, set()), len(program.symbols))
    check_budget(program, strata, shapes, plan_relations(program, strata, shapes, {}), ml.Budget(elements),
                 plan_windows(program, strata, {}))


def budget_error(source: str, elements: int, **extents) -> tlc.TlcError:
    with pytest.raises(tlc.TlcError) as err:
        check(source, elements, **extents)
    return err.value


def test_a_result_exactly_at_the_budget_fits_and_one_element_less_refuses_it():
    check("C[i, k] = A[i, j] B[j, k]\n", 100, A=(10, 10), B=(10, 10))
    err = budget_error("C[i, k] = A[i, j] B[j, k]\n", 99, A=(10, 10), B=(10, 10))
    assert err.message == ("C[i, k] = A[i, j] B[j, k]: C would have shape (10, 10): 100 elements (800 B), over the "
                           "memory limit of 792 B")
    assert (err.span.line, err.span.column) == (1, 1)


def test_the_defined_tensors_must_fit_together():
    check("C[i, k] = A[i, j] B[j, k]\nD[i, k] = C[i, k] + 1\n", 200, A=(10, 10), B=(10, 10))
    err = budget_error("C[i, k] = A[i, j] B[j, k]\nD[i, k] = C[i, k] + 1\n", 150, A=(10, 10), B=(10, 10))
    assert err.message.startswith("the tensors this program defines would hold 200 elements (1.56 KiB) together, "
                                  "over the memory limit of 1.17 KiB; the largest: C 100 elements")


def test_a_temporary_counts_every_index_it_ranges_over():
    # sig(A[i,j] + B[j,k]) ranges over i, j and k before j and k are summed: 1,000 elements
    source = "Y[i] = sig(A[i, j] + B[j, k]) E[k]\n"
    check(source, 1000, A=(10, 10), B=(10, 10), E=(10,))
    err = budget_error(source, 999, A=(10, 10), B=(10, 10), E=(10,))
    assert "the temporary sig(A[i, j] + B[j, k]) over i, j, k would hold 1,000 elements (7.81 KiB)" in err.message
    assert (err.span.line, err.span.column) == (1, 8)


def test_a_contraction_with_large_intermediates_is_sliced_not_refused():
    # every pairwise step builds 256 elements; slicing keeps them within 100
    source = "Y = A[a, b, c] B[c, d, e] C[e, f, a] D[b, d, f]\n"
    check(source, 100, **{n: (4, 4, 4) for n in "ABCD"})
    err = budget_error(source, 63, **{n: (4, 4, 4) for n in "ABCD"})
    assert "cannot be planned within the memory limit of 504 B: its operand A[a, b, c] alone holds 64 elements" \
        in err.message


def test_no_limit_checks_nothing():
    check("T[i, j] = A[i] B[j]\n", None, A=(10**6,), B=(10**6,))


def test_a_recurrence_counts_its_steps_in_the_tensor():
    err = budget_error("X[i, t+1] = tanh(W[i, j] X[j, t] + In[i, t])\n", 5000, W=(10, 10), In=(10, 1000))
    assert "X would have shape (10, 1001): 10,010 elements" in err.message


def test_a_virtual_axis_counts_two_steps():
    """The emitted code stores two steps of X (t % 2) and returns the last one: 20 elements, not 10,010."""
    check("X[i, *t+1] = tanh(W[i, j] X[j, *t] + In[i, t])\n", 100, W=(10, 10), In=(10, 1000))
    program = tlc.compile("X[i, *t+1] = tanh(W[i, j] X[j, *t] + In[i, t])\n", memory_limit=200 * 8)
    rng = np.random.default_rng(0)
    assert program(W=rng.uniform(-1, 1, (10, 10)) / 10, In=rng.uniform(-1, 1, (10, 50)))["X"].shape == (10,)


def test_size_text():
    from tlc.analysis.budget import size_text
    assert (size_text(1), size_text(10**6)) == ("1 element (8 B)", "1,000,000 elements (7.63 MiB)")
