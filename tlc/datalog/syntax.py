"""Parse classic Datalog text with Lark into a small AST whose every node keeps its source span.

Soufflé's directives (``.decl``, ``.type``, ``.input``, ``.output``, ``.printsize``) are parsed into
``Declaration``, ``TypeDef`` and ``IODirective`` nodes; ``tlc.datalog.declarations`` gives them meaning.

The grammar does not decide which identifiers are variables: that depends on the dialect (classic
Datalog reads lowercase identifiers as constants, Soufflé reads them as variables) and is resolved
by the translator.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from lark import Lark, Token
from lark.exceptions import UnexpectedInput

from tlc.datalog.errors import DatalogSyntaxError
from tlc.errors import Span
from tlc.frontend import lalr, reductions
from tlc.frontend.lark_errors import describe, error_span, token_span
from tlc.frontend.parser_cache import cached_lark

GRAMMAR = r"""
start: (clause | directive)*

?clause: atom ":-" body "."            -> rule
       | atom "."                      -> fact
       | "?-" atom "."?                -> query

?directive: DECL names "(" [attribute ("," attribute)*] ")" QUALIFIER*   -> declaration
          | TYPE NAME SUBTYPE NAME ("|" NAME)*                      -> typedef
          | IO names ["(" [parameter ("," parameter)*] ")"]         -> io
names: NAME ("," NAME)*
attribute: NAME ":" NAME
parameter: NAME "=" (STRING | NAME | INT)

body: literal ("," literal)*

?literal: atom                         -> positive
        | NEG atom                     -> negative
        | comparison
        | "(" comparison ")"

comparison: term CMP term

atom: NAME "(" [term ("," term)*] ")"  -> atom
    | NAME                             -> proposition

?term: sum
?sum: product
    | sum "+" product                  -> add
    | sum "-" product                  -> sub
?product: unary
        | product "*" unary            -> mul
        | product "/" unary            -> div
?unary: primary
      | "-" unary                      -> negate
?primary: NAME                         -> ident
        | STRING                       -> string
        | INT                          -> int
        | FLOAT                        -> float
        | "(" sum ")"

DECL.3: ".decl"
TYPE.3: ".type"
IO.3: ".input" | ".output" | ".printsize"
SUBTYPE: "<:" | "="
QUALIFIER.3: /(input|output|printsize|overridable|inline|no_inline|magic|no_magic)(?![A-Za-z0-9_])/
           | /(brie|btree|btree_delete|eqrel)(?![A-Za-z0-9_])/
NEG.2: /not(?![A-Za-z0-9_])/ | "\\+" | "!"
CMP: /!=|<>|<=|>=|\\=|=|<|>/
NAME: /[A-Za-z_][A-Za-z0-9_]*/
STRING: /"(?:[^"\\\n]|\\.|"")*"/ | /'(?:[^'\\\n]|\\.|'')*'/
FLOAT.2: /\d+\.\d+([eE][+-]?\d+)?/
INT: /\d+/

