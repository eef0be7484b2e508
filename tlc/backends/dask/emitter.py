"""The Dask module: the shared schedule over lazy ``dask.array`` arrays.

Equations are rendered by ``tlc.backends.shared.arrays`` with NumPy's names, which dispatch to Dask on Dask
arrays (ufuncs, ``np.einsum`` of one operand, ``np.where``); what has no such dispatch is spelled for Dask here:
allocation with the planned chunks, ``max=``/``min=`` reductions, and every planned contraction, emitted as
one pairwise Dask operation per step of its path (``da.tensordot``, or a two-operand ``da.einsum`` with
``optimize=True`` when a step keeps a shared index), never one multi-operand ``da.einsum``. A recursion's loop
persists its arrays after each round.
"""

from __future__ import annotations

from dataclasses import replace

from tlc.analysis.strata import Mode, Stratum
from tlc.backends.dask.chunks import ChunkPlan, plan_chunks
from tlc.backends.dask.steps import pairwise_steps
from tlc.backends.shared.arrays import ArrayExpression, Value, tuple_code
from tlc.backends.shared.quoting import counts_of, identifier, internal, literal
from tlc.backends.shared.schedule import ScheduleEmitter
from tlc.driver.planned import PlannedProgram
from tlc.ir import nodes as ir
from tlc.memory_limit import format_bytes

CHUNKS = "CHUNKS"
"""The emitted table of chunk shapes, by tensor name."""


