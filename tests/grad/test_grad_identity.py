"""The adjoint identity <dY, J v> = <J^T dY, v> for every rule: J^T dY is tlc.grad of <Y, dY> for the tensor Y
the rule's first equation defines (dY random), J v the central difference of Y along a random direction v."""

import pytest

from gradcheck import check_identity
from test_grad_rules import RULES


@pytest.mark.parametrize("rule", RULES)
def test_adjoint_identity(rule, backend):
    source, shapes, wrt = RULES[rule]
    check_identity(source, shapes, wrt, backend, positive="log" in source or "sqrt" in source)
