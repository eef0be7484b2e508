"""Transitive closure of a binary relation through its strongly connected components, one bitset row each.

Every node of a strong component reaches the same nodes, so the closure (paths of length >= 1) is computed
once per component, sinks first: a component reaches what its successor components contain and reach, and
itself when it has a cycle (more than one node, or a self-loop). A component's reach is a row of 64-bit
words, one bit per node, so joining a successor's reach is ``n / 64`` word ORs: closing a 3,000-node chain
is 3,000 ORs of 3,000-bit integers instead of a dozen 3,000³ matrix products. The work is proportional to the
condensed graph's edges times ``n / 64``, and the memory to ``components × n / 8`` bytes (the dense result,
``n²`` bytes, is larger).

scipy finds the components (and numbers them in an order that is topological from the sinks, checked, with a
sort of its own otherwise); the loop over them runs on Python integers as bitsets, or, given a compiled ``kernel``
(``tlc_runtime.native.ClosureKernel``, the llvm backend's), natively on a ``(components, words)`` uint64 array,
its threads each taking a range of words. Both give the same bits: a component's row starts as its members, gains
its successors' rows, and an acyclic component (one node, no self-loop, which no successor reaches) then drops
its own node.
"""

from __future__ import annotations

import sys

import numpy as np

from tlc_runtime.progress import Ticker

WORD = 64
REACH_SAMPLES = 16
"""Sources of the breadth-first searches that estimate a closure's size (``mean_reach``)."""
PROGRESS_EVERY = 256
"""Components closed between two looks at the clock for a progress report."""


def closure_rows(matrix, kernel=None) -> np.ndarray:
    """The transitive closure of the square scipy sparse ``matrix`` (true where stored and nonzero) as a dense
    ``(n, n)`` Boolean array; ``kernel`` (a ``native.ClosureKernel``) runs the loop over components natively."""
    from scipy.sparse.csgraph import connected_components

    n = matrix.shape[0]
    edges = edge_csr(matrix)
    count, labels = connected_components(edges, directed=True, connection="strong")
    labels = labels.astype(np.int64)
    sources = np.repeat(np.arange(n, dtype=np.int64), np.diff(edges.indptr))
    targets = edges.indices.astype(np.int64)
    if kernel is not None:
        return kernel.rows(_native_reach(count, labels, labels[sources], labels[targets], kernel), labels, n)
    rows = _component_reach(count, labels, labels[sources], labels[targets])[labels]   # (n, words) little-endian
    return np.unpackbits(rows.view(np.uint8), axis=1, count=n, bitorder="little").view(bool)


def edge_csr(matrix):
    """``matrix`` as a CSR matrix holding only its nonzero entries: the matrix itself when it is a canonical CSR
    matrix (sorted, distinct columns per row) without stored zeros (``Tuples.csr`` is one), else a Boolean copy."""
    import scipy.sparse as sp

    if sp.issparse(matrix) and matrix.format == "csr" and matrix.has_canonical_format and np.all(matrix.data != 0):
        return matrix
    coo = sp.coo_matrix(matrix)   # duplicates kept: an edge wherever some stored entry is nonzero, whatever they sum to
    keep = coo.data != 0
    return sp.csr_matrix((np.ones(int(keep.sum()), bool), (coo.row[keep], coo.col[keep])), shape=coo.shape)


def closure_csr(matrix, kernel):
    """The transitive closure of the square scipy sparse ``matrix`` (true where stored and nonzero) as a CSR
    matrix of ones (each row's columns in the order found, not sorted), by the compiled ``kernel``'s traversal from
    every source (``native.ClosureKernel.reach``): for graphs whose bitset rows would not fit in memory."""
    import scipy.sparse as sp

    n = matrix.shape[0]
    edges = edge_csr(matrix)
    indptr, targets = kernel.reach(edges.indptr, edges.indices)
    return sp.csr_matrix((np.ones(len(targets), np.float32), targets, indptr), shape=(n, n))


