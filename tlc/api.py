"""The Python API: ``tlc.compile`` and the callable ``Program`` it returns."""

from __future__ import annotations

import decimal
import itertools
import math
import numbers
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import opt_einsum
from scipy import sparse

import tlc_runtime as rt
from tlc.backends.numpy.attention import REPORT_KEY
from tlc.backends.numpy.emit import emit_numpy
from tlc.passes.attention import explain_attention
from tlc.analysis.budget import check_budget
from tlc.backends.source import load_emitted
from tlc.errors import DataError, TlcError
from tlc.factorise.binding import Weights
from tlc.frontend.lower import lower
from tlc.frontend.parser import parse
from tlc.ir import nodes as ir
from tlc.ir.printer import format_equation
from tlc.ir.program import Program as IRProgram
from tlc.memory_limit import resolve as resolve_budget
from tlc.analysis.costs import product_plans
from tlc.passes.manager import PassManager
from tlc.analysis.projection import analyse
from tlc.analysis.relation_plan import CHOICES as RELATION_CHOICES, RelationPlan, plan_relations
from tlc.analysis.safety import check_safety
from tlc.analysis.shapes import MAX_POSITIONS, Shapes, axis_components, check_rank, infer_shapes, symbolic_axes
from tlc.analysis.strata import Mode, check_max_rounds, round_bound, stratify

BACKENDS = ("numpy", "llvm")
"""CPU backends (the test suite runs its semantics tests on each); ``llvm`` needs the ``llvm`` extra (llvmlite)."""
ALL_BACKENDS = BACKENDS + ("triton",)
"""Backends ``compile`` accepts; ``triton`` needs the ``triton`` extra and a GPU or ``TRITON_INTERPRET=1``."""


def load_source(src_or_path: str | os.PathLike, suffix: str = ".tl") -> tuple[str, str | None]:
    """Source text and file name: a path to an existing file (or one ending in ``suffix``) is read,
    anything else is the source itself."""
    if not isinstance(src_or_path, (str, os.PathLike)):
        raise TlcError(f"expected Tensor Logic source text or a path to a {suffix} file, not "
                       f"{type(src_or_path).__name__}")
    text = os.fspath(src_or_path)
    if not isinstance(text, str):
        raise TlcError(f"expected a path as text, not {type(text).__name__}")
    if "\n" not in text and (text.endswith(suffix) or os.path.isfile(text)):
        try:
            with open(text, encoding="utf-8-sig") as handle:     # a byte-order mark is not part of the program
                return handle.read(), text
        except UnicodeDecodeError as err:
            raise _not_utf8(text, err) from None
        except (OSError, ValueError) as err:
            raise TlcError(f"cannot read {text}: {getattr(err, 'strerror', None) or err}", filename=text) from None
    return text, None


def _not_utf8(path: str, err: UnicodeDecodeError) -> TlcError:
    """A source file that is not UTF-8, located at the first bad byte."""
    from tlc.errors import Span
    before = err.object[:err.start]
    line = before.count(b"\n") + 1
    column = err.start - (before.rfind(b"\n") + 1) + 1
    return TlcError(f"cannot read {path}: not UTF-8 text (byte {err.object[err.start:err.start + 1]!r})",
                    Span(line, column), filename=path)


def frontend(source: str, filename: str | None = None, outputs=None, tolerance: float | None = None) -> IRProgram:
    """Parse, lower and check a program (everything that needs no data); ``outputs`` names the tensors
    wanted as results (default: every defined tensor), ``tolerance`` the error allowed in approximations."""
    program = lower(parse(source, filename), filename, source)
    try:
        _check_aggregators(program)
        _check_virtual_axes(program)
        stratify(program)
    except TlcError as err:
        raise err.located(filename, source) from None
    return replace(program, outputs=_check_outputs(program, outputs), tolerance=_check_tolerance(tolerance))


def _check_outputs(program: IRProgram, outputs) -> frozenset[str] | None:
    """The requested outputs as a set; each must be a tensor some equation defines."""
    if outputs is None:
        return None
    names = [outputs] if isinstance(outputs, str) else list(outputs) if isinstance(outputs, (list, tuple, set, frozenset)) \
        else None
    if names is None or not all(isinstance(n, str) for n in names):
        raise TlcError(f"outputs must be a tensor name or a list of names, not {outputs!r}", filename=program.filename)
    defined = [n for n, info in program.tensors.items() if info.defined]
    for name in names:
        if name not in defined:
            what = "an input, not defined by an equation" if name in program.tensors else "not a tensor of this program"
            raise TlcError(f"unknown output {name!r}: it is {what}; defined tensors are {', '.join(defined)}",
                           filename=program.filename)
    return frozenset(names)


