"""The semiring recursion's kernels (``kernel.SemiringLoop``) as LLVM IR with ``llvmlite.ir.IRBuilder``.

One module per (fold, combine): ``⊕`` is ``min`` or ``max`` (which candidate is *better*), ``⊗`` the path step's
``add``, ``mul``, ``min`` or ``max``; every candidate is the same single IEEE operation as NumPy's (no fast-math
flags), so the values are bit-identical to ``tlc_runtime.semiring``'s. ``worst`` is the value a reached slice's
elements take at least (+inf for ``min``, -inf for ``max``, 0 for ``max`` by ``mul``).

``i64 f(values, start, indptr, indices, data, n, lo, hi, limit, frontier, changed, extended, stamp)`` runs the
semi-naive rounds of ``tlc_runtime.semiring._relax`` one slice at a time for the slices ``[lo, hi)`` (slices
never read each other, so a slice's rounds are the global loop's restricted to it, and threads may take disjoint
slice ranges). ``values`` (slices × n) holds the base on entry and the fixpoint on exit; ``start`` is the state
before round 1. Each round relaxes the live edges of the elements the last round changed, from the values they
had at its end (``extended``), then fills the gaps of a slice reached in an earlier round with ``worst``.
It returns the most rounds a slice took, or -1 when a slice still changed in round ``limit``: such a slice
stops after that round, so ``values`` is then the state of the global loop after round ``limit``. ``frontier``, ``changed``, ``extended`` and ``stamp`` (``n``
each, ``stamp`` all -1) belong to one thread.

``void f_dijkstra(values, first, indptr, indices, data, n, lo, hi, heap)`` is label setting with a 4-ary
heap of (key, node) entries (lazy deletion: an entry whose key is no longer its element's value is skipped) for each slice in ``[lo, hi)``: ``values`` holds ``worst`` (reached
slices) or NaN on entry; every element whose base is neither NaN nor ``worst`` is a source with its base value.
Valid when extending a path never makes it better (see ``tlc_runtime.semiring_native``): then no candidate
improves a settled element, so an element is pushed only when it improves (its keys strictly improve) and is
settled by the one entry whose key is its final value. The heap holds at most ``n + edges`` entries (16 bytes).
"""

from __future__ import annotations

import math
from contextlib import contextmanager

from llvmlite import ir

from tlc.backends.llvm.kernel import SemiringLoop
from tlc.backends.llvm.loops import counted, local

I64 = ir.IntType(64)
F64 = ir.DoubleType()
P64 = I64.as_pointer()
PF64 = F64.as_pointer()
NSW = ("nsw",)
ENTRY = ir.LiteralStructType([F64, I64])
"""A heap entry: key (the label) and node."""
ARITY = 4
"""Children per heap entry."""
DIJKSTRA_SUFFIX = "_dijkstra"
"""The label-setting kernel's function name is the relaxation's with this suffix."""


def semiring_module(loop: SemiringLoop, name: str) -> ir.Module:
    """An LLVM module holding the relaxation as function ``name`` and label setting as ``name_dijkstra``."""
    module = ir.Module(name=name)
    _relax(module, name, loop)
    _dijkstra(module, f"{name}{DIJKSTRA_SUFFIX}", loop)
    return module


def _worst(loop: SemiringLoop):
    value = 0.0 if loop.combine == "mul" else math.inf if loop.fold == "min" else -math.inf
    return ir.Constant(F64, value)


def _join(b: ir.IRBuilder, loop: SemiringLoop, x, w):
    """``x ⊗ w`` as NumPy computes it (neither is NaN: ``_monotone`` rules NaN weights out)."""
    if loop.combine == "add":
        return b.fadd(x, w)
    if loop.combine == "mul":
        return b.fmul(x, w)
    pick_x = b.fcmp_ordered("<" if loop.combine == "min" else ">", x, w)
    return b.select(pick_x, x, w)


def _better(b: ir.IRBuilder, loop: SemiringLoop, candidate, old):
    """True when ``candidate`` (never NaN) improves on ``old`` (NaN: no value yet)."""
    return b.fcmp_unordered(">" if loop.fold == "min" else "<", old, candidate)