LINE_COMMENT: /%[^\n]*/ | /\/\/[^\n]*/
BLOCK_COMMENT: /\/\*(.|\n)*?\*\//
%ignore LINE_COMMENT
%ignore BLOCK_COMMENT
%ignore /[ \t\f\r\n]+/
"""

_TOKEN_NAMES = {
    "NAME": "a name", "STRING": "a string", "INT": "an integer", "FLOAT": "a number", "NEG": "'not'",
    "CMP": "a comparison", "LPAR": "'('", "RPAR": "')'", "COMMA": "','", "DOT": "'.'", "IF": "':-'",
    "QUERY": "'?-'", "PLUS": "'+'", "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'", "$END": "end of input",
    "DECL": "'.decl'", "TYPE": "'.type'", "IO": "'.input'", "SUBTYPE": "'<:'", "COLON": "':'", "EQUAL": "'='",
    "VBAR": "'|'", "QUALIFIER": "a qualifier",
}
_DIRECTIVE = re.compile(r"\.([A-Za-z_]\w*)")


@dataclass(frozen=True, slots=True)
class Node:
    """Base of Datalog AST nodes; the span is excluded from equality."""

    span: Span | None = field(default=None, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Ident(Node):
    """A bare identifier in an argument: a variable, a constant or the wildcard ``_``."""

    name: str


@dataclass(frozen=True, slots=True)
class Str(Node):
    """A quoted string constant (quotes removed, escapes decoded)."""

    value: str


@dataclass(frozen=True, slots=True)
class Int(Node):
    """A non-negative integer literal."""

    value: int


@dataclass(frozen=True, slots=True)
class Float(Node):
    """A decimal literal (parsed so that it can be reported as unsupported)."""

    text: str


@dataclass(frozen=True, slots=True)
class Arith(Node):
    """``left op right`` with op one of ``+ - * /``."""

    op: str
    left: "Term"
    right: "Term"


@dataclass(frozen=True, slots=True)
class Negate(Node):
    """Unary minus."""

    operand: "Term"


Term = Ident | Str | Int | Float | Arith | Negate


@dataclass(frozen=True, slots=True)
class Atom(Node):
    """``pred(args)``; ``name_span`` locates the predicate name alone."""

    pred: str
    args: tuple[Term, ...]
    name_span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A body atom, possibly negated (``not p(X)``, ``\\+ p(X)``, ``!p(X)``)."""

    atom: Atom
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Comparison(Node):
    """``left op right`` in a rule body (parsed so that safety can be checked, then reported)."""

    op: str
    left: Term
    right: Term


@dataclass(frozen=True, slots=True)
class Clause(Node):
    """A rule (``head :- body.``), a fact (``head.``, empty body) or a query (``?- head.``)."""

    kind: str                   # "rule" | "fact" | "query"
    head: Atom
    body: tuple[Literal | Comparison, ...] = ()


@dataclass(frozen=True, slots=True)
class Attribute(Node):
    """``name: type`` in a ``.decl``."""

    name: str
    type: str


@dataclass(frozen=True, slots=True)
class Declaration(Node):
    """``.decl rel(x: symbol, y: number) [qualifiers]``; ``names`` has several relations for ``.decl a, b(...)``."""

    names: tuple[str, ...]
    attributes: tuple[Attribute, ...]
    qualifiers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TypeDef(Node):
    """``.type Name <: base`` or ``.type Name = A | B``."""

    name: str
    bases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IODirective(Node):
    """``.input``, ``.output`` or ``.printsize`` of relations, with ``(key=value, ...)`` parameters."""

    kind: str                   # "input" | "output" | "printsize"
    names: tuple[str, ...]
    parameters: tuple[tuple[str, str], ...] = ()


Directive = Declaration | TypeDef | IODirective


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}


def _unescape(body: str, quote: str) -> str:
    """Decode backslash escapes and a doubled quote (``'O''Brien'``, as in Prolog)."""
    out, chars = [], iter(body)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "\\")
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
        elif ch == quote:
            out.append(next(chars, quote))
        else:
            out.append(ch)
    return "".join(out)


