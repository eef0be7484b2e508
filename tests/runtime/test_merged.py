"""``tlc_runtime.merged`` (concat's flattening): the numbers of ``reshape``; a view of C-contiguous data, else one new
array that nothing else holds, so that ``owned`` keeps it rather than copying it a second time."""

import numpy as np

import tlc_runtime as rt


def test_a_transposed_operand_is_copied_once_into_an_array_of_its_own():
    x = np.random.default_rng(5).uniform(0.5, 1.5, (3, 4, 2, 5)).transpose(0, 2, 1, 3)
    merged = rt.merged(x, (3, 2, -1))
    np.testing.assert_array_equal(merged, np.ascontiguousarray(x).reshape(3, 2, 20))
    assert merged.base is None and rt.owned(merged, (3, 2, 20)) is merged


def test_contiguous_data_is_a_view():
    x = np.arange(24.0).reshape(2, 3, 4)
    merged = rt.merged(x, (2, -1))
    assert np.shares_memory(merged, x)
    np.testing.assert_array_equal(merged, x.reshape(2, 12))


def test_empty_axes():
    x = np.zeros((0, 3, 2)).transpose(0, 2, 1)
    assert rt.merged(x, (0, -1)).shape == (0, 6)
    assert rt.merged(np.zeros((2, 0, 3)).transpose(0, 2, 1), (2, -1)).shape == (2, 0)


def test_unmerged_splits_an_axis_back():
    x = np.arange(60.0).reshape(3, 4, 5)
    merged = rt.merged(x.transpose(0, 2, 1), (3, -1))
    np.testing.assert_array_equal(rt.unmerged(merged, 1, (5, 4)), x.transpose(0, 2, 1))
    np.testing.assert_array_equal(rt.unmerged(x.reshape(12, 5), 0, (3, 4)), x)
