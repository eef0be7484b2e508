"""The llvm backend's emitter: the NumPy module, with equations that have a kernel form replaced by
calls to compiled native kernels (``tlc_runtime.native``).

Strata, recurrences, fixpoints, allocation and finalisation are the NumPy emitter's; only the
per-equation step differs. An equation becomes ``_kN(target, count, (arrays...), (params...),
(ints...))``, preceded by NumPy statements for any sub-product the cost rules give to BLAS; an
equation without a kernel form (softmax, lnorm, concat, facts) stays NumPy code. The module lists
its kernels in ``KERNELS`` (name -> ``native.Spec``); the loader binds ``_kN`` to compiled code.
"""

from __future__ import annotations

from tlc.analysis.projection import analyse
from tlc.backends.llvm.from_ir import Lowering, lower_equation
from tlc.backends.llvm.join_plan import JoinLoop, SetOps, join_order, join_shapes
from tlc.backends.llvm.kernel import BitsetOps, ClosureLoop, CountingLoop, Kernel, SemiringLoop, describe, symbol_for
from tlc.backends.registry import Emitted
from tlc.backends.shared.arrays import ArrayExpression, Bound, tuple_code
from tlc.backends.shared.quoting import comment, counts_of, equation_comments, literal
from tlc.backends.shared.schedule import ScheduleEmitter
from tlc.driver.planned import PlannedProgram

CLOSURE_CALL = "_closure"
"""The name emitted code calls the compiled closure loop by (``tlc_runtime.native.ClosureKernel``)."""
SEMIRING_CALL = "_semiring_{fold}_{combine}"
"""The name emitted code passes a semiring's compiled kernels by (``tlc_runtime.semiring_native``)."""
COUNTING_CALL = "_counting"
"""The name emitted code passes path counting's compiled kernels by (``tlc_runtime.counting``)."""
SETS_CALL = "_sets"
"""The name emitted code calls the compiled set kernels by (``tlc_runtime.native_joins.SetKernel``)."""
JOINS_IMPORT = "import tlc_runtime.native_joins as nj"
BITSETS_CALL = "_bitsets"
"""The name emitted code passes the compiled bitset kernels by (``tlc_runtime.bitset_native.BitsetKernels``)."""
BITSETS_IMPORTS = ("import tlc_runtime.bitsets as bs", "import tlc_runtime.bitset_native as bitset_native")