def mean_reach(matrix, samples: int = REACH_SAMPLES) -> float:
    """About how many nodes a node reaches by a path of length >= 1 in the scipy sparse ``matrix`` (true where
    stored and nonzero; padded square), from a breadth-first search from each of ``samples`` evenly spaced nodes:
    the closure holds about ``n`` times as many pairs. Each search costs at most the graph's nodes and edges.

    Until ``scipy.sparse.csgraph`` is imported (its import loads ``scipy.linalg``: 100 ms of a first call, and only
    a closure by strong components needs it), the searches run together, one bit per source (``_shallow_reach``),
    as long as that costs no more edge visits than the searches one at a time would; deeper graphs, and every
    graph once scipy's search is loaded (faster on large graphs), are searched one source at a time."""
    n = max(matrix.shape)
    if n == 0:
        return 0.0
    edges = edge_csr(matrix)
    indptr = np.concatenate([edges.indptr, np.full(n - edges.shape[0], edges.indptr[-1])])
    sources = spaced(n, min(samples, n))
    found = None
    if "scipy.sparse.csgraph" not in sys.modules:
        levels = min(SHALLOW_LEVELS, len(sources) * (n + edges.nnz) // max(1, edges.nnz))
        found = _shallow_reach(indptr, edges.indices, n, sources, levels)
    if found is None:
        found = _deep_reach(indptr, edges.indices, n, sources)
    return found / len(sources)


def spaced(n: int, count: int) -> np.ndarray:
    """The distinct nodes of ``count`` evenly spaced over ``0 .. n-1`` (``count >= 1``), first and last included:
    ``np.unique(np.linspace(0, n - 1, count).astype(np.int64))`` to the bit (linspace's ``k * step`` is the same
    double product here, and truncation the same floor), without its 25 us of array calls."""
    if count == 1:
        return np.zeros(1, dtype=np.int64)
    step = (n - 1) / (count - 1)
    return np.array(list(dict.fromkeys([int(k * step) for k in range(count - 1)] + [n - 1])), dtype=np.int64)


SHALLOW_LEVELS = 64
"""Most breadth-first levels the searches of ``mean_reach`` run together before handing over to scipy's."""


def _shallow_reach(indptr: np.ndarray, successors: np.ndarray, n: int, sources: np.ndarray,
                   levels: int = SHALLOW_LEVELS) -> int | None:
    """The nodes each of ``sources`` (at most 64) reaches by a path of length >= 1 but itself, summed, from
    breadth-first searches run together (a node's bit k is set once source k reaches it: a level ORs each
    edge's frontier bits into its target); None when some search is still going after ``levels`` levels."""
    if len(sources) > 64:
        return None
    origin = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    order = np.argsort(successors, kind="stable")
    origin, target = origin[order], np.asarray(successors, dtype=np.int64)[order]
    starts = np.concatenate(([True], target[1:] != target[:-1]))      # np.r_ costs twice as much
    first = np.flatnonzero(starts) if len(target) else np.zeros(0, np.int64)
    targets = target[first]
    seen = np.zeros(n, dtype=np.uint64)
    seen[sources] = np.left_shift(np.uint64(1), np.arange(len(sources), dtype=np.uint64))
    frontier = seen.copy()
    for _ in range(levels + 1):     # the last level only finds that nothing is left
        bits = frontier[origin]
        if not bits.any():
            return int(np.unpackbits(seen.view(np.uint8)).sum()) - len(sources)
        new = np.bitwise_or.reduceat(bits, first) & ~seen[targets]
        frontier = np.zeros(n, dtype=np.uint64)
        frontier[targets] = new
        seen[targets] |= new
    return None


def _deep_reach(indptr: np.ndarray, successors: np.ndarray, n: int, sources: np.ndarray) -> int:
    """``_shallow_reach`` one source at a time by scipy's breadth-first search (any depth)."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import breadth_first_order

    graph = sp.csr_matrix((np.ones(len(successors)), successors, indptr), shape=(n, n))   # float64: no copy per search
    return sum(len(breadth_first_order(graph, int(s), directed=True, return_predecessors=False)) - 1
               for s in sources)


def condensed(count: int, source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct edges between components as CSR ``(indptr, successors)`` over the ``count`` components, each
    row's successors sorted (scipy's counting sort by row and per-row sort: no global sort of the edges)."""
    import scipy.sparse as sp

    between = source != target
    matrix = sp.csr_matrix((np.ones(int(between.sum()), bool), (source[between], target[between])),
                           shape=(count, count))
    matrix.sum_duplicates()     # merges repeated edges (Boolean: their sum stays true)
    return matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64)