def _check_tolerance(tolerance) -> float | None:
    if tolerance is None:
        return None
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 < tolerance < math.inf:
        raise TlcError(f"tolerance must be a positive number, not {tolerance!r}")
    return float(tolerance)


def _check_virtual_axes(program: IRProgram) -> None:
    """A virtual axis counts steps: it may be indexed by variables and integers, not named constants."""
    for ref in program.references:
        for a, index in enumerate(ref.indices):
            if index.virtual and not program.tensors[ref.name].defined:
                raise TlcError(f"{ref.name} is an input, stored whole: a virtual index (*) marks the step axis of a "
                               "tensor an equation defines", index.span or ref.span)
            if a in program.virtual_axes.get(ref.name, ()) and index.symbol is not None:
                raise TlcError(f"axis {a} of {ref.name} is a virtual (step) axis; the named constant "
                               f"{index.symbol} cannot index it", index.span)


def _check_aggregators(program: IRProgram) -> None:
    first: dict[str, ir.Equation] = {}
    for eq in program.equations:
        seen = first.setdefault(eq.lhs.name, eq)
        if seen.aggregator.reduction != eq.aggregator.reduction:
            raise TlcError(f"{eq.lhs.name} is defined with '{eq.aggregator.value}' here but with "
                           f"'{seen.aggregator.value}' on line {seen.span.line if seen.span else '?'}", eq.span)
        try:
            analyse(eq)
            check_safety(eq)
        except RecursionError:
            raise TlcError("expression nested too deeply", eq.span) from None


@dataclass(frozen=True)
class Specialisation:
    """A program specialised to its inputs' shapes: inferred shapes, symbol table and emitted code."""

    shapes: Shapes
    symbols: tuple
    symbolic: frozenset
    source: str
    run: object
    emitted: object | None = None
    """The backend's own emission record (the llvm backend's kernels and per-equation decisions)."""
    plan: RelationPlan | None = None
    """Storage per relation and strategy per stratum (``tlc.analysis.relation_plan``)."""


class Results(Mapping):
    """One call's values of every defined tensor (ndarrays, ``Relation`` objects), its ``answers`` to the
    program's queries and its attention ``report``; nothing in it is shared with another call."""

    def __init__(self, values: dict, report: tuple, spec: Specialisation, inputs: dict):
        self._values = values
        self.answers: list = []
        """``(query text, answer)`` pairs for the queries written in the program."""
        self.report = report
        """One ``tlc_runtime.AttentionReport`` per fused attention: the method it ran, why, and for a tolerance
        the entry bound, degree and error bound."""
        self._spec = spec
        self._inputs = inputs

    def __getitem__(self, name):
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def __repr__(self):
        return f"Results({', '.join(self._values)})"


