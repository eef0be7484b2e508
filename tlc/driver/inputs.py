"""Binding inputs to a program: reading and checking each input's data, the symbol table of named constants,
the inputs' extents, and the prepared arrays a planned program runs on.

Every mistake in the data is a located ``DataError`` (the program's first use of the input), raised before
anything large is allocated.
"""

from __future__ import annotations

import decimal
import functools
import itertools
import math
import numbers
import operator
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

import tlc_runtime as rt
from tlc.analysis.relation_plan import closure_shape
from tlc.analysis.shapes import MAX_POSITIONS, axis_components, check_rank, symbolic_axes
from tlc.driver.rows import PlainRows, integer_rows, is_rows, plain_rows, row_list
from tlc_runtime.duckdb_relations import StoredTable, StoredTuples
from tlc.errors import DataError, Problems, TlcError
from tlc.ir import nodes as ir
from tlc.ir.program import Program as IRProgram


@dataclass
class InputData:
    """A call's inputs, read and checked: scalars, arrays (or sparse tuples) and relations given as tuples."""

    scalars: dict[str, float] = field(default_factory=dict)
    arrays: dict[str, np.ndarray | rt.Tuples] = field(default_factory=dict)
    tuples: dict[str, list[tuple] | np.ndarray] = field(default_factory=dict)
    """Relations given as tuples: a list of tuples of names and integers, or (``tlc.Rows`` of an integer array) a
    checked ``(m, rank)`` int64 array."""
    stored: dict[str, StoredTable] = field(default_factory=dict)
    """Relations an earlier run stored in the database file, known by their size: their tuples stay there."""
    string_axes: set = field(default_factory=set)
    """(relation, axis) pairs whose tuples hold names."""


@dataclass(frozen=True)
class Signature:
    """What a specialisation depends on: the named constants, the axes that range over them and the extents
    of every tensor given or declared (``key`` is hashable, for caches)."""

    symbols: tuple
    symbolic: frozenset
    extents: dict

    @functools.cached_property
    def key(self) -> tuple:
        """A hashable form of the signature."""
        return (tuple(sorted(self.extents.items())), self.symbols, tuple(sorted(self.symbolic)))


def ready_key(program: IRProgram, inputs: dict) -> tuple | None:
    """When every input is a float for a scalar or a C-contiguous float64 array for a numeric tensor, within
    ``MAX_INPUT_ELEMENTS`` (as the emitted code takes them: nothing to read, convert or check but the names, already
    checked), the names with the arrays' shapes: a call with the same ones has the same signature, shapes and relation
    plan (no relation data to count). None otherwise."""
    key = []
    tensors, scalars = program.tensors, program.scalars
    for name, value in inputs.items():
        if type(value) is float and name in scalars and name not in tensors:
            key.append((name, None))
        elif type(value) is np.ndarray and value.dtype is FLOAT64 and value.flags.c_contiguous and \
                value.size <= MAX_INPUT_ELEMENTS and name in tensors and not tensors[name].relation:
            key.append((name, value.shape))
        else:
            return None
    return tuple(key)


def read_inputs(program: IRProgram, inputs: dict, memory_limit: int | None) -> InputData:
    """Each input's data read and checked against ``program`` (names must be its tensors or scalars)."""
    data = InputData()
    problems = Problems()       # each input is read alone: every bad one is reported
    for name, value in inputs.items():
        try:
            _read_input(program, data, name, value, memory_limit)
        except TlcError as err:
            problems.add(err)
    problems.raise_any()
    return data


