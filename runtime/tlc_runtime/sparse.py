"""Sparse relations and the relational operators that emitted code uses on them.

A ``Tuples`` relation is the sorted, duplicate-free array of its true tuples, each linearised to one
int64 key (C order over the relation's shape, so key order is lexicographic tuple order). Binary
relations turn into scipy CSR matrices for joins that are matrix products. The operators accept
either storage (a ``Tuples`` or a dense Boolean ndarray) and return the storage they are asked for.

scipy is imported by the functions that build CSR matrices, not with this module: ``tlc_runtime`` imports
``Tuples``, and a dense program's compiled code must run where scipy is not installed.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

DENSE = "dense"
SPARSE = "sparse"


class Tuples:
    """A relation stored sparsely: sorted unique int64 keys of its true tuples over ``shape``; a binary
    relation may hold a canonical CSR matrix instead (or as well), and derives one from the other on demand."""

    __slots__ = ("_keys", "shape", "_csr")

    def __init__(self, keys: np.ndarray | None, shape: tuple[int, ...], csr: sp.csr_matrix | None = None):
        self._keys = keys
        self.shape = tuple(int(n) for n in shape)
        self._csr = csr

    @property
    def keys(self) -> np.ndarray:
        """The sorted int64 keys (C-order positions) of the true tuples."""
        if self._keys is None:
            csr = self._csr
            if not csr.has_sorted_indices:
                csr.sort_indices()
            rows = np.repeat(np.arange(csr.shape[0], dtype=np.int64), np.diff(csr.indptr))
            self._keys = rows * self.shape[1] + csr.indices
        return self._keys

    @classmethod
    def from_rows(cls, rows: np.ndarray, shape: tuple[int, ...]) -> Tuples:
        """From an (n, arity) integer array of positions (any order, duplicates allowed)."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(shape):      # (n, 0) rows: true when there is one (reshape(-1, 0) would be ambiguous)
            return cls(np.zeros(min(len(rows), 1), dtype=np.int64), shape)
        rows = rows.reshape(-1, len(shape))
        keys = np.ravel_multi_index(tuple(rows.T), shape) if len(rows) else np.zeros(0, dtype=np.int64)
        return cls(_sorted_unique(keys.astype(np.int64, copy=False)), shape)

    @classmethod
    def from_dense(cls, array) -> Tuples:
        """From a dense array (true where nonzero)."""
        array = np.asarray(array)
        return cls(np.flatnonzero(array).astype(np.int64), array.shape)

    @classmethod
    def from_matrix(cls, matrix, shape: tuple[int, int], product: bool = False) -> Tuples:
        """From a scipy sparse matrix (true where stored and nonzero; not modified), or, with ``product``,
        from a fresh CSR product of nonnegative matrices, taken over as it is (no duplicates, maybe unsorted)."""
        import scipy.sparse as sp
        if not product and matrix.shape[0] > max(CSR_ROWS, 8 * matrix.nnz):   # no row pointer per row
            coo = sp.coo_matrix(matrix)
            keep = coo.data != 0
            return cls.from_rows(np.stack([coo.row[keep], coo.col[keep]], axis=1).astype(np.int64), shape)
        stored = matrix.nnz
        if not product and matrix.format == "csr" and matrix.has_canonical_format and matrix.data[:stored].all():
            # already canonical without zeros: a copy of its structure (half the time of the general path)
            csr = sp.csr_matrix((np.ones(stored, np.float32), matrix.indices[:stored].copy(), matrix.indptr.copy()),
                                shape=matrix.shape)
            csr.has_canonical_format = True
        else:
            csr = sp.csr_matrix(matrix, dtype=np.float32, copy=not product)
            if not product:
                csr.sum_duplicates()    # canonical: sorted column indices, no duplicates
            csr.eliminate_zeros()
            csr.data[:] = 1
        if csr.shape == tuple(shape):
            return cls(None, shape, csr)
        rows, cols = Tuples(None, csr.shape, csr).rows().T    # a smaller matrix, placed in a larger shape
        return cls(rows * shape[1] + cols, shape)

    def rows(self) -> np.ndarray:
        """The (n, arity) array of positions, in lexicographic order."""
        if not self.shape:
            return np.zeros((len(self.keys), 0), dtype=np.int64)
        return np.stack(np.unravel_index(self.keys, self.shape), axis=1).astype(np.int64)

    def csr(self) -> sp.csr_matrix:
        """A binary relation as a float32 CSR matrix (cached)."""
        if self._csr is None:
            import scipy.sparse as sp
            n, m = self.shape
            row, col = np.divmod(self.keys, m)
            indptr = np.searchsorted(row, np.arange(n + 1))
            self._csr = sp.csr_matrix((np.ones(len(col), np.float32), col, indptr), shape=(n, m))
        return self._csr

    def __len__(self) -> int:
        return len(self._keys) if self._keys is not None else int(self._csr.nnz)

    @property
    def binary(self) -> bool:
        """True for a binary relation whose set operations are scipy CSR operations: one with at most
        ``CSR_ROWS`` rows (or 8 per tuple), since a CSR matrix holds a row pointer per row."""
        return len(self.shape) == 2 and self.shape[0] <= max(CSR_ROWS, 8 * len(self))

    def __array__(self, dtype=None, copy=None):
        out = np.zeros(math.prod(self.shape), dtype=bool)
        out[self.keys] = True
        out = out.reshape(self.shape)
        return out.astype(dtype) if dtype is not None else out

    def __repr__(self) -> str:
        return f"Tuples({len(self)} of {self.shape})"


