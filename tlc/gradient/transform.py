"""The gradient transform, IR -> IR: a program and a scalar loss in, the same program plus adjoint
equations out, so that every pass and backend runs the backward pass unchanged.

Tensors are visited in reverse topological order; the adjoint of a tensor ``Y`` is the sum of one
contribution per read of ``Y`` in an equation the loss depends on (several equations each add with ``+=``).
Within an equation the adjoint flows from the right-hand side's root to each tensor reference, multiplying
the local partials of ``tlc.gradient.rules``.
"""

from __future__ import annotations

import functools

from dataclasses import dataclass, replace

from tlc.errors import TlcError
from tlc.gradient.extents import exact_axes, full_axes, joined, reads_span_their_domain
from tlc.gradient.names import Namer
from tlc.gradient.trajectory import store_trajectories
from tlc.gradient.rules import ONE, Factor, Path, average, in_range, partials, selected, unsupported
from tlc.ir import nodes as ir
from tlc.ir.program import Program
from tlc.analysis.projection import analyse, occurrences


@dataclass(frozen=True)
class Gradient:
    """A gradient program: the forward statements followed by the backward equations."""

    program: Program
    gradients: dict[str, str]
    """Each ``wrt`` name -> the name of the tensor holding dL/d(name)."""
    origins: tuple[tuple[ir.Equation, ir.Equation | None], ...]
    """Each generated equation with the forward equation it derives from (None: a zero gradient)."""
    trajectories: dict[str, str]
    """Each virtual tensor the loss depends on -> the tensor storing its trajectory."""
    reached: dict[str, str]
    """Each tensor of a ``max=``/``min=`` recursion -> the 0/1 tensor of the elements its iteration reached."""
    transposed: frozenset[str]
    """Defined tensors whose equations the backward pass transposes (on the way from a ``wrt`` to the loss)."""


def default_wrt(program: Program) -> tuple[str, ...]:
    """The tensors learned by default: inputs declared with ``tensor``, or if none is declared, every numeric input."""
    inputs = [n for n, t in program.tensors.items() if not t.defined and not t.relation]
    declared = [n for n in inputs if n in program.shapes]
    return tuple(declared or inputs)


def gradient(program: Program, loss: str, wrt=None) -> Gradient:
    """The program extended with the gradient of the 0-d tensor ``loss`` with respect to each name in ``wrt``."""
    _check_loss(program, loss)
    wrt = default_wrt(program) if wrt is None else ([wrt] if isinstance(wrt, str) else list(wrt))
    _check_wrt(program, loss, wrt)
    return _Transform(program, loss, tuple(dict.fromkeys(wrt))).run()


def _check_loss(program: Program, loss: str) -> None:
    info = program.tensors.get(loss)
    if info is None or not info.defined or info.relation:
        what = "not a tensor of this program" if info is None else \
            "a relation" if info.relation else "an input, not defined by an equation"
        raise TlcError(f"the loss {loss!r} must be a numeric tensor defined by an equation; it is {what}",
                       None if info is None else info.first_use.span, filename=program.filename, source=program.source)
    if info.rank:
        raise TlcError(f"the loss {loss!r} must be a scalar (0-d) tensor, it has {info.rank} indices",
                       info.first_use.span, filename=program.filename, source=program.source)


def _check_wrt(program: Program, loss: str, wrt: list[str]) -> None:
    if not wrt:
        raise TlcError("nothing to differentiate with respect to: the program has no numeric input tensor",
                       filename=program.filename)
    for name in wrt:
        info = program.tensors.get(name)
        if info is None or info.relation or name == loss:
            what = "the loss itself" if name == loss else "a relation" if info is not None else \
                "not a tensor of this program" + (" (scalar inputs are constants)" if name in program.scalars else "")
            raise TlcError(f"cannot differentiate with respect to {name!r}: it is {what}", filename=program.filename)
        if name in program.virtual_axes:
            raise TlcError(f"cannot differentiate with respect to {name!r}: it has a virtual index (only its last "
                           "step is kept)", info.first_use.span, filename=program.filename, source=program.source)


def _plain(ref: ir.Ref) -> tuple[str, ...]:
    return tuple(i.plain_variable for i in ref.indices)


def _axes(ref: ir.Ref) -> list[tuple[str, tuple[str, int]]]:
    """Each variable ``ref`` reads plainly, with the axis (tensor, position) it reads it at."""
    return [(i.plain_variable, (ref.name, a)) for a, i in enumerate(ref.indices) if i.plain_variable is not None]


def _indices(ref: ir.Ref) -> tuple[ir.Index, ...]:
    """``ref``'s index expressions without their virtual and normalised marks."""
    return tuple(replace(i, virtual=False, normalised=False) for i in ref.indices)


def _index_variables(ref: ir.Ref) -> tuple[str, ...]:
    return tuple(v for i in ref.indices for v in i.variables)


def _arithmetic(eq: ir.Equation) -> bool:
    """True when some index of ``eq`` is a shift, a pooling division or a sum of variables."""
    return any(i.terms and i.plain_variable is None for r in (eq.lhs, *ir.refs(eq.rhs)) for i in r.indices)


def _lifts(eq: ir.Equation, recursion: set) -> dict[str, int]:
    """Each variable that every single-variable index of ``eq`` shifts forward (``X[l + 1]``, never a plain ``l``)
    -> the smallest such shift: valid semantics let it start that far below 0, where a tensor it indexes plainly
    has no position. Each variable that some index reads shifted back, pooled or not (``X[l - 1]``, ``X[(l - 1)/2]``)
    -> the largest such shift, negative: it starts that far above 0, and a tensor indexing it plainly would have
    positions below its start, which in a backward equation widen its range and so narrow the others that an index
    adds to it (``L_grad_T1[i, j + l, k]`` left ``j`` nothing). Reads of the ``recursion`` bound an index only as a
    last resort, so none of theirs is counted as a start."""
    shifts: dict[str, int] = {}
    starts: dict[str, int] = {}
    for ref in (eq.lhs, *ir.refs(eq.rhs)):
        for index in ref.indices:
            if index.shifted_variable:
                variable, offset = index.shifted_variable
                shifts[variable] = min(shifts.get(variable, offset), offset)
            if len(index.terms) == 1 and index.terms[0][1] == 1 and index.offset < 0 and ref.name not in recursion:
                variable = index.terms[0][0]
                starts[variable] = min(starts.get(variable, index.offset), index.offset)
    return {v: offset for v, offset in shifts.items() if offset > 0} | starts


