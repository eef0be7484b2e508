"""Likely mistakes in a Datalog program, as located ``TlcWarning``s at the Datalog text: the Tensor Logic lints
that apply to rules (``single-use-variable``) in Datalog names, and ``undefined-relation`` aware of Soufflé's
declarations (a relation declared ``.input`` is an input; one declared with neither rules, facts nor ``.input``
is empty, which Soufflé warns about too)."""

from __future__ import annotations

import warnings

from tlc.analysis.lints import MAX_SUGGESTIONS, single_use_variables, slip_of
from tlc.datalog.translate import Translation
from tlc.errors import TlcWarning, closest, in_source_order
from tlc.ir.program import Program


def lint(tr: Translation, program: Program, supplied=frozenset()) -> list[TlcWarning]:
    """Every warning about the Datalog program ``tr`` (translated into ``program``), in source order;
    ``supplied`` names the predicates known to be given facts as data."""
    found = []
    for warning in single_use_variables(program, lambda name, line: tr.names_at(line).get(name, name)):
        warning.span = tr.locate(warning.span)
        found.append(warning)
    found += _undefined_relations(tr, frozenset(supplied))
    for warning in found:
        warning.filename, warning.source = tr.filename, tr.datalog
    return in_source_order(found)


def warn(tr: Translation, program: Program, supplied=frozenset(), stacklevel: int = 1) -> None:
    """Issue the Datalog program's warnings through the ``warnings`` module, attributed to the caller
    ``stacklevel`` frames up."""
    for warning in lint(tr, program, supplied):
        warnings.warn(warning, stacklevel=stacklevel + 1)


def _undefined_relations(tr: Translation, supplied: frozenset[str]) -> list[TlcWarning]:
    """A predicate no rule or fact defines: with declarations, unless declared ``.input`` (as Soufflé: "No
    rules/facts defined for relation"); without, only when named like a defined predicate (otherwise it is an
    input)."""
    predicates = [p for p in tr.predicates.values() if not p.helper]
    defined = [p.name for p in predicates if p.defined]
    declared = tr.declarations.relations
    inputs = {spec.name for spec in tr.declarations.of_kind("input")}
    out = []
    for pred in predicates:
        if pred.defined or pred.name in supplied or pred.name in inputs:
            continue
        near = slip_of(pred.name, defined)
        if declared:
            if near is None and len(out) < MAX_SUGGESTIONS:
                near = closest(pred.name, defined)
            out.append(TlcWarning(
                f"no rule or fact defines relation {pred.name} and it is not declared .input, so it is empty",
                declared[pred.name].span, help=f"did you mean '{near}'?" if near else
                f"add '.input {pred.name}' to read its facts from {pred.name}.facts",
                notes=(f"{pred.name} is used at line {pred.span.line}",) if pred.used and pred.span
                and pred.span != declared[pred.name].span else (),
                code="undefined-relation"))
        elif near is not None:
            out.append(TlcWarning(
                f"no rule or fact defines predicate {pred.name}, but a rule reads it: it holds only facts given "
                f"as data", pred.span, help=f"did you mean '{near}'?",
                notes=(f"an input predicate is one only rules read; give it facts with -F DIR or --input "
                       f"{pred.name}=FILE",), code="undefined-relation"))
    return out
