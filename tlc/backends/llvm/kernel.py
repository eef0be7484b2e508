"""Kernel IR: one fused loop nest per equation, the unit the LLVM code generator compiles.

A kernel loops over its output variables (``loops``, outermost first), evaluates ``value`` at each
point and combines it into the output array at ``output.pos``. ``value`` is an expression over
array reads at affine positions, scalar parameters, literals and index values; a ``Reduce`` node
inside it loops over further variables and reduces its body (sum, max, min, or). Whatever sits above
a ``Reduce`` is its epilogue: ``relu(W[i,j] X[j] + B[i])`` is ``relu(Reduce(sum, j, W*X) + B[i])``.

Index ranges and array extents are not part of a kernel: they are passed at run time (``ints``),
so one compiled kernel serves every shape. Arrays are C-contiguous; positions are checked against
extents before a kernel is built (``from_ir``), never inside it. Names (``label``, array names) do
not take part in equality, so structurally equal kernels share one compiled function.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from tlc.backends.llvm.join_plan import JoinLoop, SetOps

DTYPES = ("f64", "u8")
"""Element types: float64 tensors and uint8 (NumPy bool) relations, which read as 0.0/1.0."""
COMBINES = ("assign", "add", "max", "min", "or")
REDUCTIONS = ("sum", "max", "min", "or")
UNARY = ("neg", "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "relu", "step")
BINARY = ("add", "sub", "mul", "div", "pow", "max", "min")


class KernelError(Exception):
    """A kernel the code generator cannot compile (an unsupported operation or a malformed kernel)."""


@dataclass(frozen=True, slots=True)
class Pos:
    """One axis position: ``((sum(coef*var) + offset - sum(lo of local vars)) // divisor) % modulo``.

    ``local`` names variables whose loop start is subtracted: a temporary computed by NumPy over
    exactly the index ranges is addressed from 0, not from the range's start. ``modulo`` (0: none)
    addresses a ring buffer: a virtual axis that keeps only its last few steps.
    """

    terms: tuple[tuple[str, int], ...] = ()
    offset: int = 0
    divisor: int = 1
    local: tuple[str, ...] = ()
    modulo: int = 0

    @property
    def variables(self) -> tuple[str, ...]:
        """Variables the position depends on."""
        return tuple(v for v, _ in self.terms)

    def unit_in(self, var: str) -> bool:
        """True when consecutive values of ``var`` give consecutive positions."""
        return self.divisor == 1 and dict(self.terms).get(var) in (1, -1)


@dataclass(frozen=True, slots=True)
class Array:
    """An input array argument: rank and element type; ``aliased`` when it may be the output array."""

    rank: int
    dtype: str = "f64"
    aliased: bool = False
    name: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Lit:
    """A float64 literal."""

    value: float


@dataclass(frozen=True, slots=True)
class Param:
    """The ``index``-th scalar parameter (float64, passed at run time)."""

    index: int


@dataclass(frozen=True, slots=True)
class IndexVal:
    """The value of an index variable as a float64."""

    var: str


@dataclass(frozen=True, slots=True)
class Read:
    """Element of input array ``array`` (a position in ``Kernel.arrays``) at one position per axis."""

    array: int
    pos: tuple[Pos, ...]


@dataclass(frozen=True, slots=True)
class Unary:
    """``op(x)`` for ``op`` in ``UNARY``; ``step`` is 1.0 where x > 0, ``relu`` propagates NaN."""

    op: str
    x: "Expr"


@dataclass(frozen=True, slots=True)
class Binary:
    """``a op b`` for ``op`` in ``BINARY``; ``max``/``min`` propagate NaN like NumPy."""

    op: str
    a: "Expr"
    b: "Expr"


@dataclass(frozen=True, slots=True)
class Sig:
    """Logistic sigmoid of ``x`` at temperature ``t`` (None: 1); a zero temperature is exactly step."""

    x: "Expr"
    t: "Expr | None" = None


@dataclass(frozen=True, slots=True)
class Reduce:
    """``op`` over ``vars`` (innermost last) of ``body``; ``or`` gives 1.0 where any body value is > 0."""

    op: str
    vars: tuple[str, ...]
    body: "Expr"


@dataclass(frozen=True, slots=True)
class Normalize:
    """``softmax`` or ``lnorm`` (layer norm: eps 1e-5, biased variance) of ``x`` along ``var``, which must
    be the innermost output loop; the row statistics are computed once per row, before that loop."""

    kind: str
    var: str
    x: "Expr"


Expr = Lit | Param | IndexVal | Read | Unary | Binary | Sig | Reduce | Normalize
NORMALIZERS = ("softmax", "lnorm")
LNORM_EPS = 1e-5


@dataclass(frozen=True, slots=True)
class Output:
    """Where and how values are combined into the output array."""

    pos: tuple[Pos, ...]
    dtype: str = "f64"
    combine: str = "add"


@dataclass(frozen=True, slots=True)
class Kernel:
    """A fused loop nest; see the module docstring. Run-time ``ints`` layout: ``lo, hi`` for every
    variable of ``variables``, then the output's extents, then each array's extents, then the range
    start of every ``local_variables`` entry (threads split ``lo, hi``; these stay the whole range's)."""

    loops: tuple[str, ...]
    value: Expr
    output: Output
    arrays: tuple[Array, ...] = ()
    n_params: int = 0
    count: tuple[str, ...] | None = None
    """For ``avg=``: also add the number of combinations of these variables to a count array."""
    rows: bool = False
    """Accumulate the outermost ``Reduce`` in a tile along the innermost loop (``loops[-1]``) instead
    of in a register: the reduction loops run outside that loop, so reads contiguous along it vectorise."""
    split: str | None = None
    """A loop whose values write disjoint output elements: threads may split its range."""
    label: str = field(default="", compare=False, repr=False)

    @property
    def local_variables(self) -> tuple[str, ...]:
        """Variables some position addresses from its range start (``Pos.local``), in order."""
        found: dict[str, None] = {}
        for node in walk(self.value):
            if isinstance(node, Read):
                for pos in node.pos:
                    found.update(dict.fromkeys(pos.local))
        for pos in self.output.pos:
            found.update(dict.fromkeys(pos.local))
        return tuple(found)

    @property
    def variables(self) -> tuple[str, ...]:
        """Every loop variable: output loops, then reduction variables in order of appearance."""
        found = dict.fromkeys(self.loops)
        for node in walk(self.value):
            if isinstance(node, Reduce):
                found.update(dict.fromkeys(node.vars))
        return tuple(found)

    def ints_layout(self) -> tuple[int, int]:
        """Number of ints for ranges and in total."""
        ranges = 2 * len(self.variables)
        extents = len(self.output.pos) + sum(a.rank for a in self.arrays)
        return ranges, ranges + extents + len(self.local_variables)


def children(node: Expr) -> tuple[Expr, ...]:
    """Direct sub-expressions."""
    if isinstance(node, Unary):
        return (node.x,)
    if isinstance(node, Binary):
        return (node.a, node.b)
    if isinstance(node, Sig):
        return (node.x,) if node.t is None else (node.x, node.t)
    if isinstance(node, Reduce):
        return (node.body,)
    if isinstance(node, Normalize):
        return (node.x,)
    return ()


def walk(node: Expr):
    """Every node, parents first."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))


def free_variables(node: Expr) -> set[str]:
    """Variables an expression depends on that no ``Reduce`` inside it binds."""
    if isinstance(node, IndexVal):
        return {node.var}
    if isinstance(node, Read):
        return {v for p in node.pos for v in (*p.variables, *p.local)}
    if isinstance(node, Reduce):
        return free_variables(node.body) - set(node.vars)
    out: set[str] = set()
    for child in children(node):
        out |= free_variables(child)
    return out


def validate(kernel: Kernel) -> None:
    """Check the kernel's invariants; raises ``KernelError``."""
    if kernel.output.dtype not in DTYPES or kernel.output.combine not in COMBINES:
        raise KernelError(f"bad output {kernel.output}")
    allowed = {"f64": ("assign", "add", "max", "min"), "u8": ("assign", "or")}
    if kernel.output.combine not in allowed[kernel.output.dtype]:
        raise KernelError(f"a {kernel.output.dtype} output cannot combine by {kernel.output.combine!r}")
    if kernel.count is not None and kernel.output.dtype != "f64":
        raise KernelError("a count (avg=) needs a float64 output")
    if len(set(kernel.loops)) != len(kernel.loops):
        raise KernelError("repeated output loop variable")
    bound = set(kernel.loops)
    for node in walk(kernel.value):
        if isinstance(node, Read):
            if not 0 <= node.array < len(kernel.arrays):
                raise KernelError(f"read of array {node.array}, but the kernel has {len(kernel.arrays)}")
            if len(node.pos) != kernel.arrays[node.array].rank:
                raise KernelError(f"read of array {node.array} with {len(node.pos)} positions")
        elif isinstance(node, Reduce):
            if node.op not in REDUCTIONS:
                raise KernelError(f"unknown reduction {node.op!r}")
            if set(node.vars) & bound:
                raise KernelError(f"reduction variable bound twice: {node.vars}")
            bound |= set(node.vars)
        elif isinstance(node, Param) and not 0 <= node.index < kernel.n_params:
            raise KernelError(f"parameter {node.index} out of range")
    for a in kernel.arrays:
        if a.dtype not in DTYPES:
            raise KernelError(f"unknown dtype {a.dtype!r}")
    free = free_variables(kernel.value) | {v for p in kernel.output.pos for v in (*p.variables, *p.local)}
    if free - set(kernel.loops):
        raise KernelError(f"variables {sorted(free - set(kernel.loops))} are not loops of the kernel")
    if kernel.rows and (not kernel.loops or not any(isinstance(n, Reduce) for n in walk(kernel.value))):
        raise KernelError("row accumulation needs an output loop and a reduction")
    if kernel.split is not None and kernel.split not in kernel.loops:
        raise KernelError(f"split variable {kernel.split} is not an output loop")
    for node in walk(kernel.value):
        if isinstance(node, Reduce) and any(isinstance(n, Normalize) for n in walk(node.body)):
            raise KernelError("a softmax/lnorm inside a reduction has no kernel form")
        if isinstance(node, Normalize):
            if node.kind not in NORMALIZERS:
                raise KernelError(f"unknown normaliser {node.kind!r}")
            if not kernel.loops or node.var != kernel.loops[-1] or kernel.rows:
                raise KernelError(f"{node.kind} must normalise along the innermost output loop")


# ---------------------------------------------------------------- printing (for emitted comments and explain)

_SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^"}


def format_pos(pos: Pos) -> str:
    """``x+dx-1``, ``x/2``, ``3``."""
    text = ""
    for v, c in pos.terms:
        sign = "-" if c < 0 else ("+" if text else "")
        text += f"{sign}{'' if abs(c) == 1 else abs(c)}{v}"
    for v in pos.local:
        text += f"-lo({v})"
    if pos.offset or not text:
        text += f"{'+' if pos.offset >= 0 and text else ''}{pos.offset}" if text else str(pos.offset)
    if pos.divisor != 1:
        text = f"({text})/{pos.divisor}"
    return f"({text})%{pos.modulo}" if pos.modulo else text


def format_expr(node: Expr, arrays: tuple[Array, ...] = ()) -> str:
    """Readable text of an expression (array names when known)."""
    f = lambda n: format_expr(n, arrays)  # noqa: E731
    if isinstance(node, Lit):
        return repr(node.value)
    if isinstance(node, Param):
        return f"p{node.index}"
    if isinstance(node, IndexVal):
        return node.var
    if isinstance(node, Read):
        name = arrays[node.array].name if node.array < len(arrays) and arrays[node.array].name \
            else f"a{node.array}"
        return f"{name}[{', '.join(format_pos(p) for p in node.pos)}]"
    if isinstance(node, Unary):
        return f"-{f(node.x)}" if node.op == "neg" else f"{node.op}({f(node.x)})"
    if isinstance(node, Binary):
        if node.op in _SYMBOL:
            return f"({f(node.a)} {_SYMBOL[node.op]} {f(node.b)})"
        return f"{node.op}({f(node.a)}, {f(node.b)})"
    if isinstance(node, Sig):
        return f"sig({f(node.x)})" if node.t is None else f"sig({f(node.x)}, {f(node.t)})"
    if isinstance(node, Reduce):
        return f"{node.op}[{','.join(node.vars)}]({f(node.body)})"
    if isinstance(node, Normalize):
        return f"{node.kind}[{node.var}]({f(node.x)})"
    raise KernelError(f"not a kernel expression: {node!r}")


def describe(kernel) -> str:
    """One line: ``out[i] += relu(sum[j](W[i, j] * X[j]) + B[i])``, plus the loop plan."""
    if isinstance(kernel, (JoinLoop, SetOps)):
        return kernel.label
    if isinstance(kernel, BitsetOps):
        return f"{kernel.label}  [threads split rows or words]"
    if isinstance(kernel, ClosureLoop):
        return f"{kernel.label}  [threads split words]"
    if isinstance(kernel, (SemiringLoop, CountingLoop)):
        return f"{kernel.label}  [threads split slices]"
    combine = {"assign": "=", "add": "+=", "max": "max=", "min": "min=", "or": "|="}[kernel.output.combine]
    target = f"out[{', '.join(format_pos(p) for p in kernel.output.pos)}]"
    plan = f"loops {','.join(kernel.loops) or '-'}"
    if kernel.rows:
        plan += f"; rows along {kernel.loops[-1]}"
    if kernel.split:
        plan += f"; threads split {kernel.split}"
    return f"{target} {combine} {format_expr(kernel.value, kernel.arrays)}  [{plan}]"


def symbol_for(kernel) -> str:
    """A stable function name for a kernel: a hash of its structure (names and labels excluded)."""
    if not isinstance(kernel, Kernel):         # a fixed kernel (closure, semiring, join, set) names itself
        return kernel.symbol
    return "tlc_k_" + hashlib.sha1(repr(kernel).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class ClosureLoop:
    """The loop of a transitive closure over strong components (``tlc_runtime.reach``), compiled once for every
    program: ``void f(closed, order, indptr, successors, rep, bounds, done, next, count, words, word_lo, word_hi)`` ORs,
    for each component ``order[k]``, the bitset rows of its successors (CSR ``indptr``/``successors``) not reached
    already into its own row of the ``count × words`` uint64 array ``closed``, over the words ``[word_lo, word_hi)``
    within each row's ``bounds`` (widened as rows are ORed); threads
    claim runs of components in turn, each waiting for its successors' rows, or take disjoint word ranges; ``f_levels``
    numbers the components' levels from the sinks and ``f_rows`` expands the bitsets into the dense Boolean result, a
    range of nodes at a time (``closure.py``)."""

    label: str = "transitive closure: bitset rows ORed over strong components, sinks first"
    version: int = 8
    """Bumped when the generated code changes (it names the symbol)."""

    @property
    def symbol(self) -> str:
        """The compiled loop's function name."""
        return f"tlc_closure_words_v{self.version}"


@dataclass(frozen=True, slots=True)
class SemiringLoop:
    """The kernels of a semiring recursion (``tlc_runtime.semiring_native``) for one ``fold`` (``min``/``max``)
    and ``combine`` (``add``, ``mul``, ``min``, ``max``), compiled once for every program: the semi-naive
    relaxation over the CSR of the weights, a slice at a time, and label setting with a 4-ary heap
    (``semiring.py``)."""

    fold: str
    combine: str
    version: int = 4
    """Bumped when the generated code changes (it names the symbol)."""

    @property
    def symbol(self) -> str:
        """The compiled kernels' name prefix."""
        return f"tlc_semiring_{self.fold}_{self.combine}_v{self.version}"

    @property
    def label(self) -> str:
        """What the kernels compute, for comments and ``explain``."""
        return f"semiring {self.fold}= by {self.combine}: relaxation over CSR, or label setting with a heap"


@dataclass(frozen=True, slots=True)
class CountingLoop:
    """The kernels of path counting (``tlc_runtime.counting``), compiled once for every program: the nodes the base
    reaches in topological order (or a cycle among them), and one pass over them a slice at a time
    (``counting.py``)."""

    label: str = "path counting: one pass a slice over the reached nodes in topological order"
    version: int = 1
    """Bumped when the generated code changes (it names the symbol)."""

    @property
    def symbol(self) -> str:
        """The compiled pass's function name (the ordering's is ``symbol_order``)."""
        return f"tlc_counting_v{self.version}"


@dataclass(frozen=True, slots=True)
class BitsetOps:
    """The kernels of dense semi-naive strata kept as bitset rows (``tlc_runtime.bitsets``), compiled once for every
    program: Boolean products, transposes, projections, word-wise and/and-not/or, row selection, a column or the
    diagonal read and written, and the semi-naive step ``new &= ~known; known |= new`` (``bitsets.py``)."""

    label: str = ("bitset rows: products, transposes, projections, and/and-not/or, columns and diagonals, the "
                  "semi-naive delta and union")
    version: int = 4
    """Bumped when the generated code changes (it names the symbol)."""

    @property
    def symbol(self) -> str:
        """The prefix of the functions' names."""
        return f"tlc_bitsets_v{self.version}"