def _tight(eq: ir.Equation, program: Program) -> bool:
    """True when the adjoint of ``eq``'s left-hand side cannot range wider than ``eq``'s positions: ``eq`` alone
    defines it, with ``=`` over distinct plain variables, and no declaration widens it. Every contribution to an
    adjoint is bounded by the read it transposes (so by the tensor's extent), and here that extent is ``eq``'s
    range; the backward equations then need no ``R^0`` carrier or range tensor for the indices it bounds."""
    variables = _plain(eq.lhs)
    return len(program.defining(eq.lhs.name)) == 1 and eq.aggregator.reduction == "sum" \
        and all(variables) and len(set(variables)) == len(variables) \
        and not any(i.virtual for i in eq.lhs.indices) and eq.lhs.name not in program.shapes


def _variables(expr: ir.Expr) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for _, v in occurrences(expr)))


def _ref(name: str, variables, normalised=()) -> ir.Ref:
    """``name`` indexed by ``variables``: names (dotted when in ``normalised``) or index expressions."""
    return ir.Ref(name, tuple(v if isinstance(v, ir.Index) else ir.Index(((v, 1),), normalised=v in normalised)
                              for v in variables))


class _Transform:
    """One run of the gradient transform (it accumulates the generated equations)."""

    def __init__(self, source: Program, loss: str, wrt: tuple[str, ...]):
        self.source, self.loss, self.wrt = source, loss, wrt
        self.names = Namer(source)
        program, self.trajectories, stored = store_trajectories(source, loss, self.names)
        self.program = program
        """The program differentiated: ``source`` with virtual tensors read through their stored trajectories."""
        self.grad_names = {t: self.names.fresh(f"{loss}_grad_{v}") for v, t in self.trajectories.items()}
        self.out: list[tuple[ir.Equation, ir.Equation | None]] = list(stored)
        self.origin = dict(zip(program.equations, source.equations))
        """Each differentiated equation -> the source equation it reads as (they differ by trajectories)."""
        self.defined: set[str] = set()
        import networkx as nx       # the gradient's graphs: not imported by ``import tlc``
        graph = program.graph
        self.active = set(nx.ancestors(graph, loss)) & ({*wrt} | {d for w in wrt for d in nx.descendants(graph, w)})
        self.active = {n for n in self.active | {loss} if isinstance(n, str)}
        self.cycles = [c for c in nx.strongly_connected_components(graph) if len(c) > 1]
        self.recursive = {n for c in self.cycles for n in c if not isinstance(n, str)}
        """Equations in a recursion: their adjoints form the reverse recursion (the same cycle, transposed)."""
        self.reached: dict[str, str] = {}
        """Each tensor of a ``max=``/``min=`` recursion -> ``L_reached_T`` (see ``reach``)."""
        self.unit_name: str | None = None
        """``L_unit``, a tensor of one element (see ``unit``), once defined."""
        self.rewritten: dict[ir.Equation, ir.Equation] = {}
        """Forward equations the backward pass computes from tensors it shares with them (see ``rewrite``)."""

    def stretched(self, tensor: str) -> bool:
        """True when an equation writes ``tensor`` at computed positions (``T[i + 1] = ...``) or reads an index it
        writes at computed positions (``T[i] = X[i - 1]``: ``i`` starts at 1), so that ``tensor`` can be longer than
        the domain of the indices reading it: such a read does not bound them to another tensor's extent. A declared
        shape (``tensor T0[2]`` over ``T0[j] = j + 1``) can make a defined tensor longer too."""
        if tensor in self.program.shapes and self.program.defining(tensor):
            return True
        for k in self.program.defining(tensor):
            eq = self.program.equations[k]
            written = {v for index in eq.lhs.indices for v in index.variables}
            if any(_computed(index) for index in eq.lhs.indices) or \
                    any(_computed(index) and written & set(index.variables) for r in ir.refs(eq.rhs) for index in r.indices):
                return True
        return False

    @functools.cached_property
    def axes(self) -> tuple[set, set]:
        """The forward program's axes at least as long as their domain's input extent, and those exactly as long
        (``tlc.gradient.extents``): a read of the one cannot narrow an index another read bounds; a read of the
        other bounds it as every such read does."""
        full = full_axes(self.program.equations, self.program.shapes)
        return full, exact_axes(self.program.equations, self.program.shapes, full)

    def cycle_of(self, tensor: str) -> set:
        """The tensors and equations of the recursion ``tensor`` belongs to (empty when none)."""
        return next((c for c in self.cycles if tensor in c), set())

    def grad_name(self, tensor: str) -> str:
        """The adjoint tensor of ``tensor`` (named on first use)."""
        if tensor not in self.grad_names:
            self.grad_names[tensor] = self.names.fresh(f"{self.loss}_grad_{tensor}")
        return self.grad_names[tensor]

    def emit(self, lhs: ir.Ref, rhs: ir.Expr, origin: ir.Equation | None) -> None:
        """Append ``lhs = rhs`` (``+=`` when ``lhs``'s tensor is already defined)."""
        aggregator = ir.Aggregator.ADD if lhs.name in self.defined else ir.Aggregator.SUM
        self.defined.add(lhs.name)
        origin = self.origin.get(origin, origin)
        self.out.append((ir.Equation(lhs, aggregator, rhs, span=origin.span if origin else None), origin))

    def run(self) -> Gradient:
        """Check the equations the loss depends on, then emit the adjoints in reverse topological order of the
        recursions (strongly connected components); a recursion's adjoints are themselves one: the reverse
        recurrence of a recurrence, and for a fixpoint the adjoint fixpoint (the implicit function theorem's
        linear system ``dX = dL/dX + J^T dX``, iterated as the forward iterates ``X = F(X)``)."""
        equations = [k for k, eq in enumerate(self.program.equations) if eq.lhs.name in self.active]
        for k in equations:
            _check_equation(self.program.equations[k], self.program, k in self.recursive)
        import networkx as nx
        condensed = nx.condensation(self.program.graph.subgraph([*self.active, *equations]))
        for component in reversed(list(nx.topological_sort(condensed))):
            members = condensed.nodes[component]["members"]
            tensors = sorted(n for n in members if isinstance(n, str) and self.program.defining(n))
            for tensor in tensors:
                if tensor != self.loss and self.grad_name(tensor) not in self.defined:
                    self.zero(tensor)
            for tensor in tensors:
                walks = [_EquationWalk(self, k) for k in self.program.defining(tensor)]
                if self.program.reduction(tensor) in ("max", "min"):
                    self.share_ties(tensor, walks)
                for walk in walks:
                    walk.run()
        for name in self.wrt:
            if self.grad_name(name) not in self.defined:
                self.zero(name)
        forward_statements = tuple(self.rewritten.get(s, s) if isinstance(s, ir.Equation) else s
                                   for s in self.source.statements)
        statements = forward_statements + tuple(eq for eq, _ in self.out)
        forward = self.source.outputs if self.source.outputs is not None else \
            frozenset(n for n, t in self.source.tensors.items() if t.defined)
        gradients = {name: self.grad_name(name) for name in self.wrt}
        program = replace(self.source, statements=statements, outputs=forward | frozenset(gradients.values()))
        transposed = frozenset(n for n in self.active if self.program.defining(n))
        return Gradient(program, gradients, tuple(self.out), self.trajectories, dict(self.reached), transposed)

    def share_ties(self, tensor: str, walks: list[_EquationWalk]) -> None:
        """Give each ``max=``/``min=`` equation of ``tensor`` its arg-max indicator and one tie count summed over
        all of them (``L_grad_D_ties``), so that ties between equations share the adjoint too."""
        ties = self.names.fresh(f"{self.loss}_grad_{tensor}_ties")
        reached = self.reach(tensor)
        for walk in walks:
            lhs = _ref(tensor, _indices(walk.eq.lhs))
            guards = tuple(_ref(reached[r.name], _indices(r)) for r in dict.fromkeys(ir.refs(walk.eq.rhs))
                           if r.name in reached)
            chosen = selected(walk.eq, lhs, walk, guards)
            self.emit(_ref(ties, lhs.indices), chosen, walk.eq)
            # max(ties, 1): an element no contribution reached (ties 0) passes no adjoint on, rather than 0/0
            walk.selection = [(chosen, False), (ir.Call("max", (_ref(ties, lhs.indices), ONE)), True)]

    def spans(self, tensor: str, variables: tuple[str, ...], rhs: ir.Expr) -> bool:
        """True when ``L_grad_X[variables] = rhs``, the first contribution to the gradient of ``tensor`` (``X``),
        certainly gives it ``X``'s whole extent: ``X`` is an input and ``rhs`` reads each variable plainly from
        axes as long as their domain (``tlc.gradient.extents``), which is the domain of ``X``'s axis. Otherwise
        (``T[q] = T0[q] X[q]`` with a ``T0`` shorter than ``X``) the gradient starts from a zero base shaped like X."""
        if self.program.tensors[tensor].defined:
            return False
        grad = self.grad_name(tensor)
        equations = [*self.program.equations, *(eq for eq, _ in self.out),
                     ir.Equation(_ref(grad, variables), ir.Aggregator.SUM, rhs)]
        full = full_axes(equations, self.program.shapes)
        return all(reads_span_their_domain(v, rhs, full) and joined(equations, (grad, a), (tensor, a))
                   for a, v in enumerate(variables))

    def unit(self, origin: ir.Equation) -> str:
        """``L_unit``, defined on first use as ``L_unit[0] = 1`` (under ``origin``): a tensor of one element."""
        if self.unit_name is None:
            self.unit_name = self.names.fresh(f"{self.loss}_unit")
            lhs = ir.Ref(self.unit_name, (ir.Index(),))
            equation = ir.Equation(lhs, ir.Aggregator.SUM, ONE, span=origin.span)
            self.out.append((equation, self.origin.get(origin, origin)))
        return self.unit_name

    def reach(self, tensor: str) -> dict[str, str]:
        """For a ``max=``/``min=`` tensor in a recursion, each tensor of the recursion -> ``L_reached_T``: 1 where the
        forward iteration gave an element a contribution, 0 where it stayed untouched (read as 0 in the results,
        but skipped by ``max=``/``min=`` while iterating, so its readers were not candidates). It is the same
        recursion with every member read replaced by its reached tensor and every other read ``R`` by ``R^0``."""
        members = sorted(n for n in self.cycle_of(tensor) if isinstance(n, str))
        if not members or tensor in self.reached:
            return self.reached
        for member in members:
            if self.program.reduction(member) not in ("max", "min"):
                eq = self.program.equations[self.program.defining(member)[0]]
                raise unsupported(f"a recursion mixing '{self.program.reduction(tensor)}=' with a sum "
                                  f"({tensor} and {member} depend on each other)", eq.span)
        names = {m: self.names.fresh(f"{self.loss}_reached_{m}") for m in members}
        self.reached.update(names)
        for member in members:
            for k in self.program.defining(member):
                eq = self.program.equations[k]
                reads = [_ref(names[r.name], _indices(r)) if r.name in names else ir.Power(r, ir.Num(0.0))
                         for r in dict.fromkeys(ir.refs(eq.rhs))]
                rhs = ir.Product(tuple(reads), (False,) * len(reads)) if len(reads) > 1 else \
                    reads[0] if reads else ONE
                lhs = _ref(names[member], _indices(eq.lhs))
                self.out.append((ir.Equation(lhs, ir.Aggregator.MAX, rhs, span=eq.span), self.origin.get(eq, eq)))
        return self.reached

    def zero(self, tensor: str, origin: ir.Equation | None = None) -> None:
        """A gradient that is zero everywhere, shaped like ``tensor`` (the base that ``origin`` adds to)."""
        variables = [f"i{a + 1}" for a in range(self.program.tensors[tensor].rank)]
        shape = ir.Power(_ref(tensor, variables), ir.Num(0.0))
        self.emit(_ref(self.grad_name(tensor), variables), ir.Product((ir.Num(0.0), shape), (False, False)), origin)