def _while(b: ir.IRBuilder, name: str, condition):
    """Blocks of ``while (condition(b)) {body}``: returns (body, done); the builder is in the body."""
    fn = b.function
    test, body, done = (fn.append_basic_block(f"{name}_{part}") for part in ("test", "body", "done"))
    b.branch(test)
    b.position_at_end(test)
    b.cbranch(condition(b), body, done)
    b.position_at_end(body)
    return test, done


@contextmanager
def _improving_edges(b: ir.IRBuilder, loop: SemiringLoop, csr, row, u, x):
    """Relax the CSR edges out of ``u`` (value ``x``) into ``row``; the body runs, with the edge's target and its
    new value, for each edge that improved its target (after the new value is stored)."""
    indptr, indices, data = csr
    one = ir.Constant(I64, 1)
    with counted(b, b.load(b.gep(indptr, [u])), b.load(b.gep(indptr, [b.add(u, one, flags=NSW)])), "e") as e:
        target = b.load(b.gep(indices, [e]))
        slot = b.gep(row, [target])
        candidate = _join(b, loop, x, b.load(b.gep(data, [e])))
        with b.if_then(_better(b, loop, candidate, b.load(slot))):
            b.store(candidate, slot)
            yield target, candidate


def _relax(module: ir.Module, name: str, loop: SemiringLoop) -> None:
    """The semi-naive relaxation (see the module docstring)."""
    fn = ir.Function(module, ir.FunctionType(I64, [PF64, PF64, P64, P64, PF64, I64, I64, I64, I64, P64, P64, PF64,
                                                    P64]), name)
    fn.attributes.add("nounwind")
    values, start, indptr, indices, data, n, lo, hi, limit, frontier, changed, extended, stamp = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    zero, one = ir.Constant(I64, 0), ir.Constant(I64, 1)
    worst = _worst(loop)
    most = local(b, zero, "most")
    tag = local(b, zero, "tag")
    failure = local(b, ir.Constant(ir.IntType(1), 0), "failure")
    with counted(b, lo, hi, "s") as s:
        row = b.gep(values, [b.mul(s, n, flags=NSW)])
        before = b.gep(start, [b.mul(s, n, flags=NSW)])
        reached = local(b, ir.Constant(ir.IntType(1), 0), "reached")
        filled = local(b, ir.Constant(ir.IntType(1), 0), "filled")
        count = local(b, zero, "count")
        with counted(b, zero, n, "v") as v:       # round 1 extends the state before it
            x = b.load(b.gep(before, [v]))
            known = b.fcmp_ordered("==", x, x)
            b.store(b.or_(b.load(reached), known), reached)
            with b.if_then(b.and_(known, b.fcmp_unordered("!=", x, worst))):
                k = b.load(count)
                b.store(v, b.gep(frontier, [k]))
                b.store(x, b.gep(extended, [k]))
                b.store(b.add(k, one, flags=NSW), count)
        rounds = local(b, one, "rounds")
        body_test, body_done = _while(b, "round", lambda b: ir.Constant(ir.IntType(1), 1))
        t = b.load(tag)
        number = local(b, zero, "number")        # elements changed in this round
        with counted(b, zero, b.load(count), "k") as k:
            u = b.load(b.gep(frontier, [k]))
            x = b.load(b.gep(extended, [k]))
            with _improving_edges(b, loop, (indptr, indices, data), row, u, x) as (target, _):
                mark = b.gep(stamp, [target])
                with b.if_then(b.icmp_signed("!=", b.load(mark), t)):
                    b.store(t, mark)
                    j = b.load(number)
                    b.store(target, b.gep(changed, [j]))
                    b.store(b.add(j, one, flags=NSW), number)
        first_round = b.icmp_signed("==", b.load(rounds), one)
        with b.if_then(b.and_(b.load(reached), b.not_(b.load(filled)))):   # every pair is an entry of W
            b.store(ir.Constant(ir.IntType(1), 1), filled)
            with counted(b, zero, n, "g") as g:
                slot = b.gep(row, [g])
                y = b.load(slot)
                with b.if_then(b.fcmp_unordered("!=", y, y)):
                    b.store(worst, slot)
                    with b.if_then(b.not_(first_round)):
                        j = b.load(number)
                        b.store(g, b.gep(changed, [j]))
                        b.store(b.add(j, one, flags=NSW), number)
        with b.if_then(first_round):     # round 1 started from the base: its changes are against the state
            b.store(zero, number)
            with counted(b, zero, n, "c") as c:
                a, z = b.load(b.gep(row, [c])), b.load(b.gep(before, [c]))
                same = b.or_(b.fcmp_ordered("==", a, z), b.and_(b.fcmp_unordered("!=", a, a),
                                                                  b.fcmp_unordered("!=", z, z)))
                with b.if_then(b.not_(same)):
                    j = b.load(number)
                    b.store(c, b.gep(changed, [j]))
                    b.store(b.add(j, one, flags=NSW), number)
        b.store(b.add(t, one, flags=NSW), tag)
        settled = fn.append_basic_block("settled")
        going = fn.append_basic_block("going")
        b.cbranch(b.icmp_signed("==", b.load(number), zero), body_done, settled)
        b.position_at_end(settled)
        b.store(ir.Constant(ir.IntType(1), 1), reached)
        failed = fn.append_basic_block("failed")
        b.cbranch(b.icmp_signed(">=", b.load(rounds), limit), failed, going)
        b.position_at_end(failed)       # this slice stops after round ``limit``; the others still run
        b.store(ir.Constant(ir.IntType(1), 1), failure)
        b.branch(body_done)
        b.position_at_end(going)
        b.store(zero, count)
        with counted(b, zero, b.load(number), "f") as f:
            v = b.load(b.gep(changed, [f]))
            x = b.load(b.gep(row, [v]))
            with b.if_then(b.fcmp_unordered("!=", x, worst)):
                k = b.load(count)
                b.store(v, b.gep(frontier, [k]))
                b.store(x, b.gep(extended, [k]))
                b.store(b.add(k, one, flags=NSW), count)
        b.store(b.add(b.load(rounds), one, flags=NSW), rounds)
        b.branch(body_test)
        b.position_at_end(body_done)
        r = b.load(rounds)
        b.store(b.select(b.icmp_signed(">", r, b.load(most)), r, b.load(most)), most)
    b.ret(b.select(b.load(failure), ir.Constant(I64, -1), b.load(most)))


