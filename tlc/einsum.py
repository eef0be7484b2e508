"""``einsum``: a drop-in for ``numpy.einsum`` whose contraction order opt_einsum plans once per shape."""

from __future__ import annotations

import collections
import functools
import itertools
import math
import operator
import string
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import opt_einsum

from tlc.contract import contract_path as tlc_contract_path
from tlc.errors import EinsumError

_LETTERS = string.ascii_letters  # numpy's label alphabet; interleaved label k is _LETTERS[k]


@dataclass(frozen=True, slots=True)
class Plan:
    """How one (subscripts, shapes, optimize) call runs: ``numpy.einsum(equation, *ops, optimize=path)``."""

    equation: str
    """Explicit ``'in,...->out'`` subscripts with every ``'...'`` spelled out as letters."""
    path: tuple[Any, ...] | bool
    """opt_einsum's pairwise order as numpy's ``('einsum_path', (i, j), ...)``, or False for one loop nest."""


PLANNED_KINDS = "biufc"
"""dtype kinds tlc plans (Boolean and numbers); others (object, strings, dates) go to ``numpy.einsum`` as given."""


def einsum(subscripts: Any, *operands: Any, optimize: Any = True) -> Any:
    """Evaluate an Einstein summation exactly like ``numpy.einsum``, with a cached contraction plan."""
    if not isinstance(subscripts, str):
        subscripts, operands = _from_interleaved((subscripts, *operands))
    try:
        arrays = [op if isinstance(op, np.ndarray) else np.asarray(op) for op in operands]
    except Exception as err:    # ragged lists, or an operand's own __array__ failed
        raise _numpy_error(err) from err
    plan = contraction_plan(subscripts, tuple(a.shape for a in arrays), _hashable(optimize))
    try:
        if any(a.dtype.kind not in PLANNED_KINDS for a in arrays):
            result = np.einsum(plan.equation, *arrays)   # numpy's own loop (object arrays sum Python objects)
        else:
            if arrays and any(a.dtype != arrays[0].dtype for a in arrays):
                # numpy's one-loop einsum computes in the common type; casting first keeps pairwise
                # intermediates (say int8 * int8 before a float operand) from overflowing.
                dtype = np.result_type(*arrays)
                arrays = [a.astype(dtype, copy=False) for a in arrays]
            result = np.einsum(plan.equation, *arrays, optimize=plan.path)
    except (TypeError, ValueError, ArithmeticError) as err:     # dtypes numpy.einsum refuses, as it words it
        raise _numpy_error(err) from err
    return result[()] if isinstance(result, np.ndarray) and result.ndim == 0 else result


def _numpy_error(err: Exception) -> EinsumError:
    """``numpy.einsum``'s own error as an EinsumError that is still the exception class numpy raised
    (``TypeError``, ``ValueError``, ``OverflowError``, ...), so code catching those keeps working."""
    kind = type(err)
    if issubclass(kind, EinsumError):
        return err
    base = next((b for b in (TypeError, ValueError, OverflowError, ArithmeticError) if issubclass(kind, b)), None)
    if base is None:
        return EinsumError(f"an operand cannot be read as an array: {kind.__name__}: {err}")
    return _ERRORS[base](f"{err}")


class _EinsumTypeError(EinsumError, TypeError):
    pass


class _EinsumOverflowError(EinsumError, OverflowError):
    pass


class _EinsumArithmeticError(EinsumError, ArithmeticError):
    pass


_ERRORS = {TypeError: _EinsumTypeError, ValueError: EinsumError, OverflowError: _EinsumOverflowError,
           ArithmeticError: _EinsumArithmeticError}


@functools.lru_cache(maxsize=1024)
def contraction_plan(subscripts: str, shapes: tuple[tuple[int, ...], ...], optimize: Hashable = True) -> Plan:
    """Check ``subscripts`` against ``shapes`` and plan the call; a repeated call is a cache hit."""
    equation, sizes = _normalise(subscripts, shapes)
    if optimize is False:
        return Plan(equation, False)
    try:
        if optimize is True or optimize == "auto":     # tlc's own search (exact when small)
            path, _ = tlc_contract_path(equation, *shapes, shapes=True)
        else:
            path, _ = opt_einsum.contract_path(equation, *shapes, shapes=True, optimize=optimize)
    except KeyError as err:  # an unknown path optimizer name
        raise EinsumError(f"invalid optimize={optimize!r}: {err.args[0]}") from None
    # One c_einsum loop nest over every index beats a planned call's 10-20 us overhead below about
    # 2**14 points for two operands (numpy has SIMD kernels for them), and each further operand
    # slows the nest down (measured crossovers ~2**12 for three, ~2**11 for four); one operand always.
    if math.prod(sizes.values()) * (len(shapes) - 1) ** 2 <= 2**14:
        return Plan(equation, False)
    return Plan(equation, ("einsum_path", *map(tuple, path)))


