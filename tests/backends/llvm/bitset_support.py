"""Shared by the native bitset strata tests: the llvm backend's dense strategy checked against the NumPy backend."""

from __future__ import annotations

import numpy as np

import tlc


def agree(source: str, **inputs) -> dict:
    """The llvm backend's dense strategy (one and two threads) gives the NumPy backend's relations (dense and sparse
    strategies); returns them."""
    expected = {k: np.asarray(v) for k, v in tlc.compile(source, relations="dense")(**inputs).items()}
    sparse = tlc.compile(source, relations="sparse")(**inputs)
    for name, value in expected.items():
        assert np.array_equal(np.asarray(sparse[name]), value), name
    for threads in (1, 2):
        got = tlc.compile(source, backend="llvm", relations="dense", threads=threads)(**inputs)
        for name, value in expected.items():
            assert np.array_equal(np.asarray(got[name]), value), (name, threads)
    return expected


def inputs_of(source: str, data: dict) -> dict:
    """The relations of ``data`` that ``source`` reads."""
    return {k: v for k, v in data.items() if f"{k}(" in source}


def plan_agrees(head, atoms, negated, relations, negations, shape, kernels) -> None:
    """The rule's bitset plan, with each atom's delta first or none and every other relation packed, gives
    ``rs.conjunction``'s relation."""
    import tlc_runtime.bitsets as bs
    import tlc_runtime.sparse as rs
    from tlc_runtime.bitset_plan import plan

    want = rs.conjunction(head, shape, relations, negations, storage="dense")
    for delta in (None, *range(len(atoms))):
        assert plan(head, tuple(atoms), tuple(negated), delta) is not None
        target = bs.Bits.empty(shape)
        packed = [(bs.pack(r, r.shape) if n % 2 else r, s) for n, (r, s) in enumerate(relations)]
        bs.conjunction(head, shape, packed, negations, target, kernels, delta)
        np.testing.assert_array_equal(bs.dense(target), want)


def agrees_on_random_relations(head, atoms, negated, density, kernels, rng, letters: str, largest: int,
                               constants: int) -> None:
    """``plan_agrees`` three times, on relations of ``density`` (negated ones 0.3) whose variables' extents are drawn
    from 1..``largest`` (one per letter of ``letters``), an atom's a little longer, and 1..``constants`` per constant
    argument (so some constants are past it)."""
    for _ in range(3):
        sizes = {v: int(rng.integers(1, largest + 1)) for v in letters}

        def extent(v, spare: int) -> int:
            return sizes[v] + int(rng.integers(0, spare + 1)) if isinstance(v, str) else \
                int(rng.integers(1, constants + 1))
        relations = [(rng.random(tuple(extent(v, 2) for v in s)) < density, s) for s in atoms]
        negations = [(rng.random(tuple(extent(v, 0) for v in s)) < 0.3, s) for s in negated]
        shape = tuple(extent(v, 0) for v in head)
        plan_agrees(head, atoms, negated, relations, negations, shape, kernels)
