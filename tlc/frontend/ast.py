"""The surface AST: what the parser saw, with every node's source span and no name resolution yet."""

from __future__ import annotations

from dataclasses import dataclass, field

from tlc.errors import Span


@dataclass(frozen=True, slots=True)
class Node:
    """Base of AST nodes; ``span`` is excluded from equality so trees compare by content."""

    span: Span | None = field(default=None, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Number(Node):
    """A numeric literal as written."""

    text: str


@dataclass(frozen=True, slots=True)
class String(Node):
    """A quoted named constant (quotes removed)."""

    value: str


@dataclass(frozen=True, slots=True)
class Name(Node):
    """A bare identifier: an index, a scalar input, a ``const`` or a named constant."""

    name: str


@dataclass(frozen=True, slots=True)
class Arg(Node):
    """One argument inside ``[...]`` or ``(...)``, with its ``*`` (virtual) and ``.`` (normalised) marks."""

    expr: "Expr"
    virtual: bool = False
    normalised: bool = False


@dataclass(frozen=True, slots=True)
class TensorRef(Node):
    """``T[...]``: a numeric tensor access."""

    name: str
    args: tuple[Arg, ...]


@dataclass(frozen=True, slots=True)
class Apply(Node):
    """``f(...)``: a function call or a relation atom, decided during lowering."""

    name: str
    args: tuple[Arg, ...]


@dataclass(frozen=True, slots=True)
class BinOp(Node):
    """A binary arithmetic operation; ``op`` is one of ``+ - * / ^`` or ``juxt`` (juxtaposition)."""

    op: str
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True, slots=True)
class Neg(Node):
    """Unary minus."""

    operand: "Expr"


Expr = Number | String | Name | TensorRef | Apply | BinOp | Neg


@dataclass(frozen=True, slots=True)
class Equation(Node):
    """``lhs op rhs``; ``lhs`` is a Name (scalar), TensorRef or Apply (relation)."""

    lhs: Name | TensorRef | Apply
    op: str
    rhs: Expr


@dataclass(frozen=True, slots=True)
class Fact(Node):
    """A bare atom such as ``Parent(Bob, Charlie)``."""

    atom: TensorRef | Apply


@dataclass(frozen=True, slots=True)
class Query(Node):
    """``Atom?``."""

    atom: TensorRef | Apply


@dataclass(frozen=True, slots=True)
class ConstDecl(Node):
    """``const N = 3``."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class ShapeDecl(Node):
    """``tensor W[4, N]`` or ``relation Parent(Person, Person)``; dims are ints or names."""

    name: str
    relation: bool
    dims: tuple[int | str, ...]
    factorise: tuple[tuple[str, str], ...] | None = None
    """``factorise(key=value, ...)`` options as written, or None without that clause."""


@dataclass(frozen=True, slots=True)
class DomainDecl(Node):
    """``domain Person: Alice, Bob``: named constants, interned in this order."""

    name: str
    members: tuple[str, ...]


Statement = Equation | Fact | Query | ConstDecl | ShapeDecl | DomainDecl


@dataclass(frozen=True, slots=True)
class Module(Node):
    """A whole source file."""

    statements: tuple[Statement, ...]
