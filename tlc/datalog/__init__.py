"""The Datalog front door: classic Datalog text in, Tensor Logic out, run by tlc.

``translate(text)`` gives the Tensor Logic source, ``compile(text_or_path)`` a callable ``tlc.Program``
whose inputs, results and queries use the Datalog names, and ``evaluate(text, facts)`` the whole model.
Errors are ``DatalogError`` (a ``tlc.TlcError``) located at the Datalog line and column. See
``docs/datalog.md`` for the syntax and the mapping rules.
"""

from __future__ import annotations

import os

from tlc.datalog.errors import (ArityError, DatalogDataError, DatalogError, DatalogSyntaxError,
                                SafetyViolationError, StratificationError, UnknownPredicateError,
                                UnsupportedError)
from tlc.datalog.program import DatalogProgram, Model, compile, evaluate, translation
from tlc.datalog.translate import DIALECTS, Translation


def translate(text_or_path: str | os.PathLike, *, dialect: str = "classic") -> str:
    """The Tensor Logic source for Datalog text (or a ``.dl`` file)."""
    return translation(text_or_path, dialect=dialect).tl


__all__ = [
    "DIALECTS", "ArityError", "DatalogDataError", "DatalogError", "DatalogProgram", "DatalogSyntaxError", "Model",
    "SafetyViolationError", "StratificationError", "Translation", "UnknownPredicateError", "UnsupportedError",
    "compile", "evaluate", "translate", "translation",
]
