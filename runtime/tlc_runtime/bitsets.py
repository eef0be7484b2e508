"""Relations as bitset rows, the state of a dense semi-naive stratum on a backend with bitset kernels (llvm).

A ``Bits`` relation of shape ``(n0, ..., nk)`` is a ``rows × words`` uint64 array, ``rows`` the product of all
extents but the last and ``words`` enough 64-bit words for the last (one row for a unary relation, one row of one
word for a relation without arguments); bit ``j % 64`` of word ``j // 64`` of a row holds position ``j`` of the
last argument, little-endian, and bits past the last position are 0. A stratum packs the relations it reads once,
keeps its own relations packed across rounds, joins a rule by its ``bitset_plan`` with the compiled kernels
(``bitset_native``) and ends each round with one pass per relation: ``delta = derived & ~known; known |= delta``,
counting the delta's bits. A rule without a plan joins by ``tlc_runtime.sparse`` on unpacked copies.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from tlc_runtime import bitset_axes as axes, sparse as rs
from tlc_runtime.bitset_native import BitsetKernels, words_for
from tlc_runtime.bitset_plan import (And, Cross, Diagonal, Filter, Fix, Join, Mask, Not, Permute, Plan, Product,
                                     Project, Transpose, diagonal_order, head_variables, plan, variable_sizes)


_STAMPS = itertools.count()
"""Each state of each ``Bits``'s words gets the next number (its ``stamp``): equal stamps, equal words."""

SCATTER = 4
"""A product joins with the right side's rows as CSR (a bit set per column of each row) when it holds fewer than one
tuple per this many words: a scattered bit costs about as much as this many word ORs of a row."""


class Bits:
    """A relation as bitset rows (see the module docstring); ``count`` is its number of tuples when known."""

    __slots__ = ("words", "shape", "count", "stamp", "_transposed", "_csr", "_selected")

    def __init__(self, words: np.ndarray, shape: tuple[int, ...], count: int | None = None):
        self.words = words
        self.shape = tuple(int(n) for n in shape)
        self.count = count
        self.stamp = next(_STAMPS)
        self._transposed: np.ndarray | None = None
        self._csr: tuple[np.ndarray, np.ndarray] | None = None
        self._selected: dict = {}

    @classmethod
    def empty(cls, shape: tuple[int, ...]) -> Bits:
        """No tuple."""
        return cls(np.zeros(_layout(shape), dtype=np.uint64), shape, 0)

    def copy(self) -> Bits:
        """A copy of the words (and count)."""
        return Bits(self.words.copy(), self.shape, self.count)

    def nonempty(self) -> bool:
        """True when the relation holds a tuple."""
        return bool(self.count) if self.count is not None else bool(self.words.any())

    def changed(self) -> None:
        """Forget what was derived from the words (they were written)."""
        self.count = None
        self.stamp = next(_STAMPS)
        self._transposed = None
        self._csr = None
        self._selected = {}

    def csr(self) -> tuple[np.ndarray, np.ndarray]:
        """The rows of each value of the first argument as CSR ``(indptr, columns)``, the rows of the other arguments
        one long row (kept until the words change)."""
        if self._csr is None:
            self._csr = rows_csr(self.words.reshape(self.shape[0], -1) if len(self.shape) > 2 else self.words)
        return self._csr

    def selected(self, key, make) -> np.ndarray:
        """``make()``, kept under ``key`` until the words change: the row, column, slice or diagonal a rule's
        constant or repeated variable selects, made once for a relation every round reads."""
        if key not in self._selected:
            self._selected[key] = make()
        return self._selected[key]

    def derived(self, key, stamps: tuple, make):
        """``make()``, kept under ``key`` while the words of this relation and of those stamped ``stamps`` stay as
        they are: a step of a rule's plan over relations no round changes (an input masked, projected or reordered)
        runs once. One value per key: a new ``stamps`` replaces it."""
        kept = self._selected.get(key)
        if kept is None or kept[0] != stamps:
            kept = self._selected[key] = (stamps, make())
        return kept[1]

    def transposed(self, kernels: BitsetKernels) -> np.ndarray:
        """A binary relation's words with its arguments swapped (kept until the words change)."""
        if self._transposed is None:
            self._transposed = kernels.transpose(self.words, self.shape[1])
        return self._transposed

    def __len__(self) -> int:
        if self.count is None:
            self.count = popcount(self.words)
        return self.count

    def __array__(self, dtype=None, copy=None):
        out = dense(self)
        return out.astype(dtype) if dtype is not None else out

    def __repr__(self) -> str:
        return f"Bits({self.shape})"