class Program:
    """A compiled Tensor Logic program; call it with inputs by name to run it.

    A Program may be called (and queried, explained) from many threads at once: each call's results belong
    to that call, specialisation is done under a lock, and ``report``, ``ir`` and the default of ``query``,
    ``source`` and ``explain`` are those of the calling thread's last call."""

    def __init__(self, program: IRProgram, backend: str = "numpy", opt_level: int = 2,
                 passes: PassManager | None = None, threads: int | None = None, *,
                 memory_limit: int | str | None = None, factorise=None, weights: Mapping | None = None,
                 relations: str = "auto", max_rounds: int | None = None):
        if backend not in ALL_BACKENDS:
            raise TlcError(f"unknown backend {backend!r}; available: {', '.join(ALL_BACKENDS)}")
        if opt_level not in (0, 1, 2, 3):
            raise TlcError(f"opt_level must be 0, 1, 2 or 3, not {opt_level!r}")
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
            raise TlcError(f"threads must be a positive integer, not {threads!r}")
        if relations not in RELATION_CHOICES:
            raise TlcError(f"relations must be one of {', '.join(RELATION_CHOICES)}, not {relations!r}")
        self.max_rounds = check_max_rounds(max_rounds)
        """A bound on the rounds of every fixpoint loop (None: the stated defaults; see ``explain``)."""
        self.relations = relations
        """How relational strata run: ``auto`` (the planner decides), or forced ``sparse``/``dense``/``squaring``."""
        if backend == "llvm":
            try:
                import llvmlite  # noqa: F401 - only checks that the extra is installed
            except ImportError:
                raise TlcError("the llvm backend needs llvmlite: pip install 'tlc[llvm]'") from None
        self.threads = threads
        self.source_ir = program
        """The program as written (after checks); ``ir`` is the optimised one that runs."""
        if passes is not None and not callable(getattr(passes, "run", None)):    # duck-typed: the fuzzer's orders
            raise TlcError(f"passes must be a tlc.passes.manager.PassManager, not {type(passes).__name__}")
        self.passes = passes or PassManager(opt_level)
        self.backend = backend
        self.opt_level = opt_level
        self._lock = threading.RLock()
        """Held while a call binds weights and specialises (caches are shared); never while it runs."""
        self._local = threading.local()
        """This thread's last specialisation and results."""
        self.budget = resolve_budget(memory_limit)
        """The memory budget (``tlc.memory_limit.Budget``): by default half the memory available when this
        process first compiled a program."""
        self.memory_limit = self.budget.elements
        """Largest tensor, temporary or contraction intermediate in elements (float64), or None for no limit."""
        optimised = self.passes.run(program)
        self.weights = Weights(self, optimised, stratify(optimised), factorise, weights)
        """Weights bound at compile time and the low-rank factorisations of those the options name."""

    @property
    def ir(self) -> IRProgram:
        """The optimised program that runs (with this thread's factorised weights, if any)."""
        return self.weights.current.ir

    @property
    def strata(self) -> tuple:
        """The strata of ``ir``, in evaluation order."""
        return self.weights.current.strata

    @property
    def report(self) -> tuple:
        """This thread's last call's attention reports (``Results.report``); () before a call."""
        last = getattr(self._local, "results", None)
        return last.report if last is not None else ()

    # ------------------------------------------------------------------ running
    def __call__(self, /, **inputs) -> Results:
        """Run the program on ``inputs`` (by name); the returned ``Results`` belong to this call."""
        prepared, spec = self._prepare(inputs)
        try:
            with np.errstate(all="ignore"):
                raw = spec.run(prepared)
        except rt.RuntimeFailure as err:
            from tlc.errors import Span
            span = Span(err.line, err.column) if err.line else None
            raise TlcError(err.message, span, filename=self.ir.filename, source=self.ir.source) from None
        report = tuple(raw.pop(REPORT_KEY, ()))
        values = {}
        for name, value in raw.items():
            if name not in self.source_ir.tensors or not self.ir.is_result(name):   # a pass's own tensor
                continue
            info = self.ir.tensors[name]
            if info.relation:
                domains = [spec.symbols if (name, a) in spec.symbolic else None for a in range(info.rank)]
                values[name] = rt.Relation(name, value, domains)
            else:
                values[name] = np.asarray(value)
        results = Results(values, report, spec, prepared)
        results.answers.extend((f"{_format_atom(q.atom)}?", self._answer(q.atom, results)) for q in self.ir.queries)
        self._local.results = results
        return results

    def query(self, text: str, /, **inputs):
        """Answer ``Atom`` (e.g. ``"Ancestor(Bob, x)"``): distinct tuples of the variables' values for a
        relation, the selected sub-array for a numeric tensor; runs the program if needed."""
        if not isinstance(text, str):
            raise TlcError(f"a query is text such as \"Ancestor(Bob, x)\", not {type(text).__name__}")
        module = parse(text.strip().rstrip("?") + "?", "<query>")
        queries = lower(module, "<query>", text).queries
        if len(queries) != 1:
            raise TlcError("a query is one atom, such as Ancestor(Bob, x)", filename="<query>", source=text)
        atom = queries[0].atom
        if atom.name not in self.ir.tensors or atom.name not in self.source_ir.tensors or \
                not self.ir.is_result(atom.name):
            why = "not among the outputs" if atom.name in self.source_ir.tensors else "not a tensor of this program"
            raise TlcError(f"{atom.name} is {why}", atom.span, filename="<query>", source=text)
        rank = self.ir.tensors[atom.name].rank
        if len(atom.indices) != rank:
            raise TlcError(f"{atom.name} has {rank} ind{'ex' if rank == 1 else 'ices'} but the query gives "
                           f"{len(atom.indices)}", atom.span, filename="<query>", source=text)
        results = getattr(self._local, "results", None)
        if inputs or results is None:
            results = self(**inputs)
        return self._answer(atom, results)

    def _answer(self, atom: ir.Ref, results: Results):
        spec = results._spec
        known = results if atom.name in results else results._inputs   # a query may ask an input
        if self.ir.tensors[atom.name].relation and not self.ir.virtual_axes.get(atom.name):
            return _relation_answer(atom, known[atom.name], spec)
        value = np.asarray(known[atom.name])
        selection, variables = [], []
        # a result keeps only the final step of a virtual axis: that axis is not in the array
        dropped = self.ir.virtual_axes.get(atom.name, frozenset()) if atom.name in results else frozenset()
        for a, index in enumerate(atom.indices):
            if a in dropped:
                continue
            if index.symbol is not None:
                if index.symbol not in spec.symbols:
                    return [] if value.dtype == bool else np.zeros(0)
                selection.append(spec.symbols.index(index.symbol))
            elif index.is_constant and (atom.name, a) in spec.symbolic:
                if index.offset not in spec.symbols:
                    return []
                selection.append(spec.symbols.index(index.offset))
            elif index.is_constant:
                if index.offset >= value.shape[len(selection)]:
                    return [] if value.dtype == bool else np.zeros(0)
                selection.append(index.offset)
            else:
                var = index.plain_variable or index.variables[0]
                selection.append(slice(None))
                variables.append((var, a))
        sub = value[tuple(selection)]
        if value.dtype != bool:
            return sub
        first = list(dict.fromkeys(v for v, _ in variables))
        axes_of = {v: [k for k, (w, _) in enumerate(variables) if w == v] for v in first}
        answers: dict[tuple, None] = {}
        for row in np.argwhere(sub):
            if any(len({int(row[k]) for k in ks}) > 1 for ks in axes_of.values()):
                continue
            decoded = []
            for v in first:
                k = axes_of[v][0]
                axis = variables[k][1]
                pos = int(row[k])
                decoded.append(spec.symbols[pos] if (atom.name, axis) in spec.symbolic else pos)
            answers.setdefault(tuple(decoded))
        return list(answers)

    # ------------------------------------------------------------------ inputs and specialisation
    def _prepare(self, inputs: dict) -> tuple[dict, Specialisation]:
        with self._lock:
            prepared, spec = self._prepare_locked(inputs)
        self._local.spec = spec
        return prepared, spec

    def _prepare_locked(self, inputs: dict) -> tuple[dict, Specialisation]:
        inputs, variant = self.weights.bind(inputs)
        program = variant.ir
        known = set(program.tensors) | set(program.scalars)
        for name in inputs:
            if name not in known:
                first = program.statements[0].span if program.statements else None
                if name in self.source_ir.tensors:
                    raise DataError(f"data for {name}, an intermediate the optimiser removed (it is not among "
                                    f"the outputs); list it in outputs= to supply data for it",
                                    self.source_ir.tensors[name].first_use.span).located(program.filename,
                                                                                         program.source)
                raise DataError(f"unknown input {name!r}; this program reads "
                                f"{', '.join(sorted(self.input_names())) or 'nothing'}",
                                first).located(program.filename, program.source)
        for name in self._needed():
            if name not in inputs:
                span = program.tensors[name].first_use.span if name in program.tensors else \
                    _scalar_span(program, name)
                what = "relation" if name in program.tensors and program.tensors[name].relation else "input"
                raise DataError(f"no data for {what} {name}", span).located(program.filename, program.source)
        try:
            return self._specialise(inputs, variant)
        except TlcError as err:
            raise err.located(program.filename, program.source) from None

    def check(self, /, **inputs) -> None:
        """Check the inputs against the program and infer every shape, without running anything."""
        self._prepare(inputs)

    def input_names(self) -> list[str]:
        """Names the program needs as inputs: tensors it reads but never defines, and scalars (as written:
        weights bound at compile time are not needed, factorised ones are named, not their factors)."""
        program = self.weights.dense.ir
        names = [n for n, i in program.tensors.items() if not i.defined] + list(program.scalars)
        return [n for n in names if n not in self.weights.bound]

    def _needed(self) -> list[str]:
        """Inputs the program as it runs (after factorisation) reads but never defines, and scalars."""
        return [n for n, i in self.ir.tensors.items() if not i.defined] + list(self.ir.scalars)

    def _specialise(self, inputs: dict, variant) -> tuple[dict, Specialisation]:
        program, strata, cache = variant.ir, variant.strata, variant.cache
        symbols = dict.fromkeys(program.symbols)   # insertion-ordered, O(1) membership
        tuples: dict[str, list[tuple]] = {}
        arrays: dict[str, np.ndarray] = {}
        scalars: dict[str, float] = {}
        string_axes: set = set()
        for name, value in inputs.items():
            if name in program.scalars and name not in program.tensors:
                scalars[name] = _scalar(name, value, program)
                continue
            info = program.tensors[name]
            if info.relation and _is_tuple_data(value):
                rows = _tuples(name, value, info.rank, program)
                tuples[name] = rows
                for row in rows:
                    for a, item in enumerate(row):
                        if isinstance(item, str):
                            string_axes.add((name, a))
                continue
            array = _array(name, value, info.relation, program, self.memory_limit)
            check_rank(program, name, array.shape)
            arrays[name] = array
        symbolic = symbolic_axes(program, string_axes)
        for ref in program.references:   # integers written on an axis of named constants are constants too
            for a, index in enumerate(ref.indices):
                if index.is_constant and index.symbol is None and (ref.name, a) in symbolic:
                    symbols.setdefault(index.offset)
        for name, rows in tuples.items():
            for a in range(program.tensors[name].rank):
                if (name, a) in symbolic:
                    for row in rows:
                        symbols.setdefault(row[a])
        n_symbols = len(symbols)
        extents = {n: a.shape for n, a in arrays.items()}
        for name, rows in tuples.items():
            rank = program.tensors[name].rank
            ext = []
            for a in range(rank):
                if (name, a) in symbolic:
                    ext.append(n_symbols)
                else:
                    ext.append(max((int(r[a]) + 1 for r in rows), default=0))
            extents[name] = tuple(ext)
        for decl in program.shapes.values():
            dims = tuple(n_symbols if isinstance(d, str) else d for d in decl.dims)
            if decl.name in extents and extents[decl.name] != dims and decl.name in arrays:
                raise DataError(f"data for {decl.name} has shape {extents[decl.name]} but it is declared "
                                f"{dims}", decl.span)
            extents[decl.name] = dims
        _unify_extents(program, extents, arrays, symbolic, n_symbols)
        fixed = {n: e for n, e in extents.items() if not program.tensors[n].defined or n in program.shapes}
        given = {n: e for n, e in extents.items() if n not in fixed}
        key = (tuple(sorted(extents.items())), tuple(symbols), tuple(sorted(symbolic)))
        shapes = cache.get(key)
        if shapes is None:
            shapes = cache[key] = infer_shapes(program, strata, fixed, given, symbolic, n_symbols)
        nnz = {n: rt.sparse.count(a) for n, a in arrays.items() if program.tensors[n].relation}
        nnz.update((n, len(rows)) for n, rows in tuples.items())
        plan = plan_relations(program, strata, shapes, nnz, self.relations)
        spec = cache.get((key, plan.signature()))
        if spec is None:
            check_budget(program, strata, shapes, plan, self.budget)
            supplied = {n: shapes.extents[n] if n in tuples else e for n, e in extents.items()
                        if program.tensors[n].defined and (n in arrays or n in tuples)}
            emitted = None
            if self.backend == "llvm":
                from tlc.backends.llvm.program import build_module
                source, run, emitted = build_module(program, strata, shapes, tuple(symbols), supplied,
                                                    frozenset(symbolic), self.threads, self.memory_limit, plan,
                                                    self.max_rounds)
            elif self.backend == "triton":
                from tlc.backends.triton.program import build_module
                source, run, emitted = build_module(program, strata, shapes, tuple(symbols), supplied,
                                                    frozenset(symbolic), self.memory_limit, plan, self.max_rounds)
            else:
                source = emit_numpy(program, strata, shapes, tuple(symbols), supplied, frozenset(symbolic),
                                    self.memory_limit, plan, self.max_rounds)
                run = load_emitted(source, program.filename)
            spec = Specialisation(shapes, tuple(symbols), frozenset(symbolic), source, run, emitted, plan)
            cache[(key, plan.signature())] = spec
        prepared: dict = dict(scalars)
        for name, array in arrays.items():
            sparse_input = isinstance(array, rt.Tuples) and plan.storage.get(name) == "sparse"
            prepared[name] = array if sparse_input or not isinstance(array, rt.Tuples) else np.asarray(array)
        position = {item: k for k, item in enumerate(symbols)}
        for name, rows in tuples.items():
            shape = spec.shapes.extents[name]
            columns = [[position[item] for item in column] if (name, a) in symbolic else list(column)
                       for a, column in enumerate(zip(*rows))]
            positions = np.asarray(columns, dtype=np.int64).T.reshape(len(rows), len(shape))
            sparse = rt.Tuples.from_rows(positions, shape)
            prepared[name] = sparse if plan.storage.get(name) == "sparse" else np.asarray(sparse)
        return prepared, spec

    # ------------------------------------------------------------------ inspection
    def specialisation(self, /, **inputs) -> Specialisation:
        """The program specialised to these inputs' shapes (cached), without running it."""
        return self._prepare(inputs)[1]

    def _last_spec(self, inputs: dict) -> Specialisation | None:
        """The specialisation to inputs given, else this thread's last one, else the one without inputs."""
        if inputs:
            return self._prepare(inputs)[1]
        last = getattr(self._local, "spec", None)
        if last is None and not self.input_names():
            return self._prepare({})[1]
        return last

    def source(self, /, **inputs) -> str:
        """The emitted code for this backend, specialised to the given inputs (or the last call's)."""
        spec = self._last_spec(inputs)
        if spec is None:
            raise TlcError("the emitted code is specialised to input shapes: call the program first "
                           "or pass inputs to source()", filename=self.ir.filename)
        return spec.source

    def explain(self, /, **inputs) -> str:
        """The plan: strata, evaluation modes and, per equation, summations and contraction costs."""
        spec = self._last_spec(inputs)
        runs = None
        if self.backend == "triton":
            from tlc.backends.triton.attention_node import describe_run as runs
        lines = explain_attention(self.source_ir, self.opt_level, self.report, runs)
        if spec is not None and spec.plan is not None:
            stored = [f"{n} {s}" for n, s in spec.plan.storage.items() if not self.ir.tensors[n].defined]
            if stored:
                lines.append(f"input relations: {', '.join(stored)} storage")
        for number, stratum in enumerate(self.strata, 1):
            lines.append(f"stratum {number}: {', '.join(stratum.tensors)} [{stratum.mode.value}]")
            if stratum.mode is Mode.FIXPOINT and spec is not None:
                bound = round_bound(self.ir, stratum, spec.shapes.extents, self.max_rounds)
                lines.append(f"  converges within {bound.rounds} rounds, or fails: {bound.why}")
            relational = spec is not None and spec.plan is not None and spec.plan.strata[number - 1].relational
            if stratum.mode is Mode.SEMINAIVE and self.max_rounds is not None and \
                    not (relational and spec.plan.strata[number - 1].strategy == "squaring"):
                lines.append(f"  at most {self.max_rounds} semi-naive rounds (max_rounds={self.max_rounds})")
            if relational:
                lines.append(f"  {spec.plan.strata[number - 1].describe()}")
                lines.extend(f"  {t}: {spec.plan.storage[t]} storage" for t in stratum.tensors)
            for k in stratum.equations:
                eq = self.ir.equations[k]
                where = f"line {eq.span.line}" if eq.span else ""
                lines.append(f"  {where}: {format_equation(eq)}".replace("\n", "\n    "))
                projection = analyse(eq)
                for path, variables in projection.summed_at.items():
                    lines.append(f"    sums {', '.join(variables)} at {'the right-hand side' if not path else 'sub-expression ' + '.'.join(map(str, path))}")
                if projection.reduced:
                    lines.append(f"    reduces {', '.join(projection.reduced)} by {eq.aggregator.reduction}")
                if spec is not None and k in spec.shapes.ranges:
                    ranges = spec.shapes.ranges[k]
                    lines.append("    ranges " + ", ".join(f"{v}∈[{lo},{hi})" for v, (lo, hi) in ranges.items()))
                    if not relational:   # relational strata join tuples instead of contracting
                        lines.extend("    " + c for c in _contraction_costs(eq, ranges, self.memory_limit))
        if self.memory_limit is not None:
            lines.append(f"{self.budget.kind}: {self.memory_limit} elements "
                         f"({self.memory_limit * 8} bytes) per tensor, temporary and contraction intermediate")
        lines.extend(self.weights.explain(spec))
        if spec is None:
            lines.append("(call the program or pass inputs to explain() for shapes and costs)")
        elif getattr(spec.emitted, "decisions", None):
            lines.append(f"{self.backend} backend:")
            for k, chosen in sorted(spec.emitted.decisions.items()):
                eq = self.ir.equations[k]
                lines.append(f"  line {eq.span.line if eq.span else '?'}: {format_equation(eq)}".replace("\n", "\n    "))
                lines.extend(f"    {d}" for d in dict.fromkeys(chosen))
        return "\n".join(lines)


