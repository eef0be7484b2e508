"""The Python API: ``tlc.compile`` and the callable ``Program`` it returns."""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

import tlc_runtime as rt
from tlc_runtime.native import default_threads
from tlc.analysis.projection import analyse
from tlc.analysis.relation_plan import (PLANNING_CAPABILITIES, counted_alike, duckdb_available, plan_relations,
                                        relations_option, storage_can_matter)
from tlc.analysis.strata import Mode, check_max_rounds, round_bound, stratify
from tlc.backends.registry import BACKENDS as REGISTERED, LAZY_RESULTS, Emitted, backend as find_backend
from tlc.backends.shared.attention import REPORT_KEY
from tlc.backends.shared.relational_duckdb import stratum_sql
from tlc.driver.inputs import closure_reach, nonzeros, prepare, ready_key, scalar_span
from tlc.driver.shaped import shaped
from tlc.driver.plan import plan
from tlc.driver.source import frontend, load_source, warn
from tlc.driver.stored import check_loaded, replaced_inputs, stored_inputs, stored_names
from tlc.driver.planned import PlannedProgram
from tlc.driver.weights import Weights
from tlc.errors import DataError, Problems, TlcError, closest, did_you_mean, shortened
from tlc.frontend.lower import lower
from tlc.frontend.parser import parse
from tlc.ir import nodes as ir
from tlc.ir.printer import format_equation, format_expr
from tlc.ir.program import Program as IRProgram
from tlc.memory_limit import parse_bytes, resolve as resolve_budget
from tlc.passes.attention import explain_attention
from tlc.passes.manager import PassManager

BACKENDS = ("numpy", "llvm")
"""CPU backends (the test suite runs its semantics tests on each); ``llvm`` needs the ``llvm`` extra (llvmlite)."""
ALL_BACKENDS = tuple(REGISTERED)
"""Backends ``compile`` accepts (``tlc.backends.registry``); ``triton`` needs the ``triton`` extra and a GPU or
``TRITON_INTERPRET=1``."""