def store(value, shape: tuple[int, ...], storage: str):
    """``value`` (Tuples, dense array or None for empty) as a relation of ``shape`` in ``storage``,
    padded with false where ``value`` is smaller than ``shape``."""
    if value is None:
        return Tuples(np.zeros(0, dtype=np.int64), shape) if storage == SPARSE else np.zeros(shape, dtype=bool)
    if storage == DENSE:
        array = np.asarray(value, dtype=bool)
        if array.shape == tuple(shape):
            return array
        out = np.zeros(shape, dtype=bool)
        out[tuple(slice(0, n) for n in array.shape)] = array
        return out
    if isinstance(value, Tuples) and value.shape == tuple(shape):
        return value
    rows = value.rows() if isinstance(value, Tuples) else np.argwhere(np.asarray(value))
    return Tuples.from_rows(rows, shape)


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct keys (a sort and a neighbour comparison)."""
    keys = np.sort(keys, kind="stable")
    keep = np.ones(len(keys), dtype=bool)
    keep[1:] = keys[1:] != keys[:-1]
    return keys[keep]


def nonempty(value) -> bool:
    """True when the relation holds some tuple."""
    return len(value) > 0 if isinstance(value, Tuples) else bool(value.any())


def count(value) -> int:
    """Number of true tuples."""
    return len(value) if isinstance(value, Tuples) else int(np.count_nonzero(value))


def union(a, b):
    """a ∪ b: sparse when both are, else dense."""
    if isinstance(a, Tuples) and isinstance(b, Tuples):
        b = store(b, a.shape, SPARSE)
        if not len(a) or not len(b):
            return b if not len(a) else a
        if a.binary:
            both = (a.csr() + b.csr()).tocsr()
            both.data[:] = 1
            return Tuples(None, a.shape, both)
        return Tuples(_sorted_unique(np.concatenate([a.keys, b.keys])), a.shape)   # two sorted runs: a merge
    if isinstance(a, Tuples):
        a, b = b, a
    out = store(a, a.shape, DENSE).copy()
    if isinstance(b, Tuples) and b.shape == out.shape:
        out.reshape(-1)[b.keys] = True
        return out
    return out | store(b, out.shape, DENSE)


def minus(a, b):
    """a \\ b, in a's storage."""
    if isinstance(a, Tuples):
        if not len(a) or (isinstance(b, Tuples) and not len(b)):
            return a
        if isinstance(b, Tuples) and a.binary and b.shape == a.shape:
            import scipy.sparse as sp
            rest = sp.csr_matrix(a.csr() - a.csr().multiply(b.csr()))
            rest.eliminate_zeros()
            return Tuples(None, a.shape, rest)
        if isinstance(b, Tuples):
            return Tuples(a.keys[~_member(a.keys, b.keys)], a.shape)
        return Tuples(a.keys[~np.asarray(b, dtype=bool).reshape(-1)[a.keys]], a.shape)
    return a & ~store(b, a.shape, DENSE)


