"""The table a tensor of a program is stored in by DuckDB (``relations="duckdb"``, database files).

DuckDB matches names without regard to case (it folds ASCII letters alone: ``Édge`` and ``édge`` are two
tables there, ``Edge`` and ``EDGE`` one). A tensor's table is its name, or ``name#k`` when the Unicode case
folding of its name equals that of an earlier tensor's (relations first): full case folding identifies every
pair of names DuckDB identifies, and more, so distinct tables never meet. No tensor name holds ``#``, so a
renamed table meets no other. Names reach SQL only through ``quoting.sql_identifier``.
"""

from __future__ import annotations

from tlc.ir.program import Program


def table_names(program: Program) -> dict[str, str]:
    """Every tensor's table name (unquoted): its own, or ``name#k`` where its case folding equals an earlier
    one's."""
    names: dict[str, str] = {}
    taken: dict[str, int] = {}
    for relation in (True, False):
        for name, info in program.tensors.items():
            if info.relation == relation:
                key = name.casefold()
                taken[key] = taken.get(key, 0) + 1
                names[name] = name if taken[key] == 1 else f"{name}#{taken[key]}"
    return names
