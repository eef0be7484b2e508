"""How a rule body joins on bitset rows (``tlc_runtime.bitsets``): a fixed sequence of steps over its atoms.

Every atom is a *factor* over its variables (at most two, distinct): a unary relation is one bitset row, a binary
one a bitset row per value of its first variable. An atom with constants or a repeated variable is first reduced to
one (``Fix``: a constant argument selects a row, a column or a slice, or tests a bit; ``Diagonal``: ``E(x, x)``), a
ternary atom only when a constant leaves it at most two variables; a negated atom reduced to no variables is a
condition that must fail (``Not``). The planner eliminates each variable the head does not keep: a
variable in one factor is projected out (``Project``), a variable in two binary factors is joined out by a Boolean
product (``Product``: the left factor's rows gather the right's rows, the side needing fewer transposes on the left,
else the delta's; the kernel skips the right's empty rows, so a small delta on either side costs little). Factors over the same variables are
intersected (``And``) and a unary factor filters the binary factor holding its variable (``Filter``); a negated
atom removes tuples from the first factor that covers its variables. ``Transpose`` turns a binary factor's
variable order round where a step needs the other. The plan depends only on the rule's shape (the head's and atoms'
specs and which atom holds the semi-naive delta, joined first), never on data, so ``explain`` shows what runs.
A head with a constant or a repeated variable (``R(x, 3)``, ``R(x, x)``, ``R(3)``) receives the tuples of its
variables at the matching row, column, diagonal or bit (``Plan.place``). A rule the planner cannot handle (a head or
an atom of more than two arguments that constants do not reduce, a repeated variable in a ternary atom, a variable
joining three factors that no order of eliminations avoids) has no plan and joins by ``tlc_runtime.sparse``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class Fix:
    """Argument ``axis`` of factor ``slot`` (``arity`` arguments) is the constant ``position``: the factor keeps the
    tuples holding it, over its other arguments (a unary factor becomes true or false)."""

    slot: int
    axis: int
    position: int
    arity: int


@dataclass(frozen=True)
class Diagonal:
    """Factor ``slot`` ``(v, v)`` keeps the tuples whose two arguments are equal, over ``(v)``."""

    slot: int


@dataclass(frozen=True)
class Not:
    """Factor ``slot``, true or false (a negated atom without variables), becomes the opposite."""

    slot: int


@dataclass(frozen=True)
class Transpose:
    """Factor ``slot``'s two variables change places."""

    slot: int


@dataclass(frozen=True)
class And:
    """Factor ``into`` keeps the tuples that factor ``other`` (same variables, same order) holds (``negate``: does
    not hold); ``other`` is used up."""

    into: int
    other: int
    negate: bool = False


@dataclass(frozen=True)
class Filter:
    """Binary factor ``into`` keeps the tuples whose variable at ``axis`` unary factor ``other`` holds (``negate``:
    does not hold); ``other`` is used up."""

    into: int
    other: int
    axis: int
    negate: bool = False


@dataclass(frozen=True)
class Product:
    """Factors ``left`` ``(a, v)`` and ``right`` ``(v, b)`` become ``(a, b)`` in ``left``, ``v`` projected out."""

    left: int
    right: int
    variable: str


@dataclass(frozen=True)
class Project:
    """Factor ``slot`` keeps its variable at ``keep`` (a unary factor becomes true or false: ``keep`` None)."""

    slot: int
    keep: int | None
    variable: str


@dataclass(frozen=True)
class Cross:
    """Unary factors ``left`` ``(a)`` and ``right`` ``(b)`` become ``(a, b)`` in ``left``."""

    left: int
    right: int


