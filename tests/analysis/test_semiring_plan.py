"""Unit tests of ``tlc.analysis.semiring_plan``: which fixpoints are semiring recursions (fold, combine, weights,
node axis and orientation), and how the planner chooses between them and the dense rounds."""

import pytest

from tlc.analysis.relation_plan import plan_relations
from tlc.analysis.semiring_plan import semiring_shape
from tlc.analysis.shapes import infer_shapes, symbolic_axes
from tlc.analysis.strata import stratify
from tlc.api import frontend


def shaped(source: str, **extents):
    program = frontend(source)
    strata = stratify(program)
    shapes = infer_shapes(program, strata, extents, {}, symbolic_axes(program, set()), len(program.symbols))
    return program, strata, shapes


def shape_of(source: str, **extents):
    program, strata, shapes = shaped(source, **extents)
    return semiring_shape(program, strata[-1], shapes)


@pytest.mark.parametrize("source, expected", [
    ("D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] + W[y, z]", ("min", "add", "W", 1, True)),
    ("D[x, z] min= W[x, z]\nD[x, z] min= W[x, y] + D[y, z]", ("min", "add", "W", 0, False)),
    ("D[x, z] min= W[x, z]\nD[x, z] min= max(W[y, z], D[x, y])", ("min", "max", "W", 1, True)),
    ("B[x, z] max= W[x, z]\nB[x, z] max= min(B[x, y], W[y, z])", ("max", "min", "W", 1, True)),
    ("R[x, z] max= W[x, z]\nR[x, z] max= R[x, y] W[y, z]", ("max", "mul", "W", 1, True)),
    ("R[x, z] max= W[x, z]\nR[x, z] max= R[x, y] * W[y, z]", ("max", "mul", "W", 1, True)),
    ("L[x, z] max= W[x, z]\nL[x, z] max= L[x, y] + W[z, y]", ("max", "add", "W", 1, False)),
    ("D[x, z] = W[x, z]\nD[x, z] = D[x, y] W[y, z]", ("sum", "mul", "W", 1, True)),       # path counting
])
def test_semiring_shapes(source, expected):
    found = shape_of(source, W=(6, 6))
    assert (found.fold, found.combine, found.weights, found.axis, found.forward) == expected
    assert found.equation == 1


@pytest.mark.parametrize("source", [
    "D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] + D[y, z]",            # non-linear
    "D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] - W[y, z]",            # not monotone
    "D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] W[y, z]",              # min-times is not offered
    "D[x, z] min= W[x, z]\nD[x, z] min= min(D[x, y], W[y, z])",        # min= by min: not a path step here
    "D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] + W[y, z] + 1",        # three terms
    "D[x, z] min= W[x, z]\nD[x, z] min= D[y, x] + W[y, z]",            # no carried axis
    "D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] + W[x, z]",            # the weight does not join
    "D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] + W[y, z]\nD[x, z] min= D[z, x] + W[x, x]",
    "D[x, z] = W[x, z]\nD[x, z] = D[x, y] + W[y, z]",                   # a sum by +
    "D[x, z] min= W[x, z]\nD[x, z] min= D[x, 2] + W[2, z]",            # a constant
])
def test_not_semiring_shapes(source):
    assert shape_of(source, W=(6, 6)) is None


def test_the_weights_must_be_square_over_the_node_axis():
    assert shape_of("Dist[y] min= Src[y]\nDist[y] min= Dist[x] + W[x, y]", W=(6, 6), Src=(6,)) is not None
    assert shape_of("Dist[y] min= Src[y]\nDist[y] min= Dist[x] + W[x, y]", W=(6, 7), Src=(7,)) is None
    assert shape_of("Dist[y] min= Src[y]\nDist[y] min= Dist[x] + W[x, y]", W=(6, 6), Src=(9,)) is None
    assert shape_of("Dist[y] min= Src[y]\nDist[y] min= Dist[x] + W[x, y]", W=(0, 0), Src=(0,)) is None
    assert shape_of("D[s, y] min= Src[s, y]\nD[s, y] min= D[s, x] + W[x, y]", W=(3, 3), Src=(0, 3)) is None


@pytest.mark.parametrize("nodes, force, strategy", [(4, "auto", "einsum"), (500, "auto", "semiring"),
                                                    (4, "semiring", "semiring"), (500, "dense", "einsum"),
                                                    (500, "closure", "einsum")])
def test_strategy_choice(nodes, force, strategy):
    program, strata, shapes = shaped("Dist[y] min= Src[y]\nDist[y] min= Dist[x] + W[x, y]", W=(nodes, nodes),
                                     Src=(nodes,))
    (plan,) = plan_relations(program, strata, shapes, {}, force).strata
    assert plan.strategy == strategy and set(plan.costs) == {"einsum", "semiring"} and plan.shown
    assert not plan.relational and (plan.semiring is not None) == (strategy == "semiring")
    assert plan.describe().startswith("semiring: ")
