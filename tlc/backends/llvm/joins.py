"""Native semi-naive joins as LLVM IR with ``llvmlite.ir.IRBuilder`` (descriptions in ``join_plan``).

A ``JoinLoop`` module has two functions over the left rows ``[lo, hi)`` (threads take disjoint ranges):

- ``i64 f_count(lk, rk, slots, mask, m, lo, hi)``: the number of pairs (left row ``i``, right row ``j``) with
  ``lk[i] == rk[j]``;
- ``void f_write(lk, rk, slots, mask, m, lo, hi, lcols, rcols, out, offset)``: those pairs as result rows from
  row ``offset`` of ``out``: the left row's kept columns, then the right row's.

``rk`` (``m`` keys, the right rows' packed join keys) is sorted, so the matches of a key are one run. A merge join
has ``lk`` sorted too and finds each run by binary search from the previous run (a cursor that only moves
forward); a hash join probes ``slots`` (``mask + 1`` entries, open addressing, linear probing), which holds
``1 + the start`` of each run (0: empty), built by ``SetOps``' ``f_build``.

``SetOps``' functions work on sorted int64 keys: ``f_sort(a, n, tmp, counts)`` sorts ``n`` non-negative keys in
place (an LSD radix sort, ``RADIX_BITS`` a pass, ``tmp`` as long as ``a``, ``counts`` ``RADIX`` scratch entries;
-1 and ``a`` untouched when a key is negative, else 0), ``f_unique(a, n, out)``, ``f_union(a, na, b, nb, out)`` and
``f_difference(a, na, b, nb, out)`` return the number of keys written; ``f_member(a, lo, hi, b, nb, out)`` sets
the byte ``out[i]`` when ``a[i]`` (any order) occurs in ``b``; ``f_build(rk, m, slots, mask)`` fills the table.
"""

from __future__ import annotations

from contextlib import contextmanager

from llvmlite import ir

from tlc.backends.llvm.join_plan import JoinLoop, SetOps
from tlc.backends.llvm.loops import local

I64 = ir.IntType(64)
I8 = ir.IntType(8)
I1 = ir.IntType(1)
P64 = I64.as_pointer()
NSW = ("nsw",)
ZERO, ONE = ir.Constant(I64, 0), ir.Constant(I64, 1)
RADIX_BITS = 11
RADIX = 1 << RADIX_BITS
"""Buckets of a radix sort pass: 16 KiB of counts, which stay in the L1 cache."""
GOLDEN = ir.Constant(I64, 0x9E3779B97F4A7C15 - (1 << 64))
"""Fibonacci hashing's multiplier (2^64 / golden ratio), as a signed constant."""


def join_module(loop: JoinLoop) -> ir.Module:
    """An LLVM module holding ``loop.symbol``'s ``_count`` and ``_write`` functions."""
    module = ir.Module(name=loop.symbol)
    scan = [P64, P64, P64, I64, I64, I64, I64]
    count, b = _function(module, f"{loop.symbol}_count", I64, scan)
    found = local(b, ZERO, "found")
    _scan(b, loop.method, *count.args, lambda i, j: b.store(b.add(b.load(found), ONE, flags=NSW), found))
    b.ret(b.load(found))

    write, b = _function(module, f"{loop.symbol}_write", ir.VoidType(), [*scan, P64, P64, P64, I64])
    lk, rk, slots, mask, m, lo, hi, lcols, rcols, out, offset = write.args
    row = local(b, offset, "row")
    width = len(loop.left_kept) + len(loop.kept)

    def emit(i, j):
        at = b.load(row)
        dst = b.gep(out, [b.mul(at, ir.Constant(I64, width), flags=NSW)])
        src = b.gep(lcols, [b.mul(i, ir.Constant(I64, loop.left), flags=NSW)])
        for c, k in enumerate(loop.left_kept):
            b.store(b.load(b.gep(src, [ir.Constant(I64, k)])), b.gep(dst, [ir.Constant(I64, c)]))
        src = b.gep(rcols, [b.mul(j, ir.Constant(I64, loop.right), flags=NSW)])
        for c, k in enumerate(loop.kept, len(loop.left_kept)):
            b.store(b.load(b.gep(src, [ir.Constant(I64, k)])), b.gep(dst, [ir.Constant(I64, c)]))
        b.store(b.add(at, ONE, flags=NSW), row)

    _scan(b, loop.method, lk, rk, slots, mask, m, lo, hi, emit)
    b.ret_void()
    return module


