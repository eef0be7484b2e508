"""Path counting's kernels (``kernel.CountingLoop``) as LLVM IR with ``llvmlite.ir.IRBuilder``.

``i64 f_order(indptr, indices, seeds, m, degree, reached, topo)`` finds the nodes the ``m`` nodes ``seeds`` reach
over the CSR graph (breadth first, into ``reached``; ``degree`` holds -1 on entry, the unvisited mark) and orders
them topologically (Kahn's algorithm, into ``topo``). It returns how many there are, or -1 when they include a
cycle (a node on a cycle, or after one, never loses its last in-edge).

``i64 f(values, indptr, indices, data, topo, r, n, lo, hi, depth)`` runs, for each slice in ``[lo, hi)`` of the
``slices × n`` array ``values`` (the base on entry, the counts on exit), one pass over the ``r`` nodes of ``topo``:
a node's count is final when it is reached, and is added, times each out-edge's weight, into its successors.
``depth`` (``n``, one thread's) is each node's longest path from a node with a base count, so the pass knows the
last round in which the dense rounds would still change the slice (1 + the deepest depth). It returns the latest
such round over the slices, or -1 when a count reaches ``LIMIT`` (2^53): below it, every sum and product of the
non-negative integer counts is exact (and so are the dense rounds', whatever their order), at or above it they may
round, and the caller runs the dense rounds instead.
"""

from __future__ import annotations

from contextlib import contextmanager

from llvmlite import ir

from tlc.backends.llvm.kernel import CountingLoop
from tlc.backends.llvm.loops import counted, local
from tlc.backends.llvm.semiring import _while

I64 = ir.IntType(64)
F64 = ir.DoubleType()
P64 = I64.as_pointer()
PF64 = F64.as_pointer()
NSW = ("nsw",)
LIMIT = 2.0 ** 53
"""The smallest count that may not be exact (see the module docstring)."""
ORDER_SUFFIX = "_order"
"""The ordering kernel's function name is the pass's with this suffix."""


def counting_module(loop: CountingLoop, name: str) -> ir.Module:
    """An LLVM module holding the counting pass as function ``name`` and the ordering as ``name_order``."""
    module = ir.Module(name=name)
    _pass(module, name)
    _order(module, f"{name}{ORDER_SUFFIX}")
    return module


def _push(b: ir.IRBuilder, array, size, value) -> None:
    """``array[*size] = value; *size += 1``."""
    k = b.load(size)
    b.store(value, b.gep(array, [k]))
    b.store(b.add(k, ir.Constant(I64, 1), flags=NSW), size)


def _edges(b: ir.IRBuilder, indptr, u, name: str) -> counted:
    """The loop over the CSR edge numbers out of ``u``."""
    first = b.load(b.gep(indptr, [u]))
    return counted(b, first, b.load(b.gep(indptr, [b.add(u, ir.Constant(I64, 1), flags=NSW)])), name)


@contextmanager
def _drained(b: ir.IRBuilder, queue, size, csr, name: str):
    """``for (head = 0; head < *size; head++)`` over the CSR edges ``u -> v`` out of ``u = queue[head]``: the body,
    built inside the ``with`` block, sees ``v`` and may push onto the queue (``_push(b, queue, size, ...)``)."""
    indptr, indices = csr
    head = local(b, ir.Constant(I64, 0), f"{name}_head")
    test, done = _while(b, name, lambda b: b.icmp_signed("<", b.load(head), b.load(size)))
    h = b.load(head)
    u = b.load(b.gep(queue, [h]))
    b.store(b.add(h, ir.Constant(I64, 1), flags=NSW), head)
    with _edges(b, indptr, u, f"{name}_e") as e:
        yield b.load(b.gep(indices, [e]))
    b.branch(test)
    b.position_at_end(done)


