"""Kernel IR -> LLVM IR with ``llvmlite.ir.IRBuilder``: one function per kernel.

The function is ``void name(out, count, array0, ..., params, ints)``: ``out``/``count`` and the
arrays are pointers (``noalias`` unless an array may be the output itself), ``params`` points at the
float64 scalar parameters and ``ints`` at the int64 ranges and extents (layout in ``Kernel``).
Arrays are C-contiguous, so the innermost axis has stride 1 as a compile-time fact and contiguous
reads vectorise; the other strides are products of run-time extents.

Loop order: output loops as given (the LHS order, row-major output), each ``Reduce`` innermost in a
register accumulator, or (``Kernel.rows``) reductions outside a tile of the innermost output loop
so that reads contiguous along it vectorise (the min-plus / conv case). Sum reductions carry the
``reassoc`` fast-math flag so they vectorise: the sum is reassociated (rounding differs from a
sequential sum by a few ulps); no other fast-math flag is used, so inf and NaN keep IEEE meaning
(``min=`` shortest paths over ``inf`` edges stay exact). ``max=``/``min=`` folds skip NaN contributions
(``llvm.maxnum``/``minnum``, NumPy's ``fmax``); the functions ``max(a, b)``/``min(a, b)`` propagate NaN. ``exp``
(and so ``sig`` and ``softmax``) and ``log`` are polynomials in straight-line IR, within 1 ulp of libm, so
they vectorise (exp's with ``llvm.fmuladd``, fused where the CPU has FMA, so its last bit may differ between CPUs);
``sin cos tanh`` call libm.
"""

from __future__ import annotations

import math
import struct

from llvmlite import ir

from tlc.backends.llvm.kernel import (
    LNORM_EPS, Binary, IndexVal, Kernel, KernelError, Lit, Normalize, Param, Pos, Read, Reduce, Sig, Unary,
    free_variables, validate, walk,
)

F64 = ir.DoubleType()
I64 = ir.IntType(64)
I8 = ir.IntType(8)
I1 = ir.IntType(1)
TILE = 64
"""Elements of the innermost output loop accumulated together by a ``rows`` kernel (8 AVX-512 vectors)."""
ROW_BLOCK = 2
ROW_TILE = 32
"""A float ``rows`` kernel accumulates ``ROW_BLOCK`` rows of ``ROW_TILE`` elements at once (8 vector
registers): each load of an operand moving with the tile feeds both rows. Measured on a 1024^3 min-plus
product: 2 x 32 ran 1.4x faster than 1 x 64 and compiled in a third of the time of 4 x 32."""
SUM_FLAGS = ("reassoc",)
NSW = ("nsw",)
_IDENTITY = {"sum": 0.0, "max": float("nan"), "min": float("nan")}
"""Start of a reduction; for max/min NaN is "no contribution yet", which ``llvm.maxnum`` skips."""
_LIBM = {"sqrt": "llvm.sqrt", "abs": "llvm.fabs", "sin": "llvm.sin", "cos": "llvm.cos"}
_LG = (6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01, 2.222219843214978396e-01,
       1.818357216161805012e-01, 1.531383769920937332e-01, 1.479819860511658591e-01)
"""fdlibm's ``Lg1``..``Lg7``: log(1 + f) = 2s + s R(s^2) with s = f / (2 + f), R a polynomial (error < 2^-58.45)."""
_LOG2E = 1.4426950408889634
_LN2_HI = 0.693147180369123816490      # few mantissa bits: k * _LN2_HI is exact (Cody-Waite)
_LN2_LO = 1.90821492927058770002e-10
_EXP_TERMS = 14
"""exp(r) on |r| <= ln2/2 by its Taylor series to r^13 (truncation < 1e-17 relative)."""
_SHIFTER = 6755399441055744.0
"""1.5 * 2^52: ``v + _SHIFTER`` rounds ``v`` (|v| < 2^51) to the nearest integer, even on ties (as ``rint``), which the
sum's low mantissa bits then hold."""
_SHIFTER_BITS = struct.unpack("<q", struct.pack("<d", _SHIFTER))[0]
"""``_SHIFTER``'s bits as an int64: the shifted sum's bits minus these are the integer it rounded to."""


def kernel_module(kernel: Kernel, name: str) -> ir.Module:
    """An LLVM module holding the kernel as function ``name``; raises ``KernelError``."""
    validate(kernel)
    return _Codegen(kernel, name).module