class _ToAst:
    """Builds the AST as the parser reduces (``tlc.frontend.reductions``); method names follow the grammar's
    aliases, each taking the node's span and its children's values."""

    def start(self, span, items):
        return tuple(items)

    def rule(self, span, items):
        return Clause("rule", items[0], items[1], span=span)

    def fact(self, span, items):
        return Clause("fact", items[0], span=span)

    def query(self, span, items):
        return Clause("query", items[0], span=span)

    def body(self, span, items):
        return tuple(items)

    def positive(self, span, items):
        return Literal(items[0], False, span=span)

    def negative(self, span, items):
        return Literal(items[1], True, span=span)

    def comparison(self, span, items):
        left, op, right = items
        return Comparison(str(op), left, right, span=span)

    def atom(self, span, items):
        name, *args = items
        args = tuple(a for a in args if a is not None)
        return Atom(str(name), args, token_span(name), span=span)

    def proposition(self, span, items):
        return Atom(str(items[0]), (), token_span(items[0]), span=token_span(items[0]))

    def declaration(self, span, items):
        names, *rest = items[1:]
        attributes = tuple(a for a in rest if isinstance(a, Attribute))
        qualifiers = tuple(str(q) for q in rest if isinstance(q, Token))
        return Declaration(names, attributes, qualifiers, span=span)

    def typedef(self, span, items):
        return TypeDef(str(items[1]), tuple(str(t) for t in items[3:]), span=span)

    def io(self, span, items):
        params = tuple(p for p in items[2:] if p is not None)
        return IODirective(str(items[0])[1:], items[1], params, span=span)

    def names(self, span, items):
        return tuple(str(n) for n in items)

    def attribute(self, span, items):
        return Attribute(str(items[0]), str(items[1]), span=span)

    def parameter(self, span, items):
        key, value = items
        value = _unescape(str(value)[1:-1], str(value)[0]) if value.type == "STRING" else str(value)
        return str(key), value

    def _arith(op):  # noqa: N805 - a method factory used only in this class body
        def build(self, span, items):
            return Arith(op, items[0], items[1], span=span)
        return build

    add, sub, mul, div = _arith("+"), _arith("-"), _arith("*"), _arith("/")

    def negate(self, span, items):
        return Negate(items[0], span=span)

    def ident(self, span, items):
        return Ident(str(items[0]), span=token_span(items[0]))

    def string(self, span, items):
        text = str(items[0])
        return Str(_unescape(text[1:-1], text[0]), span=token_span(items[0]))

    def int(self, span, items):
        return Int(int(str(items[0])), span=token_span(items[0]))

    def float(self, span, items):
        return Float(str(items[0]), span=token_span(items[0]))


@functools.cache
def _parser() -> Lark:
    """The Datalog parser, returning the AST: ``_ToAst`` builds it as the parser reduces."""
    parser = cached_lark(GRAMMAR, lexer="contextual", maybe_placeholders=True)
    reductions.install(parser, _ToAst())
    return parser


@functools.cache
def _driver() -> lalr.Driver:
    """The fast parse of the Datalog grammar (``tlc.frontend.lalr``), building the AST as ``_parser`` does."""
    return lalr.Driver(_parser(), *reductions.callbacks(_parser(), _ToAst()))


def _parse(text: str) -> tuple[Clause | Directive, ...]:
    try:
        return _driver().parse(text).value
    except lalr.Rejected:       # a syntax error: Lark's parse raises it as Lark reports it
        return _parser().parse(text).value


def _describe(err: UnexpectedInput, text: str) -> str:
    """The shared Lark message (``tlc.frontend.lark_errors``), or the name of an unsupported directive."""
    position = getattr(err, "pos_in_stream", None)
    directive = _DIRECTIVE.match(text, position) if position is not None else None
    if directive and directive[1] not in ("decl", "type", "input", "output", "printsize"):
        return (f"the directive .{directive[1]} is not supported (tlc reads .decl, .type, .input, .output and "
                f".printsize)")
    return describe(err, _TOKEN_NAMES)


def parse(text: str, filename: str | None = None) -> tuple[Clause | Directive, ...]:
    """Parse Datalog text into clauses and directives; raises a located ``DatalogSyntaxError`` on bad input."""
    try:
        return _parse(text)
    except UnexpectedInput as err:
        raise DatalogSyntaxError(_describe(err, text), error_span(err, text, ("%", "//")), filename=filename,
                                 source=text) from None
    except RecursionError:
        raise DatalogSyntaxError("terms nested too deeply", None, filename=filename, source=text) from None
