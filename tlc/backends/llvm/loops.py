"""Loops for the LLVM IR the llvm backend writes by hand with ``llvmlite.ir.IRBuilder`` (closure, bitset, counting
and semiring kernels)."""

from __future__ import annotations

from llvmlite import ir

I64 = ir.IntType(64)
NSW = ("nsw",)


class counted:
    """``for (i = start; i < stop; i++)`` around the body built inside the ``with`` block; the builder ends
    after the loop."""

    def __init__(self, b: ir.IRBuilder, start, stop, name: str):
        self.b, self.start, self.stop, self.name = b, start, stop, name

    def __enter__(self):
        b = self.b
        fn = b.function
        self.before = b.block
        self.test = fn.append_basic_block(f"{self.name}_test")
        self.body = fn.append_basic_block(f"{self.name}_body")
        self.done = fn.append_basic_block(f"{self.name}_done")
        b.branch(self.test)
        b.position_at_end(self.test)
        self.index = b.phi(I64, name=self.name)
        self.index.add_incoming(self.start, self.before)
        b.cbranch(b.icmp_signed("<", self.index, self.stop), self.body, self.done)
        b.position_at_end(self.body)
        return self.index

    def __exit__(self, *exc):
        if exc[0] is not None:
            return False
        b = self.b
        step = b.add(self.index, ir.Constant(I64, 1), flags=NSW)
        self.index.add_incoming(step, b.block)
        b.branch(self.test)
        b.position_at_end(self.done)
        return False


def local(b: ir.IRBuilder, value, name: str):
    """A stack variable set to ``value`` here, its slot in the entry block (loops do not grow the stack; the
    optimiser promotes it to a register)."""
    with b.goto_entry_block():      # before the entry block's terminator, if it has one
        slot = b.alloca(value.type, name=name)
    b.store(value, slot)
    return slot


def smin(b: ir.IRBuilder, x, y):
    """The smaller of the signed integers ``x`` and ``y``."""
    return b.select(b.icmp_signed("<", x, y), x, y)


def smax(b: ir.IRBuilder, x, y):
    """The larger of the signed integers ``x`` and ``y``."""
    return b.select(b.icmp_signed(">", x, y), x, y)
