"""Runs of plain strata of one elementwise shape are computed as one on the NumPy backend
(``tlc.backends.shared.batching``): an optimiser's update kind by kind, with the same numbers, bit for bit, as the
equations computed one by one; strata that read another's result, or read at other indices or extents, are not."""

import numpy as np
import pytest

import tlc
from tlc.api import Program
from tlc.backends import numpy as numpy_backend
from tlc.backends.shared import batching
from tlc.gradient import differentiate
from tlc.train.optimisers import OPTIMISERS, hyper, with_update

SOURCE = """tensor W[3, 4]
tensor U[2, 3]
tensor B[3]
H[n, i] = tanh(W[i, j] X[n, j] + B[i])
Y[n, k] = U[k, i] H[n, i]
L = Y[n, k] Y[n, k] / 2
"""


def _update_inputs(update, rng):
    params = {"W": rng.normal(size=(3, 4)), "U": rng.normal(size=(2, 3)), "B": rng.normal(size=3)}
    inputs = {"X": rng.normal(size=(5, 4)), **params,
              **{update.scalars[k]: v for k, v in hyper(update.opt, 0.05, 3).items()}}
    inputs.update({update.state[w][s][0]: rng.normal(size=params[w].shape) ** 2 for w in params
                   for s in update.state[w]})
    return inputs


RUNS = {"sgd": 0, "momentum": 1, "adam": 3, "adamw": 3}
"""Runs computed as one per optimiser: a gradient read once is fused into its update (sgd's new values, momentum's
first moments), which then reads it at other indices."""


@pytest.mark.parametrize("opt", OPTIMISERS)
def test_an_update_is_computed_kind_by_kind_with_the_same_numbers(opt, monkeypatch):
    update = with_update(differentiate(SOURCE, "L"), "L", opt)
    inputs = _update_inputs(update, np.random.default_rng(4))
    batched = Program(update.program, "numpy")
    results = batched(**inputs)
    assert batched.source(**inputs).count("rt.split(") == RUNS[opt]
    monkeypatch.setattr(numpy_backend.NumpyEmitter, "BATCHES_ELEMENTWISE", False)
    alone = Program(update.program, "numpy")
    expected = alone(**inputs)
    assert "rt.split(" not in alone.source(**inputs)
    outputs = [*update.next.values(), *(n for s in update.state.values() for _, n in s.values())]
    for name in outputs:
        assert np.asarray(results[name]).tobytes() == np.asarray(expected[name]).tobytes(), name
        assert results[name].shape == expected[name].shape
    for a in outputs:      # each result has elements of its own
        assert not any(np.shares_memory(results[a], results[b]) for b in outputs if b != a)


def test_llvm_computes_an_update_kind_by_kind_in_numpy():
    """The llvm backend batches as the NumPy backend does (its kernel calls cost more than NumPy's on such arrays),
    and ``explain`` says where those equations ran."""
    update = with_update(differentiate(SOURCE, "L"), "L", "adam")
    inputs = _update_inputs(update, np.random.default_rng(10))
    llvm = Program(update.program, "llvm")
    results = llvm(**inputs)
    assert llvm.source(**inputs).count("rt.split(") == 3
    assert "computed as one with strata" in llvm.explain(**inputs)
    expected = Program(update.program, "numpy")(**inputs)
    for name in [*update.next.values(), *(n for s in update.state.values() for _, n in s.values())]:
        np.testing.assert_allclose(results[name], expected[name], rtol=1e-12, atol=1e-15)


def test_a_stratum_reading_another_of_the_run_starts_a_new_run():
    source = "P[i] = 2 A[i] + B[i]\nQ[i] = 2 C[i] + D[i]\nR[i] = 2 P[i] + Q[i]\nS[i] = 2 B[i] + C[i]"
    rng = np.random.default_rng(5)
    data = {n: rng.normal(size=4) for n in "ABCD"}
    program = tlc.compile(source)
    results = program(**data)
    text = program.source(**data)
    assert text.count("rt.split(") == 2 and "P, Q = rt.split(" in text and "R, S = rt.split(" in text
    np.testing.assert_array_equal(results["R"], 2 * (2 * data["A"] + data["B"]) + (2 * data["C"] + data["D"]))
    np.testing.assert_array_equal(results["S"], 2 * data["B"] + data["C"])


