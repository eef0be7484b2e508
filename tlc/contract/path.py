"""``contract_path``: opt_einsum's API and path format, with tlc's search, memory-limit slicing and a plan cache.

Strategies, by problem size (``info.strategy`` names the one that found the returned path):

- ``trivial``: three operands or fewer; every tree is tried, nothing is searched.
- ``optimal``: up to ``EXACT_MAX`` operands, an exact DP over subsets (outer products included).
- larger terms: hyper-search (``search.hyper_search``) over opt_einsum's greedy path (``greedy``), opt_einsum's
  ``dp`` for sparse terms of up to ``DP_MAX`` operands, Boltzmann-sampled greedy (``random-greedy``), recursive
  Kernighan-Lin bisection (``partition``) and Louvain communities (``community``), each polished by subtree
  reconfiguration (suffix ``+reconfigure``). The result is never worse than opt_einsum's greedy path.

``time_budget``: None scales the search with the problem (see ``search.find_tree``); ``0`` is the documented
fallback, opt_einsum's greedy path with no search; a positive number of seconds is a hard cap.
Plans are deterministic for a given ``seed`` unless a wall-clock cap cuts the search short.

``memory_limit`` (elements) bounds every operand, the output and every intermediate. When the best path's
largest intermediate is too big, summed indices are sliced (``info.sliced``, ``info.n_slices``) and
``info.opt_cost`` counts the FLOPs of all slices; run such a plan with :func:`contract_sliced`. A limit below
an operand or the output cannot be met by slicing and raises :class:`~tlc.errors.EinsumError`.
"""

from __future__ import annotations

import functools
from functools import cached_property
import math
import numbers
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import opt_einsum
from opt_einsum.contract import PathInfo
from opt_einsum.helpers import flop_count
from opt_einsum.parser import parse_einsum_input

from tlc.contract.cost import Network, Tree, tree_cost, tree_to_path
from tlc.contract.progress import logged, printed
from tlc.contract.search import Progress, default_budget, find_tree
from tlc.contract.slicing import slice_tree
from tlc_runtime.sliced import evaluate_sliced
from tlc.errors import EinsumError

_SYNTAX = ",->."
EXACT_REPORT_UP_TO = 64
"""Up to this many operands opt_einsum reports on the path as it is planned; above, the costs come from
``tree_cost`` (the same figures) and opt_einsum's report, which re-derives every step from all the operands
left (quadratic: seconds for a product of 10^4 factors), is made only if asked for."""


@dataclass(frozen=True, eq=False)
class ContractionInfo:
    """What :func:`contract_path` found: opt_einsum's headline ``PathInfo`` fields plus strategy and slicing."""

    eq: str
    """The explicit equation ``'in,...->out'`` the path is for."""
    path: tuple[tuple[int, ...], ...]
    """The contraction path, as ``contract_path`` returns it (a tuple here, so a cached plan cannot change)."""
    opt_cost: Decimal
    """FLOPs in opt_einsum's convention (a pairwise step costs the product of its index extents, doubled
    when it sums an index), over all slices."""
    largest_intermediate: Decimal
    """Elements of the largest intermediate of one slice."""
    naive_cost: Decimal
    """opt_einsum's FLOP count of a single loop nest over every index."""
    strategy: str
    """The search strategy that found the path."""
    sliced: tuple[str, ...]
    """Summed indices sliced to meet ``memory_limit`` (empty when nothing is sliced)."""
    n_slices: int
    """Number of slices: the product of the sliced indices' extents (1 when nothing is sliced)."""
    unsliced_cost: Decimal
    """FLOPs of the path without slicing (equal to ``opt_cost`` when nothing is sliced)."""
    search_time: float
    """Seconds spent planning (when the plan was first made; cache hits cost nothing)."""
    shapes: tuple[tuple[int, ...], ...]
    """The operands' shapes."""
    report: PathInfo | None
    """opt_einsum's report, when it was made while planning (see ``EXACT_REPORT_UP_TO``)."""

    @cached_property
    def path_info(self) -> PathInfo:
        """opt_einsum's full report for the unsliced path."""
        if self.report is not None:
            return self.report
        return opt_einsum.contract_path(self.eq, *self.shapes, shapes=True, optimize=list(self.path))[1]

    @property
    def slicing_overhead(self) -> float:
        """FLOPs over all slices divided by the FLOPs of the same path unsliced (1.0 when nothing is sliced)."""
        return float(self.opt_cost / self.unsliced_cost) if self.unsliced_cost else 1.0

    @property
    def speedup(self) -> Decimal:
        """Naive FLOPs over planned FLOPs."""
        return self.naive_cost / max(self.opt_cost, Decimal(1))

    @property
    def size_dict(self) -> dict[str, int]:
        """Extent of every index."""
        return self.path_info.size_dict

    def __str__(self) -> str:
        head = f"  Strategy:  {self.strategy} ({self.search_time:.3f} s)\n"
        if self.sliced:
            head += (
                f"  Sliced:  {', '.join(self.sliced)} ({self.n_slices} slices, {self.opt_cost:.3e} FLOPs in all,"
                f" {self.slicing_overhead:.3f}x the unsliced path's, {self.largest_intermediate:.3e} elements"
                " per slice)\n"
            )
        return head + repr(self.path_info)

    __repr__ = __str__


