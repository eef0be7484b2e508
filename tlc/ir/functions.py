"""The built-in functions: one table of what each is (kind, arity, monotonicity, derivative); the parser, the
verifier, the analyses, the gradient and every backend read it instead of keeping their own lists."""

from __future__ import annotations

import enum
from dataclasses import dataclass

ELEMENTWISE = "elementwise"
"""Applies to each element of its first argument (extra arguments broadcast against it)."""
PAIRWISE = "pairwise"
"""Two arguments that broadcast against each other (``min(a, b)``)."""
NORMALISER = "normaliser"
"""Normalises over the left-hand side's dotted index (``softmax``, ``lnorm``)."""
RESHAPE = "reshape"
"""Merges axes (``concat``): the whole right-hand side."""


@dataclass(frozen=True)
class Builtin:
    """What one built-in function is."""

    spelling: str
    """Its name in Tensor Logic source."""
    kind: str
    arity: tuple[int, ...]
    """The numbers of arguments it takes."""
    monotone: bool
    """Non-decreasing in its (first) argument: a ``min=``/``max=`` fixpoint through it can converge."""
    derivative: str
    """How reverse mode differentiates it (``tlc.gradient``), or why it does not."""


class Function(enum.Enum):
    """Every built-in function; ``Function.of(name)`` finds one by its spelling."""

    STEP = Builtin("step", ELEMENTWISE, (1,), True, "0 almost everywhere (undefined at 0): no gradient flows")
    RELU = Builtin("relu", ELEMENTWISE, (1,), True, "step(x) dy")
    SIG = Builtin("sig", ELEMENTWISE, (1, 2), True, "s (1 - s) / T dy (T a constant); at T = 0 a step: 0")
    TANH = Builtin("tanh", ELEMENTWISE, (1,), True, "(1 - tanh(x)^2) dy")
    EXP = Builtin("exp", ELEMENTWISE, (1,), True, "exp(x) dy")
    LOG = Builtin("log", ELEMENTWISE, (1,), True, "dy / x")
    SQRT = Builtin("sqrt", ELEMENTWISE, (1,), True, "dy / (2 sqrt(x))")
    ABS = Builtin("abs", ELEMENTWISE, (1,), False, "sign(x) dy (0 at 0)")
    SIN = Builtin("sin", ELEMENTWISE, (1,), False, "cos(x) dy")
    COS = Builtin("cos", ELEMENTWISE, (1,), False, "-sin(x) dy")
    NOT = Builtin("not", ELEMENTWISE, (1,), False, "the ~ operator on relations: not differentiable")
    MIN = Builtin("min", PAIRWISE, (2,), True, "dy to the smaller argument (a tie goes to the second)")
    MAX = Builtin("max", PAIRWISE, (2,), True, "dy to the larger argument (a tie goes to the second)")
    SOFTMAX = Builtin("softmax", NORMALISER, (1,), False, "s (dy - sum over the dotted index of s dy)")
    LNORM = Builtin("lnorm", NORMALISER, (1,), False, "the layer-norm Jacobian over the dotted index")
    CONCAT = Builtin("concat", RESHAPE, (1,), False, "the gradient un-merged into the original axes (not yet supported)")

    @property
    def spelling(self) -> str:
        """Its name in Tensor Logic source."""
        return self.value.spelling

    @classmethod
    def of(cls, spelling: str) -> Function:
        """The function spelled ``spelling`` (a KeyError for any other name)."""
        return _BY_SPELLING[spelling]


_BY_SPELLING = {f.value.spelling: f for f in Function}


def named(kind: str) -> frozenset[str]:
    """The spellings of the functions of one kind."""
    return frozenset(f.spelling for f in Function if f.value.kind == kind)


SPELLINGS = frozenset(_BY_SPELLING)
"""Every built-in function's name."""
MONOTONE = frozenset(f.spelling for f in Function if f.value.monotone)
"""Functions a ``min=``/``max=`` fixpoint may go through (non-decreasing)."""