def cyclic_components(count: int, labels: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """True for each component with a cycle: more than one node, or a node with an edge to itself."""
    cyclic = np.bincount(labels, minlength=count) > 1
    cyclic[source[source == target]] = True
    return cyclic


def _native_reach(count: int, labels: np.ndarray, source: np.ndarray, target: np.ndarray, kernel) -> np.ndarray:
    """``_component_reach`` with the loop over components run by the compiled ``kernel``."""
    n = len(labels)
    indptr, successors = condensed(count, source, target)
    closed = np.zeros((count, (n + WORD - 1) // WORD), dtype=np.uint64)
    nodes = np.arange(n, dtype=np.int64)
    bits = np.left_shift(np.uint64(1), (nodes % WORD).astype(np.uint64))
    np.bitwise_or.at(closed, (labels, nodes // WORD), bits)
    representative = np.empty(count, dtype=np.int64)
    representative[labels] = nodes
    kernel(closed, np.asarray(sinks_first(count, indptr, successors), dtype=np.int64), indptr, successors,
           representative, own_words(count, labels))
    acyclic = ~cyclic_components(count, labels, source, target)
    alone = nodes[acyclic[labels]]                 # the one node of each acyclic component
    closed[labels[alone], alone // WORD] &= ~bits[alone]
    return closed


def own_words(count: int, labels: np.ndarray) -> np.ndarray:
    """Per component of the node ``labels``, the words ``[first, end)`` of its bitset row that hold its own nodes'
    bits (the closure loop's initial ``bounds``): ``count × 2`` int64."""
    bounds = np.empty((count, 2), dtype=np.int64)
    bounds[:, 0], bounds[:, 1] = (len(labels) + WORD - 1) // WORD, 0
    word = np.arange(len(labels), dtype=np.int64) // WORD
    np.minimum.at(bounds[:, 0], labels, word)
    np.maximum.at(bounds[:, 1], labels, word + 1)
    return bounds


def _component_reach(count: int, labels: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per component, the bitset of the nodes it reaches by a path of length >= 1, as ``(count, words)``
    little-endian 64-bit words.

    The loop over components runs on Python integers used as bitsets (an OR of two n-bit integers is one C
    loop over n / 30 digits), in a topological order from the sinks."""
    n = len(labels)
    indptr, successors = condensed(count, source, target)
    cyclic = cyclic_components(count, labels, source, target).tolist()
    members = [0] * count
    for node, c in enumerate(labels.tolist()):
        members[c] |= 1 << node
    succ, ptr = successors.tolist(), indptr.tolist()
    reach = [0] * count
    closed = [0] * count                   # what a path into the component reaches: its members and its reach
    ticker = Ticker(f"transitive closure of a {n}-node relation", count, unit="strong component")
    for done, c in enumerate(sinks_first(count, indptr, successors), 1):
        bits = 0
        for s in succ[ptr[c]:ptr[c + 1]]:
            bits |= closed[s]
        closed[c] = bits | members[c]
        reach[c] = closed[c] if cyclic[c] else bits
        if not done % PROGRESS_EVERY and ticker.due():
            ticker.report(done)
    ticker.close()
    size = (n + WORD - 1) // WORD * 8
    data = b"".join(bits.to_bytes(size, "little") for bits in reach)
    return np.frombuffer(data, dtype="<u8").reshape(count, size // 8)


def sinks_first(count: int, indptr: np.ndarray, successors: np.ndarray):
    """The components in an order where each comes after all its successors: scipy's own numbering when it is
    one (it numbers components as its depth-first search completes them), else Kahn's sort from the sinks."""
    heads = np.repeat(np.arange(count, dtype=np.int64), np.diff(indptr))
    if not np.any(successors >= heads):
        return range(count)
    order = np.argsort(successors, kind="stable")           # the reversed graph: who points at each component
    pred_ptr, predecessors = np.searchsorted(successors[order], np.arange(count + 1)).tolist(), heads[order].tolist()
    waiting = np.diff(indptr).tolist()
    ready = [c for c in range(count) if not waiting[c]]
    result = []
    while ready:
        c = ready.pop()
        result.append(c)
        for p in predecessors[pred_ptr[c]:pred_ptr[c + 1]]:
            waiting[p] -= 1
            if not waiting[p]:
                ready.append(p)
    return result
