"""User-facing diagnostics: every mistake a user can make surfaces as a located ``TlcError``, every likely
mistake as a located ``TlcWarning``; both render as ``file:line:col: error|warning: ...`` with the source line,
a caret range and ``help:``/``note:`` lines (in colour on a terminal)."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """A region of source text; lines and columns are 1-based, ``end_column`` is exclusive."""

    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    def caret_width(self) -> int:
        """Number of caret characters to draw under the span (at least one)."""
        if self.end_line == self.line and self.end_column and self.end_column > self.column:
            return self.end_column - self.column
        return 1


_COLOURS = {"error": "1;31", "warning": "1;35", "help": "1;36", "note": "1;32", "bold": "1", "caret": "1;32"}


def use_colour(stream) -> bool:
    """True when diagnostics written to ``stream`` should be coloured: a terminal, and NO_COLOR unset."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:      # a closed stream
        return False


def _paint(text: str, style: str, colour: bool) -> str:
    return f"\x1b[{_COLOURS[style]}m{text}\x1b[0m" if colour else text


def render(severity: str, message: str, span: Span | None, filename: str | None, source: str | None,
           help: str | None = None, notes: tuple[str, ...] = (), colour: bool = False) -> str:
    """One diagnostic as text: ``file:line:col: severity: message``, the source line and a caret range under
    the span, then ``help:`` and ``note:`` lines."""
    name = filename or "<input>"
    where = f"{name}:{span.line}:{span.column}" if span is not None else name
    head = f"{_paint(where + ':', 'bold', colour)} {_paint(severity + ':', severity, colour)} " \
           f"{_paint(message, 'bold', colour)}"
    out = [head]
    excerpt = _excerpt(span, source)
    if excerpt is not None:
        text, column, width = excerpt
        out += [f"  {text}", "  " + " " * (column - 1) + _paint("^" * width, "caret", colour)]
    if help:
        out.append(f"  {_paint('help:', 'help', colour)} {help}")
    out += [f"  {_paint('note:', 'note', colour)} {note}" for note in notes]
    return "\n".join(out)


def _excerpt(span: Span | None, source: str | None) -> tuple[str, int, int] | None:
    """The source line of ``span`` (a window of a long one, control characters shown as ``?``), the caret's
    column in it and the caret's width; None when there is no such line."""
    lines = source.splitlines() if source and span is not None else []
    if span is None or not 1 <= span.line <= len(lines):
        return None
    text = lines[span.line - 1]
    column = span.column
    width = min(span.caret_width(), max(1, len(text) - column + 1))
    if len(text) > 120:     # show a window of a long line around the error (cut first: a line may be 10^8 long)
        start = max(0, column - 60)
        text = ("..." if start else "") + text[start:start + 120] + ("..." if start + 120 < len(text) else "")
        column = column - start + (3 if start else 0)
        width = min(width, 60)
    text = "".join("?" if unicodedata.category(c) == "Cc" else c for c in text.expandtabs(1))
    return text, column, width