@dataclass(frozen=True)
class Specialisation:
    """A program specialised to its inputs' shapes: the planned program, what the backend emitted for it, and
    the loaded ``run`` function."""

    planned: PlannedProgram
    emitted: Emitted
    run: object
    returned: dict = field(default_factory=dict, compare=False)
    """Per program (its id: the program and the names), the names ``run`` returns that are the program's results
    (filled by its first call)."""

    @property
    def shapes(self):
        """Inferred extents per tensor and index ranges per equation (``tlc.analysis.shapes.Shapes``)."""
        return self.planned.shapes

    @property
    def symbols(self) -> tuple:
        """The named constants, in position order."""
        return self.planned.symbols

    @property
    def symbolic(self) -> frozenset:
        """(tensor, axis) pairs that range over the named constants."""
        return self.planned.symbolic

    @property
    def plan(self):
        """Storage per relation and strategy per stratum (``tlc.analysis.relation_plan.RelationPlan``)."""
        return self.planned.relations

    @property
    def source(self) -> str:
        """The emitted module's source."""
        return self.emitted.source


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
                 relations: str = "auto", max_rounds: int | None = None, database=None, chunks=None):
        self._backend = find_backend(backend)
        if opt_level not in (0, 1, 2, 3):
            raise TlcError(f"opt_level must be 0, 1, 2 or 3, not {opt_level!r}")
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
            raise TlcError(f"threads must be a positive integer, not {threads!r}")
        if chunks is not None and LAZY_RESULTS not in self._backend.capabilities:
            raise TlcError(f"chunks= sets how the dask backend splits arrays; the {backend} backend does not chunk")
        self.chunks = check_chunks(chunks, program)
        """Chunking asked for a chunked backend (Dask): bytes per chunk or chunk shapes by tensor; None: planned."""
        self.max_rounds = check_max_rounds(max_rounds)
        """A bound on the rounds of every fixpoint loop (None: the stated defaults; see ``explain``)."""
        self.relations = relations_option(relations)
        """How relational strata run: ``auto`` (the planner decides), or forced ``sparse``/``dense``/``closure``/
        ``duckdb``."""
        self.database = _database(database)
        """The DuckDB database file (absolute path) inputs are stored in and results written to, or None."""
        if (self.relations == "duckdb" or self.database is not None) and not duckdb_available():
            why = "relations='duckdb'" if self.relations == "duckdb" else "a database file"
            raise TlcError(f"{why} needs duckdb: pip install 'tlc[duckdb]'")
        missing = self._backend.missing()
        if missing:
            raise TlcError(missing)
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
        program = self.ir
        owner, returned = spec.returned.get(id(program), (None, None))  # (decided once: a step returns ~60 arrays)
        if owner is not program:      # a pass's own tensors are not results
            returned = tuple(name for name in raw if name in self.source_ir.tensors and program.is_result(name))
            spec.returned[id(program)] = (program, returned)   # (the program kept: an id alone may be reused)
        lazy = LAZY_RESULTS in self._backend.capabilities
        for name in returned:
            value = raw[name]
            info = program.tensors[name]
            if info.relation:
                domains = [spec.symbols if (name, a) in spec.symbolic else None for a in range(info.rank)]
                values[name] = rt.Relation(name, value, domains)
            elif lazy and not isinstance(value, np.ndarray):
                values[name] = value     # a lazy array: np.asarray computes it
            else:
                values[name] = np.asarray(value)
        results = Results(values, report, spec, prepared)
        results.answers.extend((f"{_format_atom(q.atom)}?", self._answer(q.atom, results)) for q in program.queries)
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
        ready = ready_key(program, inputs) if self.database is None else None
        if ready is not None and ("ready", ready) in variant.cache:
            # these names and shapes were checked and specialised before (a training step's call: 15 -> 9 us)
            return dict(inputs), variant.cache[("ready", ready)]
        for name in inputs:
            if name not in program.tensors and name not in program.scalars:
                if name in self.source_ir.tensors:
                    raise DataError(f"data for {name}, an intermediate the optimiser removed (it is not among "
                                    f"the outputs); list it in outputs= to supply data for it",
                                    self.source_ir.tensors[name].first_use.span).located(program.filename,
                                                                                         program.source)
                readable = sorted(self.input_names())
                raise DataError(f"unknown input {name!r}; this program reads {', '.join(readable) or 'nothing'}",
                                help=did_you_mean(name, readable)).located(program.filename, program.source)
        given = list(inputs)
        if self.database is not None:
            inputs = {**inputs, **stored_inputs(program, self.database, [n for n in self._needed() if n not in inputs])}
        missing = Problems()        # every input without data, in one error
        for name in self._needed():
            if name not in inputs:
                span = program.tensors[name].first_use.span if name in program.tensors else \
                    scalar_span(program, name)
                what = "relation" if name in program.tensors and program.tensors[name].relation else "input"
                near = closest(name, [n for n, info in program.tensors.items() if info.defined] + list(inputs))
                hint = None if near is None else f"did you mean '{near}'? ({near} is " + (
                    "given data)" if near in inputs else "defined by an equation)")
                where = f" (nor a table {name} stored in {self.database})" if self.database is not None and \
                    what == "relation" else ""
                missing.add(DataError(f"no data for {what} {name}{where}", span, help=hint))
        try:
            missing.raise_any()
        except TlcError as err:
            raise err.located(program.filename, program.source) from None
        try:
            prepared, spec = self._specialise(inputs, variant, ready)
        except TlcError as err:
            raise err.located(program.filename, program.source) from None
        if self.database is not None:
            for note in replaced_inputs(program, self.database, given, prepared, spec.symbols, spec.symbolic):
                warnings.warn(note, stacklevel=4)
        return prepared, spec

    def check(self, /, **inputs) -> None:
        """Check the inputs against the program and infer every shape, without running anything."""
        self._prepare(inputs)

    def input_names(self) -> list[str]:
        """Names the program needs as inputs: tensors it reads but never defines, and scalars (as written:
        weights bound at compile time are not needed, factorised ones are named, not their factors)."""
        program = self.weights.dense.ir
        names = [n for n, i in program.tensors.items() if not i.defined] + list(program.scalars)
        return [n for n in names if n not in self.weights.bound]

    def _needed(self) -> tuple[str, ...]:
        """Inputs the program as it runs (after factorisation) reads but never defines, and scalars."""
        return self.ir.input_names

    def _specialise(self, inputs: dict, variant, ready: tuple | None) -> tuple[dict, Specialisation]:
        """Read the inputs, then plan, emit and load the program for their signature (cached per signature
        and relation plan; under ``ready``, the inputs' ``ready_key``, when they have one: a training loop's calls
        then skip all this, ~40 us); returns the prepared inputs and the specialisation."""
        program, strata, cache = variant.ir, variant.strata, variant.cache
        data, sig, shapes = shaped(program, strata, inputs, self.memory_limit, cache)
        counts = nonzeros(program, data)
        last = cache.get(("relations", sig.key))      # the last plan for this signature: a training loop's calls
        if last is not None and last[0] == counts:    # give the same data, and planning took ~0.5 ms per call
            relations = last[1]
        else:
            reach = closure_reach(program, strata, data)
            relations = plan_relations(program, strata, shapes, counts, self.relations, self.budget.elements,
                                       self.max_rounds, self._backend.capabilities, reach)
            if self.budget.elements is not None and PLANNING_CAPABILITIES & self._backend.capabilities and \
                    storage_can_matter(relations, program, shapes, self.budget.elements):
                reference = plan_relations(program, strata, shapes, counts, self.relations,
                                           self.budget.elements, self.max_rounds, frozenset(), reach)
                relations = counted_alike(relations, reference)
            cache[("relations", sig.key)] = (counts, relations)
        spec = cache.get((sig.key, relations.signature()))
        if spec is None:
            supplied = {n: shapes.extents[n] if n in data.tuples else e for n, e in sig.extents.items()
                        if program.tensors[n].defined and (n in data.arrays or n in data.tuples)}
            planned = plan(program, strata, shapes, sig, supplied, relations, self.budget, self.max_rounds,
                           self.threads, self._backend.capabilities, database=self.database, chunks=self.chunks)
            emitted = self._backend.emit(planned)
            spec = Specialisation(planned, emitted, self._backend.load(planned, emitted))
            cache[(sig.key, relations.signature())] = spec
        check_loaded(program, data.stored, shapes.extents, relations.counted_storage(), self.budget)
        prepared = prepare(data, sig.symbols, sig.symbolic, shapes.extents, relations.storage)
        if ready is not None:
            cache[("ready", ready)] = spec
        return prepared, spec

    # ------------------------------------------------------------------ inspection
    def specialisation(self, /, **inputs) -> Specialisation:
        """The program specialised to these inputs' shapes (cached), without running it."""
        return self._prepare(inputs)[1]

    def _last_spec(self, inputs: dict) -> Specialisation | None:
        """The specialisation to inputs given, else this thread's last one, else the one without inputs (which the
        database file may provide)."""
        if inputs:
            return self._prepare(inputs)[1]
        last = getattr(self._local, "spec", None)
        needed = self.input_names()
        if last is None and self.database is not None:
            needed = [n for n in needed if n not in stored_names(self.ir, self.database, needed)]
        if last is None and not needed:
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
        lines = explain_attention(self.source_ir, self.opt_level, self.report, self._backend.attention_runs)
        contractions: dict[int, list] = {}      # per equation, its planned contractions
        if spec is not None:
            for (k, _), contraction in spec.planned.contractions.items():
                contractions.setdefault(k, []).append(contraction)
            stored = [f"{n} {s}" for n, s in spec.plan.storage.items() if not self.ir.tensors[n].defined]
            if stored:
                lines.append(f"input relations: {', '.join(stored)} storage")
        if self.database is not None:
            relations = [n for n, i in self.ir.tensors.items() if i.relation and not i.defined]
            kept = sorted(stored_names(self.ir, self.database, relations))
            lines.append(f"database {self.database}: input relations are stored there (a call given no data for "
                         f"one reads it from there; different data replaces it)"
                         f"{': ' + ', '.join(kept) + ' stored' if kept else ''}; derived relations are written there")
        in_sql = spec is not None and (self.relations == "duckdb" or any(p.strategy == "duckdb"
                                                                        for p in spec.plan.strata))
        for number, stratum in enumerate(self.strata if spec is None else spec.planned.strata, 1):
            descending = " (descending)" if stratum.recurrence is not None and stratum.recurrence.descending else ""
            lines.append(f"stratum {number}: {', '.join(stratum.tensors)} [{stratum.mode.value}{descending}] "
                         f"{MODE_GLOSSES[stratum.mode]}")
            if stratum.mode is Mode.FIXPOINT and spec is not None:
                bound = round_bound(self.ir, stratum, spec.shapes.extents, self.max_rounds)
                lines.append(f"  converges within {bound.rounds} rounds, or fails: {bound.why}")
            relational = spec is not None and spec.plan.strata[number - 1].relational
            if stratum.mode is Mode.SEMINAIVE and self.max_rounds is not None and \
                    not (relational and spec.plan.strata[number - 1].strategy == "closure"):
                lines.append(f"  at most {self.max_rounds} semi-naive rounds (max_rounds={self.max_rounds})")
            if spec is not None and spec.plan.strata[number - 1].shown:
                lines.append(f"  {spec.plan.strata[number - 1].describe()}")
                threads = self.threads or default_threads()
                where = spec.plan.strata[number - 1].runs_on(self._backend.capabilities, threads, self.max_rounds)
                lines.append(f"  runs: {where}")
                if spec.plan.strata[number - 1].strategy == "duckdb":
                    sql = stratum_sql(spec.planned, number - 1)
                    lines.extend(f"    {line}" for statement in sql for line in statement.split("\n"))
                lines.extend(f"  {t}: {spec.plan.storage[t]} storage" for t in stratum.tensors
                             if t in spec.plan.storage)     # a min=/max= fold in DuckDB is a numeric tensor
            elif spec is not None and in_sql:
                lines.append(f"  runs: in memory, with the {self.backend} backend's array code, not in DuckDB "
                             f"({spec.plan.strata[number - 1].reason}, nor a sum, average or min=/max= fold of plain "
                             f"reads)")
            for k in stratum.equations:
                eq = self.ir.equations[k]
                where = f"line {eq.span.line}" if eq.span else ""
                lines.append(f"  {where}: {format_equation(eq)}".replace("\n", "\n    "))
                projection = analyse(eq)
                for path, variables in projection.summed_at.items():
                    where = "the whole right-hand side" if not path else \
                        shortened(format_expr(ir.node_at(eq.rhs, path)), 80)
                    names = ", ".join(variables)     # a relation keeps a tuple when some value of them exists
                    lines.append(f"    projects {names} out of {where}" if eq.lhs.relation else
                                 f"    sums {names} over {where}")
                if projection.reduced:
                    lines.append(f"    reduces {', '.join(projection.reduced)} by {eq.aggregator.reduction}")
                if spec is not None and k in spec.shapes.ranges:
                    ranges = spec.shapes.ranges[k]
                    if ranges:
                        lines.append("    index ranges: " + ", ".join(_index_range(v, lo, hi)
                                                                     for v, (lo, hi) in ranges.items()))
                    lines.extend(f"    {c.describe()}" for c in contractions.get(k, ()))
        if self.memory_limit is not None:
            lines.append(f"{self.budget.kind}: {self.memory_limit} elements "
                         f"({self.memory_limit * 8} bytes) per tensor, temporary and contraction intermediate")
        lines.extend(self.weights.explain(spec))
        if spec is None:
            lines.append("(call the program or pass inputs to explain() for shapes and costs)")
        elif spec.emitted.decisions:
            lines.append(f"{self.backend} backend:")
            for k, chosen in sorted(spec.emitted.decisions.items()):
                eq = self.ir.equations[k]
                lines.append(f"  line {eq.span.line if eq.span else '?'}: {format_equation(eq)}".replace("\n", "\n    "))
                lines.extend(f"    {d}" for d in dict.fromkeys(chosen))
        return "\n".join(lines)


