"""Pass ``attention``: fuse softmax attention written as two equations into one ``Attention`` node.

Recognised, with batch and head indices in any positions and any index names:

    Comp[.., p, p'.] = softmax(Q[.., p, d] K[.., p', d] [/ c] [+ mask] [- C step(p' - p)])
    Out[.., p, e]    = Comp[.., p, p'] V[.., p', e]

and the three-way (Alman–Song tensor attention) form with two keys, a joint softmax and two values:

    Comp[p, p1., p2.] = softmax(Q[p, d] K1[p1, d] K2[p2, d] [/ c] [+ mask])
    Out[p, e]         = Comp[p, p1, p2] V1[p1, e] V2[p2, e]

The scale is any index-free factor of the score product; the mask any further terms over the batch,
query and key indices; ``- C step(p' - p)`` marks a causal mask (two-way only). ``Comp`` is fused away
only when it is not a result (see ``Program.outputs``), is read by that one equation only and has no
shape declaration; ``find`` reports every candidate, fused or not, with the reason, for ``explain``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from tlc.ir import nodes as ir
from tlc.ir.program import Program
from tlc.analysis.strata import stratify


@dataclass(frozen=True, slots=True)
class Candidate:
    """A softmax equation shaped like attention scores, and what became of it."""

    scores: int
    """Number of the equation defining the scores (``Comp``)."""
    out: int | None
    """Number of the equation contracting them with the values, when there is one."""
    node: ir.Attention | None
    """The fused node, when the pattern matched (even if it was not applied)."""
    reason: str
    """Why it was fused, or why not."""

    @property
    def fused(self) -> bool:
        """True when the pass replaced the two equations by the node."""
        return self.node is not None and self.reason.startswith("fused")


class _Miss(Exception):
    """The pattern does not match; the message says where."""


def find(program: Program) -> list[Candidate]:
    """Every softmax equation that reads like attention scores and is consumed by another equation."""
    recursive = {t for s in stratify(program) if s.recursive for t in s.tensors}
    found = []
    for k, eq in enumerate(program.equations):
        if not (isinstance(eq.rhs, ir.Call) and eq.rhs.function == "softmax"):
            continue
        readers = [j for j, other in enumerate(program.equations)
                   for ref in ir.refs(other.rhs) if ref.name == eq.lhs.name]
        if not readers:
            continue
        try:
            scores = _scores(program, k, recursive)
            out, node = _combine(program, k, readers, scores)
            if program.equations[out].lhs.name in recursive:
                raise _Miss(f"{program.equations[out].lhs.name} is recursive")
        except _Miss as why:
            found.append(Candidate(k, readers[0], None, f"not attention: {why}"))
            continue
        name = eq.lhs.name
        if program.is_result(name):
            how = ("it is queried" if program.outputs is not None else "every defined tensor is a result by default")
            found.append(Candidate(k, out, node, f"attention recognised but not fused: {name} is a result ({how}); "
                                                 f"compile with outputs=[...] (CLI --output NAME) not listing {name} "
                                                 f"to fuse it"))
        else:
            found.append(Candidate(k, out, node, f"fused: {name} is not materialised"))
    return found


def attention(program: Program) -> Program:
    """Replace softmax attention (two-way and three-way) by fused Attention nodes."""
    fused = [c for c in find(program) if c.fused]
    if not fused:
        return program
    drop = {c.scores for c in fused}
    new_rhs = {c.out: c.node for c in fused}
    statements, k = [], 0
    for stmt in program.statements:
        if isinstance(stmt, ir.Equation):
            if k in new_rhs:
                stmt = replace(stmt, rhs=new_rhs[k])
            if k not in drop:
                statements.append(stmt)
            k += 1
        else:
            statements.append(stmt)
    return replace(program, statements=tuple(statements))


# ---------------------------------------------------------------- the scores equation
@dataclass(frozen=True)
class _Scores:
    lhs: tuple[str, ...]
    query: ir.Ref
    keys: tuple[ir.Ref, ...]
    key_axes: tuple[str, ...]
    query_axis: str
    feature_axis: str
    batch: tuple[str, ...]
    scale: ir.Expr | None
    mask: ir.Expr | None
    causal: ir.Expr | None


def _plain(ref: ir.Ref, what: str) -> tuple[str, ...]:
    """The variables of a reference whose every index is a distinct plain variable."""
    names = tuple(i.plain_variable for i in ref.indices)
    if ref.relation or None in names or len(set(names)) != len(names):
        raise _Miss(f"{what} {ref.name} must be a tensor read at distinct plain indices")
    return names


def _index_free(expr: ir.Expr) -> bool:
    return not any((isinstance(n, ir.Ref) and n.indices) or isinstance(n, ir.IndexValue) for n in ir.walk(expr))


def _variables(expr: ir.Expr) -> set[str]:
    found = {v for n in ir.walk(expr) if isinstance(n, ir.Ref) for i in n.indices for v in i.variables}
    return found | {n.name for n in ir.walk(expr) if isinstance(n, ir.IndexValue)}


def _flatten(product: ir.Product) -> list[tuple[ir.Expr, bool]]:
    factors = []
    for factor, inverted in zip(product.factors, product.inverted):
        if isinstance(factor, ir.Product) and not inverted:
            factors.extend(_flatten(factor))
        else:
            factors.append((factor, inverted))
    return factors


def _causal_term(term: ir.Expr, sign: int) -> tuple[ir.Expr, tuple[str, str]] | None:
    """``(C, (key, query))`` for a term ``- C step(key - query)``, else None."""
    if isinstance(term, ir.Neg):
        term, sign = term.operand, -sign
    factors = _flatten(term) if isinstance(term, ir.Product) else [(term, False)]
    steps = [f for f, inv in factors if isinstance(f, ir.Call) and f.function == "step" and not inv]
    if sign > 0 or len(steps) != 1:
        return None
    arg = steps[0].args[0]
    if not (isinstance(arg, ir.Sum) and arg.signs == (1, -1) and all(isinstance(t, ir.IndexValue) for t in arg.terms)):
        return None
    rest = [(f, inv) for f, inv in factors if f is not steps[0]]
    if not all(_index_free(f) for f, _ in rest):
        return None
    if len(rest) == 1 and not rest[0][1]:
        penalty = rest[0][0]
    else:
        penalty = ir.Product(tuple(f for f, _ in rest), tuple(i for _, i in rest)) if rest else ir.Num(1.0)
    return penalty, (arg.terms[0].name, arg.terms[1].name)


def _scores(program: Program, k: int, recursive: set[str]) -> _Scores:
    eq = program.equations[k]
    name = eq.lhs.name
    if name in recursive:
        raise _Miss(f"{name} is recursive")
    if len(program.defining(name)) != 1 or eq.aggregator is not ir.Aggregator.SUM:
        raise _Miss(f"{name} must be defined by one '=' equation")
    if name in program.shapes:
        raise _Miss(f"{name} has a shape declaration")
    lhs = _plain(eq.lhs, "the scores")
    keys_axes = eq.rhs.axes
    arg = eq.rhs.args[0]
    terms = list(zip(arg.terms, arg.signs)) if isinstance(arg, ir.Sum) else [(arg, 1)]
    products = [(t, s) for t, s in terms if isinstance(t, ir.Product)
                and sum(isinstance(f, ir.Ref) and bool(f.indices) for f, _ in _flatten(t)) >= 2]
    if len(products) != 1 or products[0][1] < 0:
        raise _Miss("the softmax argument needs one added product of a query and key tensors")
    product = products[0][0]
    factors = _flatten(product)
    tensors = [f for f, inv in factors if isinstance(f, ir.Ref) and f.indices and not inv]
    constants = [(f, inv) for f, inv in factors if not (isinstance(f, ir.Ref) and f.indices and not inv)]
    if not all(_index_free(f) for f, _ in constants):
        raise _Miss("the score product may hold only tensors and index-free factors")
    if len(tensors) != 1 + len(keys_axes) or len(keys_axes) > 2:
        raise _Miss(f"a softmax over {len(keys_axes)} ax{'es' if len(keys_axes) > 1 else 'is'} needs a query and "
                    f"{len(keys_axes)} key tensor{'s' if len(keys_axes) > 1 else ''} in the score product")
    variables = {r.name: _plain(r, "the score operand") for r in tensors}
    features = set.intersection(*(set(variables[r.name]) for r in tensors)) - set(lhs)
    summed = {v for r in tensors for v in variables[r.name]} - set(lhs)
    if len(features) != 1 or summed != features:
        raise _Miss("the query and keys must share exactly one summed (feature) index")
    feature = features.pop()
    keys, query = [], []
    for r in tensors:
        own = [a for a in keys_axes if a in variables[r.name]]
        if len(own) > 1:
            raise _Miss(f"{r.name} holds two key indices")
        (keys if own else query).append((own[0] if own else None, r))
    if len(query) != 1:
        raise _Miss("the softmax axes are not the key indices of the score product: "
                    f"{', '.join(keys_axes)} must each index one key tensor, and a query tensor none")
    query_ref = query[0][1]
    keys = sorted(keys, key=lambda pair: keys_axes.index(pair[0]))
    causal, mask_terms = None, []
    for term, sign in terms:
        if term is product:
            continue
        found = _causal_term(term, sign)
        if found is not None and causal is None and len(keys_axes) == 1 and found[1][0] == keys_axes[0]:
            causal = found
        else:
            mask_terms.append((term, sign))
    key_only = {v for _, r in keys for v in variables[r.name]}
    candidates = [v for v in lhs if v in variables[query_ref.name] and v not in key_only and v not in keys_axes]
    query_axis = causal[1][1] if causal else (candidates[-1] if candidates else None)
    if query_axis not in candidates:
        raise _Miss("no query index: the query tensor needs an index of the scores that no key has")
    batch = tuple(v for v in lhs if v not in keys_axes and v != query_axis)
    for axis, ref in keys:
        if not set(variables[ref.name]) <= set(batch) | {axis, feature}:
            raise _Miss(f"the key {ref.name} may hold only batch indices, its key index and {feature}")
    allowed = set(batch) | {query_axis, *keys_axes}
    for term, _ in mask_terms:
        if not _variables(term) <= allowed:
            raise _Miss("a mask term may use only the batch, query and key indices of the scores")
    mask = None
    if mask_terms:
        mask = ir.Sum(tuple(t for t, _ in mask_terms), tuple(s for _, s in mask_terms)) if len(mask_terms) > 1 \
            else (mask_terms[0][0] if mask_terms[0][1] > 0 else ir.Neg(mask_terms[0][0]))
    scale = ir.Product(tuple(f for f, _ in constants), tuple(i for _, i in constants)) if constants else None
    return _Scores(lhs, query_ref, tuple(r for _, r in keys), tuple(keys_axes), query_axis, feature, batch, scale,
                   mask, causal[0] if causal else None)


# ---------------------------------------------------------------- the equation reading the scores
def _combine(program: Program, k: int, readers: list[int], scores: _Scores) -> tuple[int, ir.Attention]:
    name = program.equations[k].lhs.name
    if len(readers) != 1:
        lines = sorted({program.equations[j].span.line for j in readers if program.equations[j].span})
        raise _Miss(f"{name} is read {len(readers)} times (line{'s' if len(lines) > 1 else ''} "
                    f"{', '.join(map(str, lines))}); attention needs one reader")
    j = readers[0]
    eq = program.equations[j]
    if eq.fact or eq.aggregator.reduction != "sum" or not isinstance(eq.rhs, ir.Product) or any(eq.rhs.inverted):
        raise _Miss(f"{eq.lhs.name} must sum a product of {name} and the values")
    comp = [f for f in eq.rhs.factors if isinstance(f, ir.Ref) and f.name == name]
    values = [f for f in eq.rhs.factors if not (isinstance(f, ir.Ref) and f.name == name)]
    if len(comp) != 1 or len(values) != len(scores.keys) or not all(isinstance(v, ir.Ref) for v in values):
        raise _Miss(f"{eq.lhs.name} must be {name} times {len(scores.keys)} value tensor"
                    f"{'s' if len(scores.keys) > 1 else ''} and nothing else")
    rename = dict(zip(scores.lhs, _plain(comp[0], "the scores read")))
    out_vars = _plain(eq.lhs, "the output")
    key_axes = tuple(rename[a] for a in scores.key_axes)
    query_axis, batch = rename[scores.query_axis], tuple(rename[b] for b in scores.batch)
    ordered = []
    for axis in key_axes:
        holding = [v for v in values if axis in _plain(v, "the value")]
        if len(holding) != 1:
            raise _Miss(f"the softmax normalises over {axis}, but {eq.lhs.name} does not sum {name} against one "
                        f"value tensor over it; the softmax axis must be the key index")
        ordered.append(holding[0])
    rest = set(out_vars) - set(batch) - {query_axis}
    if set(key_axes) & set(out_vars) or len(rest) != 1 or not {query_axis, *batch} <= set(out_vars):
        raise _Miss(f"{eq.lhs.name} must keep the batch and query indices, sum the key indices and add one value index")
    value_axis = rest.pop()
    for axis, v in zip(key_axes, ordered):
        if value_axis not in _plain(v, "the value") or not set(_plain(v, "the value")) <= set(batch) | {axis, value_axis}:
            raise _Miss(f"the value {v.name} may hold only batch indices, its key index and {value_axis}")
    taken = set(_variables(eq.rhs)) | set(out_vars)
    feature = scores.feature_axis
    while feature in taken:
        feature += "'"
    rename[scores.feature_axis] = feature
    node = ir.Attention(
        scores=_normalised(comp[0], set(key_axes)), query=_rename(scores.query, rename),
        keys=tuple(_rename(r, rename) for r in scores.keys), values=tuple(ordered), query_axis=query_axis,
        key_axes=key_axes, feature_axis=feature, value_axis=value_axis, batch_axes=batch,
        scale=_rename(scores.scale, rename), mask=_rename(scores.mask, rename),
        causal_penalty=_rename(scores.causal, rename), span=eq.rhs.span)
    return j, node


def _normalised(ref: ir.Ref, axes: set[str]) -> ir.Ref:
    return replace(ref, indices=tuple(replace(i, normalised=i.plain_variable in axes) for i in ref.indices))


def _rename(expr: ir.Expr | None, names: dict[str, str]) -> ir.Expr | None:
    """``expr`` (an optional part of the node) with index variables renamed."""
    return None if expr is None else ir.rename_variables(expr, names)


def explain_attention(program: Program, opt_level: int, reports=(), runs=None) -> list[str]:
    """Explain lines: each attention candidate and its fate, the fused form, and how the last call ran;
    ``runs(node, tolerance)``, when given, says how the chosen backend runs a fused node."""
    candidates = find(program)
    if not candidates:
        return []
    lines = ["attention:"]
    for c in candidates:
        eqs = [program.equations[c.scores]] + ([program.equations[c.out]] if c.out is not None else [])
        where = "lines " + ", ".join(str(e.span.line) for e in eqs if e.span)
        reason = c.reason
        if c.fused and opt_level < 1:
            reason = "attention recognised but not fused: the attention pass runs at -O1 and above"
        lines.append(f"  {where}: {reason}")
        if c.node is None:
            continue
        lines.append(f"    as one node: {eqs[-1].lhs.name} = {describe(c.node)}")
        if c.fused and opt_level >= 1:
            lines.append(f"    {runs(c.node, program.tolerance)}" if runs is not None else
                         "    runs tlc_runtime.attention (numpy and llvm backends): exact by key blocks with an "
                         "online softmax, O(n·d) extra memory, two BLAS products per block")
            if program.tolerance is not None:
                lines.append(f"    tolerance {program.tolerance:g}: the polynomial path is chosen at call time "
                             f"only if the inputs' norms guarantee it")
    lines.extend(f"  last call: {r.describe()}" for r in reports)
    return lines


def describe(node: ir.Attention) -> str:
    """A one-line description of a fused attention node."""
    from tlc.ir.printer import format_expr, format_ref
    kind = "tensor attention" if len(node.keys) == 2 else "attention"
    parts = [f"query {format_ref(node.query)}", "keys " + " ".join(format_ref(k) for k in node.keys),
             "values " + " ".join(format_ref(v) for v in node.values), f"softmax over {', '.join(node.key_axes)}"]
    if node.batch_axes:
        parts.append(f"batch {', '.join(node.batch_axes)}")
    if node.scale is not None:
        parts.append(f"scale {format_expr(node.scale) if not isinstance(node.scale, ir.Product) else _scale(node)}")
    if node.mask is not None:
        parts.append(f"mask {format_expr(node.mask)}")
    if node.causal:
        parts.append(f"causal (penalty {format_expr(node.causal_penalty)})")
    return f"{kind}({'; '.join(parts)})"


def _scale(node: ir.Attention) -> str:
    from tlc.ir.printer import format_expr
    text = " ".join(("1/" if inv else "") + format_expr(f) for f, inv in zip(node.scale.factors, node.scale.inverted))
    return text


@dataclass(frozen=True)
class FuseAttention:
    """The ``attention`` pass: replace softmax attention (two-way and three-way) by fused Attention nodes."""

    name: ClassVar[str] = "attention"

    def run(self, program: Program) -> Program:
        """The rewritten program."""
        return attention(program)
