"""Emit the Python that runs relational strata inside DuckDB (``tlc_runtime.duckdb_relations``).

The SQL comes from ``tlc.backends.shared.sql``; this module places it in the emitted ``run``: a session opened
when the run starts (with the database file attached when there is one), each stratum's statements, the loop
of a semi-naive stratum (its round count checked by ``rt.round_limit``), and at the end the derived relations
written to the database file.
"""

from __future__ import annotations

from tlc.analysis.relation_plan import StratumPlan, fold_of
from tlc.analysis.strata import Stratum, round_bound
from tlc.backends.shared.arrays import tuple_code
from tlc.backends.shared.quoting import comment, identifier, internal, literal, sql_comment
from tlc.backends.shared.sql import SqlStratum, StratumSql
from tlc.driver.planned import PlannedProgram
from tlc.ir import nodes as ir

SESSION = internal("db")
"""The emitted run's ``rdb.Session``."""
IMPORT = "import tlc_runtime.duckdb_relations as rdb"


def uses_duckdb(planned: PlannedProgram) -> bool:
    """True when the emitted run opens a DuckDB session: some stratum runs there or results go to a file."""
    return planned.database is not None or any(p.strategy == "duckdb" for p in planned.relations.strata)


def builder(planned: PlannedProgram, loop: bool = False) -> StratumSql:
    """The SQL builder for ``planned``'s strata."""
    return StratumSql(planned.program, planned.shapes.extents, planned.symbols, planned.symbolic, planned.supplied,
                      planned.database is not None, loop, planned.max_rounds, planned.shapes.ranges)


def open_session(planned: PlannedProgram) -> list[str]:
    """Lines opening the session and storing the inputs in the database file (if any)."""
    memory = planned.budget.elements * 8 if planned.budget.elements is not None else None
    lines = [f"{SESSION} = rdb.Session({literal(planned.database)}, {literal(memory)})"]
    if planned.database is not None:
        lines.append(f"{SESSION}.symbols(SYMBOLS)")
        names = builder(planned).names
        for name, info in planned.program.tensors.items():
            if info.relation and not info.defined and name in planned.shapes.extents:
                symbolic = tuple(a for a in range(info.rank) if (name, a) in planned.symbolic)
                lines.append(f"{SESSION}.input({literal(names[name])}, {identifier(name)}, {info.rank}, "
                             f"{literal(symbolic)})")
    return lines


def close_session(planned: PlannedProgram) -> list[str]:
    """Lines writing every derived relation to the database file (if any)."""
    if planned.database is None:
        return []
    names = builder(planned).names
    saved = ", ".join(f"{literal(names[n])}: ({identifier(n)}, {i.rank})" for n, i in planned.program.tensors.items()
                      if i.relation and i.defined and n in planned.shapes.extents)
    return [f"{SESSION}.save({{{saved}}})  # every derived relation, as a table of its name"]


def emit_duckdb(emitter, stratum: Stratum, plan: StratumPlan, storage: dict[str, str]) -> None:
    """Append the code of one stratum planned for DuckDB to ``emitter.lines`` (a ``ScheduleEmitter``)."""
    planned, lines = emitter.planned, emitter.lines
    sql = builder(planned, loop=planned.max_rounds is not None)
    code = sql.stratum(stratum)
    lines.append(comment(plan.describe()))
    lines.append(comment(code.note))
    members = set(stratum.tensors)
    reads = dict.fromkeys(r.name for k in stratum.equations for r in ir.refs(planned.program.equations[k].rhs)
                          if r.name not in members)
    fold = fold_of(planned.program, stratum)
    if fold is not None:
        return _fold(emitter, stratum, code, fold, reads, sql)
    for name in reads:
        rank = planned.program.tensors[name].rank
        lines.append(f"{SESSION}.provide({literal(sql.table(name))}, {identifier(name)}, {rank})")
    for name in stratum.tensors:
        if name in planned.supplied:
            rank = planned.program.tensors[name].rank
            lines.append(f"{SESSION}.provide({literal(sql.own('input', name))}, inputs[{literal(name)}], {rank})")
    _statements(lines, code.setup, 0)
    if code.news:
        _loop(emitter, stratum, code)
    _statements(lines, code.finish, 0)
    for name in stratum.tensors:
        shape = tuple(planned.shapes.extents[name])
        lines.append(f"{identifier(name)} = {SESSION}.relation({literal(sql.table(name))}, {shape})")
        if storage.get(name, "dense") == "dense":
            lines.append(f"{identifier(name)} = rs.store({identifier(name)}, {shape}, 'dense')")


