"""``tlc.analysis.selectors``: concat's selectors, which the gradient transform builds for concat's adjoint, are
recognised at extents that make them one-hot over the merged index; look-alikes are not."""

import numpy as np

from tlc.analysis.selectors import selectors
from tlc.api import Program, frontend
from tlc.gradient import differentiate

CONCAT = "M[b, d] = concat(A[b, h, e])\nL = M[b, d] M[b, d] C[d]"
EYE = ("Ones[h, e] = A[h, e]^0\n"
       "Eye[h, e, g, f] = Ones[h, e] Ones[g, f] * (1 - step(abs(h - g))) * (1 - step(abs(e - f)))\n")


def test_the_gradient_of_concat_reads_through_a_selector():
    spec = Program(differentiate(CONCAT, "L", ["A"]).program).specialisation(A=np.ones((2, 3, 2)), C=np.ones(6))
    found = selectors(spec.planned.program, spec.shapes.extents)
    assert len(found) == 1 and next(iter(found)).endswith("_select")


def test_a_handwritten_selector_is_one():
    program = frontend(EYE + "S[h, e, m] = concat(Eye[h, e, g, f])")
    assert selectors(program, {"A": (3, 2), "Ones": (3, 2), "Eye": (3, 2, 3, 2), "S": (3, 2, 6)}) == {"S"}


def test_look_alikes_are_not_selectors():
    extents = {"A": (3, 2), "Ones": (3, 2), "Eye": (3, 2, 3, 2), "S": (3, 2, 6)}
    one_delta = EYE.replace(" * (1 - step(abs(e - f)))", "")
    swapped = EYE.replace("abs(e - f)", "abs(h - f)")
    for source in (one_delta + "S[h, e, m] = concat(Eye[h, e, g, f])",
                   swapped + "S[h, e, m] = concat(Eye[h, e, g, f])",
                   EYE + "S[h, e, m] = concat(Eye[e, h, g, f])",            # the kept indices in another order
                   EYE + "S[h, e, m] = concat(Eye[h, e, g, f])\nS[h, e, m] += A[h, e]^0"):     # a second equation
        assert selectors(frontend(source), extents) == frozenset(), source
    program = frontend(EYE + "S[h, e, m] = concat(Eye[h, e, g, f])")
    assert selectors(program, {**extents, "Eye": (3, 2, 2, 3)}) == frozenset()      # not the identity
