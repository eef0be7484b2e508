"""Unit tests of ``tlc.analysis.shapes``: extents and index ranges under the "valid" semantics, named-constant
axes, recurrences that extend their tensor, unbounded growth and rank checks."""

import pytest

from tlc.analysis.shapes import axis_components, check_rank, infer_shapes, symbolic_axes
from tlc.analysis.strata import stratify
from tlc.api import frontend
from tlc.errors import DataError, TlcError


def shapes_of(source: str, given: dict | None = None, **fixed):
    """Shapes with ``fixed`` extents for the inputs and declared shapes, ``given`` ones that may grow."""
    program = frontend(source)
    fixed.update({d.name: d.dims for d in program.shapes.values()})
    return infer_shapes(program, stratify(program), fixed, given or {}, symbolic_axes(program, set()),
                        len(program.symbols))


def test_a_matrix_product_takes_its_extents_from_the_operands():
    shapes = shapes_of("C[i, k] = A[i, j] B[j, k]\n", A=(2, 3), B=(3, 4))
    assert shapes.extents["C"] == (2, 4)
    assert shapes.ranges == {0: {"i": (0, 2), "j": (0, 3), "k": (0, 4)}}


def test_a_shifted_read_narrows_the_range_to_valid_positions():
    shapes = shapes_of("Y[i] = X[i + 1] - X[i]\n", X=(5,))
    assert shapes.ranges[0] == {"i": (0, 4)} and shapes.extents["Y"] == (4,)


def test_a_convolution_is_valid_only():
    shapes = shapes_of("O[x, y] = I[x + dx, y + dy] F[dx, dy]\n", I=(6, 7), F=(3, 3))
    assert shapes.extents["O"] == (4, 5)        # image - filter + 1
    assert shapes.ranges[0] == {"x": (0, 4), "y": (0, 5), "dx": (0, 3), "dy": (0, 3)}


def test_pooling_divides_the_extent_and_drops_the_incomplete_window():
    shapes = shapes_of("P[x/3, y/3] max= A[x, y]\n", A=(7, 9))
    assert shapes.extents["P"] == (2, 3)        # floor(7/3), floor(9/3)
    assert shapes.ranges[0] == {"x": (0, 6), "y": (0, 9)}


def test_a_sum_of_indices_writes_up_to_the_sum_of_the_extents():
    shapes = shapes_of("Y[x + y] = A[x] B[y]\n", A=(3,), B=(4,))
    assert shapes.extents["Y"] == (6,) and shapes.ranges[0] == {"x": (0, 3), "y": (0, 4)}


def test_reads_of_different_extents_intersect():
    assert shapes_of("C[i] = A[i] B[i]\n", A=(3,), B=(4,)).ranges[0] == {"i": (0, 3)}


def test_a_recurrence_extends_its_tensor_one_step_past_its_input():
    shapes = shapes_of("S[0] = Init\nS[t+1] = 0.5 S[t] + In[t]\n", In=(5,))
    assert shapes.extents["S"] == (6,) and shapes.ranges[1] == {"t": (0, 5)}


def test_a_virtual_recurrence_counts_every_step():
    shapes = shapes_of("H[i, *t+1] = tanh(W[i, j] H[j, *t] + X[i, t])\n", W=(4, 4), X=(4, 6))
    assert shapes.extents["H"] == (4, 7)
    assert shapes.ranges[0] == {"i": (0, 4), "j": (0, 4), "t": (0, 6)}


def test_layers_defined_from_the_previous_one_start_at_one():
    shapes = shapes_of("X[i, j] = sig(W[i, j, k] X[i - 1, k])\n", given={"X": (1, 4)}, W=(3, 4, 4))
    assert shapes.extents["X"] == (3, 4) and shapes.ranges[0] == {"i": (1, 3), "j": (0, 4), "k": (0, 4)}


def test_an_unbounded_shift_is_a_located_error_and_a_declaration_bounds_it():
    with pytest.raises(TlcError, match="the extent of X grows without bound") as err:
        shapes_of("X[0] = 1\nX[i+1] = X[i] + 1\n")
    assert err.value.span.line == 2
    shapes = shapes_of("tensor X[5]\nX[0] = 1\nX[i+1] = X[i] + 1\n")
    assert shapes.extents["X"] == (5,) and shapes.ranges[1] == {"i": (0, 4)}


def test_named_constants_give_their_domain_size():
    source = "domain P: Ann, Bob, Cy\nLikes(Ann, Bob)\nR(x) = Likes(x, y)\n"
    program = frontend(source)
    assert program.symbols == ("Ann", "Bob", "Cy")
    assert symbolic_axes(program, set()) == {("Likes", 0), ("Likes", 1), ("R", 0)}
    shapes = shapes_of(source)
    assert shapes.n_symbols == 3 and shapes.extents == {"Likes": (3, 3), "R": (3,)}
    assert shapes.ranges[1] == {"x": (0, 3), "y": (0, 3)}


def test_string_data_makes_its_axis_and_the_axes_joined_to_it_symbolic():
    program = frontend("R(x, y) = E(x, y)\nS(y) = R(x, y)\n")
    assert symbolic_axes(program, {("E", 0)}) == {("E", 0), ("R", 0)}
    assert {frozenset(c) for c in axis_components(program)} == {
        frozenset({("E", 0), ("R", 0)}), frozenset({("E", 1), ("R", 1), ("S", 0)})}


def test_data_of_the_wrong_rank_is_a_located_error():
    program = frontend("Y[i] = A[i, j]\n")
    with pytest.raises(DataError, match=r"data for A has 1 dimension \(shape \(3,\)\) but the program uses it "
                                        r"with 2") as err:
        check_rank(program, "A", (3,))
    assert (err.value.span.line, err.value.span.column) == (1, 8)
    check_rank(program, "A", (3, 2))


def test_too_many_positions_for_64_bits_is_refused():
    with pytest.raises(DataError, match="too large for 64-bit positions"):
        shapes_of("C[i, j, k] = A[i] B[j] D[k]\n", A=(2**22,), B=(2**22,), D=(2**22,))


def test_each_equation_s_structure_is_walked_once_per_program():
    """Each call with new shapes infers them again; the equations' index structure (what the inference walks each
    equation for) is kept with the program, and the ranges still follow each call's extents."""
    from tlc.analysis.shapes import _Inference
    program = frontend("# walked once\nY[i] = A[i, j] X[j]\nZ[i] = Y[i + 1]\n")
    strata = stratify(program)
    small = infer_shapes(program, strata, {"A": (3, 4), "X": (4,)}, {}, set(), 0)
    kept = dict(program.analyses[_Inference._structure])
    large = infer_shapes(program, strata, {"A": (5, 6), "X": (6,)}, {}, set(), 0)
    assert all(program.analyses[_Inference._structure][k] is kept[k] for k in (0, 1)) and len(kept) == 2
    assert small.ranges[1] == {"i": (0, 2)} and large.ranges[1] == {"i": (0, 4)}