def _read_input(program: IRProgram, data: InputData, name: str, value, memory_limit: int | None) -> None:
    """Read and check one input's data into ``data``."""
    if name in program.scalars and name not in program.tensors:
        data.scalars[name] = read_scalar(name, value, program)
        return
    info = program.tensors[name]
    if info.relation and isinstance(value, StoredTable):
        data.stored[name] = value
        data.string_axes.update((name, a) for a in value.symbolic)     # stored as named constants
        return
    if info.relation and (rows := integer_rows(name, value, info.rank, info.first_use.span)) is not None:
        data.tuples[name] = rows
        return
    if info.relation and is_tuple_data(value):
        rows, named = read_tuples(name, value, info.rank, program)
        data.tuples[name] = rows
        data.string_axes.update((name, a) for a in named)
        return
    array = read_array(name, value, info.relation, program, memory_limit)
    check_rank(program, name, array.shape)
    data.arrays[name] = array


def signature(program: IRProgram, data: InputData, problems: Problems) -> Signature:
    """The symbol table, the symbolic axes and the extents of the inputs (and of declared tensors), checked
    for agreement where an index joins them (each disagreement recorded in ``problems``, with the tensors it
    leaves in doubt)."""
    symbols = dict.fromkeys(program.symbols)   # insertion-ordered, O(1) membership
    symbolic = symbolic_axes(program, data.string_axes)
    for name, stored in list(data.stored.items()):
        if any((name, a) in symbolic and a not in stored.symbolic for a in range(stored.arity)):
            data.tuples[name] = list(stored)    # its integers join names here: they become named constants
            del data.stored[name]
    for name, a, offset in program.integer_indices:   # integers on an axis of named constants are constants too
        if (name, a) in symbolic:
            symbols.setdefault(offset)
    for name, rows in data.tuples.items():
        for a in range(program.tensors[name].rank):
            if (name, a) in symbolic:
                symbols.update(dict.fromkeys(column(rows, a)))    # new ones in order; known ones stay put
    for stored in data.stored.values():        # in the order of their stored positions: often the same ones
        if stored.symbolic:
            for item in stored.names:
                symbols.setdefault(item)
    n_symbols = len(symbols)
    extents = {n: a.shape for n, a in data.arrays.items()}
    for name, rows in data.tuples.items():
        extents[name] = tuple(n_symbols if (name, a) in symbolic else _extent(rows, a)
                              for a in range(program.tensors[name].rank))
    for name, stored in data.stored.items():
        extents[name] = tuple(n_symbols if (name, a) in symbolic else stored.maxima[a] + 1
                              for a in range(stored.arity))
    for decl in program.shapes.values():
        dims = tuple(n_symbols if isinstance(d, str) else d for d in decl.dims)
        if decl.name in extents and extents[decl.name] != dims and decl.name in data.arrays:
            problems.add(DataError(f"data for {decl.name} has shape {extents[decl.name]} but it is declared "
                                   f"{dims}", decl.span), doubtful={decl.name})
        extents[decl.name] = dims
    unify_extents(program, extents, data.arrays, symbolic, n_symbols, problems)
    return Signature(tuple(symbols), frozenset(symbolic), extents)


def nonzeros(program: IRProgram, data: InputData) -> dict[str, int]:
    """Tuples in each input relation (the relation planner's nnz)."""
    nnz = {n: rt.sparse.count(a) for n, a in data.arrays.items() if program.tensors[n].relation}
    nnz.update((n, len(rows)) for n, rows in data.tuples.items())
    nnz.update((n, len(stored)) for n, stored in data.stored.items())     # counted by the database
    return nnz


def closure_reach(program: IRProgram, strata: tuple, data: InputData) -> dict[str, float]:
    """Per input relation that is the step of a closure-shaped stratum, about how many nodes a node reaches
    (``tlc_runtime.reach.mean_reach``, sampled): the relation planner sizes the closure by it."""
    steps = {shape.step.name for stratum in strata
             if (shape := closure_shape(program, stratum)) is not None and shape.step is not None}
    reach = {}
    for name in sorted(steps & set(data.arrays)):
        from scipy import sparse     # a closure's step only: a numeric program never imports scipy
        from tlc_runtime.reach import mean_reach
        value = data.arrays[name]
        reach[name] = mean_reach(value.csr() if isinstance(value, rt.Tuples) else
                                 sparse.csr_matrix(np.asarray(value) != 0))
    return reach