def contract_path(
    subscripts: str,
    *operands: Any,
    shapes: bool = False,
    memory_limit: int | None = None,
    time_budget: float | None = None,
    seed: int = 0,
    progress: bool = False,
) -> tuple[list[tuple[int, ...]], ContractionInfo]:
    """Plan ``subscripts`` over arrays (or shapes, with ``shapes=True``): ``(path, info)`` as opt_einsum returns.

    ``seed`` seeds every randomised strategy: the same call with the same seed gives the same plan (unless a
    wall-clock budget cuts the search short). ``progress=True`` prints the best cost found so far to standard
    error each time it improves.
    """
    if not isinstance(subscripts, str):
        raise EinsumError(f"subscripts must be a string such as 'ij,jk->ik', not {type(subscripts).__name__}")
    shape_list = _shapes(operands, shapes)
    if memory_limit is not None and (
        isinstance(memory_limit, bool) or not isinstance(memory_limit, numbers.Integral) or memory_limit < 1
    ):
        raise EinsumError(f"memory_limit must be a positive number of elements or None, not {memory_limit!r}")
    if time_budget is not None and (
        isinstance(time_budget, bool) or not isinstance(time_budget, numbers.Real) or not time_budget >= 0
    ):
        raise EinsumError(f"time_budget must be a number of seconds >= 0 or None, not {time_budget!r}")
    plan = _plan(
        subscripts,
        shape_list,
        None if memory_limit is None else int(memory_limit),
        None if time_budget is None else float(time_budget),
        int(seed),
        bool(progress),
    )
    return list(plan.path), plan


def contract_sliced(subscripts: str, *operands: Any, path: Sequence[Sequence[int]], sliced: Sequence[str] = ()) -> Any:
    """Evaluate ``subscripts`` along ``path``, looping over the values of the ``sliced`` indices and summing."""
    arrays = [np.asarray(op) for op in operands]
    terms, output, sizes = parse(subscripts, [a.shape for a in arrays])
    sliced = tuple(dict.fromkeys(sliced))
    for c in sliced:
        if c not in sizes:
            raise EinsumError(f"sliced index {c!r} does not appear in {subscripts!r}")
        if c in output:
            raise EinsumError(f"sliced index {c!r} is an output index; only summed indices can be sliced")
    return evaluate_sliced(terms, output, sizes, arrays, [tuple(step) for step in path], sliced)


def contract(subscripts: str, *operands: Any, memory_limit: int | None = None, time_budget: float | None = None) -> Any:
    """Plan with :func:`contract_path` and evaluate, slicing when the memory limit asks for it."""
    path, info = contract_path(subscripts, *operands, memory_limit=memory_limit, time_budget=time_budget)
    return contract_sliced(subscripts, *operands, path=path, sliced=info.sliced)


def cache_info() -> Any:
    """Hits, misses and size of the plan cache (``functools.lru_cache`` statistics)."""
    return _plan.cache_info()


def cache_clear() -> None:
    """Forget every cached plan."""
    _plan.cache_clear()


