"""Run translated Datalog with tlc: ``DatalogProgram`` (a ``tlc.Program``), ``evaluate`` and ``Model``.

Every ``TlcError`` that tlc raises on the translated program is re-raised as a ``DatalogError`` located
at the Datalog line and column the offending Tensor Logic came from.
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


from tlc.api import Program, Results
from tlc.driver.rows import is_rows, plain_rows, row_list
from tlc.driver.source import frontend, load_source
from tlc.datalog.lints import warn
from tlc.driver.stored import stored_inputs
from tlc.datalog.errors import (ArityError, DatalogDataError, DatalogError, SafetyViolationError,
                                StratificationError)
from tlc.datalog.syntax import parse
from tlc.datalog.translate import Query, Translation, translate_clauses
from tlc.errors import DataError, TlcError, TlcWarning, gather


def load(text_or_path: str | os.PathLike) -> tuple[str, str | None]:
    """Datalog text and file name: a path to an existing file (or one ending in ``.dl``) is read."""
    try:
        return load_source(text_or_path, ".dl")
    except TlcError as err:
        raise DatalogError(err.message, filename=err.filename) from None


def translation(text_or_path: str | os.PathLike, *, dialect: str = "classic",
                data_arities: Mapping[str, int] | None = None) -> Translation:
    """Parse and translate Datalog; the ``Translation`` has the Tensor Logic text and the source map."""
    text, filename = load(text_or_path)
    return translate_clauses(parse(text, filename), text, filename, dialect, dict(data_arities or {}))


# ---------------------------------------------------------------------------------------- errors
_UNSAFE = re.compile(r"unsafe negation: (\S+) occurs only inside a negated atom")
_CYCLE = re.compile(r"(\S+) depends on (\S+) through negation")
_RANK = re.compile(r"\S+ has \d+ ind(?:ex|ices) here but \d+")
_LINE = re.compile(r"\bline (\d+)\b")
_NAME = re.compile(r"(?<![\w'\"])([A-Za-z_][A-Za-z0-9_]*'*)")


def remap(err: TlcError, tr: Translation) -> DatalogError:
    """The Datalog error for a tlc error on the translated program (location, names, kind)."""
    if isinstance(err, DatalogError):
        return err
    line = err.span.line if err.span else None
    names = tr.names_at(line)

    def rename(text: str) -> str:
        text = _LINE.sub(lambda m: f"line {tr.datalog_line(int(m[1])) or m[1]}", text)
        # only primed names (renamed predicates, helpers): plain words may be English, not identifiers
        return _NAME.sub(lambda m: names.get(m[1], m[1]) if m[1].endswith("'") else m[1], text)

    cls, code, message = DatalogError, "tlc", err.message
    if match := _UNSAFE.match(message):
        cls, code = SafetyViolationError, "unsafe_negation"
        message = (f"unsafe negation: the variable {names.get(match[1], match[1])} occurs only in negated "
                   f"literals; bind it with a positive literal of the same rule (write _ for an argument "
                   f"you do not care about)")
    elif match := _CYCLE.match(message):
        cls, code = StratificationError, "cyclic_negation"
        message = (f"recursion through negation: {names.get(match[1], match[1])} depends on "
                   f"{names.get(match[2], match[2])} through negation inside a recursion, so the program "
                   f"has no stratification")
    elif _RANK.match(message):
        cls, code, message = ArityError, "arity_mismatch", rename(message)
    elif isinstance(err, DataError):
        cls, message = DatalogDataError, rename(message)
    else:
        message = rename(message)
    new = cls(message, tr.locate(err.span), filename=tr.filename or err.filename, source=tr.datalog, code=code)
    new.__cause__ = err
    return new


@contextlib.contextmanager
def _mapped(tr: Translation):
    try:
        yield
    except DatalogError:
        raise
    except TlcError as err:
        raise gather([remap(e, tr) for e in err.errors]) from err


# ---------------------------------------------------------------------------------------- data
def check_rows(pred: str, rows: Iterable, arity: int | None = None) -> list[tuple]:
    """Facts given as data: tuples (or bare constants for unary predicates) of names and integers >= 0, or
    ``tlc.Rows``/a pandas DataFrame of them."""
    if is_rows(rows):
        try:
            rows = row_list(pred, rows, None)
        except DataError as err:
            raise DatalogDataError(err.message, code="unsupported") from None
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Iterable):
        raise DatalogDataError(f"facts for {pred} must be a list of tuples, not {type(rows).__name__}")
    plain = plain_rows(rows)
    if plain is not None and (arity is None or not plain or len(plain[0]) == arity):
        return plain                 # tuples of names and integers >= 0, one arity: nothing to check one by one
    out = []
    for row in rows:
        row = tuple(row) if isinstance(row, (tuple, list)) else (row,)
        if arity is None:
            arity = len(row)
        if len(row) != arity:
            raise DatalogDataError(f"{pred} has {arity} argument{'s' if arity != 1 else ''} but the fact "
                                   f"{pred}{row!r} has {len(row)}", code="arity_mismatch")
        for value in row:
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise DatalogDataError(f"{pred}: constants are strings and integers, not {value!r}",
                                       code="unsupported")
            if isinstance(value, int) and value < 0:
                raise DatalogDataError(f"{pred}: negative integer {value}: tlc relation constants are names "
                                       f"or integers >= 0", code="unsupported")
        out.append(row)
    return out


def _data_arities(facts: Mapping[str, Iterable]) -> tuple[dict[str, list[tuple]], dict[str, int]]:
    data, arities = {}, {}
    for pred, rows in facts.items():
        data[pred] = check_rows(pred, rows)
        if data[pred]:
            arities[pred] = len(data[pred][0])
    return data, arities


# ---------------------------------------------------------------------------------------- programs
class DatalogProgram(Program):
    """A ``tlc.Program`` compiled from Datalog: inputs, results and queries use the Datalog names."""

    def __init__(self, tr: Translation, backend: str = "numpy", opt_level: int = 2, relations: str = "auto",
                 max_rounds: int | None = None, **options):
        self.translation = tr
        """The ``Translation``: Datalog text, Tensor Logic text (``.tl``) and the source map."""
        with _mapped(tr):
            super().__init__(frontend(tr.executable, tr.filename), backend, opt_level, relations=relations,
                             max_rounds=max_rounds, **options)

    def edb(self) -> list[str]:
        """Predicates the rules read but no rule or fact defines: the program's inputs (empty if not given)."""
        return [p.name for p in self.translation.predicates.values() if not p.defined]

    def _facts(self, inputs: Mapping[str, Iterable]) -> dict[str, list[tuple]]:
        preds = self.translation.predicates
        data = {}
        for name, rows in inputs.items():
            pred = preds.get(name)
            if pred is None or pred.helper:
                known = ", ".join(sorted(p.name for p in preds.values() if not p.helper)) or "none"
                raise DatalogDataError(f"unknown predicate {name!r}; this program uses: {known}",
                                       code="unknown_predicate")
            data[name] = check_rows(name, rows, pred.arity)
        missing = [name for name in self.edb() if name not in data]
        stored = {}
        if self.database is not None:      # a relation an earlier run stored there is read from there
            stored = stored_inputs(self.ir, self.database, [preds[n].tl for n in missing if preds[n].used])
        for name in missing:        # a stored one stays in the file (``StoredTable``): iterating it reads it
            data[name] = stored.get(preds[name].tl, [])
        return data

    def __call__(self, /, **inputs) -> Results:
        """Run with facts for any predicate (``edge=[("a", "b")]``); predicates not given are empty.
        The results (Datalog names; ``facts`` holds the facts given as data) belong to this call."""
        data = self._facts(inputs)
        preds = self.translation.predicates
        with _mapped(self.translation), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TlcWarning)
            raw = super().__call__(**self._tl_data(data))
        for found in caught:        # a run's notes, placed in the Datalog file rather than its translation
            note = found.message
            if isinstance(note, TlcWarning):
                note = TlcWarning(note.message, filename=self.translation.filename, notes=note.notes, code=note.code)
            warnings.warn(note, stacklevel=2)
        values = {p.name: raw[p.tl] for p in preds.values() if not p.helper and p.tl in raw}
        results = Results(values, raw.report, raw._spec, data)
        results.answers.extend((f"?- {q.text}.", self._answer(q, results)) for q in self.translation.queries)
        self._local.datalog = results
        return results

    @staticmethod
    def tuples(results: Results, pred: str) -> list[tuple]:
        """A predicate's tuples in ``results``: derived, or else the facts given for it (empty if none)."""
        return list(results[pred]) if pred in results else list(results._inputs.get(pred, []))

    def _answer(self, query: Query, results: Results) -> list[tuple]:
        return query.answer(self.tuples(results, query.pred))

    def query(self, text: str, /, **inputs) -> list[tuple]:
        """Answer a Datalog query such as ``"path(a, X)"`` (or ``"?- path(a, X)."``); runs if needed (this
        thread's last call answers otherwise)."""
        query = self._parse_query(text)
        results = getattr(self._local, "datalog", None)
        if inputs or results is None:
            results = self(**inputs)
        return self._answer(query, results)

    def _parse_query(self, text: str) -> Query:
        if not isinstance(text, str):
            raise DatalogError(f"a query is text such as \"path(a, X)\", not {type(text).__name__}")
        body = text.strip()
        body = body if body.startswith("?-") else "?- " + body
        body = body if body.endswith(".") else body + "."
        tr = self.translation
        preds = {p.name: p.arity for p in tr.predicates.values() if not p.helper}
        parsed = parse(body, "<query>")
        if len(parsed) != 1 or parsed[0].kind != "query":
            raise DatalogError("a query is one atom, such as path(a, X)", filename="<query>", source=body)
        return translate_clauses(parsed, body, "<query>", tr.dialect, preds).queries[0]

    def _tl_facts(self, inputs: Mapping) -> dict:
        """The Tensor Logic inputs for facts given by Datalog name (none: this thread's last call's)."""
        if not inputs and getattr(self._local, "datalog", None) is not None:
            return {}
        return self._tl_data(self._facts(inputs))

    def _tl_data(self, data: Mapping[str, list[tuple]]) -> dict:
        """Checked facts (``_facts``) keyed by their Tensor Logic names; predicates only declared are left out."""
        preds = self.translation.predicates
        return {preds[name].tl: rows for name, rows in data.items() if preds[name].used}

    def source(self, /, **inputs) -> str:
        """The emitted code, specialised to the given facts (or the last call's)."""
        with _mapped(self.translation):
            return super().source(**self._tl_facts(inputs))

    def explain(self, /, **inputs) -> str:
        """The plan (strata, modes, contraction costs) for the given facts (or the last call's)."""
        with _mapped(self.translation):
            return super().explain(**self._tl_facts(inputs))

    def specialisation(self, /, **inputs):
        """The program specialised to the given facts (keyed by predicate)."""
        with _mapped(self.translation):
            return super().specialisation(**self._tl_data(self._facts(inputs)))

    def check(self, /, **inputs) -> None:
        """Check facts given as data against the program, without running it."""
        with _mapped(self.translation):
            super().check(**self._tl_data(self._facts(inputs)))


