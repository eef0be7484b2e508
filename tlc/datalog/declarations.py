"""Soufflé's declarations: relation types (``.decl``, ``.type``), the I/O directives (``.input``, ``.output``,
``.printsize``) and the check of every clause against the declared types.

A program without ``.decl`` is untyped classic Datalog; once one relation is declared, every relation must be.
Types reduce to two: ``symbol`` (names) and ``number`` (``number`` and ``unsigned``; tlc takes integers >= 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tlc.datalog import syntax as dl
from tlc.datalog.errors import (ArityError, DatalogError, DatalogTypeError, UnknownPredicateError,
                                UnsupportedError)
from tlc.errors import Span

BASE_TYPES = {"symbol": "symbol", "number": "number", "unsigned": "number"}
"""Soufflé's primitive types and the kind of constant each holds."""
STORAGE_QUALIFIERS = {"overridable", "inline", "no_inline", "magic", "no_magic", "brie", "btree", "btree_delete"}
"""``.decl`` qualifiers that change how Soufflé stores or plans a relation, not its meaning: accepted, ignored."""
IO_KINDS = ("input", "output", "printsize")
PARAMETERS = {"input": {"IO": ("file",), "filename": None, "delimiter": None, "headers": ("true", "false")},
              "output": {"IO": ("file", "stdout"), "filename": None, "delimiter": None, "headers": ("true", "false")},
              "printsize": {}}
"""The directive parameters tlc reads, and their allowed values (None: any)."""


@dataclass(frozen=True)
class RelationType:
    """A declared relation: its attribute names and the kind (``symbol``/``number``) of each position."""

    name: str
    attributes: tuple[str, ...]
    types: tuple[str, ...]
    span: Span | None = None

    def describe(self) -> str:
        """``edge(x: symbol, y: number)``."""
        return f"{self.name}({', '.join(f'{a}: {t}' for a, t in zip(self.attributes, self.types))})"


@dataclass(frozen=True)
class IOSpec:
    """One relation's ``.input``, ``.output`` or ``.printsize``, with its parameters."""

    kind: str
    name: str
    parameters: dict = field(default_factory=dict)
    span: Span | None = None


@dataclass(frozen=True)
class Declarations:
    """Every ``.decl`` by relation name and every I/O directive, in source order."""

    relations: dict[str, RelationType] = field(default_factory=dict)
    io: tuple[IOSpec, ...] = ()

    def of_kind(self, kind: str) -> list[IOSpec]:
        """The directives of one kind (``input``, ``output`` or ``printsize``)."""
        return [spec for spec in self.io if spec.kind == kind]


def _resolve_types(typedefs: list[dl.TypeDef]) -> dict[str, str]:
    """Each ``.type`` name's base kind; a union must be of one kind."""
    defs = {t.name: t for t in typedefs}
    kinds = dict(BASE_TYPES)

    def kind(name: str, using: dl.TypeDef, seen: tuple[str, ...] = ()) -> str:
        if name in kinds:
            return kinds[name]
        if name == "float":
            raise UnsupportedError("the type float is not supported: tlc relations hold names and integers",
                                   using.span)
        if name not in defs:
            raise DatalogError(f"unknown type {name}; the types are symbol, number, unsigned and those "
                               f"declared with .type", using.span, code="unknown_type")
        if name in seen:
            raise DatalogError(f"the type {name} is defined in terms of itself", defs[name].span,
                               code="unknown_type")
        found = {kind(base, defs[name], seen + (name,)) for base in defs[name].bases}
        if len(found) > 1:
            raise DatalogTypeError(f"the union type {name} mixes symbols and numbers", defs[name].span)
        kinds[name] = found.pop()
        return kinds[name]

    for typedef in typedefs:
        kind(typedef.name, typedef)
    return kinds