def _dijkstra(module: ir.Module, name: str, loop: SemiringLoop) -> None:
    """Label setting with a heap (see the module docstring)."""
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [PF64, PF64, P64, P64, PF64, I64, I64, I64,
                                                              ENTRY.as_pointer()]), name)
    fn.attributes.add("nounwind")
    values, first, indptr, indices, data, n, lo, hi, heap = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    zero = ir.Constant(I64, 0)
    worst = _worst(loop)
    size = local(b, zero, "size")
    label = local(b, worst, "label")
    push, pop = _heap(module, name, loop)
    with counted(b, lo, hi, "s") as s:
        row = b.gep(values, [b.mul(s, n, flags=NSW)])
        base = b.gep(first, [b.mul(s, n, flags=NSW)])
        b.store(zero, size)
        with counted(b, zero, n, "v") as v:
            x = b.load(b.gep(base, [v]))
            with b.if_then(b.and_(b.fcmp_ordered("==", x, x), b.fcmp_unordered("!=", x, worst))):
                b.store(x, b.gep(row, [v]))
                b.call(push, [heap, size, v, x])
        heap_test, heap_done = _while(b, "heap", lambda b: b.icmp_signed(">", b.load(size), zero))
        u = b.call(pop, [heap, size, label])
        x = b.load(b.gep(row, [u]))
        with b.if_then(b.fcmp_ordered("==", b.load(label), x)):    # else a stale entry: u improved since
            with _improving_edges(b, loop, (indptr, indices, data), row, u, x) as (target, candidate):
                b.call(push, [heap, size, target, candidate])
        b.branch(heap_test)
        b.position_at_end(heap_done)
    b.ret_void()


