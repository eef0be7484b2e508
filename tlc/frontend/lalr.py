"""An LALR(1) parse of a built Lark parser's tables, lexed by its own contextual lexer's scanners, without Lark's
per-token machinery; a text Lark would reject is left to Lark, so every syntax error is Lark's own.

Lark's loop costs ~7 us a token on tlc's grammars (a ``LexerState``, ``LineCounter``, ``Token.__new__`` keyword
handling, a generator per layer and ``feed_token``'s dictionary lookups and assertions per token and per reduction),
which made parsing the largest part of compiling a small program. Here each parser state's actions are read once
into a flat table (a shift is the next state, a reduction its rule's size, callback and goto name), and the lexer
of each state is the contextual lexer's own (its scanner's regular expressions and keyword callbacks, so the same
tokens come out with the same types, positions and ends). A reduction of one child by a rule that passes its
child on unchanged (``?rule``) moves to the next state without a call.

``parse`` returns the start rule's value, or raises ``Rejected`` when the text has a syntax error (an unexpected
token or character, or the end too early): the caller parses it again with Lark for Lark's exception. Exceptions
from the callbacks or the post-lexer propagate as they do from Lark's parse (the same tokens reach them in the
same order).
"""

from __future__ import annotations

from collections.abc import Iterator

from lark import Lark, Token
from lark.lexer import ContextualLexer
from lark.parsers.lalr_analysis import Shift

_new_str = str.__new__


class Rejected(Exception):
    """The text has a syntax error; Lark's parse reports it."""


def lark_parts(parser: Lark):
    """The LALR table, the contextual lexer and the post-lexer (or None) of a Lark parser, checked to be what
    ``Driver`` reads."""
    frontend = parser.parser
    lexer, postlex = frontend.lexer, None
    if hasattr(lexer, "postlexer"):
        lexer, postlex = lexer.lexer, lexer.postlexer
    if parser.options.parser != "lalr" or not isinstance(lexer, ContextualLexer):
        raise ValueError("the fast parse needs an LALR parser with the contextual lexer")
    return frontend.parser.parser.parse_table, lexer, postlex


class Driver:
    """The parse of one Lark LALR parser's grammar; ``callbacks`` maps each rule to the function making its value
    from its children's (tokens and earlier values), and ``passing`` names the rules whose value, for one child that
    is not a token, is that child."""

    def __init__(self, parser: Lark, callbacks: dict, passing: frozenset = frozenset()):
        table, lexer, postlex = lark_parts(parser)
        self._postlex = postlex
        self._start = table.start_states["start"]
        self._end = table.end_states["start"]
        rules: dict = {}
        self._actions = {}
        for state, actions in table.states.items():
            row = {}
            for symbol, (action, arg) in actions.items():
                if action is Shift:
                    row[symbol] = arg
                else:
                    if arg not in rules:
                        rules[arg] = (len(arg.expansion), callbacks[arg], arg.origin.name,
                                     arg in passing and len(arg.expansion) == 1)
                    row[symbol] = rules[arg]
            self._actions[state] = row
        self._lexers = _Scanners(lexer.lexers)
        self._chains: dict = {}
        """The state a chain of passing rules ends in, by the states below and at the top and the lookahead."""

    def parse(self, text: str):
        """The start rule's value for ``text``; raises ``Rejected`` on a syntax error."""
        tokens = self._tokens(text, states := [self._start])
        if self._postlex is not None:
            tokens = self._postlex.process(tokens)
        values: list = []
        token = None
        for token in tokens:
            self._feed(states, values, token, token.type)
        if token is None:
            token = _token("$END", "", 0, 1, 1, None, None, None)
        else:
            token = _token("$END", "", token.start_pos, token.line, token.column, token.end_line, token.end_column,
                           token.end_pos)
        self._feed(states, values, token, "$END")
        return values[-1]

    def _feed(self, states: list, values: list, token: Token, kind: str) -> None:
        """Shift ``token`` after every reduction it calls for (at the end of the text, ``$END``: until the start
        rule's final state)."""
        actions, chains = self._actions, self._chains
        while True:
            action = actions[states[-1]].get(kind)
            if action is None:
                raise Rejected
            if action.__class__ is int:
                states.append(action)
                values.append(token)
                return
            size, callback, origin, passing = action
            if passing and not isinstance(values[-1], Token):
                # a chain of rules passing one child on: the state it ends in, for this state below and lookahead
                key = (states[-2], states[-1], kind)
                state = chains.get(key)
                if state is None:
                    state = chains[key] = self._chain(*key)
                states[-1] = state
                continue
            if size:
                children = values[-size:]
                del states[-size:]
                del values[-size:]
            else:
                children = []
            states.append(actions[states[-1]][origin])
            values.append(callback(children))
            if states[-1] == self._end:
                return

    def _chain(self, below: int, state: int, kind: str) -> int:
        """The state after reducing, on lookahead ``kind``, every rule passing one child on in turn, from ``state``
        with ``below`` under it (the child, not a token, stays the value)."""
        while True:
            action = self._actions[state].get(kind)
            if action is None or action.__class__ is int or not action[3]:
                return state
            state = self._actions[below][action[2]]

    def _tokens(self, text: str, states: list) -> Iterator[Token]:
        """The tokens of ``text``, each lexed by the lexer of the parser's state at the time (``states[-1]``)."""
        lexers = self._lexers
        position, line, line_start, size = 0, 1, 0, len(text)
        while position < size:
            matchers, ignore, newlines, callbacks = lexers[states[-1]]
            for match in matchers:
                found = match(text, position)
                if found:
                    break
            else:
                raise Rejected
            value, kind = found.group(0), found.lastgroup
            start, start_line, column = position, line, position - line_start + 1
            position += len(value)
            if kind in newlines:
                count = value.count("\n")
                if count:
                    line += count
                    line_start = start + value.rindex("\n") + 1
            if kind in ignore:
                continue
            token = _token(kind, value, start, start_line, column, line, position - line_start + 1, position)
            if kind in callbacks:
                token = callbacks[kind](token)
            yield token


class _Scanners(dict):
    """``_scanning`` of each parser state's lexer, built when the state first lexes (building all of them, most of
    which a text never reaches, compiled some 120 regular expressions: 40 ms of a process's first compile)."""

    def __init__(self, lexers: dict):
        super().__init__()
        self._of = lexers

    def __missing__(self, state):
        self[state] = scanning = _scanning(self._of[state])
        return scanning


def _scanning(basic) -> tuple:
    """What lexing in one parser state needs of Lark's lexer for it: the scanner's bound ``match`` of each of its
    regular expressions (in order), the ignored and the newline-holding terminals, and the keyword callbacks."""
    scanner = basic.scanner
    return tuple(m.match for m in scanner._mres), basic.ignore_types, basic.newline_types, basic.callback


def _token(kind: str, value: str, start: int, line: int, column: int, end_line: int, end_column: int,
           end: int) -> Token:
    """A Lark ``Token``, every attribute as Lark's lexer sets it."""
    token = _new_str(Token, value)
    token.type, token.value, token.start_pos, token.line, token.column = kind, value, start, line, column
    token.end_line, token.end_column, token.end_pos = end_line, end_column, end
    return token
