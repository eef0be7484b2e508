"""The bitset kernels of dense semi-naive strata (``kernel.BitsetOps``) as LLVM IR with ``llvmlite.ir.IRBuilder``.

A relation of one or two arguments is a ``rows × words`` uint64 array, C order: row ``x`` holds the pairs ``(x, y)``
as bit ``y % 64`` of word ``y // 64`` (a unary relation is one row); bits past the last column are 0. Every function
takes a range ``[lo, hi)`` of rows (or, for ``advance``, of words) so that threads may take disjoint ranges:

- ``void f_product(out, left, right, live, lwords, rwords, per, rper, lo, hi)``: ``out[x] |= right[b × rper + y]``
  for every bit ``y`` of ``left[x] & live[b]``, ``b = x / per`` (``live`` marks the rows of ``right`` that hold a
  bit): a Boolean matrix product, one word OR per word of a row of ``right`` per pair of ``left``, the set bits found
  by counting trailing zeros; in batches of ``per`` rows of ``left`` and ``rper`` of ``right`` (one batch: ``per``
  at least ``left``'s rows), one product per combination of the variables both sides keep;
- ``void f_scatter(out, left, live, indptr, columns, lwords, owords, lo, hi)``: the same product with ``right`` as
  CSR (``indptr``, ``columns``): bit ``z`` of ``out[x]`` set for each column ``z`` of each row ``y`` of ``left[x] &
  live``, one bit set per pair and column instead of a row of word ORs (for a right side of sparse rows);
- ``void f_transpose(out, in, inwords, outwords, per, columns, lo, hi)``: ``in``'s rows in batches of ``per``, each
  batch a ``per × columns`` bit matrix transposed: ``out[b × columns + y] |= bit j`` for every bit ``y`` of ``in[b ×
  per + j]`` (one batch: a binary relation's transpose; several: a relation of more arguments whose last argument
  trades places with another). ``[lo, hi)`` ranges over units of 64 rows of one batch (``⌈per / 64⌉`` units a
  batch), so each thread writes its own words of ``out``;
- ``void f_any(out, in, words, lo, hi)``: bit ``x`` of ``out`` set when row ``x`` of ``in`` holds a bit (ranges of
  64 rows, as for the transpose);
- ``void f_and / f_andnot / f_or(out, a, b, words, bstride, lo, hi)``: ``out[x] = a[x] op b[x * bstride]`` word by
  word (``bstride`` 0: every row against ``b``'s one row); ``out`` may be ``a``;
- ``void f_select(out, m, u, words, mstride, invert, lo, hi)``: ``out[x] = m[x * mstride]`` where bit ``x`` of
  ``u`` is set (clear, with ``invert``), else 0;
- ``void f_gather(out, in, base, inwords, outwords, per, stride, column, step, lo, hi)``: for each row ``r`` of
  ``out`` and ``j < per``, bit ``j`` of ``out[r]`` set when bit ``column + step × j`` of ``in[base[r] + stride × j]``
  is (one column of a relation, or a diagonal whose second argument is the last, as bitset rows: a constant or a
  repeated variable in an atom; ``base`` and ``stride`` read the rows in place, whatever the arguments' order);
- ``void f_place(out, u, base, outwords, uwords, stride, column, step, lo, hi)``: bit ``column + step × j`` of
  ``out[base[r] + stride × j]`` set for each bit ``j`` of each row ``r`` of ``u`` (``gather``'s inverse: a unary
  relation written into one column, or the diagonal, of a binary one; a relation's rows each written on a diagonal
  of the head's rows, for a head repeating its last variable);
- ``i64 f_advance(new, known, lo, hi)``: one semi-naive step over words: ``new &= ~known; known |= new``, returning
  how many bits ``new`` keeps (the round's new tuples).
"""

from __future__ import annotations

from llvmlite import ir

from tlc.backends.llvm.kernel import BitsetOps
from tlc.backends.llvm.loops import counted, local

