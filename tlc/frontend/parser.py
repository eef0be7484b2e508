"""Parse Tensor Logic source text into the AST with Lark; every failure is a located TlcError."""

from __future__ import annotations

import contextlib
import functools
import gc
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from tlc.errors import Span, TlcError
from tlc.frontend import ast
from tlc.frontend.lark_errors import describe, error_span, token_span

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
    grammar = _grammar_text()
    return Lark(grammar, parser="lalr", lexer="contextual", postlex=_BracketNewlines(),
                propagate_positions=True, maybe_placeholders=False)


def _meta_span(meta) -> Span | None:
    if getattr(meta, "empty", True):
        return None
    return Span(meta.line, meta.column, meta.end_line, meta.end_column)


class _ToAst:
    """Builds AST nodes from the parse tree; method names follow the grammar's aliases."""

    def transform(self, tree: Tree):
        """The AST of ``tree``, built bottom-up without recursion (a chain of 10^4 ``+`` is that deep)."""
        order, pending = [], [tree]
        while pending:
            node = pending.pop()
            order.append(node)
            if isinstance(node, Tree):
                pending.extend(node.children)
        values: list = []
        for node in reversed(order):
            if isinstance(node, Tree):
                k = len(values) - len(node.children)
                items = values[k:]
                del values[k:]
                values.append(getattr(self, node.data)(node.meta, items))
            else:
                values.append(node)
        return values[0]

    def start(self, meta, items):
        return ast.Module(tuple(items), span=_meta_span(meta))

    def equation(self, meta, items):
        lhs, op, rhs = items
        return ast.Equation(lhs, str(op), rhs, span=_meta_span(meta))

    def fact(self, meta, items):
        return ast.Fact(items[0], span=_meta_span(meta))

    def query(self, meta, items):
        return ast.Query(items[0], span=_meta_span(meta))

    def scalar_lhs(self, meta, items):
        return ast.Name(str(items[0]), span=token_span(items[0]))

    def tensor_ref(self, meta, items):
        return ast.TensorRef(str(items[0]), items[1] if len(items) > 1 else (), span=_meta_span(meta))

    def apply(self, meta, items):
        return ast.Apply(str(items[0]), items[1] if len(items) > 1 else (), span=_meta_span(meta))

    def args(self, meta, items):
        return tuple(items)

    def arg(self, meta, items):
        virtual = any(isinstance(i, Token) and i.type == "VIRTUAL" for i in items)
        normalised = any(isinstance(i, Token) and i.type == "NORMALISED" for i in items)
        expr = next(i for i in items if not isinstance(i, Token) or i.type not in ("VIRTUAL", "NORMALISED"))
        return ast.Arg(expr, virtual, normalised, span=_meta_span(meta))

    def _binop(op):  # noqa: N805 - a method factory used only in this class body
        def build(self, meta, items):
            return ast.BinOp(op, items[0], items[1], span=_meta_span(meta))
        return build

    add, sub, mul, div = _binop("+"), _binop("-"), _binop("*"), _binop("/")
    juxt, pow = _binop("juxt"), _binop("^")

    def neg(self, meta, items):
        return ast.Neg(items[0], span=_meta_span(meta))

    def negation(self, meta, items):
        return ast.Apply("not", (ast.Arg(items[0], span=_meta_span(meta)),), span=_meta_span(meta))

    def number(self, meta, items):
        return ast.Number(str(items[0]), span=token_span(items[0]))

    def string(self, meta, items):
        return ast.String(str(items[0])[1:-1], span=token_span(items[0]))

    def name(self, meta, items):
        return ast.Name(str(items[0]), span=token_span(items[0]))

    def const_decl(self, meta, items):
        return ast.ConstDecl(str(items[0]), str(items[1]), span=_meta_span(meta))

    def tensor_decl(self, meta, items):
        factorise = items[2] if len(items) > 2 else None
        return ast.ShapeDecl(str(items[0]), False, items[1], factorise, span=_meta_span(meta))

    def factorise(self, meta, items):
        return tuple(items)

    def option(self, meta, items):
        return str(items[0]), str(items[1])

    def relation_decl(self, meta, items):
        return ast.ShapeDecl(str(items[0]), True, items[1], span=_meta_span(meta))

    def domain_decl(self, meta, items):
        return ast.DomainDecl(str(items[0]), tuple(str(i) for i in items[1:]), span=_meta_span(meta))

    def dims(self, meta, items):
        return tuple(items)

    def dim_int(self, meta, items):
        if len(items[0]) > MAX_INT_DIGITS:
            raise TlcError(f"extent {items[0][:20]}... is too large: extents are 64-bit integers (at most "
                           f"{MAX_INT_DIGITS} digits)", token_span(items[0]))
        return int(items[0])

    def dim_name(self, meta, items):
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


def parse(source: str, filename: str | None = None) -> ast.Module:
    """Parse source text into an AST ``Module``; raises ``TlcError`` with a location on any syntax error."""
    try:
        with _collector_paused():
            tree = _parser().parse(source)
            return _ToAst().transform(tree)
    except TlcError as err:
        raise err.located(filename, source) from None
    except UnexpectedInput as err:
        raise TlcError(describe(err, _TOKEN_NAMES), error_span(err, source, ("#",)),
                       filename=filename, source=source) from None
    except RecursionError:
        raise TlcError("expression nested too deeply", None, filename=filename, source=source) from None
