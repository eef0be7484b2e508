"""Consecutive plain strata whose equations have one elementwise shape, computed as one: each operand's arrays laid
end to end (``rt.flat``), the shared expression evaluated once over them, the result cut back into the tensors
(``rt.split``, views of it).

A training step's optimiser update is such a run (``tlc.train.optimisers`` writes its equations kind by kind): Adam
on a transformer block's eight tensors is 24 equations of three shapes, ~130 small NumPy calls one tensor at a time
and ~20 batched. A member (``member``) is a stratum of one sum equation assigned whole (``stores_whole``), depending
on an input, whose right-hand side reads only tensors of its left-hand side's extents at exactly its indices, through
numbers, scalars, +, -, *, /, powers by a non-zero number and elementwise functions (``shape_key``); a run
(``run_length``) is members of one shape, none reading another's tensor. The shared expression is the first
member's, rendered by the backend's ``ArrayExpression`` with each read replaced by its operand's flat array, so each
element goes through the same operations, in the same order, as the member's own code would put it (the same
numbers, bit for bit); that code is checked to be elementwise (``elementwise_code``), else the run is emitted stratum
by stratum. An operand already laid flat in the module (a run's result, or the same tensors read again) is reused.
"""

from __future__ import annotations

import ast

from tlc.analysis.projection import analyse
from tlc.analysis.strata import Mode, Stratum
from tlc.backends.shared.arrays import ELEMENTWISE_CODE, Bound, tuple_code
from tlc.backends.shared.constants import candidate
from tlc.backends.shared.quoting import comment, equation_comments, identifier, literal
from tlc.ir import nodes as ir

CALLS = {"np": frozenset({"sqrt", "square", "divide", "multiply", "add", "subtract", "negative", "power", "exp",
                          "log", "tanh", "abs", "sin", "cos", "array"}),
         "rt": frozenset({"step", "relu", "sig", "negate"})}
"""The functions elementwise code may call (``np.array`` only to copy a flat operand)."""
NUMBERS = frozenset({"inf", "nan"})
"""NumPy's numbers that ``literal`` writes as ``np.inf`` and ``np.nan``."""
OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub, ast.UAdd)


def shape_key(eq: ir.Equation, extents: dict[str, tuple[int, ...]]) -> tuple | None:
    """The elementwise shape of ``eq`` (its right-hand side with the tensors it reads left out), or None when it is
    not a sum over a left-hand side of distinct plain indices whose every read is of the same extents at exactly
    those indices, through elementwise operations only."""
    variables = tuple(index.plain_variable for index in eq.lhs.indices)
    if eq.aggregator.reduction != "sum" or eq.fact or eq.lhs.relation or not variables or None in variables \
            or len(set(variables)) != len(variables):
        return None
    key = _key(eq.rhs, variables, extents[eq.lhs.name], extents)
    return key if key is not None and any(isinstance(node, ir.Ref) for node in ir.walk(eq.rhs)) else None


def _key(node: ir.Expr, variables: tuple[str, ...], shape: tuple[int, ...], extents) -> tuple | None:
    parts = [_key(child, variables, shape, extents) for child in ir.children(node)]
    if None in parts:
        return None
    if isinstance(node, ir.Ref):
        reads = not node.relation and extents.get(node.name) == shape and \
            tuple(index.plain_variable for index in node.indices) == variables
        return ("ref",) if reads else None
    if isinstance(node, ir.Num):
        return ("num", node.value)
    if isinstance(node, ir.Scalar):
        return ("scalar", node.name)
    if isinstance(node, (ir.Sum, ir.Product, ir.Neg)):
        return (type(node).__name__, getattr(node, "signs", getattr(node, "inverted", ())), *parts)
    if isinstance(node, ir.Power) and isinstance(node.exponent, ir.Num) and node.exponent.value != 0:
        return ("power", *parts)
    if isinstance(node, ir.Call) and node.function in ELEMENTWISE_CODE and len(node.args) == 1 \
            and node.axis is None and not node.extra_axes:
        return ("call", node.function, *parts)
    return None


def member(emitter, position: int) -> tuple | None:
    """The shape (``shape_key``) of the stratum at ``position`` when it may join a run, else None."""
    stratum: Stratum = emitter.strata[position]
    if stratum.mode is not Mode.PLAIN or len(stratum.tensors) != 1 or len(stratum.equations) != 1 \
            or emitter.plan.strata[position].relational or not emitter.stores_whole(stratum.tensors[0]) \
            or candidate(emitter.program, stratum.tensors, stratum.equations, emitter.inputs, emitter.constants):
        return None
    eq = emitter.program.equations[stratum.equations[0]]
    if any(ref.name in emitter.ones for ref in ir.refs(eq.rhs)):
        return None
    return shape_key(eq, emitter.shapes.extents)


