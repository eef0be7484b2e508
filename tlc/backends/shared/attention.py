"""Emit a fused ``Attention`` node as one call of ``tlc_runtime.attention`` (blocked online softmax).

Operands are aligned to ``(batch.., row, feature)`` order, with extent-1 axes where a tensor lacks a
batch index (the runtime broadcasts them). Extents are checked here, where shapes are known: fused
attention needs the query and keys to agree on the feature extent, each key and its value on the
key extent, the values on the value extent and a mask on every index it uses, and reports the first
mismatch at the offending index (the unfused program would silently use the common part).
"""

from __future__ import annotations

from tlc.backends.shared.arrays import Value
from tlc.errors import TlcError
from tlc.ir import nodes as ir

REPORT = "_attention"
"""The emitted list collecting one ``tlc_runtime.attention.AttentionReport`` per fused call."""
REPORT_KEY = "@attention"
"""Key of that list in the dictionary the emitted ``run`` returns (not a tensor name)."""


def has_attention(program) -> bool:
    """True when some equation of ``program`` holds a fused attention node (kept in ``program.analyses``)."""
    found = program.analyses.get(has_attention)
    if found is None:
        found = program.analyses[has_attention] = any(isinstance(n, ir.Attention) for eq in program.equations
                                                      for n in ir.walk(eq.rhs))
    return found


def check_extents(node: ir.Attention, extents: dict, filename: str | None = None) -> None:
    """Raise a located TlcError when the operands of a fused attention disagree on an index's extent."""
    seen: dict[str, tuple[int, ir.Ref, ir.Index]] = {}
    refs = [node.query, *node.keys, *node.values]
    refs += [n for e in node.optional if e is not None for n in ir.walk(e) if isinstance(n, ir.Ref)]
    for ref in refs:
        for a, index in enumerate(ref.indices):
            var = index.plain_variable
            if var is None or a >= len(extents.get(ref.name, ())):
                continue
            size = extents[ref.name][a]
            if var in node.batch_axes and size == 1:
                continue        # broadcast over a batch index
            first = seen.setdefault(var, (size, ref, index))
            if first[0] != size:
                role = _role(node, var)
                raise TlcError(f"fused attention: {ref.name} has extent {size} along the {role} index {var}, "
                               f"but {first[1].name} has {first[0]}", index.span or ref.span)


def _role(node: ir.Attention, var: str) -> str:
    if var == node.feature_axis:
        return "head (feature)"
    if var in node.key_axes:
        return "key"
    if var == node.value_axis:
        return "value"
    return "query" if var == node.query_axis else "batch"


def aligned_operands(body, node: ir.Attention) -> tuple[str, list[str], list[str]]:
    """Code of the query, keys and values aligned to ``(batch.., row, feature)`` order (extent-1 axes where an
    operand lacks a batch index), after checking their extents."""
    check_extents(node, body.owner.shapes.extents)

    def operand(ref: ir.Ref, axes: tuple[str, ...]) -> str:
        return body.aligned(body.read(ref, None), node.batch_axes + axes)

    query = operand(node.query, (node.query_axis, node.feature_axis))
    keys = [operand(k, (a, node.feature_axis)) for k, a in zip(node.keys, node.key_axes)]
    values = [operand(v, (a, node.value_axis)) for v, a in zip(node.values, node.key_axes)]
    return query, keys, values


def child_code(body, node: ir.Attention, child: ir.Expr, path: tuple[int, ...]):
    """The emitted value (``Value``) of ``child``, one of the node's scale, mask or causal penalty."""
    index = next(k for k, c in enumerate(ir.children(node)) if c is child)
    return body.expr(child, path + (index,))


def where(body) -> str:
    """``file:line`` of the equation ``body`` emits, for reports."""
    return f"{body.owner.program.filename or 'line'}:{body.eq.span.line}" if body.eq.span else ""


def emit_attention(body, node: ir.Attention, path: tuple[int, ...]):
    """Emit the runtime call for ``node`` inside equation emitter ``body``; returns its value."""
    batch = node.batch_axes
    query, keys, values = aligned_operands(body, node)
    args = [f"scale={child_code(body, node, node.scale, path).code}" if node.scale else None]
    if node.mask is not None:
        mask = child_code(body, node, node.mask, path)
        args.append(f"mask={body.aligned(mask, batch + (node.query_axis, *node.key_axes))}")
    if node.causal_penalty is not None:
        args.append(f"causal={child_code(body, node, node.causal_penalty, path).code}")
    tolerance = body.owner.program.tolerance
    if tolerance is not None:
        args.append(f"tolerance={tolerance!r}")
    args.append(f"report={REPORT}, where={where(body)!r}")
    call = (f"rt.attention({query}, ({', '.join(keys)},), ({', '.join(values)},), "
            f"{', '.join(a for a in args if a)})")
    return Value(body.bind(call), batch + (node.query_axis, node.value_axis))
