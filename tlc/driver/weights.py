"""How weight values reach the factorise pass: bound at compile time (``weights=``) or at the call that gives them.

A program whose options name tensors to factorise keeps one *variant* per distinct value of those tensors
(keyed by shape and a BLAKE2 digest of the bytes): the rewritten IR, its strata, its own specialisation cache,
the factor arrays and the report. Calling again with the same values reuses the variant, so nothing is
refactorised; new values build (and cache) a new one.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from tlc.errors import DataError, TlcError
from tlc.factorise.options import options_from
from tlc.ir.nodes import refs
from tlc.ir.program import Program as IRProgram
from tlc.analysis.contractions import equation_flops
from tlc.passes.factorise import Outcome, decide, factorise, targets
from tlc.analysis.shapes import check_rank
from tlc.analysis.strata import stratify
from tlc.driver.inputs import read_array

MAX_VARIANTS = 4
"""Factorised variants (rewritten programs) kept per program; the oldest is dropped first."""

MAX_OUTCOMES = 16
"""Per-tensor factorisations kept per program, keyed by value."""


@dataclass
class Variant:
    """A program as it runs with one set of factorised tensors."""

    ir: IRProgram
    strata: tuple
    factors: dict[str, np.ndarray]
    """Factor arrays this variant adds to every call."""
    cache: dict = field(default_factory=dict)


class Weights:
    """A Program's bound weights and factorised variants; ``bind`` picks the variant a call runs.

    Which variant (and which outcomes) the last call of each thread used is thread-local, so calls from many
    threads never see each other's choice; ``bind`` itself must run under the program's lock."""

    def __init__(self, owner, program: IRProgram, strata: tuple, factorise_options, weights: Mapping | None):
        self.owner = owner
        self.dense = Variant(program, strata, {})
        try:
            self.targets = targets(program, None if factorise_options is None else options_from(factorise_options))
            if weights is not None and not isinstance(weights, Mapping):
                raise DataError(f"weights must be a mapping from input names to values, not {type(weights).__name__}")
            self.bound = dict(weights or {})
            known = set(program.tensors) | set(program.scalars)
            for name in self.bound:
                if name not in known:
                    raise DataError(f"weights name {name!r}, which is not an input of this program")
        except TlcError as err:
            raise err.located(program.filename, program.source) from None
        self.variants: dict[tuple, Variant] = {}
        self.decided: dict[tuple, Outcome] = {}
        self.bound_keys: dict[str, tuple] = {}
        self._local = threading.local()
        self._initial: tuple[Variant, tuple[Outcome, ...]] = (self.dense, ())
        if any(name in self.bound for name in self.targets):
            # factorise bound weights now: errors and the report come at compile time
            self._initial = self._bind({})[1:]

    @property
    def current(self) -> Variant:
        """The variant this thread's last call ran (before any call: the one the bound weights give)."""
        return getattr(self._local, "state", self._initial)[0]

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        """What the factorise pass did with the tensors of this thread's last call (or of the bound weights)."""
        return getattr(self._local, "state", self._initial)[1]

    def bind(self, inputs: Mapping) -> tuple[dict, Variant]:
        """The call's inputs plus bound weights, with factorised weights replaced by their factors, and the
        variant that runs them."""
        inputs, variant, outcomes = self._bind(inputs)
        self._local.state = (variant, outcomes)
        return inputs, variant

    def _bind(self, inputs: Mapping) -> tuple[dict, Variant, tuple[Outcome, ...]]:
        inputs = {**self.bound, **inputs}
        if not self.targets:
            return inputs, self.dense, ()
        chosen = {name: inputs.pop(name) for name in self.targets if name in inputs}
        keys, outcomes = self._decide(chosen)
        replaced = tuple(key for key, o in zip(keys, outcomes) if o.kept_dense is None)
        variant = self._variant(replaced) if replaced else self.dense
        kept = {o.tensor: chosen[o.tensor] for o in outcomes if o.kept_dense is not None}
        return {**inputs, **kept, **variant.factors}, variant, outcomes

    def _decide(self, chosen: dict) -> tuple[list[tuple], tuple[Outcome, ...]]:
        """Each chosen tensor's outcome, reused when the same values were factorised before."""
        program = self.dense.ir
        keys, outcomes = [], []
        for name, value in chosen.items():
            try:
                if value is self.bound.get(name) and name in self.bound_keys:     # bound: converted and hashed once
                    array, key = value, self.bound_keys[name]
                else:
                    array = read_array(name, value, False, program)
                    check_rank(program, name, array.shape)
                    key = (name, array.shape, hashlib.blake2b(np.ascontiguousarray(array).data).hexdigest())
                    if value is self.bound.get(name):
                        array.setflags(write=False)     # our own copy: nobody can change it behind the key
                        self.bound[name], self.bound_keys[name] = array, key
                if key not in self.decided:
                    if len(self.decided) >= MAX_OUTCOMES:
                        self.decided.pop(next(iter(self.decided)))
                    self.decided[key] = decide(program, {name: array}, {name: self.targets[name]})[0]
            except TlcError as err:
                raise err.located(program.filename, program.source) from None
            keys.append(key)
            outcomes.append(self.decided[key])
        return keys, tuple(outcomes)

    def _variant(self, replaced: tuple) -> Variant:
        if replaced not in self.variants:
            outcomes = tuple(self.decided[key] for key in replaced)
            made = {}

            def run(ir):
                rewritten, made["factors"] = factorise(ir, outcomes)
                return rewritten

            rewritten = self.owner.passes.apply("factorise", run, self.dense.ir)
            if len(self.variants) >= MAX_VARIANTS:
                self.variants.pop(next(iter(self.variants)))
            self.variants[replaced] = Variant(rewritten, stratify(rewritten), made["factors"])
        return self.variants[replaced]

    def explain(self, spec) -> list[str]:
        """Per factorised tensor: method, ranks, achieved error, memory and FLOPs before and after."""
        if not self.targets:
            return []
        lines = ["factorised tensors:"]
        if not self.outcomes:
            lines.append(f"  {', '.join(self.targets)}: factorised once their values are known "
                         "(bind them with weights= or call the program)")
        for outcome in self.outcomes:
            found = outcome.decomposition
            if outcome.kept_dense:
                lines.append(f"  {outcome.tensor}: kept dense: {outcome.kept_dense}")
                continue
            lines.append(f"  {outcome.tensor}: {found.method} ranks {found.ranks} -> {', '.join(outcome.factors)}; "
                         f"error {found.rel_error:.3g} (budget {outcome.budget.rel_err:g}); memory "
                         f"{outcome.dense_elements} -> {found.elements} elements ({_mib(outcome.dense_elements)} -> "
                         f"{_mib(found.elements)})")
            if spec is not None:
                lines.extend(self._flops(outcome.tensor, spec))
        return lines

    def _flops(self, name: str, spec) -> list[str]:
        out = []
        for k, eq in enumerate(self.dense.ir.equations):
            if k in spec.shapes.ranges and any(ref.name == name for ref in refs(eq.rhs)):
                ranges = spec.shapes.ranges[k]
                before, after = equation_flops(eq, ranges), equation_flops(self.current.ir.equations[k], ranges)
                where = f"line {eq.span.line}" if eq.span else f"equation {k + 1}"
                out.append(f"    {where}: {before:.3g} -> {after:.3g} FLOPs"
                           + (f" ({before / after:.3g}x fewer)" if after and before else ""))
        return out


def _mib(elements: int) -> str:
    return f"{elements * 8 / 2**20:.3g} MiB"
