"""Subscripts of an einsum call: strings, bytes and the interleaved form, checked and spelled out explicitly."""

from __future__ import annotations

import collections
import operator
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from opt_einsum.parser import gen_unused_symbols, get_symbol

from tlc.einsum.errors import EinsumTypeError
from tlc.errors import EinsumError

LETTERS = string.ascii_letters
"""The labels ``numpy.einsum`` itself accepts."""
NUMPY_INTERLEAVED = string.ascii_uppercase + string.ascii_lowercase
"""numpy's spelling of interleaved label k (0-25 upper case, 26-51 lower case), so sorting keeps k's order."""


@dataclass(frozen=True, slots=True)
class Subscripts:
    """One call's subscripts, checked against the operands' shapes, with every ``'...'`` spelled out."""

    terms: tuple[str, ...]
    """Each operand's labels, one character per axis."""
    output: str
    """The output's labels (numpy's implicit output when the call gave none)."""
    sizes: dict[str, int]
    """Every label's extent (extent 1 broadcasts, as in numpy)."""

    @property
    def equation(self) -> str:
        """The explicit equation ``'in,...->out'`` in the call's own labels."""
        return ",".join(self.terms) + "->" + self.output

    def in_letters(self) -> str | None:
        """The equation in labels ``numpy.einsum`` accepts (letters kept, others renamed), or None past 52."""
        labels = set(self.sizes)
        if len(labels) > len(LETTERS):
            return None
        spare = iter(c for c in LETTERS if c not in labels)
        rename = {c: (c if c in LETTERS else next(spare)) for c in sorted(labels)}
        return ",".join("".join(map(rename.__getitem__, t)) for t in self.terms) + "->" + "".join(
            map(rename.__getitem__, self.output))


def split_call(args: Sequence[Any], *, numpy_labels: bool) -> tuple[str, tuple[Any, ...]]:
    """``(subscripts text, operands)`` from ``einsum``'s positional arguments, either form.

    ``numpy_labels``: interleaved labels are ints in [0, 52) as numpy requires; otherwise any sortable
    hashables, named as opt_einsum names them (``get_symbol`` of their rank)."""
    if not args:
        raise EinsumTypeError("einsum needs subscripts and at least one operand (no input operands were given)")
    first = args[0]
    if isinstance(first, bytes):
        try:
            first = first.decode("ascii")
        except UnicodeDecodeError:
            raise EinsumError(f"subscripts {first!r} are bytes that are not ASCII") from None
    if isinstance(first, str):
        return first, tuple(args[1:])
    return _from_interleaved(args, numpy_labels)


def parse(text: str, shapes: Sequence[tuple[int, ...]]) -> Subscripts:
    """Check ``text`` against ``shapes``: the explicit terms, output and every label's extent."""
    if not shapes:
        raise EinsumError("einsum needs at least one operand after the subscripts")
    text = "".join(c for c in text if not c.isspace())
    if text.count("->") > 1:
        raise EinsumError(f"subscripts {text!r} contain '->' more than once")
    inputs, arrow, output = text.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise EinsumError(f"subscripts {text!r} name {len(terms)} operands but {len(shapes)} were given")
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
        ellipsis_ndims.append(len(shape) - named if "..." in term else 0)
    broadcast = "".join(gen_unused_symbols(text, max(ellipsis_ndims)))
    expanded = [
        "".join(broadcast[len(broadcast) - e:] if c == "..." else c for c in term)
        for term, e in zip(labels, ellipsis_ndims)
    ]
    out = _output(output if arrow else None, expanded, broadcast, any(ellipsis_ndims))
    return Subscripts(tuple(expanded), out, _sizes(expanded, shapes, broadcast))


def _output(output: str | None, inputs: Sequence[str], broadcast: str, broadcasting: bool) -> str:
    """Checked explicit output labels, or numpy's implicit ``'...'`` plus the once-used labels, sorted."""
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
    """Split one term into labels and at most one ``'...'``; labels are letters or non-ASCII symbols."""
    rest = term.replace("...", "", 1)
    if "." in rest:
        raise EinsumError(f"'.' in {where} ({term!r}) is not part of a single '...'")
    for c in rest:
        if c.isascii() and c not in LETTERS:
            raise EinsumError(
                f"invalid index {c!r} in {where} ({term!r}); indices are letters a-z, A-Z or non-ASCII symbols"
                " (opt_einsum.get_symbol)"
            )
    head, dots, tail = term.partition("...")
    return [*head, *([dots] if dots else []), *tail]


def _sizes(terms: Sequence[str], shapes: Sequence[tuple[int, ...]], broadcast: str) -> dict[str, int]:
    """Extent of every label, where extent 1 broadcasts across operands as in numpy; raise on a mismatch."""
    sizes: dict[str, tuple[int, int]] = {}  # label -> (extent, operand that set it)
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


def _from_interleaved(args: Sequence[Any], numpy_labels: bool) -> tuple[str, tuple[Any, ...]]:
    """Turn ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` into a subscripts string and the operands."""
    if len(args) < 2:
        raise EinsumError("the interleaved form needs at least one operand followed by its subscript list")
    n = len(args) // 2
    sublists = []
    for k, sublist in enumerate([*args[1:2 * n:2], *args[2 * n:]]):
        try:
            sublists.append(list(sublist))
        except TypeError:
            where = "the output" if k == n else f"operand {k}"
            raise EinsumTypeError(f"the subscripts of {where} ({sublist!r}) are not a list") from None
    try:
        symbols = {s for sub in sublists for s in sub if s is not Ellipsis}
    except TypeError:
        raise EinsumTypeError("interleaved subscripts must be Ellipsis or hashable labels") from None
    name = _numpy_names(symbols) if numpy_labels else _opt_einsum_names(symbols)
    spelled = ["".join("..." if s is Ellipsis else name[s] for s in sub) for sub in sublists]
    text = ",".join(spelled[:n]) + ("->" + spelled[n] if len(args) % 2 else "")
    return text, tuple(args[0:2 * n:2])


def _numpy_names(symbols: set[Any]) -> dict[Any, str]:
    """numpy's names of interleaved labels: ints in [0, 52)."""
    name = {}
    for s in symbols:
        try:
            k = operator.index(s)
        except TypeError:
            raise EinsumTypeError(f"interleaved subscript {s!r} is neither an integer nor Ellipsis") from None
        if not 0 <= k < len(NUMPY_INTERLEAVED):
            raise EinsumError(f"interleaved subscript {k} is outside the valid range [0, {len(NUMPY_INTERLEAVED)})")
        name[s] = NUMPY_INTERLEAVED[k]
    return name


def _opt_einsum_names(symbols: set[Any]) -> dict[Any, str]:
    """opt_einsum's names of interleaved labels: numpy's for ints in [0, 52), else ``get_symbol`` by rank."""
    if all(isinstance(s, int) and 0 <= s < len(NUMPY_INTERLEAVED) for s in symbols):
        return {s: NUMPY_INTERLEAVED[s] for s in symbols}
    try:
        ranked = sorted(symbols)
    except TypeError:
        raise EinsumTypeError("interleaved subscripts must be Ellipsis or hashable, comparable labels") from None
    return {s: get_symbol(k) for k, s in enumerate(ranked)}
