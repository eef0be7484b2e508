"""Build the AST while Lark's LALR parser reduces, instead of building a parse tree and transforming it.

Lark calls one callback per reduction with the rule's children as matched (tokens, and what earlier callbacks
returned). The callbacks here keep the children a parse tree would keep (named tokens; anonymous and ``_`` tokens
are dropped, ``_rule`` children spliced in, a ``?rule`` of one child replaced by it) and hand them to the builder's
method named after the rule's alias or name. A node's span runs from the first token to the last token of its
children as matched (brackets, a statement's ``.`` included): exactly what Lark's ``propagate_positions``
computes, without its per-node ``Meta`` objects (half of a small program's parse time).
"""

from __future__ import annotations

from collections.abc import Callable

import lark
from lark import Lark, Token

from tlc.errors import Span


class Reduced:
    """A reduction's value and the first and last tokens it covers (None for a rule that matched nothing)."""

    __slots__ = ("value", "first", "last")

    def __init__(self, value, first: Token | None, last: Token | None):
        self.value = value
        self.first = first
        self.last = last


def install(parser: Lark, builder) -> None:
    """Make ``parser.parse`` return the builder's result: the value of the start rule's ``Reduced``. Each of the
    builder's methods takes the node's span (None when it matched nothing) and the kept children's values."""
    if parser.options.parser != "lalr" or parser.options.maybe_placeholders:
        raise ValueError("inline reductions need an LALR parser without placeholders")
    lalr = getattr(getattr(getattr(parser, "parser", None), "parser", None), "parser", None)
    if not isinstance(getattr(lalr, "callbacks", None), dict):    # Lark's internals, which a release may change
        raise RuntimeError(f"tlc builds its syntax tree inside Lark's LALR parser (its callbacks per rule), which lark "
                           f"{lark.__version__} does not expose as lark 1.3 does: install lark 1.3.x")
    lalr.callbacks = {rule: _callback(rule, builder) for rule in parser.rules}


def _callback(rule, builder) -> Callable[[list], Reduced]:
    """The reduction of one grammar rule, filtering its children as Lark's parse-tree builder does."""
    kept = tuple((k, not symbol.is_term and symbol.name.startswith("_")) for k, symbol in enumerate(rule.expansion)
                 if not (symbol.is_term and symbol.filter_out))
    if rule.options.expand1 and not rule.alias and len(kept) == 1:
        return _passing(kept[0][0])
    if rule.origin.name.startswith("_") and not rule.alias:
        return _splicing(kept)
    return _building(kept, getattr(builder, rule.alias or rule.origin.name))


def _values(children: list, kept: tuple) -> list:
    items: list = []
    for k, spliced in kept:
        child = children[k]
        if spliced:
            items += child.value
        else:
            items.append(child if isinstance(child, Token) else child.value)
    return items


def _first(children: list) -> Token | None:
    for child in children:
        if isinstance(child, Token):
            return child
        if child.first is not None:
            return child.first
    return None


def _last(children: list) -> Token | None:
    for child in reversed(children):
        if isinstance(child, Token):
            return child
        if child.last is not None:
            return child.last
    return None


def _passing(k: int) -> Callable[[list], Reduced]:
    """A ``?rule`` with one kept child: that child's value, covering all the children (``( x )`` covers the
    brackets, while ``x`` keeps its own span)."""
    def reduce(children: list) -> Reduced:
        child = children[k]
        if len(children) == 1 and not isinstance(child, Token):
            return child
        return Reduced(child if isinstance(child, Token) else child.value, _first(children), _last(children))
    return reduce


def _splicing(kept: tuple) -> Callable[[list], Reduced]:
    """A ``_rule``: its kept children, spliced into the rule that uses it."""
    def reduce(children: list) -> Reduced:
        return Reduced(_values(children, kept), _first(children), _last(children))
    return reduce


def _building(kept: tuple, build: Callable) -> Callable[[list], Reduced]:
    """A rule the builder makes a value of."""
    def reduce(children: list) -> Reduced:
        first, last = _first(children), _last(children)
        span = None if first is None else Span(first.line, first.column, last.end_line, last.end_column)
        return Reduced(build(span, _values(children, kept)), first, last)
    return reduce