def prepare(data: InputData, symbols: tuple, symbolic: frozenset, extents: dict, storage: dict) -> dict:
    """The inputs as the emitted code takes them: relations stored as the plan says (``storage``: name ->
    ``sparse`` or dense), tuples turned into positions in the tensor of ``extents``."""
    prepared: dict = dict(data.scalars)
    for name, array in data.arrays.items():
        sparse_input = isinstance(array, rt.Tuples) and storage.get(name) == "sparse"
        prepared[name] = array if sparse_input or not isinstance(array, rt.Tuples) else np.asarray(array)
    position = {item: k for k, item in enumerate(symbols)}
    for name, rows in data.tuples.items():
        shape = extents[name]
        if isinstance(rows, np.ndarray) and not any((name, a) in symbolic for a in range(len(shape))):
            positions = rows
        else:
            positions = np.empty((len(rows), len(shape)), dtype=np.int64)
            for a in range(len(shape)):
                items = column(rows, a)
                positions[:, a] = np.fromiter(map(position.__getitem__, items) if (name, a) in symbolic else items,
                                              dtype=np.int64, count=len(rows))
        tuples = rt.Tuples.from_rows(positions, shape)
        prepared[name] = tuples if storage.get(name) == "sparse" else np.asarray(tuples)
    for name, stored in data.stored.items():
        tuples = StoredTuples(stored, extents[name], renumbering(stored, position))
        prepared[name] = tuples if storage.get(name) == "sparse" else np.asarray(tuples)   # read: within budget
    return prepared


def column(rows: list[tuple] | np.ndarray, a: int) -> Iterable:
    """Item ``a`` of every tuple (``InputData.tuples``' rows), as Python values."""
    return rows[:, a].tolist() if isinstance(rows, np.ndarray) else map(operator.itemgetter(a), rows)


def _extent(rows: list[tuple] | np.ndarray, a: int) -> int:
    """One more than the largest position at item ``a`` of integer tuples (0 when there are none)."""
    if isinstance(rows, np.ndarray):
        return int(rows[:, a].max()) + 1 if len(rows) else 0
    return max((int(row[a]) + 1 for row in rows), default=0)


def renumbering(stored: StoredTable, position: dict) -> np.ndarray | None:
    """Each stored position's position in this run (indexed by the stored one), or None when they are the same."""
    if not stored.symbolic or not len(stored.ids):
        return None
    now = np.fromiter((position[item] for item in stored.names), dtype=np.int64, count=len(stored.names))
    if np.array_equal(now, stored.ids):
        return None
    mapping = np.full(int(stored.ids[-1]) + 1, -1, dtype=np.int64)
    mapping[stored.ids] = now
    return mapping


def unify_extents(program: IRProgram, extents: dict, arrays: dict, symbolic: set, n_symbols: int,
                  problems: Problems) -> None:
    """Inputs joined by a plain index must agree (each group of joined axes that does not is recorded in
    ``problems``, its tensors in doubt); tuple-given relations stretch to their domain."""
    for component in axis_components(program):
        doubtful = {name for name, _ in component}
        if component & symbolic:
            for name, a in component:
                if name in arrays and extents[name][a] != n_symbols:
                    problems.add(DataError(f"axis {a} of {name} ranges over the {n_symbols} named constants, "
                                           f"but its data has extent {extents[name][a]}",
                                           program.tensors[name].first_use.span), doubtful)
                    break
            continue
        fixed = [(n, a) for n, a in component if n in arrays and not program.tensors[n].defined]
        sizes = {extents[n][a] for n, a in fixed}
        if len(sizes) > 1:
            (n1, a1), (n2, a2) = sorted(fixed, key=lambda s: extents[s[0]][s[1]])[::len(fixed) - 1]
            problems.add(DataError(f"inconsistent extents for one index: axis {a1} of {n1} has "
                                   f"{extents[n1][a1]} but axis {a2} of {n2} has {extents[n2][a2]}",
                                   joining_span(program, (n1, a1), (n2, a2))), doubtful)
        top = max([extents[n][a] for n, a in component if n in extents], default=0)
        for name, a in component:
            if name in extents and name not in arrays and name not in program.shapes:
                ext = list(extents[name])
                ext[a] = top
                extents[name] = tuple(ext)


