"""Fixtures of the native bitset strata tests (``test_native_bitset_strata``, ``test_native_nary_strata``,
``test_native_wide_joins``)."""

from __future__ import annotations

import pytest

from spying import record_calls


@pytest.fixture
def bitset_rules(monkeypatch):
    """The head specs of the rules joined by a bitset plan."""
    import tlc_runtime.bitsets as bs
    return record_calls(monkeypatch, bs, "conjunction", lambda args, result: args[0])


@pytest.fixture
def numpy_joins(monkeypatch):
    """The calls joining a rule of a bitset stratum in NumPy (its tuples ORed into the round's bitset rows)."""
    import tlc_runtime.bitsets as bs
    return record_calls(monkeypatch, bs, "union_into", lambda args, result: args[0].shape)


@pytest.fixture
def kernels():
    """The compiled bitset kernels, two threads."""
    pytest.importorskip("llvmlite")
    from tlc.backends.llvm.jit import jit
    from tlc.backends.llvm.kernel import BitsetOps
    from tlc_runtime.bitset_native import BitsetSpec

    engine = jit()
    engine.compile(BitsetOps())
    return BitsetSpec(BitsetOps().symbol).bind(engine.address, threads=2, owner=engine)
