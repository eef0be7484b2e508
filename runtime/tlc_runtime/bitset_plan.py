"""How a rule body joins on bitset rows (``tlc_runtime.bitsets``): a fixed sequence of steps over its atoms.

Every atom is a *factor* over its variables (distinct): a unary relation is one bitset row, a binary one a bitset row
per value of its first variable, one of three or more arguments a bitset row per combination of all but its last (rows
in C order: ``T(x, y, z)`` over extents ``(a, b, c)`` is ``a·b`` rows of ``c`` bits). An atom with constants or a
repeated variable is first reduced to one (``Fix``: a constant argument selects a row, a column or a slice, or tests
a bit; ``Diagonal``: ``E(x, x)``, ``T(x, x, y)``); a negated atom reduced to no variables is a condition that must
fail (``Not``). The planner eliminates each variable the head does not keep: a variable in one factor is projected
out (``Project``), a variable in two factors sharing no other variable is joined out by a Boolean product
(``Product``: the left factor's rows gather the right's rows, a right factor of three or more arguments taking the
rows of all its other variables as one long row, the side needing fewer transposes on the left, else the delta's; the
kernel skips the right's empty rows, so a small delta on either side costs little). Two factors sharing other
variables too join it out by one product per combination of those, kept as their leading row arguments (``Product``
with ``kept``: ``A(x, y, w) B(y, w, z)`` is ``(y, x, w)`` rows times ``(y, w, z)`` rows into ``(y, x, z)``). A
variable in three factors or more, none of whose variables can go first, has two of its factors joined keeping every
variable (``Join``, the variable last), the two with the fewest variables between them. Factors over the same variables
are intersected (``And``), a unary factor filters the binary factor holding its variable (``Filter``) and a factor
whose variables are some of a larger one's masks it (``Mask``); a negated atom removes tuples from the first factor
that covers its variables, and its variables are not eliminated before one does: when nothing else can be, two
factors holding them are joined (``Join``). ``Transpose`` turns a binary factor's variable order round where a step
needs the other, ``Permute`` reorders a larger one's (its rows, and the bits of its last argument when that changes).
The factors left over the head's variables are joined keeping every variable (``Cross`` of two unary factors, ``Join``
for a head of three or more arguments). The plan depends only on the rule's shape (the head's and atoms' specs and
which atom holds the semi-naive delta, joined first), never on data, so ``explain`` shows what runs; ``Plan.words``
gives its largest intermediate for given extents, checked against the memory budget before the rule is emitted on
bitset rows. A head with a constant or a repeated variable (``R(x, 3)``, ``R(x, x)``, ``R(3)``, ``P(x, y, 1)``,
``P(x, x, y)``, ``P(x, y, x)``) receives the tuples of its variables at the matching row, column, diagonal, bit or
strided rows (``Plan.place``; a repeated last variable is the factor's last, bit ``j`` of each row set in the row
holding ``j`` at its arguments). Only a fact, or a rule with a variable in its head or a negated atom that no
positive atom holds, has no plan (``obstacle`` says which) and joins by ``tlc_runtime.sparse``.
"""

from __future__ import annotations

import functools
import itertools
import math
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
    """Factor ``slot`` keeps the tuples whose arguments ``first`` and ``second`` (``first < second``) are equal, over
    ``diagonal_order``'s variables: ``(v, v)`` becomes ``(v)``."""

    slot: int
    first: int = 0
    second: int = 1


@dataclass(frozen=True)
class Not:
    """Factor ``slot``, true or false (a negated atom without variables), becomes the opposite."""

    slot: int


@dataclass(frozen=True)
class Transpose:
    """Factor ``slot``'s two variables change places."""

    slot: int


@dataclass(frozen=True)
class Permute:
    """Factor ``slot``'s variables (three or more) take the order ``variables``."""

    slot: int
    variables: tuple


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
class Mask:
    """Factor ``into`` (three or more variables) keeps the tuples whose variables ``variables`` (some of its own, in
    its order) factor ``other`` holds (``negate``: does not hold); ``other`` is used up."""

    into: int
    other: int
    variables: tuple
    negate: bool = False


@dataclass(frozen=True)
class Product:
    """Factors ``left`` ``(k..., a..., v)`` and ``right`` ``(k..., v, b...)`` (no other variable shared) become ``(k...,
    a..., b...)`` in ``left``, ``v`` projected out: one product per combination of the variables ``kept`` (``k``,
    shared by both and kept as rows; none in the plain product)."""

    left: int
    right: int
    variable: str
    kept: tuple = ()


@dataclass(frozen=True)
class Project:
    """Factor ``slot`` loses its variable ``variable`` (a unary factor becomes true or false)."""

    slot: int
    variable: str


