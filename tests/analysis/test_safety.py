"""Unit tests of ``tlc.analysis.safety``: a variable of a negated atom must be bound by a positive atom of the
same equation; the error points at the unbound variable."""

import pytest

from tlc.analysis.safety import check_safety
from tlc.api import frontend
from tlc.errors import TlcError
from tlc.frontend.lower import lower
from tlc.frontend.parser import parse
from tlc.ir import nodes as ir


def equation(rhs: str) -> ir.Equation:
    """``R(x) = RHS`` parsed and lowered without the frontend's checks, so the analysis is tested alone."""
    return lower(parse(f"R(x) = {rhs}\n")).equations[0]


@pytest.mark.parametrize("rhs", ["N(x) ~S(x)", "N(x) E(x, y) ~S(x, y)", "~S(x) N(x)", "N(x) E(x, y)"])
def test_bound_variables_are_safe(rhs):
    check_safety(equation(rhs))


@pytest.mark.parametrize("rhs, variable, column", [("N(x) ~S(x, y)", "y", 19), ("~S(x, y) N(x)", "y", 14),
                                                   ("N(x) not(S(z, x))", "z", 19)])
def test_a_variable_only_under_negation_is_a_located_error(rhs, variable, column):
    with pytest.raises(TlcError, match=f"unsafe negation: {variable} occurs only inside a negated atom") as err:
        check_safety(equation(rhs))
    assert (err.value.span.line, err.value.span.column) == (1, column)


def test_the_frontend_applies_it_with_not_and_tilde():
    for source in ("R(x) = N(x) ~S(x, y)\n", "R(x) = N(x) not(S(x, y))\n"):
        with pytest.raises(TlcError, match="unsafe negation: y"):
            frontend(source)
