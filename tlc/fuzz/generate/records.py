"""Records of the generator: a generated program (``FuzzProgram``) and what ``programs()`` may generate (``Config``)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from tlc.errors import TlcError
from tlc.frontend.lower import lower
from tlc.frontend.parser import parse
from tlc.ir.printer import format_program
from tlc.ir.program import Program as IRProgram


@dataclass(frozen=True, eq=False)
class FuzzProgram:
    """A generated program: its source text and the IR that text lowers to."""

    source: str
    """The printed program (what ``tlc.compile`` is given)."""
    statements: tuple[ir.Statement, ...]
    """The IR statements that ``source`` lowers to."""
    error: str | None = None
    """Why ``source`` did not lower back to IR (a printer or front-end bug), else None."""
    supplied: tuple[str, ...] = ()
    """Defined tensors that ``inputs_for`` also gives data for (data counts as one more contribution)."""

    @classmethod
    def from_statements(cls, statements, supplied: tuple[str, ...] = ()) -> "FuzzProgram":
        """Print IR statements and lower the text again (recording, not raising, a failure to lower)."""
        source = format_program(statements)
        try:
            return cls(source, lower(parse(source), None, source).statements, None, tuple(supplied))
        except TlcError as err:
            return cls(source, tuple(statements), f"the printed program does not lower back: {err}", tuple(supplied))
        except Exception as err:   # noqa: BLE001 - a crash of the front end is a finding, reported later
            return cls(source, tuple(statements), f"the front end crashed on the printed program: {err!r}",
                       tuple(supplied))

    @classmethod
    def from_source(cls, source: str, supplied: tuple[str, ...] = ()) -> "FuzzProgram":
        """A program from source text (raises ``TlcError`` if it does not parse)."""
        return cls(source, lower(parse(source), None, source).statements, None, tuple(supplied))

    @functools.cached_property
    def ir(self) -> IRProgram:
        """The IR program."""
        return IRProgram(self.statements, None, self.source)

    def input_names(self) -> list[str]:
        """Inputs the program needs: tensors read but never defined, then scalar inputs (not ``supplied``)."""
        return [n for n, i in self.ir.tensors.items() if not i.defined] + list(self.ir.scalars)

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        supplied = f", supplied={self.supplied!r}" if self.supplied else ""
        return f"FuzzProgram.from_source({self.source!r}{supplied})"


def as_fuzz_program(program) -> FuzzProgram:
    """A ``FuzzProgram`` from a ``FuzzProgram``, an IR ``Program`` or source text."""
    if isinstance(program, FuzzProgram):
        return program
    if isinstance(program, IRProgram):
        return FuzzProgram.from_statements(program.statements)
    return FuzzProgram.from_source(str(program))


@dataclass(frozen=True)
class Config:
    """What ``programs()`` may generate."""

    max_equations: int = 6
    max_rank: int = 3
    max_extent: int = 4
    max_depth: int = 3
    relations: bool = True
    recursion: bool = True
    shifts: bool = True
    normalisers: bool = True
    named_constants: bool = True
    declarations: bool = True
    queries: bool = True
    supplied: bool = True
