"""``tlc.ir.nodes`` rewriting helpers: paths, ``node_at``, ``replace_at`` and ``with_children`` keep every field."""

from tlc.errors import Span
from tlc.ir import nodes as ir
from tlc.frontend.lower import lower
from tlc.frontend.parser import parse


def rhs(source: str) -> ir.Expr:
    return lower(parse(source), None, source).statements[0].rhs


def test_paths_lead_to_their_nodes():
    expr = rhs("Y[i] = tanh(A[i, j] B[j] + 1)")
    paths = list(ir.with_paths(expr))
    assert [node for _, node in paths] == list(ir.walk(expr))
    assert all(ir.node_at(expr, path) is node for path, node in paths)


def test_replace_at_keeps_normalised_axes_and_spans():
    expr = rhs("Comp[p, q., r.] = softmax(S[p, q, r] T[q])")
    assert expr.extra_axes == ("r",) and expr.span is not None
    new = ir.replace_at(expr, (0, 1), ir.Num(1.0))
    assert (new.function, new.axis, new.extra_axes, new.span) == ("softmax", "q", ("r",), expr.span)
    assert new.args[0].factors == (expr.args[0].factors[0], ir.Num(1.0))
    assert ir.replace_at(expr, (), ir.Num(2.0)) == ir.Num(2.0)


def test_with_children_keeps_every_other_field():
    span = Span(1, 1, 1, 5)
    call = ir.Call("sig", (ir.Num(1.0), ir.Num(2.0)), span=span)
    assert ir.with_children(call, (ir.Num(3.0), ir.Num(2.0))) == ir.Call("sig", (ir.Num(3.0), ir.Num(2.0)))
    assert ir.with_children(call, (ir.Num(3.0), ir.Num(2.0))).span is span
    product = ir.Product((ir.Num(1.0), ir.Num(2.0)), (False, True))
    assert ir.with_children(product, (ir.Num(4.0), ir.Num(5.0))).inverted == (False, True)
    assert ir.with_children(ir.Num(1.0), ()) == ir.Num(1.0)


def test_plain_ref_has_one_plain_index_per_variable():
    assert ir.plain_ref("T", ("i", "j")) == rhs("Y[i, j] = T[i, j]")
    assert ir.plain_ref("R", ("x",), True) == rhs("Y(x) = R(x)")
    assert ir.plain_ref("S", ()) == ir.Ref("S", ())