@dataclass(frozen=True)
class Plan:
    """The steps, the factor holding the head's tuples (its distinct variables in the head's order; None for a head
    without variables), the factors that are true or false (all must be true) and, for a head with a constant or a
    repeated variable, its spec (``place``: the tuples go to that row, column, diagonal or bit)."""

    steps: tuple
    result: int | None
    flags: tuple[int, ...]
    place: tuple | None = None

    def describe(self) -> str:
        """One line for ``explain`` and comments: the steps in order."""
        words = []
        for step in self.steps:
            if isinstance(step, Fix):
                words.append(_fix_words(step))
            elif isinstance(step, Diagonal):
                words.append("diagonal")
            elif isinstance(step, Not):
                words.append("not")
            elif isinstance(step, Product):
                words.append(f"product over {step.variable}")
            elif isinstance(step, Project):
                words.append(f"projection of {step.variable}")
            elif isinstance(step, (And, Filter)):
                words.append(f"{'and-not' if step.negate else 'and'}")
            elif isinstance(step, Cross):
                words.append("cross product")
            else:
                words.append("transpose")
        if self.place is not None:
            words.append(f"written into {_place_words(self.place)}")
        return ", ".join(words) or "a copy"


def _fix_words(step: Fix) -> str:
    if step.arity == 1:
        return f"test of {step.position}"
    if step.arity == 2:
        return f"{('row', 'column')[step.axis]} {step.position}"
    return f"slice {step.position} of argument {step.axis + 1}"


def _place_words(head: tuple) -> str:
    constants = [v for v in head if not isinstance(v, str)]
    if len(constants) == len(head):
        return f"position {', '.join(map(str, constants))}"
    if len(constants) == 0:
        return "the diagonal"
    return f"{('column', 'row')[isinstance(head[1], str)]} {constants[0]}"


@functools.lru_cache(maxsize=4096)
def plan(head: tuple, atoms: tuple, negated: tuple = (), delta: int | None = None) -> Plan | None:
    """The plan of a rule whose head spec is ``head`` and whose positive and negated atoms have the specs ``atoms``
    and ``negated`` (factors ``0..len(atoms)-1`` then the negated ones), atom ``delta`` joined first; None when the
    rule has none (see the module docstring)."""
    reduced = [_reduced(slot, spec) for slot, spec in enumerate((*atoms, *negated))]
    if len(head) > 2 or not atoms or None in reduced:
        return None
    variables = tuple(dict.fromkeys(v for v in head if isinstance(v, str)))
    steps = [step for selections, _ in reduced for step in selections]
    steps += [Not(slot) for slot in range(len(atoms), len(reduced)) if not reduced[slot][1]]
    found = _Planner(variables, tuple(spec for _, spec in reduced), len(atoms), delta, steps).run()
    if found is None or variables == tuple(head):
        return found
    return Plan(found.steps, found.result, found.flags, tuple(head))


def obstacle(head: tuple, atoms: tuple, negated: tuple = ()) -> str:
    """Why a rule whose ``plan`` is None has none, in words for ``explain``."""
    if not atoms:
        return "a fact"
    if len(head) > 2:
        return "a head of more than two arguments"
    if any(_reduced(0, spec) is None for spec in (*atoms, *negated)):
        return "an atom over more than two variables or repeating a variable among three arguments"
    return "a variable shared by three atoms that no order of eliminations avoids, or a negated atom over " \
        "variables no one factor holds"


def _reduced(slot: int, spec: tuple) -> tuple[list, tuple] | None:
    """The ``Fix`` and ``Diagonal`` steps that leave factor ``slot`` of ``spec`` over distinct variables, and its
    variables then; None when there are more than two or a repeat remains."""
    steps, spec = [], tuple(spec)
    while True:
        constant = next((axis for axis, v in enumerate(spec) if not isinstance(v, str)), None)
        if constant is not None:
            steps.append(Fix(slot, constant, spec[constant], len(spec)))
            spec = spec[:constant] + spec[constant + 1:]
        elif len(spec) == 2 and spec[0] == spec[1]:
            steps.append(Diagonal(slot))
            spec = spec[:1]
        else:
            break
    return (steps, spec) if len(spec) <= 2 and len(set(spec)) == len(spec) else None


