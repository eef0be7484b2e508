"""SQL for a relational stratum planned for DuckDB (``tlc.analysis.relation_plan``, strategy ``duckdb``).

A relation of arity n is a table ``(c0 BIGINT, ..., c{n-1} BIGINT)`` of distinct tuples of positions
(named constants dictionary-encoded by the program's symbol table; a nullary relation has one column ``c0``
holding 0 when it is true). A rule is one ``SELECT DISTINCT`` over its atoms joined on shared variables,
with constants as filters and each negated atom a ``NOT EXISTS`` anti-join. A non-recursive stratum is a
``CREATE TABLE ... AS`` of the ``UNION`` of its rules; a linear recursive one (one relation, each rule reading
it once) is one ``WITH RECURSIVE ... UNION``, which DuckDB evaluates semi-naively; mutual or non-linear
recursion (or a bound on the rounds) is a semi-naive loop over temporary tables that the emitted code drives.

Table names are the relations' names (quoted by ``quoting.sql_identifier``); DuckDB matches names without
regard to case, so a relation whose name differs from an earlier one's only in case gets ``#2``, ``#3``...
Tables of tlc's own contain a space (``tlc new P``), which no relation name does.
"""

from __future__ import annotations

from dataclasses import dataclass

from tlc.analysis.relation_plan import Rule, linear, rule_of
from tlc.analysis.strata import Mode, Stratum
from tlc.backends.shared.arrays import constant_position
from tlc.backends.shared.quoting import sql_identifier
from tlc.ir import nodes as ir
from tlc.ir.program import Program

INPUT_SCHEMA = "tlcdb"
"""The schema a database file is attached as: input relations are read from it, results written to it."""
RECURSIVE = sql_identifier("tlc recursive")
"""The name of the recursive common table expression."""


def table_names(program: Program) -> dict[str, str]:
    """Every relation's table name (unquoted): its own, or ``name#k`` where it differs only in case from an
    earlier relation's (DuckDB's names are case-insensitive)."""
    names, taken = {}, {}
    for name, info in program.tensors.items():
        if info.relation:
            key = name.lower()
            taken[key] = taken.get(key, 0) + 1
            names[name] = name if taken[key] == 1 else f"{name}#{taken[key]}"
    return names


def columns(arity: int) -> list[str]:
    """The column names of a relation of ``arity`` (a nullary relation has one column)."""
    return [f"c{a}" for a in range(max(arity, 1))]


@dataclass(frozen=True)
class SqlStratum:
    """The statements of one stratum: ``setup`` runs once; when ``news`` is not empty, each round runs
    ``derive``, stops when every table of ``news`` is empty, then runs ``merge``; ``finish`` runs last."""

    tensors: tuple[str, ...]
    setup: tuple[str, ...]
    derive: tuple[str, ...] = ()
    news: tuple[str, ...] = ()
    merge: tuple[str, ...] = ()
    finish: tuple[str, ...] = ()
    note: str = ""
    """How the stratum runs, in words (for comments)."""