I64 = ir.IntType(64)
I1 = ir.IntType(1)
P64 = I64.as_pointer()
NSW = ("nsw",)
ZERO, ONE = ir.Constant(I64, 0), ir.Constant(I64, 1)
SIX, LOW6 = ir.Constant(I64, 6), ir.Constant(I64, 63)
COMBINE = {"and": lambda b, x, y: b.and_(x, y), "andnot": lambda b, x, y: b.and_(x, b.not_(y)),
           "or": lambda b, x, y: b.or_(x, y)}
"""The word operations of ``f_and``, ``f_andnot`` and ``f_or``."""


def bitsets_module(ops: BitsetOps) -> ir.Module:
    """An LLVM module holding ``ops.symbol``'s functions (see the module docstring)."""
    module = ir.Module(name=ops.symbol)
    or_row = _or_row(module, f"{ops.symbol}_or_row")
    _product(module, f"{ops.symbol}_product", or_row)
    _scatter(module, f"{ops.symbol}_scatter")
    _transpose(module, f"{ops.symbol}_transpose")
    _any(module, f"{ops.symbol}_any")
    for name, op in COMBINE.items():
        _combine(module, f"{ops.symbol}_{name}", op)
    _select(module, f"{ops.symbol}_select")
    _gather(module, f"{ops.symbol}_gather")
    _place(module, f"{ops.symbol}_place")
    _advance(module, f"{ops.symbol}_advance")
    return module


def _function(module: ir.Module, name: str, result, args: list) -> tuple[ir.Function, ir.IRBuilder]:
    fn = ir.Function(module, ir.FunctionType(result, args), name)
    fn.attributes.add("nounwind")
    return fn, ir.IRBuilder(fn.append_basic_block("entry"))


def _bits(b: ir.IRBuilder, word, body) -> None:
    """``body(bit)`` for each set bit of ``word``, lowest first."""
    fn = b.function
    before = b.block
    test, loop, done = (fn.append_basic_block(n) for n in ("bits_test", "bits_body", "bits_done"))
    b.branch(test)
    b.position_at_end(test)
    rest = b.phi(I64, name="rest")
    rest.add_incoming(word, before)
    b.cbranch(b.icmp_unsigned("!=", rest, ZERO), loop, done)
    b.position_at_end(loop)
    body(b.cttz(rest, ir.Constant(I1, 1)))
    rest.add_incoming(b.and_(rest, b.sub(rest, ONE)), b.block)
    b.branch(test)
    b.position_at_end(done)


def _or_row(module: ir.Module, name: str) -> ir.Function:
    """``dst[w] |= src[w]`` for ``w`` in ``[0, words)``, the rows distinct (``noalias``), inlined."""
    fn, b = _function(module, name, ir.VoidType(), [P64, P64, I64])
    fn.linkage = "internal"
    fn.attributes.add("alwaysinline")
    dst, src, words = fn.args
    dst.add_attribute("noalias")
    src.add_attribute("noalias")
    with counted(b, ZERO, words, "w") as w:
        target = b.gep(dst, [w])
        b.store(b.or_(b.load(target), b.load(b.gep(src, [w]))), target)
    b.ret_void()
    return fn


def _product(module: ir.Module, name: str, or_row: ir.Function) -> None:
    fn, b = _function(module, name, ir.VoidType(), [P64] * 4 + [I64] * 6)
    out, left, right, live, lwords, rwords, per, rper, lo, hi = fn.args
    with counted(b, lo, hi, "x") as x:
        batch = b.udiv(x, per)
        row = b.gep(out, [b.mul(x, rwords, flags=NSW)])
        first = b.mul(batch, rper, flags=NSW)
        _each_live(b, left, b.gep(live, [b.mul(batch, lwords, flags=NSW)]), x, lwords,
                   lambda y: b.call(or_row, [row, b.gep(right, [b.mul(b.add(first, y, flags=NSW), rwords, flags=NSW)]),
                                             rwords]))
    b.ret_void()