def _unify_extents(program: IRProgram, extents: dict, arrays: dict, symbolic: set, n_symbols: int) -> None:
    """Inputs joined by a plain index must agree; tuple-given relations stretch to their domain."""
    for component in axis_components(program):
        if component & symbolic:
            for name, a in component:
                if name in arrays and extents[name][a] != n_symbols:
                    raise DataError(f"axis {a} of {name} ranges over the {n_symbols} named constants, "
                                    f"but its data has extent {extents[name][a]}",
                                    program.tensors[name].first_use.span)
            continue
        fixed = [(n, a) for n, a in component if n in arrays and not program.tensors[n].defined]
        sizes = {extents[n][a] for n, a in fixed}
        if len(sizes) > 1:
            (n1, a1), (n2, a2) = sorted(fixed, key=lambda s: extents[s[0]][s[1]])[::len(fixed) - 1]
            raise DataError(f"inconsistent extents for one index: axis {a1} of {n1} has "
                            f"{extents[n1][a1]} but axis {a2} of {n2} has {extents[n2][a2]}",
                            _joining_span(program, (n1, a1), (n2, a2)))
        top = max([extents[n][a] for n, a in component if n in extents], default=0)
        for name, a in component:
            if name in extents and name not in arrays and name not in program.shapes:
                ext = list(extents[name])
                ext[a] = top
                extents[name] = tuple(ext)