def _fold(emitter, stratum: Stratum, code: SqlStratum, fold: str, reads, sql: StratumSql) -> None:
    """A fold (``relation_plan.fold_of``): numeric inputs as tables of their non-identity elements, relations as
    they are, the loop (of a fixpoint) bounded as in memory (``round_bound``), the result dense again (the identity
    where supplied data or the equations without a recursive read range, 0 where nothing reached)."""
    planned, lines = emitter.planned, emitter.lines
    identity = {"min": "np.inf", "max": "-np.inf", "sum": "0.0", "avg": "0.0"}[fold]
    for name in reads:
        info = planned.program.tensors[name]
        if info.relation:
            lines.append(f"{SESSION}.provide({literal(sql.table(name))}, {identifier(name)}, {info.rank})")
        else:
            lines.append(f"{SESSION}.values({literal(sql.table(name))}, {identifier(name)}, {identity})")
    (tensor,) = stratum.tensors
    if tensor in planned.supplied:
        lines.append(f"{SESSION}.values({literal(sql.own('input', tensor))}, inputs[{literal(tensor)}], {identity})")
    _statements(lines, code.setup, 0)
    regions = [tuple((0, n) for n in planned.supplied[tensor])] if tensor in planned.supplied else []
    if code.news:
        _fold_loop(emitter, stratum, code, fold)
    if code.check:
        lines.append(f"if {SESSION}.count({literal('(' + code.check + ')')}):")
        lines.append(f"    {_not_converged(emitter, stratum, fold)}")
    _statements(lines, code.finish, 0)
    for k in stratum.equations:
        eq = planned.program.equations[k]
        ranges = planned.shapes.ranges.get(k, {})
        if any(r.name == tensor for r in ir.refs(eq.rhs)) or any(hi <= lo for lo, hi in ranges.values()):
            continue
        regions.append(tuple(ranges[i.plain_variable] for i in eq.lhs.indices))
    shape = tuple(planned.shapes.extents[tensor])
    lines.append(f"{identifier(tensor)} = {SESSION}.dense({literal(sql.table(tensor))}, {shape}, "
                 f"{literal(regions)}, {identity})  # the identity where reached by no improvement, 0 where unreached")


def _fold_loop(emitter, stratum: Stratum, code: SqlStratum, fold: str) -> None:
    """The rounds of a fold's semi-naive loop, bounded as the in-memory fixpoint is."""
    planned, lines = emitter.planned, emitter.lines
    bound = round_bound(planned.program, stratum, planned.shapes.extents, planned.max_rounds)
    counter = internal("round")
    lines.append(f"{counter} = 0")
    lines.append(f"while True:  # rounds until no element improves ({bound.rounds} at most: {bound.why})"
                 .replace("\n", " "))
    lines.append(f"    {counter} += 1")
    _statements(lines, code.derive, 1)
    lines.append(f"    if not {SESSION}.count({literal(code.news[0])}):")
    lines.append("        break")
    lines.append(f"    if {counter} >= {bound.rounds}:")
    lines.append(f"        {_not_converged(emitter, stratum, fold)}")
    _statements(lines, code.merge, 1)


