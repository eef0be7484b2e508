"""How weight values reach the factorise pass: bound at compile time (``weights=``) or at the call that gives them.

A program whose options name tensors to factorise keeps one *variant* per distinct value of those tensors
(keyed by shape and a BLAKE2 digest of the bytes): the rewritten IR, its strata, its own specialisation cache,
the factor arrays and the report. Calling again with the same values reuses the variant, so nothing is
refactorised; new values build (and cache) a new one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from tlc.errors import DataError, TlcError
from tlc.factorise.options import options_from
from tlc.ir.nodes import refs
from tlc.passes.costs import equation_flops
from tlc.passes.factorise import Outcome, factorise, targets
from tlc.passes.shapes import check_rank
from tlc.passes.strata import stratify

MAX_VARIANTS = 4
"""Factorised variants kept per program (the oldest is dropped first)."""


@dataclass
class Variant:
    """A program as it runs for one set of weight values."""

    ir: object
    strata: tuple
    inputs: dict[str, np.ndarray]
    """Arrays this variant adds to every call: factors, and weights kept dense."""
    outcomes: tuple[Outcome, ...] = ()
    cache: dict = field(default_factory=dict)


class Weights:
    """A Program's bound weights and factorised variants; ``bind`` switches the program to the right variant."""

    def __init__(self, owner, factorise_options, weights: Mapping | None):
        self.owner = owner
        self.dense = Variant(owner.ir, owner.strata, {}, cache=owner._cache)
        program = owner.ir
        try:
            self.targets = targets(program, None if factorise_options is None else options_from(factorise_options))
            self.bound = dict(weights or {})
            known = set(program.tensors) | set(program.scalars)
            for name in self.bound:
                if name not in known:
                    raise DataError(f"weights name {name!r}, which is not an input of this program")
        except TlcError as err:
            raise err.located(program.filename, program.source) from None
        self.variants: dict[tuple, Variant] = {}
        self.current = self.dense
        if any(name in self.bound for name in self.targets):
            self.bind({})       # factorise bound weights now: errors and the report come at compile time

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        """What the factorise pass did for the variant in use."""
        return self.current.outcomes

    def bind(self, inputs: Mapping) -> dict:
        """The call's inputs plus bound weights, with factorised weights replaced by their factors."""
        inputs = {**self.bound, **inputs}
        if not self.targets:
            return inputs
        chosen = {name: inputs.pop(name) for name in self.targets if name in inputs}
        self.current = self._variant(chosen) if chosen else self.dense
        owner = self.owner
        owner.ir, owner.strata, owner._cache = self.current.ir, self.current.strata, self.current.cache
        return {**inputs, **self.current.inputs}

    def _variant(self, chosen: dict) -> Variant:
        from tlc.api import _array      # the API's input conversion (dtype checks, located errors)
        program = self.dense.ir
        try:
            arrays = {name: _array(name, value, False, program) for name, value in chosen.items()}
            for name, array in arrays.items():
                check_rank(program, name, array.shape)
        except TlcError as err:
            raise err.located(program.filename, program.source) from None
        key = tuple((name, a.shape, hashlib.blake2b(np.ascontiguousarray(a).data).hexdigest())
                    for name, a in sorted(arrays.items()))
        if key in self.variants:
            return self.variants[key]
        made = {}

        def run(ir):
            try:
                rewritten, made["factors"], made["outcomes"] = factorise(ir, arrays, self.targets)
            except TlcError as err:
                raise err.located(program.filename, program.source) from None
            return rewritten

        rewritten = self.owner.passes.apply("factorise", run, program)
        kept = {o.tensor: arrays[o.tensor] for o in made["outcomes"] if o.kept_dense}
        variant = Variant(rewritten, stratify(rewritten), {**made["factors"], **kept}, made["outcomes"])
        if len(self.variants) >= MAX_VARIANTS:
            self.variants.pop(next(iter(self.variants)))
        self.variants[key] = variant
        return variant

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