def _scatter(module: ir.Module, name: str) -> None:
    fn, b = _function(module, name, ir.VoidType(), [P64] * 5 + [I64] * 4)
    out, left, live, indptr, columns, lwords, owords, lo, hi = fn.args
    with counted(b, lo, hi, "x") as x:

        def join(y):
            start = b.load(b.gep(indptr, [y]))
            stop = b.load(b.gep(indptr, [b.add(y, ONE, flags=NSW)]))
            with counted(b, start, stop, "e") as e:
                _set_bit(b, out, x, owords, b.load(b.gep(columns, [e])))
        _each_live(b, left, live, x, lwords, join)
    b.ret_void()


def _each_live(b: ir.IRBuilder, left, live, x, lwords, join) -> None:
    """``join(y)`` for each ``y`` set in both row ``x`` of ``left`` (``lwords`` words a row) and ``live``."""
    first = b.mul(x, lwords, flags=NSW)
    with counted(b, ZERO, lwords, "w") as w:
        word = b.and_(b.load(b.gep(left, [b.add(first, w, flags=NSW)])), b.load(b.gep(live, [w])))
        base = b.shl(w, SIX)
        _bits(b, word, lambda bit: join(b.add(base, bit, flags=NSW)))


def _set_bit(b: ir.IRBuilder, array, row, words, column, bit=ONE) -> None:
    """Row ``row`` of ``array`` (``words`` a row) gains ``bit`` (1, or a 0 or 1 computed) at ``column``."""
    at = b.gep(array, [b.add(b.mul(row, words, flags=NSW), b.lshr(column, SIX), flags=NSW)])
    b.store(b.or_(b.load(at), b.shl(bit, b.and_(column, LOW6))), at)


def _transpose(module: ir.Module, name: str) -> None:
    fn, b = _function(module, name, ir.VoidType(), [P64] * 2 + [I64] * 6)
    out, source, inwords, outwords, per, columns, lo, hi = fn.args
    blocks = b.lshr(b.add(per, LOW6, flags=NSW), SIX)
    with counted(b, lo, hi, "u") as u:
        batch = b.udiv(u, blocks)
        start = b.shl(b.urem(u, blocks), SIX)
        stop = b.add(start, ir.Constant(I64, 64), flags=NSW)
        stop = b.select(b.icmp_unsigned("<", stop, per), stop, per)
        first = b.mul(batch, per, flags=NSW)
        target = b.mul(batch, columns, flags=NSW)
        with counted(b, start, stop, "j") as j:
            row = b.mul(b.add(first, j, flags=NSW), inwords, flags=NSW)
            with counted(b, ZERO, inwords, "w") as w:
                word = b.load(b.gep(source, [b.add(row, w, flags=NSW)]))
                base = b.shl(w, SIX)
                _bits(b, word, lambda bit: _set_bit(b, out, b.add(target, b.add(base, bit, flags=NSW), flags=NSW),
                                                    outwords, j))
    b.ret_void()


def _any(module: ir.Module, name: str) -> None:
    fn, b = _function(module, name, ir.VoidType(), [P64] * 2 + [I64] * 3)
    out, source, words, lo, hi = fn.args
    with counted(b, lo, hi, "x") as x:
        first = b.mul(x, words, flags=NSW)
        seen = local(b, ZERO, "seen")
        with counted(b, ZERO, words, "w") as w:
            b.store(b.or_(b.load(seen), b.load(b.gep(source, [b.add(first, w, flags=NSW)]))), seen)
        with b.if_then(b.icmp_unsigned("!=", b.load(seen), ZERO)):
            _set_bit(b, out, ZERO, ZERO, x)
    b.ret_void()


