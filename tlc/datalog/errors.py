"""Errors of the Datalog front door: located ``TlcError`` subclasses with a machine-readable ``code``."""

from __future__ import annotations

from tlc.errors import DataError, TlcError


class DatalogError(TlcError):
    """Base of every ``tlc.datalog`` error, located in the Datalog source; ``code`` names the kind."""

    code = "error"

    def __init__(self, message, span=None, *, filename=None, source=None, code: str | None = None):
        super().__init__(message, span, filename=filename, source=source)
        if code is not None:
            self.code = code


class DatalogSyntaxError(DatalogError):
    """The text is not Datalog this front door reads."""

    code = "syntax_error"


class ArityError(DatalogError):
    """A predicate used (or given facts) with two different numbers of arguments."""

    code = "arity_mismatch"


class SafetyViolationError(DatalogError):
    """An unsafe clause: codes ``unbound_variable``, ``wildcard_in_head`` and ``unsafe_negation``."""

    code = "unbound_variable"


class StratificationError(DatalogError):
    """Recursion through negation: the program has no stratification."""

    code = "cyclic_negation"


class UnknownPredicateError(DatalogError):
    """A query (or input) names a predicate the program does not use."""

    code = "unknown_predicate"


class UnsupportedError(DatalogError):
    """Valid Datalog that has no Tensor Logic translation (comparisons, ``*``, floats, ...)."""

    code = "unsupported"


class DatalogDataError(DatalogError, DataError):
    """Facts given as data that do not fit the program (also a ``tlc.DataError``)."""

    code = "bad_data"


class DatalogTypeError(DatalogError):
    """A constant or variable whose type disagrees with a ``.decl`` (a symbol where a number is declared)."""

    code = "type_mismatch"