def run_length(emitter, position: int) -> int:
    """How many strata from ``position`` on make one run: members of one shape, none reading another's tensor."""
    key = member(emitter, position)
    if key is None:
        return 0
    defined = {emitter.strata[position].tensors[0]}
    end = position + 1
    while end < len(emitter.strata) and member(emitter, end) == key:
        eq = emitter.program.equations[emitter.strata[end].equations[0]]
        if any(ref.name in defined for ref in ir.refs(eq.rhs)):
            break
        defined.add(emitter.strata[end].tensors[0])
        end += 1
    return end - position


def emit_run(emitter, position: int, length: int) -> bool:
    """Append the code computing the run of ``length`` strata from ``position`` to ``emitter.lines`` as one
    elementwise computation; False (nothing appended) when its code is not elementwise."""
    strata = emitter.strata[position:position + length]
    numbers = [s.equations[0] for s in strata]
    equations = [emitter.program.equations[k] for k in numbers]
    paths = [path for path, node in ir.with_paths(equations[0].rhs) if isinstance(node, ir.Ref)]
    operands = [tuple(ir.node_at(eq.rhs, path).name for eq in equations) for path in paths]
    flats, lines = {}, []
    for names in dict.fromkeys(operands):
        flats[names] = emitter.flat.get(names) or emitter.fresh()
        if names not in emitter.flat:
            lines.append(f"{flats[names]} = rt.flat({tuple_code(identifier(n) for n in names)})")
    bounds = {v: Bound(lo, hi - lo) for v, (lo, hi) in emitter.shapes.ranges.get(numbers[0], {}).items()}
    body = emitter.EXPRESSION(emitter, numbers[0], bounds, {p: flats[o] for p, o in zip(paths, operands)},
                              analyse(equations[0]))
    emitter.mode, emitter.batching = Mode.PLAIN, True
    try:
        value = body.expr(equations[0].rhs, ())
    finally:
        emitter.batching = False
    result = emitter.fresh()
    code = f"np.array({value.code})" if value.code in flats.values() else value.code   # (never shared)
    computed = [*body.out, f"{result} = {code}"]
    if not elementwise_code(computed, set(flats.values()) | {identifier(s) for s in emitter.program.scalars}):
        return False
    tensors = [s.tensors[0] for s in strata]
    shapes = tuple(emitter.shapes.extents[t] for t in tensors)
    emitter.lines.append(comment(f"strata {position + 1}-{position + length}: {', '.join(tensors)} (plain, "
                                 f"computed as one over their elements end to end)"))
    for k, eq in zip(numbers, equations):
        emitter.lines.extend(equation_comments(eq, emitter.program.filename))
        emitter.note(k, f"NumPy: computed as one with strata {position + 1}-{position + length} (their elements end "
                        f"to end)")
    emitter.lines += [*lines, *computed,
                      f"{', '.join(identifier(t) for t in tensors)} = rt.split({result}, {literal(shapes)})"]
    emitter.flat.update({names: flats[names] for names in operands})
    emitter.flat[tuple(tensors)] = result
    return True


def elementwise_code(lines: list[str], known: set[str]) -> bool:
    """True when ``lines`` are assignments to names computed by ``CALLS`` (no keyword) and ``OPERATORS`` from numbers,
    ``known`` names and names assigned before: code that works on arrays of any shape, element by element."""
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return False
    known = set(known)
    for statement in tree.body:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)):
            return False
        if not all(_elementwise(node, known) for node in ast.walk(statement.value)):
            return False
        known.add(statement.targets[0].id)
    return True


def _elementwise(node: ast.AST, known: set[str]) -> bool:
    if isinstance(node, ast.Call):
        function = node.func
        return not node.keywords and isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name) \
            and function.attr in CALLS.get(function.value.id, ())
    if isinstance(node, ast.Attribute):     # (a called function, checked above, or a number)
        return isinstance(node.value, ast.Name) and \
            (node.attr in CALLS.get(node.value.id, ()) or node.value.id == "np" and node.attr in NUMBERS)
    if isinstance(node, ast.Name):
        return node.id in known or node.id in CALLS
    if isinstance(node, ast.Constant):
        return isinstance(node.value, float) or type(node.value) is int
    return isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Load, *OPERATORS))
