"""Lark's parse errors as tlc's located messages: one adapter for every grammar tlc parses (Tensor Logic
and Datalog), so both say the same thing for the same mistake and point at the same place."""

from __future__ import annotations

from collections.abc import Mapping

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from tlc.errors import Span

END_NAMES = {"$END": "end of input", "_NL": "end of line"}
"""Names of the tokens that end input or a line."""


def token_span(token: Token) -> Span:
    """The span of a token (line and column from 1)."""
    return Span(token.line or 1, token.column or 1, token.end_line, token.end_column)


def describe(err: UnexpectedInput, token_names: Mapping[str, str]) -> str:
    """``unexpected 'x'; expected a name, '('``: what was found and, when few, what would have fitted (token
    types named by ``token_names``)."""
    if isinstance(err, UnexpectedCharacters):
        return f"unexpected character {err.char!r}"
    if isinstance(err, UnexpectedEOF):
        what = "end of input"
    else:
        what = END_NAMES.get(err.token.type) or repr(str(err.token))
    names = {**END_NAMES, **token_names}
    expected = sorted({names.get(t, t) for t in (getattr(err, "expected", None) or ()) if not t.startswith("__")})
    hint = f"; expected {', '.join(expected)}" if expected and len(expected) <= 6 else ""
    return f"unexpected {what}{hint}"


def error_span(err: UnexpectedInput, source: str, comments: tuple[str, ...] = ()) -> Span:
    """Where the error is: the unexpected token, or for an early end of input, just after the last line with
    code (text after any of ``comments`` does not count)."""
    line = getattr(err, "line", None)
    if isinstance(err, UnexpectedEOF) or (isinstance(err, UnexpectedToken) and err.token.type == "$END") \
            or not line or line < 1:
        lines = source.splitlines() or [""]
        code = [_uncommented(text, comments) for text in lines]
        last = max((k for k, text in enumerate(code) if text.strip()), default=len(lines) - 1)
        return Span(last + 1, len(code[last]) + 1)
    if isinstance(err, UnexpectedToken):
        return token_span(err.token)
    return Span(line, getattr(err, "column", None) or 1)


def _uncommented(text: str, comments: tuple[str, ...]) -> str:
    """``text`` up to its first comment marker, without trailing blanks."""
    for marker in comments:
        text = text.split(marker)[0]
    return text.rstrip()
