"""Memory limits: parsed from bytes or 512M/2G, applied to every product term with slicing, errors when unmeetable."""

import numpy as np
import pytest

import tlc
from tlc.backends.registry import backend as find_backend
from tlc.cli import main
from tlc.contract import contract_path
from tlc.driver.plan import CHUNKED_ARRAYS
from tlc.memory_limit import limit_elements, parse_bytes

HYPER = "Y = A[i, j] B[i, k] C[i, l] D[j, k, l]\n"
"""Every pairwise order has an intermediate of 800 elements while no operand has more than 200."""


def hyper_inputs(seed=0):
    rng = np.random.default_rng(seed)
    return dict(A=rng.random((50, 4)), B=rng.random((50, 4)), C=rng.random((50, 4)), D=rng.random((4, 4, 4)))


@pytest.mark.parametrize("text, expected", [
    (4096, 4096), ("4096", 4096), ("512M", 512 * 2**20), ("2G", 2 * 2**30), ("1.5GiB", 3 * 2**29),
    ("64kb", 64 * 1024), (" 8 ", 8),
])
def test_parse_bytes(text, expected):
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("text", ["", "12Q", "-5", "2 G B", "abc", 4, "7", True, 1.5, None])
def test_bad_limits_are_refused(text):
    with pytest.raises(tlc.TlcError, match="memory limit"):
        parse_bytes(text)


def test_limit_counts_float64_elements():
    assert limit_elements("1K") == 128 and limit_elements("none") is None and limit_elements("None") is None
    assert limit_elements(None) > 0      # the default budget (tests/test_budget.py)


def test_sliced_program_agrees_with_the_unlimited_one(backend):
    inputs = hyper_inputs()
    expected = np.einsum("ij,ik,il,jkl->", *inputs.values())
    program = tlc.compile(HYPER, backend=backend, memory_limit=300 * 8)
    assert np.isclose(program(**inputs)["Y"], expected)
    if backend == "numpy":
        assert "rt.contract_sliced('ab,ac,ad,bcd->', A, B, C, D" in program.source()
    text = program.explain()
    if CHUNKED_ARRAYS in find_backend(backend).capabilities:   # Dask: the budget sizes chunks, nothing is sliced
        assert "chunk size 600 B (a quarter of the memory budget" in text and "sliced" not in text
        return
    assert "sliced over j (4 slices)" in text     # the index as written
    assert "memory limit: 300 elements (2400 bytes) per tensor, temporary and contraction intermediate" in text


def test_no_slicing_when_the_plan_fits():
    program = tlc.compile(HYPER, memory_limit="1M")
    program(**hyper_inputs())
    assert "contract_sliced" not in program.source() and "sliced over" not in program.explain()


def test_a_limit_no_slicing_can_meet_is_a_located_error():
    program = tlc.compile(HYPER, memory_limit=100 * 8)
    with pytest.raises(tlc.TlcError, match=r"Y = A\[i, j\] B\[i, k\] C\[i, l\] D\[j, k, l\]: the contraction "
                                           r"A\[i, j\] B\[i, k\] C\[i, l\] D\[j, k, l\] cannot be planned within the "
                                           r"memory limit of 800 B: its operand A\[i, j\] alone holds 200 elements") as err:
        program(**hyper_inputs())
    assert err.value.line == 1


def test_time_budget_zero_is_the_documented_greedy_fallback():
    inputs = hyper_inputs()
    path, info = contract_path("ij,ik,il,jkl->", *inputs.values(), time_budget=0)
    assert info.strategy == "greedy"
    import opt_einsum
    assert np.isclose(opt_einsum.contract("ij,ik,il,jkl->", *inputs.values(), optimize=path),
                      np.einsum("ij,ik,il,jkl->", *inputs.values()))


@pytest.mark.parametrize("flag", [["--memory-limit", "lots"], ["--memory-limit", "0"], ["--factorise", "rel_err=-1"],
                                  ["--factorise", "method=qr"], ["--factorise", "rel_err=1e-3,rank=4"]])
def test_bad_flags_are_usage_errors(tmp_path, capsys, flag):
    source = tmp_path / "p.tl"
    source.write_text(HYPER)
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(source), *flag])
    assert exit_.value.code == 2
    assert f"argument {flag[0]}:" in capsys.readouterr().err


def test_cli_factorise_and_memory_limit(tmp_path, capsys):
    rng = np.random.default_rng(3)
    source, data = tmp_path / "p.tl", tmp_path / "d.npz"
    source.write_text("Y[i, b] = W[i, j] X[j, b]\n")
    np.savez(data, W=rng.standard_normal((40, 3)) @ rng.standard_normal((3, 30)), X=rng.standard_normal((30, 5)))
    assert main(["explain", str(source), "--data", str(data), "--factorise", "rel_err=1e-6,tensors=W",
                 "--memory-limit", "64K"]) == 0
    out = capsys.readouterr().out
    assert "W: svd ranks (3,) -> W_svd0, W_svd1" in out and "memory limit: 8192 elements" in out


def test_the_contraction_planners_own_refusal_quotes_the_source():
    """Behind the budget check (tlc.analysis.budget), the contraction planner refuses too, naming the source."""
    from tlc.analysis.contractions import plan_contractions
    program = tlc.compile(HYPER, memory_limit="none")
    spec = program.specialisation(**hyper_inputs())
    with pytest.raises(tlc.TlcError, match=r"Y = A\[i, j\] B\[i, k\] C\[i, l\] D\[j, k, l\]: the contraction "
                                           r"A\[i, j\] B\[i, k\] C\[i, l\] D\[j, k, l\] cannot be planned within the "
                                           r"memory limit of 100 elements \(800 bytes\): .*below operand 0") as err:
        plan_contractions(program.ir, program.strata, spec.shapes, frozenset(), {}, 100)
    assert err.value.line == 1 and "contract(" not in err.value.message
