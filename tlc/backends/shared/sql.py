"""SQL for a relational stratum planned for DuckDB (``tlc.analysis.relation_plan``, strategy ``duckdb``).

A relation of arity n is a table ``(c0 BIGINT, ..., c{n-1} BIGINT)`` of distinct tuples of positions
(named constants dictionary-encoded by the program's symbol table; a nullary relation has one column ``c0``
holding 0 when it is true). A rule is one ``SELECT DISTINCT`` over its atoms joined on shared variables,
with constants as filters and each negated atom a ``NOT EXISTS`` anti-join. A non-recursive stratum is a
``CREATE TABLE ... AS`` of the ``UNION`` of its rules; a linear recursive one (one relation, each rule reading
it once) is one ``WITH RECURSIVE ... UNION``, which DuckDB evaluates semi-naively; mutual or non-linear
recursion (or a bound on the rounds) is a semi-naive loop over temporary tables that the emitted code drives.
A ``min=``/``max=`` fixpoint of one numeric tensor (``relation_plan.fold_of``: shortest and widest paths) is a
table ``(c0, ..., v DOUBLE)`` of the elements not equal to the fold's identity (+inf for min, -inf for max),
folded by grouped ``min(v)``/``max(v)`` in one ``WITH RECURSIVE ... USING KEY`` (DuckDB 1.3) that keeps each
round's improved elements (measured faster than a loop over temporary tables on chains, grids and random
graphs); a sum fixpoint (path counting) is a semi-naive loop adding each round's contributions, and a
non-recursive sum over relations is one grouped ``sum(v)`` (a relation's tuple counting 1).

Table names are the relations' names (``tlc.analysis.tables``, quoted by ``quoting.sql_identifier``); DuckDB
matches names without regard to case, so a relation whose name equals an earlier one's under Unicode case folding
gets ``#2``, ``#3``...
Tables of tlc's own contain a space (``tlc new P``), which no relation name does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tlc.analysis.relation_plan import Rule, fold_of, linear, rule_of, sum_terms
from tlc.analysis.strata import Mode, Stratum, round_bound
from tlc.analysis.tables import table_names
from tlc.backends.shared.arrays import constant_position
from tlc.backends.shared.quoting import sql_identifier
from tlc.ir import nodes as ir
from tlc.ir.program import Program

INPUT_SCHEMA = "tlcdb"
"""The schema a database file is attached as: input relations are read from it, results written to it."""
RECURSIVE = sql_identifier("tlc recursive")
"""The name of the recursive common table expression."""
FOLD_SQL = {"max": "greatest", "min": "least"}
"""The SQL of the functions a ``min=``/``max=`` fold's terms may combine by."""


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
    check: str = ""
    """A query finding rows of a fixpoint that still changed in its last allowed round (after ``setup``): any
    row is the located error of a fixpoint that does not converge."""