def _heap(module: ir.Module, name: str, loop: SemiringLoop):
    """``push(heap, size*, node, key)`` and ``node pop(heap, size*, key*)`` of a ``ARITY``-ary heap of (key, node)
    entries whose top is the best key (internal, always inlined): an entry's children share a cache line or two,
    and a pop moves down half as many levels as in a binary heap."""
    zero, one, arity = ir.Constant(I64, 0), ir.Constant(I64, 1), ir.Constant(I64, ARITY)
    order = "<" if loop.fold == "min" else ">"

    def key_of(b, heap, i):
        return b.load(b.gep(heap, [i, ir.Constant(ir.IntType(32), 0)]))

    def node_of(b, heap, i):
        return b.load(b.gep(heap, [i, ir.Constant(ir.IntType(32), 1)]))

    def put(b, heap, i, key, node):
        b.store(key, b.gep(heap, [i, ir.Constant(ir.IntType(32), 0)]))
        b.store(node, b.gep(heap, [i, ir.Constant(ir.IntType(32), 1)]))

    push = ir.Function(module, ir.FunctionType(ir.VoidType(), [ENTRY.as_pointer(), P64, I64, F64]), f"{name}_push")
    push.linkage = "internal"
    push.attributes.add("alwaysinline")
    heap, size, node, key = push.args
    b = ir.IRBuilder(push.append_basic_block("entry"))
    hole = local(b, b.load(size), "hole")
    b.store(b.add(b.load(size), one, flags=NSW), size)

    def rising(b):       # the hole has a parent whose key is worse than the new one
        i = b.load(hole)
        parent = b.sdiv(b.sub(i, one), arity)
        above = key_of(b, heap, b.select(b.icmp_signed(">", i, zero), parent, zero))
        return b.and_(b.icmp_signed(">", i, zero), b.fcmp_ordered(order, key, above))

    test, done = _while(b, "up", rising)
    i = b.load(hole)
    parent = b.sdiv(b.sub(i, one), arity)
    put(b, heap, i, key_of(b, heap, parent), node_of(b, heap, parent))
    b.store(parent, hole)
    b.branch(test)
    b.position_at_end(done)
    put(b, heap, b.load(hole), key, node)
    b.ret_void()

    pop = ir.Function(module, ir.FunctionType(I64, [ENTRY.as_pointer(), P64, PF64]), f"{name}_pop")
    pop.linkage = "internal"
    pop.attributes.add("alwaysinline")
    heap, size, top_key = pop.args
    b = ir.IRBuilder(pop.append_basic_block("entry"))
    top = node_of(b, heap, zero)
    b.store(key_of(b, heap, zero), top_key)
    last = b.sub(b.load(size), one, flags=NSW)
    b.store(last, size)
    key, node = key_of(b, heap, last), node_of(b, heap, last)
    hole = local(b, zero, "hole")
    child = local(b, zero, "child")
    best = local(b, key, "best")

    def sinking(b):       # the best child of the hole, when it is better than the moved key
        start = b.add(b.mul(b.load(hole), arity, flags=NSW), one, flags=NSW)
        stop = b.add(start, arity, flags=NSW)
        stop = b.select(b.icmp_signed("<", stop, last), stop, last)
        b.store(key, best)
        b.store(ir.Constant(I64, -1), child)
        with counted(b, start, stop, "c") as c:
            k = key_of(b, heap, c)
            with b.if_then(b.fcmp_ordered(order, k, b.load(best))):
                b.store(k, best)
                b.store(c, child)
        return b.icmp_signed(">=", b.load(child), zero)

    test, done = _while(b, "down", sinking)
    c = b.load(child)
    put(b, heap, b.load(hole), b.load(best), node_of(b, heap, c))
    b.store(c, hole)
    b.branch(test)
    b.position_at_end(done)
    with b.if_then(b.icmp_signed(">", last, zero)):
        put(b, heap, b.load(hole), key, node)
    b.ret(top)
    return push, pop