@functools.lru_cache(maxsize=512)
def _plan(
    subscripts: str,
    shapes: tuple[tuple[int, ...], ...],
    memory_limit: int | None,
    time_budget: float | None,
    seed: int,
    progress: bool,
) -> ContractionInfo:
    """Check, search, slice and report one call; cached by every argument (a failed check is not cached)."""
    start = time.perf_counter()
    terms, output, sizes = parse(subscripts, shapes)
    eq = ",".join(terms) + "->" + output
    net = Network.build(terms, output, sizes)
    if memory_limit is not None:
        _check_fits(terms, output, shapes, sizes, memory_limit)
    tree, strategy, sliced_mask = _search(net, memory_limit, time_budget, seed, progress)
    n_slices = net.size(sliced_mask)
    path = [(0,)] if net.n == 1 else tree_to_path(tree, net.root)
    sliced = tuple(c for k, c in enumerate(net.symbols) if sliced_mask >> k & 1)
    full = None
    if net.n <= EXACT_REPORT_UP_TO:
        _, full = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize=path)
        unsliced, largest, naive = full.opt_cost, full.largest_intermediate, full.naive_cost
    else:
        flops, most = tree_cost(net, tree)
        inner = sum(len(set(t)) for t in terms) > len(sizes)
        unsliced, largest = Decimal(flops), Decimal(max(most, 1))
        naive = Decimal(flop_count(set(sizes), inner, len(terms), sizes))
    cost = unsliced
    if sliced:
        sliced_eq = ",".join("".join(c for c in t if c not in sliced) for t in terms) + "->" + output
        sliced_shapes = [tuple(n for c, n in zip(t, s) if c not in sliced) for t, s in zip(terms, shapes)]
        _, one = opt_einsum.contract_path(sliced_eq, *sliced_shapes, shapes=True, optimize=path)
        cost, largest = one.opt_cost * n_slices, one.largest_intermediate
    return ContractionInfo(
        eq=eq,
        path=tuple(path),
        opt_cost=cost,
        largest_intermediate=largest,
        naive_cost=naive,
        strategy=strategy,
        sliced=sliced,
        n_slices=n_slices,
        unsliced_cost=unsliced,
        search_time=time.perf_counter() - start,
        shapes=shapes,
        report=full,
    )


def _search(
    net: Network, limit: int | None, time_budget: float | None, seed: int, progress: bool
) -> tuple[Tree, str, int]:
    """``(tree, strategy, sliced index mask)``: the search, and under a memory limit the cheaper of two plans.

    Searching with the limit built in and searching without it then slicing each win on some networks (the
    unconstrained tree, sliced and reconfigured, is often cheaper), so both run: with a time budget, each
    search gets 40% of it and each slicing 10%.
    """
    with logged(net.n) as shown:
        return _search_reporting(net, limit, time_budget, seed, printed() if progress else shown)


def _search_reporting(
    net: Network, limit: int | None, time_budget: float | None, seed: int, report: Progress | None
) -> tuple[Tree, str, int]:
    if limit is None:
        return (*find_tree(net, time_budget=time_budget, seed=seed, limit=None, progress=report), 0)
    start = time.perf_counter()
    share = None if time_budget is None else 0.4 * time_budget  # of each search; a tenth for each slicing

    def slicing_deadline(fraction: float) -> float:
        return time.perf_counter() + default_budget(net.n) if time_budget is None else start + fraction * time_budget

    tree, name = find_tree(net, time_budget=share, seed=seed, limit=None, progress=report)
    if not tree or tree_cost(net, tree)[1] <= limit:
        return tree, name, 0
    plans = [(*slice_tree(net, tree, limit, seed, slicing_deadline(0.5)), f"{name}, then sliced")]
    tree, name = find_tree(net, time_budget=share, seed=seed, limit=limit, progress=report)
    if tree_cost(net, tree)[1] <= limit:
        plans.append((tree, 0, f"{name}, limit-aware"))
    else:
        plans.append((*slice_tree(net, tree, limit, seed, slicing_deadline(1.0)), f"{name}, limit-aware, sliced"))
    tree, sliced, name = min(plans, key=lambda p: tree_cost(net, p[0], p[1])[0] * net.size(p[1]))
    return tree, name, sliced


