"""Pass ``attention``: what it recognises, the node it writes, and --print-after output."""

import io

import pytest

from tlc.api import frontend
from tlc.ir import nodes as ir
from tlc.ir.verify import verify
from tlc.passes.attention import attention, find
from tlc.passes.manager import PassManager


def fused_node(src, outputs):
    program = attention(frontend(src, None, outputs))
    verify(program)
    nodes = [eq.rhs for eq in program.equations if isinstance(eq.rhs, ir.Attention)]
    assert len(nodes) == 1
    return program, nodes[0]


def test_roles_are_read_from_the_equations_not_the_names():
    src = ("A[y, x, j.] = softmax(Key[y, j, c] Query[x, y, c] / 8 + Bias[y, x, j])\n"
           "R[x, f, y] = A[y, x, j] Vals[y, j, f]\n")
    program, node = fused_node(src, ["R"])
    assert [eq.lhs.name for eq in program.equations] == ["R"]
    assert (node.query.name, [k.name for k in node.keys], [v.name for v in node.values]) == ("Query", ["Key"], ["Vals"])
    assert (node.batch_axes, node.query_axis, node.key_axes, node.feature_axis, node.value_axis) == \
        (("y",), "x", ("j",), "c", "f")
    assert node.scale == ir.Product((ir.Num(8.0),), (True,)) and isinstance(node.mask, ir.Ref)
    assert not node.causal


def test_scores_read_under_other_names_are_renamed_and_the_feature_index_kept_fresh():
    src = "S[a, b.] = softmax(Q[a, d] K[b, d])\nO[d, e] = S[d, k] V[k, e]\n"
    _, node = fused_node(src, ["O"])
    assert node.query == ir.Ref("Q", (ir.Index((("d", 1),)), ir.Index((("d'", 1),))))
    assert (node.query_axis, node.key_axes, node.feature_axis) == ("d", ("k",), "d'")


def test_three_way_form():
    src = "C[p, a., b.] = softmax(Q[p, d] K1[a, d] K2[b, d])\nO[p, e] = C[p, a, b] V2[b, e] V1[a, e]\n"
    _, node = fused_node(src, ["O"])
    assert [k.name for k in node.keys] == ["K1", "K2"] and [v.name for v in node.values] == ["V1", "V2"]
    assert node.key_axes == ("a", "b")


@pytest.mark.parametrize("src, reason", [
    ("S[p, q.] = softmax(Q[p, d] K[q, d])\nS[p, q] += 1\nO[p, e] = S[p, q] V[q, e]\n", "one '=' equation"),
    ("S[p, q.] = softmax(Q[p, d] K[q, d])\nO[p, e] = S[p, q] V[q, e] / 2\n", "must sum a product"),
    ("S[p, q.] = softmax(Q[p, d] K[q, d] + M[p, d])\nO[p, e] = S[p, q] V[q, e]\n", "a mask term may use only"),
    ("S[p, q.] = softmax(Q[p, d] K[q, d])\nO[p] = S[p, q] V[q, e]\n", "must keep the batch and query"),
    ("S[p, q.] = softmax(Q[p, d] K[q, d] Z[p, x])\nO[p, e] = S[p, q] V[q, e]\n", "needs a query and 1 key"),
    ("S[p, q.] = softmax(Q[p, d, d2] K[q, d, d2])\nO[p, e] = S[p, q] V[q, e]\n", "exactly one summed"),
    ("S[p, q.] = softmax(Q[p, d] K[q, d])\nO[p, e] = S[p, q] O[q, e]\n", "O is recursive"),
])
def test_rejections_say_why(src, reason):
    candidates = find(frontend(src, None, ["O"]))
    assert len(candidates) == 1 and not candidates[0].fused
    assert reason in candidates[0].reason


def test_plain_softmax_is_not_a_candidate():
    assert find(frontend("Y[p, t.] = softmax(W[t, d] X[p, d])\n")) == []


def test_print_after_shows_the_fused_form():
    out = io.StringIO()
    src = "S[p, q.] = softmax(Q[p, d] K[q, d] - 1e9 step(q - p))\nO[p, e] = S[p, q] V[q, e]\n"
    PassManager(1, frozenset({"attention"}), out=out).run(frontend(src, None, ["O"]))
    assert out.getvalue() == ("# IR after attention\n# fused attention: S is not materialised\n"
                              "S[p, q.] = softmax(Q[p, d] K[q, d] - 1000000000 step(q - p))\n"
                              "O[p, e] = S[p, q] V[q, e]\n")
