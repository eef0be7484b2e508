"""Parse Tensor Logic source text into the AST with Lark; every failure is a located TlcError."""

from __future__ import annotations

import contextlib
import functools
import gc
from importlib import resources
from pathlib import Path

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from tlc.errors import Span, TlcError, gather
from tlc.frontend import ast, lalr, recovery, reductions
from tlc.frontend.lark_errors import describe, error_span, token_span
from tlc.frontend.parser_cache import cached_lark

MAX_NESTING = 200
"""Deepest bracket nesting accepted; deeper input is rejected before it can exhaust the stack."""
MAX_INT_DIGITS = 18
"""Most digits of an integer index or extent (so it fits in an int64; Python refuses over 4300 digits)."""

_OPEN = {"LSQB", "LPAR"}
_CLOSE = {"RSQB", "RPAR"}

_TOKEN_NAMES = {
    "_NL": "end of line", "$END": "end of input", "NAME": "a name", "NUMBER": "a number",
    "LSQB": "'['", "RSQB": "']'", "LPAR": "'('", "RPAR": "')'", "COMMA": "','",
    "AGGREGATOR": "'=' (or += max= min= avg=)", "PLUS": "'+'", "MINUS": "'-'", "STAR": "'*'",
    "SLASH": "'/'", "CIRCUMFLEX": "'^'", "SEMICOLON": "';'", "QMARK": "'?'", "DOT": "'.'",
    "NORMALISED": "'.'", "VIRTUAL": "'*'", "STRING": "a quoted name", "COLON": "':'",
    "EQUAL": "'='", "INT": "an integer", "SIGNED_NUMBER": "a number", "TILDE": "'~'",
    "FACTORISE": "'factorise'",
}


class _BracketNewlines:
    """Post-lexer: drops newlines inside brackets (so long expressions may wrap) and bounds nesting."""

    always_accept = ("_NL",)

    def process(self, stream):
        depth = 0
        for token in stream:
            if token.type in _OPEN:
                depth += 1
                if depth > MAX_NESTING:
                    raise TlcError(f"brackets nested deeper than {MAX_NESTING} levels", token_span(token))
            elif token.type in _CLOSE:
                depth = max(0, depth - 1)
            elif token.type == "_NL" and depth:
                continue
            yield token


def _grammar_text() -> str:
    """The grammar from ``grammar/`` when running from a checkout, else from the installed package data."""
    checkout = Path(__file__).resolve().parents[2] / "grammar" / "tensorlogic.lark"
    if checkout.is_file():
        return checkout.read_text(encoding="utf-8")
    return resources.files("tlc.grammar").joinpath("tensorlogic.lark").read_text(encoding="utf-8")


@functools.cache
def _parser() -> Lark:
    """The Tensor Logic parser, returning the AST: ``_ToAst`` builds it as the parser reduces."""
    parser = cached_lark(_grammar_text(), lexer="contextual", postlex=_BracketNewlines(), maybe_placeholders=False)
    reductions.install(parser, _ToAst())
    return parser


class _ToAst:
    """Builds AST nodes as the parser reduces; method names follow the grammar's aliases, each taking the node's
    span and its children's values."""

    def start(self, span, items):
        return ast.Module(tuple(items), span=span)

    def equation(self, span, items):
        lhs, op, rhs = items
        return ast.Equation(lhs, str(op), rhs, span=span)

    def fact(self, span, items):
        return ast.Fact(items[0], span=span)

    def query(self, span, items):
        return ast.Query(items[0], span=span)

    def scalar_lhs(self, span, items):
        return ast.Name(str(items[0]), span=span)

    def tensor_ref(self, span, items):
        return ast.TensorRef(str(items[0]), items[1] if len(items) > 1 else (), span=span)

    def apply(self, span, items):
        return ast.Apply(str(items[0]), items[1] if len(items) > 1 else (), span=span)

    def args(self, span, items):
        return tuple(items)

    def arg(self, span, items):
        if len(items) == 1:
            return ast.Arg(items[0], span=span)
        virtual = any(isinstance(i, Token) and i.type == "VIRTUAL" for i in items)
        normalised = any(isinstance(i, Token) and i.type == "NORMALISED" for i in items)
        expr = next(i for i in items if not isinstance(i, Token) or i.type not in ("VIRTUAL", "NORMALISED"))
        return ast.Arg(expr, virtual, normalised, span=span)

    def _binop(op):  # noqa: N805 - a method factory used only in this class body
        def build(self, span, items):
            return ast.BinOp(op, items[0], items[1], span=span)
        return build

    add, sub, mul, div = _binop("+"), _binop("-"), _binop("*"), _binop("/")
    juxt, pow = _binop("juxt"), _binop("^")

    def neg(self, span, items):
        return ast.Neg(items[0], span=span)

    def negation(self, span, items):
        return ast.Apply("not", (ast.Arg(items[0], span=span),), span=span)

    def number(self, span, items):
        return ast.Number(str(items[0]), span=span)

    def string(self, span, items):
        return ast.String(str(items[0])[1:-1], span=span)

    def name(self, span, items):
        return ast.Name(str(items[0]), span=span)

    def const_decl(self, span, items):
        return ast.ConstDecl(str(items[0]), str(items[1]), span=span)

    def tensor_decl(self, span, items):
        factorise = items[2] if len(items) > 2 else None
        return ast.ShapeDecl(str(items[0]), False, items[1], factorise, span=span)

    def factorise(self, span, items):
        return tuple(items)

    def option(self, span, items):
        return str(items[0]), str(items[1])

    def relation_decl(self, span, items):
        return ast.ShapeDecl(str(items[0]), True, items[1], span=span)

    def domain_decl(self, span, items):
        return ast.DomainDecl(str(items[0]), tuple(str(i) for i in items[1:]), span=span)

    def dims(self, span, items):
        return tuple(items)

    def dim_int(self, span, items):
        if len(items[0]) > MAX_INT_DIGITS:
            raise TlcError(f"extent {items[0][:20]}... is too large: extents are 64-bit integers (at most "
                           f"{MAX_INT_DIGITS} digits)", token_span(items[0]))
        return int(items[0])

    def dim_name(self, span, items):
        return str(items[0])


