"""User-facing errors: every mistake a user can make surfaces as a located ``TlcError``."""

from __future__ import annotations

import unicodedata
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


class TlcError(Exception):
    """Base of every user-facing tlc error; ``str()`` gives ``file:line:col: error: ...`` and a caret."""

    def __init__(
        self,
        message: str,
        span: Span | None = None,
        *,
        filename: str | None = None,
        source: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.filename = filename
        self.source = source

    @property
    def line(self) -> int | None:
        """1-based line of the error, or None when it has no location."""
        return self.span.line if self.span else None

    @property
    def column(self) -> int | None:
        """1-based column of the error, or None when it has no location."""
        return self.span.column if self.span else None

    def located(self, filename: str | None, source: str | None) -> "TlcError":
        """Attach the file name and source text (keeping any already set) and return self."""
        if self.filename is None:
            self.filename = filename
        if self.source is None:
            self.source = source
        return self

    def __str__(self) -> str:
        name = self.filename or "<input>"
        if self.span is None:
            return f"{name}: error: {self.message}"
        head = f"{name}:{self.span.line}:{self.span.column}: error: {self.message}"
        lines = self.source.splitlines() if self.source else []
        if not 1 <= self.span.line <= len(lines):
            return head
        text = lines[self.span.line - 1]
        column = self.span.column
        width = min(self.span.caret_width(), max(1, len(text) - column + 1))
        if len(text) > 120:     # show a window of a long line around the error (cut first: a line may be 10^8 long)
            start = max(0, column - 60)
            text = ("..." if start else "") + text[start:start + 120] + ("..." if start + 120 < len(text) else "")
            column = column - start + (3 if start else 0)
            width = min(width, 60)
        text = "".join("?" if unicodedata.category(c) == "Cc" else c for c in text.expandtabs(1))
        return f"{head}\n  {text}\n  {' ' * (column - 1)}{'^' * width}"


class EinsumError(TlcError, ValueError):
    """A malformed ``tlc.einsum`` call (also a ``ValueError``, like ``numpy.einsum``'s errors)."""


class DataError(TlcError):
    """Input data that does not match the program (wrong shape, bad file, unknown name)."""