def parse(subscripts: str, shapes: Sequence[tuple[int, ...]]) -> tuple[list[str], str, dict[str, int]]:
    """Check ``subscripts`` against ``shapes``: ``(input terms, output, index extents)``, '...' spelled out."""
    if not isinstance(subscripts, str):
        raise EinsumError(f"subscripts must be a string such as 'ij,jk->ik', not {type(subscripts).__name__}")
    if not shapes:
        raise EinsumError("contract_path needs at least one operand")
    text = subscripts.replace(" ", "")
    for c in text:
        if c not in _SYNTAX and not (c.isascii() and c.isalpha()) and (c.isascii() or c.isspace()):
            raise EinsumError(f"invalid index {c!r} in {subscripts!r}; indices are letters (or non-ASCII symbols)")
    if text.count("->") > 1 or text.count("-") != text.count("->") or text.count(">") != text.count("->"):
        raise EinsumError(f"subscripts {subscripts!r} must contain at most one '->' and no other '-' or '>'")
    inputs, arrow, out = text.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise EinsumError(f"subscripts {subscripts!r} name {len(terms)} operands but {len(shapes)} were given")
    for where, term in [*((f"operand {k}", t) for k, t in enumerate(terms)), ("the output", out)]:
        if "." in term.replace("...", "", 1):
            raise EinsumError(f"'.' in {where} ({term!r}) is not part of a single '...'")
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        named = len(term.replace("...", ""))
        if named > len(shape) or ("..." not in term and named != len(shape)):
            raise EinsumError(f"term {term!r} does not match operand {k} of shape {tuple(shape)}")
    for c in out.replace("...", ""):
        if out.count(c) > 1:
            raise EinsumError(f"output index {c!r} appears more than once in {subscripts!r}")
        if c not in inputs:
            raise EinsumError(f"output index {c!r} does not appear in any input of {subscripts!r}")
    try:
        ins, output, _ = parse_einsum_input([text, *shapes], shapes=True)
    except (ValueError, IndexError, TypeError) as err:
        raise EinsumError(f"invalid subscripts {subscripts!r}: {err}") from None
    terms = ins.split(",")
    return terms, output, _sizes(terms, shapes)


def _shapes(operands: Sequence[Any], shapes: bool) -> tuple[tuple[int, ...], ...]:
    """The operands' shapes as tuples of non-negative ints."""
    if not shapes:
        return tuple(tuple(int(n) for n in np.shape(op)) for op in operands)
    for k, shape in enumerate(operands):
        if hasattr(shape, "shape"):
            raise EinsumError(f"shapes=True but operand {k} is an array; pass its .shape")
    return given_shapes(operands)


def given_shapes(operands: Sequence[Any], not_a_shape: type[EinsumError] = EinsumError) -> tuple[tuple[int, ...], ...]:
    """Shapes given instead of arrays (``shapes=True``), checked, as tuples of non-negative ints; an operand that
    is no sequence raises ``not_a_shape``."""
    out = []
    for k, shape in enumerate(operands):
        try:
            dims = tuple(shape)
        except TypeError:
            raise not_a_shape(f"shapes=True but operand {k} ({shape!r}) is not a shape") from None
        if any(isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0 for n in dims):
            raise EinsumError(f"shape {shape!r} of operand {k} must be non-negative integers")
        out.append(tuple(int(n) for n in dims))
    return tuple(out)


def _sizes(terms: Sequence[str], shapes: Sequence[tuple[int, ...]]) -> dict[str, int]:
    """Extent of every index, where extent 1 broadcasts as in numpy; raise on a mismatch."""
    sizes: dict[str, int] = {}
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        if len(term) != len(shape):
            raise EinsumError(f"term {term!r} does not match operand {k} of shape {tuple(shape)}")
        for c, n in zip(term, shape):
            have = sizes.setdefault(c, n)
            if n != have and 1 not in (n, have):
                raise EinsumError(f"index {c!r} has extent {have} in one operand but {n} in operand {k}")
            if have == 1:
                sizes[c] = n
    return sizes


def _check_fits(
    terms: Sequence[str], output: str, shapes: Sequence[tuple[int, ...]], sizes: dict[str, int], limit: int
) -> None:
    """Raise when an operand or the output alone exceeds ``limit``: no slicing can help then."""
    for k, shape in enumerate(shapes):
        if math.prod(shape) > limit:
            raise EinsumError(
                f"memory_limit={limit} elements is below operand {k} ({terms[k]!r}, {math.prod(shape)} elements);"
                " slicing cannot shrink an input"
            )
    out = math.prod(sizes[c] for c in output)
    if out > limit:
        raise EinsumError(
            f"memory_limit={limit} elements is below the output ({output!r}, {out} elements); slicing cannot shrink it"
        )
