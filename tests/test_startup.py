"""What a new process imports: ``import tlc`` and a numeric program's first call load neither networkx nor scipy
(scipy.linalg alone was a third of ``import tlc``), a semi-naive relational one no ``scipy.linalg``; each is imported where it is
used (the gradient's graphs, large contraction searches, scipy.sparse data, closures by strong components)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("networkx", "scipy", "scipy.sparse", "scipy.linalg", "scipy.sparse.linalg", "scipy.sparse.csgraph")


def imported_after(code: str) -> set[str]:
    """The modules of ``HEAVY`` loaded after running ``code`` in a new interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_import_tlc_loads_no_graph_or_scipy_library():
    assert imported_after("import tlc") == set()


@pytest.mark.parametrize("backend", ["numpy", "llvm"])
def test_a_numeric_programs_first_call_loads_no_scipy(backend):
    if backend == "llvm":
        pytest.importorskip("llvmlite")
    code = ("import numpy as np, tlc\n"
            "a, x = np.arange(1.0, 7.0).reshape(2, 3), np.arange(1.0, 4.0)\n"
            f"y = tlc.compile('Y[i] = tanh(A[i, j] X[j])\\n', backend={backend!r})(A=a, X=x)['Y']\n"
            "assert np.allclose(y, np.tanh(a @ x)), y\n")
    assert imported_after(code) == set()


def test_a_semi_naive_relational_programs_first_call_loads_no_scipy_linalg():
    code = ("import numpy as np, tlc\n"
            "edge = np.zeros((30, 30), bool)\n"
            "edge[np.arange(29), np.arange(1, 30)] = True\n"
            "r = tlc.compile('P(x, y) = E(x, y)\\nP(x, z) = P(x, y) E(y, z)\\n', relations='sparse')(E=edge)\n"
            "assert len(r['P']) == 30 * 29 // 2, len(r['P'])\n")
    assert not imported_after(code) & {"networkx", "scipy.linalg", "scipy.sparse.linalg"}