def _combine(module: ir.Module, name: str, op) -> None:
    fn, b = _function(module, name, ir.VoidType(), [P64] * 3 + [I64] * 4)
    out, a, other, words, stride, lo, hi = fn.args
    with counted(b, lo, hi, "x") as x:
        first = b.mul(x, words, flags=NSW)
        second = b.mul(x, stride, flags=NSW)
        with counted(b, ZERO, words, "w") as w:
            at = b.add(first, w, flags=NSW)
            value = op(b, b.load(b.gep(a, [at])), b.load(b.gep(other, [b.add(second, w, flags=NSW)])))
            b.store(value, b.gep(out, [at]))
    b.ret_void()


def _select(module: ir.Module, name: str) -> None:
    fn, b = _function(module, name, ir.VoidType(), [P64] * 3 + [I64] * 5)
    out, m, u, words, stride, invert, lo, hi = fn.args
    with counted(b, lo, hi, "x") as x:
        keep = b.icmp_unsigned("!=", b.xor(_bit(b, u, ZERO, ZERO, x), b.and_(invert, ONE)), ZERO)
        mask = b.sub(ZERO, b.zext(keep, I64))      # all ones where the row is kept
        first = b.mul(x, words, flags=NSW)
        second = b.mul(x, stride, flags=NSW)
        with counted(b, ZERO, words, "w") as w:
            value = b.and_(b.load(b.gep(m, [b.add(second, w, flags=NSW)])), mask)
            b.store(value, b.gep(out, [b.add(first, w, flags=NSW)]))
    b.ret_void()


def _bit(b: ir.IRBuilder, array, row, words, column):
    """Bit ``column`` of row ``row`` of ``array`` (``words`` a row), as 0 or 1."""
    word = b.load(b.gep(array, [b.add(b.mul(row, words, flags=NSW), b.lshr(column, SIX), flags=NSW)]))
    return b.and_(b.lshr(word, b.and_(column, LOW6)), ONE)


def _gather(module: ir.Module, name: str) -> None:
    fn, b = _function(module, name, ir.VoidType(), [P64] * 3 + [I64] * 8)
    out, source, base, inwords, outwords, per, stride, column, step, lo, hi = fn.args
    with counted(b, lo, hi, "r") as r:
        first = b.load(b.gep(base, [r]))
        with counted(b, ZERO, per, "j") as j:
            x = b.add(first, b.mul(j, stride, flags=NSW), flags=NSW)
            bit = _bit(b, source, x, inwords, b.add(column, b.mul(step, j, flags=NSW), flags=NSW))
            _set_bit(b, out, r, outwords, j, bit)
    b.ret_void()


def _place(module: ir.Module, name: str) -> None:
    fn, b = _function(module, name, ir.VoidType(), [P64] * 3 + [I64] * 7)
    out, u, base, outwords, uwords, stride, column, step, lo, hi = fn.args
    with counted(b, lo, hi, "r") as r:
        first = b.load(b.gep(base, [r]))
        start = b.mul(r, uwords, flags=NSW)
        with counted(b, ZERO, uwords, "w") as w:
            word = b.load(b.gep(u, [b.add(start, w, flags=NSW)]))
            low = b.shl(w, SIX)

            def put(bit):
                j = b.add(low, bit, flags=NSW)
                row = b.add(first, b.mul(j, stride, flags=NSW), flags=NSW)
                _set_bit(b, out, row, outwords, b.add(column, b.mul(step, j, flags=NSW), flags=NSW))
            _bits(b, word, put)
    b.ret_void()


def _advance(module: ir.Module, name: str) -> None:
    fn, b = _function(module, name, I64, [P64] * 2 + [I64] * 2)
    new, known, lo, hi = fn.args
    new.add_attribute("noalias")
    known.add_attribute("noalias")
    count = local(b, ZERO, "count")
    with counted(b, lo, hi, "w") as w:
        at_new, at_known = b.gep(new, [w]), b.gep(known, [w])
        old = b.load(at_known)
        fresh = b.and_(b.load(at_new), b.not_(old))
        b.store(fresh, at_new)
        b.store(b.or_(old, fresh), at_known)
        b.store(b.add(b.load(count), b.ctpop(fresh), flags=NSW), count)
    b.ret(b.load(count))