def _normalise(subscripts: str, shapes: Sequence[tuple[int, ...]]) -> tuple[str, dict[str, int]]:
    """Spell ``subscripts`` out as ``'in,...->out'`` in letters only; return it with each index's size."""
    if not shapes:
        raise EinsumError("einsum needs a subscripts string and at least one operand")
    text = subscripts.replace(" ", "")
    if text.count("->") > 1:
        raise EinsumError(f"subscripts {subscripts!r} contain '->' more than once")
    inputs, arrow, output = text.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise EinsumError(f"subscripts {subscripts!r} name {len(terms)} operands but {len(shapes)} were given")
    labels = [_labels(term, f"operand {k}") for k, term in enumerate(terms)]

    ellipsis_ndims = []
    for k, (term, shape) in enumerate(zip(labels, shapes)):
        named = len(term) - ("..." in term)
        if named > len(shape):
            raise EinsumError(f"{terms[k]!r} has too many indices for operand {k} of rank {len(shape)}")
        if named < len(shape) and "..." not in term:
            raise EinsumError(
                f"operand {k} has rank {len(shape)} but {terms[k]!r} names {named} indices and has no '...'"
            )
        ellipsis_ndims.append(len(shape) - named)
    broadcast = "".join(itertools.islice((c for c in _LETTERS if c not in text), max(ellipsis_ndims)))
    if len(broadcast) < max(ellipsis_ndims):
        raise EinsumError(f"subscripts {subscripts!r} need more than {len(_LETTERS)} distinct indices")
    expanded = [
        "".join(broadcast[len(broadcast) - e :] if c == "..." else c for c in term)
        for term, e in zip(labels, ellipsis_ndims)
    ]

    out = _output(output if arrow else None, expanded, broadcast, any(ellipsis_ndims))
    return ",".join(expanded) + "->" + out, _sizes(expanded, shapes, broadcast)


def _output(output: str | None, inputs: Sequence[str], broadcast: str, broadcasting: bool) -> str:
    """Checked explicit output letters, or numpy's implicit ``'...'`` plus the once-used indices, sorted."""
    counts = collections.Counter("".join(inputs))
    if output is None:
        return broadcast + "".join(sorted(c for c in counts if counts[c] == 1 and c not in broadcast))
    labels = _labels(output, "the output")
    for c in labels:
        if c != "..." and c not in counts:
            raise EinsumError(f"output index {c!r} does not appear in any input")
        if labels.count(c) > 1:
            raise EinsumError(f"output index {c!r} appears more than once")
    if "..." not in labels and broadcasting:
        raise EinsumError("the inputs broadcast over '...' but the output has no '...'")
    return "".join(broadcast if c == "..." else c for c in labels)


def _labels(term: str, where: str) -> list[str]:
    """Split one term into single-letter labels and at most one ``'...'``, rejecting anything else."""
    rest = term.replace("...", "", 1)
    if "." in rest:
        raise EinsumError(f"'.' in {where} ({term!r}) is not part of a single '...'")
    for c in rest:
        if c not in _LETTERS:
            raise EinsumError(f"invalid index {c!r} in {where} ({term!r}); indices must be letters a-z, A-Z")
    head, dots, tail = term.partition("...")
    return [*head, *([dots] if dots else []), *tail]


def _sizes(terms: Sequence[str], shapes: Sequence[tuple[int, ...]], broadcast: str) -> dict[str, int]:
    """Size of every index, where size 1 broadcasts across operands as in numpy; raise on a mismatch."""
    sizes: dict[str, tuple[int, int]] = {}  # index -> (size, operand that set it)
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        seen: dict[str, int] = {}
        for c, n in zip(term, shape):
            name = "'...'" if c in broadcast else repr(c)
            if seen.setdefault(c, n) != n:
                raise EinsumError(f"index {name} repeats in operand {k} with different sizes {seen[c]} and {n}")
            size, where = sizes.get(c, (1, k))
            if n != 1 and size not in (1, n):
                raise EinsumError(f"index {name} has size {size} in operand {where} but {n} in operand {k}")
            if size == 1:
                sizes[c] = (n, k)
    return {c: n for c, (n, _) in sizes.items()}


def _from_interleaved(args: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
    """Turn numpy's ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` form into a subscripts string and operands."""
    if len(args) < 2:
        raise EinsumError("the interleaved form needs at least one operand followed by its subscript list")
    operands, sublists = args[0::2], list(args[1::2])
    output = "->" + _sublist(args[-1]) if len(args) % 2 else ""
    return ",".join(map(_sublist, sublists)) + output, tuple(operands[: len(sublists)])


def _sublist(sublist: Any) -> str:
    """Spell an interleaved-form sublist of ints in [0, 52) and ``Ellipsis`` as subscripts."""
    chars = []
    for item in sublist:
        if item is Ellipsis:
            chars.append("...")
            continue
        try:
            k = operator.index(item)
        except TypeError:
            raise EinsumError(f"interleaved subscript {item!r} is neither an integer nor Ellipsis") from None
        if not 0 <= k < len(_LETTERS):
            raise EinsumError(f"interleaved subscript {k} is outside the valid range [0, {len(_LETTERS)})")
        chars.append(_LETTERS[k])
    return "".join(chars)


def _hashable(optimize: Any) -> Hashable:
    """Make ``optimize`` a cache key: an explicit path (numpy's ``['einsum_path', ...]`` too) as a tuple."""
    if not isinstance(optimize, (list, tuple)):
        return optimize
    try:
        return tuple(tuple(map(operator.index, step)) for step in optimize if step != "einsum_path")
    except TypeError:
        raise EinsumError(f"optimize={optimize!r} is not a bool, a strategy name or a path") from None
