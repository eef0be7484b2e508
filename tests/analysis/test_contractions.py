"""Unit tests of ``tlc.analysis.contractions``: the planned contraction of every product term and its FLOP count,
checked against counts by hand (opt_einsum's convention: a pairwise step that sums an index costs twice the
product of its index extents, a multiply and an add per point)."""

from tlc.analysis.contractions import equation_flops, plan_equation
from tlc.api import frontend


def plans(source: str, ranges: dict, memory_limit=None):
    """``(subscripts, path, info)`` of each planned contraction of the source's first equation."""
    sizes = {v: hi - lo for v, (lo, hi) in ranges.items()}
    found = plan_equation(frontend(source).equations[0], sizes, memory_limit)
    return [(c.subscripts(), [tuple(step) for step in c.path], c.info) for c in found.values()]


def test_a_matrix_product_costs_two_flops_per_point_of_its_index_space():
    ranges = {"i": (0, 2), "j": (0, 3), "k": (0, 4)}
    ((subscripts, path, info),) = plans("C[i, k] = A[i, j] B[j, k]\n", ranges)
    assert subscripts == "ab,bc->ac" and path == [(0, 1)]
    assert info.opt_cost == 2 * 2 * 3 * 4 and info.naive_cost == 48 and info.sliced == () and info.n_slices == 1
    assert equation_flops(frontend("C[i, k] = A[i, j] B[j, k]\n").equations[0], ranges) == 48.0


def test_a_chain_is_ordered_by_cost():
    # (A B) C: 2·10·100·10 + 2·10·10·100 = 40,000 FLOPs; one loop nest over i, j, k, l: 3·10·100·10·100
    ranges = {"i": (0, 10), "j": (0, 100), "k": (0, 10), "l": (0, 100)}
    ((subscripts, path, info),) = plans("D[i, l] = A[i, j] B[j, k] C[k, l]\n", ranges)
    assert subscripts == "ab,bc,cd->ad" and len(path) == 2 and set(path[0]) == {0, 1}
    assert info.opt_cost == 40_000 and info.naive_cost == 3_000_000
    assert info.largest_intermediate == 1000                  # the result, 10 x 100 (A B is 10 x 10)


def test_each_product_term_is_planned_and_the_equation_sums_them():
    ranges = {"i": (0, 5), "j": (0, 3), "k": (0, 7)}
    found = plans("Y[i] = relu(W[i, j] X[j] + B[i]) + V[i, k] Z[k]\n", ranges)
    assert [(s, float(info.opt_cost)) for s, _, info in found] == [("ab,b->a", 30.0), ("ab,b->a", 70.0)]
    assert equation_flops(frontend("Y[i] = relu(W[i, j] X[j] + B[i]) + V[i, k] Z[k]\n").equations[0], ranges) == 100


def test_ranges_not_starting_at_zero_count_their_length():
    ((_, _, info),) = plans("Y[i] = A[i, j] B[j]\n", {"i": (2, 5), "j": (1, 4)})
    assert info.opt_cost == 2 * 3 * 3


def test_a_term_with_one_tensor_is_not_a_contraction():
    assert plans("Y[i] = 2 X[i]\n", {"i": (0, 3)}) == []
    assert equation_flops(frontend("Y[i] = 2 X[i] + B[i]\n").equations[0], {"i": (0, 3)}) == 0


def test_a_memory_limit_slices_a_summed_index():
    # every pairwise step of this 3-regular network builds a 4-index intermediate (256 elements), larger than
    # any operand (64): a limit of 64 elements can only be met by slicing summed indices
    source = "Y = A[a, b, c] B[c, d, e] C[e, f, a] D[b, d, f]\n"
    ranges = {v: (0, 4) for v in "abcdef"}
    ((_, _, free),) = plans(source, ranges)
    ((_, _, sliced),) = plans(source, ranges, memory_limit=64)
    assert free.sliced == () and free.largest_intermediate > 64
    assert sliced.sliced and sliced.n_slices == 4 ** len(sliced.sliced) and sliced.largest_intermediate <= 64
    assert sliced.opt_cost >= sliced.unsliced_cost