@pytest.mark.parametrize("second, want", [
    ("Q[i, j] = 2 C[j, i] + D[i, j]", lambda d: 2 * d["C"].T + d["D"]),        # transposed read
    ("Q[i, j] = 2 C[i, j] + V[j]", lambda d: 2 * d["C"] + d["V"]),             # broadcast read
    ("Q[i, j] = 2 C[i, j] + D[i, j]^0", lambda d: 2 * d["C"] + 1),             # a power 0: ones
    ("Q[i, j] = max(C[i, j], D[i, j])", lambda d: np.maximum(d["C"], d["D"])),  # not one of the operations
])
def test_strata_of_other_reads_are_computed_alone(second, want):
    rng = np.random.default_rng(6)
    data = {n: rng.normal(size=(3, 3)) for n in "ABCD"} | {"V": rng.normal(size=3)}
    program = tlc.compile(f"P[i, j] = 2 A[i, j] + B[i, j]\n{second}")
    data = {n: v for n, v in data.items() if f"{n}[" in program.ir.source}
    results = program(**data)
    assert "rt.split(" not in program.source(**data)
    np.testing.assert_array_equal(results["P"], 2 * data["A"] + data["B"])
    if want is not None:
        np.testing.assert_array_equal(results["Q"], want(data))


def test_a_run_of_copies_owns_its_memory():
    rng = np.random.default_rng(7)
    data = {"A": rng.normal(size=(2, 3)), "B": rng.normal(size=4)}
    results = tlc.compile("P[i, j] = A[i, j]\nQ[i] = B[i]")(**data)
    for name, source in (("P", "A"), ("Q", "B")):
        np.testing.assert_array_equal(results[name], data[source])
        assert not np.shares_memory(results[name], data[source])


def test_a_run_whose_code_is_not_elementwise_is_computed_stratum_by_stratum(monkeypatch):
    """The rendered code is checked (``elementwise_code``): a call it does not know sends the run back to its
    strata, each emitted once."""
    monkeypatch.setattr(batching, "CALLS", {"np": frozenset(), "rt": frozenset()})
    rng = np.random.default_rng(9)
    data = {n: rng.normal(size=5) for n in "ABCD"}
    program = tlc.compile("P[i] = A[i]^2 + B[i]\nQ[i] = C[i]^2 + D[i]")
    results = program(**data)
    text = program.source(**data)
    assert "rt.split(" not in text and text.count("# stratum") == 2
    np.testing.assert_array_equal(results["P"], np.square(data["A"]) + data["B"])
    np.testing.assert_array_equal(results["Q"], np.square(data["C"]) + data["D"])


TEMPLATES = ["2 A + B", "A * B / (B + 3)", "sqrt(abs(A)) - exp(B)", "tanh(A) * sig(B)", "-A^3 + relu(B)", "A / B",
             "(A - B)^2 * sc", "log(abs(A) + 1) * cos(B) + sin(A)", "step(A) * B", "A^0.5 - B",
             "sc * A * B * A - B / sc", "-(A + B) * (A - B) / (1 + A^2)", "abs(A - B)^1.5"]
"""Elementwise shapes, over tensors A and B and the scalar sc (NaN, inf and division by zero included)."""


@pytest.mark.parametrize("template", TEMPLATES)
def test_runs_of_any_elementwise_shape_give_the_numbers_of_their_equations(template, monkeypatch):
    rng = np.random.default_rng(len(template))
    shapes = [(3,), (2, 3), (4, 1, 2), (1,)]
    lines, data = [], {"sc": float(rng.normal())}
    for k, shape in enumerate(shapes):
        index = ", ".join("ijk"[:len(shape)])
        lines.append(f"P{k}[{index}] = " + template.replace("A", f"A{k}[{index}]").replace("B", f"B{k}[{index}]"))
        data[f"A{k}"], data[f"B{k}"] = rng.normal(size=shape), rng.normal(size=shape)
    data["B0"][0] = 0.0
    source = "\n".join(lines)
    data = {n: v for n, v in data.items() if n != "sc" or " sc" in source}
    batched = tlc.compile(source)
    results = batched(**data)
    assert f"{', '.join(f'P{k}' for k in range(len(shapes)))} = rt.split(" in batched.source(**data)
    monkeypatch.setattr(numpy_backend.NumpyEmitter, "BATCHES_ELEMENTWISE", False)
    expected = tlc.compile(source)(**data)
    for k in range(len(shapes)):
        assert np.asarray(results[f"P{k}"]).tobytes() == np.asarray(expected[f"P{k}"]).tobytes(), k