class DaskExpression(ArrayExpression):
    """One equation over Dask arrays: contractions pairwise, reductions and sole definitions in Dask's terms."""

    REDUCE_CODE = {"max": "da.nanmax", "min": "da.nanmin", "avg": "da.sum"}

    def contraction(self, ordered: list[Value], plan, order: tuple[str, ...]) -> Value:
        """One pairwise Dask operation per step of the planned path (slicing is Dask's chunking here)."""
        values = [Value(self.operand(a), a.vars) for a in ordered]
        steps = pairwise_steps([v.vars for v in values], order, plan.path)
        for step in steps:
            taken = [values[k] for k in step.positions]
            for k in reversed(step.positions):
                values.pop(k)
            code, kept = self.pair(taken, step.result)
            self.owner.record_step(self.number, plan, step, code[3:code.index("(")])
            if step.last and kept != order:
                code = f"{code}.transpose({tuple(kept.index(v) for v in order)})"
            values.append(Value(code if step.last else self.bind(code), order if step.last else kept))
        return values[-1]

    def pair(self, taken: list[Value], result: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
        """Code for one step (one or two operands) and the order of its result's indices: ``da.matmul`` for a
        (batched) product of matrices (BLAS per block and batch element, where NumPy's einsum loops over a
        batch), ``da.tensordot`` for any other step that keeps no shared index, else a two-operand
        ``da.einsum``."""
        if len(taken) == 2:
            a, b = taken
            shared = set(a.vars) & set(b.vars)
            one_sided = (set(a.vars) ^ set(b.vars)) - set(result)
            plain = len(set(a.vars)) == len(a.vars) and len(set(b.vars)) == len(b.vars)
            batch = tuple(v for v in result if v in shared)
            free_a = tuple(v for v in a.vars if v not in shared)
            free_b = tuple(v for v in b.vars if v not in shared)
            summed = tuple(v for v in a.vars if v in shared and v not in result)
            if plain and not one_sided and len(summed) == 1 and len(free_a) == 1 and len(free_b) == 1:
                left = self.aligned(a, batch + free_a + summed)
                right = self.aligned(b, batch + summed + free_b)
                return f"da.matmul({left}, {right})", batch + free_a + free_b
            if plain and not one_sided and not batch:
                axes = (tuple(a.vars.index(v) for v in summed), tuple(b.vars.index(v) for v in summed))
                return f"da.tensordot({a.code}, {b.code}, axes={axes})", free_a + free_b
        taken = [self.diagonal_ready(t) for t in taken]
        inputs = ",".join("".join(self.letter(v) for v in t.vars) for t in taken)
        subscripts = f"{inputs}->{''.join(self.letter(v) for v in result)}"
        return f"da.einsum({subscripts!r}, {', '.join(t.code for t in taken)}, optimize=True)", result

    def einsum(self, arrays: list[Value], path) -> Value:
        """A sum over some axes of one operand is ``.sum`` (Dask's tree reduction); the rest as on NumPy."""
        gone = self.projection.summed_at.get(path, ())
        if len(arrays) == 1 and gone and len(set(arrays[0].vars)) == len(arrays[0].vars):
            value = arrays[0]
            axes = tuple(value.vars.index(v) for v in gone)
            return Value(f"{value.code}.sum(axis={axes})", tuple(v for v in value.vars if v not in gone))
        return super().einsum([self.diagonal_ready(arrays[0])] if len(arrays) == 1 else arrays, path)

    def diagonal_ready(self, value: Value) -> Value:
        """``value`` with the axes it reads with one index chunked alike (``rt.diagonal_ready``), when it has such."""
        if len(set(value.vars)) == len(value.vars):
            return value
        letters = "".join(self.letter(v) for v in value.vars)
        return replace(value, code=f"rt.diagonal_ready({value.code}, {letters!r})", direct=None)

    def write(self, target: str, value: Value) -> None:
        """A sole plain definition over the whole tensor binds the value; anything else combines as NumPy does."""
        eq = self.eq
        lhs_vars = tuple(i.plain_variable for i in eq.lhs.indices)
        if target != identifier(eq.lhs.name) or not self.owner.binds(eq.lhs.name) or set(value.vars) - set(lhs_vars):
            super().write(target, value)
            return
        code = value.code
        if value.vars != lhs_vars:
            sizes = {self.letter(v): self.size(v) for v in lhs_vars}
            src = "".join(self.letter(v) for v in value.vars)
            dst = "".join(self.letter(v) for v in lhs_vars)
            code = f"rt.align({code}, {src!r}, {dst!r}, {sizes!r})"
        if eq.lhs.relation:
            self.out.append(f"{target} = rt.lazy({code}) > 0")
        else:
            self.out.append(f"{target} = rt.as_number({code})")


class DaskEmitter(ScheduleEmitter):
    """Emits the Dask module of one planned program and records, per equation, how it runs on Dask."""

    BANNER = "for the Dask backend: every array is a lazy dask.array; shapes are specialised."
    RUNTIME = "tlc_runtime.dask_ops"
    IMPORTS = ("import dask.array as da",)
    EXPRESSION = DaskExpression
    STORES_WHOLE = False
    REUSES_BUFFERS = False
    HOISTS_CONSTANTS = False
    """Every array is allocated as the base schedule does (``DaskExpression.write`` combines into it)."""
    ARRAY_STRATEGIES = frozenset({"dense"})
    """A dense semi-naive stratum runs on Dask: its Boolean products are pairwise contractions of Dask arrays (the
    backend's ``ARRAY_RELATIONS`` capability has their contractions planned)."""

    def __init__(self, planned: PlannedProgram):
        super().__init__(planned)
        self.chunks: ChunkPlan = plan_chunks(planned)
        self.decisions: dict[int, list[str]] = {}
        self.tasks = 0
        """Estimated tasks of all contraction steps emitted so far."""
        self.in_numpy = False
        """True while a stratum that runs eagerly in NumPy is emitted (the base schedule's NumPy code)."""

    def module(self) -> str:
        """The module, after recording where each stratum runs and each tensor's chunks."""
        self.record_placement()
        return super().module()

    def tables(self) -> list[str]:
        """The chunk shapes the inputs and allocations use."""
        return ["", f"{CHUNKS} = {literal(dict(self.chunks.shapes))}"]

    def binds(self, name: str) -> bool:
        """True when ``name`` is defined by one plain equation over its whole extent in a plain stratum: its value
        is then bound to that equation's (no allocation, nothing accumulated)."""
        defining = self.contributing(name)      # an equation adding 0 is skipped: the zeros are its value
        if self.mode is not Mode.PLAIN or len(defining) != 1 or name in self.inputs or name in self.windows:
            return False
        eq = self.program.equations[defining[0]]
        variables = tuple(i.plain_variable for i in eq.lhs.indices)
        ranges = self.shapes.ranges.get(defining[0], {})
        if eq.fact or eq.aggregator.reduction == "avg" or not all(variables) or len(set(variables)) != len(variables):
            return False
        whole = all(ranges.get(v) == (0, n) for v, n in zip(variables, self.shapes.extents[name]))
        return whole and all(hi > lo for lo, hi in ranges.values())

    def emit_stratum(self, stratum: Stratum, position: int) -> None:
        """A stratum as lazy Dask code, or, when ``eager``, as a function of NumPy code the client calls on its
        inputs' values (``rt.eager``)."""
        if not self.eager(stratum, position):
            super().emit_stratum(stratum, position)
            return
        reads = [identifier(n) for n in self.reads(stratum)]
        outer, numeric = self.lines, self.numeric
        self.lines, self.numeric, self.in_numpy, self.EXPRESSION = [], set(), True, ArrayExpression
        try:
            super().emit_stratum(stratum, position)
        finally:
            body, self.lines, self.numeric, self.in_numpy = self.lines, outer, numeric, False
            del self.EXPRESSION
        function = internal("eager", stratum.tensors[0])
        names = tuple_code([identifier(t) for t in stratum.tensors])
        supplied = ", ".join(f"{literal(t)}: inputs[{literal(t)}]" for t in stratum.tensors if t in self.inputs)
        self.lines.append(f"def {function}({', '.join(['rt', 'inputs', *reads])}):  # NumPy: rt is tlc_runtime here")
        self.lines.extend("    " + line if line else "" for line in body)
        self.lines.append(f"    return {names}")
        self.lines.append(f"{names} = rt.eager({function}, {{{supplied}}}, {', '.join(reads)})")

    def reads(self, stratum: Stratum) -> list[str]:
        """The tensors and scalars a stratum reads from outside itself, in order of first use."""
        read = dict.fromkeys(r.name for k in stratum.equations for r in ir.refs(self.program.equations[k].rhs))
        return list(dict.fromkeys([*(n for n in read if n not in stratum.tensors), *self.program.scalars]))

    def eager(self, stratum: Stratum, position: int) -> bool:
        """True for a recursion (a recurrence or a fixpoint; not a relational stratum, which the planner placed)
        whose arrays (its own and those it reads) each fit in one chunk: each round would be one task per operation,
        so nothing runs in parallel, while building and persisting a round's graph costs milliseconds; the client
        runs it in NumPy instead on the computed inputs."""
        if stratum.mode is Mode.PLAIN or self.plan.strata[position].relational:
            return False
        names = [*stratum.tensors, *self.reads(stratum)]
        return all(tuple(self.chunks.shapes[n]) == tuple(self.shapes.extents[n]) for n in names
                   if n in self.chunks.shapes)

    def input_code(self, name: str) -> str:
        """An input as a Dask array (NumPy data split into its planned chunks, Dask data as it is)."""
        conv = "rt.as_relation" if self.program.tensors[name].relation else "rt.as_number"
        return f"{conv}(inputs[{literal(name)}], {CHUNKS}[{literal(name)}])"

    def allocate(self, name: str, var: str | None = None) -> None:
        """A lazy array of zeros (NaN for ``max=``/``min=``) in the planned chunks, holding supplied data; nothing
        for a tensor bound to its one equation's value."""
        if var is None and not self.in_numpy and self.binds(name):
            return
        super().allocate(name, var)

    def new_array(self, name: str, shape: tuple[int, ...], fill: str, windowed: bool) -> str:
        """A lazy array in ``name``'s planned chunks (Dask's own for a ring buffer)."""
        if self.in_numpy:
            return super().new_array(name, shape, fill, windowed)
        chunks = "'auto'" if windowed else f"{CHUNKS}[{literal(name)}]"
        return {"zeros": f"rt.zeros({shape}, {chunks})", "bool": f"rt.zeros({shape}, {chunks}, dtype=bool)",
                "nan": f"rt.full({shape}, np.nan, {chunks})"}[fill]

    def supplied_code(self, name: str) -> str:
        """Supplied data as a Dask array."""
        if self.in_numpy:
            return super().supplied_code(name)
        conv = "rt.as_relation" if self.program.tensors[name].relation else "rt.as_number"
        return f"{conv}(inputs[{literal(name)}])"

    def finalise(self, name: str) -> None:
        """Untouched ``max=``/``min=`` elements become 0; averages divide by their counts (0 where none)."""
        if self.in_numpy:
            super().finalise(name)
            return
        target = identifier(name)
        reduction = self.program.reduction(name)
        if reduction in ("max", "min"):
            self.lines.append(f"{target} = np.where(np.isnan({target}), 0.0, {target})  # untouched elements are 0")
        elif reduction == "avg":
            counts = counts_of(target)
            self.lines.append(f"{target} = np.where({counts} > 0, {target} / np.where({counts} > 0, {counts}, 1.0), "
                              f"0.0)")

    def round_end(self, arrays: list[str], indent: int) -> None:
        """Persist the round's arrays: the next round's graph starts from their values, not from round one."""
        if self.in_numpy:
            return
        self.lines.append("    " * indent + f"{tuple_code(arrays)} = rt.persist({', '.join(arrays)})")

    def any_new(self, new: list[str], indent: int) -> str:
        """Persist a semi-naive round's new facts and compute whether any is new in the same call."""
        if self.in_numpy:
            return super().any_new(new, indent)
        more = internal("more")
        self.lines.append("    " * indent + f"{tuple_code(new)}, {more} = rt.persist_round({', '.join(new)})")
        return more

    # ---------------------------------------------------------------- explain
    def record_step(self, k: int, plan, step, how: str) -> None:
        """Note one pairwise step (a ``da.tensordot`` or ``da.einsum``) of equation ``k``'s contraction ``plan``
        for ``explain``."""
        summed = sorted(set(v for t in step.operands for v in t) - set(step.result))
        tasks, peak = self.chunks.step_cost(step.operands, step.result, plan.sizes)
        self.tasks += tasks
        over = f" over {', '.join(summed)}" if summed else ""
        parts = " × ".join(f"[{','.join(t)}]" for t in step.operands)
        self.decisions.setdefault(k, []).append(
            f"{parts} -> [{','.join(step.result)}]: one da.{how}{over}, ~{tasks} task{'s' * (tasks != 1)}, "
            f"peak ~{format_bytes(peak)} per task (estimate)")

    def record_placement(self) -> None:
        """Note per stratum where it runs, and per tensor its chunks, on the equation that first uses it."""
        seen: set[str] = set()
        for position, stratum in enumerate(self.strata):
            if not stratum.equations:
                continue
            first = stratum.equations[0]
            plan = self.plan.strata[position]
            notes = self.decisions.setdefault(first, [])
            if plan.strategy in self.ARRAY_STRATEGIES:
                notes.append(f"stratum {position + 1} ({plan.strategy} semi-naive) runs on Dask: Boolean products as "
                             f"pairwise dask.array contractions, a driver loop that persists each round's new facts "
                             f"and tests for them on the cluster")
            elif plan.strategy == "duckdb":
                notes.append(f"stratum {position + 1} (duckdb) runs inside DuckDB, not on Dask; its inputs are "
                             f"computed first")
            elif plan.relational:
                notes.append(f"stratum {position + 1} ({plan.strategy}) runs in memory on tlc_runtime.sparse, not "
                             f"on Dask; its inputs are computed first")
            elif self.eager(stratum, position):
                notes.append(f"stratum {position + 1} ({stratum.mode.value}) runs eagerly in NumPy in the client: "
                             f"every array it reads or writes fits in one chunk, so each round would be one task per "
                             f"operation, and building and persisting a round's graph costs milliseconds")
            elif stratum.mode is Mode.PLAIN:
                notes.append(f"stratum {position + 1} (plain) runs on Dask: lazy dask.array operations, computed when "
                             f"a result is")
            else:
                notes.append(f"stratum {position + 1} ({stratum.mode.value}) runs on Dask: a driver loop that persists "
                             f"its arrays each round; convergence is computed on the cluster")
            for k in stratum.equations:
                eq = self.program.equations[k]
                for ref in (*ir.refs(eq.rhs), eq.lhs):
                    if ref.name in seen or ref.name not in self.chunks.shapes:
                        continue
                    seen.add(ref.name)
                    given = "" if self.program.tensors[ref.name].defined else \
                        " (NumPy data; Dask data keeps its own chunks)"
                    self.decisions.setdefault(k, []).append(
                        self.chunks.describe(ref.name, self.shapes.extents[ref.name]) + given)
        if self.program.equations:
            self.decisions.setdefault(0, []).insert(
                0, f"chunk size {format_bytes(self.chunks.chunk_bytes)} ({self.chunks.why})")