class StratumSql:
    """Builds the SQL of one relational stratum of a planned program."""

    def __init__(self, program: Program, extents: dict, symbols: tuple, symbolic: frozenset,
                 supplied, database: bool, loop: bool = False, max_rounds: int | None = None, ranges=None):
        self.program = program
        self.extents = extents
        self.symbols = symbols
        self.symbolic = symbolic
        self.supplied = supplied
        self.names = table_names(program)
        self.database = database
        self.loop = loop
        """Evaluate linear recursion as a loop too (a bound on the rounds needs the loop's count)."""
        self.max_rounds = max_rounds
        """The bound on a fixpoint's rounds that ``max_rounds=`` sets (None: ``round_bound``'s own)."""
        self.ranges = ranges or {}
        """Each equation's index ranges (``Shapes.ranges``): an average divides by its reduced ones'."""

    # ------------------------------------------------------------ names
    def table(self, name: str) -> str:
        """The quoted table of relation ``name`` (an input relation lives in the attached database file)."""
        quoted = sql_identifier(self.names[name])
        info = self.program.tensors[name]
        if self.database and info.relation and not info.defined:
            return f"{INPUT_SCHEMA}.{quoted}"
        return quoted

    def own(self, kind: str, name: str) -> str:
        """A table of tlc's own for relation ``name``: ``tlc new P``, ``tlc delta P``, ``tlc input P``."""
        return sql_identifier(f"tlc {kind} {self.names[name]}")

    # ------------------------------------------------------------ rules
    def joins(self, atoms, source: dict[int, str]):
        """The FROM items and WHERE conditions joining ``atoms`` (aliases ``t0``, ``t1``...), the column
        binding each variable first and that column's extent; ``source`` reads some atoms from other tables."""
        bound: dict[str, str] = {}
        extent_of: dict[str, int] = {}
        tables, where = [], []
        for n, atom in enumerate(atoms):
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
        return tables, where, bound, extent_of

    def head(self, ref: ir.Ref, bound: dict, extent_of: dict, where: list) -> list[str]:
        """The head's columns ``c0, c1...``; a variable ranging past the head's extent is cut to it (positions
        past an extent hold nothing)."""
        head, shape = [], self.extents[ref.name]
        for a, index in enumerate(ref.indices):
            variable = index.plain_variable
            if variable is None:
                head.append(f"CAST({self.position(ref, a, index)} AS BIGINT) AS c{a}")
                continue
            head.append(f"{bound[variable]} AS c{a}")
            if extent_of[variable] > shape[a]:
                where.append(f"{bound[variable]} < {int(shape[a])}")
        return head or ["CAST(0 AS BIGINT) AS c0"]

    def select(self, rule: Rule, source: dict[int, str] | None = None) -> str:
        """``SELECT DISTINCT`` of one rule's head tuples; ``source`` reads some atoms (by position) from other
        tables (a semi-naive delta, the recursive table)."""
        tables, where, bound, extent_of = self.joins(rule.atoms, source or {})
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
        head = self.head(rule.head, bound, extent_of, where)
        text = f"SELECT DISTINCT {', '.join(head)}"
        if tables:
            text += f" FROM {', '.join(tables)}"
        if where:
            text += f" WHERE {' AND '.join(where)}"
        return text

    def fold_select(self, lhs: ir.Ref, term, fold: str, delta: int | None = None, rounds: int | None = None) -> str:
        """One equation's (or, for a sum, one product term's) contributions grouped by its left-hand side:
        ``min(t0.v + t1.v)``, ``sum(t0.v * t1.v)`` (the read at position ``delta`` from the last round's delta).
        With ``rounds``, the select is the step of a ``USING KEY`` recursive CTE: the read at ``delta`` is the
        CTE's last round (rows before round ``rounds`` alone), the tensor's other reads its whole table
        (``recurring``), and each contribution carries its round ``r``."""
        atoms: list[ir.Ref] = []

        def value(expr) -> str:
            if isinstance(expr, ir.Ref):
                atoms.append(expr)
                return "CAST(1.0 AS DOUBLE)" if expr.relation else f"t{len(atoms) - 1}.v"
            if isinstance(expr, ir.Num):
                return f"CAST({float(expr.value)!r} AS DOUBLE)"
            if isinstance(expr, ir.Sum):
                return "(" + " + ".join(value(t) for t in expr.terms) + ")"
            if isinstance(expr, ir.Product):
                return "(" + " * ".join(value(f) for f in expr.factors) + ")"
            return f"{FOLD_SQL[expr.function]}({', '.join(value(a) for a in expr.args)})"
        combined = value(term)
        if delta is None:
            source = {}
        elif rounds is None:
            source = {delta: self.own("delta", atoms[delta].name)}
        else:
            source = {n: RECURSIVE if n == delta else f"recurring.{RECURSIVE}" for n, atom in enumerate(atoms)
                      if atom.name == atoms[delta].name}
        tables, where, bound, extent_of = self.joins(atoms, source)
        head = self.head(lhs, bound, extent_of, where)
        step = ""
        if rounds is not None:
            step = f", max(t{delta}.r) + 1 AS r"
            where.append(f"t{delta}.r < {int(rounds)}")
        text = f"SELECT {', '.join(head)}, {fold}({combined}) AS v{step} FROM {', '.join(tables)}"
        if where:
            text += f" WHERE {' AND '.join(where)}"
        return text + " GROUP BY ALL"

    def fold(self, stratum: Stratum, fold: str) -> SqlStratum:
        """A stratum that ``relation_plan.fold_of`` accepts: a non-recursive sum is one grouped ``sum(v)``; a
        ``min``/``max`` fixpoint is ``keyed_fold``; a sum fixpoint is a semi-naive loop, each round folding the
        equations over the last round's delta and adding what it derives (each product reads the tensor once,
        so the sum of the rounds' deltas is the fixpoint)."""
        if fold == "avg":       # non-recursive (fold_of)
            return self.average(stratum)
        (t,) = stratum.tensors
        table, new, delta = self.table(t), self.own("new", t), self.own("delta", t)
        keys = columns(len(self.extents[t]))
        base, variants = [], []
        for k in stratum.equations:
            eq = self.program.equations[k]
            for term in (sum_terms(eq.rhs) if fold == "sum" else [eq.rhs]):
                reads = [n for n, r in enumerate(ir.refs(term)) if r.name == t]
                if reads:
                    variants.extend(self.fold_select(eq.lhs, term, fold, n) for n in reads)
                else:
                    base.append(self.fold_select(eq.lhs, term, fold))

        if t in self.supplied:      # its data is one more contribution
            base.insert(0, f"SELECT * FROM {self.own('input', t)}")

        def grouped(parts: list[str]) -> str:
            if not parts:
                return f"SELECT {', '.join(f'CAST(NULL AS BIGINT) AS {c}' for c in keys)}, " \
                       f"CAST(NULL AS DOUBLE) AS v WHERE FALSE"
            return f"SELECT {', '.join(keys)}, {fold}(v) AS v FROM ({' UNION ALL '.join(parts)}) GROUP BY ALL"
        if stratum.mode is Mode.PLAIN:
            return SqlStratum((t,), (f"CREATE OR REPLACE TABLE {table} AS {grouped(base)}",),
                              note="a join with tensor semantics: grouped sum(v), relations read as 1")
        if fold != "sum":
            return self.keyed_fold(stratum, fold, grouped(base))
        setup = (f"CREATE OR REPLACE TABLE {table} AS {grouped(base)}",
                 f"CREATE OR REPLACE TEMP TABLE {delta} AS SELECT * FROM {table}")
        derive = (f"CREATE OR REPLACE TEMP TABLE {new} AS SELECT * FROM ({grouped(variants)}) WHERE v <> 0",)
        merge = (f"CREATE OR REPLACE TEMP TABLE {delta} AS SELECT * FROM {new}",
                 f"CREATE OR REPLACE TABLE {table} AS SELECT {', '.join(keys)}, sum(v) AS v FROM "
                 f"(SELECT * FROM {table} UNION ALL SELECT * FROM {new}) GROUP BY ALL")
        finish = (f"DROP TABLE IF EXISTS {new}", f"DROP TABLE IF EXISTS {delta}")
        return SqlStratum((t,), setup, derive, (new,), merge, finish,
                          note="sum fixpoint: grouped sum(v), a semi-naive loop adding each round's new contributions")

    def average(self, stratum: Stratum) -> SqlStratum:
        """An ``avg=`` stratum (any number of equations, each a sum of products): per element, the sum of every
        term's contributions over the number of elements averaged there, as the NumPy backend counts them (each
        equation counts the product of its reduced variables' ranges over its left-hand side's ranges, supplied data
        one). A term that leaves out a reduced variable repeats for each of its values: its sum is scaled by them."""
        (t,) = stratum.tensors
        keys = columns(len(self.extents[t]))
        parts, counts = [], []
        if t in self.supplied:
            parts.append(f"SELECT * FROM {self.own('input', t)}")
            counts.append((tuple((0, int(n)) for n in self.supplied[t]), 1))
        for k in stratum.equations:
            eq, ranges = self.program.equations[k], self.ranges[k]
            kept = [i.plain_variable for i in eq.lhs.indices]
            reduced = {v: max(hi - lo, 0) for v, (lo, hi) in ranges.items() if v not in kept}
            counts.append((tuple(ranges[v] for v in kept), math.prod(reduced.values())))
            for term in sum_terms(eq.rhs):
                bound = {i.plain_variable for ref in ir.refs(term) for i in ref.indices}
                times = math.prod(n for v, n in reduced.items() if v not in bound)
                select = self.fold_select(eq.lhs, term, "sum")
                parts.append(select if times == 1 else
                             f"SELECT {', '.join(keys)}, v * {times} AS v FROM ({select})")
        counts = [(region, n) for region, n in counts if n and all(hi > lo for lo, hi in region)]
        whole = all(region == tuple((0, int(e)) for e in self.extents[t]) for region, _ in counts)
        if whole:
            divisor = str(max(sum(n for _, n in counts), 1))
        else:       # the count differs between elements: each equation counts over its own region
            inside = [" AND ".join(f"{c} >= {lo} AND {c} < {hi}" for c, (lo, hi) in zip(keys, region)) or "TRUE"
                      for region, _ in counts]
            divisor = "(" + " + ".join(f"CASE WHEN {where} THEN {n} ELSE 0 END"
                                       for where, (_, n) in zip(inside, counts)) + ")"
        text = (f"CREATE OR REPLACE TABLE {self.table(t)} AS SELECT {', '.join(keys)}, sum(v) / {divisor} AS v "
                f"FROM ({' UNION ALL '.join(parts)}) GROUP BY {', '.join(keys)}")
        what = f"the {divisor} elements averaged" if whole else "the elements averaged at each element"
        return SqlStratum((t,), (text,), note=f"an average with tensor semantics: grouped sum(v) over {what}, "
                                              f"relations read as 1")

    def keyed_fold(self, stratum: Stratum, fold: str, base: str) -> SqlStratum:
        """A ``min=``/``max=`` fixpoint as one ``WITH RECURSIVE ... USING KEY`` (DuckDB 1.3): the CTE is keyed by
        the element, each round folds the equations over the last round's rows and keeps the elements it improves
        (a row of the same key replaces the old one), each row carrying the round ``r`` that last improved it;
        rows of round ``rounds`` (the stratum's bound, ``round_bound``) are not extended, and any such row means
        the fixpoint still improves there: ``check`` finds them."""
        (t,) = stratum.tensors
        table = self.table(t)
        keys = columns(len(self.extents[t]))
        rounds = round_bound(self.program, stratum, self.extents, self.max_rounds).rounds
        variants = []
        for k in stratum.equations:
            eq = self.program.equations[k]
            reads = [n for n, r in enumerate(ir.refs(eq.rhs)) if r.name == t]
            variants.extend(self.fold_select(eq.lhs, eq.rhs, fold, n, rounds) for n in reads)
        at_least = "<=" if fold == "min" else ">="
        same = " AND ".join(f"o.{c} = n.{c}" for c in keys)
        step = (f"SELECT {', '.join(keys)}, {fold}(v) AS v, max(r) AS r FROM ({' UNION ALL '.join(variants)}) "
                f"GROUP BY ALL")
        statement = (f"CREATE OR REPLACE TABLE {table} AS WITH RECURSIVE {RECURSIVE}({', '.join(keys)}, v, r) "
                     f"USING KEY ({', '.join(keys)}) AS (\n"
                     f"SELECT *, CAST(0 AS BIGINT) AS r FROM ({base})\nUNION\n"
                     f"SELECT n.* FROM ({step}) AS n\n"
                     f"WHERE NOT EXISTS (SELECT 1 FROM recurring.{RECURSIVE} AS o WHERE {same} AND o.v {at_least} n.v))\n"
                     f"SELECT * FROM {RECURSIVE}")
        return SqlStratum((t,), (statement,), finish=(f"ALTER TABLE {table} DROP COLUMN r",),
                          check=f"SELECT 1 FROM {table} WHERE r >= {rounds}",
                          note=f"{fold}= fold: one WITH RECURSIVE ... USING KEY, grouped {fold}(v) keeping the improved "
                               f"elements")

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
        fold = fold_of(self.program, stratum)
        if fold is not None:
            return self.fold(stratum, fold)
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