def popcount(words: np.ndarray) -> int:
    """The number of bits set in ``words``."""
    if hasattr(np, "bitwise_count"):    # NumPy 2
        return int(np.bitwise_count(words).sum(dtype=np.int64))
    return int(np.unpackbits(words.view(np.uint8)).sum(dtype=np.int64))


def rows_csr(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bitset rows as CSR ``(indptr, columns)``, columns ascending in each row: only the words holding a bit are
    unpacked."""
    row, word = np.nonzero(words)
    bits = np.unpackbits(words[row, word].view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
    at, bit = np.nonzero(bits)
    indptr = np.zeros(words.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(row[at], minlength=words.shape[0]), out=indptr[1:])
    return indptr, word[at].astype(np.int64) * 64 + bit


def _layout(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(rows, words)`` of a relation of ``shape``."""
    if not shape:
        return 1, 1
    return math.prod(shape[:-1]), words_for(shape[-1])


def pack(value, shape: tuple[int, ...]) -> Bits:
    """``value`` (``Bits``, ``Tuples``, a dense array or None for empty) as ``Bits`` of ``shape`` (``rs.store``'s
    padding: false past ``value``'s extents); a ``Bits`` of that shape is returned as it is."""
    shape = tuple(int(n) for n in shape)
    if isinstance(value, Bits) and value.shape == shape:
        return value
    if value is None:
        return Bits.empty(shape)
    if isinstance(value, rs.Tuples) and shape:
        return _from_keys(rs.store(value, shape, rs.SPARSE).keys, shape)
    array = rs.store(dense(value) if isinstance(value, Bits) else value, shape, rs.DENSE)
    rows, words = _layout(shape)
    out = np.zeros((rows, words), dtype=np.uint64)
    if not shape:
        out[0, 0] = np.uint64(bool(array))
        return Bits(out, shape)
    packed = np.packbits(array.reshape(rows, shape[-1]), axis=1, bitorder="little")   # little-endian words
    out.view(np.uint8)[:, :packed.shape[1]] = packed
    return Bits(out, shape)


def pack_slice(value, shape: tuple[int, ...], fixed: tuple) -> Bits:
    """The tuples of ``value`` (a relation of ``shape``, anything ``rs.store`` takes) holding position ``p`` at
    argument ``a`` for each ``(a, p)`` of ``fixed``, as ``Bits`` over its other arguments: a slice of a relation too
    large to pack whole, made from its tuples (positions past an extent hold none)."""
    shape = tuple(int(n) for n in shape)
    at = dict(fixed)
    rest = tuple(n for axis, n in enumerate(shape) if axis not in at)
    if not all(0 <= p < shape[a] for a, p in at.items()):
        return Bits.empty(rest)
    coordinates = np.unravel_index(rs.store(value, shape, rs.SPARSE).keys, shape)
    keep = np.logical_and.reduce([coordinates[a] == p for a, p in at.items()])
    if not rest:
        return pack(np.array(bool(keep.any())), ())
    kept = [c[keep] for axis, c in enumerate(coordinates) if axis not in at]
    return _from_keys(np.ravel_multi_index(kept, rest), rest)     # still sorted: the fixed arguments are constant


def _from_keys(keys: np.ndarray, shape: tuple[int, ...]) -> Bits:
    """The ``Bits`` of the sorted, distinct C-order ``keys`` of a relation of ``shape``: each word the OR of its bits
    (``reduceat`` over the runs of keys in one word)."""
    rows, words = _layout(shape)
    out = np.zeros(rows * words, dtype=np.uint64)
    if len(keys):
        row, column = np.divmod(keys, shape[-1])
        at = row * words + (column >> 6)
        starts = np.flatnonzero(np.concatenate(([True], at[1:] != at[:-1])))
        out[at[starts]] = np.bitwise_or.reduceat(np.left_shift(np.uint64(1), (column & 63).astype(np.uint64)), starts)
    return Bits(out.reshape(rows, words), shape, len(keys))


def unpacked(value):
    """A ``Bits`` relation as ``rs.conjunction`` reads it best: ``Tuples`` when sparse (``rs.FRONTIER_DENSITY``),
    else a dense Boolean array; made from the words without a dense copy when sparse."""
    if not isinstance(value, Bits):
        return value
    size = math.prod(value.shape)
    if not value.shape or len(value) > rs.FRONTIER_DENSITY * size:
        return dense(value)
    indptr, columns = rows_csr(value.words)
    row = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    return rs.Tuples(row * value.shape[-1] + columns, value.shape)


def dense(value) -> np.ndarray:
    """A ``Bits`` relation as a dense Boolean array (other relations as ``rs.store`` makes them dense)."""
    if not isinstance(value, Bits):
        return np.asarray(value, dtype=bool)
    if not value.shape:
        return np.array(bool(value.words[0, 0] & np.uint64(1)))
    rows = value.words.shape[0]
    flat = np.unpackbits(value.words.view(np.uint8), axis=1, count=value.shape[-1], bitorder="little")
    return flat.view(bool).reshape(rows, value.shape[-1]).reshape(value.shape)


def advance(new: Bits, known: Bits, kernels: BitsetKernels) -> Bits:
    """The semi-naive step: ``new`` keeps only what ``known`` lacks and ``known`` gains it, in one pass; returns
    ``new``, the delta (its ``count`` set)."""
    count = kernels.advance(new.words, known.words)
    new.changed()
    new.count = count
    known.changed()
    return new


def union_into(target: Bits, value, kernels: BitsetKernels) -> Bits:
    """``target |= value`` in place (``value`` packed to ``target``'s shape first); returns ``target``."""
    value = pack(value, target.shape)
    kernels.combine("or", target.words, target.words, value.words)
    target.changed()
    return target


def conjunction(head, shape, atoms, negated, target: Bits, kernels: BitsetKernels, delta: int | None = None) -> Bits:
    """``target |= `` the head relation one rule derives (``rs.conjunction``'s ``head``, ``atoms`` and ``negated``,
    their relations ``Bits`` or anything ``pack`` takes), joined by the rule's ``bitset_plan`` (atom ``delta``
    first; a rule without one joins by ``rs.conjunction``, which emitted code calls itself); returns ``target``."""
    head, shape = tuple(head), tuple(int(n) for n in shape)
    steps = plan(head, tuple(tuple(s) for _, s in atoms), tuple(tuple(s) for _, s in negated), delta)
    if steps is None:
        raise ValueError(f"a rule with head {head} and atoms {[s for _, s in atoms]} has no bitset plan")
    run = _Run(head, shape, atoms, negated, kernels, delta)
    result = run.run(steps)
    if result is not None:
        if steps.place is None:
            kernels.combine("or", target.words, target.words, result)
        elif len(head) > 2:
            axes.place(target.words, target.shape, head, result, run.sizes, kernels)
        else:
            _place(target, steps.place, result, kernels)
        target.changed()
    return target


def _place(target: Bits, head: tuple, words: np.ndarray, kernels: BitsetKernels) -> None:
    """``target`` gains the tuples ``words`` holds over ``head``'s variables (one row, or true) at the row, column,
    diagonal or bit ``head``'s constants or repeated variable name; positions past ``target``'s extents hold none."""
    inside = all(0 <= v < n for v, n in zip(head, target.shape) if not isinstance(v, str))
    if not inside:
        return
    if len(head) == 1 or not any(isinstance(v, str) for v in head):      # R(3) or R(3, 4): one bit
        position = head[-1]
        target.words[head[0] if len(head) == 2 else 0, position >> 6] |= np.uint64(1) << np.uint64(position & 63)
    elif isinstance(head[1], str) and not isinstance(head[0], str):      # R(3, x): a row
        target.words[head[0], :words.shape[1]] |= words[0]
    elif isinstance(head[0], str) and head[0] == head[1]:                 # R(x, x): the diagonal
        kernels.place(target.words, words, 0, 1)
    else:                                                                  # R(x, 3): a column
        kernels.place(target.words, words, head[1])


class _Run:
    """One rule's plan on bitset arrays: each factor's words over its variables' extents (``sizes``: the smallest
    extent each variable has among the atoms, cut to the head's; positions past an atom's extent hold nothing). An
    atom with constants or a repeated variable keeps its relation's extents (``extents``) until its ``Fix`` and
    ``Diagonal`` steps, which come first, have run."""

    def __init__(self, head, shape, atoms, negated, kernels: BitsetKernels, delta: int | None = None):
        self.kernels = kernels
        self.shape = shape
        self.head = head_variables(head)
        self.sizes = variable_sizes(head, shape, [(relation.shape, spec) for relation, spec in atoms])
        self.extents: dict[int, tuple] = {}
        """Factors still to be reduced -> their arguments' extents."""
        self.factors: list[tuple] = [self.factor(n, r, s) for n, (r, s) in enumerate((*atoms, *negated))]
        """Per factor: (variables in order, words, the Bits it came from while still untouched)."""
        self.sources = [r if isinstance(r, Bits) else None for r, _ in (*atoms, *negated)]
        self.origins: list[tuple | None] = [None if n == delta or r is None else (n,)
                                            for n, r in enumerate(self.sources)]
        """Per factor: the atoms (all relations ``Bits`` and not the delta) its words were made from, else None."""

    def factor(self, slot: int, relation, spec) -> tuple:
        bits = relation if isinstance(relation, Bits) else pack(relation, relation.shape)
        spec = tuple(spec)
        if not all(isinstance(v, str) for v in spec) or len(set(spec)) < len(spec):
            self.extents[slot] = bits.shape
            return spec, bits.words, bits
        target = tuple(self.sizes[v] for v in spec)
        if bits.shape != target:
            bits = _cut(bits, target)
        return spec, bits.words, bits

    def run(self, steps: Plan) -> np.ndarray | None:
        """The head's words over ``shape`` (over its variables' sizes for a head to place), or None when the rule
        derives nothing."""
        handlers = {Transpose: self.transpose, And: self.intersect, Filter: self.filter, Product: self.product,
                    Project: self.project, Cross: self.cross, Fix: self.fix, Diagonal: self.diagonal, Not: self.flip,
                    Permute: self.permute, Mask: self.mask, Join: self.join}
        for index, step in enumerate(steps.steps):
            if self.extents and not isinstance(step, (Fix, Diagonal, Not)):
                self.cut_reduced()
            operands = _operands(step)
            origins = [self.origins[slot] for slot in operands]
            if isinstance(step, (Fix, Diagonal, Not)) or None in origins:     # selections keep their own cache
                handlers[type(step)](step)
                self.origins[operands[0]] = None if None in origins else origins[0]
                continue
            atoms = tuple(sorted({n for origin in origins for n in origin}))
            stamps = tuple(self.sources[n].stamp for n in atoms)

            def make(step=step) -> tuple:
                handlers[type(step)](step)
                return self.factors[operands[0]][:2]
            key = (steps, index, tuple(self.sizes.items()))     # the same plan may join relations cut otherwise
            variables, words = self.sources[atoms[0]].derived(key, stamps, make)
            self.set(operands[0], variables, words)
            self.origins[operands[0]] = atoms
        if self.extents:
            self.cut_reduced()
        if any(not self.factors[f][1][0, 0] & np.uint64(1) for f in steps.flags):
            return None
        if steps.result is None:
            return np.ones((1, 1), dtype=np.uint64)
        _, words, _ = self.factors[steps.result]
        size = tuple(self.sizes[v] for v in self.head)
        if steps.place is not None or size == self.shape:
            return words
        return _cut(Bits(words, size), self.shape).words

    def set(self, slot: int, variables: tuple, words: np.ndarray) -> None:
        self.factors[slot] = (variables, words, None)

    def reduce(self, slot: int, key, make) -> np.ndarray:
        """``make()``, kept by the relation factor ``slot`` came from while it is its first step."""
        source = self.factors[slot][2]
        return make() if source is None else source.selected(key, make)

    def fix(self, step: Fix) -> None:
        spec, words, _ = self.factors[step.slot]
        extents = self.extents[step.slot]
        rest = extents[:step.axis] + extents[step.axis + 1:]
        self.extents[step.slot] = rest
        position = step.position

        def select() -> np.ndarray:
            if not 0 <= position < extents[step.axis]:
                return Bits.empty(rest).words
            if len(extents) == 1:       # a test of one bit
                return (words[:, position >> 6:(position >> 6) + 1] >> np.uint64(position & 63)) & np.uint64(1)
            if step.axis == len(extents) - 1:   # the last argument: a column of bits, gathered
                return self.kernels.gather(words, math.prod(rest[:-1]), rest[-1], position)
            return axes.take(words, extents, step.axis, position)       # an earlier one: rows
        out = self.reduce(step.slot, (step.axis, position), select)
        self.set(step.slot, spec[:step.axis] + spec[step.axis + 1:], out)

    def diagonal(self, step: Diagonal) -> None:
        spec, words, _ = self.factors[step.slot]
        extents = self.extents[step.slot]
        first, second = step.first, step.second
        side = min(extents[first], extents[second])
        self.extents[step.slot] = diagonal_order(extents[:first] + (side,) + extents[first + 1:], first, second)

        def select() -> np.ndarray:
            return axes.diagonal(words, extents, first, second, self.kernels)
        self.set(step.slot, diagonal_order(spec, first, second), self.reduce(step.slot, ("diagonal", first, second),
                                                                             select))

    def flip(self, step: Not) -> None:
        spec, words, _ = self.factors[step.slot]
        self.set(step.slot, spec, words ^ np.uint64(1))

    def cut_reduced(self) -> None:
        """Cut every reduced factor to its variables' sizes (its ``Fix`` and ``Diagonal`` steps have run)."""
        for slot in self.extents:
            spec, words, _ = self.factors[slot]
            shape = tuple(self.sizes[v] for v in spec)
            if spec and self.extents[slot] != shape:
                words = axes.cut(words, self.extents[slot], shape)
            self.set(slot, spec, words)
        self.extents.clear()

    def transpose(self, step: Transpose) -> None:
        (a, b), words, source = self.factors[step.slot]
        flipped = source.transposed(self.kernels) if source is not None else \
            self.kernels.transpose(words, self.sizes[b])
        self.set(step.slot, (b, a), flipped)

    def permute(self, step: Permute) -> None:
        variables, words, _ = self.factors[step.slot]
        order = tuple(variables.index(v) for v in step.variables)
        self.set(step.slot, step.variables, axes.permute(words, self.extents_of(variables), order, self.kernels))

    def extents_of(self, variables: tuple) -> tuple[int, ...]:
        return tuple(self.sizes[v] for v in variables)

    def mask(self, step: Mask) -> None:
        variables, words, _ = self.factors[step.into]
        other = self.factors[step.other]
        out = axes.joined([(variables, words, False), (step.variables, other[1], step.negate)], variables,
                          self.sizes)
        self.set(step.into, variables, out)

    def join(self, step: Join) -> None:
        left, right = self.factors[step.left], self.factors[step.right]
        out = axes.joined([(left[0], left[1], False), (right[0], right[1], False)], step.variables, self.sizes)
        self.set(step.left, step.variables, out)

    def intersect(self, step: And) -> None:
        variables, words, _ = self.factors[step.into]
        out = np.empty_like(words)
        self.kernels.combine("andnot" if step.negate else "and", out, words, self.factors[step.other][1])
        self.set(step.into, variables, out)

    def filter(self, step: Filter) -> None:
        variables, words, _ = self.factors[step.into]
        mask = self.factors[step.other][1]
        out = np.empty_like(words)
        if step.axis == 1:
            self.kernels.combine("andnot" if step.negate else "and", out, words, mask)
        else:
            self.kernels.select(out, words, mask, invert=step.negate)
        self.set(step.into, variables, out)

    def product(self, step: Product) -> None:
        left_variables, left, _ = self.factors[step.left]
        right_variables, right, source = self.factors[step.right]
        kept = len(step.kept)
        variables = left_variables[:-1] + right_variables[kept + 1:]
        batches = math.prod(self.sizes[v] for v in step.kept)
        long = math.prod(self.sizes[v] for v in right_variables[kept + 1:-1]) * right.shape[1]
        out = np.zeros((left.shape[0], long), dtype=np.uint64)
        if out.size and right.size:
            # the rows of every other variable of the right: one long row; a batch of rows per kept combination
            right = right.reshape(batches * self.sizes[step.variable], long)
            live = np.zeros((batches, left.shape[1]), dtype=np.uint64)
            found = self.kernels.any(right) if not kept else \
                axes.pack_rows(right.reshape(batches, -1, long).any(axis=2))
            live[:, :found.shape[1]] = found
            if not kept and source is not None and SCATTER * len(source) < right.size:    # a bit per column
                self.kernels.scatter(out, left, *source.csr(), live)
            else:
                self.kernels.product(out, left, right, live, batches)
        self.set(step.left, variables, out.reshape(-1, words_for(self.sizes[variables[-1]])))

    def project(self, step: Project) -> None:
        variables, words, _ = self.factors[step.slot]
        axis = variables.index(step.variable)
        if len(variables) == 1:
            out = np.array([[np.uint64(bool(words.any()))]], dtype=np.uint64)
        elif len(variables) > 2:
            out = axes.project(words, self.extents_of(variables), axis)
        elif axis == 1:
            out = self.kernels.any(words)
        else:       # the OR of every row: a product with a left row holding every row
            rows = words.shape[0]
            every = pack(np.ones(rows, dtype=bool), (rows,)).words
            out = np.zeros((1, words.shape[1]), dtype=np.uint64)
            self.kernels.product(out, every, words, every)
        self.set(step.slot, tuple(v for v in variables if v != step.variable), out)

    def cross(self, step: Cross) -> None:
        (a,), left, _ = self.factors[step.left]
        (b,), right, _ = self.factors[step.right]
        out = np.empty((self.sizes[a], right.shape[1]), dtype=np.uint64)
        self.kernels.select(out, right, left)
        self.set(step.left, (a, b), out)



def _operands(step) -> tuple[int, ...]:
    """The factors a step reads, the one it writes first."""
    if hasattr(step, "into"):
        return step.into, step.other
    if hasattr(step, "left"):
        return step.left, step.right
    return (step.slot,)


def _cut(bits: Bits, shape: tuple[int, ...]) -> Bits:
    """``bits`` as a relation of ``shape`` (as many arguments): cut or padded with false."""
    return Bits(axes.cut(bits.words, bits.shape, shape), shape)
