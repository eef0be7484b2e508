"""``tlc_runtime.flat`` and ``split``: arrays laid end to end in a new array, and cut back into views of it."""

import numpy as np

import tlc_runtime as rt


def test_flat_then_split_gives_back_each_array():
    rng = np.random.default_rng(3)
    arrays = [rng.normal(size=(2, 3)), rng.normal(size=4).astype(np.float32), rng.normal(size=(3, 1, 2)).T]
    flat = rt.flat(arrays)
    assert flat.dtype == np.float64 and flat.shape == (16,)
    assert not any(np.shares_memory(flat, a) for a in arrays)
    parts = rt.split(flat, [a.shape for a in arrays])
    for part, array in zip(parts, arrays):
        np.testing.assert_array_equal(part, array)
        assert np.shares_memory(part, flat)
    assert not np.shares_memory(parts[0], parts[1])