class _Codegen:
    def __init__(self, kernel: Kernel, name: str):
        self.k = kernel
        self.module = ir.Module(name=name)
        n = len(kernel.arrays)
        out_ty = (F64 if kernel.output.dtype == "f64" else I8).as_pointer()
        arg_types = [out_ty, F64.as_pointer()]
        arg_types += [(F64 if a.dtype == "f64" else I8).as_pointer() for a in kernel.arrays]
        arg_types += [F64.as_pointer(), I64.as_pointer()]
        self.fn = ir.Function(self.module, ir.FunctionType(ir.VoidType(), arg_types), name)
        self.fn.attributes.add("nounwind")
        aliased = any(a.aliased for a in kernel.arrays)
        for k, arg in enumerate(self.fn.args):
            if k < 2 + n and not (k == 0 and aliased) and not (2 <= k < 2 + n and kernel.arrays[k - 2].aliased):
                arg.add_attribute("noalias")
        self.out, self.count = self.fn.args[0], self.fn.args[1]
        self.arrays = list(self.fn.args[2:2 + n])
        self.params, self.ints = self.fn.args[2 + n], self.fn.args[3 + n]
        self.entry = self.fn.append_basic_block("entry")
        self.allocas = ir.IRBuilder(self.entry)
        body = self.fn.append_basic_block("body")
        self.b = ir.IRBuilder(body)
        self.env: dict[str, ir.Value] = {}
        self.bound: dict[int, object] = {}    # id(Reduce) -> callable giving its value in rows mode
        self._prologue()
        self.stats: dict[int, tuple] = {}
        normalizers = [n for n in walk(kernel.value) if isinstance(n, Normalize)]
        if kernel.rows:
            self._rows()
        elif _softmax_in_place(kernel):
            self._nest(list(kernel.loops[:-1]), lambda: self._softmax_row(kernel.value))
        elif normalizers:
            def row():
                for node in normalizers:
                    self.stats[id(node)] = self._row_statistics(node)
                self._nest([kernel.loops[-1]], lambda: self._store(kernel.value))
            self._nest(list(kernel.loops[:-1]), row)
        else:
            self._nest(list(kernel.loops), lambda: self._store(kernel.value))
        self.b.ret_void()
        self.allocas.position_at_end(self.entry)
        self.allocas.branch(body)

    # ------------------------------------------------------------ set-up
    def _int(self, k: int) -> ir.Value:
        return self.b.load(self.b.gep(self.ints, [ir.Constant(I64, k)], inbounds=True), name=f"int{k}")

    def _prologue(self) -> None:
        k = self.k
        self.lo, self.hi = {}, {}
        for n, var in enumerate(k.variables):
            self.lo[var] = self._int(2 * n)
            self.hi[var] = self._int(2 * n + 1)
        at = 2 * len(k.variables)
        self.out_strides = self._strides(at, len(k.output.pos))
        at += len(k.output.pos)
        self.strides = []
        for array in k.arrays:
            self.strides.append(self._strides(at, array.rank))
            at += array.rank
        self.base = {var: self._int(at + n) for n, var in enumerate(k.local_variables)}
        self.weight = None
        if k.count is not None:
            weight = ir.Constant(I64, 1)
            for var in k.count:
                weight = self.b.mul(weight, self.b.sub(self.hi[var], self.lo[var]))
            self.weight = self.b.sitofp(weight, F64)

    def _strides(self, at: int, rank: int) -> list[ir.Value]:
        strides = [ir.Constant(I64, 1)] * rank
        for a in range(rank - 2, -1, -1):
            strides[a] = self.b.mul(strides[a + 1], self._int(at + a + 1), flags=NSW)
        return strides

    def _alloca(self, ty, name: str) -> ir.Value:
        self.allocas.position_at_start(self.entry)
        return self.allocas.alloca(ty, name=name)

    # ------------------------------------------------------------ loops
    def _loop(self, name: str, lo, hi, body, step: int = 1) -> None:
        """``for name in range(lo, hi, step): body(value)``."""
        b = self.b
        pre = b.block
        head = self.fn.append_basic_block(f"{name}.head")
        inner = self.fn.append_basic_block(f"{name}.body")
        done = self.fn.append_basic_block(f"{name}.done")
        b.branch(head)
        b.position_at_end(head)
        phi = b.phi(I64, name=name)
        phi.add_incoming(lo, pre)
        b.cbranch(b.icmp_signed("<", phi, hi), inner, done)
        b.position_at_end(inner)
        body(phi)
        phi.add_incoming(b.add(phi, ir.Constant(I64, step), flags=NSW), b.block)
        b.branch(head)
        b.position_at_end(done)

    def _nest(self, variables: list[str], innermost) -> None:
        if not variables:
            innermost()
            return
        var = variables[0]

        def body(value):
            self.env[var] = value
            self._nest(variables[1:], innermost)
        self._loop(var, self.lo[var], self.hi[var], body)

    # ------------------------------------------------------------ addressing
    def _position(self, pos: Pos) -> ir.Value:
        b = self.b
        value = ir.Constant(I64, pos.offset)
        for var, coef in pos.terms:
            term = self.env[var] if coef == 1 else b.mul(self.env[var], ir.Constant(I64, coef), flags=NSW)
            value = b.add(value, term, flags=NSW)
        for var in pos.local:
            value = b.sub(value, self.base[var], flags=NSW)
        if pos.divisor != 1:
            value = b.sdiv(value, ir.Constant(I64, pos.divisor))   # positions are >= 0 (checked), so sdiv floors
        if pos.modulo:
            value = b.srem(value, ir.Constant(I64, pos.modulo))
        return value

    def _address(self, base, strides, positions) -> ir.Value:
        b = self.b
        linear = ir.Constant(I64, 0)
        for pos, stride in zip(positions, strides):
            p = self._position(pos)
            term = p if isinstance(stride, ir.Constant) and stride.constant == 1 else b.mul(p, stride, flags=NSW)
            linear = b.add(linear, term, flags=NSW)
        return b.gep(base, [linear], inbounds=True)

    # ------------------------------------------------------------ expressions (float64)
    def value(self, node) -> ir.Value:
        """Lower an expression to a double."""
        if id(node) in self.bound:
            return self.bound[id(node)]("f64")
        handler = _VALUE.get(type(node))
        if handler is None:
            raise KernelError(f"the LLVM backend cannot compile {type(node).__name__} nodes")
        return handler(self, node)

    def _lit(self, node: Lit):
        return ir.Constant(F64, float(node.value))

    def _param(self, node: Param):
        return self.b.load(self.b.gep(self.params, [ir.Constant(I64, node.index)], inbounds=True))

    def _index(self, node: IndexVal):
        return self.b.sitofp(self.env[node.var], F64)

    def _read(self, node: Read):
        array = self.k.arrays[node.array]
        loaded = self.b.load(self._address(self.arrays[node.array], self.strides[node.array], node.pos))
        if array.dtype == "f64":
            return loaded
        # a truth value (0/1) as 1.0 or 0.0 by a select, not uitofp: uitofp from a strided i8 read under sin in a
        # softmax's loop made LLVM's loop vectoriser abort the process (its two cost models disagreed)
        truth = self.b.icmp_unsigned("!=", loaded, ir.Constant(I8, 0))
        return self.b.select(truth, ir.Constant(F64, 1.0), ir.Constant(F64, 0.0))

    def _intrinsic(self, name: str, *args) -> ir.Value:
        fn = self.module.declare_intrinsic(name, [F64], ir.FunctionType(F64, [F64] * len(args)))
        return self.b.call(fn, list(args))

    def _libm(self, name: str, *args) -> ir.Value:
        fn = self.module.globals.get(name)
        if fn is None:
            fn = ir.Function(self.module, ir.FunctionType(F64, [F64] * len(args)), name)
        return self.b.call(fn, list(args))

    def _unary(self, node: Unary):
        x = self.value(node.x)
        b = self.b
        if node.op == "neg":
            return b.fneg(x)
        if node.op == "exp":
            return self._exp(x)
        if node.op == "log":
            return self._log(x)
        if node.op in _LIBM:
            return self._intrinsic(_LIBM[node.op], x)
        if node.op == "tanh":
            return self._libm("tanh", x)
        if node.op == "relu":      # x where x > 0 or NaN, like NumPy's maximum(x, 0)
            zero = ir.Constant(F64, 0.0)
            return b.select(b.fcmp_unordered(">", x, zero), x, zero)
        if node.op == "step":
            return b.uitofp(b.fcmp_ordered(">", x, ir.Constant(F64, 0.0)), F64)
        raise KernelError(f"the LLVM backend has no elementwise function {node.op!r}")

    def _exp(self, x) -> ir.Value:
        """exp in straight-line IR, so loops around it vectorise (``llvm.exp`` stays a scalar libm call):
        x = k ln2 + r, a polynomial for exp(r), times 2^k built from exponent bits in two halves (so
        overflow gives inf and underflow subnormals or 0). Within a few ulps of libm; NaN stays NaN."""
        b = self.b
        const = lambda v: ir.Constant(F64, v)  # noqa: E731
        clamped = self._intrinsic("llvm.maxnum", self._intrinsic("llvm.minnum", x, const(710.0)), const(-746.0))
        shifted = b.fadd(b.fmul(clamped, const(_LOG2E)), const(_SHIFTER))     # rounded to an integer k, in its bits
        k = b.fsub(shifted, const(_SHIFTER))
        r = b.fsub(b.fsub(clamped, b.fmul(k, const(_LN2_HI))), b.fmul(k, const(_LN2_LO)))
        r2 = b.fmul(r, r)
        tail = self._estrin(r, r2, [1.0 / math.factorial(n) for n in range(2, _EXP_TERMS)])
        poly = b.fadd(const(1.0), self._fmuladd(r2, tail, r))       # 1 + (r + r^2 tail): one rounding near 1
        ki = b.sub(b.bitcast(shifted, I64), ir.Constant(I64, _SHIFTER_BITS))   # (AVX2 has no vector fptosi to i64)
        half = b.ashr(ki, ir.Constant(I64, 1))

        def power_of_two(e):
            bits = b.shl(b.add(e, ir.Constant(I64, 1023)), ir.Constant(I64, 52))
            return b.bitcast(bits, F64)
        value = b.fmul(b.fmul(poly, power_of_two(half)), power_of_two(b.sub(ki, half)))
        return b.select(b.fcmp_unordered("uno", x, x), x, value)

    def _fmuladd(self, a, b, c) -> ir.Value:
        """``a * b + c``, fused into one instruction where the CPU has one (``llvm.fmuladd``), else a multiply and an
        add."""
        return self._intrinsic("llvm.fmuladd", a, b, c)

    def _estrin(self, x, x2, coefficients: list[float]) -> ir.Value:
        """The polynomial ``sum(c_n x^n)`` by Estrin's scheme: pairs ``c_2k + c_2k+1 x``, then pairs of those
        with ``x^2``, ``x^4``...: about log2(len) dependent steps where Horner's rule takes len, so a vectorised
        loop is not held up by the latency of each step (exp's 13 steps took ~11 cycles an element)."""
        const = lambda v: ir.Constant(F64, v)  # noqa: E731
        terms = [self._fmuladd(x, const(coefficients[k + 1]), const(coefficients[k])) if k + 1 < len(coefficients)
                 else const(coefficients[k]) for k in range(0, len(coefficients), 2)]
        power = x2
        while len(terms) > 1:
            terms = [self._fmuladd(power, terms[k + 1], terms[k]) if k + 1 < len(terms) else terms[k]
                     for k in range(0, len(terms), 2)]
            if len(terms) > 1:
                power = self.b.fmul(power, power)
        return terms[0]

    def _log(self, x) -> ir.Value:
        """log in straight-line IR, so loops around it vectorise (``llvm.log`` stays a scalar libm call): fdlibm's
        ``__ieee754_log`` with both of its final formulas computed and one selected instead of branching. x = 2^k m
        with m in [sqrt(2)/2, sqrt(2)) (a subnormal x scaled by 2^54 first), f = m - 1, s = f / (2 + f), log(1 + f) =
        f - s (f - R(s^2)) or, for the larger f, f - (f^2/2 - s (f^2/2 + R)); then + k ln2 in two parts. Under 1 ulp;
        log(0) is -inf, a negative x or NaN gives NaN, log(inf) is inf."""
        b = self.b
        const = lambda v: ir.Constant(F64, v)  # noqa: E731
        word = lambda v: ir.Constant(I64, v)  # noqa: E731
        tiny = b.fcmp_ordered("<", x, const(2.2250738585072014e-308))
        scaled = b.select(tiny, b.fmul(x, const(18014398509481984.0)), x)          # 2^54
        bits = b.bitcast(scaled, I64)
        high = b.ashr(bits, word(32))
        k = b.sub(b.ashr(high, word(20)), b.select(tiny, word(1023 + 54), word(1023)))
        mantissa = b.and_(high, word(0x000FFFFF))
        half = b.and_(b.add(mantissa, word(0x95F64)), word(0x100000))   # m >= sqrt(2): halve it, one more power
        k = b.add(k, b.ashr(half, word(20)))
        m_high = b.or_(mantissa, b.xor(half, word(0x3FF00000)))
        m_bits = b.or_(b.shl(m_high, word(32)), b.and_(bits, word(0xFFFFFFFF)))
        f = b.fsub(b.bitcast(m_bits, F64), const(1.0))
        s = b.fdiv(f, b.fadd(const(2.0), f))
        z = b.fmul(s, s)
        w = b.fmul(z, z)
        t1 = b.fmul(w, b.fadd(const(_LG[1]), b.fmul(w, b.fadd(const(_LG[3]), b.fmul(w, const(_LG[5]))))))
        t2 = b.fmul(z, b.fadd(const(_LG[0]), b.fmul(w, b.fadd(const(_LG[2]), b.fmul(
            w, b.fadd(const(_LG[4]), b.fmul(w, const(_LG[6]))))))))
        r = b.fadd(t2, t1)
        dk = b.sitofp(k, F64)
        large = b.icmp_signed(">", b.or_(b.sub(mantissa, word(0x6147A)), b.sub(word(0x6B851), mantissa)), word(0))
        hfsq = b.fmul(const(0.5), b.fmul(f, f))
        with_square = b.fsub(b.fmul(dk, const(_LN2_HI)), b.fsub(b.fsub(hfsq, b.fadd(
            b.fmul(s, b.fadd(hfsq, r)), b.fmul(dk, const(_LN2_LO)))), f))
        plain = b.fsub(b.fmul(dk, const(_LN2_HI)), b.fsub(b.fsub(b.fmul(s, b.fsub(f, r)),
                                                                 b.fmul(dk, const(_LN2_LO))), f))
        value = b.select(large, with_square, plain)
        value = b.select(b.fcmp_ordered("==", x, const(math.inf)), x, value)
        value = b.select(b.fcmp_ordered("==", x, const(0.0)), const(-math.inf), value)
        return b.select(b.fcmp_unordered("<", x, const(0.0)), const(math.nan), value)     # NaN or negative

    def _binary(self, node: Binary):
        b = self.b
        if node.op == "pow" and isinstance(node.b, Lit) and node.b.value == 2.0:
            x = self.value(node.a)
            return b.fmul(x, x)      # NumPy squares exactly too
        x, y = self.value(node.a), self.value(node.b)
        ops = {"add": b.fadd, "sub": b.fsub, "mul": b.fmul, "div": b.fdiv}
        if node.op in ops:
            return ops[node.op](x, y)
        if node.op == "pow":
            return self._intrinsic("llvm.pow", x, y)
        if node.op in ("max", "min"):
            return self._minmax(node.op, x, y)
        raise KernelError(f"the LLVM backend has no binary operation {node.op!r}")

    def _sig(self, node: Sig):
        b = self.b
        x = self.value(node.x)
        zero, one = ir.Constant(F64, 0.0), ir.Constant(F64, 1.0)
        z = x if node.t is None else b.fdiv(x, self.value(node.t))
        e = self._exp(b.fneg(self._intrinsic("llvm.fabs", z)))
        denom = b.fadd(one, e)
        stable = b.select(b.fcmp_ordered(">=", z, zero), b.fdiv(one, denom), b.fdiv(e, denom))
        if node.t is None:
            return stable
        step = b.uitofp(b.fcmp_ordered(">", x, zero), F64)
        return b.select(b.fcmp_ordered("==", self.value(node.t), zero), step, stable)

    def _reduce(self, node: Reduce):
        if node.op == "or":
            return self.b.uitofp(self._reduce_or(node), F64)
        acc = self._alloca(F64, f"acc.{node.op}")
        self.b.store(ir.Constant(F64, _IDENTITY[node.op]), acc)

        def innermost():
            self.b.store(self._accumulate(node.op, self.b.load(acc), self.value(node.body)), acc)
        self._nest(list(node.vars), innermost)
        return self.b.load(acc)

    def _fold(self, var: str, op: str, term) -> ir.Value:
        """``op`` over the whole range of ``var`` of ``term()`` (evaluated with ``var`` bound)."""
        acc = self._alloca(F64, f"row.{op}")
        self.b.store(ir.Constant(F64, _IDENTITY[op]), acc)

        def body(value):
            self.env[var] = value
            self.b.store(self._accumulate(op, self.b.load(acc), term()), acc)
        self._loop(f"{var}.row", self.lo[var], self.hi[var], body)
        return self.b.load(acc)

    def _row_statistics(self, node: Normalize) -> tuple:
        """Per-row values a softmax (max, sum of exp) or lnorm (mean, 1/sqrt(var + eps)) needs."""
        b = self.b
        if node.kind == "softmax":
            top = self._fold(node.var, "max", lambda: self.value(node.x))
            total = self._fold(node.var, "sum",
                               lambda: self._exp(b.fsub(self.value(node.x), top)))
            return top, total
        n = b.sitofp(b.sub(self.hi[node.var], self.lo[node.var]), F64)
        mean = b.fdiv(self._fold(node.var, "sum", lambda: self.value(node.x)), n)

        def square():
            d = b.fsub(self.value(node.x), mean)
            return b.fmul(d, d)
        var = b.fdiv(self._fold(node.var, "sum", square), n)
        return mean, self._intrinsic("llvm.sqrt", b.fadd(var, ir.Constant(F64, LNORM_EPS)))

    def _softmax_row(self, node: Normalize) -> None:
        """One row of a kernel that is a softmax written whole (``_softmax_in_place``): the row's max, then each
        ``exp(x - max)`` stored into the output as it is summed, then the row divided by the sum: one exp per element
        instead of two, the same values."""
        b, var = self.b, node.var
        top = self._fold(var, "max", lambda: self.value(node.x))
        total = self._alloca(F64, "row.sum")
        b.store(ir.Constant(F64, 0.0), total)

        def exponentiate(value):
            self.env[var] = value
            e = self._exp(b.fsub(self.value(node.x), top))
            b.store(e, self._address(self.out, self.out_strides, self.k.output.pos))
            b.store(b.fadd(b.load(total), e, flags=SUM_FLAGS), total)
        self._loop(f"{var}.exp", self.lo[var], self.hi[var], exponentiate)
        row_sum = b.load(total)

        def divide(value):
            self.env[var] = value
            ptr = self._address(self.out, self.out_strides, self.k.output.pos)
            b.store(b.fdiv(b.load(ptr), row_sum), ptr)
        self._loop(var, self.lo[var], self.hi[var], divide)

    def _normalize(self, node: Normalize):
        b = self.b
        first, second = self.stats[id(node)]
        x = self.value(node.x)
        if node.kind == "softmax":
            return b.fdiv(self._exp(b.fsub(x, first)), second)
        return b.fdiv(b.fsub(x, first), second)

    def _accumulate(self, op: str, acc, value) -> ir.Value:
        """``acc op value``; ``max``/``min`` skip a NaN contribution (``llvm.maxnum``, NumPy's ``fmax``):
        NaN marks an element nothing has reached yet, so a NaN contribution is none."""
        if op == "sum":
            return self.b.fadd(acc, value, flags=SUM_FLAGS)
        if op == "or":
            return self.b.or_(acc, value)
        return self._intrinsic(f"llvm.{'maxnum' if op == 'max' else 'minnum'}", acc, value)

    def _minmax(self, op: str, a, b) -> ir.Value:
        """NumPy's ``maximum``/``minimum``: NaN if either is NaN. Three instructions on x86 (``vminpd``,
        an unordered compare, a masked move) against six for ``llvm.minimum``, which also orders
        signed zeros (NumPy does not)."""
        bld = self.b
        better = bld.select(bld.fcmp_ordered(">" if op == "max" else "<", b, a), b, a)   # NaN a stays
        return bld.select(bld.fcmp_unordered("uno", b, b), b, better)

    # ------------------------------------------------------------ truth values (i8 0/1)
    def truth(self, node) -> ir.Value:
        """``node > 0`` as an i8 0/1; Boolean-valued nodes (relation reads, their products, ``or``
        reductions) stay in integer arithmetic."""
        if id(node) in self.bound:
            return self.bound[id(node)]("u8")
        b = self.b
        if isinstance(node, Read) and self.k.arrays[node.array].dtype == "u8":
            return b.load(self._address(self.arrays[node.array], self.strides[node.array], node.pos))
        if isinstance(node, Reduce) and node.op == "or":
            return self._reduce_or(node)
        if isinstance(node, Binary) and node.op == "mul" and _boolean(node, self.k):
            return b.and_(self.truth(node.a), self.truth(node.b))
        if isinstance(node, Unary) and node.op == "step":
            node = node.x
        return b.zext(b.fcmp_ordered(">", self.value(node), ir.Constant(F64, 0.0)), I8)

    def _reduce_or(self, node: Reduce) -> ir.Value:
        acc = self._alloca(I8, "acc.or")
        self.b.store(ir.Constant(I8, 0), acc)

        def innermost():
            self.b.store(self.b.or_(self.b.load(acc), self.truth(node.body)), acc)
        self._nest(list(node.vars), innermost)
        return self.b.load(acc)

    # ------------------------------------------------------------ output
    def _store(self, node) -> None:
        b = self.b
        k = self.k
        ptr = self._address(self.out, self.out_strides, k.output.pos)
        combine = k.output.combine
        if k.output.dtype == "u8":
            value = self.truth(node)
            b.store(value if combine == "assign" else b.or_(b.load(ptr), value), ptr)
        elif combine == "assign":
            b.store(self.value(node), ptr)
        elif combine == "add":
            b.store(b.fadd(b.load(ptr), self.value(node)), ptr)
        else:
            b.store(self._accumulate(combine, b.load(ptr), self.value(node)), ptr)
        if self.weight is not None:
            cptr = self._address(self.count, self.out_strides, k.output.pos)
            b.store(b.fadd(b.load(cptr), self.weight), cptr)

    # ------------------------------------------------------------ rows: reduce into a tile along the innermost loop
    def _rows(self) -> None:
        k = self.k
        red = next(n for n in walk(k.value) if isinstance(n, Reduce))
        var = k.loops[-1]
        row = k.loops[-2] if len(k.loops) >= 2 else None
        kind = "u8" if red.op == "or" else "f64"
        elem = I8 if kind == "u8" else F64
        block_rows = ROW_BLOCK if row is not None and kind == "f64" else 1
        width = ROW_TILE if block_rows > 1 else TILE
        tiles = [self._alloca(ir.ArrayType(elem, width), f"tile{r}") for r in range(block_rows)]
        identity = ir.Constant(I8, 0) if kind == "u8" else ir.Constant(F64, _IDENTITY[red.op])

        def slot(r, q):
            return self.b.gep(tiles[r], [ir.Constant(I64, 0), q], inbounds=True)

        def at_row(r, rows):
            if rows[r] is not None:
                self.env[row] = rows[r]

        def block(start, n, rows):
            zero = ir.Constant(I64, 0)
            at_row(0, rows)

            def tile_loop(body):
                def inner(q):
                    self.env[var] = self.b.add(start, q, flags=NSW)
                    body(q)
                self._loop(f"{var}.q", zero, n, inner)

            tile_loop(lambda q: [self.b.store(identity, slot(r, q)) for r in range(len(rows))])

            def accumulate():
                body = red.body
                if kind == "u8":
                    factors = _factors(body, k)
                    fixed = [f for f in factors if var not in free_variables(f)]
                    moving = [f for f in factors if var in free_variables(f)]
                    if fixed and moving:      # a zero factor that does not depend on the tile skips it
                        self._when_true(fixed, lambda: tile_loop(
                            lambda q: self._or_into(slot(0, q), moving)))
                        return

                def update(q):
                    for r in range(len(rows)):
                        at_row(r, rows)
                        value = self.truth(body) if kind == "u8" else self.value(body)
                        self.b.store(self._accumulate(red.op, self.b.load(slot(r, q)), value),
                                     slot(r, q))
                tile_loop(update)
            self._nest(list(red.vars), accumulate)

            for r in range(len(rows)):
                def finish(q, r=r):
                    def tile_value(want):
                        loaded = self.b.load(slot(r, q))
                        if want == kind:
                            return loaded
                        return self.b.uitofp(loaded, F64) if kind == "u8" else \
                            self.b.zext(self.b.fcmp_ordered(">", loaded, ir.Constant(F64, 0.0)), I8)
                    at_row(r, rows)
                    self.bound[id(red)] = tile_value
                    self._store(k.value)
                    del self.bound[id(red)]
                tile_loop(finish)

        def rows_of(start):
            """Two copies of the tile code: a fast one for ``block_rows`` whole rows of a whole tile (constant
            trip counts keep the accumulators in registers; each operand load feeds every row) and a
            general one, one row at a time, for the edges."""
            b = self.b
            n = b.sub(self.hi[var], start, flags=NSW)
            whole = b.icmp_signed(">=", n, ir.Constant(I64, width))
            n = b.select(whole, ir.Constant(I64, width), n)
            if row is None:
                with b.if_else(whole, likely=True) as (then, otherwise):
                    with then:
                        block(start, ir.Constant(I64, width), [None])
                    with otherwise:
                        block(start, n, [None])
                return

            def step(i0):
                top = b.add(i0, ir.Constant(I64, block_rows), flags=NSW)
                fast = b.and_(whole, b.icmp_signed("<=", top, self.hi[row]))
                with b.if_else(fast, likely=True) as (then, otherwise):
                    with then:
                        block(start, ir.Constant(I64, width),
                              [i0] + [b.add(i0, ir.Constant(I64, r), flags=NSW) for r in range(1, block_rows)])
                    with otherwise:
                        end = b.select(b.icmp_signed("<", top, self.hi[row]), top, self.hi[row])
                        self._loop(row, i0, end, lambda i: block(start, n, [i]))
            self._loop(f"{row}.block", self.lo[row], self.hi[row], step, step=block_rows)

        # Tiles outermost: a tile's column block of the operands moving with ``var`` (B[:, kb:kb+32] in a
        # min-plus product, 256 KB at n = 1024) stays in L2 across every outer output row.
        self._loop(f"{var}.tile", self.lo[var], self.hi[var],
                   lambda start: self._nest(list(k.loops[:-2]), lambda: rows_of(start)), step=width)

    def _when_true(self, factors, body) -> None:
        b = self.b
        cond = self.truth(factors[0])
        for f in factors[1:]:
            cond = b.and_(cond, self.truth(f))
        with b.if_then(b.icmp_unsigned("!=", cond, ir.Constant(I8, 0)), likely=False):
            body()

    def _or_into(self, ptr, factors) -> None:
        b = self.b
        value = self.truth(factors[0])
        for f in factors[1:]:
            value = b.and_(value, self.truth(f))
        b.store(b.or_(b.load(ptr), value), ptr)


