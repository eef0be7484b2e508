"""Bitset rows of a relation of any arity rearranged by argument: the steps of ``bitset_plan`` that ``bitsets`` runs
on factors of three or more variables.

A relation of extents ``(n0, ..., nk)`` is a ``rows × words`` uint64 array (``tlc_runtime.bitsets``): row ``(i0, ...,
i(k-1))`` in C order, argument ``k`` as bits. Whatever moves, slices or reduces whole rows (reordering the arguments
other than the last, a constant in one of them, a diagonal of two of them, the OR over one of them, broadcasting a
factor over the rows of a larger one) is a NumPy view or copy of words, never of single tuples; what moves bits
between the last argument and another is the compiled batched transpose (``BitsetKernels.transpose``) or gather.
"""

from __future__ import annotations

import math

import numpy as np

from tlc_runtime.bitset_native import BitsetKernels, words_for
from tlc_runtime.bitset_plan import diagonal_order, head_variables, repeats_last


def rows_of(words: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``words`` viewed with one axis per argument but the last, then the words of a row."""
    return words.reshape(*shape[:-1], words.shape[1])


def flat(view: np.ndarray) -> np.ndarray:
    """A C-contiguous ``rows × words`` copy (or view) of ``view`` (axes per argument, then words)."""
    return np.ascontiguousarray(view).reshape(-1, view.shape[-1])


def cut(words: np.ndarray, shape: tuple[int, ...], target: tuple[int, ...]) -> np.ndarray:
    """The words of a relation of ``shape`` as one of ``target`` (as many arguments): cut or padded with false."""
    if shape == target:
        return words
    if len(shape) > 1 and shape[1:] == target[1:] and target[0] <= shape[0]:   # a prefix of rows: C-contiguous
        return words[:math.prod(target[:-1])]
    out = np.zeros((*target[:-1], words_for(target[-1])), dtype=np.uint64)
    kept = tuple(slice(0, min(a, b)) for a, b in zip(shape[:-1], target[:-1]))
    spans = min(out.shape[-1], words.shape[1])
    out[(*kept, slice(0, spans))] = rows_of(words, shape)[(*kept, slice(0, spans))]
    out = out.reshape(-1, out.shape[-1])
    word, offset = divmod(min(shape[-1], target[-1]), 64)
    if word < out.shape[1]:
        out[:, word] &= np.uint64((1 << offset) - 1)
        out[:, word + 1:] = 0
    return out


def take(words: np.ndarray, shape: tuple[int, ...], axis: int, position: int) -> np.ndarray:
    """The rows holding ``position`` at argument ``axis`` (not the last), over the other arguments."""
    if axis == 0:
        stride = math.prod(shape[1:-1])
        return words[position * stride:(position + 1) * stride]
    return flat(np.take(rows_of(words, shape), position, axis=axis))


def diagonal(words: np.ndarray, shape: tuple[int, ...], first: int, second: int,
             kernels: BitsetKernels) -> np.ndarray:
    """The tuples whose arguments ``first`` and ``second`` (``first < second``) are equal, over the arguments
    ``bitset_plan.diagonal_order`` leaves (extents: the smaller of the two for the one kept)."""
    side = min(shape[first], shape[second])
    if side == 0 or 0 in shape:
        kept = diagonal_order(shape[:first] + (side,) + shape[first + 1:], first, second)
        return np.zeros((math.prod(kept[:-1]), words_for(kept[-1])), dtype=np.uint64)
    view = rows_of(words, shape)
    if second < len(shape) - 1:         # two row arguments: a NumPy diagonal of rows
        return flat(np.moveaxis(np.diagonal(view, axis1=first, axis2=second)[..., :side], -1, first))
    strides = row_strides(shape)        # argument first's rows read in place, a bit of each
    others = [a for a in range(len(shape) - 1) if a != first]
    base = first_rows([shape[a] for a in others], [strides[a] for a in others])
    return kernels.gather(words, len(base), side, 0, 1, base, strides[first])


def row_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The rows between consecutive values of each argument but the last of a relation of ``shape``."""
    return tuple(math.prod(shape[a + 1:-1]) for a in range(len(shape) - 1))


def first_rows(extents, strides, offset: int = 0) -> np.ndarray:
    """The row ``offset + Σ i_a × strides[a]`` of every combination of ``i_a < extents[a]``, in C order."""
    rows = np.full(1, offset, dtype=np.int64)
    for extent, stride in zip(extents, strides):
        rows = (rows[:, None] + np.arange(extent, dtype=np.int64) * stride).reshape(-1)
    return rows


def permute(words: np.ndarray, shape: tuple[int, ...], order: tuple[int, ...], kernels: BitsetKernels) -> np.ndarray:
    """The relation with its arguments in the order ``order`` (old argument numbers): rows reordered by NumPy, and
    when the last argument changes, each ``(new last) × (old last)`` bit matrix transposed by the compiled kernel."""
    last = len(shape) - 1
    if 0 in shape:
        return np.zeros((math.prod(shape[a] for a in order[:-1]), words_for(shape[order[-1]])), dtype=np.uint64)
    if order[-1] == last:
        return _rows_in(words, shape, order[:-1])
    rest = tuple(a for a in order[:-1] if a != last)
    before = _rows_in(words, shape, rest + (order[-1],))       # the new last argument last among the rows
    turned = kernels.transpose(before, shape[last], shape[order[-1]])
    middle = tuple(shape[a] for a in rest) + (shape[last], shape[order[-1]])
    return _rows_in(turned, middle, tuple(rest.index(a) if a != last else len(rest) for a in order[:-1]))


def _rows_in(words: np.ndarray, shape: tuple[int, ...], order: tuple[int, ...]) -> np.ndarray:
    """The rows of ``words`` with their arguments (all but the last) in the order ``order``."""
    if order == tuple(range(len(order))):
        return words
    return flat(np.transpose(rows_of(words, shape), (*order, len(order))))


def project(words: np.ndarray, shape: tuple[int, ...], axis: int) -> np.ndarray:
    """The relation without argument ``axis`` (of three or more): the OR over it."""
    if axis < len(shape) - 1:
        return flat(np.bitwise_or.reduce(rows_of(words, shape), axis=axis))
    held = words.any(axis=1).reshape(shape[:-1])
    return pack_rows(held)


def pack_rows(held: np.ndarray) -> np.ndarray:
    """A Boolean array (one or more axes) as bitset rows, its last axis as bits."""
    held = held.reshape(-1, held.shape[-1]) if held.ndim > 1 else held.reshape(1, -1)
    out = np.zeros((held.shape[0], words_for(held.shape[1])), dtype=np.uint64)
    packed = np.packbits(held, axis=1, bitorder="little")
    out.view(np.uint8)[:, :packed.shape[1]] = packed
    return out


def unpack_rows(words: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Bitset rows of a relation of ``shape`` as a dense Boolean array."""
    bits = np.unpackbits(words.view(np.uint8), axis=1, count=shape[-1], bitorder="little")
    return bits.view(bool).reshape(shape)


def joined(parts: list[tuple[tuple, np.ndarray, bool]], variables: tuple, sizes: dict) -> np.ndarray:
    """The words over ``variables`` (with extents ``sizes``) of the tuples that every part ``(its variables, in the
    order of ``variables``; its words; negated)`` holds (does not hold, negated); some part holds the last variable
    and is not negated. A part holding the last variable is ANDed word by word, broadcast over the rows of the
    variables it lacks; one without it selects whole rows."""
    rows = tuple(sizes[v] for v in variables[:-1])
    out = None
    for own, words, negate in sorted(parts, key=lambda part: (part[2], part[0][-1] != variables[-1])):
        extents = tuple(sizes[v] for v in own)
        broadcast = tuple(sizes[v] if v in own else 1 for v in variables[:-1])
        if own[-1] == variables[-1]:
            view = words.reshape(*broadcast, words.shape[1])
            if out is None:
                out = np.broadcast_to(view, (*rows, words.shape[1])).copy()
            else:
                out &= ~view if negate else view
        else:
            held = unpack_rows(words, extents).reshape(broadcast)
            out[np.broadcast_to(held if negate else ~held, rows)] = 0
    return out.reshape(-1, out.shape[-1])


def place(target: np.ndarray, shape: tuple[int, ...], head: tuple, words: np.ndarray, sizes: dict,
          kernels: BitsetKernels) -> None:
    """``target`` (the words of a relation of ``shape``, three or more arguments) gains the tuples ``words`` holds over
    ``bitset_plan.head_variables(head)`` (extents ``sizes``) at the positions ``head``'s constants and repeated
    variables name: whole rows ORed through a strided view of ``target`` (a constant fixes an offset, a repeated
    variable steps by the sum of its arguments' strides), or, for a constant last argument, its bit set in the rows
    held. A last variable ``head`` repeats is the last of ``words``'s variables: bit ``j`` of each row goes to bit
    ``j`` of the row holding ``j`` at that variable's arguments (the compiled place; rows named by the same offsets
    and strides)."""
    if not all(0 <= v < n for v, n in zip(head, shape) if not isinstance(v, str)):
        return      # a constant past an extent: no position to write
    variables = head_variables(head)
    if repeats_last(head):      # each row's bits to the rows of its last variable's values, in place
        strides = row_strides(shape)
        offset = sum(v * strides[a] for a, v in enumerate(head[:-1]) if not isinstance(v, str))
        steps = [sum(strides[a] for a, u in enumerate(head[:-1]) if u == v) for v in variables]
        base = first_rows([sizes[v] for v in variables[:-1]], steps[:-1], offset)
        kernels.place(target, words, 0, 1, sizes[head[-1]], base, steps[-1])
        return
    rows = rows_of(target, shape)
    if isinstance(head[-1], str):
        variables = variables[:-1]
    offset = sum(v * rows.strides[a] for a, v in enumerate(head[:-1]) if not isinstance(v, str))
    strides = tuple(sum(rows.strides[a] for a, u in enumerate(head[:-1]) if u == v) for v in variables)
    extents = tuple(sizes[v] for v in variables)
    start = target.reshape(-1)[offset // target.itemsize:]
    if isinstance(head[-1], str):
        view = np.lib.stride_tricks.as_strided(start, (*extents, words.shape[1]), (*strides, target.itemsize))
        view |= words.reshape(*extents, words.shape[1])
        return
    column = start[head[-1] >> 6:]
    bit = np.uint64(1) << np.uint64(head[-1] & 63)
    if not variables:
        column[0] |= bit
        return
    view = np.lib.stride_tricks.as_strided(column, extents, strides)
    view[unpack_rows(words, extents)] |= bit
