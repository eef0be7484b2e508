"""Coverage guidance (the Tzer idea): steer generation toward IR shapes and code paths not yet exercised.

Two measures of what a program exercises:

- **features**: a cheap, deterministic set of strings: node kinds and functions in the IR, index forms,
  aggregators, evaluation modes of the strata, and the constructs in the emitted code (``rt.gather``,
  ``contract``, a recurrence loop...). Guided generation feeds how rare a program's features are to
  ``hypothesis.target``, which makes Hypothesis mutate toward programs with rarely seen features.
- **lines**: lines of ``tlc`` and ``tlc_runtime`` executed while compiling and running (``sys.settrace``;
  Python 3.11 has no ``sys.monitoring``), to report how far a campaign reaches with and without guidance.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import tlc_runtime
from tlc import api, errors
from tlc.fuzz.generate import FuzzProgram
from tlc.ir import nodes as ir

_EMITTED = ("rt.gather", "rt.scatter", "rt.align", "contract(", "np.einsum", "for _step in range", "while True",
            "rt.Fixpoint(", "for _block", "rt.softmax", "rt.lnorm", "rt.sig", "rt.step", "rt.relu", "rt.negate",
            ".reshape(",
            "np.maximum", "np.minimum", "_count", "np.zeros(", "|=", "empty index range", "np.power", "np.arange",
            "rs.conjunction", "rs.closure", "rs.frontier", "while rs.nonempty")


def ir_features(program: FuzzProgram) -> set[str]:
    """Features of the IR alone: node kinds, functions, index forms, aggregators, declarations."""
    found: set[str] = set()
    for stmt in program.ir.statements:
        found.add(f"stmt:{type(stmt).__name__}")
    for eq in program.ir.equations:
        found.add(f"agg:{eq.aggregator.value}{':relation' if eq.lhs.relation else ''}{':fact' if eq.fact else ''}")
        found.add(f"lhs-rank:{len(eq.lhs.indices)}")
        for ref in (eq.lhs, *ir.refs(eq.rhs)):
            side = "lhs" if ref is eq.lhs else "rhs"
            for index in ref.indices:
                found.add(f"index:{side}:{_index_form(index)}")
        for node in ir.walk(eq.rhs):
            name = type(node).__name__
            found.add(f"node:{name}:{node.function}" if isinstance(node, ir.Call) else f"node:{name}")
            if isinstance(node, ir.Product) and any(node.inverted):
                found.add("node:Product:divide")
            for child in ir.children(node):
                found.add(f"edge:{name}>{type(child).__name__}")
    return found


def _index_form(index: ir.Index) -> str:
    if index.symbol is not None:
        return "named"
    if not index.terms:
        return "position"
    parts = ["virtual"] if index.virtual else []
    parts.append("compound" if len(index.terms) > 1 else "shift" if index.offset else "plain")
    if index.divisor != 1:
        parts.append("divided")
    if index.normalised:
        parts.append("dotted")
    return "+".join(parts)


def features(program: FuzzProgram, compiled: api.Program | None = None) -> set[str]:
    """IR features plus, given the compiled program (after a run), its strata modes and emitted constructs."""
    found = ir_features(program)
    if compiled is not None:
        for stratum in compiled.strata:
            found.add(f"mode:{stratum.mode.value}")
        try:
            code = compiled.source()
        except errors.TlcError:
            code = ""
        found.update(f"emit:{construct}" for construct in _EMITTED if construct in code)
    return found


# ------------------------------------------------------------------------------------------ line coverage
_ROOTS = tuple(os.path.dirname(os.path.abspath(m.__file__)) + os.sep for m in (errors, tlc_runtime))
_FUZZ = os.path.dirname(os.path.abspath(__file__)) + os.sep


class LineCoverage:
    """Lines of ``tlc`` and ``tlc_runtime`` (not ``tlc.fuzz``) executed inside ``with`` blocks."""

    def __init__(self):
        self.lines: set[tuple[str, int]] = set()
        self._wanted: dict[str, bool] = {}

    def _want(self, filename: str) -> bool:
        wanted = self._wanted.get(filename)
        if wanted is None:
            path = os.path.abspath(filename)
            wanted = path.startswith(_ROOTS) and not path.startswith(_FUZZ)
            self._wanted[filename] = wanted
        return wanted

    def _trace(self, frame, event, arg):
        if not self._want(frame.f_code.co_filename):
            return None
        lines = self.lines
        filename = frame.f_code.co_filename

        def local(frame, event, arg):
            if event == "line":
                lines.add((filename, frame.f_lineno))
            return local

        lines.add((filename, frame.f_lineno))
        return local

    def __enter__(self):
        self._previous = sys.gettrace()
        sys.settrace(self._trace)
        return self

    def __exit__(self, *exc):
        sys.settrace(self._previous)
        return False


# ------------------------------------------------------------------------------------------ measuring
@dataclass
class CoverageRun:
    """Coverage reached by ``programs`` generated programs, checked after every ``step``."""

    guided: bool
    programs: int = 0
    seconds: float = 0.0
    features: set[str] = field(default_factory=set)
    lines: set = field(default_factory=set)
    curve: list[tuple[int, int, int]] = field(default_factory=list)
    """``(programs, features, lines)`` after every step."""


def measure(count: int = 1000, guided: bool = False, seed: int = 0, step: int = 250,
            program_options: Mapping | None = None, lines: bool = True) -> CoverageRun:
    """Generate ``count`` programs with inputs, compile and run each at ``-O0``, and record coverage.

    With ``guided``, each program reports to ``hypothesis.target`` how rare its features are so far
    (the sum of ``1 / (1 + times seen)``), so Hypothesis mutates toward programs with rare features.
    """
    from hypothesis import HealthCheck, Phase, given, settings, target
    from hypothesis import seed as hypothesis_seed

    from tlc.fuzz.generate import cases

    result = CoverageRun(guided)
    seen: dict[str, int] = {}
    tracer = LineCoverage() if lines else None
    start = time.perf_counter()
    assert threading.current_thread() is threading.main_thread() or not lines

    def body(case):
        program, inputs = case
        result.programs += 1
        compiled = None
        try:
            if tracer is not None:
                with tracer:
                    compiled = api.Program(api.frontend(program.source), "numpy", 0)
                    compiled(**inputs)
            else:
                compiled = api.Program(api.frontend(program.source), "numpy", 0)
                compiled(**inputs)
        except Exception:  # noqa: BLE001 - coverage counts what ran; failures are the oracle's business
            pass
        found = features(program, compiled)
        if guided:      # rarity, not novelty: a stationary score that Hypothesis can climb
            target(sum(1.0 / (1 + seen.get(f, 0)) for f in found), label="rare features")
        for f in found:
            seen[f] = seen.get(f, 0) + 1
        result.features |= found
        if result.programs % step == 0:
            result.curve.append((result.programs, len(result.features), len(tracer.lines) if tracer else 0))

    phases = (Phase.generate, Phase.target) if guided else (Phase.generate,)
    test = settings(max_examples=count, database=None, deadline=None, phases=phases,
                    suppress_health_check=list(HealthCheck))(given(cases(**dict(program_options or {})))(body))
    hypothesis_seed(seed)(test)()
    result.seconds = time.perf_counter() - start
    result.lines = set(tracer.lines) if tracer else set()
    return result