def _scan(b: ir.IRBuilder, method: str, lk, rk, slots, mask, m, lo, hi, emit) -> None:
    """For each left row ``i`` in ``[lo, hi)`` and each right row ``j`` of its key's run: ``emit(i, j)``."""
    cursor = local(b, ZERO, "cursor")
    j = local(b, ZERO, "j")
    with _range(b, lo, hi, "i") as i:
        key = b.load(b.gep(lk, [i]))
        if method == "merge":
            start = _lower_bound(b, rk, b.load(cursor), m, key)
            b.store(start, cursor)
        else:
            start = _probe(b, rk, slots, mask, m, key)
        b.store(start, j)
        with _while(b, lambda: _both(b, b.icmp_signed("<", b.load(j), m),
                                     lambda: b.icmp_signed("==", b.load(b.gep(rk, [b.load(j)])), key))):
            emit(i, b.load(j))
            b.store(b.add(b.load(j), ONE, flags=NSW), j)


def _lower_bound(b: ir.IRBuilder, keys, lo, hi, key):
    """The first position in ``[lo, hi)`` of sorted ``keys`` holding a key ``>= key`` (``hi`` when none)."""
    low, high = local(b, lo, "low"), local(b, hi, "high")
    with _while(b, lambda: b.icmp_signed("<", b.load(low), b.load(high))):
        mid = b.ashr(b.add(b.load(low), b.load(high), flags=NSW), ONE)
        less = b.icmp_signed("<", b.load(b.gep(keys, [mid])), key)
        b.store(b.select(less, b.add(mid, ONE, flags=NSW), b.load(low)), low)
        b.store(b.select(less, b.load(high), mid), high)
    return b.load(low)


def _gallop(b: ir.IRBuilder, keys, lo, hi, key):
    """``_lower_bound`` found by probing ``lo``, ``lo + 1``, ``lo + 3``, ``lo + 7``, ... first, so a key near ``lo``
    costs a few nearby reads, not a binary search of all ``[lo, hi)``."""
    prev, probe, step = local(b, lo, "prev"), local(b, lo, "probe"), local(b, ONE, "step")
    with _while(b, lambda: _both(b, b.icmp_signed("<", b.load(probe), hi),
                                 lambda: b.icmp_signed("<", b.load(b.gep(keys, [b.load(probe)])), key))):
        b.store(b.add(b.load(probe), ONE, flags=NSW), prev)
        b.store(b.add(b.load(probe), b.load(step), flags=NSW), probe)
        b.store(b.shl(b.load(step), ONE), step)
    end = b.load(probe)
    return _lower_bound(b, keys, b.load(prev), b.select(b.icmp_signed("<", end, hi), end, hi), key)


def _search(b: ir.IRBuilder, keys, lo, hi, key, find=_lower_bound):
    """``find``'s position of ``key`` in ``[lo, hi)`` of sorted ``keys``, and whether ``key`` is there."""
    at = find(b, keys, lo, hi, key)
    return at, _both(b, b.icmp_signed("<", at, hi), lambda: b.icmp_signed("==", b.load(b.gep(keys, [at])), key))


def _hash(b: ir.IRBuilder, key, mask):
    """The home slot of ``key``: Fibonacci hashing, high bits folded in."""
    x = b.mul(key, GOLDEN)
    return b.and_(b.xor(x, b.lshr(x, ir.Constant(I64, 29))), mask)


def _probe(b: ir.IRBuilder, rk, slots, mask, m, key):
    """The start of ``key``'s run in ``rk`` by the table ``slots``, or ``m`` when it has none."""
    slot, result, searching = local(b, _hash(b, key, mask), "slot"), local(b, m, "run"), \
        local(b, ir.Constant(I1, 1), "searching")
    with _while(b, lambda: b.load(searching)):
        entry = b.load(b.gep(slots, [b.load(slot)]))
        with b.if_else(b.icmp_signed("==", entry, ZERO)) as (empty, full):
            with empty:
                b.store(ir.Constant(I1, 0), searching)
            with full:
                run = b.sub(entry, ONE, flags=NSW)
                with b.if_else(b.icmp_signed("==", b.load(b.gep(rk, [run])), key)) as (hit, miss):
                    with hit:
                        b.store(run, result)
                        b.store(ir.Constant(I1, 0), searching)
                    with miss:
                        b.store(b.and_(b.add(b.load(slot), ONE), mask), slot)
    return b.load(result)


def sets_module(ops: SetOps) -> ir.Module:
    """An LLVM module holding the ``SetOps`` functions (see the module docstring)."""
    module = ir.Module(name=ops.symbol)
    _sort(module, f"{ops.symbol}_sort")
    _unique(module, f"{ops.symbol}_unique")
    _union(module, f"{ops.symbol}_union")
    _difference(module, f"{ops.symbol}_difference")
    _member(module, f"{ops.symbol}_member")
    _build(module, f"{ops.symbol}_build")
    return module