MAX_INPUT_ELEMENTS = 2**34
"""Largest input array tlc reads even without a memory budget (128 GiB of float64); larger ones (a broadcast
view, say) are refused before any pass over them, as are inputs over the budget."""


def _contraction_costs(eq: ir.Equation, ranges: dict, memory_limit: int | None = None) -> list[str]:
    out = []
    for subscripts, path, info in product_plans(eq, ranges, memory_limit):
        sliced = f", sliced over {', '.join(info.sliced)} ({info.n_slices} slices)" if info.sliced else ""
        out.append(f"contraction {subscripts}: path {path} ({info.strategy}), {float(info.opt_cost):.3g} FLOPs, "
                   f"largest intermediate {int(info.largest_intermediate)} elements{sliced}")
    return out


def _relation_answer(atom: ir.Ref, value, spec: Specialisation) -> list[tuple]:
    """Distinct tuples of a query's variables, read from a relation's true positions (never densified)."""
    if isinstance(value, rt.Relation):
        rows = value.positions()
    else:
        rows = value.rows() if isinstance(value, rt.Tuples) else np.argwhere(np.asarray(value))
    keep = np.ones(len(rows), dtype=bool)
    first: dict[str, int] = {}
    for a, index in enumerate(atom.indices):
        if index.is_constant:
            item = index.symbol if index.symbol is not None else index.offset
            if index.symbol is not None or (atom.name, a) in spec.symbolic:
                if item not in spec.symbols:
                    return []
                item = spec.symbols.index(item)
            keep &= rows[:, a] == item
            continue
        var = index.plain_variable or index.variables[0]
        if var in first:
            keep &= rows[:, a] == rows[:, first[var]]
        else:
            first[var] = a
    answers: dict[tuple, None] = {}
    for row in rows[keep]:
        answers.setdefault(tuple(spec.symbols[int(row[a])] if (atom.name, a) in spec.symbolic else int(row[a])
                                 for a in first.values()))
    return list(answers)


