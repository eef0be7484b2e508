"""Reads at computed positions and scatters on the Dask backend run blockwise (one task per block of their result
or value, on the box of the array it reaches), against the NumPy backend."""

from __future__ import annotations

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
pytest.importorskip("distributed")

import tlc  # noqa: E402

PROGRAMS = {
    "convolution": "F[x, y] = Image[x + dx, y + dy] K[dx, dy]",
    "max pooling": "P[x/2, y/2] max= Image[x, y]",
    "min and average pooling": "P[x/3, y/2] min= Image[x, y]\nQ[x/2, y/3] avg= Image[x, y]",
    "sum pooling": "P[x/4, y/4] += Image[x, y] + 1",
}


@pytest.fixture(autouse=True)
def synchronous():
    """Every test here computes on Dask's synchronous scheduler (deterministic, one thread)."""
    with dask.config.set(scheduler="synchronous"):
        yield


def tasks_named(array, word: str) -> int:
    """How many tasks of ``array``'s graph come from a function whose key names ``word``."""
    return sum(word in str(key) for key in dict(array.__dask_graph__()))


def optimisations_during(make):
    """``make()``'s result and how many times Dask optimised an array's graph while it ran."""
    from dask.array.optimization import optimize
    calls = []

    def counted(graph, keys, **kwargs):
        calls.append(keys)
        return optimize(graph, keys, **kwargs)
    with dask.config.set(array_optimize=counted):
        result = make()
    return result, len(calls)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_gathers_and_scatters_run_blockwise_and_match_numpy(name):
    rng = np.random.default_rng(51)
    source = PROGRAMS[name]
    data = {"Image": rng.uniform(0.5, 1.5, (33, 26)) * rng.choice([-1.0, 1.0], (33, 26))}
    if "K[" in source:
        data["K"] = rng.normal(size=(3, 4))
    expected = tlc.compile(source)(**data)
    program = tlc.compile(source, backend="dask", chunks={"Image": (8, 8)})
    result = program(**{**data, "Image": da.from_array(data["Image"], chunks=(8, 8))})
    emitted = program.source()
    word = "gather" if "rt.gather(" in emitted else "scatter"
    assert f"rt.{word}(" in emitted
    for tensor in expected:
        np.testing.assert_allclose(np.asarray(result[tensor]), expected[tensor], rtol=1e-12, atol=1e-12,
                                   err_msg=tensor)
        assert tasks_named(result[tensor], word) > 1, f"{tensor}: one {word} task for the whole array"


def test_a_gather_from_one_chunk_optimises_its_graph_once():
    """Found by the gradient campaign (TLC_FUZZ_SEED=50, ``T0[i - 1, v, s + j] min= relu(X0[s, j, i, v])^3`` and its
    gradient, 47 s on Dask for a 4x4x4x4 input): gathering from a one-chunk array that scatters built passed ``x[box]``
    to every block's task, which optimised x's whole graph again per block; x is now one delayed value."""
    from tlc_runtime import dask_ops as rt
    from tlc_runtime import ops as numpy_ops

    rng = np.random.default_rng(52)
    specs = [((("a", 1),), -1, 1), ((("b", 1),), 0, 1), ((("c", 1), ("d", 1)), 0, 1)]
    ranges = {"a": (1, 4), "b": (0, 4), "c": (0, 4), "d": (0, 4)}
    target = rt.full((3, 4, 7), np.nan, (3, 4, 7))
    for _ in range(3):
        rt.scatter(target, da.from_array(rng.uniform(-1.0, 1.0, (3, 4, 4, 4))), specs, ranges, "abcd", "min")
    gathered, optimised = optimisations_during(lambda: rt.gather(target, specs, ranges, "abcd"))
    assert np.prod(gathered.numblocks) > 1 and optimised == 1
    expected = numpy_ops.gather(np.asarray(target), specs, ranges, "abcd")
    np.testing.assert_array_equal(np.asarray(gathered), expected)


def test_a_gather_from_many_chunks_optimises_its_graph_once():
    """The convolution above (8x8 chunks of a 33x26 image) passed ``x[box]`` to each of its 768 blocks' tasks, each
    optimising x's whole graph again (769 optimisations, 19 s of this file's 23 on a loaded machine): the tasks
    now take the chunks their box overlaps from one ``to_delayed``."""
    from tlc_runtime import dask_ops as rt
    from tlc_runtime import ops as numpy_ops

    rng = np.random.default_rng(55)
    data = rng.uniform(-1.0, 1.0, (12, 10))
    x = da.from_array(data, chunks=(4, 4)) * 2.0
    specs = [((("a", 1), ("c", 1)), 0, 1), ((("b", 1), ("d", 1)), -1, 1)]   # reads outside x give 0
    ranges = {"a": (0, 10), "b": (0, 10), "c": (0, 3), "d": (0, 2)}
    gathered, optimised = optimisations_during(lambda: rt.gather(x, specs, ranges, "abcd"))
    assert np.prod(gathered.numblocks) > 1 and optimised == 1
    expected = numpy_ops.gather(2.0 * data, specs, ranges, "abcd")
    np.testing.assert_array_equal(np.asarray(gathered), expected)


