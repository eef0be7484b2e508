"""Relation data given as rows: the ``Rows`` wrapper (an integer array of tuples, which on its own reads as a dense
0/1 array) and pandas DataFrames (one column per argument position)."""

from __future__ import annotations

import operator

import numpy as np

from tlc.analysis.shapes import MAX_POSITIONS
from tlc.errors import DataError


class Rows:
    """A relation's tuples given as an ``(m, arity)`` array or any sequence of rows: ``prog(Edge=tlc.Rows(a))``."""

    __slots__ = ("data",)

    def __init__(self, data):
        self.data = data

    def __repr__(self) -> str:
        return f"Rows({self.data!r})"


def is_frame(value) -> bool:
    """True for a pandas DataFrame (recognised without importing pandas)."""
    return type(value).__module__.startswith("pandas") and hasattr(value, "columns") and hasattr(value, "iloc")


def is_rows(value) -> bool:
    """True for data that ``row_list`` reads: ``Rows`` or a DataFrame."""
    return isinstance(value, Rows) or is_frame(value)


def integer_rows(name: str, value, rank: int | None, span=None) -> np.ndarray | None:
    """The tuples of ``Rows`` holding an integer array as a checked C-contiguous int64 ``(m, rank)`` array (every
    entry >= 0 and below 2^63), or None for any other data."""
    data = value.data if isinstance(value, Rows) else None
    if not isinstance(data, np.ndarray) or data.dtype.kind not in "iu":
        return None
    array = data.reshape(-1, 1) if data.ndim == 1 else data
    if array.ndim != 2 or (rank is not None and array.shape[1] != rank):
        raise DataError(f"relation {name} has {rank} argument{'s' if rank != 1 else ''}, so tlc.Rows takes an "
                        f"(m, {rank}) array, not shape {data.shape}", span)
    if array.size and array.min() < 0:
        raise DataError(f"relation {name}: tlc.Rows holds a negative integer ({array.min()}); constants are "
                        f"names or integers >= 0", span)
    if array.size and array.max() > MAX_POSITIONS:
        raise DataError(f"relation {name}: tlc.Rows holds {array.max()}, over 2^63 - 1 (give large identifiers as "
                        f"strings)", span)
    return np.ascontiguousarray(array, dtype=np.int64)


def row_list(name: str, value, rank: int | None, span=None) -> list[tuple]:
    """The tuples of ``Rows`` or a DataFrame as Python values (an integer array's are checked at once: ``rank``
    columns, every entry >= 0)."""
    if is_frame(value):
        columns = [value[c].tolist() for c in value.columns]
        if rank is not None and len(columns) != rank:
            raise DataError(f"relation {name} has {rank} argument{'s' if rank != 1 else ''} but its DataFrame "
                            f"has {len(columns)} columns", span)
        return list(zip(*columns)) if columns else [()] * len(value)
    array = integer_rows(name, value, rank, span)
    if array is not None:
        return list(map(tuple, array.tolist()))
    data = value.data
    if isinstance(data, np.ndarray):
        data = data.tolist()
    return [tuple(row) if isinstance(row, (tuple, list)) else (row,) for row in data]


class PlainRows(list):
    """Tuples ``plain_rows`` checked, with the set of types in each column (``kinds``): read again, they are not
    checked again."""

    __slots__ = ("kinds",)


def plain_rows(rows) -> PlainRows | None:
    """``rows``, a list of tuples or lists of ``str`` and ``int`` in [0, 2^63) (exactly those types, so no ``bool``)
    all as long as the first, as a new list of tuples knowing its columns' types; None for anything else (the
    caller then checks row by row, for its message)."""
    if type(rows) is PlainRows:
        return rows
    if type(rows) is not list or not set(map(type, rows)) <= {tuple, list}:
        return None
    plain = PlainRows(map(tuple, rows))
    plain.kinds = plain_columns(plain)
    return None if plain.kinds is None else plain


def plain_columns(rows: list[tuple]) -> list[set[type]] | None:
    """For a list of equally long tuples of ``str`` and ``int`` in [0, 2^63), the set of types in each column; None
    for anything else."""
    if len(set(map(len, rows))) > 1:
        return None
    types = []
    for a in range(len(rows[0]) if rows else 0):
        kinds = set(map(type, map(operator.itemgetter(a), rows)))
        if not kinds <= {str, int}:
            return None
        if int in kinds:
            numbers = [row[a] for row in rows if type(row[a]) is int]
            if min(numbers) < 0 or max(numbers) > MAX_POSITIONS:
                return None
        types.append(kinds)
    return types