FLOAT64, BOOL = np.dtype(np.float64), np.dtype(np.bool_)
"""The dtypes inputs are taken in as they are (compared by identity: ``dtype == np.float64`` took ~1 us)."""

MAX_INPUT_ELEMENTS = 2**34
"""Largest input array tlc reads even without a memory budget (128 GiB of float64); larger ones (a broadcast
view, say) are refused before any pass over them, as are inputs over the budget."""


def scalar_span(program: IRProgram, name: str):
    """Where scalar ``name`` is first read (for messages), or None."""
    for eq in program.equations:
        for node in ir.walk(eq.rhs):
            if isinstance(node, ir.Scalar) and node.name == name:
                return node.span
    return None


def joining_span(program: IRProgram, first, second):
    """Where an equation joins the axes ``first`` and ``second`` (tensor, axis), for messages."""
    for eq in program.equations:
        spots = {(ref.name, a): i.span for ref in (eq.lhs, *ir.refs(eq.rhs)) for a, i in enumerate(ref.indices)}
        if first in spots and second in spots:
            return spots[second]
    return program.tensors[second[0]].first_use.span


def is_tuple_data(value) -> bool:
    """True when ``value`` gives a relation as tuples (a set, or a list of tuples, names or positions)."""
    if isinstance(value, np.ndarray):
        return False
    if isinstance(value, (set, frozenset)) or is_rows(value):
        return True
    try:
        return isinstance(value, (list, tuple)) and (len(value) == 0 or isinstance(value[0], (tuple, list, str))
                                                      or not isinstance(value[0], (list, np.ndarray, float, bool)))
    except Exception:     # a list subclass whose own methods fail: as_array reports it
        return False


def read_tuples(name: str, value, rank: int, program: IRProgram) -> tuple[list[tuple], set[int]]:
    """The tuples of relation ``name``, each checked: ``rank`` items, names or non-negative integers; and the
    positions (axes) where some tuple holds a name."""
    span = program.tensors[name].first_use.span
    if is_rows(value):
        value = row_list(name, value, rank, span)
    plain = plain_rows(value)
    if plain is not None and (not plain or len(plain[0]) == rank):
        return plain, _named(plain)
    rows = []
    try:
        for row in value:
            rows.append(tuple(row) if isinstance(row, (tuple, list)) else (row,))
    except Exception as err:      # the data's own __iter__ failed
        raise DataError(f"cannot read the tuples for relation {name}: {type(err).__name__}: {err}", span) from err
    out = []
    for row in rows:
        if len(row) != rank:
            raise DataError(f"relation {name} has {rank} argument{'s' if rank != 1 else ''} but the tuple "
                            f"{_short(row)} has {len(row)}", span)
        clean = []
        for item in row:
            if isinstance(item, (np.integer, int)) and not isinstance(item, (bool, np.bool_)):
                if not 0 <= item <= MAX_POSITIONS:
                    raise DataError(f"relation {name}: integer constants must be non-negative and below 2^63 "
                                    f"(give large identifiers as strings), got {item} in {_short(row)}", span)
                clean.append(int(item))
            elif isinstance(item, str):
                clean.append(str(item))
            else:
                raise DataError(f"relation {name}: constants must be names (str) or non-negative integers, got "
                                f"{_short(item)} ({type(item).__name__}) in {_short(row)}", span)
        out.append(tuple(clean))
    checked = plain_rows(out)       # names and integers in range, each tuple rank long: never None
    return checked, _named(checked)