def _member(keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """Which of ``keys`` occur in ``sorted_keys``."""
    if not len(sorted_keys):
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[at] == keys


CSR_ROWS = 2**24
"""Binary relations with more rows than this (and than 8 per tuple) keep sorted keys: huge identifiers must
not cost memory in proportion to their value."""
SMALL_JOIN = 20_000
"""Sparse joins whose sides are all this small sort-merge instead of building scipy matrices (less overhead)."""
FRONTIER_DENSITY = 1 / 64
"""A semi-naive delta denser than this is kept dense (its joins become sparse-times-dense products)."""


def frontier(value):
    """A semi-naive delta in the storage that makes the next round's joins cheapest."""
    if isinstance(value, Tuples):
        return np.asarray(value) if len(value) > FRONTIER_DENSITY * math.prod(value.shape) else value
    return value if count(value) > FRONTIER_DENSITY * value.size else Tuples.from_dense(value)


# --------------------------------------------------------------------------- joins
class _Table:
    """Bindings of variables: one int64 column per variable, one row per binding."""

    def __init__(self, columns: dict[str, np.ndarray], length: int):
        self.columns = columns
        self.length = length


def _atom_table(relation, spec) -> _Table:
    """The bindings an atom allows: rows of ``relation`` matching its constants and repeated variables."""
    rows = relation.rows() if isinstance(relation, Tuples) else np.argwhere(np.asarray(relation))
    keep = None
    first: dict[str, int] = {}
    for axis, item in enumerate(spec):
        if isinstance(item, str) and item not in first:
            first[item] = axis
            continue
        match = rows[:, axis] == (rows[:, first[item]] if isinstance(item, str) else item)
        keep = match if keep is None else keep & match
    if keep is not None:
        rows = rows[keep]
    return _Table({v: rows[:, a] for v, a in first.items()}, len(rows))


def _keys(table: _Table, variables: list[str], sizes: dict[str, int]) -> np.ndarray:
    """One int64 key per row for the values of ``variables``."""
    if not variables:
        return np.zeros(table.length, dtype=np.int64)
    return np.ravel_multi_index(tuple(table.columns[v] for v in variables), tuple(sizes[v] for v in variables))


def _join(left: _Table, right: _Table, sizes: dict[str, int]) -> _Table:
    """Natural join by sorting one side on the shared variables and searching the other."""
    shared = [v for v in left.columns if v in right.columns]
    lk, rk = _keys(left, shared, sizes), _keys(right, shared, sizes)
    order = np.argsort(rk, kind="stable")
    rk = rk[order]
    lo, hi = np.searchsorted(rk, lk, "left"), np.searchsorted(rk, lk, "right")
    counts = hi - lo
    li = np.repeat(np.arange(left.length), counts)
    starts = np.repeat(lo - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) if len(counts) else lo
    ri = order[np.arange(len(li)) + starts] if len(li) else np.zeros(0, dtype=np.int64)
    columns = {v: c[li] for v, c in left.columns.items()}
    columns.update({v: c[ri] for v, c in right.columns.items() if v not in columns})
    return _Table(columns, len(li))


def _anti_join(table: _Table, relation, spec, sizes: dict[str, int]) -> _Table:
    """Rows of ``table`` for which the negated atom does not hold."""
    other = _atom_table(relation, spec)
    variables = list(other.columns)
    found = _member(_keys(table, variables, sizes), _sorted_unique(_keys(other, variables, sizes)))
    return _Table({v: c[~found] for v, c in table.columns.items()}, int((~found).sum()))


def _matrix(relation, spec, variables: tuple[str, str]):
    """A binary atom as a float32 matrix (CSR or dense) with rows ``variables[0]``, columns ``variables[1]``."""
    m = relation.csr() if isinstance(relation, Tuples) else np.asarray(relation, dtype=np.float32)
    return m if tuple(spec) == variables else m.T


def _bool_matrix(relation, spec, variables: tuple[str, str]):
    """A binary atom as a Boolean matrix (CSR, or dense without a copy) with rows ``variables[0]``, columns
    ``variables[1]``."""
    m = relation.csr() if isinstance(relation, Tuples) else np.asarray(relation, dtype=bool)
    return m if tuple(spec) == variables else m.T


def _bitset_product(left, right, kernel) -> np.ndarray:
    """``left @ right`` (one of them dense) as a Boolean array on bitset rows of the dense one (``tlc_runtime.
    bitset_join``): ``(right^T left^T)^T`` when only ``left`` is dense."""
    from tlc_runtime.bitset_join import product

    if isinstance(right, np.ndarray):
        return product(left, right, kernel)
    return product(right.T, left.T, kernel).T


def _chain(head, atoms, matrix=_matrix):
    """For ``H(x, z) = A(x, y) B(y, z)`` (any argument orders): the two matrices to multiply (each made by
    ``matrix``), else None."""
    if len(atoms) != 2 or len(head) != 2 or not all(isinstance(v, str) for v in head) or head[0] == head[1]:
        return None
    (ra, sa), (rb, sb) = atoms
    if len(sa) != 2 or len(sb) != 2 or not all(isinstance(v, str) for v in (*sa, *sb)):
        return None
    if sa[0] == sa[1] or sb[0] == sb[1]:
        return None
    shared = set(sa) & set(sb)
    if len(shared) != 1:
        return None
    (y,) = shared
    x, z = (v for v in sa if v != y), (v for v in sb if v != y)
    x, z = next(x), next(z)
    if {x, z} != set(head):
        return None
    if head != (x, z):
        (ra, sa), (rb, sb), x, z = (rb, sb), (ra, sa), z, x
    return matrix(ra, sa, (x, y)), matrix(rb, sb, (y, z))


def _cut(left, right, shape: tuple[int, int]):
    """The operands of ``left @ right`` with extents reconciled: the shared axis cut to the shorter, the outer axes
    cut to ``shape`` (positions past an extent hold no tuples)."""
    inner = min(left.shape[1], right.shape[0])
    if left.shape != (min(left.shape[0], shape[0]), inner):    # slicing copies: only when extents differ
        left = left[:shape[0], :inner]
    if right.shape != (inner, min(right.shape[1], shape[1])):
        right = right[:inner, :shape[1]]
    return left, right


def _product(left, right, shape: tuple[int, int]):
    """``left @ right`` with extents reconciled (``_cut``). Returns the product and its shape."""
    left, right = _cut(left, right, shape)
    return left @ right, (left.shape[0], right.shape[1])


def conjunction(head, shape: tuple[int, ...], atoms, negated=(), storage: str = SPARSE, kernel=None):
    """The head relation (``shape``) derived by one rule body: ``atoms`` and ``negated`` are
    ``(relation, spec)`` pairs, a spec naming a variable (str) or a constant position (int) per argument;
    the head spec names the variables (or constant positions) written. ``storage`` is ``sparse``,
    ``dense``, or ``auto`` (whichever the join produced: dense when a matrix product had a dense operand).
    With ``kernel`` (a ``native.ClosureKernel``) a matrix product with a dense operand runs on bitset rows
    (``tlc_runtime.bitset_join``) instead of as a float product."""
    head = tuple(head)
    if len(atoms) == 1 and not negated and tuple(atoms[0][1]) == head and len(set(head)) == len(head) and \
            all(isinstance(v, str) for v in head):    # a copy rule: P(x, y) = E(x, y)
        relation = atoms[0][0]
        natural = SPARSE if isinstance(relation, Tuples) else DENSE
        return store(relation, shape, natural if storage == "auto" else storage)
    small = all(isinstance(r, Tuples) for r, _ in atoms) and max((len(r) for r, _ in atoms), default=0) <= SMALL_JOIN
    chain = _chain(head, atoms, _matrix if kernel is None else _bool_matrix) if not negated and not small and \
        all(r.binary for r, _ in atoms if isinstance(r, Tuples)) else None
    if chain is not None and kernel is not None and any(isinstance(m, np.ndarray) for m in chain):
        result = _bitset_product(*_cut(*chain, shape), kernel)
        return store(result, shape, DENSE if storage == "auto" else storage)
    if chain is not None:
        product, size = _product(*chain, shape)
        if isinstance(product, np.ndarray):     # a dense operand made the product dense
            result = np.asarray(product) > 0
        else:
            result = Tuples.from_matrix(product, size, product=True)
        natural = SPARSE if isinstance(result, Tuples) else DENSE
        return store(result, shape, natural if storage == "auto" else storage)
    sizes: dict[str, int] = {}
    for relation, spec in [*atoms, *negated]:
        for axis, item in enumerate(spec):
            if isinstance(item, str):
                sizes[item] = max(sizes.get(item, 0), relation.shape[axis])
    tables = sorted((_atom_table(r, s) for r, s in atoms), key=lambda t: t.length)
    table = _Table({}, 1)
    while tables:   # join the smallest table that shares a variable (or the smallest left)
        pick = next((k for k, t in enumerate(tables) if set(t.columns) & set(table.columns)), 0)
        table = _join(table, tables.pop(pick), sizes)
    for relation, spec in negated:
        table = _anti_join(table, relation, spec, sizes)
    rows = np.stack([table.columns[v] if isinstance(v, str) else np.full(table.length, v, dtype=np.int64)
                     for v in head], axis=1) if head else np.zeros((table.length, 0), dtype=np.int64)
    inside = np.all((rows >= 0) & (rows < np.asarray(shape, dtype=np.int64)), axis=1) if head else \
        np.ones(len(rows), dtype=bool)
    result = Tuples.from_rows(rows[inside], shape)
    return result if storage != DENSE else store(result, shape, DENSE)


def closure(step, kernel=None) -> np.ndarray:
    """Transitive closure (paths of length >= 1) of a binary relation, through its strong components and
    bitset rows (``tlc_runtime.reach``, its loop run by the compiled ``kernel`` when given); a non-square relation
    is padded square (positions past an extent hold no tuples) and cut back. The result is dense."""
    from tlc_runtime.reach import closure_rows

    shape = step.shape
    n = max(shape)
    if n == 0:
        return np.zeros(shape, dtype=bool)
    return closure_rows(store(step, (n, n), SPARSE).csr(), kernel)[:shape[0], :shape[1]]


def closure_sparse(step, kernel) -> Tuples:
    """Transitive closure (paths of length >= 1) of a binary relation as tuples, by the compiled ``kernel``'s
    traversal from every source (``tlc_runtime.reach.closure_csr``); a non-square relation is padded square and
    cut back, like ``closure``."""
    from tlc_runtime.reach import closure_csr

    shape = step.shape
    n = max(shape)
    if n == 0:
        return Tuples(np.zeros(0, dtype=np.int64), shape)
    reach = closure_csr(store(step, (n, n), SPARSE).csr(), kernel)
    if tuple(shape) == (n, n):
        return Tuples(None, shape, reach)       # float32 ones, each row's targets distinct: as from_matrix makes
    rows = Tuples(None, (n, n), reach).rows()
    return Tuples.from_rows(rows[(rows[:, 0] < shape[0]) & (rows[:, 1] < shape[1])], shape)
