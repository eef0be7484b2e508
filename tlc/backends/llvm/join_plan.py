"""Native semi-naive joins: the kernels' descriptions and the static join order of a rule body (no llvmlite).

A rule body is joined atom by atom in an order fixed when the module is emitted (``join_order``), so every
pairwise join has a known *shape*: the number of columns (distinct variables) of the left table, of the right
atom's table, and which right columns the result appends. One compiled ``JoinLoop`` serves each shape and join
method (``joins.py`` builds it, ``tlc_runtime.native_joins`` calls it); ``SetOps`` holds the shape-free kernels:
deduplication, sorted union and difference, membership (anti-joins) and the hash join's table.
"""

from __future__ import annotations

from dataclasses import dataclass

METHODS = ("merge", "hash")
"""Join methods: ``merge`` walks both sides sorted by the join key (a cursor moved by binary search), ``hash``
probes an open-addressing table of the inner side's key runs."""


@dataclass(frozen=True, slots=True)
class JoinLoop:
    """One pairwise join shape: ``left`` and ``right`` columns per row, the right columns ``kept`` in the result
    (after the left's), and the method."""

    left: int
    right: int
    left_kept: tuple[int, ...]
    """The left columns the result keeps (those a later atom or the head reads), first."""
    kept: tuple[int, ...]
    """The right columns the result keeps after them (new variables that are read later)."""
    method: str
    version: int = 1
    """Bumped when the generated code changes (it names the symbol)."""

    @property
    def symbol(self) -> str:
        """The kernel's function name prefix (``_count`` and ``_write`` follow it)."""
        left, right = ("_".join(map(str, k)) or "none" for k in (self.left_kept, self.kept))
        return f"tlc_join_{self.method}_{self.left}x{self.right}_l{left}_r{right}_v{self.version}"

    @property
    def label(self) -> str:
        """One line for the module's kernel table."""
        return (f"{self.method} join: {self.left}-column rows with {self.right}-column rows, keeping left columns "
                f"{list(self.left_kept)} and right columns {list(self.kept)}")


@dataclass(frozen=True, slots=True)
class SetOps:
    """The shape-free kernels of native semi-naive evaluation, compiled once for every program."""

    version: int = 3

    @property
    def symbol(self) -> str:
        """The prefix of the functions' names."""
        return f"tlc_sets_v{self.version}"

    @property
    def label(self) -> str:
        """One line for the module's kernel table."""
        return "sorted-key sets: radix sort, unique, union, difference, membership, hash table of key runs"


def join_order(atoms: list[tuple], first: int) -> list[int]:
    """The order atoms (each a spec: variable names or constant positions) are joined in: atom ``first`` (a
    semi-naive rule's delta), then repeatedly the first remaining atom sharing a variable with those joined, else
    the first remaining one. Fixed when emitting, so each join's shape is known; the result does not depend on it."""
    order, bound = [first], {v for v in atoms[first] if isinstance(v, str)}
    rest = [k for k in range(len(atoms)) if k != first]
    while rest:
        pick = next((k for k in rest if bound & {v for v in atoms[k] if isinstance(v, str)}), rest[0])
        rest.remove(pick)
        order.append(pick)
        bound |= {v for v in atoms[pick] if isinstance(v, str)}
    return order


def variables(spec) -> list[str]:
    """An atom's distinct variables in order of first appearance (its table's columns)."""
    return list(dict.fromkeys(v for v in spec if isinstance(v, str)))


def join_shapes(head: tuple, atoms: list[tuple], negated: list[tuple], method: str) -> list[JoinLoop]:
    """The shape of each pairwise join of ``atoms`` (specs, already in join order) for a rule with ``head`` and
    ``negated`` specs: each join keeps the variables the head, the negated atoms or a later atom read (a variable
    read by none is projected out as soon as it has been joined on)."""
    columns = variables(atoms[0])
    shapes = []
    for at, spec in enumerate(atoms[1:], 2):
        needed = {v for s in (head, *atoms[at:], *negated) for v in s if isinstance(v, str)}
        right = variables(spec)
        left_kept = tuple(k for k, v in enumerate(columns) if v in needed)
        kept = tuple(k for k, v in enumerate(right) if v not in columns and v in needed)
        shapes.append(JoinLoop(len(columns), len(right), left_kept, kept, method))
        columns = [columns[k] for k in left_kept] + [right[k] for k in kept]
    return shapes
