"""``tlc.grad``: compile a program together with the gradient of a scalar loss."""

from __future__ import annotations

import os

import numpy as np

from tlc.api import Program
from tlc.driver.source import frontend, load_source
from tlc.errors import TlcError
from tlc.gradient.transform import Gradient, gradient
from tlc.ir.program import Program as IRProgram
from tlc.passes.manager import PassManager


class GradientProgram(Program):
    """A compiled program computing its forward tensors and the gradients of a loss."""

    def __init__(self, grad: Gradient, backend: str = "numpy", opt_level: int = 2,
                 passes: PassManager | None = None, threads: int | None = None, **options):
        super().__init__(grad.program, backend, opt_level, passes, threads, **options)
        self.gradients = dict(grad.gradients)
        """Each ``wrt`` name -> the name of its gradient tensor in the results."""
        self.gradient = grad
        """The gradient transform's output (the IR program and each backward equation's origin)."""

    def __call__(self, /, **inputs):
        """Run the program and its gradient on ``inputs``; data for a virtual tensor's state is refused (its
        stored trajectory starts from the equations alone), and so is data for a tensor defined by sums or
        ``avg=`` on the loss's path (it adds to the equations' value, or counts in an average, which the backward
        equations do not see); data for a ``max=``/``min=`` tensor is a contribution the adjoint is not routed to,
        and in a recursion marks the elements it sets as reached."""
        program = self.gradient.program
        for name in sorted(self.gradient.transposed & set(inputs)):
            if program.reduction(name) in ("sum", "avg") and name not in self.gradient.trajectories:
                raise TlcError(f"data for {name}, which the program defines, would add to its equations' value, "
                               "which the gradient program does not see: give the data to a tensor of its own "
                               f"and add it in an equation ({name}[...] += {name}_data[...])",
                               program.tensors[name].first_use.span, filename=program.filename, source=program.source)
        for name in self.gradient.trajectories:
            if name in inputs:
                raise TlcError(f"data for {name} would set the initial state of a virtual index, which the gradient "
                               "program's stored trajectory does not see: set it with an equation "
                               f"({name}[..., *0] = ...)", self.gradient.program.tensors[name].first_use.span,
                               filename=self.gradient.program.filename, source=self.gradient.program.source)
        for name, reached in self.gradient.reached.items():      # data is a contribution to every element it sets
            if name in inputs:
                inputs = {**inputs, reached: np.ones(np.shape(inputs[name]))}
        return super().__call__(**inputs)


def differentiate(src_or_program, loss: str, wrt=None, outputs=None, tolerance: float | None = None) -> Gradient:
    """The gradient transform applied to source text, a ``.tl`` path, an IR program or a compiled Program."""
    if isinstance(src_or_program, Program):
        program = src_or_program.source_ir
    elif isinstance(src_or_program, IRProgram):
        program = src_or_program
    elif isinstance(src_or_program, (str, os.PathLike)):
        program = frontend(*load_source(src_or_program), outputs, tolerance)
    else:
        raise TlcError(f"tlc.grad expects source text, a path or a Program, not {type(src_or_program).__name__}")
    try:
        return gradient(program, loss, wrt)
    except TlcError as err:
        raise err.located(program.filename, program.source) from None


def grad(src_or_program, loss: str = "L", wrt=None, backend: str = "numpy", opt_level: int = 2,
         threads: int | None = None, passes: PassManager | None = None, outputs=None,
         tolerance: float | None = None, **options) -> GradientProgram:
    """Compile ``src_or_program`` with the gradient of the 0-d tensor ``loss`` with respect to ``wrt`` (default:
    the inputs declared with ``tensor``, else every numeric input); the results hold the forward tensors
    (``outputs``, default all) and the gradients, named by ``.gradients``. Other options are ``tlc.compile``'s."""
    return GradientProgram(differentiate(src_or_program, loss, wrt, outputs, tolerance), backend, opt_level,
                           passes, threads, **options)