def _database(database) -> str | None:
    """A database file argument as an absolute path (None: none)."""
    if database is None:
        return None
    if not isinstance(database, (str, os.PathLike)) or not os.fspath(database):
        raise TlcError(f"database must be the path of a DuckDB file, not {database!r}")
    return os.path.abspath(os.fspath(database))


MODE_GLOSSES = {
    Mode.PLAIN: "computed once",
    Mode.RECURRENCE: "computed step by step along its shifted index",
    Mode.SEMINAIVE: "rules repeated on the newly derived tuples until none is new",
    Mode.FIXPOINT: "equations repeated until nothing changes",
}
"""What each evaluation mode means, for readers of ``explain``."""


def _index_range(variable: str, lo: int, hi: int) -> str:
    """``i 0..2 (3 values)``: the values an index variable takes in an equation."""
    if hi <= lo:
        return f"{variable} none"
    return f"{variable} {lo}..{hi - 1} ({hi - lo} value{'s' if hi - lo != 1 else ''})"


def check_chunks(chunks, program: IRProgram):
    """``chunks=`` checked: None, bytes per chunk (an int or text such as ``64M``), or a chunk shape per tensor
    of ``program`` (positive ints or -1, one per axis)."""
    if chunks is None:
        return None
    if not isinstance(chunks, Mapping):
        try:
            return parse_bytes(chunks)
        except TlcError:
            raise TlcError(f"chunks= is bytes per chunk (such as 64M) or a chunk shape per tensor, not "
                           f"{chunks!r}") from None
    checked = {}
    for name, shape in chunks.items():
        if name not in program.tensors:
            raise TlcError(f"chunks= names {name!r}, which is not a tensor of this program")
        rank = program.tensors[name].rank
        shape = (shape,) if isinstance(shape, int) else shape
        if not isinstance(shape, (tuple, list)) or len(shape) != rank or \
                any(isinstance(n, bool) or not isinstance(n, int) or not (n > 0 or n == -1) for n in shape):
            raise TlcError(f"chunks= for {name} must be {rank} positive integer{'s' * (rank != 1)} "
                           f"(or -1 for a whole axis), not {shape!r}")
        checked[name] = tuple(shape)
    return checked


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


