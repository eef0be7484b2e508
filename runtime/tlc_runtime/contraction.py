"""Contractions along a precomputed path with NumPy alone, so emitted code needs no opt_einsum.

``numpy.einsum`` takes an explicit path (``optimize=["einsum_path", (0, 1), ...]``, the same pairs as
opt_einsum's path format) and then contracts pair by pair, through BLAS (``tensordot``) where a pair
allows it. Given the same path it is about as fast as ``opt_einsum.contract`` on large contractions and
2-4x faster on small ones (less per-call work): ``python benchmarks/bench_runtime_contract.py``.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

STEPWISE_ABOVE = 32
"""Above this many operands a path is followed step by step here: ``numpy.einsum`` re-derives every step's
indices from all operands left, quadratic in their number (a 10^4-factor product took seconds)."""


def contract(subscripts: str, *operands, optimize: Sequence[Sequence[int]], out: np.ndarray | None = None):
    """``numpy.einsum(subscripts, *operands)`` contracted along the path ``optimize`` (opt_einsum's format), into
    the C-contiguous float64 array ``out`` when given (then returned).

    Float arrays take the route ``_route`` chose for their subscripts and shapes, found with one dict lookup (the
    choice took 2-4 us per call, a tenth of a transformer step's small products). NumPy spells indices only with
    the 52 ASCII letters; subscripts with other symbols (opt_einsum's names for larger networks, never emitted by
    tlc's backends) go to ``opt_einsum.contract``, imported only then."""
    if not optimize:        # numpy.einsum returns the operand unchanged for an empty explicit path
        return _into(out, np.einsum(subscripts, *operands) if subscripts.isascii() else
                     _opt_einsum(subscripts, operands, optimize))
    if _matrices(operands):
        # (a pair's key spelt out: the general form took 0.6 of the 1.7 us this function adds to a small product)
        key = (subscripts, operands[0].shape, operands[1].shape) if len(operands) == 2 else \
            (subscripts, *[a.shape for a in operands])
        route = _ROUTES.get(key)
        if route is None:
            if len(_ROUTES) >= ROUTES_KEPT:
                _ROUTES.clear()
            route = _ROUTES[key] = _route(subscripts, key[1:])
        return route(operands, optimize, out)
    if not subscripts.isascii():
        return _into(out, _opt_einsum(subscripts, operands, optimize))
    path = [tuple(step) for step in optimize]
    if len(operands) > STEPWISE_ABOVE:
        return _into(out, _stepwise(subscripts, operands, path))
    return np.einsum(subscripts, *operands, optimize=["einsum_path", *path], out=out)


ROUTES_KEPT = 4096
"""Routes kept (subscripts and shapes): a long-running process with ever new shapes starts over past this."""
_ROUTES: dict[tuple, object] = {}


def _route(subscripts: str, shapes: tuple[tuple[int, ...], ...]):
    """How float arrays of ``shapes`` are contracted as ``subscripts``: ``route(operands, optimize, out)``.

    - every index one operand's (``_one_pass``): one pass of numpy.einsum's loop over that operand, no path to
      follow (lnorm's masked means: 43 -> 11 us for 16x16x32 by 16x16; a broadcast product 62 -> 16 us), with
      the operands holding only output indices multiplied in afterwards;
    - two operands with one dot product per batch element: numpy.einsum's loop, 1.5-2.5x faster than matmul's of
      1 x k by k x 1 matrices (lnorm's and softmax's row sums in the gradient);
    - two operands a (batched) matmul can take: ``_pair_route``;
    - otherwise the path, step by step (``_stepwise``: more than two operands) or by numpy.einsum."""
    if not subscripts.isascii():
        return lambda operands, optimize, out: _into(out, _opt_einsum(subscripts, operands, optimize))
    one_pass = _one_pass(subscripts, shapes) if len(shapes) <= STEPWISE_ABOVE else None  # einsum takes <= 32
    if one_pass is not None:
        return functools.partial(_run_one_pass, subscripts, *one_pass)
    if len(shapes) == 2:
        plan = _pair_plan(subscripts)
        if plan is not None and len(plan[4]) == plan[2] > 0:
            return lambda operands, optimize, out: np.einsum(subscripts, *operands, out=out)
        if plan is not None:
            return _pair_route(plan, shapes)
        return lambda operands, optimize, out: np.einsum(
            subscripts, *operands, optimize=["einsum_path", *(tuple(step) for step in optimize)], out=out)
    return lambda operands, optimize, out: _into(
        out, _stepwise(subscripts, operands, [tuple(step) for step in optimize]))


def _run_one_pass(subscripts: str, core: str, after: tuple | None, operands, optimize, out):
    """The ``_one_pass`` route: ``core`` over the operands ``after`` does not name, then those multiplied in."""
    if after is None:
        return np.einsum(subscripts, *operands, out=out)
    summed = np.einsum(core, *(operands[k] for k in range(len(operands)) if k not in after[1]))
    if after[0] is None:    # each multiplier laid out as the output: ufuncs (einsum's setup took 2 of 2.4 us)
        for k in after[1]:
            summed = np.multiply(summed, operands[k], out=out)
        return summed
    return np.einsum(after[0], summed, *(operands[k] for k in after[1]), out=out)


def _opt_einsum(subscripts: str, operands, optimize):
    """``opt_einsum.contract`` along the path, for subscripts beyond NumPy's 52 letters (imported only then)."""
    import opt_einsum
    return opt_einsum.contract(subscripts, *operands, optimize=[tuple(step) for step in optimize])


def _into(out: np.ndarray | None, value):
    """``value``, or ``out`` holding it when given."""
    if out is None:
        return value
    np.copyto(out, value)
    return out


@functools.lru_cache(maxsize=4096)
def _one_pass(subscripts: str, shapes: tuple[tuple[int, ...], ...]) -> tuple | None:
    """When the contraction's whole index space is no larger than its largest operand (one operand holds every
    index), so that a direct loop touches each of that operand's elements once, as a path of pairwise products would
    at best: ``(subscripts, None)``, or when the contraction sums an index and some operands hold only indices of the
    output that the others hold too (lnorm's ``1 / count``), ``(the others' subscripts, (the subscripts multiplying
    their result by those operands, those operands' positions))``: they multiply the sum once per output element
    rather than once per term (a 3-operand loop took twice a 2-operand one and a product); those subscripts are None
    when each of those operands has the output's indices in its order (an elementwise multiply). None otherwise."""
    inputs, output = subscripts.replace(" ", "").split("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes) or any(len(t) != len(s) for t, s in zip(terms, shapes)):
        return None
    sizes = {c: n for t, s in zip(terms, shapes) for c, n in zip(t, s)}
    if math.prod(sizes.values()) > max(math.prod(s) for s in shapes):
        return None
    core = [k for k, t in enumerate(terms) if not set(t) <= set(output)]
    held = {c for k in core for c in terms[k]}
    later = tuple(k for k, t in enumerate(terms) if k not in core and set(t) <= held)
    if len(core) < 2 or not later:     # (one operand summed and multiplied: a 2-operand loop is as fast)
        return subscripts, None
    first = ",".join(t for k, t in enumerate(terms) if k not in later) + "->" + output
    if all(terms[k] == output for k in later):
        return first, (None, later)
    return first, (",".join([output, *(terms[k] for k in later)]) + "->" + output, later)


def _matrices(operands) -> bool:
    """True when every operand is a NumPy array of floats (``matmul`` would OR booleans, not add them)."""
    for a in operands:
        if type(a) is not np.ndarray or a.dtype.kind != "f":
            return False
    return True


@functools.lru_cache(maxsize=4096)
def _pair_plan(subscripts: str) -> tuple | None:
    """How ``matmul`` computes a two-operand contraction: each operand's axes reordered to (batch, free, summed)
    and (batch, summed, free), the three groups' lengths, the result's axes reordered to the output, and whether
    the operands are taken the other way round (when that lays the product out as the output, as ``W[e, d] X[b,
    p, d]`` to ``[b, p, e]``: no transposed copy of it); None when an operand repeats an index or sums one of its
    own (``numpy.einsum`` handles those)."""
    inputs, output = subscripts.replace(" ", "").split("->")
    a, b = inputs.split(",")
    plan = _ordered_pair_plan(a, b, output)
    if plan is None or plan[4] == _SAME.get(len(output)):
        return plan
    swapped = _ordered_pair_plan(b, a, output)
    return swapped[:5] + (True,) if swapped[4] == _SAME.get(len(output)) else plan


def _ordered_pair_plan(a: str, b: str, output: str) -> tuple | None:
    """``_pair_plan`` of operands with the indices ``a`` and ``b``, taken in that order."""
    if len(set(a)) != len(a) or len(set(b)) != len(b) or any(c not in b and c not in output for c in a) \
            or any(c not in a and c not in output for c in b):
        return None
    batch = [c for c in output if c in a and c in b]
    free_a = [c for c in a if c in output and c not in b]
    free_b = [c for c in b if c in output and c not in a]
    summed = [c for c in a if c in b and c not in output]
    order = batch + free_a + free_b
    return (tuple(a.index(c) for c in batch + free_a + summed), tuple(b.index(c) for c in batch + summed + free_b),
            len(batch), len(free_a), tuple(order.index(c) for c in output), False)


@functools.lru_cache(maxsize=4096)
def _pair_route(plan: tuple, shapes: tuple[tuple[int, ...], ...]):
    """Two operands of ``shapes`` contracted as ``plan`` says, by one (batched) ``matmul`` (into ``out`` when given):
    ``route(operands, optimize, out)``, its shapes worked out and its identity transposes left out once.
    ``numpy.einsum`` spent 20-40 us re-deriving the path of each small contraction, longer than the product
    itself."""
    order_a, order_b, output, swapped = plan[0], plan[1], plan[4], plan[5]
    first, second = (1, 0) if swapped else (0, 1)
    a_shape, b_shape, product_shape, matrices = _pair_shapes(plan, shapes[first], shapes[second])
    kept_a, kept_b = order_a == _SAME[len(order_a)], order_b == _SAME[len(order_b)]
    in_order = output == _SAME.get(len(output))
    flat = product_shape == matrices

    def route(operands, optimize, out):
        a, b = operands[first], operands[second]
        a = a.reshape(a_shape) if kept_a else a.transpose(order_a).reshape(a_shape)
        b = b.reshape(b_shape) if kept_b else b.transpose(order_b).reshape(b_shape)
        if out is not None and in_order:
            np.matmul(a, b, out=out.reshape(matrices))   # a view: ``out`` is C-contiguous
            return out
        product = np.matmul(a, b)
        if not flat:
            product = product.reshape(product_shape)
        # the product itself when its axes are the output's already: not a view (``rt.owned`` keeps it uncopied)
        return _into(out, product if in_order else product.transpose(output))
    return route


_SAME = {n: tuple(range(n)) for n in range(64)}
"""The identity permutation of each length."""


def _pair_shapes(plan: tuple, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """For ``_pair_route``: the shapes of the batched matrices ``a`` and ``b`` become, of their product with its free
    axes apart, and of the product's matrices."""
    order_a, order_b, n_batch, n_free_a = plan[:4]
    a, b = tuple(a[k] for k in order_a), tuple(b[k] for k in order_b)
    batch, free_a = a[:n_batch], a[n_batch:n_batch + n_free_a]
    summed, free_b = a[n_batch + n_free_a:], b[len(a) - n_free_a:]
    rows, inner, columns = math.prod(free_a), math.prod(summed), math.prod(free_b)
    return batch + (rows, inner), batch + (inner, columns), batch + free_a + free_b, batch + (rows, columns)


def _stepwise(subscripts: str, operands, path: list[tuple]):
    """``subscripts`` contracted along ``path`` one step at a time (``_steps``), each pair of float arrays by one
    ``matmul`` where it can be: ``numpy.einsum`` spent 20-30 us per call of a 3- or 4-operand product re-deriving
    its steps, and re-derives every step's indices from all operands left, quadratic in their number (a
    10^4-factor product took seconds)."""
    arrays = list(operands)
    for picked, step_subscripts in _steps(subscripts, tuple(tuple(step) for step in path)):
        taken = [arrays.pop(k) for k in picked]
        plan = _pair_plan(step_subscripts) if len(taken) == 2 and _matrices(taken) else None
        if plan is not None and plan[0][plan[2] + plan[3]:]:     # something summed: a (batched) matmul
            result = _pair_route(plan, tuple(a.shape for a in taken))(taken, None, None)
        elif len(taken) == 1 or plan is not None:   # one operand, or a broadcast product summing nothing
            result = np.einsum(step_subscripts, *taken)
        else:
            result = np.einsum(step_subscripts, *taken, optimize=["einsum_path", tuple(range(len(taken)))])
        arrays.append(result)
    return arrays[0]


@functools.lru_cache(maxsize=4096)
def _steps(subscripts: str, path: tuple[tuple[int, ...], ...]) -> tuple[tuple[tuple[int, ...], str], ...]:
    """Per step of ``path``: the positions of the operands it takes (in the order to pop them) and its subscripts,
    keeping the indices of its operands that the output or an operand not yet contracted still needs (time linear
    in the number of operands)."""
    inputs, output = subscripts.replace(" ", "").split("->")
    terms = inputs.split(",")
    needed = Counter(c for term in terms for c in set(term))
    needed.update(set(output))
    steps = []
    for step in path:
        picked = tuple(sorted(step, reverse=True))
        taken = [terms.pop(k) for k in picked]
        for term in taken:
            needed.subtract(set(term))
        kept = output if not terms else "".join(c for c in dict.fromkeys("".join(taken)) if needed[c] > 0)
        steps.append((picked, ",".join(taken) + "->" + kept))
        terms.append(kept)
        needed.update(set(kept))
    return tuple(steps)
