"""``tlc_runtime.owned``: a float64 array of the shape asked that nothing else holds."""

import numpy as np

import tlc_runtime as rt


def test_a_number_becomes_a_new_zero_d_array_without_broadcasting(monkeypatch):
    def broadcast(*args, **kwargs):
        raise AssertionError("a number was broadcast")
    monkeypatch.setattr(np, "broadcast_to", broadcast)
    for number in (2.5, np.float64(-0.75)):
        value = rt.owned(number, ())
        assert type(value) is np.ndarray and value.shape == () and value.dtype == np.float64 and value == number


def test_views_and_other_dtypes_are_copied():
    x = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    assert rt.owned(x, (2, 3)) is x
    for value, shape in ((x.T, (3, 2)), (x[0], (3,)), (np.arange(3), (3,)), (np.array(1.5, dtype=np.float32), ()), (2.0, (2,))):
        owned = rt.owned(value, shape)
        assert owned.base is None and owned.dtype == np.float64 and owned.shape == shape
        assert not np.shares_memory(owned, np.asarray(value))
        np.testing.assert_array_equal(owned, np.broadcast_to(value, shape))
