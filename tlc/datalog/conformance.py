"""Adapter for the ``datalog-conformance`` suite: ``TlcEvaluator().evaluate(program) -> Model``.

Use it with the suite's pytest plugin (``--datalog-evaluator=tlc.datalog.conformance.TlcEvaluator``) or
hand it to ``datalog_conformance.runner.YamlTestRunner``. The suite's programs come from several
engines, so identifiers are read in the ``auto`` dialect (lowercase identifiers are variables when no
rule uses a capitalised one, as in Soufflé). Needs the ``datalog-conformance`` package.
"""

from __future__ import annotations

import copy

from datalog_conformance.schema import Model, Program

from tlc.datalog.errors import DatalogError
from tlc.datalog.program import evaluate

SUITE_ERROR_NAMES = {"wildcard_in_head": "safety_violations"}
"""``DatalogError.code`` values the suite spells differently (crepe's name for a wildcard in a head)."""


def program_text(program: Program) -> str:
    """The suite's rules as Datalog text, one rule per line (a missing final ``.`` is added)."""
    lines = []
    for rule in program.rules:
        rule = rule.strip()
        lines.append(rule if rule.endswith(".") else rule + ".")
    return "\n".join(lines) + "\n"


class TlcEvaluator:
    """Evaluates a conformance ``Program`` with tlc; results are cached per program (cases share them)."""

    def __init__(self, dialect: str = "auto", backend: str = "numpy", relations: str = "auto"):
        self.dialect = dialect
        self.backend = backend
        self.relations = relations
        """How relational strata run (``relations="duckdb"``: the same cases inside DuckDB)."""
        self._cache: dict = {}

    def evaluate(self, program: Program) -> Model:
        """Every predicate's facts; errors are ``DatalogError``s whose ``code`` the suite can match."""
        text = program_text(program)
        key = (text, tuple((pred, tuple(map(tuple, rows))) for pred, rows in sorted(program.facts.items())))
        if key not in self._cache:
            try:
                self._cache[key] = evaluate(text, program.facts, dialect=self.dialect, backend=self.backend,
                                            relations=self.relations).facts
            except DatalogError as err:
                if err.code in SUITE_ERROR_NAMES:
                    err = copy.copy(err)
                    err.code = SUITE_ERROR_NAMES[err.code]
                self._cache[key] = err
        result = self._cache[key]
        if isinstance(result, DatalogError):
            raise copy.copy(result)
        return Model(facts={pred: set(rows) for pred, rows in result.items()})
