"""Emit a dense relational stratum kept as bitset rows (``tlc_runtime.bitsets``) on a backend with bitset kernels.

The stratum packs the relations it reads once (of one too large to pack whole and stored sparsely, the slices its
atoms with constants read, ``bs.pack_slice``), keeps its own packed across rounds, and runs each rule by its
``bitset_plan`` (``bs.conjunction`` ORs the head's tuples into the round's array) or, for a rule without one, whose
largest factor is over the memory budget, or that reads a relation only as tuples, by ``rs.conjunction`` on unpacked
copies; each round ends with ``bs.advance`` per relation (``delta = derived & ~known; known |= delta`` in one pass,
counting the delta). The emitter's ``note`` records where each rule runs and why.
"""

from __future__ import annotations

import math

from tlc.analysis.relation_plan import Rule, StratumPlan, rule_of
from tlc.analysis.strata import Stratum
from tlc.backends.shared.semi_naive import rounds
from tlc.backends.shared.quoting import comment, equation_comments, identifier, internal, literal
from tlc.memory_limit import ELEMENT_BYTES, format_bytes
from tlc_runtime.bitset_plan import Plan, obstacle, plan as bitset_plan, variable_sizes

PACKED_SPARSE = 1 << 22
"""Positions (512 KiB of words) up to which a bitset stratum reads a relation stored sparsely packed whatever its own
relations' size."""


def _fixed(spec: tuple) -> tuple:
    """The constant arguments of an atom's spec as ``(axis, position)`` pairs."""
    return tuple((axis, v) for axis, v in enumerate(spec) if not isinstance(v, str))


def emit_bitsets(relational, kernels: str) -> None:
    """Append the code of ``relational``'s stratum (a ``relational._Relational`` of the ``dense`` strategy) in
    bitset form, its kernels called by the name ``kernels``."""
    _Bitsets(relational, kernels).emit()


