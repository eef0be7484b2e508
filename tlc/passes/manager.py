"""The pass manager: runs the pipeline of passes an optimisation level chooses (``tlc.passes.registry``).

The pipeline for ``-O N`` is every registered pass whose level is at most N, in registry order. Between
passes the manager can print the IR (``--print-after=NAME``, ``--print-ir``) and run the verifier (always in
tests).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from tlc.ir.printer import format_program
from tlc.ir.program import Program
from tlc.ir.verify import verify
from tlc.passes.registry import ENTRIES, check_pass_names, parse_pass


@functools.cache
def pipeline(opt_level: int) -> tuple:
    """The passes ``-O opt_level`` runs, in order (pass records with ``name`` and ``run``; frozen, so one tuple
    per level serves every compile)."""
    return tuple(parse_pass(e.name) for e in ENTRIES if e.level is not None and e.level <= opt_level)


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
        """Apply every pass of the pipeline in order and return the optimised program (kept with ``program``, which
        is immutable, for the next compile of it at this level: the passes are functions of the program alone;
        not when the manager verifies or prints between passes, whose output each run must show, nor for a subclass,
        which may run other passes)."""
        hooked = self.verify_each or self.print_all or self.print_after or type(self) is not PassManager
        key = (PassManager.run, self.opt_level)
        optimised = None if hooked else program.analyses.get(key)
        if optimised is None:
            optimised = program
            for one in pipeline(self.opt_level):
                optimised = self.apply(one.name, one.run, optimised)
            if not hooked:
                program.analyses[key] = optimised
        return optimised

    def apply(self, name: str, run: Callable[[Program], Program], program: Program) -> Program:
        """Run one pass with the manager's hooks (verifier, ``--print-after``); opt-in passes come through here."""
        program = run(program)
        if self.verify_each:
            verify(program)
        if self.print_all or name in self.print_after:
            self.out.write(f"# IR after {name}\n{format_program(program.statements)}")
        return program
