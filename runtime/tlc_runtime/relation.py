"""``Relation``: a Boolean tensor result that iterates as tuples of named constants.

Its value is stored densely (a Boolean array) or sparsely (``tlc_runtime.sparse.Tuples``); a sparse
relation is densified only when ``np.asarray`` asks for the array."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tlc_runtime.sparse import Tuples


PRINT_THRESHOLD = 200
"""More elements (or tuples) than this print shortened (``tlc run --full`` prints all)."""
EDGE_ITEMS = 3
"""Tuples shown at each end of a shortened relation (numpy's ``edgeitems``)."""


class Relation:
    """A relation's value: iterate for tuples of constants, ``np.asarray`` for the dense bool array."""

    def __init__(self, name: str, array, domains: Sequence[Sequence | None]):
        self.name = name
        self._sparse = array if isinstance(array, Tuples) else None
        self._dense = None if self._sparse is not None else np.asarray(array, dtype=bool)
        self._domains = tuple(domains)

    @property
    def _array(self) -> np.ndarray:
        if self._dense is None:
            self._dense = np.asarray(self._sparse)
        return self._dense

    @property
    def sparse(self) -> bool:
        """True when the value is stored sparsely (``np.asarray`` then builds the dense array)."""
        return self._sparse is not None

    def positions(self) -> np.ndarray:
        """The (n, arity) integer positions of the true tuples, in index order, without densifying."""
        return self._sparse.rows() if self._sparse is not None else np.argwhere(self._dense)

    def tuples(self) -> list[tuple]:
        """All true tuples in index order, constants decoded."""
        return self._decode(self.positions())

    def _decode(self, rows: np.ndarray) -> list[tuple]:
        """The tuples at integer positions ``rows``, constants decoded."""
        columns = [rows[:, a].tolist() if domain is None else np.asarray(domain, dtype=object)[rows[:, a]].tolist()
                   for a, domain in enumerate(self._domains)]
        return list(zip(*columns)) if columns else [()] * len(rows)

    def __iter__(self):
        return iter(self.tuples())

    def __len__(self) -> int:
        return len(self._sparse) if self._sparse is not None else int(np.count_nonzero(self._dense))

    def to_frame(self, columns=None):
        """The tuples as a pandas DataFrame, one column per argument (named 0, 1, ... or by ``columns``)."""
        import pandas as pd
        names = list(columns) if columns is not None else list(range(len(self._domains)))
        return pd.DataFrame(self.tuples(), columns=names)

    def __contains__(self, item) -> bool:
        item = item if isinstance(item, tuple) else (item,)
        return item in set(self.tuples())

    def __array__(self, dtype=None, copy=None):
        return self._array.astype(dtype) if dtype is not None else self._array

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the dense Boolean array."""
        return self._sparse.shape if self._sparse is not None else self._dense.shape

    def __eq__(self, other) -> bool:
        if isinstance(other, Relation):
            return set(self) == set(other)
        if isinstance(other, (set, frozenset)):
            return set(self) == other
        return NotImplemented

    __hash__ = None

    def format(self, threshold: int | None = PRINT_THRESHOLD) -> str:
        """The tuples as ``{(a, b), ...}``; with more than ``threshold`` of them (None: no limit) only the first
        and last ``EDGE_ITEMS``, around ``...``, and the count, as numpy shortens large arrays."""
        rows = self.positions()
        if threshold is None or len(rows) <= threshold:
            return "{" + ", ".join(_format(t) for t in self._decode(rows)) + "}"
        head, tail = self._decode(rows[:EDGE_ITEMS]), self._decode(rows[-EDGE_ITEMS:])
        shown = [*(_format(t) for t in head), "...", *(_format(t) for t in tail)]
        return "{" + ", ".join(shown) + f"}} ({len(rows)} tuples)"

    def __repr__(self) -> str:
        return f"{self.name}{self.format()}"


def _format(t: tuple) -> str:
    return str(t[0]) if len(t) == 1 else "(" + ", ".join(str(v) for v in t) + ")"
