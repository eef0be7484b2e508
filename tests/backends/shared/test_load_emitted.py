"""Loading emitted modules (``tlc.backends.shared.load``): identical emitted text reuses Python's code object (the
program is still parsed, planned and emitted), while every load gets a namespace of its own, so kernels bound into
one module's globals never leak into another's."""

from __future__ import annotations

import numpy as np

import tlc
from tlc.backends.shared.load import CODE_CACHE_TEXT, load_emitted

SOURCE = "BOUND = None\n\ndef run(inputs):\n    return {'Y': BOUND(inputs['X'])}\n"


def test_identical_text_shares_code_but_not_globals():
    first, second = load_emitted(SOURCE, "a.tl"), load_emitted(SOURCE, "a.tl")
    assert first.__code__ is second.__code__
    assert first.__globals__ is not second.__globals__
    first.__globals__["BOUND"] = np.negative
    second.__globals__["BOUND"] = np.square
    x = np.arange(3.0)
    np.testing.assert_array_equal(first({"X": x})["Y"], -x)
    np.testing.assert_array_equal(second({"X": x})["Y"], x * x)


def test_other_text_or_file_name_gets_other_code():
    assert load_emitted(SOURCE, "a.tl").__code__ is not load_emitted(SOURCE + "\n", "a.tl").__code__
    assert load_emitted(SOURCE, "b.tl").__code__.co_filename == "<tlc:b.tl>"


def test_a_module_over_the_size_kept_is_compiled_each_time():
    big = SOURCE + "#" * CODE_CACHE_TEXT + "\n"
    assert load_emitted(big, None).__code__ is not load_emitted(big, None).__code__


def test_programs_compiled_twice_run_on_their_own_inputs():
    rng = np.random.default_rng(3)
    source = "Y[i] = tanh(A[i, j] X[j])\n"
    a, x1, x2 = rng.uniform(0.5, 1.5, (4, 5)), rng.uniform(0.5, 1.5, 5), rng.uniform(0.5, 1.5, 5)
    for backend in ("numpy", "llvm"):
        one, two = tlc.compile(source, backend=backend), tlc.compile(source, backend=backend)
        np.testing.assert_allclose(one(A=a, X=x1)["Y"], np.tanh(a @ x1), rtol=1e-12)
        np.testing.assert_allclose(two(A=a, X=x2)["Y"], np.tanh(a @ x2), rtol=1e-12)