def _named(rows: PlainRows) -> set[int]:
    """The positions (axes) where some of ``rows`` holds a name."""
    return {a for a, types in enumerate(rows.kinds) if str in types}


def _short(value, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def as_array(name: str, value, span, relation: bool = False) -> np.ndarray:
    """``value`` as an ndarray; an object array holding only real numbers becomes float64, any other object
    array (strings among numbers, ragged lists, Python objects) is a DataError."""
    try:
        array = np.asarray(value)
    except Exception as err:      # ragged lists, or the data's own __array__ failed
        raise DataError(f"data for {name} is not an array: {type(err).__name__}: {err}", span) from err
    if array.dtype.hasobject:
        if array.ndim == 0 and not is_real(array.item()):
            what = "a Boolean array or a list or set of tuples" if relation else "an array or a number"
            raise DataError(f"data for {name} is a {type(value).__name__} ({_short(value)}), not {what}", span)
        odd = [x for x in itertools.islice((x for x in array.flat if not is_real(x)), 1)]
        if odd:
            odd = odd[0]
            raise DataError(f"data for {name} is an object array holding {_short(odd)} ({type(odd).__name__}); "
                            f"give a numeric or Boolean array", span)
        try:
            array = array.astype(np.float64)
        except (OverflowError, ValueError, TypeError) as err:
            raise DataError(f"data for {name} holds a number that is not a 64-bit float: {err}", span) from None
    return array


def is_real(x) -> bool:
    """True for a real number (a Python, NumPy or Decimal number)."""
    return isinstance(x, (numbers.Real, decimal.Decimal))


def read_array(name: str, value, relation: bool, program: IRProgram,
               limit: int | None = None) -> np.ndarray | rt.Tuples:
    """Data for tensor ``name`` as a float64 array, a Boolean one for a relation (or ``rt.Tuples`` for a
    scipy.sparse matrix), refused before any copy when larger than ``limit`` elements."""
    if type(value) is np.ndarray and value.dtype is (BOOL if relation else FLOAT64) and value.flags.c_contiguous \
            and value.size <= MAX_INPUT_ELEMENTS:
        return value    # as the emitted code takes it: nothing to convert or check (a training loop's every input)
    span = program.tensors[name].first_use.span
    if is_rows(value):
        raise DataError(f"data for {name} is given as rows of tuples, but {name} is a numeric tensor: give an "
                        f"array", span)
    if isinstance(value, rt.Weights):
        if relation or len(program.tensors[name].first_use.indices) != 2:
            raise DataError(f"tlc.Weights is data for a numeric matrix, but {name} is "
                            f"{'a relation' if relation else 'of rank ' + str(program.tensors[name].rank)}", span)
        return value
    if is_scipy_sparse(value):
        if not relation:
            raise DataError(f"data for {name} is a scipy.sparse matrix; a numeric tensor takes a dense array "
                            f"(.toarray()), or tlc.Weights(matrix, absent=...) to say what the absent elements "
                            f"are", span)
        if len(program.tensors[name].first_use.indices) != 2:
            raise DataError(f"a scipy.sparse matrix is data for a binary relation, but {name} has "
                            f"{program.tensors[name].rank} arguments", span)
        data = value.data if value.format in ("csr", "csc", "coo", "bsr") else value.tocoo().data   # no copy
        if data.dtype.kind not in "biuf" or not ((data == 0) | (data == 1)).all():
            raise DataError(f"data for relation {name} must be Boolean (or 0/1); the scipy.sparse matrix holds "
                            f"{'dtype ' + str(data.dtype) if data.dtype.kind not in 'biuf' else 'other values'}",
                            span)
        if math.prod(value.shape) > MAX_POSITIONS:
            raise DataError(f"data for {name} is a scipy.sparse matrix of shape {value.shape}: too large for "
                            f"64-bit positions (the product of a tensor's extents must be below 2^63)", span)
        try:
            return rt.Tuples.from_matrix(value, value.shape)   # kept sparse, true where nonzero
        except MemoryError:
            raise DataError(f"data for {name}, a scipy.sparse matrix of shape {value.shape}, does not fit in "
                            f"memory as a CSR matrix", span) from None
    if is_lazy(value):
        return read_lazy(name, value, relation, span)
    array = as_array(name, value, span, relation)
    ready = array.dtype == (bool if relation else np.float64) and array.flags.c_contiguous
    limit = MAX_INPUT_ELEMENTS if ready else min(limit or MAX_INPUT_ELEMENTS, MAX_INPUT_ELEMENTS)
    if array.size > limit:     # before any pass or copy: a broadcast view may be huge and hold nothing
        raise DataError(f"data for {name} has shape {array.shape} ({array.size:.3g} elements), more than the "
                        f"{limit:.3g} elements an input may hold{'' if ready else ' when converted (the memory budget)'}",
                        span)
    if relation:
        if array.dtype != bool:
            if array.dtype.kind not in "iuf" or not np.isin(array, (0, 1)).all():
                hint = "; an (m, k) integer array of tuples is given as tlc.Rows(array)" \
                    if array.dtype.kind in "iu" and array.ndim == 2 else ""
                raise DataError(f"data for relation {name} must be Boolean (or 0/1), got dtype {array.dtype}"
                                f"{'' if array.dtype.kind not in 'iuf' else ' with other values'}{hint}", span)
            array = array.astype(bool)
        return array
    if array.dtype.kind not in "biuf":
        raise DataError(f"data for {name} must be numeric, got dtype {array.dtype}", span)
    return np.asarray(array, dtype=np.float64, order="C")     # no copy when it already is


def is_scipy_sparse(value) -> bool:
    """True for a scipy.sparse matrix or array (scipy.sparse is not imported for the check: such a value means it
    is, and importing it took a fifth of ``import tlc``)."""
    module = sys.modules.get("scipy.sparse")
    return module is not None and module.issparse(value)


def is_lazy(value) -> bool:
    """True for a chunked lazy array (a Dask array): read without computing it."""
    return type(value).__module__.startswith("dask.") and hasattr(value, "chunks") and hasattr(value, "dask")


def read_lazy(name: str, value, relation: bool, span):
    """A Dask array's data for tensor ``name``, kept lazy: float64 (bool for a relation); only a relation given
    as numbers is computed, to check it holds 0 and 1 alone."""
    if value.dtype.kind not in "biuf":
        raise DataError(f"data for {name} must be {'Boolean' if relation else 'numeric'}, got dtype {value.dtype}",
                        span)
    if relation and value.dtype != bool:
        if not bool(((value == 0) | (value == 1)).all()):
            raise DataError(f"data for relation {name} must be Boolean (or 0/1), got dtype {value.dtype} with "
                            f"other values", span)
        return value.astype(bool)
    return value if relation or value.dtype == np.float64 else value.astype(np.float64)


def read_scalar(name: str, value, program: IRProgram) -> float:
    """Data for scalar ``name`` as a float."""
    try:
        return _scalar(name, value)
    except DataError as err:    # located only on failure: finding the first read walks every equation
        raise DataError(err.message, scalar_span(program, name)) from None


def _scalar(name: str, value) -> float:
    if is_real(value):
        try:
            return float(value)
        except OverflowError:
            raise DataError(f"scalar input {name} is too large for a 64-bit float: {_short(value)}") from None
        except (ValueError, TypeError) as err:
            raise DataError(f"scalar input {name} must be a real number: {err}") from None
    array = as_array(name, value, None)
    if array.dtype.kind not in "biuf":
        raise DataError(f"scalar input {name} must be a real number, got {_short(value)}")
    if array.ndim:
        raise DataError(f"{name} is used as a scalar but its data has shape {array.shape}")
    return float(array)
