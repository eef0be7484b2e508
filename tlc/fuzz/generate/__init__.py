"""Hypothesis strategies: random well-typed Tensor Logic programs, inputs for them, and bad source.

Programs are built as IR, printed, and lowered back, so what a test sees is exactly what a user who
wrote the printed text would get. Every generated program is meant to compile and run without a
``TlcError`` and to give finite results: value intervals are tracked through every expression and
unsafe spots are repaired (``log(x)`` becomes ``log(abs(x) + 1)``, an ``exp`` whose argument could
overflow gets a ``tanh`` inside, a denominator that could be 0 becomes ``d^2 + 1``). Inputs are
non-zero multiples of 1/4 in [-2, 2] (scalars: in [1/4, 2]), so sums and products are exact in
float64 and a different evaluation order cannot flip a ``step``.

Modules: ``records`` (``FuzzProgram``, ``Config``), ``intervals`` (value bounds and their repair), ``builder``
(tensors, indices and expressions), ``templates`` (the registry of statement templates and ``programs()``),
``inputs`` (``inputs_for``, ``cases``) and ``bad_source`` (``sources``). Needs Hypothesis (the ``test`` extra:
``pip install "tlc[test]"``).
"""

from tlc.fuzz.generate.bad_source import sources
from tlc.fuzz.generate.builder import NAMED
from tlc.fuzz.generate.inputs import cases, inputs_for, symbol_table
from tlc.fuzz.generate.records import FuzzProgram, as_fuzz_program
from tlc.fuzz.generate.templates import programs

__all__ = ["NAMED", "FuzzProgram", "as_fuzz_program", "cases", "inputs_for", "programs", "sources", "symbol_table"]
