"""The pass manager: a flat, named pipeline of IR -> IR passes chosen by optimisation level.

Passes register themselves with ``@register(name, level)``; the pipeline for ``-O N`` is every pass
whose level is at most N, in registration order. Between passes the manager can print the IR
(``--print-after=NAME``, ``--print-ir``) and run the verifier (always in tests).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TextIO

from tlc.errors import TlcError
from tlc.ir.printer import format_program
from tlc.ir.program import Program
from tlc.ir.verify import verify


@dataclass(frozen=True, slots=True)
class PassInfo:
    """A registered pass: its name, the lowest ``-O`` level that runs it, and the function."""

    name: str
    level: int
    run: Callable[[Program], Program]
    summary: str


PASSES: dict[str, PassInfo] = {}

PIPELINE = ("fold-constants", "attention", "cse", "fuse")
"""Every pass, in the order the pipeline runs them; ``-O N`` keeps those whose level is at most N."""

OPT_IN = ("factorise",)
"""Passes no ``-O`` level runs: they need more than the IR (weight values) and run through ``PassManager.apply``
when asked for; ``--print-after`` accepts their names."""


def register(name: str, level: int) -> Callable:
    """Decorator registering an ``IR -> IR`` function as pass ``name``, run from ``-O level`` up."""
    def decorate(run: Callable[[Program], Program]) -> Callable[[Program], Program]:
        summary = (run.__doc__ or "").strip().splitlines()[0] if run.__doc__ else ""
        PASSES[name] = PassInfo(name, level, run, summary)
        return run
    return decorate


def _load_passes() -> None:
    """Import the pass modules so that their ``@register`` decorators run (in pipeline order)."""
    from tlc.passes import attention, cse, fold_constants, fuse  # noqa: F401 - imported for registration


def pipeline(opt_level: int) -> tuple[PassInfo, ...]:
    """The passes ``-O opt_level`` runs, in order."""
    _load_passes()
    return tuple(PASSES[name] for name in PIPELINE if PASSES[name].level <= opt_level)


def check_pass_names(names: Iterable[str]) -> None:
    """Raise a TlcError listing the valid pass names if any of ``names`` is unknown."""
    _load_passes()
    unknown = [n for n in names if n not in PASSES and n not in OPT_IN]
    if unknown:
        raise TlcError(f"unknown pass {unknown[0]!r}; passes are {', '.join(PIPELINE + OPT_IN)}")


@dataclass
class PassManager:
    """Runs the pipeline of an optimisation level over a program."""

    opt_level: int = 2
    print_after: frozenset[str] = frozenset()
    print_all: bool = False
    verify_each: bool = False
    out: TextIO = field(default_factory=lambda: sys.stderr)

    def __post_init__(self) -> None:
        check_pass_names(self.print_after)

    def run(self, program: Program) -> Program:
        """Apply every pass of the pipeline in order and return the optimised program."""
        for info in pipeline(self.opt_level):
            program = self.apply(info.name, info.run, program)
        return program

    def apply(self, name: str, run: Callable[[Program], Program], program: Program) -> Program:
        """Run one pass with the manager's hooks (verifier, ``--print-after``); opt-in passes come through here."""
        program = run(program)
        if self.verify_each:
            verify(program)
        if self.print_all or name in self.print_after:
            self.out.write(f"# IR after {name}\n{format_program(program.statements)}")
        return program
