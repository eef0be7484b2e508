"""Shape inference: every tensor's extents and every equation's index ranges, from the data's shapes.

Ranges follow the "valid" semantics: an index takes exactly the values for which every read of the
equation is in range (and every written position is non-negative). A defined tensor's extent is the
largest position any of its equations writes, so recurrences extend their tensors step by step; this
is a least fixpoint, computed per stratum and bounded so that unbounded growth is reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


from tlc.errors import DataError, Problems, TlcError
from tlc.ir import nodes as ir
from tlc.ir.program import Program
from tlc.analysis.projection import analyse, occurrences
from tlc.analysis.strata import Stratum

Range = tuple[int, int]
INF = math.inf


@dataclass(frozen=True)
class Shapes:
    """Inferred extents per tensor and index ranges ``[lo, hi)`` per equation number."""

    extents: dict[str, tuple[int, ...]]
    ranges: dict[int, dict[str, Range]]
    n_symbols: int


def axis_components(program: Program) -> tuple[frozenset[tuple[str, int]], ...]:
    """Groups of (tensor, axis) joined by a shared plain index variable: each group is one domain."""
    return program.joined_axes


def symbolic_axes(program: Program, string_axes: set[tuple[str, int]]) -> set[tuple[str, int]]:
    """Axes that range over named constants: those holding a symbol (or, in a relation, a negative integer)
    anywhere, and their domains."""
    seeds = program.symbol_axes | set(string_axes)   # a negative integer of a relation is a named constant too
    found: set[tuple[str, int]] = set()
    if not seeds:
        return found
    for component in axis_components(program):
        if component & seeds:
            found |= component
    return found


class _Inference:
    def __init__(self, program: Program, fixed: dict[str, tuple[int, ...]],
                 given: dict[str, tuple[int, ...]], symbolic: set[tuple[str, int]], n_symbols: int):
        self.program = program
        self.fixed = fixed            # extents that cannot change: pure inputs, declarations
        self.extents: dict[str, list[int]] = {n: list(e) for n, e in given.items()}
        self.extents.update({n: list(e) for n, e in fixed.items()})
        self.symbolic = symbolic
        self.n_symbols = n_symbols
        self.ranges: dict[int, dict[str, Range]] = {}
        self._structures: dict[int, tuple] = program.analyses.setdefault(_Inference._structure, {})
        self.soft: set[tuple[int, int, int]] = set()
        """(equation, read number, axis) of recursive reads that bound their index only as a last resort."""

    def extent(self, name: str, axis: int) -> int:
        if (name, axis) in self.symbolic:
            return self.n_symbols
        ext = self.extents.get(name)
        return ext[axis] if ext is not None else 0

    def _structure(self, k: int) -> tuple[tuple[str, ...], tuple[tuple[int, str, int, ir.Index], ...]]:
        """Equation ``k``'s index variables (distinct, in order) and its reads' indices of variables as (read number,
        tensor, axis, index): what ``equation_ranges`` walks the equation for, once per equation of the program
        (kept in ``program.analyses``: every call with new shapes asks again)."""
        found = self._structures.get(k)
        if found is None:
            eq = self.program.equations[k]
            reads = tuple(ir.refs(eq.rhs))
            variables = [v for ref in (eq.lhs, *reads) for i in ref.indices for v in i.variables]
            variables += [n.name for n in ir.walk(eq.rhs) if isinstance(n, ir.IndexValue)]
            found = self._structures[k] = (tuple(dict.fromkeys(variables)), tuple(
                (number, ref.name, a, index) for number, ref in enumerate(reads)
                for a, index in enumerate(ref.indices) if index.terms))
        return found

    def equation_ranges(self, k: int) -> dict[str, Range]:
        """Index ranges of equation ``k`` under the current extents."""
        eq = self.program.equations[k]
        variables, reads = self._structure(k)
        lo: dict[str, float] = dict.fromkeys(variables, -INF)
        hi: dict[str, float] = dict.fromkeys(variables, INF)
        pending, soft = [], []
        for number, name, a, index in reads:
            extent = self.extent(name, a)
            if index.virtual:       # a virtual axis keeps only the current step: reads never run past it
                extent = INF
            elif (k, number, a) in self.soft:
                soft.append((index, extent))   # a recursive read bounds its index only as a last resort
                extent = INF
            pending.append((index, extent))
        for a, index in enumerate(eq.lhs.indices):   # written positions are non-negative (and declared)
            if index.terms:
                bounded = eq.lhs.name in self.fixed or (eq.lhs.name, a) in self.symbolic
                pending.append((index, self.extent(eq.lhs.name, a) if bounded else INF))
        self._solve(pending, lo, hi)
        for index, extent in soft:
            if any(math.isinf(hi[v]) for v in index.variables):
                self._constrain(index, extent, lo, hi, None)
        # indices bounded only by the left-hand side take the LHS tensor's known extent
        for a, index in enumerate(eq.lhs.indices):
            tv = index.shifted_variable
            if tv and math.isinf(hi[tv[0]]) and (eq.lhs.name in self.extents or (eq.lhs.name, a) in self.symbolic):
                v, off = tv
                lo[v] = max(lo[v], -off)
                hi[v] = min(hi[v], self.extent(eq.lhs.name, a) - off)
        if isinstance(eq.rhs, ir.Call) and eq.rhs.function == "concat":
            flattened = analyse(eq).flattened
            merged = next(i.plain_variable for i in eq.lhs.indices
                          if i.plain_variable and i.plain_variable not in {v for _, v in occurrences(eq.rhs)})
            lo[merged] = 0
            hi[merged] = math.prod(max(0, hi[v] - lo[v]) for v in flattened)
        ranges = {}
        for v in variables:
            if math.isinf(lo[v]) or math.isinf(hi[v]):
                raise TlcError(f"cannot infer the range of index {v}: it is not limited by any tensor's "
                               f"extent (supply data or declare a shape)", _var_span(eq, v))
            ranges[v] = (int(lo[v]), max(int(lo[v]), int(hi[v])))
        for a, index in enumerate(eq.lhs.indices):   # pooling keeps whole windows only
            if index.divisor > 1 and index.shifted_variable is None and len(index.terms) == 1:
                v, off, d = index.terms[0][0], index.offset, index.divisor
                l, h = ranges[v]
                ranges[v] = (l, max(l, ((h + off) // d) * d - off))
        return ranges

    def _solve(self, pending: list, lo: dict, hi: dict) -> None:
        """Apply read constraints until none can narrow further (compound indices wait for their parts)."""
        progress = True
        while pending and progress:
            progress = False
            waiting = []        # rebuilt, not removed from one by one (quadratic in 10^4 reads)
            for item in pending:
                index, extent = item
                unbounded = [v for v, _ in index.terms if math.isinf(hi[v])]
                if len(unbounded) > 1:
                    waiting.append(item)
                    continue
                self._constrain(index, extent, lo, hi, unbounded[0] if unbounded else None)
                progress = True
            pending[:] = waiting

    @staticmethod
    def _constrain(index: ir.Index, extent: float, lo: dict, hi: dict, target: str | None) -> None:
        """Narrow variable ranges so that ``0 <= index < extent`` for all values of the other variables."""
        span_hi = extent * index.divisor      # (sum + off) // d < E  <=>  sum + off < E*d
        variables = [target] if target else [v for v, _ in index.terms]
        for v in variables:
            coef = dict(index.terms)[v]
            rest_min = index.offset
            rest_max = index.offset
            for w, c in index.terms:
                if w == v:
                    continue
                a, b = c * lo[w], c * (hi[w] - 1)
                rest_min += min(a, b)
                rest_max += max(a, b)
            if coef > 0:
                lo[v] = max(lo[v], -rest_min)
                hi[v] = min(hi[v], span_hi - rest_max)
            else:
                lo[v] = max(lo[v], rest_max - span_hi + 1)
                hi[v] = min(hi[v], rest_min + 1)

    def lhs_extent(self, eq: ir.Equation, ranges: dict[str, Range]) -> list[int]:
        """Extent the equation needs for its left-hand side, axis by axis."""
        out = []
        for a, index in enumerate(eq.lhs.indices):
            if (eq.lhs.name, a) in self.symbolic:
                if index.terms and _written_extent(index, ranges) > self.n_symbols:
                    raise TlcError(f"axis {a} of {eq.lhs.name} ranges over the {self.n_symbols} named "
                                   f"constants, but this equation writes position "
                                   f"{_written_extent(index, ranges) - 1} there", index.span or eq.lhs.span)
                out.append(self.n_symbols)
            elif index.symbol is not None:
                out.append(0)
            elif not index.terms:
                if index.offset < 0:
                    raise TlcError(f"position {index.offset} is negative; positions start at 0", index.span)
                if eq.lhs.name in self.fixed and index.offset >= self.fixed[eq.lhs.name][a]:
                    raise TlcError(f"position {index.offset} is outside {eq.lhs.name}'s extent "
                                   f"{self.fixed[eq.lhs.name][a]} on axis {a}", index.span)
                out.append(index.offset + 1)
            else:
                out.append(_written_extent(index, ranges))
        return out

    def run_equation(self, k: int) -> bool:
        """Update the LHS extent from equation ``k``; True if it grew."""
        eq = self.program.equations[k]
        ranges = self.equation_ranges(k)
        self.ranges[k] = ranges
        need = self.lhs_extent(eq, ranges)
        if eq.lhs.name in self.fixed:
            return False
        current = self.extents.get(eq.lhs.name)
        grown = need if current is None else [max(c, n) for c, n in zip(current, need)]
        if grown != current:
            self.extents[eq.lhs.name] = grown
            return True
        return False


def _written_extent(index: ir.Index, ranges: dict[str, Range]) -> int:
    """One past the highest position a left-hand index of variables writes over ``ranges`` (0 when any of its
    variables has an empty range: nothing is written)."""
    if any(ranges[v][1] <= ranges[v][0] for v, _ in index.terms):
        return 0
    top = index.offset + sum(max(c * ranges[v][0], c * (ranges[v][1] - 1)) for v, c in index.terms)
    return top // index.divisor + 1


def _var_span(eq: ir.Equation, var: str):
    for ref in (eq.lhs, *ir.refs(eq.rhs)):
        for index in ref.indices:
            if var in index.variables:
                return index.span
    return eq.span


def infer_shapes(program: Program, strata: tuple[Stratum, ...], fixed: dict[str, tuple[int, ...]],
                 given: dict[str, tuple[int, ...]], symbolic: set[tuple[str, int]], n_symbols: int,
                 doubtful: frozenset[str] = frozenset()) -> Shapes:
    """Infer extents and index ranges; ``fixed`` extents never change, ``given`` ones may grow. Raises every
    independent error as one: a stratum stops at its first, and a stratum reading a tensor an error left unknown
    (or one in ``doubtful``, left unknown by earlier checks) is not inferred, so no error is a cascade."""
    inference = _Inference(program, fixed, given, symbolic, n_symbols)
    inference.soft = _soft_reads(program, strata)
    problems = Problems(doubtful)
    known = [n_symbols, 1, *(e for ext in (*fixed.values(), *given.values()) for e in ext)]
    for eq in program.equations:
        known += [i.offset + 1 for i in eq.lhs.indices if not i.terms]

    def final(name: str) -> tuple[int, ...]:
        return tuple(inference.extent(name, a) for a in range(program.tensors[name].rank))

    checked = set()
    for name in (n for n, info in program.tensors.items() if not info.defined and n in inference.extents):
        _positions_checked(program, name, final(name), problems, checked)
    for stratum in strata:
        reads = {ref.name for k in stratum.equations for ref in ir.refs(program.equations[k].rhs)}
        if problems.doubtful & (reads | set(stratum.tensors)):
            problems.doubtful.update(stratum.tensors)
            continue
        try:
            _infer_stratum(program, stratum, inference, known)
        except TlcError as err:
            problems.add(err, stratum.tensors)
            continue
        for name in stratum.tensors:
            _positions_checked(program, name, final(name), problems, checked)
    for name, info in program.tensors.items():
        if name not in inference.extents:
            inference.extents[name] = [inference.extent(name, a) for a in range(info.rank)]
        if name not in problems.doubtful:
            _positions_checked(program, name, final(name), problems, checked)
    problems.raise_any()
    return Shapes({n: final(n) for n in inference.extents}, inference.ranges, n_symbols)


def _positions_checked(program: Program, name: str, extents: tuple[int, ...], problems: Problems,
                       checked: set[str]) -> None:
    """Check ``name``'s positions once (recording a failure in ``problems``, ``name`` in doubt)."""
    if name in checked:
        return
    checked.add(name)
    try:
        _check_positions(program, name, extents)
    except TlcError as err:
        problems.add(err, {name})