def _format_atom(ref: ir.Ref) -> str:
    from tlc.ir.printer import format_ref
    return format_ref(ref)


def _scalar_span(program: IRProgram, name: str):
    for eq in program.equations:
        for node in ir.walk(eq.rhs):
            if isinstance(node, ir.Scalar) and node.name == name:
                return node.span
    return None


def _joining_span(program: IRProgram, first, second):
    for eq in program.equations:
        spots = {(ref.name, a): i.span for ref in (eq.lhs, *ir.refs(eq.rhs)) for a, i in enumerate(ref.indices)}
        if first in spots and second in spots:
            return spots[second]
    return program.tensors[second[0]].first_use.span


def _is_tuple_data(value) -> bool:
    if isinstance(value, np.ndarray):
        return False
    if isinstance(value, (set, frozenset)):
        return True
    try:
        return isinstance(value, (list, tuple)) and (len(value) == 0 or isinstance(value[0], (tuple, list, str))
                                                      or not isinstance(value[0], (list, np.ndarray, float, bool)))
    except Exception:     # a list subclass whose own methods fail: _as_array reports it
        return False


def _tuples(name: str, value, rank: int, program: IRProgram) -> list[tuple]:
    span = program.tensors[name].first_use.span
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
    return out


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _as_array(name: str, value, span, relation: bool = False) -> np.ndarray:
    """``value`` as an ndarray; an object array holding only real numbers becomes float64, any other object
    array (strings among numbers, ragged lists, Python objects) is a DataError."""
    try:
        array = np.asarray(value)
    except Exception as err:      # ragged lists, or the data's own __array__ failed
        raise DataError(f"data for {name} is not an array: {type(err).__name__}: {err}", span) from err
    if array.dtype.hasobject:
        if array.ndim == 0 and not _is_real(array.item()):
            what = "a Boolean array or a list or set of tuples" if relation else "an array or a number"
            raise DataError(f"data for {name} is a {type(value).__name__} ({_short(value)}), not {what}", span)
        odd = [x for x in itertools.islice((x for x in array.flat if not _is_real(x)), 1)]
        if odd:
            odd = odd[0]
            raise DataError(f"data for {name} is an object array holding {_short(odd)} ({type(odd).__name__}); "
                            f"give a numeric or Boolean array", span)
        try:
            array = array.astype(np.float64)
        except (OverflowError, ValueError, TypeError) as err:
            raise DataError(f"data for {name} holds a number that is not a 64-bit float: {err}", span) from None
    return array


