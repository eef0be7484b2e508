"""Large symbol tables are emitted as one JSON string (``tlc_runtime.symbols``): the same names, in order."""

import pytest

import tlc
import tlc_runtime.symbols as symbols_module
from tlc.backends.shared.quoting import symbols_code
from tlc_runtime.symbols import COMPACT, compact, symbol_table

HOSTILE = ["a'b", 'c"d', "e\nf", "\u2028", "\ud800", "\\", "'''", "é", "", " ", "x); import os; os.system('x')  #"]


def test_a_compact_table_reads_back_the_same_names_and_integers():
    table = tuple(HOSTILE) + tuple(range(COMPACT)) + (2**63 - 1,) + tuple(f"n{k}" for k in range(COMPACT))
    text = compact(table)
    assert text is not None and text.isascii()
    back = symbol_table(text)
    assert back == table and [type(s) for s in back] == [type(s) for s in table]
    assert eval(symbols_code(table), {"rt": symbols_module}) == table
    assert compact(table[:COMPACT - 1]) is None
    assert compact(table + (1.5,)) is None        # only names and integers are compacted
    assert eval(symbols_code(("a", 1)), {}) == ("a", 1)


@pytest.mark.parametrize("relations", ["sparse", "dense"])
def test_a_program_with_many_named_constants_gives_the_same_tuples(backend, relations, monkeypatch):
    if backend == "dask" and relations == "sparse":
        pytest.skip("the dask backend keeps relations dense")
    names = HOSTILE + [f"node {k}" for k in range(2 * COMPACT)]
    edges = list(zip(names, names[1:]))
    source = 'Two(x, z) = Edge(x, y) Edge(y, z)\nFrom(z) = Two("node 3", z)\n'
    program = tlc.compile(source, backend=backend, relations=relations)
    results = program(Edge=edges)
    assert "rt.symbol_table(" in program.source(Edge=edges)
    monkeypatch.setattr(symbols_module, "COMPACT", 10**9)    # the same program with the table as a tuple
    spelled = tlc.compile(source, backend=backend, relations=relations)
    assert "rt.symbol_table(" not in spelled.source(Edge=edges)
    expected = spelled(Edge=edges)
    assert set(results["Two"]) == set(expected["Two"]) == set(zip(names, names[2:]))
    assert set(results["From"]) == set(expected["From"]) == {("node 5",)}