def _computed(index: ir.Index) -> bool:
    """True for an index computed from variables (``i + 1``, ``i + j``, ``x/2``), not a plain variable or constant."""
    return not (index.divisor == 1 and index.offset == 0 and len(index.terms) <= 1)


def _from_first(index: ir.Index, lifts: dict[str, int]) -> bool:
    """True when ``index`` allows its variable every position of a tensor the backward pass indexes by it, from the
    first on, which ``_positions`` shifts (``lifts``) for a variable that starts below or above 0: one variable read at
    least that far ahead, pooled or not (``i``, ``i + 1``, ``i/2``; ``i - 1`` where ``X[i - 1]`` starts ``i`` at 1);
    not ``i - j`` (no ``i < j``), or ``j/2`` where ``j`` starts at -1 (``T[j + 1]``: ``j/2`` has no ``j = -1``)."""
    return len(index.terms) == 1 and index.terms[0][1] == 1 and index.offset >= lifts.get(index.terms[0][0], 0)


def _check_equation(eq: ir.Equation, program: Program, recursive: bool) -> None:
    """Reject, located, every construct of an equation on the loss's path that has no gradient rule yet."""
    if eq.lhs.relation:
        raise unsupported(f"a relation ({eq.lhs.name}(...))", eq.span)
    if recursive and eq.aggregator.reduction == "avg":
        raise unsupported(f"an 'avg=' recursion ({eq.lhs.name} depends on itself)", eq.span)
    if eq.aggregator.reduction == "avg" and len(program.defining(eq.lhs.name)) > 1:
        raise unsupported("several 'avg=' equations for one tensor", eq.span)
    if eq.aggregator.reduction != "sum":
        if any(r.relation for r in ir.refs(eq.rhs)):
            raise unsupported(f"'{eq.aggregator.value}' over a relation's tuples", eq.span)
    for ref in (eq.lhs, *ir.refs(eq.rhs)):
        for index in ref.indices:
            if index.virtual:
                raise unsupported("a virtual index (*t)", index.span or ref.span or eq.span)
    lhs = _index_variables(eq.lhs)
    if len(set(lhs)) != len(lhs):
        raise unsupported("a repeated index on the left-hand side", eq.lhs.span or eq.span)