def compile(text_or_path: str | os.PathLike, *, dialect: str = "classic", backend: str = "numpy",  # noqa: A001
            opt_level: int = 2, relations: str = "auto", max_rounds: int | None = None,
            database=None) -> DatalogProgram:
    """Compile Datalog text (or a ``.dl`` file) into a callable ``tlc.Program`` (a ``DatalogProgram``);
    ``relations`` forces the relation strategy, ``max_rounds`` bounds recursion and ``database`` names a DuckDB
    file keeping input relations and results, as in ``tlc.compile``."""
    program = DatalogProgram(translation(text_or_path, dialect=dialect), backend, opt_level, relations, max_rounds,
                             database=database)
    warn(program.translation, program.source_ir, stacklevel=2)
    return program


@dataclass(frozen=True)
class Model(Mapping):
    """Every predicate's true facts (given and derived) and the answers to the program's queries."""

    facts: dict[str, set[tuple]]
    answers: list[tuple[str, list[tuple]]] = field(default_factory=list)

    def __getitem__(self, pred: str) -> set[tuple]:
        return self.facts[pred]

    def __iter__(self):
        return iter(self.facts)

    def __len__(self) -> int:
        return len(self.facts)


def evaluate(text_or_path: str | os.PathLike, facts: Mapping[str, Iterable] | None = None, *,
             dialect: str = "classic", backend: str = "numpy", relations: str = "auto") -> Model:
    """Run a Datalog program on facts given as data (``{"edge": [("a", "b")]}``) and return its ``Model``."""
    data, arities = _data_arities(facts or {})
    tr = translation(text_or_path, dialect=dialect, data_arities=arities)
    preds = {p.name: p for p in tr.predicates.values() if not p.helper}
    model: dict[str, set[tuple]] = {name: set(rows) for name, rows in data.items() if name not in preds}
    if preds:
        program = DatalogProgram(tr, backend, relations=relations)
        warn(tr, program.source_ir, frozenset(data), stacklevel=2)
        results = program(**{name: rows for name, rows in data.items() if name in preds})
        for name, pred in preds.items():
            model[name] = set(results[name]) if name in results else set(results._inputs.get(name, []))
    answers = [(f"?- {q.text}.", q.answer(model.get(q.pred, ()))) for q in tr.queries]
    return Model(model, answers)


__all__ = ["DatalogProgram", "Model", "compile", "evaluate", "load", "remap", "translation"]