def _run_start(b: ir.IRBuilder, keys, i):
    """``keys[i]`` and whether it starts a run of equal keys (``i`` is 0 or the key before differs)."""
    key = b.load(b.gep(keys, [i]))
    first = b.icmp_signed("==", i, ZERO)
    return key, _either(b, first, lambda: b.icmp_signed("!=", b.load(b.gep(keys, [b.sub(i, ONE, flags=NSW)])), key))


def _sort(module: ir.Module, name: str) -> None:
    """LSD radix sort of non-negative keys, ``RADIX_BITS`` per pass up to the largest key's top bit; a pass
    whose digit is the same for every key moves nothing."""
    fn, b = _function(module, name, I64, [P64, I64, P64, P64])
    a, n, tmp, counts = fn.args
    top, negative = local(b, ZERO, "top"), local(b, ir.Constant(I1, 0), "negative")
    with _range(b, ZERO, n, "i") as i:
        x = b.load(b.gep(a, [i]))
        b.store(b.or_(b.load(top), x), top)
        b.store(b.or_(b.load(negative), b.icmp_signed("<", x, ZERO)), negative)
    with b.if_then(b.load(negative)):
        b.ret(ir.Constant(I64, -1))
    src, dst, shift = local(b, a, "src"), local(b, tmp, "dst"), local(b, ZERO, "shift")
    digit_mask = ir.Constant(I64, RADIX - 1)

    def digit(x):
        return b.and_(b.lshr(x, b.load(shift)), digit_mask)
    with _while(b, lambda: _both(b, b.icmp_signed("<", b.load(shift), ir.Constant(I64, 64)),
                                 lambda: b.icmp_signed("!=", b.lshr(b.load(top), b.load(shift)), ZERO))):
        with _range(b, ZERO, ir.Constant(I64, RADIX), "d") as d:
            b.store(ZERO, b.gep(counts, [d]))
        with _range(b, ZERO, n, "i") as i:
            slot = b.gep(counts, [digit(b.load(b.gep(b.load(src), [i])))])
            b.store(b.add(b.load(slot), ONE, flags=NSW), slot)
        total, spread = local(b, ZERO, "total"), local(b, ir.Constant(I1, 1), "spread")
        with _range(b, ZERO, ir.Constant(I64, RADIX), "d") as d:
            slot = b.gep(counts, [d])
            count = b.load(slot)
            b.store(b.and_(b.load(spread), b.icmp_signed("!=", count, n)), spread)
            b.store(b.load(total), slot)
            b.store(b.add(b.load(total), count, flags=NSW), total)
        with b.if_then(b.load(spread)):
            with _range(b, ZERO, n, "i") as i:
                x = b.load(b.gep(b.load(src), [i]))
                slot = b.gep(counts, [digit(x)])
                at = b.load(slot)
                b.store(x, b.gep(b.load(dst), [at]))
                b.store(b.add(at, ONE, flags=NSW), slot)
            was = b.load(src)
            b.store(b.load(dst), src)
            b.store(was, dst)
        b.store(b.add(b.load(shift), ir.Constant(I64, RADIX_BITS), flags=NSW), shift)
    with b.if_then(b.icmp_unsigned("!=", b.load(src), a)):
        k = local(b, ZERO, "k")
        _copy(b, b.load(src), ZERO, n, a, k)
    b.ret(ZERO)


def _unique(module: ir.Module, name: str) -> None:
    fn, b = _function(module, name, I64, [P64, I64, P64])
    a, n, out = fn.args
    k = local(b, ZERO, "k")
    with _range(b, ZERO, n, "i") as i:
        x, new = _run_start(b, a, i)
        with b.if_then(new):
            _push(b, out, k, x)
    b.ret(b.load(k))


def _union(module: ir.Module, name: str) -> None:
    """Each key of ``c`` (the smaller set, ideally) placed by a galloping search in ``a``, the runs of ``a`` between
    them copied whole (a loop LLVM turns into ``memcpy``), so a small delta costs one copy of ``a``."""
    fn, b = _function(module, name, I64, [P64, I64, P64, I64, P64])
    a, na, c, nc, out = fn.args
    i, k = local(b, ZERO, "i"), local(b, ZERO, "k")
    with _range(b, ZERO, nc, "j") as j:
        y = b.load(b.gep(c, [j]))
        at, held = _search(b, a, b.load(i), na, y, _gallop)
        _copy(b, a, b.load(i), at, out, k)
        b.store(at, i)
        with b.if_then(b.not_(held)):
            _push(b, out, k, y)
    _copy(b, a, b.load(i), na, out, k)
    b.ret(b.load(k))


