"""A program on given data: the inputs read and checked, their signature and every extent and index range
inferred, with every independent error of the three reported in one run."""

from __future__ import annotations

from tlc.analysis.shapes import Shapes, infer_shapes
from tlc.analysis.strata import Stratum
from tlc.driver.inputs import InputData, Signature, read_inputs, signature
from tlc.errors import Problems, TlcError
from tlc.ir.program import Program


def shaped(program: Program, strata: tuple[Stratum, ...], inputs: dict, memory_limit: int | None,
           cache: dict | None = None, doubtful=frozenset()) -> tuple[InputData, Signature, Shapes]:
    """The inputs read, their signature and the shapes they give ``program`` (from ``cache`` by signature when
    there, and stored there); raises every independent error as one. ``doubtful`` names tensors that earlier
    checks left unknown: nothing reading them is inferred."""
    data = read_inputs(program, inputs, memory_limit)
    problems = Problems(doubtful)
    # given arrays alone (no tuples, nothing stored), their shapes decide the signature: a training loop's calls
    # give the same ones, and working it out again took ~50 us per call
    arrays_key = ("signature", tuple((n, a.shape) for n, a in data.arrays.items()), doubtful) \
        if cache is not None and not data.tuples and not data.stored else None
    sig = cache.get(arrays_key) if arrays_key is not None else None
    if sig is None:
        sig = signature(program, data, problems)
        if arrays_key is not None and not problems.errors:
            cache[arrays_key] = sig
    shapes = None if cache is None or problems.errors else cache.get(sig.key)
    if shapes is None:
        fixed = {n: e for n, e in sig.extents.items() if not program.tensors[n].defined or n in program.shapes}
        given = {n: e for n, e in sig.extents.items() if n not in fixed}
        try:
            shapes = _inferred(program, strata, fixed, given, frozenset(sig.symbolic), len(sig.symbols),
                               frozenset(problems.doubtful))
        except TlcError as err:
            problems.add(err)
    problems.raise_any()
    if cache is not None:
        cache[sig.key] = shapes
    return data, sig, shapes


SHAPES_KEPT = 64
"""Most inferred shapes a program keeps for other compiles of it (``_inferred``)."""


def _inferred(program: Program, strata: tuple[Stratum, ...], fixed: dict, given: dict, symbolic: frozenset,
              n_symbols: int, doubtful: frozenset) -> Shapes:
    """``infer_shapes``, remembered in ``program.analyses`` for these extents: every ``Program`` compiled from a
    text compiled before shares its checked program, and one called on data of the same shapes need not infer them
    again (LUBM's closure: ~110 us of a 650 us compile and call)."""
    known = program.analyses.setdefault(_inferred, {})
    key = (tuple(fixed.items()), tuple(given.items()), symbolic, n_symbols, doubtful)
    found = known.get(key)
    if found is not None and found[0] is strata:
        return found[1]
    shapes = infer_shapes(program, strata, fixed, given, set(symbolic), n_symbols, doubtful)
    if len(known) >= SHAPES_KEPT:
        known.clear()
    known[key] = (strata, shapes)
    return shapes


def shape_errors(program: Program, strata: tuple[Stratum, ...], inputs: dict, memory_limit: int | None,
                 doubtful=frozenset()) -> list[TlcError]:
    """The errors ``shaped`` finds (none when it finds none), for a report that goes on past earlier checks."""
    try:
        shaped(program, strata, inputs, memory_limit, doubtful=doubtful)
    except TlcError as err:
        return list(err.errors)
    return []
