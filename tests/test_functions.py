"""One source of truth for the built-in functions (``tlc.ir.functions``): every backend computes every function,
natively or through its declared NumPy fallback, and gets the NumPy backend's values."""

from __future__ import annotations

import numpy as np
import pytest

import tlc
from tlc.backends.registry import BACKENDS, backend
from tlc.ir import nodes as ir
from tlc.ir.functions import MONOTONE, SPELLINGS, Function

PROGRAMS = {
    Function.SIG: ("Y[i] = sig(X[i], 0.5)", (5,)),
    Function.NOT: ("Y[i] = A[i] ~X[i]", (5,)),
    Function.MIN: ("Y[i] = min(X[i], A[i])", (5,)),
    Function.MAX: ("Y[i] = max(X[i], A[i])", (5,)),
    Function.SOFTMAX: ("Y[i, j.] = softmax(X[i, j])", (3, 4)),
    Function.LNORM: ("Y[i, j.] = lnorm(X[i, j])", (3, 4)),
    Function.CONCAT: ("Y[p, m] = concat(X[h, p, d])", (2, 3, 4)),
}
"""A program using each function (elementwise ones of one argument: ``Y[i] = f(X[i])``) and X's shape."""


def program_for(function: Function) -> tuple[str, tuple[int, ...]]:
    """A one-equation program using ``function`` and the shape of its input X."""
    return PROGRAMS.get(function, (f"Y[i] = {function.spelling}(X[i])", (5,)))


def inputs_for(source: str, shape: tuple[int, ...]) -> dict:
    rng = np.random.default_rng(7)
    data = {"X": rng.uniform(0.2, 2.0, shape) * rng.choice([1.0, 1.0, -1.0], shape)}
    if "sqrt" in source or "log" in source:
        data["X"] = np.abs(data["X"])
    if "A[i]" in source:
        data["A"] = rng.uniform(-1.0, 1.0, shape)
    return data


def test_the_ir_sets_come_from_the_table():
    assert ir.FUNCTIONS == SPELLINGS == {f.spelling for f in Function}
    assert ir.ELEMENTWISE | ir.PAIRWISE | ir.NORMALISERS | {"concat"} == SPELLINGS
    assert {"min", "max", "relu", "exp"} <= MONOTONE and not {"sin", "softmax", "abs"} & MONOTONE
    assert all(f.value.derivative and f.value.arity for f in Function)


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_fallbacks_name_real_functions_with_reasons(name):
    fallbacks = backend(name).function_fallbacks
    assert set(fallbacks) <= SPELLINGS
    assert all(len(reason) > 10 for reason in fallbacks.values())


@pytest.mark.parametrize("function", list(Function), ids=lambda f: f.spelling)
@pytest.mark.parametrize("name", ["numpy", "llvm", "triton"])
def test_every_backend_computes_every_function(name, function):
    chosen = backend(name)
    if chosen.missing():
        pytest.skip(chosen.missing())
    if name == "triton":
        pytest.importorskip("triton")
    source, shape = program_for(function)
    data = inputs_for(source, shape)
    program = tlc.compile(source, backend=name)
    decisions = [d for ds in program.specialisation(**data).emitted.decisions.values() for d in ds]
    if function.spelling in chosen.function_fallbacks:
        assert decisions and all(d.startswith("NumPy") for d in decisions), decisions
    elif name != "numpy":
        assert decisions and all(d.startswith("kernel") for d in decisions), decisions
    if name == "triton":
        return      # emitted and decided here; tests/triton runs the kernels in Triton's interpreter
    expected = tlc.compile(source)(**data)["Y"]
    np.testing.assert_allclose(program(**data)["Y"], expected, rtol=1e-12, atol=1e-12)

