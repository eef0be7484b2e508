"""IR nodes: immutable, typed tensor equations with resolved names; spans never take part in equality."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from tlc.errors import Span
from tlc.ir import functions


ELEMENTWISE = functions.named(functions.ELEMENTWISE)
"""Elementwise built-in functions (``not`` is the ``~`` operator)."""
NORMALISERS = functions.named(functions.NORMALISER)
"""Functions that normalise over the left-hand side's dotted index."""
PAIRWISE = functions.named(functions.PAIRWISE)
"""Elementwise functions of two arguments that broadcast against each other (``min(a, b)``)."""
FUNCTIONS = functions.SPELLINGS
"""Every built-in function name (``tlc.ir.functions``)."""


def _span():
    return field(default=None, compare=False, repr=False, kw_only=True)


class Aggregator(enum.Enum):
    """How an equation's contributions (and its projected indices, for max/min/avg) are combined."""

    SUM = "="
    ADD = "+="
    MAX = "max="
    MIN = "min="
    AVG = "avg="

    @property
    def reduction(self) -> str:
        """The reduction name: ``sum``, ``max``, ``min`` or ``avg``."""
        return {"=": "sum", "+=": "sum", "max=": "max", "min=": "min", "avg=": "avg"}[self.value]


@dataclass(frozen=True, slots=True)
class Index:
    """One index position: ``sum(coef*var) + offset``, floor-divided by ``divisor``, or a named constant.

    ``i`` is ``terms=(("i", 1),)``; ``x+dx`` has two terms; ``t-1`` has ``offset=-1``; ``x/2`` has
    ``divisor=2``; ``Bob`` has ``symbol="Bob"``; ``*t`` sets ``virtual``; ``p'.`` sets ``normalised``.
    """

    terms: tuple[tuple[str, int], ...] = ()
    offset: int = 0
    divisor: int = 1
    symbol: str | int | None = None
    virtual: bool = False
    normalised: bool = False
    span: Span | None = _span()

    @property
    def variables(self) -> tuple[str, ...]:
        """Index variables used, in order."""
        return tuple(v for v, _ in self.terms)

    @property
    def plain_variable(self) -> str | None:
        """The variable if this index is exactly one variable (no shift, no division), else None."""
        if len(self.terms) == 1 and self.terms[0][1] == 1 and self.offset == 0 and self.divisor == 1:
            return self.terms[0][0]
        return None

    @property
    def shifted_variable(self) -> tuple[str, int] | None:
        """``(var, offset)`` if this index is one variable plus a constant, else None."""
        if len(self.terms) == 1 and self.terms[0][1] == 1 and self.divisor == 1:
            return self.terms[0][0], self.offset
        return None

    @property
    def is_constant(self) -> bool:
        """True for an integer or named constant position."""
        return not self.terms


