"""The front end keeps the programs it parsed, lowered and checked (``tlc.driver.source.frontend``): the same text
and file name give the same immutable program, anything else that reaches it misses, outputs and tolerance are
applied afresh (one program per request), and failures and warnings are not kept. Kept with a program: its lint
warnings (issued again by each compile) and the program each optimisation level makes of it."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from spying import record_calls

import tlc
from tlc.driver import source
from tlc.errors import TlcError, TlcWarning

PROGRAM = "Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\n"


def test_the_same_text_and_file_give_the_same_program():
    first = source.frontend(PROGRAM)
    assert source.frontend(PROGRAM) is first
    assert source.frontend(PROGRAM, "a.tl") is source.frontend(PROGRAM, "a.tl")


def test_a_different_text_or_file_misses():
    base = source.frontend(PROGRAM)
    spaced = source.frontend(PROGRAM.replace("Edge(y, z)", "Edge(y,  z)"))
    assert spaced is not base and spaced.equations[1].span.end_column == base.equations[1].span.end_column + 1
    named = source.frontend(PROGRAM, "graph.tl")
    assert named is not base and named.filename == "graph.tl" and base.filename is None


def test_outputs_and_tolerance_are_applied_to_each_compile():
    text = "A[i] = X[i] + 1\nB[i] = A[i] * 2\n"
    whole = source.frontend(text)
    only_b = source.frontend(text, outputs=["B"])
    tolerant = source.frontend(text, tolerance=1e-3)
    assert whole.outputs is None and only_b.outputs == frozenset({"B"}) and tolerant.tolerance == 1e-3
    assert source.frontend(text, outputs=("B",)) is only_b and source.frontend(text, outputs="A") is not only_b
    assert source.frontend(text) is whole and whole.outputs is None and whole.tolerance is None
    x = np.arange(3.0)
    assert set(tlc.compile(text, outputs=["B"])(X=x)) == {"B"}
    assert set(tlc.compile(text)(X=x)) == {"A", "B"}


def test_a_failure_is_raised_by_every_compile():
    text = "A[i] = B[i]\nA[i] max= C[i]\n"
    for _ in range(2):
        with pytest.raises(TlcError, match="defined with 'max='"):
            source.frontend(text)


def test_warnings_are_issued_by_every_compile():
    text = "H[i] = W[i,j] X[j]\nY[i] = relu(Hh[i])\n"
    for _ in range(2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tlc.compile(text)
        assert [str(w.message).split(" warning: ")[1][:27] for w in caught if isinstance(w.message, TlcWarning)] \
            == ["Hh is read but never define"]


def test_the_cache_is_bounded():
    for k in range(source.FRONTEND_CACHE + 5):
        source.frontend(f"Y[i] = X[i] + {k}\n")
    assert source._statically_checked.cache_info().currsize == source.FRONTEND_CACHE


def test_the_optimised_program_is_kept_per_level_and_printing_runs_again():
    from tlc.passes.manager import PassManager
    text = "A[i] = X[i] + 1\nB[i] = A[i] * 2\n"
    first = tlc.compile(text, outputs=["B"])
    assert tlc.compile(text, outputs=["B"]).ir is first.ir
    assert tlc.compile(text, opt_level=0, outputs=["B"]).ir is not first.ir
    assert len(tlc.compile(text, opt_level=0, outputs=["B"]).ir.equations) == 2
    out = io.StringIO()
    tlc.compile(text, outputs=["B"], passes=PassManager(2, print_all=True, out=out))
    once = out.getvalue()
    tlc.compile(text, outputs=["B"], passes=PassManager(2, print_all=True, out=out))
    assert "# IR after " in once and out.getvalue() == once + once


def test_lint_runs_once_per_program(monkeypatch):
    calls = record_calls(monkeypatch, source, "lint", lambda args, result: args[0])
    text = "H[i] = W[i,j] X[j]\nY[i] = relu(Hh[i]) + 0.5\n"
    for _ in range(3):
        with pytest.warns(TlcWarning, match="Hh is read but never defined"):
            tlc.compile(text)
    assert len(calls) == 1


def test_a_pass_manager_subclass_runs_its_passes_every_time():
    from tlc.passes.manager import PassManager

    class Counting(PassManager):
        ran = 0

        def apply(self, name, run, program):
            Counting.ran += 1
            return super().apply(name, run, program)
    text = "# counted\nA[i] = X[i] + 1\nB[i] = A[i] * 2\n"
    tlc.compile(text)
    tlc.compile(text, passes=Counting())
    once = Counting.ran
    tlc.compile(text, passes=Counting())
    assert once > 0 and Counting.ran == 2 * once


def test_shapes_are_inferred_once_per_program_and_extents(monkeypatch):
    """Programs compiled from one text share its checked program, and with it the shapes inferred for the extents of
    a call: a compile called on data of the same shapes infers none; other extents, and a program with the same
    shapes but another text, infer their own; the results are those of a first inference."""
    from tlc.driver import shaped
    calls = record_calls(monkeypatch, shaped, "infer_shapes", lambda args, result: args[3])
    text = "# shapes kept\nY[i] = W[i, j] X[j] + B[i]\n"
    data = {"W": np.arange(6.0).reshape(2, 3), "X": np.ones(3), "B": np.ones(2)}
    first = tlc.compile(text)(**data)["Y"]
    again = tlc.compile(text)(**data)["Y"]
    assert len(calls) == 1 and np.array_equal(first, again) and again.tolist() == [4.0, 13.0]
    wider = tlc.compile(text)(W=np.ones((4, 3)), X=np.ones(3), B=np.zeros(4))["Y"]
    assert len(calls) == 2 and wider.tolist() == [3.0] * 4
    tlc.compile(text.replace("# shapes kept", "# another text"))(**data)
    assert len(calls) == 3


def test_shapes_that_fail_are_not_kept():
    """A call whose extents disagree raises its located error every time."""
    text = "# bad extents\nY[i] = W[i, j] X[j]\n"
    for _ in range(2):
        with pytest.raises(TlcError, match="j"):
            tlc.compile(text)(W=np.ones((2, 3)), X=np.ones(4))
