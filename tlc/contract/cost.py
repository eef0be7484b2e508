"""Bitmask model of one contraction: index sets and contraction trees as Python ints, costed like opt_einsum.

Index ``k`` of a network is bit ``1 << k`` of an index mask; operand ``j`` is bit ``1 << j`` of a node mask.
A contraction tree is a dict ``{node: (left, right)}`` over node masks: a node is the set of operands it
contracts, so the root is ``(1 << n) - 1`` and every internal node is the disjoint union of its children.
Costs follow ``opt_einsum.PathInfo.opt_cost``: a pairwise step costs the product of the sizes of every index
of both inputs, doubled when it sums an index away.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from opt_einsum.paths import linear_to_ssa, ssa_to_linear

Tree = dict[int, tuple[int, int]]
"""A contraction tree: each internal node mask to its two child node masks."""


def bits(mask: int):
    """Yield the single-bit masks set in ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low
        mask ^= low


@dataclass(frozen=True, slots=True, eq=False)
class Network:
    """A contraction as bitmasks: what every search strategy and the slicer work on."""

    inputs: tuple[int, ...]
    """Index mask of each operand."""
    output: int
    """Index mask of the output; output indices are never summed."""
    symbols: tuple[str, ...]
    """The subscript character of each index bit."""
    sizes: tuple[int, ...]
    """The extent of each index bit."""
    groups: tuple[tuple[int, int], ...]
    """``(extent, mask of the indices with that extent)``, so a size is a few popcounts."""
    occurrences: dict[int, int]
    """Index bit to the node mask of the operands that carry it."""
    dangling: int
    """Non-output indices carried by a single operand: summed by that operand's first step."""

    @classmethod
    def build(cls, terms: Sequence[str], output: str, size_dict: Mapping[str, int]) -> Network:
        """Bitmask form of ``terms -> output`` with index extents from ``size_dict``."""
        symbols = tuple(dict.fromkeys("".join(terms) + output))
        bit = {c: 1 << k for k, c in enumerate(symbols)}
        inputs = tuple(_mask(term, bit) for term in terms)
        out = _mask(output, bit)
        sizes = tuple(int(size_dict[c]) for c in symbols)
        by_size: dict[int, int] = {}
        for k, s in enumerate(sizes):
            by_size[s] = by_size.get(s, 0) | 1 << k
        occurrences = {b: 0 for b in bit.values()}
        for j, legs in enumerate(inputs):
            for b in bits(legs):
                occurrences[b] |= 1 << j
        dangling = sum(b for b, occ in occurrences.items() if occ.bit_count() == 1 and not b & out)
        return cls(inputs, out, symbols, sizes, tuple(by_size.items()), occurrences, dangling)

    def without(self, indices: int) -> Network:
        """The network of one slice: the indices in ``indices`` fixed, so gone from every operand."""
        keep = ~indices
        sizes = tuple(1 if indices >> k & 1 else n for k, n in enumerate(self.sizes))
        groups: dict[int, int] = {}
        for extent, group in self.groups:
            if group & keep:
                groups[extent] = groups.get(extent, 0) | group & keep
        occurrences = {b: occ for b, occ in self.occurrences.items() if b & keep}
        return Network(
            tuple(m & keep for m in self.inputs),
            self.output & keep,
            self.symbols,
            sizes,
            tuple(groups.items()),
            occurrences,
            self.dangling & keep,
        )

    @property
    def n(self) -> int:
        """Number of operands."""
        return len(self.inputs)

    @property
    def root(self) -> int:
        """Node mask of the whole network."""
        return (1 << len(self.inputs)) - 1

    def size(self, mask: int) -> int:
        """Number of elements of a tensor carrying the indices in ``mask``."""
        out = 1
        for extent, group in self.groups:
            k = (mask & group).bit_count()
            if k:
                out *= extent**k
        return out

    def sizer(self) -> Callable[[int], int]:
        """A fast ``size`` for hot loops: a table lookup when every index has the same extent."""
        if len(self.groups) != 1:
            return self.size
        table, group = _powers(*self.groups[0], len(self.sizes))
        return lambda mask: table[(mask & group).bit_count()]

    def log2_size(self, mask: int) -> float:
        """``log2`` of ``size(mask)``, for weights and noise."""
        return sum(math.log2(max(extent, 1)) * (mask & group).bit_count() for extent, group in self.groups)

    def node_legs(self, node: int) -> int:
        """Indices a node's result keeps: output indices and those shared with operands outside it."""
        raw = 0
        for b in bits(node):
            raw |= self.inputs[b.bit_length() - 1]
        kept = raw & self.output
        for b in bits(raw & ~self.output):
            if self.occurrences[b] & ~node:
                kept |= b
        return kept

    def step(self, left: int, right: int, node: int) -> tuple[int, int, int]:
        """``(kept, union, summed)`` index masks of contracting children with legs ``left``, ``right`` into ``node``."""
        union = left | right
        summed = union & self.dangling
        for b in bits(left & right & ~self.output):
            if not self.occurrences[b] & ~node:
                summed |= b
        return union & ~summed, union, summed

    def flops(self, union: int, summed: int) -> int:
        """opt_einsum's FLOP count of a pairwise step over ``union`` that sums ``summed`` away."""
        return self.size(union) * (2 if summed else 1)