def shortened(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters with ``...`` (for quoting source in a message)."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def edit_distance(a: str, b: str) -> int:
    """Insertions, deletions, substitutions and swaps of neighbours that turn ``a`` into ``b`` (optimal string
    alignment distance)."""
    previous, current = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        before, previous, current = previous, current, [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
    return current[len(b)]


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate nearest ``name`` by edit distance (at most a third of its length, at least 1), else one
    that ``name`` spells out at more length (``sigmoid`` for ``sig``); None when none is close."""
    pool = sorted(c for c in candidates if c != name)
    bound = max(1, len(name) // 3)
    scored = sorted((edit_distance(name.lower(), c.lower()), c) for c in pool if abs(len(c) - len(name)) <= bound)
    if scored and scored[0][0] <= bound:
        return scored[0][1]
    longer = [c for c in pool if len(c) >= 3 and name.lower().startswith(c.lower())]
    return max(longer, key=len) if longer else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """``did you mean 'X'?`` for the closest candidate to ``name``, or None."""
    found = closest(name, candidates)
    return f"did you mean '{found}'?" if found else None


class Located:
    """What a diagnostic says and where: message, ``span`` (or None, read as ``line`` and ``column``), file name,
    source text, a ``help`` line and ``notes``."""

    span: Span | None

    def locate(self, message: str, span: Span | None, filename: str | None, source: str | None, help: str | None,
               notes) -> None:
        """Set the diagnostic's fields."""
        self.message = message
        self.span = span
        self.filename = filename
        self.source = source
        self.help = help
        self.notes = tuple(notes)

    @property
    def line(self) -> int | None:
        """1-based line, or None when there is no location."""
        return self.span.line if self.span else None

    @property
    def column(self) -> int | None:
        """1-based column, or None when there is no location."""
        return self.span.column if self.span else None


class TlcError(Located, Exception):
    """Base of every user-facing tlc error; ``str()`` gives ``file:line:col: error: ...``, a caret and any
    ``help:``/``note:`` lines, then the further independent errors found in the same run (``more``)."""

    def __init__(
        self,
        message: str,
        span: Span | None = None,
        *,
        filename: str | None = None,
        source: str | None = None,
        help: str | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.locate(message, span, filename, source, help, notes)
        self.more: tuple[TlcError, ...] = ()

    @property
    def errors(self) -> tuple["TlcError", ...]:
        """This error and the further independent ones found in the same run, in source order."""
        return (self, *self.more)

    def located(self, filename: str | None, source: str | None) -> "TlcError":
        """Attach the file name and source text (keeping any already set) and return self."""
        for err in self.errors:
            if err.filename is None:
                err.filename = filename
            if err.source is None:
                err.source = source
        return self

    def render(self, colour: bool = False) -> str:
        """Every error of this run as text (coloured with ANSI codes when ``colour``), with a count when several."""
        parts = [render("error", e.message, e.span, e.filename, e.source, e.help, e.notes, colour)
                 for e in self.errors]
        if len(parts) > 1:
            parts.append(f"{len(parts)} errors")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.render()


def gather(errors: list[TlcError]) -> TlcError:
    """One error standing for ``errors`` (at least one): the first, carrying the others as ``more``."""
    first = errors[0]
    first.more = tuple(e for err in errors[1:] for e in err.errors)
    return first


class Problems:
    """Independent errors found by checks that go on past each one, and the tensors those errors leave unknown
    (``doubtful``): a later check skips what reads them, so no error reported is a cascade of another."""

    def __init__(self, doubtful=()) -> None:
        self.errors: list[TlcError] = []
        self.doubtful: set[str] = set(doubtful)

    def add(self, err: TlcError, doubtful=()) -> None:
        """Record ``err`` (and the further errors it carries); ``doubtful`` names the tensors it leaves unknown."""
        self.errors.extend(err.errors)
        err.more = ()
        self.doubtful.update(doubtful)

    def merge(self, other: "Problems") -> None:
        """Record ``other``'s errors and doubtful tensors too."""
        self.errors.extend(other.errors)
        self.doubtful.update(other.doubtful)

    def raise_any(self) -> None:
        """Raise every recorded error as one, in source order (errors without a place last), if there is any."""
        if self.errors:
            raise gather(in_source_order(self.errors))


def in_source_order(errors: list[TlcError]) -> list[TlcError]:
    """``errors`` sorted by line and column, those without a place after the others (each group stable); an
    error found twice (the same message at the same place) once."""
    distinct = {(e.message, e.span, e.filename): e for e in reversed(errors)}
    return sorted(reversed(distinct.values()), key=lambda e: (0, e.span.line, e.span.column) if e.span else (1, 0, 0))


class TlcWarning(Located, UserWarning):
    """A likely mistake in a program that still compiles; ``str()`` renders it like an error, as
    ``file:line:col: warning: ...``. Issued through Python's ``warnings`` module (``-W error`` turns these into
    exceptions; ``warnings.simplefilter("ignore", tlc.TlcWarning)`` silences them)."""

    def __init__(self, message: str, span: Span | None = None, *, filename: str | None = None,
                 source: str | None = None, help: str | None = None, notes: tuple[str, ...] = (),
                 code: str = "") -> None:
        super().__init__(message)
        self.locate(message, span, filename, source, help, notes)
        self.code = code

    def render(self, colour: bool = False) -> str:
        """The warning as text (coloured with ANSI codes when ``colour``)."""
        return render("warning", self.message, self.span, self.filename, self.source, self.help, self.notes, colour)

    def as_error(self) -> TlcError:
        """The same diagnostic as an error (``-W error``)."""
        return TlcError(self.message, self.span, filename=self.filename, source=self.source, help=self.help,
                        notes=self.notes)

    def __str__(self) -> str:
        return self.render()


class EinsumError(TlcError, ValueError):
    """A malformed ``tlc.einsum`` call (also a ``ValueError``, like ``numpy.einsum``'s errors)."""


class DataError(TlcError):
    """Input data that does not match the program (wrong shape, bad file, unknown name)."""
