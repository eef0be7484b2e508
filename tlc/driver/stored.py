"""Input relations that earlier runs stored in a DuckDB database file (``database=``, ``--db``): described (tuple
count, largest positions, the names of their constants) when a run is not given them, so that the run plans with
them and reads them in place, and compared with the data a run is given (a change replaces the table).

The file's format is ``tlc_runtime.duckdb_relations``'s: a table of positions per input relation, with the
names its columns of named constants hold; tables are named as ``tlc.analysis.tables`` says.
"""

from __future__ import annotations

import math

import tlc_runtime.duckdb_relations as rdb
from tlc.analysis.budget import size_text
from tlc.analysis.tables import table_names
from tlc_runtime.errors import RuntimeFailure
from tlc.errors import DataError, TlcWarning
from tlc.ir.program import Program
from tlc.memory_limit import Budget


def stored_inputs(program: Program, database: str, missing: list[str]) -> dict[str, rdb.StoredTable]:
    """Each relation of ``missing`` that ``database`` stores, as a ``StoredTable`` (its size and dictionary; its
    tuples stay in the file)."""
    names = table_names(program)
    found = {}
    for name in missing:
        info = program.tensors.get(name)
        if info is None or not info.relation:
            continue
        try:
            stored = rdb.stored_table(database, names[name], info.rank)
        except RuntimeFailure as err:
            raise DataError(err.message, info.first_use.span) from None
        if stored is not None:
            found[name] = stored
    return found


def stored_names(program: Program, database: str, names) -> set[str]:
    """The relations of ``names`` that ``database`` stores in a form a run can read back."""
    tables = table_names(program)
    found = set()
    for name in names:
        if name not in program.tensors or not program.tensors[name].relation:
            continue
        try:
            record = rdb.stored_input(database, tables[name])
        except RuntimeFailure as err:
            raise DataError(err.message) from None
        if record is not None and record[1] is not None:
            found.add(name)
    return found


def replaced_inputs(program: Program, database: str, given, prepared: dict, symbols: tuple,
                    symbolic: frozenset) -> list[TlcWarning]:
    """A note for each relation of ``given`` whose data differs from the table ``database`` stores for it (the
    run replaces that table)."""
    names = table_names(program)
    notes = []
    for name in given:
        info = program.tensors.get(name)
        if info is None or not info.relation or info.defined or name not in prepared:
            continue
        axes = tuple(a for a in range(info.rank) if (name, a) in symbolic)
        try:
            digests = rdb.stored_digest(database, names[name], prepared[name], info.rank, axes, symbols)
        except RuntimeFailure as err:
            raise DataError(err.message, info.first_use.span) from None
        if digests is not None and digests[0] != digests[1]:
            notes.append(TlcWarning(
                f"the data for {name} differs from the table {names[name]} that an earlier run stored in "
                f"{database}: this run replaces that table", info.first_use.span, code="replaced_input",
                filename=program.filename, source=program.source,
                notes=("a later run given no data for it reads the new table",)))
    return notes


def check_loaded(program: Program, stored, extents: dict, storage: dict, budget: Budget) -> None:
    """Raise a located ``DataError`` when a relation of ``stored`` (read from the database file, not given) would be
    read into memory as a dense array over ``budget``: an in-memory stratum reads it (sparse storage is within
    budget, or the relation plan moved or refused its strata)."""
    limit = budget.elements
    for name in stored:
        elements = math.prod(extents[name])
        if limit is not None and storage.get(name) != "sparse" and elements > limit:
            raise DataError(f"{name}, stored in the database file, would be read into memory as a dense array of "
                            f"shape {tuple(extents[name])}: {size_text(elements)}, over {budget.describe()} (only "
                            f"relations that relational strata alone read stay in the database)",
                            program.tensors[name].first_use.span)