class _Planner:
    def __init__(self, head: tuple, specs: tuple, positive: int, delta: int | None, steps: list):
        self.head = head
        self.slots: list[tuple | None] = list(specs)
        self.pending = [slot for slot in range(positive, len(specs)) if specs[slot]]
        self.live = list(range(positive)) + [slot for slot in range(positive, len(specs)) if not specs[slot]]
        self.small = {delta} if delta is not None else set()
        self.steps: list = steps
        self.flags: list[int] = []

    def run(self) -> Plan | None:
        while True:
            self.simplify()
            chosen = self.choose()
            if chosen is None:
                break
            if not chosen:
                return None
        if self.pending:
            return None
        factors = [s for s in self.live if self.slots[s]]
        if len(factors) == 2 and len(self.head) == 2 and all(len(self.slots[s]) == 1 for s in factors):
            left, right = sorted(factors, key=lambda s: self.head.index(self.slots[s][0]))
            self.add(Cross(left, right))
            self.slots[left] = self.slots[left] + self.slots[right]
            self.drop(right)
            factors = [left]
        if len(factors) > 1 or (len(factors) == 1) != bool(self.head) or \
                (factors and set(self.slots[factors[0]]) != set(self.head)):
            return None
        if factors and self.slots[factors[0]] != self.head:
            self.transpose(factors[0])
        self.flags = [s for s in self.live if not self.slots[s]]
        return Plan(tuple(self.steps), factors[0] if factors else None, tuple(self.flags))

    def add(self, step) -> None:
        self.steps.append(step)

    def drop(self, slot: int) -> None:
        self.live.remove(slot)
        self.slots[slot] = None
        self.small.discard(slot)

    def transpose(self, slot: int) -> None:
        self.add(Transpose(slot))
        self.slots[slot] = self.slots[slot][::-1]

    def simplify(self) -> None:
        """Intersect factors over the same variables, filter by unary factors, apply the negated atoms covered."""
        changed = True
        while changed:
            changed = False
            for i in self.live:
                for j in self.live:
                    if i != j and self.slots[i] and self.merge(i, j, False):
                        changed = True
                        break
                if changed:
                    break
        for n in list(self.pending):
            target = next((i for i in self.live if self.slots[i] and set(self.slots[n]) <= set(self.slots[i])), None)
            if target is not None and self.slots[n]:
                self.merge(target, n, True)
                self.pending.remove(n)

    def merge(self, i: int, j: int, negate: bool) -> bool:
        """Fold factor ``j`` into factor ``i`` when its variables are ``i``'s or one of them; True when it was."""
        a, b = self.slots[i], self.slots[j]
        if set(a) == set(b):
            if a != b:
                self.transpose(j)
            self.add(And(i, j, negate))
        elif len(a) == 2 and len(b) == 1 and b[0] in a:
            self.add(Filter(i, j, a.index(b[0]), negate))
        else:
            return False
        if j in self.small:
            self.small.add(i)
        if negate:
            self.slots[j] = None
        else:
            self.drop(j)
        return True

    def choose(self) -> bool | None:
        """Eliminate one variable the head does not keep: True when one was, None when none is left, False when
        those left cannot be."""
        order = dict.fromkeys(v for s in self.live for v in (self.slots[s] or ()) if v not in self.head)
        if not order:
            return None
        holders = {v: [s for s in self.live if v in (self.slots[s] or ())] for v in order}
        single = next((v for v in order if len(holders[v]) == 1), None)
        if single is not None:
            (slot,) = holders[single]
            factor = self.slots[slot]
            keep = None if len(factor) == 1 else 1 - factor.index(single)
            self.add(Project(slot, keep, single))
            self.slots[slot] = tuple(v for v in factor if v != single)
            return True
        pairs = [v for v in order if len(holders[v]) == 2]
        if not pairs:
            return False
        variable = next((v for v in pairs if set(holders[v]) & self.small), pairs[0])
        left, right = holders[variable]
        turns = {(a, b): (self.slots[a][1] != variable) + (self.slots[b][0] != variable)
                 for a, b in ((left, right), (right, left))}
        left, right = min(turns, key=lambda pair: (turns[pair], pair[0] not in self.small))
        if self.slots[left][1] != variable:
            self.transpose(left)
        if self.slots[right][0] != variable:
            self.transpose(right)
        self.add(Product(left, right, variable))
        self.slots[left] = (self.slots[left][0], self.slots[right][1])
        self.drop(right)
        return True