class LlvmEmitter(ScheduleEmitter):
    """Emits the NumPy module with native kernel calls where an equation has a kernel form."""

    BANNER = "for the llvm backend: native kernels (tlc_runtime.native) and NumPy; shapes are specialised."
    IMPORTS = ("import tlc_runtime.native as native",)
    NATIVE_CLOSURE = True
    NATIVE_JOINS = True
    BATCHES_ELEMENTWISE = True
    """(An optimiser's update as three runs in NumPy took 83 us of a transformer block's step, as 24 kernel calls
    115 us: a kernel call costs more than the NumPy call it replaces on arrays this small.)"""
    UNMERGES_SELECTORS = True

    def __init__(self, planned: PlannedProgram):
        super().__init__(planned)
        self.lowerings: dict[str, Lowering] = {}
        self.decisions: dict[int, list[str]] = {}
        self.closure_loop: ClosureLoop | None = None
        """The compiled loop of ``rs.closure``, once a closure stratum uses it."""
        self.semiring_loops: dict[str, SemiringLoop] = {}
        """The compiled kernels of the semiring strata, by call name."""
        self.counting_loop: CountingLoop | None = None
        """The compiled kernels of path counting, once a counting stratum uses them."""
        self.join_loops: dict[JoinLoop, str] = {}
        """The compiled join shapes sparse strata use, with their call names."""
        self.sets_used = False
        """Whether native joins use the compiled set kernels (``SETS_CALL``)."""
        self.bitsets_used = False
        """Whether dense strata run as bitset rows on the compiled bitset kernels (``BITSETS_CALL``)."""

    def tables(self) -> list[str]:
        """``KERNELS``: the compiled kernels by call name, which the loader binds."""
        table = [JOINS_IMPORT] if self.sets_used else []
        if self.bitsets_used:
            table += ["", *BITSETS_IMPORTS]
        if self.semiring_loops:
            table += ["", "import tlc_runtime.semiring_native as semiring_native"]
        table += ["", "# compiled kernels: name -> symbol, array types, output type, loop variables, variable threads "
                  "may split", "KERNELS = {"]
        for call, lowering in self.lowerings.items():
            k = lowering.kernel
            split = k.variables.index(k.split) if k.split else None
            spec = (f"native.Spec({literal(symbol_for(k))}, {literal(tuple(a.dtype for a in k.arrays))}, "
                    f"{literal(k.output.dtype)}, {len(k.variables)}, {literal(split)})")
            table.append(f"    {literal(call)}: {spec},  {comment(k.label)}")
        if self.closure_loop is not None:
            spec = f"native.ClosureSpec({literal(self.closure_loop.symbol)})"
            table.append(f"    {literal(CLOSURE_CALL)}: {spec},  {comment(self.closure_loop.label)}")
        for call, loop in self.semiring_loops.items():
            spec = (f"semiring_native.SemiringSpec({literal(loop.symbol)}, {literal(loop.fold)}, "
                    f"{literal(loop.combine)})")
            table.append(f"    {literal(call)}: {spec},  {comment(loop.label)}")
        if self.counting_loop is not None:
            spec = f"counting.CountingSpec({literal(self.counting_loop.symbol)})"
            table.append(f"    {literal(COUNTING_CALL)}: {spec},  {comment(self.counting_loop.label)}")
        for loop, call in self.join_loops.items():
            spec = f"nj.JoinSpec({literal(loop.symbol)}, {loop.left}, {loop.right}, {literal(loop.left_kept)}, " \
                   f"{literal(loop.kept)}, {literal(loop.method)})"
            table.append(f"    {literal(call)}: {spec},  {comment(loop.label)}")
        if self.sets_used:
            table.append(f"    {literal(SETS_CALL)}: nj.SetSpec({literal(SetOps().symbol)}),  {comment(SetOps().label)}")
        if self.bitsets_used:
            table.append(f"    {literal(BITSETS_CALL)}: bitset_native.BitsetSpec({literal(BitsetOps().symbol)}),  "
                         f"{comment(BitsetOps().label)}")
        table.append("}")
        return table

    @property
    def kernels(self) -> dict[str, Kernel | ClosureLoop | SemiringLoop | CountingLoop | JoinLoop | SetOps | BitsetOps]:
        """Kernels by call name (after ``module()``)."""
        kernels = {name: lowering.kernel for name, lowering in self.lowerings.items()}
        if self.closure_loop is not None:
            kernels[CLOSURE_CALL] = self.closure_loop
        kernels.update({call: loop for loop, call in self.join_loops.items()})
        if self.sets_used:
            kernels[SETS_CALL] = SetOps()
        if self.bitsets_used:
            kernels[BITSETS_CALL] = BitsetOps()
        if self.counting_loop is not None:
            kernels[COUNTING_CALL] = self.counting_loop
        return kernels | self.semiring_loops

    def join_call(self, head: tuple, shape: tuple[int, ...], atoms: list[tuple[str, tuple]],
                  negated: list[tuple[str, tuple]], first: int, method: str) -> str:
        """``nj.conjunction`` of a rule body: ``atoms`` and ``negated`` are (variable, spec) pairs, joined from
        atom ``first`` on (``join_plan.join_order``), one compiled ``method`` join per join shape."""
        atoms = [atoms[k] for k in join_order([spec for _, spec in atoms], first)]
        calls = [self.join_loops.setdefault(loop, f"_j{len(self.join_loops) + 1}")
                 for loop in join_shapes(head, [spec for _, spec in atoms], [spec for _, spec in negated], method)]
        self.sets_used = True
        body = ", ".join(f"({code}, {literal(spec)})" for code, spec in atoms)
        neg = ", ".join(f"({code}, {literal(spec)})" for code, spec in negated)
        joins = tuple_code(calls) if calls else "()"
        return f"nj.conjunction({literal(head)}, {shape}, [{body}], [{neg}], {joins}, {SETS_CALL})"

    def set_call(self, operation: str, a: str, b: str) -> str:
        """``nj.union`` or ``nj.minus`` of two relations with the compiled set kernels."""
        self.sets_used = True
        return f"nj.{operation}({a}, {b}, {SETS_CALL})"

    def closure_call(self, step: str, storage: str = "dense") -> str:
        """``rs.closure`` with the compiled closure loop (threads claiming components level by level, or splitting
        words), or for ``sparse`` storage ``rs.closure_sparse`` with its traversal per source (split by sources)."""
        self.closure_loop = ClosureLoop()
        function = "rs.closure_sparse" if storage == "sparse" else "rs.closure"
        return f"{function}({step}, {CLOSURE_CALL})"

    def bitset_kernel(self) -> str:
        """The compiled closure loop, which dense strata's Boolean matrix products run on (``rs.conjunction``)."""
        self.closure_loop = ClosureLoop()
        return CLOSURE_CALL

    def bitset_ops(self) -> str:
        """The compiled bitset kernels, on which dense semi-naive strata stay bitset rows across rounds."""
        self.bitsets_used = True
        return BITSETS_CALL

    def note(self, k: int, text: str) -> None:
        """Record where equation ``k`` runs (``explain`` lists it under the backend's decisions)."""
        self.decisions.setdefault(k, []).append(text)

    def semiring_kernel(self, semiring) -> str:
        """The compiled kernels of ``semiring``'s fold and combine (relaxation and label setting; for a sum, path
        counting's)."""
        if semiring.fold == "sum":
            self.counting_loop = CountingLoop()
            return COUNTING_CALL
        call = SEMIRING_CALL.format(fold=semiring.fold, combine=semiring.combine)
        self.semiring_loops[call] = SemiringLoop(semiring.fold, semiring.combine)
        return call

    def equation(self, k: int, target: str, indent: int = 0, overrides=None, bounds_override=None) -> None:
        """A native kernel call for equation ``k`` when it has a kernel form, else the NumPy code. A stratum that
        depends on no input stays NumPy code, computed once when the module loads (``hoist``): kernels are bound
        only after the module has run, and a kernel call would keep it in ``run``, paid at every call."""
        if self.hoisting:
            self.decisions.setdefault(k, []).append("NumPy: its stratum depends on no input (a module-level constant)")
            super().equation(k, target, indent, overrides, bounds_override)
            return
        eq = self.program.equations[k]
        ranges = self.shapes.ranges.get(k, {})
        bounds = {v: Bound(lo, hi - lo) for v, (lo, hi) in ranges.items()}
        bounds.update(bounds_override or {})
        projection = analyse(eq)
        body = ArrayExpression(self, k, bounds, overrides or {}, projection)

        def external(node, path):
            value = body.expr(node, path)
            return (value.code if value.code.isidentifier() else body.bind_value(value)), value.vars

        assign = self.sole_target(eq, target)
        lowering = lower_equation(eq, projection, bounds, self.shapes.extents, ranges=ranges, symbols=self.symbols,
                                  symbolic=self.symbolic, overrides=overrides, target=target,
                                  consts=self.program.consts, assign=assign, external=external,
                                  windows=self.windows,
                                  contraction=lambda path: self.planned.contraction(k, path))
        decisions = self.decisions.setdefault(k, [])
        if lowering.kernel is None:
            decisions.append(f"NumPy: {lowering.reason}")
            super().equation(k, target, indent, overrides, bounds_override)
            return
        name = f"_k{len(self.lowerings) + 1}"
        self.lowerings[name] = lowering
        decisions.append(f"kernel {name}: {describe(lowering.kernel)}")
        decisions.extend(lowering.notes)
        pad = "    " * indent
        self.lines.extend(pad + line for line in equation_comments(eq, self.program.filename))
        self.lines.extend(pad + line for line in body.out)
        if lowering.kernel.output.combine == "assign" and target in self.deferred:   # stores every element
            tensor = self.deferred.pop(target)    # into its scratch array if an intermediate that gets one
            shape = self.shapes.extents[tensor]
            out = None if self.program.is_result(tensor) else self.scratch(target, shape)
            self.lines.append(f"{pad}{target} = {out or f'np.empty({shape})'}")
        self.lines.extend(pad + line for line in self.deferred_allocation(target))
        self.lines.append(pad + comment(f"{name}: {describe(lowering.kernel)}"))
        count = counts_of(target) if lowering.kernel.count is not None else "None"
        self.lines.append(f"{pad}{name}({target}, {count}, {_tuple(lowering.arrays)}, {_tuple(lowering.params)}, "
                          f"{_tuple(lowering.ints)})")


def _tuple(items) -> str:
    items = [str(i) for i in items]
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def emit_llvm(planned: PlannedProgram) -> Emitted:
    """Emit the llvm-backend module for ``planned``: source, kernels by call name, decisions per equation."""
    emitter = LlvmEmitter(planned)
    source = emitter.module()
    return Emitted(source, planned.program.filename, emitter.kernels, emitter.decisions)
