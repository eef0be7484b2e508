"""Errors of the einsum drop-ins: ``EinsumError`` subclasses that are also the exception class numpy raises."""

from __future__ import annotations

from tlc.errors import EinsumError


class EinsumTypeError(EinsumError, TypeError):
    """A malformed call that numpy answers with ``TypeError`` (an unknown keyword, a bad ``dtype``, ...)."""


class EinsumPathError(EinsumError, RuntimeError, IndexError):
    """An explicit contraction path that does not fit the operands (numpy raises ``RuntimeError``, opt_einsum
    ``ValueError`` or ``IndexError``)."""


class EinsumOptimizeError(EinsumError, KeyError):
    """An unknown ``optimize`` strategy name (numpy and opt_einsum raise ``KeyError``)."""


class EinsumOverflowError(EinsumError, OverflowError):
    """Arithmetic numpy refuses with ``OverflowError``."""


class EinsumArithmeticError(EinsumError, ArithmeticError):
    """Arithmetic numpy refuses with another ``ArithmeticError``."""


_BY_BASE = {TypeError: EinsumTypeError, ValueError: EinsumError, OverflowError: EinsumOverflowError,
            ArithmeticError: EinsumArithmeticError}


def numpy_error(err: Exception) -> EinsumError:
    """numpy's own error as an ``EinsumError`` that is still the exception class numpy raised."""
    if isinstance(err, EinsumError):
        return err
    base = next((b for b in _BY_BASE if isinstance(err, b)), None)
    if base is None:
        return EinsumError(f"an operand cannot be read as an array: {type(err).__name__}: {err}")
    return _BY_BASE[base](str(err))