class StratumSql:
    """Builds the SQL of one relational stratum of a planned program."""

    def __init__(self, program: Program, extents: dict, symbols: tuple, symbolic: frozenset,
                 supplied, database: bool, loop: bool = False):
        self.program = program
        self.extents = extents
        self.symbols = symbols
        self.symbolic = symbolic
        self.supplied = supplied
        self.names = table_names(program)
        self.database = database
        self.loop = loop
        """Evaluate linear recursion as a loop too (a bound on the rounds needs the loop's count)."""

    # ------------------------------------------------------------ names
    def table(self, name: str) -> str:
        """The quoted table of relation ``name`` (an input relation lives in the attached database file)."""
        quoted = sql_identifier(self.names[name])
        if self.database and not self.program.tensors[name].defined:
            return f"{INPUT_SCHEMA}.{quoted}"
        return quoted

    def own(self, kind: str, name: str) -> str:
        """A table of tlc's own for relation ``name``: ``tlc new P``, ``tlc delta P``, ``tlc input P``."""
        return sql_identifier(f"tlc {kind} {self.names[name]}")

    # ------------------------------------------------------------ rules
    def select(self, rule: Rule, source: dict[int, str] | None = None) -> str:
        """``SELECT DISTINCT`` of one rule's head tuples; ``source`` reads some atoms (by position) from other
        tables (a semi-naive delta, the recursive table)."""
        source = source or {}
        bound: dict[str, str] = {}
        extent_of: dict[str, int] = {}
        tables, where = [], []
        for n, atom in enumerate(rule.atoms):
            alias = f"t{n}"
            tables.append(f"{source.get(n, self.table(atom.name))} AS {alias}")
            for a, index in enumerate(atom.indices):
                column = f"{alias}.c{a}"
                variable = index.plain_variable
                if variable is None:
                    where.append(f"{column} = {self.position(atom, a, index)}")
                elif variable in bound:
                    where.append(f"{column} = {bound[variable]}")
                else:
                    bound[variable] = column
                    extent_of[variable] = self.extents[atom.name][a]
        for n, atom in enumerate(rule.negated):
            alias, inside, local = f"n{n}", [], {}
            for a, index in enumerate(atom.indices):
                column = f"{alias}.c{a}"
                variable = index.plain_variable
                if variable is None:
                    inside.append(f"{column} = {self.position(atom, a, index)}")
                elif variable in bound or variable in local:
                    inside.append(f"{column} = {bound.get(variable) or local[variable]}")
                else:
                    local[variable] = column
            condition = " AND ".join(inside) or "TRUE"
            where.append(f"NOT EXISTS (SELECT 1 FROM {self.table(atom.name)} AS {alias} WHERE {condition})")
        head, shape = [], self.extents[rule.head.name]
        for a, index in enumerate(rule.head.indices):
            variable = index.plain_variable
            if variable is None:
                head.append(f"CAST({self.position(rule.head, a, index)} AS BIGINT) AS c{a}")
                continue
            head.append(f"{bound[variable]} AS c{a}")
            if extent_of[variable] > shape[a]:    # positions past the head's extent hold no tuple
                where.append(f"{bound[variable]} < {int(shape[a])}")
        if not rule.head.indices:
            head.append("CAST(0 AS BIGINT) AS c0")
        text = f"SELECT DISTINCT {', '.join(head)}"
        if tables:
            text += f" FROM {', '.join(tables)}"
        if where:
            text += f" WHERE {' AND '.join(where)}"
        return text

    def position(self, ref: ir.Ref, axis: int, index: ir.Index) -> int:
        """A constant argument's position (an integer: safe in SQL text)."""
        return int(constant_position(self.symbols, self.symbolic, ref.name, axis, index))

    def facts(self, name: str, rules: list[Rule]) -> str:
        """All of ``name``'s facts as one ``VALUES`` list."""
        cols = columns(len(self.extents[name]))
        rows = [", ".join(str(self.position(r.head, a, i)) for a, i in enumerate(r.head.indices)) or "0"
                for r in rules]
        cast = ", ".join(f"CAST({c} AS BIGINT) AS {c}" for c in cols)
        return f"SELECT DISTINCT {cast} FROM (VALUES {', '.join(f'({row})' for row in rows)}) AS v({', '.join(cols)})"

    def parts(self, name: str, equations: list[int], source=None) -> list[str]:
        """The SELECTs whose union defines ``name`` by ``equations`` (facts batched into one)."""
        rules = [rule_of(self.program.equations[k], self.program) for k in equations
                 if self.program.equations[k].lhs.name == name]
        facts = [r for r in rules if not r.atoms]
        selects = [self.facts(name, facts)] if facts else []
        for rule in rules:
            if rule.atoms:
                selects.extend(self.select(rule, s) for s in (source(rule) if source else [None]))
        return selects

    def empty(self, name: str) -> str:
        """A SELECT of no tuples with ``name``'s columns."""
        return f"SELECT {', '.join(f'CAST(NULL AS BIGINT) AS {c}' for c in columns(len(self.extents[name])))} " \
               f"WHERE FALSE"

    # ------------------------------------------------------------ strata
    def stratum(self, stratum: Stratum) -> SqlStratum:
        """The statements of ``stratum``."""
        members = set(stratum.tensors)
        base = [k for k in stratum.equations
                if not any(r.name in members for r in ir.refs(self.program.equations[k].rhs))]
        recursive = [k for k in stratum.equations if k not in base]
        setup = []
        initial = {}
        for t in stratum.tensors:
            parts = self.parts(t, base)
            if t in self.supplied:
                parts.insert(0, f"SELECT * FROM {self.own('input', t)}")
            initial[t] = parts
        if not recursive:
            setup = [f"CREATE OR REPLACE TABLE {self.table(t)} AS {self.union(initial[t], t)}" for t in stratum.tensors]
            return SqlStratum(tuple(stratum.tensors), tuple(setup), note="non-recursive rules: one SELECT ... UNION")
        if stratum.mode is Mode.SEMINAIVE and linear(self.program, stratum) and not self.loop:
            return self.recursive_cte(stratum, initial, recursive)
        return self.seminaive(stratum, initial, recursive)

    def union(self, parts: list[str], name: str) -> str:
        return "\nUNION\n".join(parts) if parts else self.empty(name)

    def recursive_cte(self, stratum: Stratum, initial: dict, recursive: list[int]) -> SqlStratum:
        (t,) = stratum.tensors

        def at_recursive(rule):
            return [{n: RECURSIVE for n, atom in enumerate(rule.atoms) if atom.name == t}]
        steps = self.parts(t, recursive, at_recursive)
        cols = ", ".join(columns(len(self.extents[t])))
        text = (f"CREATE OR REPLACE TABLE {self.table(t)} AS\nWITH RECURSIVE {RECURSIVE}({cols}) AS (\n"
                f"SELECT * FROM ({self.union(initial[t], t)})\nUNION\n"
                f"SELECT * FROM ({' UNION ALL '.join(steps)})\n) SELECT * FROM {RECURSIVE}")
        return SqlStratum((t,), (text,), note="linear recursion: one WITH RECURSIVE ... UNION (semi-naive in DuckDB)")

    def seminaive(self, stratum: Stratum, initial: dict, recursive: list[int]) -> SqlStratum:
        members = stratum.tensors
        setup = [f"CREATE OR REPLACE TABLE {self.table(t)} AS {self.union(initial[t], t)}" for t in members]
        setup += [f"CREATE OR REPLACE TEMP TABLE {self.own('delta', t)} AS SELECT * FROM {self.table(t)}"
                  for t in members]

        def with_delta(rule):   # one variant per recursive atom, reading it from the last round's delta
            return [{n: self.own("delta", atom.name)} for n, atom in enumerate(rule.atoms) if atom.name in members]
        derive = []
        for t in members:
            parts = self.parts(t, recursive, with_delta)
            body = f"SELECT * FROM ({' UNION ALL '.join(parts)})" if parts else self.empty(t)
            derive.append(f"CREATE OR REPLACE TEMP TABLE {self.own('new', t)} AS\n{body}\n"
                          f"EXCEPT SELECT * FROM {self.table(t)}")
        merge = [f"INSERT INTO {self.table(t)} SELECT * FROM {self.own('new', t)}" for t in members]
        merge += [f"CREATE OR REPLACE TEMP TABLE {self.own('delta', t)} AS SELECT * FROM {self.own('new', t)}"
                  for t in members]
        finish = [f"DROP TABLE IF EXISTS {self.own(kind, t)}" for t in members for kind in ("new", "delta")]
        return SqlStratum(tuple(members), tuple(setup), tuple(derive), tuple(self.own("new", t) for t in members),
                          tuple(merge), tuple(finish),
                          note="semi-naive loop over temporary tables: each round joins one recursive atom with the "
                               "last round's new tuples")
