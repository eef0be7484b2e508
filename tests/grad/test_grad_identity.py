"""The adjoint identity <dY, J v> = <J^T dY, v> for every rule: J^T dY is tlc.grad of <Y, dY> for the tensor Y
the rule's first equation defines (dY random), J v the central difference of Y along a random direction v."""

import numpy as np
import pytest

from gradcheck import random_inputs
from test_grad_rules import RULES
import tlc
from tlc.api import frontend


def _output(source: str) -> tuple[str, int]:
    """The first tensor defined with no virtual index, and its rank."""
    program = frontend(source)
    name = next(eq.lhs.name for eq in program.equations if eq.lhs.name not in program.virtual_axes)
    return name, program.tensors[name].rank


@pytest.mark.parametrize("rule", RULES)
def test_adjoint_identity(rule, backend):
    source, shapes, wrt = RULES[rule]
    name, rank = _output(source)
    inputs = random_inputs(shapes, seed=1, positive="log" in source or "sqrt" in source)
    y = np.asarray(tlc.compile(source, backend=backend, outputs=[name])(**inputs)[name], dtype=float)
    rng = np.random.default_rng(2)
    dy = rng.uniform(-1.0, 1.0, size=y.shape)
    v = {w: rng.uniform(-1.0, 1.0, size=np.shape(inputs[w])) for w in wrt}
    index = ", ".join(f"i{a}" for a in range(rank))
    shifted = ", ".join(f"i{a} + z{a}" for a in range(rank))  # + z (z = 0): dY's extents are not tied to Y's domain
    ones = " ".join(f"ONE[z{a}]" for a in range(rank))
    dot = f"{source}\nGDOT = {name}[{shifted}] GDY[{index}] {ones}" if rank else f"{source}\nGDOT = {name}[] GDY"
    program = tlc.grad(dot, loss="GDOT", wrt=wrt, backend=backend)
    results = program(**inputs, GDY=dy, ONE=np.ones(1)) if rank else program(**inputs, GDY=float(dy))
    transposed = sum(float(np.sum(results[g] * v[w])) for w, g in program.gradients.items())
    forward = tlc.compile(source, backend=backend, outputs=[name])
    h = 1e-6
    moved = [np.asarray(forward(**{**inputs, **{w: inputs[w] + s * h * v[w] for w in wrt}})[name], dtype=float)
             for s in (1.0, -1.0)]
    jv = (moved[0] - moved[1]) / (2 * h)
    assert transposed == pytest.approx(float(np.sum(dy * jv)), rel=1e-6, abs=1e-8)
