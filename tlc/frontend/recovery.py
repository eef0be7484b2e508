"""What a syntax error needs to be reported well: the bracket left open (reported at its opener rather than
where the statement it swallowed fails), and where the failing statement ends, so the parser can blank the
text up to there and go on to find the file's other errors. Tokens come from the grammar's own Lark lexer."""

from __future__ import annotations

import functools
from collections.abc import Iterator

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters
from lark.lexer import BasicLexer, LexerState
from lark.utils import TextSlice

OPENERS = {"LSQB", "LPAR"}
CLOSERS = {"RSQB", "RPAR"}
SEPARATORS = {"_NL", "SEMICOLON"}


class Layout:
    """The bracket and statement structure of a source text, read from its tokens as far as a question needs
    (an error early in a long file lexes only up to the end of its statement)."""

    def __init__(self, tokens: Iterator[Token]):
        self._pending = tokens
        self._seen: list[Token] = []

    def _tokens(self) -> Iterator[Token]:
        """Every token in order: those lexed already, then more as they are asked for."""
        yield from self._seen
        for token in self._pending:
            self._seen.append(token)
            yield token

    def open_at(self, position: int) -> list[Token]:
        """The brackets still open just before character ``position``, outermost first."""
        stack: list[Token] = []
        for token in self._tokens():
            if token.start_pos >= position:
                break
            if token.type in OPENERS:
                stack.append(token)
            elif token.type in CLOSERS and stack:
                stack.pop()
        return stack

    def statement_end(self, position: int) -> int | None:
        """Where the statement holding ``position`` ends: the next separator (a newline or ';' outside
        brackets) at or after it; None when the statement runs to the end of the text."""
        depth = 0
        for token in self._tokens():
            if token.type in OPENERS:
                depth += 1
            elif token.type in CLOSERS:
                depth = max(0, depth - 1)
            elif token.type in SEPARATORS and depth == 0 and token.start_pos >= position:
                return token.start_pos
        return None


@functools.cache
def _lexer(parser: Lark) -> BasicLexer:
    return BasicLexer(parser.lexer_conf)


def layout(parser: Lark, source: str) -> Layout:
    """The layout of ``source`` as ``parser``'s grammar lexes it, skipping characters no token matches."""
    return Layout(_lex(_lexer(parser), source))


def _lex(lexer: BasicLexer, source: str) -> Iterator[Token]:
    offset = 0
    while offset < len(source):
        try:
            yield from lexer.lex(LexerState(TextSlice(source, offset, None)), None)
            return
        except UnexpectedCharacters as err:
            offset = err.pos_in_stream + 1


def blank(source: str, start: int, end: int) -> str:
    """``source`` with the characters of ``[start, end)`` replaced by spaces (newlines kept, so every later
    position keeps its line and column)."""
    middle = "".join(c if c in "\r\n" else " " for c in source[start:end])
    return source[:start] + middle + source[end:]


def offset(source: str, line: int, column: int) -> int:
    """The character position of 1-based ``line`` and ``column`` in ``source`` (as Lark counts them)."""
    start = 0
    for _ in range(line - 1):
        found = source.find("\n", start)
        if found < 0:
            return len(source)
        start = found + 1
    return min(len(source), start + column - 1)


def line_of(source: str, position: int) -> int:
    """The 1-based line holding character ``position``."""
    return source.count("\n", 0, position) + 1