def _joined(factors: tuple[ir.Expr, ...], kept: set[str]) -> list[tuple[ir.Expr, ...]]:
    """``factors`` grouped by the indices outside ``kept`` they share (transitively), each group in their order."""
    groups: list[tuple[set[str], list[int]]] = []
    for k, factor in enumerate(factors):
        summed = set(_variables(factor)) - kept
        joined = [g for g in groups if g[0] & summed]
        merged = (summed.union(*(g[0] for g in joined)), sorted([m for g in joined for m in g[1]] + [k]))
        groups = [g for g in groups if all(g is not j for j in joined)] + [merged]
    return [tuple(factors[m] for m in members) for _, members in sorted(groups, key=lambda g: g[1][0])]


def _summed_with_another(factors: tuple[ir.Expr, ...]) -> set[str]:
    """The variables ``factors`` read in an index together with another variable (``i`` and ``j`` in ``X[i - j]``)."""
    return {v for f in factors for r in ir.refs(f) for i in r.indices if len(i.variables) > 1 for v in i.variables}


def _unbounded(node: ir.Expr, variables: set[str]) -> set[str]:
    """The ``variables`` that ``node``'s reads cannot bound: read only in indices together with another variable that
    no read bounds (``i`` and ``j`` in ``X[i - j, l]``), or not read at all."""
    indices = [i for r in ir.refs(node) for i in r.indices if i.variables]
    bounded: set[str] = set()
    grown = True
    while grown:
        grown = False
        for index in indices:
            left = set(index.variables) - bounded
            if len(left) == 1:
                bounded |= left
                grown = True
    return set(variables) - bounded


def _signed_product(factors: list[Factor]) -> ir.Expr:
    """The product of ``factors`` with literal signs pulled out front (``-(a b)``, never ``a -1 b``, which
    would read back as a subtraction) and literal ones dropped."""
    negative, kept = False, []
    for expr, divides in factors:
        if isinstance(expr, ir.Num) and expr.value < 0:
            negative, expr = not negative, ir.Num(-expr.value)
        if not (isinstance(expr, ir.Num) and expr.value == 1):
            kept.append((expr, divides))
    if not kept or kept[0][1]:
        kept.insert(0, (ir.Num(1.0), False))
    product = kept[0][0] if len(kept) == 1 else ir.Product(tuple(e for e, _ in kept), tuple(d for _, d in kept))
    return ir.Neg(product) if negative else product


