"""Every optimisation level gives the NumPy -O0 results on every example, with the IR verified
after each pass; the pass manager's printing hooks and errors."""

import io
from pathlib import Path

import numpy as np
import pytest

import tlc
from tlc.api import frontend, load_source
from tlc.passes.manager import PassManager, pipeline
from tlc.passes.registry import PIPELINE

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example_inputs(path: Path) -> dict:
    data = EXAMPLES / "data" / f"{path.stem}.npz"
    return dict(np.load(data)) if data.exists() else {}


def assert_same_results(a, b):
    assert set(a) == set(b)
    for name in a:
        if isinstance(a[name], np.ndarray):
            np.testing.assert_allclose(a[name], b[name], rtol=1e-12, atol=1e-12, err_msg=name)
        else:
            assert set(a[name]) == set(b[name]), name


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.tl")), ids=lambda p: p.stem)
@pytest.mark.parametrize("level", [1, 2, 3])
def test_every_level_matches_o0_with_verified_ir(path, level):
    source, filename = load_source(str(path))
    inputs = example_inputs(path)
    reference = tlc.Program(frontend(source, filename), opt_level=0)(**inputs)
    optimised = tlc.Program(frontend(source, filename), opt_level=level,
                            passes=PassManager(level, verify_each=True))(**inputs)
    assert_same_results(reference, optimised)


def test_pipeline_levels():
    assert [p.name for p in pipeline(0)] == []
    assert [p.name for p in pipeline(3)] == list(PIPELINE)


def test_print_after_and_print_ir():
    out = io.StringIO()
    PassManager(2, frozenset({"cse"}), out=out).run(frontend("A[i] = W[i,j] X[j]\nB[i] = W[i,k] X[k] + 1\n"))
    text = out.getvalue()
    assert text.startswith("# IR after cse\n_cse1[i0] = W[i0, i1] X[i1]\n")
    assert "B[i] = _cse1[i] + 1" in text and "fold-constants" not in text
    out = io.StringIO()
    PassManager(2, print_all=True, out=out).run(frontend("A[i] = 1 * X[i]\n"))
    assert "# IR after fold-constants\nA[i] = X[i]\n" in out.getvalue()


def test_unknown_pass_name_lists_the_passes():
    with pytest.raises(tlc.TlcError, match="unknown pass 'nope'; passes are fold-constants, attention, cse"):
        PassManager(2, frozenset({"nope"}))
