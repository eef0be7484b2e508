"""Emit a relational stratum (see ``tlc.analysis.relation_plan``) as calls to ``tlc_runtime.sparse``.

Each rule becomes one ``rs.conjunction(head, shape, atoms, negated, storage)`` call whose atoms pair a
relation with its argument spec (variable names, constant positions); recursion is a semi-naive loop
over ``rs.union``/``rs.minus``, or ``rs.closure`` of the step relation for a closure (the emitter's
``closure_call``: a backend may pass it a compiled loop). A backend with ``NATIVE_JOINS`` emits a sparse stratum's
rules and set operations through its ``join_call`` and ``set_call`` instead (compiled joins), a backend with
``bitset_ops`` keeps a ``dense`` stratum as bitset rows (``relational_bitsets``), and a backend with a
``bitset_kernel`` passes it to the closure strategy's rules (Boolean matrix products on bitset rows).
"""

from __future__ import annotations

from tlc.backends.shared.arrays import constant_position
from tlc.backends.shared.relational_bitsets import emit_bitsets
from tlc.backends.shared.relational_duckdb import emit_duckdb
from tlc.backends.shared.semi_naive import rounds
from tlc.backends.shared.quoting import comment, equation_comments, identifier, internal, literal
from tlc.ir import nodes as ir
from tlc.analysis.relation_plan import Rule, StratumPlan, rule_of
from tlc.analysis.strata import Stratum


def emit_relational(emitter, stratum: Stratum, plan: StratumPlan, storage: dict[str, str]) -> None:
    """Append the code of one relational stratum to ``emitter.lines`` (a ``ScheduleEmitter``); a stratum
    planned for DuckDB runs as SQL (``tlc.backends.shared.relational_duckdb``)."""
    if plan.strategy == "duckdb":
        emit_duckdb(emitter, stratum, plan, storage)
        return
    _Relational(emitter, stratum, plan, storage).emit()