class _EquationWalk:
    """The adjoint flowing through one forward equation: the rules' ``Context``."""

    def __init__(self, transform: _Transform, k: int):
        self.t = transform
        self.eq = transform.program.equations[k]
        projection = analyse(self.eq)
        self.summed = projection.summed_at
        self.averaged = projection.reduced if self.eq.aggregator.reduction == "avg" else ()
        """An ``avg=`` equation's indices, averaged over its whole right-hand side: a term lacking one counts once
        per its positions (``X0[i, k]`` once per ``l`` in ``T[i] avg= X0[i, k] + X1[l] X1[l + 1]``)."""
        self.occurrences = list(occurrences(self.eq.rhs))
        self.values: dict[Path, ir.Expr] = {}
        self.equation = self.eq
        """The equation walked (the rules' ``Context``)."""
        self.lifts = _lifts(self.eq, transform.cycle_of(self.eq.lhs.name))
        """Variables that start below or above 0 -> how far the tensors the backward pass materialises over them shift
        them (``_positions``)."""
        self.box = _arithmetic(self.eq) or k in transform.recursive
        """True when the backward equations must carry the forward reads to keep its valid positions."""
        self.windows: ir.Ref | None = None
        """For an equation pooling on its left-hand side, the 0/1 tensor of its whole windows (see ``_windows``)."""
        self.tight = not self.box and _tight(self.eq, transform.program)
        """True when the left-hand side's adjoint (and every tensor this walk makes from it) ranges within the
        forward equation's positions, so that it bounds its indices as a forward read does (see ``tight``)."""
        self.from_adjoint: set[str] = set()
        """Tensors this walk made from the left-hand side's adjoint (see ``adjoints``)."""
        self.stretched_made: set[str] = set()
        """Those of them made from a read of a stretched tensor (``L_val_T3[i, k] = T0[l, k, i]``), as long as it."""
        self.ranges: dict[tuple, ir.Expr] = {}
        """Each range tensor this walk made (see ``_range``), by its positions and right-hand side."""
        self.absorbed: dict[Path, set[str]] = {}
        """Each node whose adjoint this walk made a tensor -> the indices of the factors it was made from: summed
        there (or kept as its own), so that no read below it counts their positions again (see ``_around``)."""
        self.selection: list[Factor] = []
        """For a ``max=``/``min=`` equation, its arg-max indicator and the tensor's tie count (set by the transform)."""

    def run(self) -> None:
        """Emit the contributions of this equation to the adjoints of the active tensors it reads."""
        lhs = self.eq.lhs
        root = [] if lhs.name == self.t.loss else [(_ref(self.t.grad_name(lhs.name), _indices(lhs)), False)]
        if self.eq.aggregator.reduction == "avg":
            root += average(self.eq, _ref(lhs.name, _indices(lhs)), self)
        root += self.selection
        self._descend((), root)

    def _descend(self, path: Path, factors: list[Factor]) -> None:
        if not self.active(path):
            return
        node = ir.node_at(self.eq.rhs, path)
        if isinstance(node, ir.Ref):
            self._contribute(node, factors, path)
            return
        if path in self.summed and isinstance(node, (ir.Power, ir.Call)):
            what = f"{node.function}(...)" if isinstance(node, ir.Call) else "a power"
            raise unsupported(f"{what} summing an index between its arguments", node.span)
        if not self.box and sum(self.active(path + (k,)) for k in range(len(ir.children(node)))) > 1:
            factors = [(self.adjoint(path, factors), False)]    # once, not once per child that reads it
        for k, adjoint in partials(node, path, self, factors):
            self._descend(path + (k,), adjoint)

    def _contribute(self, ref: ir.Ref, factors: list[Factor], path: Path) -> None:
        """Add the product of ``factors`` to ``ref``'s adjoint at the positions ``ref`` (at ``path``) reads: an
        LHS-indexed ``+=`` (``L_grad_X[x+d] += ...``) when the read shifts, pools or convolves. An index summed at
        a node above ``ref`` that neither ``ref`` nor the factors read (``j`` in ``X[i, j] + B[i] + X[i, j]``, summed
        over the whole sum: ``B`` counts once per ``j``) is summed over by a carrier."""
        if any(index.is_constant for index in ref.indices):
            raise unsupported(f"a constant index in a read of {ref.name}", ref.span or self.eq.span)
        variables = _index_variables(ref)
        if len(set(variables)) != len(variables):
            raise unsupported(f"a repeated index in a read of {ref.name} (a diagonal)", ref.span or self.eq.span)
        grad = self.t.grad_name(ref.name)
        first = grad not in self.t.defined
        if first and (self.box or _plain(ref) != variables or self.t.stretched(ref.name)):
            # positions this equation does not read keep X's extent, with 0; so does a tensor written at computed
            # positions, whose own equation reads its adjoint there (L_grad_X[i + k]): an adjoint narrower than X
            # would narrow i and k together, to nothing where it is shorter than k's range
            self.t.zero(ref.name, self.eq)
            first = False
        positions, unit = self._every_window(_indices(ref))
        rhs = self._product(variables, self._carriers(variables, factors, self._around(path)) + factors + unit, ref)
        if first and ref.name in self.t.wrt and not self.t.spans(ref.name, variables, rhs):
            self.t.zero(ref.name, self.eq)          # a narrower tensor bounds an index: X's extent, with 0
        self.t.emit(_ref(grad, positions), rhs, self.eq)

    def _around(self, path: Path) -> tuple[str, ...]:
        """The indices summed at a node above ``path`` that the adjoint flowing to it has not summed yet: a term lacking
        one counts once per its position (``B`` in ``X[i, j] + B[i] + X[i, j]``). An adjoint made a tensor on the way
        sums those its factors read (``k`` in ``X[j, k] W[k] softmax(Y[i, j])``: ``softmax``'s adjoint sums ``X W``
        over ``k``), which must not be counted again."""
        around: dict[str, None] = dict.fromkeys(self.averaged)
        for n in range(len(path)):
            absorbed = self.absorbed.get(path[:n], set())
            around = {v: None for v in around if v not in absorbed} | dict.fromkeys(self.summed.get(path[:n], ()))
        return tuple(around)

    def _every_window(self, indices: tuple[ir.Index, ...]) -> tuple[tuple[ir.Index, ...], list[Factor]]:
        """``indices`` for the left-hand side of a scatter, and the factors it needs. A read ``X[k/2]`` repeats
        ``X``'s last element for a partial window, but ``L_grad_X[k/2] +=`` on the left would keep whole windows
        only, so it is written ``L_grad_X[(k + u)/2] += ... L_unit[u]``, ``u`` ranging over the one position of
        ``L_unit[0] = 1``: a pooled sum of variables keeps every window."""
        pooled = [i for i in indices if i.divisor > 1 and len(i.terms) == 1]
        if not pooled:
            return indices, []
        taken = {v for i in [*self.eq.lhs.indices, *(j for r in ir.refs(self.eq.rhs) for j in r.indices)]
                 for v in i.variables}
        unit = next(f"u{n}" if n else "u" for n in range(len(taken) + 1) if (f"u{n}" if n else "u") not in taken)
        positions = tuple(replace(i, terms=(*i.terms, (unit, 1))) if i in pooled else i for i in indices)
        return positions, [(_ref(self.t.unit(self.eq), (unit,)), False)]

    def _carriers(self, keep: tuple[str, ...], factors: list[Factor], around: tuple[str, ...] = ()) -> list[Factor]:
        """``R^0`` for reads ``R`` of the forward equation, in its order and unless one adds an index of its own,
        so that the backward equation runs over exactly the forward's positions. With index arithmetic (or in a
        recursion) every read carries, so that the extents narrow the indices in the forward's order (valid
        semantics fix ``x`` before ``d`` in ``I[x - d] F[d]``), a read adding an index of its own through a range tensor
        (below); reads of the recursion itself bound nothing.
        Otherwise a read that is not among the factors carries the indices no factor bounds exactly: the left-hand
        side's, in a tight equation, through ``L_grad_Y`` (which can be wider than the forward's range when ``Y`` has
        other equations or shares a domain with a wider tensor); and, where the read is at least as long as the
        domain's input extent, those a factor or an earlier carrier reads from an axis exactly that long
        (``Transform.axes``). A read that may be shorter carries them all (``R0[0] = 1`` beside ``X1[i]`` in
        ``L = X1[i] + R0[i]``: ``i`` stops at 1). A read with an index of its own bounds the others through
        ``L_grad_Y_range[i] max= R[i, j]^0`` (relations too: ``E(i)^0``)."""
        present = set(keep) | {v for e, _ in factors for v in _variables(e)} | set(around)
        read = {r for e, _ in factors for r in ir.refs(e)}
        full, exact = self.t.axes
        tight = set()
        if self.tight:
            tight = {v for r in read if r.name in self.adjoints() | {self.eq.lhs.name} for v in _index_variables(r)} & \
                set(_index_variables(self.eq.lhs))
        bounded = set() if self.box else tight | {v for r in read for v, axis in _axes(r) if axis in exact}
        carriers = []
        for r in dict.fromkeys(ir.refs(self.eq.rhs)):
            own = tuple(dict.fromkeys(_index_variables(r)))
            if r.name in self.t.cycle_of(self.eq.lhs.name) or (not self.box and r in read):
                continue
            narrows = set(own) if self.box else \
                {v for v, axis in _axes(r) if v not in tight and (v not in bounded or axis not in full)}
            if set(own) <= present and narrows:
                carriers.append((ir.Power(r, ir.Num(0.0)), False))
            elif present & narrows:
                shared = tuple(v for v in own if v in present)
                carriers += [(c, False) for c in self._range(r, shared)]
            if not self.box:      # else a later read may narrow an index further: E(j/2) allows j = 1, E(k, j, n) not
                bounded |= {v for v, axis in _axes(r) if axis in exact and v in present}
        if any(i.divisor > 1 for i in self.eq.lhs.indices):
            carriers.append((self._windows(), False))
        return list(dict.fromkeys(carriers))      # a read summing nothing carries itself inside a range as well

    def _windows(self) -> ir.Ref:
        """For a forward equation pooling on its left-hand side (``P[x/2] = ...``), which keeps whole windows only,
        ``L_grad_P_windows[x/2] max= R^0 ...`` over its reads: 1 over the whole windows and no wider, so that the
        backward reads of ``L_grad_P[x/2]`` skip a partial window at the end even where ``P`` (with other equations or
        data) has that position."""
        if self.windows is None:
            lhs = _ref(self.t.names.fresh(f"{self.t.loss}_grad_{self.eq.lhs.name}_windows"), _indices(self.eq.lhs))
            reads = tuple(ir.Power(r, ir.Num(0.0)) for r in dict.fromkeys(ir.refs(self.eq.rhs)))
            rhs = ir.Product(reads, (False,) * len(reads)) if len(reads) > 1 else reads[0] if reads else ONE
            self.t.out.append((ir.Equation(lhs, ir.Aggregator.MAX, rhs, span=self.eq.span),
                               self.t.origin.get(self.eq, self.eq)))
            self.windows = lhs
        return self.windows

    def _range(self, read: ir.Ref, variables: tuple[str, ...]) -> tuple[ir.Expr, ...]:
        """``L_grad_Y_range[variables] max= read^0``: 1 over the positions of ``variables`` that ``read`` allows. With
        index arithmetic the reads bound the indices together and in order (``E(j/2) F(j, n)`` narrows ``j`` twice;
        ``Y[w + u] Y[u]`` bounds ``u`` before ``w``), so there it reads every forward read (``in_range``) but those of
        the recursion itself, one tensor per group of reads joined by an index not in ``variables`` or by one that an
        index ties to another (``X2[i - j, l']^0`` bounds ``i`` only after ``X3[j]^0`` bounds ``j``: they are one
        group; the maximum of a product of 0/1 factors over disjoint indices is the product of their maxima, and no
        product over every read's indices is built); a read summing nothing is its own ``read^0``. One tensor per
        distinct definition in the walk.
        The indices of a read not in ``variables`` are summed apart from the adjoint (else they would be among them), in
        a term of their own: an empty range of theirs leaves ``variables`` their positions there, with value 0
        (``T0[l, j] + X1[i]`` keeps ``j`` over T0's extent where T0 has no ``l``), so the range is that extent,
        ``L_grad_Y_range[j] = T0[l', j]^0`` (a lone carrier counts no index of its own: 1 over the term's positions, 0
        at the tensor's others); only indices that index arithmetic ties to ``variables`` (``u`` in ``Y[j + u] Y[u]``)
        bound them by the positions they allow together (``max=``)."""
        reads = [r for r in dict.fromkeys(ir.refs(self.eq.rhs)) if r.name not in self.t.cycle_of(self.eq.lhs.name)]
        carriers = in_range(tuple(reads), variables) if self.box else (ir.Power(read, ir.Num(0.0)),)
        forward = set(_variables(self.eq.rhs)) if self.box else set()
        ranges = []
        for group in _joined(carriers, set(variables) - _summed_with_another(carriers)):
            present = {v for c in group for v in _variables(c)}
            ranges.append(group[0] if len(group) == 1 and present <= set(variables) else
                          self._range_tensor(tuple(v for v in variables if v in present), group,
                                             tied=bool((present - set(variables)) & forward)))
        return tuple(ranges)

    def _range_tensor(self, variables: tuple[str, ...], carriers: tuple[ir.Expr, ...], tied: bool) -> ir.Expr:
        """``L_grad_Y_range[variables] max=`` the product of ``carriers`` when indices ``tied`` to ``variables`` join
        them, else ``L_grad_Y_range[variables] = ...`` (see ``_range``); made once per definition in the walk. Its value
        is 1 over the positions the carriers allow and 0 at the tensor's others, which a carrier reading ``variables``
        from above the first position leaves (``X[i - 1, l']^0`` allows no ``i = 0``, ``X[i - j, l']^0`` no ``i < j``),
        so there it is read as it is; elsewhere the tensor's positions are the carriers' own, and it is read as a
        carrier, ``L_grad_Y_range[variables]^0``, which the planner may leave out (``tlc.driver.carriers``)."""
        rhs = _signed_product([(c, False) for c in carriers])
        positions = self._positions(variables)
        if (positions, rhs) not in self.ranges:
            name = self.t.names.fresh(f"{self.t.loss}_grad_{self.eq.lhs.name}_range")
            aggregator = ir.Aggregator.MAX if tied else ir.Aggregator.SUM
            self.t.out.append((ir.Equation(_ref(name, positions), aggregator, rhs, span=self.eq.span),
                               self.t.origin.get(self.eq, self.eq)))
            ref = _ref(name, positions)
            whole = all(_from_first(i, self.lifts) for c in carriers for r in ir.refs(c) for i in r.indices
                        if set(i.variables) & set(variables))
            self.ranges[positions, rhs] = ir.Power(ref, ir.Num(0.0)) if whole and not tied else ref
        return self.ranges[positions, rhs]

    def _positions(self, variables: tuple[str | ir.Index, ...]) -> tuple[str | ir.Index, ...]:
        """``variables`` as the indices of a tensor the backward pass materialises, each variable that starts below 0
        lifted (``l`` read only as ``X[l + 1]`` runs from -1: ``L_val_Y[l + 1]``) so that no position is lost, and each
        that starts above 0 lowered (``X[l - 1]``: ``L_val_Y[l - 1]``) so that none lies before its start."""
        return tuple(ir.Index(((v, 1),), self.lifts[v]) if isinstance(v, str) and v in self.lifts else v
                     for v in variables)

    def _product(self, keep: tuple[str, ...], factors: list[Factor], carrier: ir.Expr | None) -> ir.Expr:
        """The product of ``factors`` summed over every index not in ``keep``. A compound factor or a divisor
        holding an index no other factor has is materialised first (else projection would sum that index
        inside it); ``carrier ^ 0`` supplies the extent of any kept index no factor reads."""
        safe: list[Factor] = []
        for j, (expr, divides) in enumerate(factors):
            others = {v for i, (e, _) in enumerate(factors) if i != j for v in _variables(e)}
            own = _variables(expr)
            if (divides or not isinstance(expr, ir.Ref)) and set(own) - set(keep) - others:
                body = ir.Product((ir.Num(1.0), expr), (False, True)) if divides else expr
                expr = self._materialise(f"{self.t.loss}_grad_{self.eq.lhs.name}_f", own, self._bounded(set(own), body))
                divides = False
            safe.append((expr, divides))
        present = {v for e, _ in safe for v in _variables(e)}
        if set(keep) - present:
            safe.append((ir.Power(carrier, ir.Num(0.0)), False))
        return _signed_product(safe)

    def _materialise(self, base: str, variables: tuple[str | ir.Index, ...], rhs: ir.Expr) -> ir.Ref:
        """A new tensor ``base[variables] = rhs`` (dotted where ``rhs`` normalises), read back plainly."""
        name = self.t.names.fresh(base)
        axes = {a for n in ir.walk(rhs) if isinstance(n, ir.Call) for a in n.axes}
        positions = self._positions(variables)
        self.t.emit(_ref(name, positions, axes), rhs, self.eq)
        if any(r.name in self.adjoints() for r in ir.refs(rhs)):
            self.from_adjoint.add(name)
        if any(self._stretched(r.name) for r in ir.refs(rhs)):
            self.stretched_made.add(name)
        return _ref(name, positions)

    def adjoints(self) -> set[str]:
        """The left-hand side's adjoint and the tensors this walk made from it: in a tight equation they range over
        exactly the forward's positions of the left-hand side's indices."""
        return self.from_adjoint | {self.t.grad_names.get(self.eq.lhs.name)}

    def _stretched(self, tensor: str) -> bool:
        """``Transform.stretched`` for a forward tensor, and for a tensor this walk made from a read of one."""
        return tensor in self.stretched_made or self.t.stretched(tensor)

    # The rules' Context.

    def active(self, path: Path) -> bool:
        """True when the node at ``path`` reads a tensor on the way from a ``wrt`` tensor to the loss."""
        return any(r.name in self.t.active for r in ir.refs(ir.node_at(self.eq.rhs, path)))

    def free(self, path: Path) -> tuple[str, ...]:
        """Indices occurring under ``path`` and not summed at or under it: the left-hand side's in its order (so
        that tensors made from the node are laid out as the forward's), then the others in order of first occurrence."""
        inside = [v for p, v in self.occurrences if p[:len(path)] == path]
        summed = {v for p, vs in self.summed.items() if p[:len(path)] == path for v in vs}
        free = dict.fromkeys(v for v in inside if v not in summed)
        lhs = [v for v in _index_variables(self.eq.lhs) if v in free]
        return tuple(dict.fromkeys(lhs + list(free)))

    def value(self, path: Path) -> ir.Expr:
        """The node itself when it sums nothing and is a reference, reads no tensor, or uses an index as a number
        that none of its reads bounds (``j w X[j]``: a tensor of its own would have no extent for ``w``); the
        left-hand side for a sole definition's whole right-hand side (unless it pools, ``P[x/2]``, or adds indices,
        ``P[i + j]``, which sum several of them); else a materialised ``L_val_Y`` tensor."""
        node = ir.node_at(self.eq.rhs, path)
        sums = any(p[:len(path)] == path for p in self.summed)
        read = {v for r in ir.refs(node) for v in _index_variables(r)}
        unbounded = any(isinstance(n, ir.IndexValue) and n.name not in read for n in ir.walk(node))
        if not sums and (isinstance(node, ir.Ref) or not ir.refs(node) or unbounded):
            return node
        lhs = self.eq.lhs
        if not path and len(self.t.program.defining(lhs.name)) == 1 and self.eq.aggregator.reduction == "sum" \
                and () not in self.summed and all(i.divisor == 1 and len(i.terms) <= 1 for i in lhs.indices):
            return _ref(lhs.name, _indices(lhs))
        if path not in self.values:
            self.values[path] = self._materialise(f"{self.t.loss}_val_{lhs.name}", self.free(path),
                                                  self._bounded(set(self.free(path)),
                                                                self._normalised_in_place(path, node)))
        return self.values[path]

    def _bounded(self, own: set[str], node: ir.Expr) -> ir.Expr:
        """``node``, to be a tensor over ``own``, times ``R^0`` for a read ``R`` of the forward (or its left-hand side)
        over indices in ``own`` that bounds an index the node uses only as a number (``X[i] + u`` summing ``i``: ``u``
        has no extent), or a range tensor over them for a read with indices of its own (``X1[k] i`` beside
        ``E0(i, j, k)``)."""
        read = {v for r in ir.refs(node) for v in _index_variables(r)}
        loose = {n.name for n in ir.walk(node) if isinstance(n, ir.IndexValue)} - read
        tied = _unbounded(node, own) - loose
        reads = tuple(dict.fromkeys([_ref(self.eq.lhs.name, _indices(self.eq.lhs)), *ir.refs(self.eq.rhs)]))
        bounds: list[ir.Expr] = []
        for r in reads:
            if loose & set(_index_variables(r)) and set(_index_variables(r)) <= own:
                bounds.append(ir.Power(r, ir.Num(0.0)))
                loose -= set(_index_variables(r))
        for r in reads:
            if loose & set(_index_variables(r)):
                bounds += self._range(r, tuple(v for v in dict.fromkeys(_index_variables(r)) if v in own))
                loose -= set(_index_variables(r))
        first = next((r for r in reads if tied & set(_index_variables(r))), None)
        if first is not None:
            bounds += self._range(first, tuple(v for v in dict.fromkeys(_variables(node)) if v in tied))
        return ir.Product((node, *bounds), (False,) * (1 + len(bounds))) if bounds else node

    def _normalised_in_place(self, path: Path, node: ir.Expr) -> ir.Expr:
        """``node`` (at ``path``) with the argument of each ``softmax``/``lnorm`` in it times ``R^0`` for the forward's
        left-hand side and other reads over the call's own indices, so that a materialised value normalises over the
        forward equation's positions (``lnorm(X[j, k]) W[j, k + 1]`` normalises ``k`` below W's end), not its own."""
        if isinstance(node, ir.Call) and node.axes:
            own = set(self.free(path))
            inside = set(ir.refs(node))
            reads = dict.fromkeys([_ref(self.eq.lhs.name, _indices(self.eq.lhs)), *ir.refs(self.eq.rhs)])
            bounds = tuple(ir.Power(r, ir.Num(0.0)) for r in reads
                           if r not in inside and set(_index_variables(r)) <= own)
            if bounds:
                arg = ir.Product((node.args[0], *bounds), (False,) * (1 + len(bounds)))
                return replace(node, args=(arg, *node.args[1:]))
            return node
        kids = ir.children(node)
        return ir.with_children(node, tuple(self._normalised_in_place(path + (k,), c) for k, c in enumerate(kids))) \
            if kids else node

    def adjoint(self, path: Path, factors: list[Factor]) -> ir.Ref:
        """The adjoint of the node at ``path`` as a tensor over its free indices (``L_grad_Y_d`` unless it is one)."""
        variables = self.free(path)
        present = {v for e, _ in factors for v in _variables(e)}
        self.absorbed[path] = present
        if len(factors) == 1 and isinstance(factors[0][0], ir.Ref) and not factors[0][1] \
                and None not in _plain(factors[0][0]) \
                and sorted(_plain(factors[0][0])) == sorted(variables):     # in any order: no transposed copy
            return factors[0][0]
        carriers = self._carriers(variables, factors)   # indices summed away run over the forward's positions only
        rhs = self._product(variables, carriers + factors, self.value(path) if set(variables) - present else None)
        return self._materialise(f"{self.t.loss}_grad_{self.eq.lhs.name}_d", variables, rhs)

    def materialise(self, suffix: str, variables: tuple[str | ir.Index, ...], rhs: ir.Expr) -> ir.Ref:
        """A new tensor ``L_grad_Y_<suffix>[variables] = rhs``, read back plainly."""
        return self._materialise(f"{self.t.loss}_grad_{self.eq.lhs.name}_{suffix}", variables, rhs)

    def rewritable(self, path: Path) -> bool:
        """True when the node at ``path`` is the whole right-hand side of a forward equation of the source that alone
        defines its left-hand side over the equation's own positions (``tight``), each of whose variables a read
        indexes plainly: ``rewrite`` may then give it another right-hand side equal to this one."""
        read = {v for r in ir.refs(self.eq.rhs) for v in _plain(r) if v}
        return not path and self.tight and self.t.origin.get(self.eq) == self.eq \
            and set(_index_variables(self.eq.lhs)) <= read

    def rewrite(self, rhs: ir.Expr) -> None:
        """Compute the walked (``rewritable``) equation's left-hand side as ``rhs``, equal to its right-hand side."""
        self.t.rewritten[self.eq] = replace(self.eq, lhs=_ref(self.eq.lhs.name, _indices(self.eq.lhs)), rhs=rhs)