def _infer_stratum(program: Program, stratum: Stratum, inference: "_Inference", known: list[int]) -> None:
    """Extents of one stratum's tensors and ranges of its equations (a recursion's by a bounded least fixpoint)."""
    if not stratum.recursive:
        for k in stratum.equations:
            inference.run_equation(k)
        return
    shifts = sum(max(0, i.offset) for k in stratum.equations for i in program.equations[k].lhs.indices)
    grown = [e for ext in inference.extents.values() for e in ext]   # includes tensors computed so far
    limit = max(known + grown) + shifts + 1
    while any([inference.run_equation(k) for k in stratum.equations]):
        for name in stratum.tensors:
            if max(inference.extents.get(name, [0]) or [0]) > limit:
                k = program.defining(name)[-1]
                raise TlcError(f"the extent of {name} grows without bound: a shifted index of this "
                               f"recursion is not limited by any other tensor (declare its shape with "
                               f"'tensor {name}[...]')", program.equations[k].span)
    _check_unbounded_without_base(program, stratum, inference)


def _check_unbounded_without_base(program: Program, stratum: Stratum, inference: "_Inference") -> None:
    """A recursion that shifts an index forward, bounded only by the tensor it writes, and left empty because
    nothing gives it a first element (``S[t+1] = S[t] + 1`` alone): with any first element it would grow without
    bound, so it is the same error, not a silently empty result."""
    for k in stratum.equations:
        eq = program.equations[k]
        name = eq.lhs.name
        if name in inference.fixed or name in program.shapes or any(inference.extents.get(name, [1])):
            continue
        others = {v for ref in ir.refs(eq.rhs) if ref.name not in stratum.tensors
                  for index in ref.indices for v in index.variables}
        if any(index.offset > 0 and len(index.terms) == 1 and index.terms[0][0] not in others
               for index in eq.lhs.indices):
            raise TlcError(f"the extent of {name} grows without bound: a shifted index of this recursion is not "
                           f"limited by any other tensor (declare its shape with 'tensor {name}[...]')", eq.span,
                           notes=(f"nothing gives {name} a first element either, so as written it stays empty",))


