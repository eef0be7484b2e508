"""Relations inside DuckDB: the session a run's SQL executes in, and relations read lazily from its tables.

Each run computes in a private in-memory DuckDB database (it spills to a temporary directory beyond its memory
limit), so a run's results belong to it. With a database file, the file is attached as ``tlcdb``: input
relations are stored there as tables named after them (rewritten only when their content hash, kept in the
table ``tlc inputs(name, digest, axes, positions)``, changes, or the run numbers their constants otherwise), with
the names their columns of named constants hold in ``tlc input symbols(relation, id, name, number)``, so that a
later run reads them in place, without the data (``stored_table``, ``StoredTuples``); the run's symbol table is
``tlc symbols(id, name)``, and at the end of the run every derived relation is written there as a table of its
name. A table holds positions ``c0, c1, ...`` (BIGINT).

``duckdb`` is imported when a session opens, never with this module.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile

import numpy as np

from tlc_runtime.errors import RuntimeFailure
from tlc_runtime.sparse import Tuples

SCHEMA = "tlcdb"
"""The schema the database file is attached as (``tlc.backends.shared.sql.INPUT_SCHEMA``)."""
DIGESTS = '"tlc inputs"'
SYMBOLS = '"tlc symbols"'
INPUT_SYMBOLS = '"tlc input symbols"'
SOURCE = "tlc source"
"""The name a NumPy column set is registered under while it is copied into a table."""
LEAST_MEMORY = 256 * 2**20
"""DuckDB's memory limit is the tlc budget, but never less than this (joins need working memory)."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Session:
    """One run's DuckDB connection: runs statements, loads relations into tables and reads them back."""

    def __init__(self, database: str | None = None, memory_bytes: int | None = None):
        try:
            import duckdb
        except ImportError:
            raise RuntimeFailure("relations in DuckDB need duckdb: pip install 'tlc[duckdb]'") from None
        self._duckdb = duckdb
        self._spill = tempfile.TemporaryDirectory(prefix="tlc-duckdb-")
        config = {"temp_directory": self._spill.name}
        if memory_bytes is not None:
            config["memory_limit"] = f"{max(int(memory_bytes), LEAST_MEMORY) // 2**20}MB"
        self.connection = duckdb.connect(":memory:", config=config)
        self.database = database
        self.attached = database is not None
        """True while the database file is attached (until ``save``)."""
        self.loaded: set[str] = set()
        """Tables this session has filled (quoted names, with their schema when in the file)."""
        self.symbol_table: tuple = ()
        """The run's named constants (``symbols``), which the positions of input relations index."""
        if database is not None:
            self.run(f"ATTACH {_string(database)} AS {SCHEMA}")
            self.run(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{DIGESTS}(name VARCHAR PRIMARY KEY, digest VARCHAR)")
            self.run(f"ALTER TABLE {SCHEMA}.{DIGESTS} ADD COLUMN IF NOT EXISTS axes VARCHAR")
            self.run(f"ALTER TABLE {SCHEMA}.{DIGESTS} ADD COLUMN IF NOT EXISTS positions VARCHAR")
            self.run(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{INPUT_SYMBOLS}"
                     f"(relation VARCHAR, id BIGINT, name VARCHAR, number BOOLEAN)")

    def run(self, statement: str) -> None:
        """Execute one statement; a DuckDB error becomes a ``RuntimeFailure``."""
        try:
            self.connection.execute(statement).fetchall()
        except self._duckdb.Error as err:
            raise RuntimeFailure(f"DuckDB: {err}") from None

    def count(self, table: str) -> int:
        """Rows of ``table``."""
        try:
            return int(self.connection.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
        except self._duckdb.Error as err:
            raise RuntimeFailure(f"DuckDB: {err}") from None

    def relation(self, table: str, shape: tuple[int, ...]) -> TableTuples:
        """The relation held by ``table`` (read when its tuples are first asked for)."""
        self.loaded.add(table)
        return TableTuples(self, table, shape)

    def provide(self, table: str, value, arity: int) -> None:
        """Make ``table`` hold relation ``value`` unless this session already filled it."""
        if table in self.loaded:
            return
        if isinstance(value, TableTuples) and value.session is self:
            if value.table != table:
                self.run(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {value.table}")
        else:
            self._load(table, value, arity)
        self.loaded.add(table)

    def values(self, table: str, array, identity: float) -> None:
        """Make ``table`` hold the elements of numeric ``array`` other than ``identity``: columns ``c0, c1, ...,
        v``. A min/max fold leaves out NaN too (it contributes nothing); a sum (identity 0) needs finite values,
        since ``inf * 0`` and NaN would reach elements that the table's missing zeros never reach."""
        if table in self.loaded:
            return
        array = np.asarray(array, dtype=np.float64)
        if identity == 0 and not np.isfinite(array).all():
            raise RuntimeFailure(f"a sum or average in DuckDB needs finite inputs, and {table} holds inf or NaN: "
                                 f"run it in memory (relations='auto')")
        keep = (array != identity) & ~np.isnan(array)
        rows = np.argwhere(keep)
        columns = {f"c{a}": np.ascontiguousarray(rows[:, a], dtype=np.int64) for a in range(array.ndim)}
        columns["v"] = np.ascontiguousarray(array[keep])
        self.connection.register(SOURCE, columns)
        try:
            self.run(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {_quote(SOURCE)}")
        finally:
            self.connection.unregister(SOURCE)
        self.loaded.add(table)

    def dense(self, table: str, shape: tuple[int, ...], regions, identity: float) -> np.ndarray:
        """A fold's table as a dense array: ``identity`` over ``regions`` (per axis ``(lo, hi)``), 0 elsewhere,
        and the table's values where it has them."""
        out = np.zeros(shape)
        for region in regions:
            out[tuple(slice(lo, hi) for lo, hi in region)] = identity
        names = ", ".join(f"c{a}" for a in range(len(shape)))
        try:
            found = self.connection.execute(f"SELECT {names}, v FROM {table}").fetchnumpy()
        except self._duckdb.Error as err:
            raise RuntimeFailure(f"DuckDB: {err}") from None
        out[tuple(np.asarray(found[f"c{a}"], dtype=np.int64) for a in range(len(shape)))] = found["v"]
        return out

    def input(self, name: str, value, arity: int, symbolic: tuple = ()) -> None:
        """Store input relation ``value`` in the database file as table ``name`` (unquoted), its axes
        ``symbolic`` holding named constants of the symbol table, unless the table already holds it (the same
        tuples at the same positions)."""
        table = f"{SCHEMA}.{_quote(name)}"
        if isinstance(value, StoredTuples) and value.stored.database == self.database and value.stored.name == name:
            self._in_place(table, value)
            return
        rows = _rows(value, arity)
        content, positions = input_digests(rows, symbolic, self.symbol_table)
        found = self.connection.execute(f"SELECT digest, positions FROM {SCHEMA}.{DIGESTS} WHERE name = ?",
                                        [name]).fetchall()
        exists = self.connection.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = ?",
            [SCHEMA, name]).fetchall()[0][0]
        if not (found and found[0] == (content, positions) and exists):
            self._load(table, rows, arity)
            self.connection.execute(f"INSERT OR REPLACE INTO {SCHEMA}.{DIGESTS} VALUES (?, ?, ?, ?)",
                                    [name, content, _axes_text(symbolic), positions])
            self.connection.execute(f"DELETE FROM {SCHEMA}.{INPUT_SYMBOLS} WHERE relation = ?", [name])
            used = _used(rows, symbolic)
            names = [self.symbol_table[i] for i in used]
            self.connection.register(SOURCE, {
                "relation": np.asarray([name] * len(used), dtype=object), "id": used.astype(np.int64),
                "name": np.asarray([str(n) for n in names], dtype=object),
                "number": np.asarray([not isinstance(n, str) for n in names], dtype=bool)})
            try:
                self.run(f"INSERT INTO {SCHEMA}.{INPUT_SYMBOLS} SELECT * FROM {_quote(SOURCE)}")
            finally:
                self.connection.unregister(SOURCE)
        self.loaded.add(table)

    def _in_place(self, table: str, value: StoredTuples) -> None:
        """Read stored input ``value`` in place from ``table``: renumber its named constants there to this run's
        positions first when they differ (in SQL, the table and its dictionary in one transaction)."""
        stored = value.stored
        if value.mapping is not None:
            renumbered = value.mapping[stored.ids]
            order = np.argsort(renumbered)
            names = [repr(stored.names[k]) for k in order]
            positions = positions_digest(max(stored.arity, 1), stored.symbolic, renumbered[order], names)
            joins = " ".join(f"JOIN {_quote(SOURCE)} AS m{a} ON t.c{a} = m{a}.id" for a in stored.symbolic)
            picks = ", ".join(f"m{a}.position AS c{a}" if a in stored.symbolic else f"t.c{a} AS c{a}"
                              for a in range(max(stored.arity, 1)))
            self.connection.register(SOURCE, {"id": stored.ids, "position": renumbered})
            try:
                self.run("BEGIN TRANSACTION")
                self.run(f"CREATE OR REPLACE TEMP TABLE {_quote('tlc renumbered')} AS SELECT {picks} "
                         f"FROM {table} AS t {joins}")
                self.run(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {_quote('tlc renumbered')}")
                self.run(f"DROP TABLE {_quote('tlc renumbered')}")
                self.run(f"UPDATE {SCHEMA}.{INPUT_SYMBOLS} AS s SET id = m.position FROM {_quote(SOURCE)} AS m "
                         f"WHERE s.relation = {_string(stored.name)} AND s.id = m.id")
                self.run(f"UPDATE {SCHEMA}.{DIGESTS} SET positions = {_string(positions)} "
                         f"WHERE name = {_string(stored.name)}")
                self.run("COMMIT")
            except RuntimeFailure:
                self.connection.execute("ROLLBACK")
                raise
            finally:
                self.connection.unregister(SOURCE)
            value.mapping = None
        value.session = self
        self.loaded.add(table)

    def symbols(self, symbols) -> None:
        """Write the symbol table to the database file as ``tlc symbols(id, name)`` (before the inputs, whose
        positions it names)."""
        self.symbol_table = tuple(symbols)
        names = np.asarray([str(s) for s in symbols], dtype=object)
        self.connection.register(SOURCE, {"id": np.arange(len(names), dtype=np.int64), "name": names})
        try:
            self.run(f"CREATE OR REPLACE TABLE {SCHEMA}.{SYMBOLS} AS SELECT * FROM {_quote(SOURCE)}")
        finally:
            self.connection.unregister(SOURCE)

    def save(self, relations: dict) -> None:
        """Write each derived relation (``name -> (value, arity)``) to the database file as a table of its name,
        then detach the file."""
        for name, (value, arity) in relations.items():
            table = f"{SCHEMA}.{_quote(name)}"
            if isinstance(value, TableTuples) and value.session is self:
                self.run(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {value.table}")
            else:
                self._load(table, value, arity)
        self.run(f"DETACH {SCHEMA}")
        self.attached = False

    def keys(self, table: str, shape: tuple[int, ...]) -> np.ndarray:
        """The sorted int64 keys (C-order positions over ``shape``) of ``table``'s tuples."""
        if not shape:
            return np.zeros(min(self.count(table), 1), dtype=np.int64)
        strides = [math.prod(shape[a + 1:]) for a in range(len(shape))]
        key = " + ".join(f"CAST(c{a} AS BIGINT) * {s}" for a, s in enumerate(strides))
        try:
            column = self.connection.execute(f"SELECT {key} AS k FROM {table}").fetchnumpy()["k"]
        except self._duckdb.Error as err:
            raise RuntimeFailure(f"DuckDB: {err}") from None
        return np.sort(np.asarray(column, dtype=np.int64))

    def _load(self, table: str, value, arity: int) -> None:
        rows = value if isinstance(value, np.ndarray) and value.ndim == 2 and value.dtype == np.int64 \
            else _rows(value, arity)
        names = [f"c{a}" for a in range(max(arity, 1))]
        self.connection.register(SOURCE, {c: np.ascontiguousarray(rows[:, a]) for a, c in enumerate(names)})
        try:
            self.run(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {_quote(SOURCE)}")
        finally:
            self.connection.unregister(SOURCE)


def _rows(value, arity: int) -> np.ndarray:
    """A relation (``Tuples``, dense Boolean array) as an (n, max(arity, 1)) int64 array of positions."""
    if isinstance(value, Tuples):
        rows = value.rows()
    else:
        rows = np.argwhere(np.asarray(value, dtype=bool))
    rows = rows.astype(np.int64, copy=False)
    if arity == 0:
        return np.zeros((min(len(rows), 1), 1), dtype=np.int64)
    return rows


def _used(rows: np.ndarray, symbolic: tuple) -> np.ndarray:
    """The sorted distinct positions that ``rows`` hold on the axes ``symbolic``."""
    if not symbolic or not len(rows):
        return np.zeros(0, dtype=np.int64)
    return np.unique(rows[:, list(symbolic)])


def _axes_text(symbolic: tuple) -> str:
    """Axes of named constants as stored in ``tlc inputs``: ``"0,2"`` (``""``: none)."""
    return ",".join(str(a) for a in symbolic)


def input_digests(rows: np.ndarray, symbolic: tuple, symbols) -> tuple[str, str]:
    """``(content, positions)``: hashes of an input relation's tuples (as values: named constants by name,
    whatever their positions) and of its positions in this run (with the constants they name)."""
    used = _used(rows, symbolic)
    names = [repr(symbols[i]) for i in used]
    person = str(rows.shape[1]).encode()
    canonical = rows.copy()
    if len(used):
        rank = np.empty(len(used), dtype=np.int64)
        rank[sorted(range(len(used)), key=names.__getitem__)] = np.arange(len(used))
        for a in symbolic:
            canonical[:, a] = rank[np.searchsorted(used, rows[:, a])]
    canonical = canonical[np.lexsort(canonical.T[::-1])] if canonical.size else canonical
    content = hashlib.blake2b(np.ascontiguousarray(canonical).tobytes(), digest_size=20, person=person)
    content.update(repr((tuple(symbolic), sorted(names))).encode())
    return content.hexdigest(), positions_digest(rows.shape[1], symbolic, used, names)


def positions_digest(columns: int, symbolic: tuple, used: np.ndarray, names: list[str]) -> str:
    """A hash of how a stored relation numbers its named constants: the positions ``used`` on its axes
    ``symbolic`` and the ``repr`` of the names they stand for. Two tables of the same content hash with the same
    numbering hold the same positions."""
    digest = hashlib.blake2b(digest_size=20, person=str(columns).encode())
    digest.update(repr((tuple(symbolic), [int(i) for i in used], list(names))).encode())
    return digest.hexdigest()


def stored_digest(database: str, name: str, value, arity: int, symbolic: tuple, symbols) -> tuple[str, str] | None:
    """``(stored, given)``: the content hash of input relation ``name`` stored in ``database`` by an earlier run
    and that of ``value`` (positions over ``symbols``), or None when the file stores no such input (or one whose
    content hash it does not know)."""
    stored = stored_input(database, name)
    if stored is None or stored[1] is None:     # stored by an older tlc: its hash is not of the content
        return None
    return stored[0], input_digests(_rows(value, arity), symbolic, symbols)[0]


def stored_input(database: str, name: str) -> tuple[str, str | None] | None:
    """``(digest, axes)`` of input relation ``name`` stored in ``database`` (None: not stored there; axes None:
    stored without the names of its constants)."""
    if not os.path.isfile(database):
        return None
    with _read_only(database) as connection:
        return _record(connection, name)


def _record(connection, name: str):
    import duckdb
    try:
        found = connection.execute(f"SELECT digest, axes FROM {DIGESTS} WHERE name = ?", [name]).fetchall()
        exists = connection.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = "
                                    "'main'", [name]).fetchall()[0][0]
    except duckdb.Error:       # not a file tlc wrote (an older one keeps no axes): nothing stored
        return None
    return found[0] if found and exists else None


def _read_only(database: str):
    try:
        import duckdb
    except ImportError:
        raise RuntimeFailure("a database file needs duckdb: pip install 'tlc[duckdb]'") from None
    try:
        return duckdb.connect(database, read_only=True)
    except duckdb.Error as err:
        raise RuntimeFailure(f"cannot open the database file {database}: {err}") from None


def stored_table(database: str, name: str, arity: int) -> StoredTable | None:
    """The input relation ``name`` that an earlier run stored in ``database``, described without reading its tuples
    (their count and largest positions from SQL, the names its constants hold from the stored dictionary), or None
    when it stores none that can be read back (no table, or one stored without the names of its constants); a table
    whose columns do not match ``arity`` is a ``RuntimeFailure``."""
    if not os.path.isfile(database):
        return None
    with _read_only(database) as connection:
        record = _record(connection, name)
        if record is None or record[1] is None:
            return None
        found = [row[0] for row in connection.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ? "
            "ORDER BY column_index", [name]).fetchall()]
        if found != columns_of(arity):
            raise RuntimeFailure(f"the table {name} in {database} has columns {', '.join(found)}, not those of "
                                 f"a relation with {arity} argument{'s' if arity != 1 else ''}")
        counted = connection.execute(f"SELECT count(*), {', '.join(f'max({c})' for c in found)} "
                                     f"FROM {_quote(name)}").fetchall()[0]
        dictionary = connection.execute(f"SELECT id, name, number FROM {INPUT_SYMBOLS} WHERE relation = ? "
                                        f"ORDER BY id", [name]).fetchall()
    symbolic = tuple(int(a) for a in record[1].split(",") if a)
    ids = np.asarray([i for i, _, _ in dictionary], dtype=np.int64)
    names = tuple(int(n) if number else n for _, n, number in dictionary)
    maxima = tuple(-1 if m is None else int(m) for m in counted[1:])
    return StoredTable(database, name, arity, int(counted[0]), maxima[:arity], symbolic, ids, names)


def columns_of(arity: int) -> list[str]:
    """The columns of a relation's table: ``c0, c1, ...`` (one for a nullary relation)."""
    return [f"c{a}" for a in range(max(arity, 1))]


class StoredTable:
    """An input relation stored in a database file by an earlier run, known by its size alone: ``count`` tuples,
    the largest position on each axis (-1: none), the axes ``symbolic`` that hold named constants and the names
    ``names`` of the stored positions ``ids`` (sorted). Iterating it reads its tuples (named constants by name)."""

    __slots__ = ("database", "name", "arity", "count", "maxima", "symbolic", "ids", "names")

    def __init__(self, database: str, name: str, arity: int, count: int, maxima: tuple, symbolic: tuple,
                 ids: np.ndarray, names: tuple):
        self.database, self.name, self.arity, self.count = database, name, arity, count
        self.maxima, self.symbolic, self.ids, self.names = maxima, symbolic, ids, names

    def __len__(self) -> int:
        return self.count if self.arity else min(self.count, 1)

    def __iter__(self):
        with _read_only(self.database) as connection:
            found = connection.execute(f"SELECT * FROM {_quote(self.name)}").fetchnumpy()
        if not self.arity:
            return iter([()] * len(self))
        name_of = dict(zip(self.ids.tolist(), self.names))
        columns = [[name_of[i] for i in found[f"c{a}"].tolist()] if a in self.symbolic else found[f"c{a}"].tolist()
                   for a in range(self.arity)]
        return iter(zip(*columns))

    def __repr__(self) -> str:
        return f"StoredTable({self.name!r} in {self.database!r}: {self.count} tuples)"


class StoredTuples(Tuples):
    """A stored input relation (``StoredTable``) as a run's ``Tuples``: positions over ``shape``, each stored
    position ``p`` of a symbolic axis being ``mapping[p]`` in this run (None: the same). Its tuples stay in the file
    until an in-memory stratum asks for its keys; a ``Session`` reads it in place (``Session.input``)."""

    __slots__ = ("stored", "mapping", "session")

    def __init__(self, stored: StoredTable, shape: tuple[int, ...], mapping: np.ndarray | None):
        super().__init__(None, shape)
        self.stored = stored
        self.mapping = mapping
        self.session: Session | None = None
        """The session that has the file attached and the table in this run's positions, while it is attached."""

    @property
    def keys(self) -> np.ndarray:
        """The sorted int64 keys of the true tuples (read from the database file once)."""
        if self._keys is None:
            if self.session is not None and self.session.attached:
                self._keys = self.session.keys(f"{SCHEMA}.{_quote(self.stored.name)}", self.shape)
            else:
                self._keys = self._read()
        return self._keys

    def _read(self) -> np.ndarray:
        with _read_only(self.stored.database) as connection:
            found = connection.execute(f"SELECT * FROM {_quote(self.stored.name)}").fetchnumpy()
        if not self.shape:
            return np.zeros(min(len(found["c0"]), 1), dtype=np.int64)
        rows = [np.asarray(found[f"c{a}"], dtype=np.int64) for a in range(len(self.shape))]
        if self.mapping is not None:
            rows = [self.mapping[r] if a in self.stored.symbolic else r for a, r in enumerate(rows)]
        return Tuples.from_rows(np.stack(rows, axis=1), self.shape).keys

    def __len__(self) -> int:
        return len(self._keys) if self._keys is not None else len(self.stored)


def _string(text: str) -> str:
    """An SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


class TableTuples(Tuples):
    """A relation held by a table of a ``Session``: its size is counted there, its keys read on first use."""

    __slots__ = ("session", "table", "_count")

    def __init__(self, session: Session, table: str, shape: tuple[int, ...]):
        super().__init__(None, shape)
        self.session = session
        self.table = table
        self._count = None

    @property
    def keys(self) -> np.ndarray:
        """The sorted int64 keys of the true tuples (read from the table once)."""
        if self._keys is None:
            self._keys = self.session.keys(self.table, self.shape)
        return self._keys

    def __len__(self) -> int:
        if self._keys is not None:
            return len(self._keys)
        if self._count is None:
            self._count = self.session.count(self.table) if self.shape else min(self.session.count(self.table), 1)
        return self._count
