"""Concat's adjoint on the NumPy and llvm backends is a reshape of the merged tensor's adjoint (``rt.unmerged``), not a
product with the gradient's 0/1 selector: the same gradients, bit for bit, as the product's."""

import numpy as np
import pytest

from tlc.api import Program
from tlc.backends import numpy as numpy_backend
from tlc.backends.llvm.emit import LlvmEmitter
from tlc.gradient import differentiate

CASES = {
    "last axes": ("M[b, d] = concat(A[b, h, e])\nL = M[b, d] M[b, d] C[d]", {"A": (2, 3, 2), "C": (6,)}),
    "heads": ("Merge[b, p, m] = concat(Attn[b, h, p, v])\nS[b, p, d] = tanh(W[d, m] Merge[b, p, m])\n"
              "L = S[b, p, d] S[b, p, d]", {"Attn": (2, 3, 4, 2), "W": (5, 6)}),
    "transformer's heads": ("Merge[b, p, m] = concat(Attn[b, h, p, v])\nS[b, p, d] = tanh(W[d, m] Merge[b, p, m])\n"
                            "L = S[b, p, d] S[b, p, d]", {"Attn": (16, 4, 16, 8), "W": (32, 32)}),
}


EMITTERS = {"numpy": numpy_backend.NumpyEmitter, "llvm": LlvmEmitter}
"""(llvm compiles a small adjoint's product into a kernel: the reshape replaces its NumPy contraction, at larger
sizes.)"""


@pytest.mark.parametrize("case, backend", [*((case, "numpy") for case in CASES), ("transformer's heads", "llvm")])
def test_concat_adjoint_is_a_reshape_with_the_products_numbers(case, backend, monkeypatch):
    source, shapes = CASES[case]
    rng = np.random.default_rng(8)
    data = {n: rng.normal(size=s) for n, s in shapes.items()}
    grad = differentiate(source, "L", list(shapes))
    program = Program(grad.program, backend)
    results = program(**data)
    text = program.source(**data)
    assert "rt.unmerged(" in text and "_select, optimize" not in text
    monkeypatch.setattr(EMITTERS[backend], "UNMERGES_SELECTORS", False)
    product = Program(grad.program, backend)
    expected = product(**data)
    assert "rt.unmerged(" not in product.source(**data)
    for name in grad.gradients.values():
        assert np.asarray(results[name]).tobytes() == np.asarray(expected[name]).tobytes(), name
