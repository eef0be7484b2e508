"""Unit tests of ``tlc.analysis.projection``: where each index missing from the left-hand side is summed, reduced
by the aggregator or flattened by ``concat`` (the pinned rule of DESIGN.md §2)."""

import pytest

from tlc.analysis.projection import analyse, occurrences
from tlc.api import frontend
from tlc.errors import TlcError
from tlc.ir import nodes as ir


def summed(source: str) -> dict:
    """Per summed index, the kind of node it is summed over and that node's printed path."""
    eq = frontend(source).equations[0]
    projection = analyse(eq)
    assert projection.reduced == () and projection.flattened == ()
    return {v: (type(ir.node_at(eq.rhs, path)).__name__, path) for path, vs in projection.summed_at.items() for v in vs}


def test_a_contraction_sums_inside_its_term_only():
    # relu(W[i,j] X[j] + B[i]) sums j in the first term: B is added once, not once per j
    assert summed("Y[i] = relu(W[i, j] X[j] + B[i])\n") == {"j": ("Product", (0, 0))}


def test_an_index_on_both_sides_is_not_summed():
    assert summed("Z[i] = X[i] Y[i]\n") == {}


def test_a_scalar_left_hand_side_sums_inside_the_function():
    assert summed("Y = step(W[i] X[i])\n") == {"i": ("Product", (0,))}


def test_each_term_sums_its_own_indices():
    assert summed("Y[i] = A[i, j] + B[i, k] C[k]\n") == {"j": ("Ref", (0,)), "k": ("Product", (1,))}


def test_an_index_in_two_terms_is_summed_over_their_sum():
    assert summed("Y[i] = A[i, j] + B[i, j]\n") == {"j": ("Sum", ())}


def test_a_square_of_a_product_sums_before_squaring():
    # (X[i,j] X[i',j])^2 is (sum_j X X')^2
    assert summed("D[i, i'] = (X[i, j] X[i', j])^2\n") == {"j": ("Product", (0,))}


def test_the_kernel_distance_sums_the_squared_difference_inside_exp():
    # exp(-(X[i,j]-X[i',j])^2/Var) is exp(-sum_j (X - X')^2 / Var): the product with /Var holds every j
    eq = frontend("D[i, i'] = exp(-(X[i, j] - X[i', j])^2 / Var)\n").equations[0]
    assert summed("D[i, i'] = exp(-(X[i, j] - X[i', j])^2 / Var)\n") == {"j": ("Product", (0,))}
    assert isinstance(ir.node_at(eq.rhs, (0,)).factors[0], ir.Neg)


def test_without_a_product_the_smallest_enclosing_expression_sums():
    # no product holds both occurrences of j: the difference is summed, then squared
    assert summed("D[i, i'] = exp(-(X[i, j] - X[i', j])^2)\n") == {"j": ("Sum", (0, 0, 0))}


@pytest.mark.parametrize("aggregator", ["max=", "min=", "avg="])
def test_other_aggregators_reduce_every_missing_index_over_the_whole_right_hand_side(aggregator):
    projection = analyse(frontend(f"A[i] {aggregator} W[i, j] - B[j, k]\n").equations[0])
    assert projection.summed_at == {} and projection.reduced == ("j", "k")


def test_concat_flattens_the_indices_it_merges():
    projection = analyse(frontend("Merge[p, dm] = concat(Attn[h, p, dv])\n").equations[0])
    assert projection.flattened == ("h", "dv") and projection.summed_at == {} and projection.reduced == ()


@pytest.mark.parametrize("source", ["Y[b, n] = concat(X[b, n, k])\n", "Y[b, m] = 1 + concat(X[b, n])\n"])
def test_a_misused_concat_is_a_located_error(source):
    with pytest.raises(TlcError, match="concat") as err:
        analyse(frontend(source).equations[0])
    assert err.value.span is not None and err.value.span.line == 1


def test_occurrences_are_listed_left_to_right_with_their_paths():
    rhs = frontend("Y[i] = A[i, j] B[j + k]\n").equations[0].rhs
    assert list(occurrences(rhs)) == [((0,), "i"), ((0,), "j"), ((1,), "j"), ((1,), "k")]
