"""Semiring recursions that run as sparse relaxation instead of dense Bellman-Ford rounds.

A ``fixpoint`` stratum of one ``min=``/``max=`` tensor ``T`` whose only recursive equation is one path step
through a square weight matrix, ``T[..., z] min= T[..., y] + W[y, z]`` (or ``W[z, y]``, the operands in either
order), is a *semiring recursion*: ``min=`` with ``+`` (shortest paths) or ``max`` (minimax), ``max=`` with ``+``
(longest), ``min`` (widest) or ``*`` (most reliable). Every axis of ``T`` but one is carried unchanged (a slice:
one source of an all-pairs table), the other is a node of the graph ``W``. Its non-recursive equations (the
base) are computed once by the dense code; the runtime (``tlc_runtime.semiring``) then relaxes only the
elements that changed in the last round over ``W``'s edges in CSR, or runs Dijkstra when the weights allow.
A sum by ``*`` (``T[..., z] = T[..., y] W[y, z]``) counts paths: on a backend with ``NATIVE_SEMIRING`` it runs as
one pass in topological order when that is exact (``tlc_runtime.counting``), else the dense loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tlc.analysis.shapes import Shapes
from tlc.analysis.strata import Mode, Stratum
from tlc.ir import nodes as ir
from tlc.ir.program import Program

COMBINES = {"min": ("add", "max"), "max": ("add", "min", "mul"), "sum": ("mul",)}
"""Per fold, the ways its path step may combine a value with an edge's weight (``sum`` by ``mul``: path counting,
planned only on a backend with ``NATIVE_SEMIRING``, ``tlc_runtime.counting``)."""
NATIVE_SEMIRING = "native-semiring"
"""Backend capability: semiring strata run their relaxation and label setting as compiled kernels
(``tlc_runtime.semiring_native``) instead of NumPy/scipy."""
NS_ELEMENT, NS_EDGE, NS_ROUND, NS_SETUP = 1.0, 25.0, 20_000.0, 100_000.0
"""Cost model (estimated ns): per dense element operation, per relaxed edge, per round of a loop, and the
semiring runtime's fixed cost (its checks and the CSR of the weights)."""


@dataclass(frozen=True)
class Semiring:
    """A semiring recursion: ``equation`` is the recursive one, ``fold`` ``min``, ``max`` or ``sum``, ``combine``
    ``add``, ``mul``, ``min`` or ``max``, ``weights`` the weight matrix read, ``axis`` the node axis of the tensor, and
    ``forward`` True when the weights are read ``W[y, z]`` (an edge from y to z), False for ``W[z, y]``."""

    equation: int
    fold: str
    combine: str
    weights: str
    axis: int
    forward: bool


def _plain(ref, program: Program) -> bool:
    return isinstance(ref, ir.Ref) and not ref.relation and ref.name not in program.virtual_axes and \
        all(i.plain_variable for i in ref.indices)


def _relation(ref, program: Program) -> bool:
    """A relation read with plain variables (path counting reads one as 0/1 weights)."""
    return isinstance(ref, ir.Ref) and ref.relation and all(i.plain_variable for i in ref.indices)


def _operands(rhs) -> tuple[str, tuple] | None:
    """The combine of a path step's right-hand side and its two operands, else None."""
    if isinstance(rhs, ir.Sum) and len(rhs.terms) == 2 and rhs.signs == (1, 1):
        return "add", rhs.terms
    if isinstance(rhs, ir.Product) and len(rhs.factors) == 2 and not any(rhs.inverted):
        return "mul", rhs.factors
    if isinstance(rhs, ir.Call) and rhs.function in ("min", "max") and rhs.axis is None and len(rhs.args) == 2:
        return rhs.function, rhs.args
    return None


def semiring_shape(program: Program, stratum: Stratum, shapes: Shapes) -> Semiring | None:
    """The semiring recursion of a fixpoint stratum (see the module docstring), else None."""
    if stratum.mode is not Mode.FIXPOINT or len(stratum.tensors) != 1:
        return None
    (name,) = stratum.tensors
    info, fold = program.tensors[name], program.reduction(name)
    if info.relation or fold not in COMBINES or name in program.virtual_axes or not info.rank:
        return None
    recursive = [k for k in stratum.equations if any(r.name == name for r in ir.refs(program.equations[k].rhs))]
    if len(recursive) != 1:
        return None
    eq = program.equations[recursive[0]]
    found = _operands(eq.rhs)
    if eq.aggregator.reduction != fold or found is None or found[0] not in COMBINES[fold] or \
            not _plain(eq.lhs, program) or not all(_plain(r, program) or fold == "sum" and _relation(r, program)
                                                   for r in found[1]):
        return None
    combine, (first, second) = found
    own, weights = (first, second) if first.name == name else (second, first)
    if own.name != name or weights.name == name or len(weights.indices) != 2:
        return None
    head = [i.plain_variable for i in eq.lhs.indices]
    read = [i.plain_variable for i in own.indices]
    moved = [a for a in range(len(head)) if head[a] != read[a]]
    if len(set(head)) != len(head) or len(moved) != 1:
        return None
    axis = moved[0]
    z, y = head[axis], read[axis]
    if y in head or z in read or len(set(read)) != len(read):
        return None
    edge = tuple(i.plain_variable for i in weights.indices)
    if edge not in ((y, z), (z, y)):
        return None
    n = shapes.extents[name][axis]
    if not all(shapes.extents[name]):      # an empty tensor: nothing to relax
        return None
    ranges = shapes.ranges.get(recursive[0], {})
    full = {v: (0, shapes.extents[name][a]) for a, v in enumerate(head)} | {y: (0, n)}
    if shapes.extents.get(weights.name) != (n, n) or any(ranges.get(v) != span for v, span in full.items()):
        return None
    return Semiring(recursive[0], fold, combine, weights.name, axis, edge == (y, z))


def semiring_costs(semiring: Semiring, name: str, shapes: Shapes) -> dict[str, float]:
    """Estimated ns of the dense rounds (``einsum``) and of the semiring runtime (``semiring``): both over an
    assumed depth of ``2 ln n`` rounds; the dense ones touch every (slice, y, z) triple each round, the
    relaxation reads the weights once and relaxes each slice's edges a few times."""
    extents = shapes.extents[name]
    n = extents[semiring.axis]
    slices = math.prod(extents) // max(n, 1)
    depth = min(n, math.ceil(2 * math.log(max(n, 2)))) + 1
    dense = depth * (NS_ROUND + 2 * NS_ELEMENT * slices * n * n)
    relax = NS_SETUP + NS_ELEMENT * n * n + NS_EDGE * slices * n * min(n, 8) + NS_ROUND * depth
    return {"einsum": dense, "semiring": relax}