@functools.lru_cache(maxsize=64)
def _powers(extent: int, group: int, n: int) -> tuple[tuple[int, ...], int]:
    """``extent**k`` for ``k`` in ``0..n``, with the group mask passed through (cached per network)."""
    return tuple(extent**k for k in range(n + 1)), group


def _mask(term: str, bit: Mapping[str, int]) -> int:
    """Index mask of a term (a repeated index is one bit)."""
    mask = 0
    for c in term:
        mask |= bit[c]
    return mask


def node_order(tree: Tree) -> list[int]:
    """Internal nodes children-first (a child is a proper subset, so it has fewer operands)."""
    return sorted(tree, key=int.bit_count)


def tree_legs(net: Network, tree: Tree) -> dict[int, int]:
    """Index mask of every node's result, leaves included."""
    legs = {1 << j: m for j, m in enumerate(net.inputs)}
    for node in node_order(tree):
        left, right = tree[node]
        legs[node] = net.step(legs[left], legs[right], node)[0]
    return legs


def tree_cost(net: Network, tree: Tree, sliced: int = 0) -> tuple[int, int]:
    """``(flops, largest intermediate)`` of one slice of ``tree`` with the indices in ``sliced`` fixed."""
    legs = {1 << j: m for j, m in enumerate(net.inputs)}
    flops, largest = 0, 1 if tree else 0
    keep = ~sliced
    for node in node_order(tree):
        left, right = tree[node]
        kept, union, summed = net.step(legs[left], legs[right], node)
        legs[node] = kept
        flops += net.flops(union & keep, summed & keep)
        largest = max(largest, net.size(kept & keep))
    return flops, largest


def tree_to_ssa(tree: Tree, root: int) -> list[tuple[int, int]]:
    """The tree as an SSA path: operand ``j`` is id ``j`` and step ``k``'s result is id ``n + k``."""
    n = root.bit_length()
    ids = {1 << j: j for j in range(n)}
    steps: list[tuple[int, int]] = []
    stack = [root] if root in tree else []
    while stack:  # iterative post-order: a chain of 1000 operands is 1000 levels deep
        node = stack[-1]
        left, right = tree[node]
        pending = [child for child in (right, left) if child not in ids]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        ids[node] = n + len(steps)
        steps.append((ids[left], ids[right]))
    return steps


def tree_to_path(tree: Tree, root: int) -> list[tuple[int, int]]:
    """The tree as an opt_einsum (linear, recycled-id) path."""
    return [tuple(step) for step in ssa_to_linear(tree_to_ssa(tree, root))]


def path_to_tree(path: Sequence[Sequence[int]], n: int) -> Tree:
    """The tree of a pairwise opt_einsum path over ``n`` operands."""
    nodes = [1 << j for j in range(n)]
    tree: Tree = {}
    for a, b in linear_to_ssa([tuple(step) for step in path]):
        node = nodes[a] | nodes[b]
        tree[node] = (nodes[a], nodes[b])
        nodes.append(node)
    return tree
