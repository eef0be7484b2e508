"""The differential oracle: run a program on every backend and opt level, compare with the reference.

The reference is the NumPy backend at ``-O0``. A configuration fails when it crashes (any exception
that is not a ``TlcError``), raises a ``TlcError`` the reference did not, gives a different set of
tensors, shapes or query answers, or values outside the tolerance. The reference itself fails on a
generated (well-typed) program when it raises anything at all, or when its result is not finite.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import itertools
import random
import re
import signal
import threading
import traceback
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from tlc import api
from tlc.errors import TlcError
from tlc.interrupts import interrupt
from tlc.fuzz.backends import DIFFERENTIAL_BACKENDS
from tlc.frontend.lower import lower
from tlc.frontend.parser import parse
from tlc.fuzz.generate import FuzzProgram, as_fuzz_program
from tlc.ir.nodes import refs as ir_refs
from tlc.ir.printer import format_program

REFERENCE = ("numpy", 0)
RTOL = 1e-9
ATOL = 1e-12


@dataclass(frozen=True)
class Failure:
    """One way a configuration disagreed with the reference (or failed outright)."""

    kind: str
    """``crash``, ``error``, ``mismatch``, ``nonfinite``, ``roundtrip``, ``mutated-input`` or ``hang``."""
    config: str
    """The configuration, e.g. ``numpy -O2``."""
    message: str
    tensor: str | None = None

    @property
    def headline(self) -> str:
        """The telling line of the message: a traceback's last line, otherwise the first."""
        lines = self.message.strip().splitlines() or [""]
        return lines[-1] if self.kind == "crash" else lines[0]

    def signature(self) -> str:
        """A short key that groups failures with the same cause (numbers and names stripped)."""
        first = re.sub(r"^\S*:\d+:\d+: error: |^\S*: error: ", "", self.headline)
        first = re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "N", first)
        first = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", first)
        return f"{self.kind}: {first[:120]}"

    def __str__(self) -> str:
        where = f" [{self.tensor}]" if self.tensor else ""
        return f"{self.kind} in {self.config}{where}: {self.message}"


@dataclass
class Report:
    """What ``check`` found: the configurations it ran and every failure."""

    program: FuzzProgram
    inputs: Mapping
    configs: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failures

    def __str__(self) -> str:
        head = f"{len(self.failures)} failure(s) over {', '.join(self.configs) or 'no configuration'}"
        body = "\n".join(f"- {f}" for f in self.failures)
        return f"{head}\n{body}\nprogram:\n{self.program.source}" if self.failures else head

    def raise_if_failed(self) -> None:
        """Raise ``OracleFailure`` (an ``AssertionError``) describing the failures, if there are any."""
        if self.failures:
            raise OracleFailure(self)


class OracleFailure(AssertionError):
    """A program on which some configuration disagreed with the reference."""

    def __init__(self, report: Report):
        super().__init__(str(report))
        self.report = report


class Hang(Exception):
    """A run that took longer than its time limit."""