def _softmax_in_place(kernel: Kernel) -> bool:
    """True when ``kernel`` writes a softmax whole: its value is the softmax, assigned to a float output without
    counts or aliased inputs, whose positions along the softmax's variable (the innermost loop) are that variable
    itself on one axis, so each element of a row has an output element of its own to hold its ``exp`` until the row's
    sum is known."""
    node, out = kernel.value, kernel.output
    if not (isinstance(node, Normalize) and node.kind == "softmax" and out.combine == "assign" and
            out.dtype == "f64" and kernel.count is None and not any(a.aliased for a in kernel.arrays)):
        return False
    holding = [pos for pos in out.pos if node.var in pos.variables]
    return len(holding) == 1 and holding[0].terms == ((node.var, 1),) and holding[0].divisor == 1 and \
        not holding[0].modulo


def _boolean(node, kernel: Kernel) -> bool:
    """True when the node's value is always 0.0 or 1.0 (so ``a*b > 0`` is ``a > 0 and b > 0``)."""
    if isinstance(node, Read):
        return kernel.arrays[node.array].dtype == "u8"
    if isinstance(node, Reduce):
        return node.op == "or"
    if isinstance(node, Unary):
        return node.op == "step"
    if isinstance(node, Binary) and node.op == "mul":
        return _boolean(node.a, kernel) and _boolean(node.b, kernel)
    return False


def _factors(node, kernel: Kernel) -> list:
    """The Boolean factors of a product of Boolean values, else ``[node]``."""
    if isinstance(node, Binary) and node.op == "mul" and _boolean(node, kernel):
        return _factors(node.a, kernel) + _factors(node.b, kernel)
    return [node]


_VALUE = {
    Lit: _Codegen._lit, Param: _Codegen._param, IndexVal: _Codegen._index, Read: _Codegen._read,
    Unary: _Codegen._unary, Binary: _Codegen._binary, Sig: _Codegen._sig, Reduce: _Codegen._reduce,
    Normalize: _Codegen._normalize,
}