def _is_real(x) -> bool:
    return isinstance(x, (numbers.Real, decimal.Decimal))


def _array(name: str, value, relation: bool, program: IRProgram,
           limit: int | None = None) -> np.ndarray | rt.Tuples:
    span = program.tensors[name].first_use.span
    if sparse.issparse(value):
        if not relation:
            raise DataError(f"data for {name} is a scipy.sparse matrix; a numeric tensor takes a dense array "
                            f"(.toarray())", span)
        if len(program.tensors[name].first_use.indices) != 2:
            raise DataError(f"a scipy.sparse matrix is data for a binary relation, but {name} has "
                            f"{program.tensors[name].rank} arguments", span)
        data = value.tocoo().data
        if data.dtype.kind not in "biuf" or not np.isin(data, (0, 1)).all():
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
    array = _as_array(name, value, span, relation)
    ready = array.dtype == (bool if relation else np.float64) and array.flags.c_contiguous
    limit = MAX_INPUT_ELEMENTS if ready else min(limit or MAX_INPUT_ELEMENTS, MAX_INPUT_ELEMENTS)
    if array.size > limit:     # before any pass or copy: a broadcast view may be huge and hold nothing
        raise DataError(f"data for {name} has shape {array.shape} ({array.size:.3g} elements), more than the "
                        f"{limit:.3g} elements an input may hold{'' if ready else ' when converted (the memory budget)'}",
                        span)
    if relation:
        if array.dtype != bool:
            if array.dtype.kind not in "iuf" or not np.isin(array, (0, 1)).all():
                raise DataError(f"data for relation {name} must be Boolean (or 0/1), got dtype {array.dtype}"
                                f"{'' if array.dtype.kind not in 'iuf' else ' with other values'}", span)
            array = array.astype(bool)
        return array
    if array.dtype.kind not in "biuf":
        raise DataError(f"data for {name} must be numeric, got dtype {array.dtype}", span)
    return np.asarray(array, dtype=np.float64, order="C")     # no copy when it already is