def _not_converged(emitter, stratum: Stratum, fold: str) -> str:
    """The statement raising the located error of a fold's fixpoint still changing after its bound of rounds."""
    planned = emitter.planned
    (tensor,) = stratum.tensors
    bound = round_bound(planned.program, stratum, planned.shapes.extents, planned.max_rounds)
    line, column = emitter.recursive_sites(stratum)[0]
    limit = (f"after {bound.rounds} rounds, which prove a cycle that keeps improving it" if bound.proof else
             f"after {bound.rounds} rounds: the limit is max_rounds={planned.max_rounds}"
             if planned.max_rounds is not None else f"after {bound.rounds} rounds (max_rounds= changes the limit)")
    verb = "still changes" if fold == "sum" else "still improves"
    return f"raise rt.RuntimeFailure({literal(f'{tensor} {verb} ' + limit)}, {line}, {column})"


def _statements(lines: list[str], statements, indent: int) -> None:
    lines.extend(f"{'    ' * indent}{SESSION}.run({literal(s)})" for s in statements)


def _loop(emitter, stratum: Stratum, code: SqlStratum) -> None:
    lines, limit, counter = emitter.lines, emitter.max_rounds, internal("round")
    if limit is not None:
        lines.append(f"{counter} = 0")
    lines.append("while True:  # semi-naive rounds until no rule derives a new tuple")
    if limit is not None:
        lines.append(f"    {counter} += 1")
    _statements(lines, code.derive, 1)
    test = " or ".join(f"{SESSION}.count({literal(t)})" for t in code.news)
    lines.append(f"    if not ({test}):")
    lines.append("        break")
    if limit is not None:
        shapes = emitter.shapes.extents
        news = tuple_code([f"{SESSION}.relation({literal(t)}, {tuple(shapes[m])})"
                           for t, m in zip(code.news, code.tensors)])
        lines.append(f"    rt.round_limit({counter}, {limit}, {literal(tuple(code.tensors))}, {news}, "
                     f"{literal(emitter.recursive_sites(stratum))})")
    _statements(lines, code.merge, 1)


def stratum_sql(planned: PlannedProgram, number: int) -> list[str]:
    """The SQL of stratum ``number`` (0-based) as script lines, the semi-naive loop's rounds marked in
    comments (``tlc explain`` and ``tlc compile --target sql``)."""
    code = builder(planned, loop=planned.max_rounds is not None).stratum(planned.strata[number])
    lines = [sql_comment(code.note), *(s + ";" for s in code.setup)]
    if code.news:
        lines.append(sql_comment(f"repeat until {', '.join(code.news)} {'is' if len(code.news) == 1 else 'are'} "
                                 f"empty after the first statements:"))
        lines.extend(s + ";" for s in (*code.derive, *code.merge))
        lines.append(sql_comment("end of the repeated statements"))
    if code.check:
        lines.append(sql_comment(f"the fixpoint does not converge (a located error) if this finds a row: {code.check}"))
    lines.extend(s + ";" for s in code.finish)
    return lines


def sql_script(planned: PlannedProgram) -> str:
    """The SQL of every stratum planned for DuckDB, in evaluation order, as one script; the input relations
    are tables ``(c0 BIGINT, ...)`` of positions named after them (strata that do not run in DuckDB are
    named in comments)."""
    lines = [sql_comment(f"Generated by tlc from {planned.program.filename or '<source>'}: relational strata as "
                         f"DuckDB SQL."),
             sql_comment("Relations are tables (c0 BIGINT, c1 BIGINT, ...) of positions; named constants are "
                         "numbered in this order:"),
             sql_comment(", ".join(f"{k}={s}" for k, s in enumerate(planned.symbols)) or "(none)")]
    for number, (stratum, plan) in enumerate(zip(planned.strata, planned.relations.strata)):
        lines.append("")
        lines.append(sql_comment(f"stratum {number + 1}: {', '.join(stratum.tensors)}"))
        if plan.strategy == "duckdb":
            lines.extend(stratum_sql(planned, number))
        else:
            lines.append(sql_comment(f"not in DuckDB: {plan.describe() if plan.relational else plan.reason}"))
    return "\n".join(lines) + "\n"