class _Bitsets:
    def __init__(self, relational, kernels: str):
        self.r = relational
        self.emitter = relational.emitter
        self.program = relational.program
        self.stratum: Stratum = relational.stratum
        self.plan: StratumPlan = relational.plan
        self.lines = relational.lines
        self.kernels = kernels
        self.packed: dict[str, str] = {}
        """Relations read by the stratum (not its own) -> the variable of their packed copy."""
        self.slices: dict[tuple, str] = {}
        """(relation, its constant arguments as (axis, position) pairs) -> the expression of the packed slice, for a
        relation too large to pack whole that an atom reads with constants."""

    def emit(self) -> None:
        r = self.r
        members = set(self.stratum.tensors)
        rules = {k: rule_of(self.program.equations[k], self.program) for k in self.stratum.equations}
        for rule in rules.values():
            for atom in (*rule.atoms, *rule.negated):
                if atom.name in members or atom.name in self.packed:
                    continue
                if self.packable(atom.name):
                    self.packed[atom.name] = internal("bits", atom.name)
                    self.lines.append(f"{self.packed[atom.name]} = bs.pack({r.name(atom.name)}, "
                                      f"{r.shape(atom.name)})  # bitset rows, packed once")
                elif self.sliceable(atom) and (atom.name, _fixed(r.spec(atom))) not in self.slices:
                    self.slice(atom.name, _fixed(r.spec(atom)))
        for t in self.stratum.tensors:
            data = f"inputs[{literal(t)}]" if t in self.emitter.inputs else "None"
            self.lines.append(f"{r.name(t)} = bs.pack({data}, {r.shape(t)})")
        base = [k for k in self.stratum.equations if not any(a.name in members for a in rules[k].atoms)]
        for k in base:
            self.rule(k, rules[k], 0, r.name(rules[k].head.name), {})
        recursive = [k for k in self.stratum.equations if k not in base]
        if recursive:
            self.seminaive(recursive, rules)
        for t in self.stratum.tensors:
            final = r.final.get(t, "dense")
            self.lines.append(f"{r.name(t)} = " + (f"bs.dense({r.name(t)})" if final == "dense" else
                                                   f"rs.store(bs.unpacked({r.name(t)}), {r.shape(t)}, {final!r})"))

    def packable(self, name: str) -> bool:
        """Whether the stratum reads relation ``name`` (not its own) as bitset rows: when it is stored dense or
        spans no more positions than the stratum's own relations together, or than ``PACKED_SPARSE`` (a relation
        kept as tuples costs its tuples in NumPy joins, bitset rows cost its positions, which a round of the stratum
        costs anyway when they are no more than its own)."""
        own = sum(math.prod(self.r.shape(t)) for t in self.stratum.tensors)
        return self.emitter.plan.storage.get(name, "dense") == "dense" or \
            math.prod(self.r.shape(name)) <= max(own, PACKED_SPARSE)

    def sliceable(self, atom) -> bool:
        """Whether an atom with constants reads a slice of a relation too large to pack whole that spans no more
        positions than ``packable`` allows (``T(x, y, 1)`` of a sparse ``T``: its tuples at 1, packed once)."""
        fixed = dict(_fixed(self.r.spec(atom)))
        own = sum(math.prod(self.r.shape(t)) for t in self.stratum.tensors)
        rest = math.prod(n for axis, n in enumerate(self.r.shape(atom.name)) if axis not in fixed)
        return bool(fixed) and rest <= max(own, PACKED_SPARSE)

    def slice(self, name: str, fixed: tuple) -> None:
        """Emit the packing of relation ``name``'s tuples holding the constants ``fixed``, over its other arguments."""
        table = internal("slices", name)
        if not any(key[0] == name for key in self.slices):
            self.lines.append(f"{table} = {{}}")
        self.slices[(name, fixed)] = f"{table}[{literal(fixed)}]"
        self.lines.append(f"{self.slices[(name, fixed)]} = bs.pack_slice({self.r.name(name)}, {self.r.shape(name)}, "
                          f"{literal(fixed)})  # its tuples at these constants as bitset rows, packed once")

    def read(self, atom, override: dict[int, str], position: int) -> tuple[str | None, tuple, tuple]:
        """How a rule reads an atom on bitset rows: the relation's expression (None: only as tuples), its spec and
        its shape (a packed slice's: without the constant arguments)."""
        spec, shape = self.r.spec(atom), self.r.shape(atom.name)
        if position in override or atom.name in self.stratum.tensors or atom.name in self.packed:
            return self.relation(atom.name, override, position), spec, shape
        fixed = _fixed(spec)
        if (atom.name, fixed) not in self.slices:
            return None, spec, shape
        kept = [axis for axis, v in enumerate(spec) if isinstance(v, str)]
        return self.slices[(atom.name, fixed)], tuple(spec[a] for a in kept), tuple(shape[a] for a in kept)

    def relation(self, name: str, override: dict[int, str], position: int) -> str:
        return override.get(position, self.packed.get(name, identifier(name)))

    def rule(self, k: int, rule: Rule, indent: int, target: str, override: dict[int, str],
             delta: int | None = None) -> None:
        """``target |=`` the tuples of equation ``k``'s rule, some atoms (by position) read from other arrays."""
        pad = "    " * indent
        self.lines.extend(pad + line for line in equation_comments(self.program.equations[k], self.program.filename))
        head, shape = self.r.spec(rule.head), self.r.shape(rule.head.name)
        reads = [self.read(a, override, n) for n, a in enumerate(rule.atoms)]
        negated_reads = [self.read(a, {}, -1) for a in rule.negated]
        tuples = [a.name for a, (expression, _, _) in zip((*rule.atoms, *rule.negated), (*reads, *negated_reads))
                  if expression is None]
        specs = tuple(spec for _, spec, _ in reads)
        negated = tuple(spec for _, spec, _ in negated_reads)
        steps = None if tuples else bitset_plan(head, specs, negated, delta)
        largest = self.over_budget(steps, head, shape, reads)
        via = "" if delta is None else f" (delta of {rule.atoms[delta].name} first)"
        if steps is not None and largest is None:
            sliced = [f"{a.name} at " + ", ".join(f"argument {axis + 1} = {v}" for axis, v in _fixed(self.r.spec(a)))
                      for a, (expression, _, _) in zip((*rule.atoms, *rule.negated), (*reads, *negated_reads))
                      if expression in self.slices.values()]
            packed = f" ({'; '.join(sliced)}: a slice packed once from the tuples)" if sliced else ""
            self.emitter.note(k, f"bitset rows, native kernels{via}: {steps.describe()}{packed}")
            atoms = ", ".join(f"({expression}, {literal(spec)})" for expression, spec, _ in reads)
            neg = ", ".join(f"({expression}, {literal(spec)})" for expression, spec, _ in negated_reads)
            self.lines.append(pad + comment(f"bitset rows: {steps.describe()}"))
            self.lines.append(f"{pad}bs.conjunction({literal(head)}, {shape}, [{atoms}], [{neg}], {target}, "
                              f"{self.kernels}, {literal(delta)})")
            return
        specs = tuple(self.r.spec(a) for a in rule.atoms)
        negated = tuple(self.r.spec(a) for a in rule.negated)
        budget = self.emitter.planned.budget
        why = (f"it reads {', '.join(dict.fromkeys(tuples))} as tuples (sparse storage over more positions than the "
               f"stratum's relations and {PACKED_SPARSE})" if tuples else
               f"no bitset plan ({obstacle(head, specs, negated)})" if steps is None else
               f"its bitset plan ({steps.describe()}) makes a factor of {format_bytes(largest)}, over "
               f"{budget.describe()}")
        self.emitter.note(k, f"NumPy join (tlc_runtime.sparse) on unpacked rows{via}: {why}")
        atoms = ", ".join(f"({self.unpacked(a.name, override, n)}, {literal(s)})"
                          for n, (a, s) in enumerate(zip(rule.atoms, specs)))
        neg = ", ".join(f"({self.unpacked(a.name, {}, -1)}, {literal(s)})" for a, s in zip(rule.negated, negated))
        self.lines.append(f"{pad}bs.union_into({target}, rs.conjunction({literal(head)}, {shape}, [{atoms}], "
                          f"negated=[{neg}], storage='auto'), {self.kernels})")

    def over_budget(self, steps: Plan | None, head: tuple, shape: tuple, reads: list) -> int | None:
        """The bytes of the largest factor ``steps`` makes when over the memory budget (checked before anything is
        allocated: the plan and the extents fix every factor's size), else None."""
        if steps is None or self.emitter.planned.budget.elements is None:
            return None
        sizes = variable_sizes(head, shape, [(extents, spec) for _, spec, extents in reads])
        words = steps.words(sizes)
        return words * 8 if words * 8 > self.emitter.planned.budget.elements * ELEMENT_BYTES else None

    def unpacked(self, name: str, override: dict[int, str], position: int) -> str:
        """A relation a rule without a bitset plan reads: a packed one unpacked (tuples when sparse), one of an
        earlier stratum as it is."""
        if position in override or name in self.stratum.tensors:
            return f"bs.unpacked({self.relation(name, override, position)})"
        return identifier(name)

    def seminaive(self, recursive: list[int], rules: dict[int, Rule]) -> None:
        r = self.r
        members = self.stratum.tensors
        names = [r.name(t) for t in members]
        new = [internal("new", t) for t in members]
        deltas = [internal("delta", t) for t in members]
        for n, d in zip(names, deltas):
            self.lines.append(f"{d} = {n}.copy()")
        test = " or ".join(f"{d}.nonempty()" for d in deltas)
        with rounds(self.emitter, self.stratum, deltas, test,
                    "semi-naive on bitset rows: each rule reads one recursive atom from the last delta"):
            for t, m in zip(members, new):
                self.lines.append(f"    {m} = bs.Bits.empty({r.shape(t)})")
            for k in recursive:
                rule = rules[k]
                for position, atom in enumerate(rule.atoms):
                    if atom.name in members:
                        self.rule(k, rule, 1, internal("new", rule.head.name),
                                  {position: internal("delta", atom.name)}, position)
            for n, m, d in zip(names, new, deltas):
                self.lines.append(f"    {d} = bs.advance({m}, {n}, {self.kernels})  # delta = new & ~known; "
                                  f"known |= delta")