def test_a_scatter_of_many_blocks_optimises_its_values_graph_once():
    """Found by the gradient campaign (TLC_FUZZ_SEED=96, ``T0[v, q + i, r] max= X0[v + 1, r, p] X1[i] X0[p, j, q] / 2``
    and its gradient, 61 s on Dask for a 4x2x4 input): Dask's einsum splits new axes into tiny chunks, and the scatter
    passed ``value[where]`` to every block's task, which optimised the value's whole graph again per block; the blocks
    now come from one ``to_delayed`` (here blocks of 64 elements or more: no block is smaller)."""
    from tlc_runtime import dask_ops as rt
    from tlc_runtime import ops as numpy_ops

    rng = np.random.default_rng(53)
    specs = [((("a", 1),), 0, 1), ((("b", 1), ("c", 1)), 0, 1)]
    ranges = {"a": (0, 8), "b": (0, 8), "c": (0, 3)}        # chunks of 48 elements, blocks of 64 or more
    value = da.from_array(rng.uniform(-1.0, 1.0, (8, 8, 3)), chunks=(2, 8, 3)) * 2.0
    expected = np.zeros((8, 10))
    numpy_ops.scatter(expected, np.asarray(value), specs, ranges, "abc", "sum", None, 1.0)
    target = rt.zeros((8, 10), (8, 10))
    _, optimised = optimisations_during(lambda: rt.scatter(target, value, specs, ranges, "abc", "sum"))
    assert tasks_named(target, "scattered_box") > 1 and optimised == 1
    np.testing.assert_allclose(np.asarray(target), expected, rtol=1e-14)


def test_a_value_in_tiny_chunks_is_scattered_in_blocks_of_64_elements_or_more():
    """The differential campaign's TLC_FUZZ_SEED=20261208 spent minutes in a Dask scatter of a value in 1-element
    chunks (as Dask's einsum leaves along new axes): one box per element, each a ``setitem`` on the target whose cost
    grows with its graph (54 elements took 81 s). Blocks are now at least ``SMALLEST_BLOCK`` bytes: here one box,
    the same numbers."""
    from tlc_runtime import dask_ops as rt
    from tlc_runtime import ops as numpy_ops

    rng = np.random.default_rng(54)
    specs = [((("a", 1), ("b", 1)), 0, 1), ((("c", 1),), 0, 1), ((("d", 1),), 0, 1)]
    ranges = {"a": (0, 2), "b": (0, 3), "c": (0, 3), "d": (0, 3)}
    data = rng.uniform(-1.0, 1.0, (2, 3, 3, 3))
    value = da.from_array(data, chunks=1) * 2.0
    assert rt._blocks(value.shape, value) == [[(0, n)] for n in value.shape]
    expected = np.zeros((4, 3, 3))
    numpy_ops.scatter(expected, 2.0 * data, specs, ranges, "abcd", "sum", None, 1.0)
    target = rt.zeros((4, 3, 3), (4, 3, 3))
    rt.scatter(target, value, specs, ranges, "abcd", "sum")
    assert tasks_named(target, "scattered_box") == 1
    np.testing.assert_allclose(np.asarray(target), expected, rtol=1e-14)


@pytest.mark.parametrize("source", ["P[x/8, y/8] += Image[x, y]", "P[x/8, y/8] max= Image[x, y]",
                                    "P[x/16, y/4] avg= Image[x, y]"])
def test_many_blocks_scattered_into_one_chunk_are_combined_in_a_tree_of_at_most_8(source):
    """A pooling of 64 blocks into a one-chunk result: each chunk is combined with the boxes that overlap it in one
    graph (a ``setitem`` per box walked the target's whole graph: a 2x2 pooling of a 4096x4096 image in 256x256 chunks
    took 49 s to build, 0.5 s now), no task combining more than ``SCATTER_GROUP`` boxes; NumPy's numbers."""
    from tlc_runtime.dask_ops import SCATTER_GROUP, _combine

    rng = np.random.default_rng(56)
    image = rng.uniform(-1.0, 1.0, (64, 64))
    expected = tlc.compile(source)(Image=image)["P"]
    result = tlc.compile(source, backend="dask", chunks={"Image": (8, 8)})(Image=da.from_array(image, chunks=(8, 8)))
    graph = dict(result["P"].__dask_graph__())
    widths = [len(task[5]) for task in graph.values() if isinstance(task, tuple) and task and task[0] is _combine]
    assert tasks_named(result["P"], "scattered_box") == 64 and widths and max(widths) <= SCATTER_GROUP < sum(widths)
    np.testing.assert_allclose(np.asarray(result["P"]), expected, rtol=1e-12, atol=1e-12)
