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
    builder's methods takes the node's span (None when it matched nothing) and the kept children's values (with
    ``maybe_placeholders``, None for each ``[item]`` absent, as in Lark's parse tree)."""
    if parser.options.parser != "lalr":
        raise ValueError("inline reductions need an LALR parser")
    lalr = getattr(getattr(getattr(parser, "parser", None), "parser", None), "parser", None)
    if not isinstance(getattr(lalr, "callbacks", None), dict):    # Lark's internals, which a release may change
        raise RuntimeError(f"tlc builds its syntax tree inside Lark's LALR parser (its callbacks per rule), which lark "
                           f"{lark.__version__} does not expose as lark 1.3 does: install lark 1.3.x")
    lalr.callbacks = callbacks(parser, builder)[0]


def callbacks(parser: Lark, builder) -> tuple[dict, frozenset]:
    """The reduction of each of the parser's rules, and the rules among them that pass one child on unchanged
    (what ``tlc.frontend.lalr.Driver`` takes)."""
    placeholders = bool(parser.options.maybe_placeholders)
    kept = {rule: _kept(rule, placeholders) for rule in parser.rules}
    return {rule: _callback(rule, kept[rule], builder) for rule in parser.rules}, frozenset(
        rule for rule in parser.rules if _passes(rule, kept[rule]))


def _kept(rule, placeholders: bool) -> tuple[tuple, int]:
    """The children of ``rule`` a parse tree keeps, by position, each with whether it is spliced in (``_rule``) and
    how many placeholders (None, for ``[item]`` absent) go before it; and the placeholders after the last."""
    empty = rule.options.empty_indices if placeholders else ()
    counts = [len(ones) for ones in "".join(str(int(b)) for b in empty).split("0")] if empty else \
        [0] * (len(rule.expansion) + 1)
    kept, nones = [], 0
    for k, symbol in enumerate(rule.expansion):
        nones += counts[k]
        if not (symbol.is_term and symbol.filter_out):
            kept.append((k, not symbol.is_term and symbol.name.startswith("_"), nones))
            nones = 0
    return tuple(kept), nones + counts[-1]


def _passes(rule, kept: tuple[tuple, int]) -> bool:
    """Whether ``rule`` is a ``?rule`` keeping one child and no placeholder (its value is that child's)."""
    children, trailing = kept
    return bool(rule.options.expand1 and not rule.alias and len(children) == 1 and not children[0][2]
                and not trailing)


def _callback(rule, kept: tuple[tuple, int], builder) -> Callable[[list], Reduced]:
    """The reduction of one grammar rule, filtering its children as Lark's parse-tree builder does."""
    children, trailing = kept
    if rule.options.expand1 and not rule.alias and len(children) + sum(c[2] for c in children) + trailing == 1:
        if not children:
            raise ValueError(f"rule {rule} passes on a placeholder alone, which inline reductions do not build")
        return _passing(children[0][0])
    if rule.origin.name.startswith("_") and not rule.alias:
        return _splicing(kept)
    return _building(kept, getattr(builder, rule.alias or rule.origin.name))


def _values(children: list, kept: tuple[tuple, int]) -> list:
    """The kept children's values, placeholders in place and ``_rule`` children spliced in."""
    items: list = []
    chosen, trailing = kept
    for k, spliced, nones in chosen:
        if nones:
            items += [None] * nones
        child = children[k]
        if spliced:
            items += child.value
        else:
            items.append(child if isinstance(child, Token) else child.value)
    if trailing:
        items += [None] * trailing
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