def _order(module: ir.Module, name: str) -> None:
    """Reach and topological order (see the module docstring)."""
    fn = ir.Function(module, ir.FunctionType(I64, [P64, P64, P64, I64, P64, P64, P64]), name)
    fn.attributes.add("nounwind")
    indptr, indices, seeds, m, degree, reached, topo = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    zero, one = ir.Constant(I64, 0), ir.Constant(I64, 1)
    size = local(b, zero, "size")

    def visit(node) -> None:       # a node not seen yet (degree -1) is marked (0) and queued
        mark = b.gep(degree, [node])
        with b.if_then(b.icmp_signed("<", b.load(mark), zero)):
            b.store(zero, mark)
            _push(b, reached, size, node)

    with counted(b, zero, m, "s") as s:
        visit(b.load(b.gep(seeds, [s])))
    with _drained(b, reached, size, (indptr, indices), "reach") as v:
        visit(v)
    count = b.load(size)
    with counted(b, zero, count, "i") as i:         # in-degrees within the reached nodes (closed under edges)
        with _edges(b, indptr, b.load(b.gep(reached, [i])), "f") as f:
            slot = b.gep(degree, [b.load(b.gep(indices, [f]))])
            b.store(b.add(b.load(slot), one, flags=NSW), slot)
    ordered = local(b, zero, "ordered")
    with counted(b, zero, count, "j") as j:
        u = b.load(b.gep(reached, [j]))
        with b.if_then(b.icmp_signed("==", b.load(b.gep(degree, [u])), zero)):
            _push(b, topo, ordered, u)
    # ``topo`` is Kahn's queue: every node enqueued, in order, is the topological order
    with _drained(b, topo, ordered, (indptr, indices), "kahn") as v:
        slot = b.gep(degree, [v])
        left = b.sub(b.load(slot), one, flags=NSW)
        b.store(left, slot)
        with b.if_then(b.icmp_signed("==", left, zero)):
            _push(b, topo, ordered, v)
    b.ret(b.select(b.icmp_signed("==", b.load(ordered), count), count, ir.Constant(I64, -1)))


def _pass(module: ir.Module, name: str) -> None:
    """The counting pass over the slices ``[lo, hi)`` (see the module docstring)."""
    fn = ir.Function(module, ir.FunctionType(I64, [PF64, P64, P64, PF64, P64, I64, I64, I64, I64, P64]), name)
    fn.attributes.add("nounwind")
    values, indptr, indices, data, topo, r, n, lo, hi, depth = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    zero, one = ir.Constant(I64, 0), ir.Constant(I64, 1)
    last = local(b, zero, "last")
    overflow = local(b, ir.Constant(ir.IntType(1), 0), "overflow")
    with counted(b, lo, hi, "s") as s:
        row = b.gep(values, [b.mul(s, n, flags=NSW)])
        with counted(b, zero, r, "i") as i:
            b.store(ir.Constant(I64, -1), b.gep(depth, [b.load(b.gep(topo, [i]))]))
        with counted(b, zero, r, "k") as k:
            u = b.load(b.gep(topo, [k]))
            x = b.load(b.gep(row, [u]))
            with b.if_then(b.fcmp_ordered("!=", x, ir.Constant(F64, 0.0))):     # counts are >= 0: reached
                d = b.load(b.gep(depth, [u]))
                d = b.select(b.icmp_signed("<", d, zero), zero, d)
                after = b.add(d, one, flags=NSW)
                b.store(b.select(b.icmp_signed(">", after, b.load(last)), after, b.load(last)), last)
                with b.if_then(b.fcmp_ordered(">=", x, ir.Constant(F64, LIMIT))):
                    b.store(ir.Constant(ir.IntType(1), 1), overflow)
                with _edges(b, indptr, u, "e") as e:
                    v = b.load(b.gep(indices, [e]))
                    slot = b.gep(row, [v])
                    b.store(b.fadd(b.load(slot), b.fmul(x, b.load(b.gep(data, [e])))), slot)
                    mark = b.gep(depth, [v])
                    b.store(b.select(b.icmp_signed(">", after, b.load(mark)), after, b.load(mark)), mark)
    b.ret(b.select(b.load(overflow), ir.Constant(I64, -1), b.load(last)))