class _Relational:
    def __init__(self, emitter, stratum: Stratum, plan: StratumPlan, storage: dict[str, str]):
        self.emitter = emitter
        self.program = emitter.program
        self.stratum = stratum
        self.plan = plan
        self.final = storage
        self.working = "sparse" if plan.strategy == "sparse" else "dense"
        self.lines = emitter.lines
        self.closing = plan.strategy == "closure" or plan.native_sparse_closure(emitter.NATIVE_CLOSURE,
                                                                                  emitter.max_rounds)
        """Whether the recursion runs as the closure of its step relation (else semi-naive)."""
        self.native = plan.native_joins(emitter.NATIVE_JOINS, emitter.max_rounds)
        """Whether rules run as the backend's compiled joins (``emitter.join_call``, ``emitter.set_call``)."""
        self.packed = emitter.bitset_ops() if plan.strategy == "dense" else None
        """The name of the backend's compiled bitset kernels, on which a ``dense`` stratum stays bitset rows."""
        self.bitsets = emitter.bitset_kernel() if self.working == "dense" and self.packed is None else None
        """The name of the backend's compiled word-OR loop that dense matrix products run on, if it has one."""

    def name(self, tensor: str) -> str:
        return identifier(tensor)

    def shape(self, tensor: str) -> tuple[int, ...]:
        return tuple(self.emitter.shapes.extents[tensor])

    def spec(self, ref: ir.Ref) -> tuple:
        symbols, symbolic = self.emitter.symbols, self.emitter.symbolic
        return tuple(i.plain_variable or constant_position(symbols, symbolic, ref.name, a, i)
                     for a, i in enumerate(ref.indices))

    def emit(self) -> None:
        self.lines.append(comment(self.plan.describe()))
        members = set(self.stratum.tensors)
        base = [k for k in self.stratum.equations
                if not any(r.name in members for r in ir.refs(self.program.equations[k].rhs))]
        recursive = [k for k in self.stratum.equations if k not in base]
        if self.closing and self.closure_of_step(base):     # no empty start: an n x n one costs a zeroing
            return self.finish()
        if self.packed is not None:
            return emit_bitsets(self, self.packed)
        for t in self.stratum.tensors:
            data = f"inputs[{literal(t)}]" if t in self.emitter.inputs else "None"
            self.lines.append(f"{self.name(t)} = rs.store({data}, {self.shape(t)}, {self.working!r})")
        for k in base:
            self.rule(k, 0, self.name(self.program.equations[k].lhs.name))
        if self.closing:
            self.closure()
        elif recursive:
            self.seminaive(recursive)
        self.finish()

    def finish(self) -> None:
        """Convert members to the storage later strata read them in."""
        for t in self.stratum.tensors:
            if self.final.get(t, "dense") != self.working:
                self.lines.append(f"{self.name(t)} = rs.store({self.name(t)}, {self.shape(t)}, {self.final[t]!r})")

    def comment(self, k: int, indent: int) -> None:
        lines = equation_comments(self.program.equations[k], self.program.filename)
        self.lines.extend("    " * indent + line for line in lines)

    def set_call(self, operation: str, a: str, b: str) -> str:
        """``a ∪ b`` (``union``) or ``a \\ b`` (``minus``)."""
        return self.emitter.set_call(operation, a, b) if self.native else f"rs.{operation}({a}, {b})"

    def conjunction(self, rule: Rule, override: dict[int, str], storage: str | None = None) -> str:
        if self.native and rule.atoms:      # the delta atom (an override) is joined first; a fact has none
            atoms = [(override.get(n, self.name(r.name)), self.spec(r)) for n, r in enumerate(rule.atoms)]
            negated = [(self.name(r.name), self.spec(r)) for r in rule.negated]
            return self.emitter.join_call(self.spec(rule.head), self.shape(rule.head.name), atoms, negated,
                                          next(iter(override), 0), self.plan.join)
        atoms = ", ".join(f"({override.get(n, self.name(r.name))}, {literal(self.spec(r))})"
                          for n, r in enumerate(rule.atoms))
        negated = ", ".join(f"({self.name(r.name)}, {literal(self.spec(r))})" for r in rule.negated)
        negated = f", negated=[{negated}]" if negated else ""
        kernel = f", kernel={self.bitsets}" if self.bitsets else ""
        return (f"rs.conjunction({literal(self.spec(rule.head))}, {self.shape(rule.head.name)}, [{atoms}]{negated}, "
                f"storage={literal(storage or self.working)}{kernel})")

    def rule(self, k: int, indent: int, target: str, override: dict[int, str] | None = None,
             storage: str | None = None) -> None:
        """``target = target ∪ body`` for equation ``k``, with some atoms (by position) read from other arrays."""
        self.comment(k, indent)
        rule = rule_of(self.program.equations[k], self.program)
        body = self.conjunction(rule, override or {}, storage)
        self.lines.append(f"{'    ' * indent}{target} = {self.set_call('union', target, body)}")

    def seminaive(self, recursive: list[int]) -> None:
        members = self.stratum.tensors
        names = [self.name(t) for t in members]
        new = [internal("new", t) for t in members]
        deltas = [internal("delta", t) for t in members]
        dense = self.working == "dense"   # dense state; each delta sparse or dense by its size (rs.frontier)
        for n, d in zip(names, deltas):
            self.lines.append(f"{d} = {f'rs.frontier({n})' if dense else n}")
        test = " or ".join(f"rs.nonempty({d})" for d in deltas)
        with rounds(self.emitter, self.stratum, deltas, test,
                    "semi-naive: each rule reads one recursive atom from the last delta"):
            for t, m in zip(members, new):
                self.lines.append(f"    {m} = rs.store(None, {self.shape(t)}, 'sparse')")
            for k in recursive:
                rule = rule_of(self.program.equations[k], self.program)
                target = internal("new", rule.head.name)
                for position, atom in enumerate(rule.atoms):
                    if atom.name in members:
                        self.rule(k, 1, target, {position: internal("delta", atom.name)}, "auto" if dense else None)
            for n, m, d in zip(names, new, deltas):
                delta = self.set_call("minus", m, n)
                self.lines.append(f"    {d} = {f'rs.frontier({delta})' if dense else delta}")
            for n, d in zip(names, deltas):
                self.lines.append(f"    {n} = {self.set_call('union', n, d)}")

    def closure_of_step(self, base: list[int]) -> bool:
        """Emit ``P = S+`` when the only base rule is ``P(x, y) = S(x, y)`` for the closure's step ``S``."""
        closure = self.plan.closure
        (tensor,) = self.stratum.tensors
        if closure.step is None or len(base) != 1 or tensor in self.emitter.inputs:
            return False
        rule = rule_of(self.program.equations[base[0]], self.program)
        if rule.negated or len(rule.atoms) != 1 or rule.atoms[0].name != closure.step.name or \
                self.spec(rule.head) != self.spec(rule.atoms[0]) or None in self.spec(rule.head):
            return False
        self.comment(base[0], 0)
        self.comment(closure.rule, 0)
        call = self.emitter.closure_call(self.name(closure.step.name), self.working)
        self.lines.append(f"{self.name(tensor)} = {call}  " + comment(
            f"the closure of {closure.step.name} (paths of length >= 1), per strong component"))
        return True

    def closure(self) -> None:
        closure = self.plan.closure
        eq = self.program.equations[closure.rule]
        (tensor,) = self.stratum.tensors
        target = self.name(tensor)
        self.comment(closure.rule, 0)
        if closure.kind == "square":
            self.lines.append(f"{target} = {self.emitter.closure_call(target, self.working)}  # transitive closure, per "
                              f"strong component")
            return
        rule = rule_of(eq, self.program)
        step, plus = self.name(closure.step.name), internal("plus", closure.step.name)
        self.lines.append(f"{plus} = {self.emitter.closure_call(step, self.working)}  # paths of length >= 1, per "
                          f"strong component")
        position = rule.atoms.index(closure.step)
        self.lines.append(f"{target} = rs.union({target}, {self.conjunction(rule, {position: plus})})")