def compile(src_or_path, backend: str = "numpy", opt_level: int = 2,  # noqa: A001 - the API name
            threads: int | None = None, passes: PassManager | None = None, outputs=None,
            tolerance: float | None = None, *, memory_limit: int | str | None = None, factorise=None,
            weights: Mapping | None = None, relations: str = "auto", max_rounds: int | None = None,
            database=None, chunks=None) -> Program:
    """Compile Tensor Logic source text (or a path to a ``.tl`` file) into a callable ``Program``;
    ``threads`` bounds the threads a native backend uses per kernel (default ``TLC_NUM_THREADS``);
    ``outputs`` lists the tensors to return (others may be optimised away; default all);
    ``tolerance`` allows approximate attention with at most that absolute error;
    ``memory_limit`` (bytes, or text such as ``"512M"``; default None: half the memory available when the process
    first compiles; ``"none"``: no limit) bounds every tensor, temporary and contraction intermediate (contractions
    are sliced to fit), checked before anything is allocated;
    ``factorise`` (``"rel_err=1e-3[,method=tt][,tensors=W1+W2]"`` or a dict) replaces weights by low-rank
    factors, and ``weights`` binds input values at compile time (see docs/language.md);
    ``relations`` picks how Datalog-shaped strata run: ``auto``, ``sparse``, ``dense``, ``closure`` (formerly
    ``squaring``) or ``duckdb`` (SQL inside DuckDB; the ``duckdb`` extra); ``database`` names a DuckDB file that
    keeps the input relations and receives every derived relation as a table of its name;
    ``max_rounds`` bounds the rounds of every fixpoint loop (a positive int; default: see docs/language.md);
    ``chunks`` sets the Dask backend's chunking: bytes per chunk (``"64M"``) or a chunk shape per tensor
    (``{"X": (1000, -1)}``, -1 for a whole axis); by default it is planned from the memory budget."""
    source, filename = load_source(src_or_path)
    program = frontend(source, filename, outputs, tolerance)
    warn(program, stacklevel=2)
    return Program(program, backend, opt_level, passes, threads,
                   memory_limit=memory_limit, factorise=factorise, weights=weights, relations=relations,
                   max_rounds=max_rounds, database=database, chunks=chunks)
