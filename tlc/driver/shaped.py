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
            shapes = infer_shapes(program, strata, fixed, given, set(sig.symbolic), len(sig.symbols),
                                  frozenset(problems.doubtful))
        except TlcError as err:
            problems.add(err)
    problems.raise_any()
    if cache is not None:
        cache[sig.key] = shapes
    return data, sig, shapes


def shape_errors(program: Program, strata: tuple[Stratum, ...], inputs: dict, memory_limit: int | None,
                 doubtful=frozenset()) -> list[TlcError]:
    """The errors ``shaped`` finds (none when it finds none), for a report that goes on past earlier checks."""
    try:
        shaped(program, strata, inputs, memory_limit, doubtful=doubtful)
    except TlcError as err:
        return list(err.errors)
    return []