def _difference(module: ir.Module, name: str) -> None:
    """Each key of ``a`` looked up in ``c`` by a galloping search from the last one's place (``a`` is a round's new
    tuples, ``c`` the relation so far: far larger)."""
    fn, b = _function(module, name, I64, [P64, I64, P64, I64, P64])
    a, na, c, nc, out = fn.args
    j, k = local(b, ZERO, "j"), local(b, ZERO, "k")
    with _range(b, ZERO, na, "i") as i:
        x = b.load(b.gep(a, [i]))
        at, held = _search(b, c, b.load(j), nc, x, _gallop)
        b.store(at, j)
        with b.if_then(b.not_(held)):
            _push(b, out, k, x)
    b.ret(b.load(k))


def _copy(b: ir.IRBuilder, src, lo, hi, out, k) -> None:
    """``out[k:k + hi - lo] = src[lo:hi]; k += hi - lo``."""
    base = b.load(k)
    with _range(b, lo, hi, "copy") as t:
        b.store(b.load(b.gep(src, [t])), b.gep(out, [b.add(base, b.sub(t, lo, flags=NSW), flags=NSW)]))
    b.store(b.add(base, b.sub(hi, lo, flags=NSW), flags=NSW), k)


def _member(module: ir.Module, name: str) -> None:
    fn, b = _function(module, name, ir.VoidType(), [P64, I64, I64, P64, I64, I8.as_pointer()])
    a, lo, hi, c, nc, out = fn.args
    with _range(b, lo, hi, "i") as i:
        x = b.load(b.gep(a, [i]))
        _, held = _search(b, c, ZERO, nc, x)
        b.store(b.zext(held, I8), b.gep(out, [i]))
    b.ret_void()


def _build(module: ir.Module, name: str) -> None:
    fn, b = _function(module, name, ir.VoidType(), [P64, I64, P64, I64])
    rk, m, slots, mask = fn.args
    slot = local(b, ZERO, "slot")
    with _range(b, ZERO, m, "j") as j:
        key, start = _run_start(b, rk, j)
        with b.if_then(start):
            b.store(_hash(b, key, mask), slot)
            with _while(b, lambda: b.icmp_signed("!=", b.load(b.gep(slots, [b.load(slot)])), ZERO)):
                b.store(b.and_(b.add(b.load(slot), ONE), mask), slot)
            b.store(b.add(j, ONE, flags=NSW), b.gep(slots, [b.load(slot)]))
    b.ret_void()


# --------------------------------------------------------------------------- builder helpers
def _function(module: ir.Module, name: str, ret, args) -> tuple[ir.Function, ir.IRBuilder]:
    """The function and a builder at its start; its entry block holds only the stack variables (``_local``)."""
    fn = ir.Function(module, ir.FunctionType(ret, args), name)
    fn.attributes.add("nounwind")
    entry, start = fn.append_basic_block("entry"), fn.append_basic_block("start")
    ir.IRBuilder(entry).branch(start)
    return fn, ir.IRBuilder(start)


def _push(b: ir.IRBuilder, out, k, value) -> None:
    """``out[k++] = value``."""
    at = b.load(k)
    b.store(value, b.gep(out, [at]))
    b.store(b.add(at, ONE, flags=NSW), k)


def _step(b: ir.IRBuilder, var, condition) -> None:
    """``var += condition``."""
    b.store(b.add(b.load(var), b.zext(condition, I64), flags=NSW), var)


def _both(b: ir.IRBuilder, first, second):
    """``first && second()``: ``second`` is built (and its loads run) only when ``first`` holds."""
    return _short(b, first, second, then_second=True)


def _either(b: ir.IRBuilder, first, second):
    """``first || second()``: ``second`` is built (and its loads run) only when ``first`` fails."""
    return _short(b, first, second, then_second=False)


def _short(b: ir.IRBuilder, first, second, then_second: bool):
    start = b.block
    more = b.function.append_basic_block("more")
    join = b.function.append_basic_block("join")
    b.cbranch(first, more, join) if then_second else b.cbranch(first, join, more)
    b.position_at_end(more)
    value = second()
    end = b.block
    b.branch(join)
    b.position_at_end(join)
    phi = b.phi(I1)
    phi.add_incoming(ir.Constant(I1, 0 if then_second else 1), start)
    phi.add_incoming(value, end)
    return phi


@contextmanager
def _while(b: ir.IRBuilder, condition):
    """``while (condition())`` around the body built inside the ``with`` block."""
    fn = b.function
    test, body, done = (fn.append_basic_block(n) for n in ("while_test", "while_body", "while_done"))
    b.branch(test)
    b.position_at_end(test)
    b.cbranch(condition(), body, done)
    b.position_at_end(body)
    yield
    b.branch(test)
    b.position_at_end(done)


@contextmanager
def _range(b: ir.IRBuilder, lo, hi, name: str):
    """``for (i = lo; i < hi; i++)``, yielding ``i``."""
    var = local(b, lo, name)
    with _while(b, lambda: b.icmp_signed("<", b.load(var), hi)):
        i = b.load(var)
        yield i
        b.store(b.add(i, ONE, flags=NSW), var)
