"""``Tuples.from_matrix``: true where a scipy matrix stores a nonzero, whatever its format, and never sharing the
matrix's arrays (a canonical CSR matrix takes a shorter path)."""

import numpy as np
import pytest
import scipy.sparse as sp

from tlc_runtime.sparse import Tuples

DENSE = np.array([[0, 1, 0, 1], [0, 0, 0, 0], [1, 0, 0, 1], [0, 0, 1, 0]])


@pytest.mark.parametrize("make", [
    lambda: sp.csr_matrix(DENSE, dtype=np.float32),                       # canonical
    lambda: sp.csr_matrix(DENSE.astype(np.int8)),                          # canonical, integers
    lambda: sp.csr_matrix((np.array([1, 1, 0, 1, 1, 1.0]), np.array([1, 3, 2, 0, 3, 2]),
                           np.array([0, 2, 3, 5, 6])), shape=(4, 4)),       # a stored zero
    lambda: sp.csr_matrix((np.ones(7), np.array([3, 1, 0, 3, 2, 9, 9]), np.array([0, 2, 2, 4, 5])),
                          shape=(4, 4)),                                    # unsorted, slack past the last row
    lambda: sp.coo_matrix(DENSE),
])
def test_tuples_are_where_a_nonzero_is_stored(make):
    matrix = make()
    tuples = Tuples.from_matrix(matrix, (4, 4))
    assert np.array_equal(np.asarray(tuples), DENSE != 0)
    before = matrix.copy()
    tuples.csr().indices[:] = 0
    tuples.csr().indptr[:] = 0
    assert (matrix != before).nnz == 0
