"""Slicing: fix some summed indices so every intermediate fits a memory limit, then loop over their values.

Slicing index ``k`` (extent ``d``) splits one contraction into ``d`` independent ones over views of the
operands, whose results are summed. Only summed indices are sliced, so the slices add up to the answer.
The slicer is greedy, like cotengra's ``SliceFinder``: each step slices an index of the current largest
intermediate, choosing the one that adds the fewest FLOPs (Boltzmann-sampled on repeats).
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

from tlc.contract.cost import Network, Tree, bits, node_order
from tlc.contract.search import reconfigure
from tlc.errors import EinsumError


@dataclass(frozen=True, slots=True)
class _Steps:
    """The (union, summed, kept) index masks of every step of one tree, which slicing never changes."""

    unions: tuple[int, ...]
    summed: tuple[int, ...]
    kept: tuple[int, ...]

    @classmethod
    def of(cls, net: Network, tree: Tree) -> _Steps:
        legs = {1 << j: m for j, m in enumerate(net.inputs)}
        rows = []
        for node in node_order(tree):
            left, right = tree[node]
            kept, union, summed = net.step(legs[left], legs[right], node)
            legs[node] = kept
            rows.append((union, summed, kept))
        return cls(*map(tuple, zip(*rows))) if rows else cls((), (), ())

    def cost(self, net: Network, sliced: int) -> tuple[int, int]:
        """``(total FLOPs over all slices, largest intermediate of one slice)`` with ``sliced`` fixed."""
        keep = ~sliced
        flops = sum(net.flops(u & keep, s & keep) for u, s in zip(self.unions, self.summed))
        largest = max((net.size(k & keep) for k in self.kept), default=1)
        return flops * net.size(sliced), largest


def find_slices(net: Network, tree: Tree, limit: int, seed: int = 0, repeats: int = 8) -> tuple[int, int, int]:
    """Summed indices to slice so ``tree`` fits ``limit``: ``(sliced mask, total FLOPs, largest per slice)``."""
    steps = _Steps.of(net, tree)
    rng = random.Random(seed)
    best = None
    for attempt in range(repeats):
        sliced = 0
        flops, largest = steps.cost(net, sliced)
        while largest > limit:
            worst = max((k & ~sliced for k in steps.kept), key=net.size)
            options = []
            for b in bits(worst & ~net.output):
                total, peak = steps.cost(net, sliced | b)
                noise = -0.5 * math.log(-math.log(rng.random() or 1e-300)) if attempt else 0.0
                options.append((math.log(total) + noise, peak, b, total))
            if not options:  # cannot happen once the output fits the limit; kept as a guard
                raise EinsumError(f"no index can be sliced to fit memory_limit={limit}")
            _, largest, b, flops = min(options)
            sliced |= b
        if best is None or (flops, net.size(sliced)) < (best[1], net.size(best[0])):
            best = (sliced, flops, largest)
        if not sliced:
            break
    return best


def slice_tree(net: Network, tree: Tree, limit: int, seed: int, deadline: float) -> tuple[Tree, int]:
    """Slice ``tree`` to fit ``limit``, then re-optimise the tree of one slice while the total FLOPs drop.

    Returns the (possibly re-ordered) tree and the mask of sliced indices.
    """
    rng = random.Random(seed)
    sliced, total, _ = find_slices(net, tree, limit, seed)
    for _ in range(4):
        if not sliced or time.perf_counter() > deadline:
            break
        # With the sliced indices gone, a different order may fit with fewer slices or fewer FLOPs.
        candidate, _ = reconfigure(net.without(sliced), tree, deadline, limit, rng, size=7, passes=10)
        new_sliced, new_total, _ = find_slices(net, candidate, limit, seed)
        if new_total >= total:
            break
        tree, sliced, total = candidate, new_sliced, new_total
    return tree, sliced
