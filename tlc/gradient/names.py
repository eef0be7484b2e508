"""Fresh tensor names for a gradient program that cannot collide with the user's names.

The gradient of ``X`` for loss ``L`` is ``L_grad_X``; forward values the backward pass reads are
``L_val_Y``; adjoint factors it materialises are ``L_grad_Y_d``. A name already used by the program (a
tensor, ``const``, scalar input or domain) or by an earlier generated tensor gets ``_2``, ``_3``, ... appended.
"""

from __future__ import annotations

from tlc.ir.program import Program


class Namer:
    """Hands out names not used by ``program`` nor by any name handed out before."""

    def __init__(self, program: Program):
        self._taken = set(program.tensors) | set(program.consts) | set(program.scalars) | set(program.domains)

    def fresh(self, base: str) -> str:
        """``base``, or ``base_N`` with the smallest N >= 2 that is free; the name is then taken."""
        name, n = base, 2
        while name in self._taken:
            name, n = f"{base}_{n}", n + 1
        self._taken.add(name)
        return name