@dataclass(frozen=True, slots=True)
class Ref:
    """A tensor access ``T[...]`` (``relation=False``) or a relation atom ``R(...)``."""

    name: str
    indices: tuple[Index, ...]
    relation: bool = False
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Num:
    """A numeric literal."""

    value: float
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Scalar:
    """A scalar: a 0-d input tensor used without brackets, or a ``const``."""

    name: str
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class IndexValue:
    """An index variable used as a number (``p`` in ``sin(p / L)``)."""

    name: str
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Product:
    """A chain of juxtaposition, ``*`` and ``/``; ``inverted[k]`` marks a divisor."""

    factors: tuple["Expr", ...]
    inverted: tuple[bool, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Sum:
    """A chain of ``+`` and ``-``; ``signs[k]`` is +1 or -1."""

    terms: tuple["Expr", ...]
    signs: tuple[int, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Neg:
    """Unary minus."""

    operand: "Expr"
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Power:
    """``base ^ exponent``."""

    base: "Expr"
    exponent: "Expr"
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Call:
    """An elementwise function, ``softmax``/``lnorm`` (normalising over ``axis``, jointly with any
    ``extra_axes``: ``Comp[p, p1., p2.]``) or ``concat``."""

    function: str
    args: tuple["Expr", ...]
    axis: str | None = None
    extra_axes: tuple[str, ...] = ()
    span: Span | None = _span()

    @property
    def axes(self) -> tuple[str, ...]:
        """Every normalised axis, in left-hand-side order (empty for other functions)."""
        return (self.axis, *self.extra_axes) if self.axis else ()


@dataclass(frozen=True, slots=True)
class Attention:
    """Fused softmax attention (written by the ``attention`` pass; it has no source syntax of its own):

    ``Out[.., p, e] = Σ_keys softmax_keys(S) V1[.., p1, e] ⋯ Vm[.., pm, e]`` with scores
    ``S = scale · Σ_d Q[.., p, d] K1[.., p1, d] ⋯ Km[.., pm, d] + mask − causal_penalty · step(p1 − p)``,
    never materialising ``S``. One key (m = 1) is ordinary attention; two keys are Alman–Song tensor
    attention. Indices are named as in the equation that holds the node; ``scores`` is the eliminated
    score tensor as that equation read it (key axes marked normalised), kept for printing and explain.
    """

    scores: Ref
    query: Ref
    keys: tuple[Ref, ...]
    values: tuple[Ref, ...]
    query_axis: str
    key_axes: tuple[str, ...]
    """One per key; the softmax normalises over them jointly and they are summed against the values."""
    feature_axis: str
    """Summed between the query and the keys (``d``)."""
    value_axis: str
    """Shared by the values and the output (``e``)."""
    batch_axes: tuple[str, ...]
    """Batch and head indices, in the order of ``scores``."""
    scale: "Expr | None" = None
    """An index-free factor multiplying the scores (``1/sqrt(Dk)``); None is 1."""
    mask: "Expr | None" = None
    """An additive term over batch, query and key indices (a tensor, or a penalty on a relation)."""
    causal_penalty: "Expr | None" = None
    """C in ``− C step(p1 − p)``: subtracted where the key index exceeds the query index; None: not causal."""
    span: Span | None = _span()

    @property
    def causal(self) -> bool:
        """True when keys after the query position are penalised (a causal mask)."""
        return self.causal_penalty is not None

    @property
    def optional(self) -> tuple["Expr | None", ...]:
        """The scale, mask and causal penalty (each possibly None), in child order."""
        return (self.scale, self.mask, self.causal_penalty)


Expr = Ref | Num | Scalar | IndexValue | Product | Sum | Neg | Power | Call | Attention


@dataclass(frozen=True, slots=True)
class Equation:
    """``lhs aggregator rhs``; a fact is an equation whose right-hand side is ``Num(1)``."""

    lhs: Ref
    aggregator: Aggregator
    rhs: Expr
    fact: bool = False
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Query:
    """``Atom?``: asks for the tuples (or values) matching the atom."""

    atom: Ref
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Const:
    """``const N = value``."""

    name: str
    value: float | int
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class FactoriseDecl:
    """``factorise(rel_err=..., method=...)`` on a tensor declaration; None fields take the defaults."""

    rel_err: float | None = None
    method: str | None = None


@dataclass(frozen=True, slots=True)
class Shape:
    """``tensor W[4, 3]`` / ``relation R(Person, 5)``: declared extents; a str dim names a domain."""

    name: str
    relation: bool
    dims: tuple[int | str, ...]
    factorise: FactoriseDecl | None = None
    """Set when the declaration asks for a low-rank factorisation of this (input) tensor."""
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Domain:
    """``domain Person: Alice, Bob``: named constants interned in this order."""

    name: str
    members: tuple[str, ...]
    span: Span | None = _span()


Statement = Equation | Query | Const | Shape | Domain


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of an expression node."""
    kids = _CHILDREN.get(type(expr))
    if kids is not None:
        return kids(expr)
    if isinstance(expr, Attention):
        return (expr.query, *expr.keys, *expr.values, *(e for e in expr.optional if e is not None))
    return ()


_CHILDREN = {
    Product: lambda e: e.factors, Sum: lambda e: e.terms, Neg: lambda e: (e.operand,),
    Power: lambda e: (e.base, e.exponent), Call: lambda e: e.args,
}
"""Each node type's direct sub-expressions, by exact type (``children`` runs for every node of every walk)."""


def walk(expr: Expr):
    """Yield every node of an expression tree, parents before children."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def with_paths(expr: Expr, path: tuple[int, ...] = ()):
    """Yield ``(path, node)`` for every node, a path being the child positions from the root."""
    stack = [(path, expr)]
    while stack:
        p, node = stack.pop()
        yield p, node
        stack.extend(reversed([(p + (k,), c) for k, c in enumerate(children(node))]))


def is_zero_power(node: Expr) -> bool:
    """True for ``X^0`` (1 for any ``X``, NaN included): a power whose exponent is the number 0."""
    return isinstance(node, Power) and isinstance(node.exponent, Num) and node.exponent.value == 0


def node_at(expr: Expr, path: tuple[int, ...]) -> Expr:
    """The sub-expression reached by following child positions ``path``."""
    for k in path:
        expr = children(expr)[k]
    return expr


def with_children(expr: Expr, new: tuple[Expr, ...]) -> Expr:
    """A copy of ``expr`` with its direct sub-expressions replaced by ``new``."""
    if isinstance(expr, Product):
        return replace(expr, factors=new)
    if isinstance(expr, Sum):
        return replace(expr, terms=new)
    if isinstance(expr, Neg):
        return replace(expr, operand=new[0])
    if isinstance(expr, Power):
        return replace(expr, base=new[0], exponent=new[1])
    if isinstance(expr, Call):
        return replace(expr, args=new)
    if isinstance(expr, Attention):
        m = len(expr.keys)
        rest = iter(new[1 + 2 * m:])
        scale, mask, causal = (None if e is None else next(rest) for e in expr.optional)
        return replace(expr, query=new[0], keys=new[1:1 + m], values=new[1 + m:1 + 2 * m], scale=scale,
                       mask=mask, causal_penalty=causal)
    return expr


def replace_at(expr: Expr, path: tuple[int, ...], new: Expr) -> Expr:
    """A copy of ``expr`` with the node at ``path`` replaced by ``new``."""
    if not path:
        return new
    kids = list(children(expr))
    kids[path[0]] = replace_at(kids[path[0]], path[1:], new)
    return with_children(expr, tuple(kids))


def plain_ref(name: str, variables: Iterable[str], relation: bool = False) -> Ref:
    """A reference with one plain index per variable: ``T[i, j]``, or ``R(i, j)`` with ``relation``."""
    return Ref(name, tuple(Index(((v, 1),)) for v in variables), relation)


def refs(expr: Expr) -> list[Ref]:
    """Every tensor/relation reference in an expression, left to right."""
    found = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if type(node) is Ref:       # a leaf: most nodes a walk meets
            found.append(node)
        else:
            stack.extend(reversed(children(node)))
    return found


def rename_index(index: Index, names: Mapping[str, str]) -> Index:
    """``index`` with its variables renamed by ``names`` (others kept)."""
    return replace(index, terms=tuple((names.get(v, v), c) for v, c in index.terms))


def rename_variables(expr: Expr, names: Mapping[str, str]) -> Expr:
    """A copy of ``expr`` with index variables renamed by ``names`` (others kept): in the indices of every
    reference, in index values and in the normalised axes of ``softmax``/``lnorm``."""
    if isinstance(expr, Ref):
        return replace(expr, indices=tuple(rename_index(i, names) for i in expr.indices))
    if isinstance(expr, IndexValue):
        return replace(expr, name=names.get(expr.name, expr.name))
    if isinstance(expr, Call) and expr.axis is not None:
        expr = replace(expr, axis=names.get(expr.axis, expr.axis),
                       extra_axes=tuple(names.get(a, a) for a in expr.extra_axes))
    kids = children(expr)
    return with_children(expr, tuple(rename_variables(c, names) for c in kids)) if kids else expr