@contextlib.contextmanager
def _collector_paused():
    """Pause the cyclic garbage collector (if on) while parsing: a parse allocates a tree that is all acyclic
    garbage soon after, and full collections over it made long programs parse in superlinear time. No lock: an
    exception from a signal handler (a time limit) must not leave one held; threads overlapping only shorten the
    pause."""
    enabled = gc.isenabled()
    try:
        gc.disable()
        yield
    finally:
        if enabled:
            gc.enable()


MAX_ERRORS = 20
"""Most syntax errors reported for one file (each failing statement is blanked and the parse goes on)."""


def parse(source: str, filename: str | None = None) -> ast.Module:
    """Parse source text into an AST ``Module``; raises ``TlcError`` with a location on any syntax error,
    carrying the file's further independent syntax errors (one per failing statement) as ``more``."""
    try:
        return _parse(source)
    except (TlcError, UnexpectedInput, RecursionError) as err:
        failure = err
    errors: list[TlcError] = []
    text = source
    while True:
        error, resume = _syntax_error(failure, text)
        errors.append(error.located(filename, source))
        # everything before the failing statement parsed: blank it too, so each retry parses only what is left
        blanked = recovery.blank(text, 0, len(text) if resume is None else resume)
        if len(errors) == MAX_ERRORS or blanked == text:
            break
        text = blanked
        try:
            _parse(text)
            break
        except (TlcError, UnexpectedInput, RecursionError) as err:
            failure = err
    raise gather(errors)


@functools.cache
def _driver() -> lalr.Driver:
    """The fast parse of the Tensor Logic grammar (``tlc.frontend.lalr``), building the AST as ``_parser`` does."""
    return lalr.Driver(_parser(), *reductions.callbacks(_parser(), _ToAst()))


def _parse(source: str) -> ast.Module:
    with _collector_paused():
        try:
            return _driver().parse(source).value
        except lalr.Rejected:       # a syntax error: Lark's parse raises it as Lark reports it
            return _parser().parse(source).value


def _syntax_error(err: Exception, source: str) -> tuple[TlcError, int | None]:
    """The located error for a failed parse of ``source`` and where the next statement starts, to look for
    further errors from there (None: the failing statement runs to the end). A statement failing on a later line
    than a bracket it left open is reported at that bracket, and the search goes on from the failing line."""
    layout = recovery.layout(_parser(), source)
    if isinstance(err, RecursionError):
        return TlcError("expression nested too deeply"), None
    if isinstance(err, TlcError):
        position = recovery.offset(source, err.line, err.column) if err.span else 0
        return err, layout.statement_end(position)
    span = error_span(err, source, ("#",))
    eof = isinstance(err, UnexpectedEOF) or (isinstance(err, UnexpectedToken) and err.token.type == "$END")
    position = len(source) if eof else recovery.offset(source, span.line, span.column)
    error = TlcError(describe(err, _TOKEN_NAMES), span)
    if not isinstance(err, UnexpectedCharacters):
        line = recovery.line_of(source, position)
        opened = [t for t in layout.open_at(position) if eof or recovery.line_of(source, t.start_pos) < line]
        if opened:
            opener = opened[-1]
            closer = "]" if opener.type == "LSQB" else ")"
            where = "to the end of the input" if eof else f"to line {line}, where it fails: {error.message}"
            unclosed = TlcError(f"unclosed '{opener}'", _token_span(source, opener),
                                help=f"close it with '{closer}'",
                                notes=(f"a newline inside brackets continues the statement, so it runs on {where}",))
            return unclosed, None if eof else recovery.offset(source, line, 1)
    return error, layout.statement_end(position)


def _token_span(source: str, token) -> Span:
    """The span of a token from the position-only lexer (its own line numbers count from its slice)."""
    line = recovery.line_of(source, token.start_pos)
    column = token.start_pos - (source.rfind("\n", 0, token.start_pos) + 1) + 1
    return Span(line, column, line, column + len(token))