def declarations(directives: list) -> Declarations:
    """The declarations of a program's directives, checked (duplicates, unknown types and relations, parameters)."""
    kinds = _resolve_types([d for d in directives if isinstance(d, dl.TypeDef)])
    relations: dict[str, RelationType] = {}
    io: list[IOSpec] = []
    for decl in (d for d in directives if isinstance(d, dl.Declaration)):
        types = []
        for attr in decl.attributes:
            if attr.type not in kinds:
                _resolve_types([dl.TypeDef("", (attr.type,), span=attr.span)])   # raises the located error
            types.append(kinds[attr.type])
        for qualifier in decl.qualifiers:
            if qualifier == "eqrel":
                raise UnsupportedError("eqrel relations are not supported: write the reflexive, symmetric and "
                                       "transitive rules", decl.span)
        for name in decl.names:
            if name in relations:
                first = relations[name].span
                raise DatalogError(f"{name} is declared twice" + (f"; first at line {first.line}" if first else ""),
                                   decl.span, code="duplicate_declaration")
            relations[name] = RelationType(name, tuple(a.name for a in decl.attributes), tuple(types), decl.span)
            io.extend(IOSpec(q, name, {}, decl.span) for q in decl.qualifiers if q in IO_KINDS)
    for directive in (d for d in directives if isinstance(d, dl.IODirective)):
        parameters = dict(directive.parameters)
        for key, value in parameters.items():
            allowed = PARAMETERS[directive.kind]
            if key not in allowed:
                known = ", ".join(allowed) or "none"
                raise UnsupportedError(f".{directive.kind} parameter {key} is not supported (tlc reads: {known})",
                                       directive.span)
            if allowed[key] is not None and value not in allowed[key]:
                raise UnsupportedError(f".{directive.kind} parameter {key}={value} is not supported "
                                       f"(use {' or '.join(allowed[key])})", directive.span)
        for name in directive.names:
            if name not in relations:
                raise UnknownPredicateError(f".{directive.kind} names {name}, which has no .decl", directive.span)
            io.append(IOSpec(directive.kind, name, parameters, directive.span))
    return Declarations(relations, tuple(io))


def check_clause(clause: dl.Clause, decls: Declarations, lowercase_variables: bool) -> None:
    """Check a clause's relations, arities and types against ``decls`` (nothing to check without a ``.decl``)."""
    if not decls.relations:
        return
    seen: dict[str, tuple[str, str]] = {}      # variable -> (kind, where it got it)
    atoms = [clause.head] + [lit.atom for lit in clause.body if isinstance(lit, dl.Literal)]
    for atom in atoms:
        rel = decls.relations.get(atom.pred)
        if rel is None:
            raise UnknownPredicateError(f"the relation {atom.pred} is not declared: add "
                                        f".decl {atom.pred}(...) (every relation needs one once any has)",
                                        atom.name_span or atom.span)
        if len(atom.args) != len(rel.types):
            raise ArityError(f"{atom.pred} has {len(atom.args)} argument{'s' if len(atom.args) != 1 else ''} here "
                             f"but is declared {rel.describe()}", atom.span)
        for arg, kind, attr in zip(atom.args, rel.types, rel.attributes):
            _check_term(arg, kind, f"{atom.pred}.{attr}", seen, lowercase_variables)


def _check_term(term, kind: str, where: str, seen: dict, lowercase_variables: bool) -> None:
    if isinstance(term, dl.Ident):
        if term.name == "_":
            return
        if term.name[0].isupper() or term.name[0] == "_" or lowercase_variables:
            known = seen.setdefault(term.name, (kind, where))
            if known[0] != kind:
                raise DatalogTypeError(f"the variable {term.name} is a {known[0]} in {known[1]} but a {kind} in "
                                       f"{where}", term.span)
            return
        found = "symbol"
    elif isinstance(term, dl.Str):
        found = "symbol"
    elif isinstance(term, (dl.Int, dl.Arith, dl.Negate)):
        found = "number"
        for operand in (term.left, term.right) if isinstance(term, dl.Arith) else \
                (term.operand,) if isinstance(term, dl.Negate) else ():
            _check_term(operand, "number", where, seen, lowercase_variables)
    else:
        return              # a decimal: reported as unsupported by the translator
    if found != kind:
        what = "arithmetic" if isinstance(term, (dl.Arith, dl.Negate)) else _text(term)
        raise DatalogTypeError(f"{where} is declared {kind}, but {what} is a {found}", term.span)


def _text(term) -> str:
    if isinstance(term, dl.Ident):
        return term.name
    return f'"{term.value}"' if isinstance(term, dl.Str) else str(term.value)