@dataclass(frozen=True)
class Cross:
    """Unary factors ``left`` ``(a)`` and ``right`` ``(b)`` become ``(a, b)`` in ``left``."""

    left: int
    right: int


@dataclass(frozen=True)
class Join:
    """Factors ``left`` and ``right``, their variables in the order of ``variables`` (their union), become the factor
    over ``variables`` in ``left`` holding the tuples both hold."""

    left: int
    right: int
    variables: tuple


@dataclass(frozen=True)
class Plan:
    """The steps, the factor holding the head's tuples (its distinct variables in the head's order; None for a head
    without variables), the factors that are true or false (all must be true), for a head with a constant or a
    repeated variable its spec (``place``: the tuples go to that row, column, diagonal or bit), and the variables of
    each factor a step makes (``made``, for ``words``)."""

    steps: tuple
    result: int | None
    flags: tuple[int, ...]
    place: tuple | None = None
    made: tuple = ()

    def words(self, sizes) -> int:
        """The 64-bit words of the largest factor a step makes, the variables' extents ``sizes``."""
        return max((math.prod(sizes[v] for v in made[:-1]) * -(-sizes[made[-1]] // 64) for made in self.made if made),
                   default=0)

    def describe(self) -> str:
        """One line for ``explain`` and comments: the steps in order."""
        words = []
        for step in self.steps:
            if isinstance(step, Fix):
                words.append(_fix_words(step))
            elif isinstance(step, Diagonal):
                words.append("diagonal" if (step.first, step.second) == (0, 1) else
                             f"diagonal of arguments {step.first + 1} and {step.second + 1}")
            elif isinstance(step, Not):
                words.append("not")
            elif isinstance(step, Product):
                words.append(f"product over {step.variable}" + (f" per ({', '.join(step.kept)})" if step.kept else ""))
            elif isinstance(step, Project):
                words.append(f"projection of {step.variable}")
            elif isinstance(step, (And, Filter)):
                words.append(f"{'and-not' if step.negate else 'and'}")
            elif isinstance(step, Mask):
                words.append(f"{'and-not' if step.negate else 'and'} over ({', '.join(step.variables)})")
            elif isinstance(step, Cross):
                words.append("cross product")
            elif isinstance(step, Join):
                words.append(f"join into ({', '.join(step.variables)})")
            elif isinstance(step, Permute):
                words.append(f"reorder to ({', '.join(step.variables)})")
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
    if len(head) > 2:
        return f"({', '.join(map(str, head))})"
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
    variables = head_variables(head)
    if obstacle(head, atoms, negated) is not None:
        return None
    steps = [step for selections, _ in reduced for step in selections]
    steps += [Not(slot) for slot in range(len(atoms), len(reduced)) if not reduced[slot][1]]
    found = _Planner(variables, tuple(spec for _, spec in reduced), len(atoms), delta, steps).run()
    if found is None or variables == tuple(head):
        return found
    return Plan(found.steps, found.result, found.flags, tuple(head), found.made)


def obstacle(head: tuple, atoms: tuple, negated: tuple = ()) -> str | None:
    """Why a rule has no ``plan``, in words for ``explain``; None when it has one."""
    if not atoms:
        return "a fact"
    held = {v for spec in atoms for v in spec if isinstance(v, str)}
    if not {v for spec in (head, *negated) for v in spec if isinstance(v, str)} <= held:
        return "a variable of the head or of a negated atom that no positive atom holds"
    return None


def head_variables(head: tuple) -> tuple:
    """The variables of the factor a plan leaves for ``head``: its distinct ones in its order, except that a last
    variable it repeats goes last (the rows gain it on their diagonal as they are placed, ``Plan.place``)."""
    variables = tuple(dict.fromkeys(v for v in head if isinstance(v, str)))
    if repeats_last(head):
        return tuple(v for v in variables if v != head[-1]) + (head[-1],)
    return variables


def repeats_last(head: tuple) -> bool:
    """Whether ``head`` (three or more arguments) repeats its last variable: ``P(x, y, x)``."""
    return len(head) > 2 and isinstance(head[-1], str) and head[-1] in head[:-1]


def variable_sizes(head: tuple, shape: tuple, atoms) -> dict[str, int]:
    """The extent of each variable of a rule (``atoms``: pairs of a relation's shape and its spec) on bitset rows: the
    smallest it has among the atoms, cut to the head's (``shape``)."""
    sizes: dict[str, int] = {}
    for extents, spec in atoms:
        for axis, v in enumerate(spec):
            if isinstance(v, str):
                sizes[v] = min(sizes.get(v, extents[axis]), extents[axis])
    for axis, v in enumerate(head):
        if isinstance(v, str):
            sizes[v] = min(sizes[v], shape[axis])
    return sizes


def diagonal_order(spec: tuple, first: int, second: int) -> tuple:
    """The arguments of ``spec`` left by a ``Diagonal`` of its arguments ``first`` and ``second``: ``second`` dropped,
    and when it was the last, ``first`` moved last (its bits are gathered from each row)."""
    if second == len(spec) - 1:
        return spec[:first] + spec[first + 1:second] + (spec[first],)
    return spec[:second] + spec[second + 1:]


def _reduced(slot: int, spec: tuple) -> tuple[list, tuple]:
    """The ``Fix`` and ``Diagonal`` steps that leave factor ``slot`` of ``spec`` over distinct variables, and its
    variables then."""
    steps, spec = [], tuple(spec)
    while True:
        constant = next((axis for axis, v in enumerate(spec) if not isinstance(v, str)), None)
        repeat = next(((spec.index(v), axis) for axis, v in enumerate(spec) if spec.index(v) < axis), None)
        if constant is not None:
            steps.append(Fix(slot, constant, spec[constant], len(spec)))
            spec = spec[:constant] + spec[constant + 1:]
        elif repeat is not None:
            steps.append(Diagonal(slot, *repeat))
            spec = diagonal_order(spec, *repeat)
        else:
            return steps, spec


class _Planner:
    def __init__(self, head: tuple, specs: tuple, positive: int, delta: int | None, steps: list):
        self.head = head
        self.slots: list[tuple | None] = list(specs)
        self.pending = [slot for slot in range(positive, len(specs)) if specs[slot]]
        self.live = list(range(positive)) + [slot for slot in range(positive, len(specs)) if not specs[slot]]
        self.small = {delta} if delta is not None else set()
        self.steps: list = steps
        self.made: list[tuple] = []
        self.flags: list[int] = []

    def run(self) -> Plan | None:
        while True:
            self.simplify()
            chosen = self.choose()
            if chosen is None:
                break
            if not chosen:
                return None
        factors = [s for s in self.live if self.slots[s]]
        while len(factors) > 1:
            self.join(*factors[:2])
            self.negate()
            factors = [s for s in self.live if self.slots[s]]
        if self.pending or (len(factors) == 1) != bool(self.head) or \
                (factors and set(self.slots[factors[0]]) != set(self.head)):
            return None
        if factors:
            self.reorder(factors[0], self.head)
        self.flags = [s for s in self.live if not self.slots[s]]
        return Plan(tuple(self.steps), factors[0] if factors else None, tuple(self.flags), made=tuple(self.made))

    def add(self, step, made: tuple = ()) -> None:
        """Append ``step``, which makes a factor over ``made`` (none: ``()``)."""
        self.steps.append(step)
        if made:
            self.made.append(made)

    def drop(self, slot: int) -> None:
        self.live.remove(slot)
        self.slots[slot] = None
        self.small.discard(slot)

    def reorder(self, slot: int, variables: tuple) -> None:
        """Factor ``slot`` takes the order ``variables`` (its own variables)."""
        if self.slots[slot] == variables:
            return
        self.add(Transpose(slot) if len(variables) == 2 else Permute(slot, variables), variables)
        self.slots[slot] = variables

    def join(self, left: int, right: int) -> int:
        """Join two factors over head variables into one over the variables of both, in the head's order; returns the
        factor holding it."""
        ordered = [tuple(sorted(self.slots[s], key=self.head.index)) for s in (left, right)]
        for slot, variables in zip((left, right), ordered):
            self.reorder(slot, variables)
        union = tuple(sorted(set(ordered[0]) | set(ordered[1]), key=self.head.index))
        if len(union) == 2 and len(ordered[0]) == len(ordered[1]) == 1:
            if self.head.index(ordered[0][0]) > self.head.index(ordered[1][0]):
                left, right = right, left
            self.add(Cross(left, right), union)
        else:
            self.add(Join(left, right, union), union)
        self.slots[left] = union
        self.drop(right)
        return left

    def join_in(self, left: int, right: int, union: tuple) -> None:
        """Join two factors into one over ``union`` (their variables; the last one ``right``'s or both's) in
        ``left``, each first reordered as ``union`` orders its variables."""
        for slot in (left, right):
            self.reorder(slot, tuple(v for v in union if v in self.slots[slot]))
        self.add(Join(left, right, union), union)
        if right in self.small:
            self.small.add(left)
        self.slots[left] = union
        self.drop(right)

    def simplify(self) -> None:
        """Intersect factors over the same variables, filter and mask by factors over some of a factor's variables,
        apply the negated atoms covered."""
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
        self.negate()

    def negate(self) -> None:
        """Apply each negated atom whose variables some factor holds (to the first such factor)."""
        for n in list(self.pending):
            target = next((i for i in self.live if self.slots[i] and set(self.slots[n]) <= set(self.slots[i])), None)
            if target is not None and self.slots[n]:
                self.merge(target, n, True)
                self.pending.remove(n)

    def merge(self, i: int, j: int, negate: bool) -> bool:
        """Fold factor ``j`` into factor ``i`` when its variables are ``i``'s or some of them; True when it was."""
        a, b = self.slots[i], self.slots[j]
        if set(a) == set(b):
            self.reorder(j, a)
            self.add(And(i, j, negate), a)
        elif len(a) == 2 and len(b) == 1 and b[0] in a:
            self.add(Filter(i, j, a.index(b[0]), negate), a)
        elif b and set(b) < set(a):
            wanted = tuple(v for v in a if v in b)
            self.reorder(j, wanted)
            self.add(Mask(i, j, wanted, negate), a)
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
        """Eliminate one variable the head does not keep, or join two factors so that one can be: True when it did,
        None when none is left, False when those left cannot be (a negated atom over a variable no factor holds).
        A variable a pending negated atom holds waits until some factor holds all of that atom's variables."""
        order = dict.fromkeys(v for s in self.live for v in (self.slots[s] or ()) if v not in self.head)
        if not order:
            return None
        holders = {v: [s for s in self.live if v in (self.slots[s] or ())] for v in order}
        waiting = {v for n in self.pending for v in self.slots[n]}
        free = [v for v in order if v not in waiting]
        single = next((v for v in free if len(holders[v]) == 1), None)
        if single is not None:
            (slot,) = holders[single]
            factor = self.slots[slot]
            self.slots[slot] = tuple(v for v in factor if v != single)
            self.add(Project(slot, single), self.slots[slot])
            return True
        pairs = [v for v in free if len(holders[v]) == 2]
        plain = [v for v in pairs if set(self.slots[holders[v][0]]) & set(self.slots[holders[v][1]]) == {v}]
        if plain:
            self.product(next((v for v in plain if set(holders[v]) & self.small), plain[0]), holders)
            return True
        if pairs:       # sharing other variables too: the product needing the fewest bit transposes
            self.product(min(pairs, key=lambda v: (self.orient(v, holders)[0], not set(holders[v]) & self.small)),
                         holders)
            return True
        if self.pending:
            return self.cover()
        shared = min(order, key=lambda v: len(holders[v]))      # in three factors or more: join two of them
        left, right = min(itertools.combinations(holders[shared], 2),
                          key=lambda pair: (len(set(self.slots[pair[0]]) | set(self.slots[pair[1]])),
                                            not set(pair) & self.small))
        rest = dict.fromkeys(v for s in (left, right) for v in self.slots[s] if v != shared)
        self.join_in(left, right, (*rest, shared))
        return True

    def orient(self, variable: str, holders: dict) -> tuple[int, int, int, tuple]:
        """The bit transposes a product over ``variable`` needs, its left and right factors (the left one needs the
        variable last, the right one of its own variables last; fewer transposes, else the delta's on the left) and
        the variables both keep."""
        left, right = holders[variable]
        kept = tuple(v for v in self.slots[left] if v in self.slots[right] and v != variable)
        turns = {(a, b): (self.slots[a][-1] != variable) + (self.slots[b][-1] in (*kept, variable))
                 for a, b in ((left, right), (right, left))}
        left, right = min(turns, key=lambda pair: (turns[pair], pair[0] not in self.small))
        return turns[left, right], left, right, kept

    def product(self, variable: str, holders: dict) -> None:
        """Join out ``variable``, which two factors hold, keeping the other variables both hold as rows."""
        _, left, right, kept = self.orient(variable, holders)
        own = [tuple(v for v in self.slots[s] if v not in kept and v != variable) for s in (left, right)]
        self.reorder(left, (*kept, *own[0], variable))
        self.reorder(right, (*kept, variable, *own[1]))
        self.slots[left] = (*kept, *own[0], *own[1])
        self.add(Product(left, right, variable, kept), self.slots[left])
        self.drop(right)

    def cover(self) -> bool:
        """Join two factors holding variables of a pending negated atom that no factor holds whole: the one holding
        most of them and one holding another; False when each such atom has a variable no factor holds."""
        for n in self.pending:
            need = set(self.slots[n])
            holding = [s for s in self.live if self.slots[s] and need & set(self.slots[s])]
            if not need <= {v for s in holding for v in self.slots[s]}:
                continue
            first = max(holding, key=lambda s: (len(need & set(self.slots[s])), -len(self.slots[s])))
            missing = need - set(self.slots[first])
            second = max((s for s in holding if s != first and missing & set(self.slots[s])),
                         key=lambda s: (len(missing & set(self.slots[s])), -len(self.slots[s])))
            extra = tuple(v for v in self.slots[second] if v not in self.slots[first])
            self.join_in(first, second, self.slots[first] + extra)
            return True
        return False