def _scalar(name: str, value, program: IRProgram) -> float:
    span = _scalar_span(program, name)
    if _is_real(value):
        try:
            return float(value)
        except OverflowError:
            raise DataError(f"scalar input {name} is too large for a 64-bit float: {_short(value)}", span) from None
        except (ValueError, TypeError) as err:
            raise DataError(f"scalar input {name} must be a real number: {err}", span) from None
    array = _as_array(name, value, span)
    if array.dtype.kind not in "biuf":
        raise DataError(f"scalar input {name} must be a real number, got {_short(value)}", span)
    if array.ndim:
        raise DataError(f"{name} is used as a scalar but its data has shape {array.shape}", span)
    return float(array)


def compile(src_or_path, backend: str = "numpy", opt_level: int = 2,  # noqa: A001 - the API name
            threads: int | None = None, passes: PassManager | None = None, outputs=None,
            tolerance: float | None = None, *, memory_limit: int | str | None = None, factorise=None,
            weights: Mapping | None = None, relations: str = "auto", max_rounds: int | None = None) -> Program:
    """Compile Tensor Logic source text (or a path to a ``.tl`` file) into a callable ``Program``;
    ``threads`` bounds the threads a native backend uses per kernel (default ``TLC_NUM_THREADS``);
    ``outputs`` lists the tensors to return (others may be optimised away; default all);
    ``tolerance`` allows approximate attention with at most that absolute error;
    ``memory_limit`` (bytes, or text such as ``"512M"``; default None: half the memory available when the process
    first compiles; ``"none"``: no limit) bounds every tensor, temporary and contraction intermediate (contractions
    are sliced to fit), checked before anything is allocated;
    ``factorise`` (``"rel_err=1e-3[,method=tt][,tensors=W1+W2]"`` or a dict) replaces weights by low-rank
    factors, and ``weights`` binds input values at compile time (see docs/language.md);
    ``relations`` picks how Datalog-shaped strata run: ``auto``, ``sparse``, ``dense`` or ``squaring``;
    ``max_rounds`` bounds the rounds of every fixpoint loop (a positive int; default: see docs/language.md)."""
    source, filename = load_source(src_or_path)
    return Program(frontend(source, filename, outputs, tolerance), backend, opt_level, passes, threads,
                   memory_limit=memory_limit, factorise=factorise, weights=weights, relations=relations,
                   max_rounds=max_rounds)
