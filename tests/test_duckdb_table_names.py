"""Table names in DuckDB (``tlc.analysis.tables``): DuckDB matches names without regard to ASCII case, so tensors
whose names fold to the same (by Unicode case folding, which identifies every pair DuckDB does) get distinct
tables; non-ASCII and hostile names (TL source allows only ASCII names, so these come as IR) run in DuckDB,
are stored in a database file and read back, with the same results as in memory."""

from __future__ import annotations

import types

import pytest

import tlc
from tlc.analysis.tables import table_names
from tlc.backends.shared.quoting import sql_identifier
from tlc.driver.source import frontend
from tlc.ir.program import Program as IRProgram

duckdb = pytest.importorskip("duckdb")
names_module = pytest.importorskip("tlc.fuzz.names")      # its rename needs hypothesis

SOURCE = ("P(x, y) = A(x, y)\nQ(x, y) = B(x, y)\nR(x, y) = C(x, y)\nS(x, y) = D(x, y)\n"
          "P(x, z) = P(x, y) A(y, z)\nQ(x, z) = Q(x, y) B(y, z)\nT(x) = P(x, y) Q(y, x)\n")
HOSTILE = {"A": "Édge", "B": "édge", "C": "EDGE", "D": "Edge", "P": "Straße", "Q": "STRASSE", "R": 'pa"th',
           "S": "İx", "T": "\u212a'"}
DATA = {"A": [(0, 1), (1, 2), (2, 0)], "B": [(1, 0), (0, 2), (2, 1)], "C": [(2, 2)], "D": [(3, 3)]}


def renamed() -> IRProgram:
    checked = frontend(SOURCE, "<names>")
    statements = names_module.rename(types.SimpleNamespace(statements=checked.statements), HOSTILE)
    return IRProgram(statements, "<names>", SOURCE)


def test_names_that_fold_alike_get_distinct_tables_in_duckdb():
    program = renamed()
    tables = table_names(program)
    assert len(set(tables.values())) == len(tables)
    assert tables["Édge"] == "Édge" and tables["édge"] == "édge#2"
    assert tables["EDGE"] == "EDGE" and tables["Edge"] == "Edge#2"
    assert tables["Straße"] == "Straße" and tables["STRASSE"] == "STRASSE#2"     # ß folds to ss
    con = duckdb.connect()
    for table in tables.values():       # DuckDB refuses a second table of a name it identifies with the first's
        con.execute(f"CREATE TABLE {sql_identifier(table)}(c0 BIGINT)")
    assert len(con.execute("SELECT * FROM duckdb_tables()").fetchall()) == len(tables)


def test_non_ascii_and_hostile_names_run_store_and_read_back(tmp_path):
    database = tmp_path / "names.duckdb"
    expected = tlc.compile(SOURCE)(**DATA)
    data = {HOSTILE[n]: rows for n, rows in DATA.items()}
    first = tlc.Program(renamed(), relations="duckdb", database=database)(**data)
    for plain, hostile in HOSTILE.items():
        if plain in expected:
            assert sorted(first[hostile]) == sorted(expected[plain]), hostile
    again = tlc.Program(renamed(), relations="duckdb", database=database)()     # inputs read from the file
    assert all(sorted(again[n]) == sorted(first[n]) for n in first)
    with duckdb.connect(str(database)) as con:
        stored = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert {"Édge", "édge#2", "EDGE", "Edge#2", "Straße", "STRASSE#2", 'pa"th', "İx", "\u212a'"} <= stored
        assert sorted(con.execute('SELECT * FROM "pa""th"').fetchall()) == [(2, 2)]


def test_names_reach_sql_quoted():
    source = tlc.Program(renamed(), relations="duckdb").source(**{HOSTILE[n]: rows for n, rows in DATA.items()})
    assert '"pa""th"' in source and '"édge#2"' in source
