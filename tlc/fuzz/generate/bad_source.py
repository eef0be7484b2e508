"""Bad source: printed generated programs, text mutations of them, token soup and arbitrary text."""

from __future__ import annotations

import string

from hypothesis import strategies as st

from tlc.fuzz.generate.templates import programs

_TOKENS = ("X", "Y", "R", "i", "j", "k", "t", "[", "]", "(", ")", ",", "=", "+=", "max=", "min=", "avg=", "+", "-",
           "*", "/", "^", "~", ".", "?", ";", "\n", " ", "0", "1", "2.5", "1e3", "'a b'", '"q"', "Bob", "exp", "sig",
           "softmax", "lnorm", "concat", "const", "tensor", "relation", "domain", ":", "#", "\\\n", "*t", "p'")


def _mutate_text(draw, text: str) -> str:
    kind = draw(st.sampled_from(["truncate", "delete", "insert", "replace", "duplicate", "swap"]))
    if not text:
        return draw(st.sampled_from(_TOKENS))
    a = draw(st.integers(0, len(text)))
    b = draw(st.integers(a, min(len(text), a + 8)))
    if kind == "truncate":
        return text[:a]
    if kind == "delete":
        return text[:a] + text[b:]
    if kind == "insert":
        return text[:a] + draw(st.sampled_from(_TOKENS)) + text[a:]
    if kind == "replace":
        return text[:a] + draw(st.sampled_from(_TOKENS + tuple(string.printable[:95]))) + text[b:]
    if kind == "duplicate":
        return text[:b] + text[a:b] + text[b:]
    return text[b:] + text[:a] + text[a:b]


def sources(**program_options) -> st.SearchStrategy:
    """Source text: printed generated programs, mutations of them, token soup and arbitrary text.

    ``tlc.compile`` on any of these must succeed or raise ``tlc.TlcError``, never anything else.
    """
    printed = programs(**program_options).map(lambda p: p.source)

    @st.composite
    def mutated(draw):
        text = draw(printed)
        for _ in range(draw(st.integers(1, 3))):
            text = _mutate_text(draw, text)
        return text

    soup = st.lists(st.sampled_from(_TOKENS), max_size=30).map(" ".join)
    return st.one_of(printed, mutated(), soup, st.text(max_size=60))
