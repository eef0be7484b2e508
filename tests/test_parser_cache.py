"""The built parsers on disk (``tlc.frontend.parser_cache``): a second build loads the tables instead of building
them and parses the same; a damaged, truncated or foreign entry is ignored and rewritten; a refused cache directory
warns once and the parser is built without it."""

from __future__ import annotations

import warnings

import pytest
from lark import Lark

import tlc
from tlc.frontend import parser, parser_cache
from tlc.frontend.parser_cache import HEADER, cached_lark

GRAMMAR = """
start: item+
item: NAME "=" NUMBER ";"
NAME: /[a-z]+/
NUMBER: /[0-9]+/
%ignore " "
"""
TEXT = "a = 1; bc = 22; d = 333;"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh cache root; returns the parsers' directory in it."""
    monkeypatch.setenv("TLC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(parser_cache, "_warned", parser_cache.threading.Event())
    return tmp_path / "cache" / "parser"


@pytest.fixture
def builds(monkeypatch):
    """How many parsers were built from their grammar (not loaded) since the test began."""
    count = []
    original = Lark.__init__

    def counting(self, *args, **kwargs):
        count.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Lark, "__init__", counting)
    return count


def test_a_second_build_loads_the_tables_and_parses_the_same(cache, builds):
    first = cached_lark(GRAMMAR, lexer="contextual", propagate_positions=True)
    [entry] = cache.iterdir()
    assert entry.stat().st_mode & 0o777 == 0o600 and len(builds) == 1
    second = cached_lark(GRAMMAR, lexer="contextual", propagate_positions=True)
    assert len(builds) == 1
    assert second.parse(TEXT) == first.parse(TEXT)
    assert second.parse(TEXT).children[1].meta.column == first.parse(TEXT).children[1].meta.column == 8


def test_other_options_or_grammars_get_their_own_entries(cache, builds):
    cached_lark(GRAMMAR, lexer="contextual")
    cached_lark(GRAMMAR, lexer="basic")
    cached_lark(GRAMMAR.replace("NUMBER: /[0-9]+/", "NUMBER: /[0-9]/"), lexer="contextual")
    assert len(list(cache.iterdir())) == 3 and len(builds) == 3


def test_tensor_logic_parser_from_the_cache_keeps_its_post_lexer(cache, builds):
    source = "Y[i] = A[i,\n  j] X[j]\nZ = Y[0]\n"
    built = cached_lark(parser._grammar_text(), lexer="contextual", postlex=parser._BracketNewlines(),
                        propagate_positions=True, maybe_placeholders=False)
    loaded = cached_lark(parser._grammar_text(), lexer="contextual", postlex=parser._BracketNewlines(),
                         propagate_positions=True, maybe_placeholders=False)
    assert len(builds) == 1
    assert loaded.parse(source) == built.parse(source)


def _truncated(entry):
    entry.write_bytes(entry.read_bytes()[:-100])


def _flipped(entry):
    data = bytearray(entry.read_bytes())
    data[-10] ^= 0xFF
    entry.write_bytes(bytes(data))


def _foreign_key(entry):
    data = entry.read_bytes()
    entry.write_bytes(data[:HEADER - 130] + b"0" * 64 + data[HEADER - 66:])


def _header_only(entry):
    entry.write_bytes(entry.read_bytes()[:HEADER])


@pytest.mark.parametrize("damage", [_truncated, _flipped, _foreign_key, _header_only],
                         ids=lambda f: f.__name__.strip("_"))
def test_a_damaged_entry_is_ignored_and_rewritten(cache, builds, damage):
    first = cached_lark(GRAMMAR, lexer="contextual")
    [entry] = cache.iterdir()
    sound = entry.read_bytes()
    damage(entry)
    assert entry.read_bytes() != sound
    again = cached_lark(GRAMMAR, lexer="contextual")
    assert len(builds) == 2 and again.parse(TEXT) == first.parse(TEXT)
    assert entry.read_bytes()[:HEADER - 65] == sound[:HEADER - 65]        # rewritten under the same key,
    assert cached_lark(GRAMMAR, lexer="contextual").parse(TEXT) == first.parse(TEXT) and len(builds) == 2  # sound


def test_a_refused_cache_directory_warns_once_and_builds(cache, builds, tmp_path):
    root = tmp_path / "cache"
    root.mkdir()
    root.chmod(0o777)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parsers = [cached_lark(GRAMMAR, lexer="contextual") for _ in range(2)]
    messages = [str(w.message) for w in caught if isinstance(w.message, tlc.TlcWarning)]
    assert len(messages) == 1 and "is writable by others (mode 777)" in messages[0]
    assert "building the parser without it" in messages[0]
    assert len(builds) == 2 and not list(tmp_path.rglob("*.lark"))
    assert parsers[1].parse(TEXT) == parsers[0].parse(TEXT)