MAX_POSITIONS = 2**63 - 1
"""Most elements a tensor may have, stored or not: a position (a sparse relation's key) is a 64-bit integer."""


def _check_positions(program: Program, name: str, extents: tuple[int, ...]) -> None:
    if math.prod(extents) <= MAX_POSITIONS:
        return
    defining = program.defining(name)
    span = program.equations[defining[0]].span if defining else program.tensors[name].first_use.span
    what = "integer constants" if program.tensors[name].relation else "positions"
    raise DataError(f"{name} would have extents {extents}: its {what} are too large for 64-bit positions (the "
                    f"product of a tensor's extents must be below 2^63)"
                    + ("; give large identifiers as strings" if program.tensors[name].relation else ""), span)


def _soft_reads(program: Program, strata: tuple[Stratum, ...]) -> set[tuple[int, int, int]]:
    """Reads of a tensor inside its own recursion, whose extent is still growing while shapes are
    inferred: (equation, read number, axis) for every axis of each."""
    found = set()
    for stratum in strata:
        for k in stratum.equations if stratum.recursive else ():
            for number, ref in enumerate(ir.refs(program.equations[k].rhs)):
                if ref.name in stratum.tensors:
                    found.update((k, number, a) for a in range(len(ref.indices)))
    return found


def check_rank(program: Program, name: str, shape: tuple[int, ...]) -> None:
    """Data for ``name`` must have the rank the program uses."""
    info = program.tensors[name]
    if len(shape) != info.rank:
        raise DataError(f"data for {name} has {len(shape)} dimension{'s' if len(shape) != 1 else ''} "
                        f"(shape {tuple(shape)}) but the program uses it with {info.rank}",
                        info.first_use.span)