class Expiry:
    """What ``time_limit`` yields: ``reason`` is set the moment the limit fires (None before)."""

    reason: str | None = None


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Raise ``Hang`` after ``seconds`` of wall time (only in the main thread on POSIX; otherwise no limit); yields
    an ``Expiry``.

    The alarm's ``Hang`` goes through ``tlc.interrupts.interrupt``: inside a ``deferred()`` section (LLVM calls that
    hand memory between Python and the JIT) it is raised when the section ends.
    A signal that lands deep in a recursion can surface as another exception (CPython 3.11 has been seen to
    report a ``SystemError``, or to call the handler with the interrupted call's arguments): the handler takes
    any arguments and records the expiry first, so a caller can tell a hang from whatever came out.
    """
    expiry = Expiry()
    if not seconds or not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield expiry
        return

    def alarm(*_):
        expiry.reason = f"no result after {seconds:g} s"
        interrupt(Hang(expiry.reason))

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield expiry
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Outcome:
    """What one configuration produced: results (name -> array or Relation) and answers, or an error."""

    values: dict | None = None
    answers: list | None = None
    error: BaseException | None = None
    trace: str = ""


class _PassOrder:
    """Runs named passes in a given order, verifying the IR after each (a stand-in ``PassManager``)."""

    def __init__(self, names: tuple[str, ...]):
        self.names = names

    def run(self, program):
        from tlc.ir.verify import verify
        from tlc.passes.registry import parse_pass

        for name in self.names:
            program = parse_pass(name).run(program)
            verify(program)
        return program


def _manager(opt_level: int, passes: tuple[str, ...] | None):
    """A pass manager that verifies the IR between passes (None when this tlc has no pass manager)."""
    if passes is not None:
        return _PassOrder(passes)
    try:
        from tlc.passes.manager import PassManager
    except ImportError:
        return None
    return PassManager(opt_level, verify_each=True)


def pass_pipeline(opt_level: int = 3) -> tuple[str, ...]:
    """Names of the passes ``-O opt_level`` runs, in order (empty when this tlc has no pass manager)."""
    try:
        from tlc.passes.manager import pipeline
    except ImportError:
        return ()
    return tuple(info.name for info in pipeline(opt_level))


def run_config(program: FuzzProgram, inputs: Mapping, backend: str, opt_level: int,
               timeout: float | None = None, passes: tuple[str, ...] | None = None,
               outputs: tuple[str, ...] | None = None) -> Outcome:
    """Compile ``program`` from its source for one configuration and run it on a copy of ``inputs``.

    The IR is verified after every pass; ``passes`` replaces the opt level's pipeline by that order, and
    ``outputs`` makes every other tensor an intermediate that passes may eliminate.
    """
    expiry = None
    try:
        with time_limit(timeout) as expiry:
            manager = _manager(opt_level, passes)
            ir_program = api.frontend(program.source, outputs=outputs) if outputs else api.frontend(program.source)
            compiled = api.Program(ir_program, backend, opt_level, manager) if manager is not None else \
                api.Program(ir_program, backend, opt_level)
            results = compiled(**copy.deepcopy(dict(inputs)))
            return Outcome(dict(results.items()), list(results.answers))
    except Exception as err:  # noqa: BLE001 - every exception is an outcome to judge
        if expiry is not None and expiry.reason and not isinstance(err, Hang):   # the limit surfaced as another error
            err = Hang(expiry.reason)
        return Outcome(error=err, trace=traceback.format_exc())


@functools.cache
def available_backends() -> tuple[str, ...]:
    """Backends of ``DIFFERENTIAL_BACKENDS`` that compile and run a trivial program on this machine."""
    found = []
    for backend in DIFFERENTIAL_BACKENDS:
        try:
            api.Program(api.frontend("Y = 1\n"), backend, 0)()
            found.append(backend)
        except Exception:  # noqa: BLE001 - a backend that cannot run here is simply not available
            continue
    return tuple(found)


def configurations(backends: Iterable[str] | None = None, opt_levels: Iterable[int] = (0, 1, 2, 3),
                   pass_orders: int = 6, seed: int = 0):
    """``(backend, opt_level, passes)`` to compare with the reference (the reference itself excluded).

    ``passes`` is None for an opt level's own pipeline; with ``pass_orders``, each backend also runs up to
    that many other orders of the full ``-O3`` pipeline (all of them when there are few, else a sample).
    """
    names = tuple(backends) if backends is not None else available_backends()
    configs = [(b, o, None) for b in names for o in opt_levels if (b, o) != REFERENCE]
    full = pass_pipeline(3)
    orders = [p for p in itertools.permutations(full) if p != full]
    if len(orders) > pass_orders:
        orders = random.Random(seed).sample(orders, pass_orders)
    return configs + [(b, 3, order) for b in names for order in orders[:pass_orders]]


def _label(backend: str, opt_level: int, passes: tuple[str, ...] | None = None) -> str:
    return f"{backend} -O{opt_level}" if passes is None else f"{backend} passes={','.join(passes)}"


# ------------------------------------------------------------------------------------------ comparing
def _as_array(value) -> np.ndarray:
    return np.asarray(value)


def is_relation(value) -> bool:
    """True for a relation result (a ``tlc_runtime.Relation`` or a bool array)."""
    return _as_array(value).dtype == bool


def compare_values(name: str, expected, actual, rtol: float = RTOL, atol: float = ATOL,
                   relations_as_sets: bool = False) -> str | None:
    """Why ``actual`` differs from ``expected`` for tensor ``name``, or None when they agree.

    Relations must match exactly (as bool arrays, or as sets of tuples with ``relations_as_sets``);
    numbers must have the same shape, the same NaN and infinity positions, and
    ``|a - e| <= atol * max(1, max|e|) + rtol * |e|`` elsewhere.
    """
    e, a = _as_array(expected), _as_array(actual)
    if is_relation(expected) != is_relation(actual):
        return f"{name}: expected a {'relation' if is_relation(expected) else 'numeric tensor'}, got dtype {a.dtype}"
    if is_relation(expected):
        if relations_as_sets and not isinstance(expected, np.ndarray) and not isinstance(actual, np.ndarray):
            if set(expected) != set(actual):
                extra, missing = set(actual) - set(expected), set(expected) - set(actual)
                return f"{name}: extra tuples {sorted(extra, key=str)[:5]}, missing {sorted(missing, key=str)[:5]}"
            return None
        if e.shape != a.shape:
            return f"{name}: shape {a.shape}, expected {e.shape}"
        if not np.array_equal(e, a):
            diff = np.argwhere(e != a)
            return f"{name}: {len(diff)} of {e.size} elements differ, first at {tuple(int(x) for x in diff[0])}"
        return None
    if e.shape != a.shape:
        return f"{name}: shape {a.shape}, expected {e.shape}"
    e64, a64 = e.astype(np.float64), a.astype(np.float64)
    special = ~np.isfinite(e64) | ~np.isfinite(a64)
    if special.any() and not np.array_equal(e64[special], a64[special], equal_nan=True):
        spot = tuple(int(x) for x in np.argwhere(special & ~((e64 == a64) | (np.isnan(e64) & np.isnan(a64))))[0])
        return f"{name}: at {spot} got {a64[spot]!r}, expected {e64[spot]!r}"
    finite = ~special
    if not finite.any():
        return None
    scale = max(1.0, float(np.max(np.abs(e64[finite]))))
    error = np.abs(a64 - e64)
    allowed = atol * scale + rtol * np.abs(e64)
    bad = finite & (error > allowed)
    if bad.any():
        spot = tuple(int(x) for x in np.argwhere(bad)[0])
        return (f"{name}: {int(bad.sum())} of {e.size} elements differ; at {spot} got {a64[spot]!r}, "
                f"expected {e64[spot]!r} (max abs error {float(error[finite].max()):.3g})")
    return None


def compare_outcomes(expected: Outcome, actual: Outcome, rtol: float = RTOL, atol: float = ATOL,
                     relations_as_sets: bool = False, answers: bool = True) -> list[tuple[str | None, str]]:
    """``(tensor, problem)`` pairs: missing or extra tensors, value differences, answer differences."""
    problems: list[tuple[str | None, str]] = []
    names_e, names_a = set(expected.values), set(actual.values)
    if names_e != names_a:
        problems.append((None, f"tensors {sorted(names_a)}, expected {sorted(names_e)}"))
    for name in sorted(names_e & names_a):
        problem = compare_values(name, expected.values[name], actual.values[name], rtol, atol, relations_as_sets)
        if problem:
            problems.append((name, problem))
    if answers and expected.answers is not None and actual.answers is not None:
        if len(expected.answers) != len(actual.answers):
            problems.append((None, f"{len(actual.answers)} query answers, expected {len(expected.answers)}"))
        for (query, want), (_, got) in zip(expected.answers, actual.answers):
            if isinstance(want, list) or isinstance(got, list):
                same = (set(want) == set(got)) if relations_as_sets and isinstance(want, list) \
                    and isinstance(got, list) else want == got
                if not same:
                    problems.append((None, f"answer to {query} is {got!r}, expected {want!r}"))
            else:
                problem = compare_values(query, want, got, rtol, atol)
                if problem:
                    problems.append((None, f"answer {problem}"))
    return problems


def _nonfinite(outcome: Outcome) -> list[str]:
    return [name for name, value in outcome.values.items()
            if not is_relation(value) and not np.isfinite(_as_array(value)).all()]


def _roundtrip(program: FuzzProgram) -> str | None:
    """Why ``program``'s source, IR and printed IR disagree, or None: printing the IR and reading it
    back must give the same IR, and so must reading the source."""
    if program.error:
        return program.error
    try:
        text = format_program(program.statements)
        again = lower(parse(text), None, text).statements
        from_source = lower(parse(program.source), None, program.source).statements
    except Exception as err:  # noqa: BLE001 - any failure to re-read printed IR is a printer/front-end bug
        return f"the printed program does not lower back: {err}"
    if again != program.statements:
        return f"printing and re-reading changes the IR; printed:\n{text}"
    if from_source != program.statements:
        return "the source does not lower to the program's IR"
    return None


def _inputs_unchanged(before: Mapping, after: Mapping) -> bool:
    for name, value in before.items():
        other = after[name]
        if isinstance(value, np.ndarray):
            if not (isinstance(other, np.ndarray) and value.shape == other.shape
                    and np.array_equal(value, other, equal_nan=True)):
                return False
        elif value != other:
            return False
    return True


# ------------------------------------------------------------------------------------------ the oracle
Reference = Callable[[FuzzProgram, Mapping], Mapping] | Mapping | None


def check(program, inputs: Mapping | None = None, backends: Iterable[str] | None = None,
          opt_levels: Iterable[int] = (0, 1, 2, 3), rtol: float = RTOL, atol: float = ATOL,
          reference: Reference = None, allowed_errors: Iterable[str] = (), timeout: float | None = None,
          finite: bool = True, pass_orders: int = 6) -> Report:
    """Run ``program`` on every available backend x opt level and compare each with the reference.

    Args:
        program: a ``FuzzProgram``, an IR ``Program`` or source text.
        inputs: keyword inputs for the program (default: none).
        backends: backend names (default: every backend in ``DIFFERENTIAL_BACKENDS`` that runs here).
        opt_levels: optimisation levels to try.
        rtol, atol: tolerances for float results (``atol`` is scaled by the largest reference magnitude).
        reference: the expected results instead of NumPy ``-O0``: a mapping of results, or a callable
            ``(program, inputs) -> results``.
        allowed_errors: regular expressions; a ``TlcError`` whose message matches one is not a failure
            when every configuration raises it (for data-dependent errors a test expects).
        timeout: seconds allowed per configuration (main thread only), else a ``hang`` failure.
        finite: also require every reference result to be finite.
        pass_orders: how many other orders of the ``-O3`` passes to try per backend (0 for none).

    Returns:
        A ``Report``; ``report.ok`` is True when nothing failed, ``report.raise_if_failed()`` raises.
    """
    fuzz = as_fuzz_program(program)
    inputs = dict(inputs or {})
    allowed = [re.compile(p) for p in allowed_errors]
    report = Report(fuzz, inputs)
    problem = _roundtrip(fuzz)
    if problem:
        report.failures.append(Failure("roundtrip", "printer", problem))
        if fuzz.error:
            return report
    pristine = copy.deepcopy(inputs)
    names = tuple(backends) if backends is not None else available_backends()
    if reference is None:
        label = _label(*REFERENCE) + " (reference)"
        expected = run_config(fuzz, inputs, *REFERENCE, timeout=timeout)
        report.configs.append(label)
        _judge_reference(report, expected, label, allowed, finite)
        report.failures.extend(judge_renamed(fuzz, inputs, expected, timeout))   # hostile names: vs plain names
        todo = configurations(names, opt_levels, pass_orders, zlib.crc32(fuzz.source.encode()))
    else:
        results = reference(fuzz, inputs) if callable(reference) else reference
        expected = Outcome(dict(results.items()), list(results.answers) if hasattr(results, "answers") else None)
        todo = [(b, o, None) for b in names for o in opt_levels]
    for backend, opt_level, passes in todo:
        config = _label(backend, opt_level, passes)
        report.configs.append(config)
        actual = run_config(fuzz, inputs, backend, opt_level, timeout=timeout, passes=passes)
        report.failures.extend(_judge(expected, actual, config, rtol, atol, allowed))
    finals = final_tensors(fuzz.ir) if not fuzz.error and expected.values is not None else ()
    if finals and 3 in opt_levels:          # only the final tensors wanted: intermediates fuse away
        finals = tuple(dict.fromkeys(finals + fuzz.supplied))     # data for a tensor needs it kept
        wanted = set(finals) | {q.atom.name for q in fuzz.ir.queries}            # queried tensors stay results
        kept = Outcome({k: v for k, v in expected.values.items() if k in wanted}, expected.answers)
        for backend in names:
            config = f"{backend} -O3 outputs={','.join(finals)}"
            report.configs.append(config)
            actual = run_config(fuzz, inputs, backend, 3, timeout=timeout, outputs=finals)
            report.failures.extend(_judge(kept, actual, config, rtol, atol, allowed))
    if not _inputs_unchanged(pristine, inputs):
        report.failures.append(Failure("mutated-input", "runs", "a run changed its input arrays"))
    return report


def final_tensors(program) -> tuple[str, ...]:
    """Defined tensors that no other equation reads (what a user would ask for as ``outputs``)."""
    read = {ref.name for eq in program.equations for ref in ir_refs(eq.rhs) if ref.name != eq.lhs.name}
    return tuple(n for n, info in program.tensors.items() if info.defined and n not in read)


def _error_failure(outcome: Outcome, config: str, allowed) -> Failure | None:
    err = outcome.error
    if isinstance(err, Hang):
        return Failure("hang", config, str(err))
    if isinstance(err, TlcError):
        if any(p.search(err.message) for p in allowed):
            return None
        return Failure("error", config, str(err))
    return Failure("crash", config, outcome.trace or repr(err))


def _judge_reference(report: Report, expected: Outcome, label: str, allowed, finite: bool) -> None:
    if expected.error is not None:
        failure = _error_failure(expected, label, allowed)
        if failure:
            report.failures.append(failure)
        return
    if finite:
        for name in _nonfinite(expected):
            report.failures.append(Failure("nonfinite", label, f"{name} has NaN or infinite elements", name))


def _judge(expected: Outcome, actual: Outcome, config: str, rtol, atol, allowed) -> list[Failure]:
    if actual.error is not None:
        if expected.error is not None and type(actual.error) is type(expected.error) and \
                getattr(actual.error, "message", None) == getattr(expected.error, "message", None):
            return []      # the same error as the reference: already reported there, if it is one
        failure = _error_failure(actual, config, allowed if expected.error is not None else ())
        return [failure] if failure else []
    if expected.error is not None:
        return [Failure("error", config, f"ran, but the reference raised: {expected.error}")]
    return [Failure("mismatch", config, problem, tensor)
            for tensor, problem in compare_outcomes(expected, actual, rtol, atol)]


# ------------------------------------------------------------------------ hostile names against plain ones
def plain_inputs(program, inputs: Mapping) -> dict:
    """``inputs`` (keyed by hostile names) keyed by the names of the plain program ``program`` was renamed from
    (a ``tlc.fuzz.names.HostileProgram``)."""
    back = {h: p for p, h in program.renaming}
    return {back.get(k, k): v for k, v in inputs.items()}


def judge_renamed(program, inputs: Mapping, expected, timeout: float | None = None) -> list:
    """``renamed`` failures: the renamed reference's results (``expected``, an ``Outcome``) against the plain
    program's NumPy ``-O0`` results renamed; empty for a program that is not a ``HostileProgram``."""
    plain = getattr(program, "plain", None)
    if plain is None or expected.values is None:
        return []
    base = run_config(plain, plain_inputs(program, inputs), *REFERENCE, timeout=timeout)
    if base.values is None:
        return [Failure("renamed", "numpy -O0 (plain names)", f"the plain program failed: {base.error}")]
    names = dict(program.renaming)
    failures = []
    want = {names.get(k, k): v for k, v in base.values.items()}
    if set(want) != set(expected.values):
        failures.append(Failure("renamed", "numpy -O0", f"results {sorted(expected.values)}, expected "
                                f"{sorted(want)} (the plain program's, renamed)"))
    for name in sorted(set(want) & set(expected.values)):
        problem = compare_values(name, want[name], expected.values[name])
        if problem:
            failures.append(Failure("renamed", "numpy -O0", f"{problem} (against the plain program; "
                                    f"{name} is {_plain_name(program, name)} there)", name))
    if base.answers is not None and expected.answers is not None:
        for (query, a), (_, b) in zip(base.answers, expected.answers):
            same = set(a) == set(b) if isinstance(a, list) and isinstance(b, list) else \
                compare_values(query, a, b) is None
            if not same:
                failures.append(Failure("renamed", "numpy -O0", f"answer to {query} (plain names) is {a!r}, "
                                        f"renamed {b!r}"))
    return failures


def _plain_name(program, name: str) -> str:
    """The plain name ``name`` had before ``program`` was renamed."""
    return next((p for p, h in program.renaming if h == name), name)
