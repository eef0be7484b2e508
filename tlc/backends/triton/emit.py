"""The triton backend's emitter: the NumPy module, with equations that have a kernel form replaced by
launches of ``@triton.jit`` kernels defined at the top of the same module.

Strata, recurrences, fixpoints, allocation and finalisation are the NumPy emitter's; only the
per-equation step differs. An equation becomes ``th.launch(_kN, grid, outputs, inputs, scalars,
BLOCK_...=...)`` (``tlc_runtime.triton_host``); one without a kernel form (relations, facts, concat,
zero-padded shifts, a summation inside softmax, ...) stays NumPy code, and ``decisions`` says why. A fused
attention node runs on the flash-attention kernel when it fits (``attention_node``).
"""

from __future__ import annotations

from tlc.analysis.projection import analyse
from tlc.backends.registry import Emitted
from tlc.backends.shared.arrays import Bound
from tlc.backends.shared.attention import emit_attention as emit_runtime_attention
from tlc.backends.shared.quoting import equation_comments
from tlc.backends.shared.schedule import ScheduleEmitter
from tlc.backends.triton import attention_node
from tlc.backends.triton.kernels import HELPERS, TritonKernel, lower_equation
from tlc.backends.triton.tiles import Unsupported
from tlc.driver.planned import PlannedProgram
from tlc.ir import nodes as ir


class TritonEmitter(ScheduleEmitter):
    """Emits the NumPy module with Triton kernel launches where an equation has a kernel form."""

    BANNER = ("for the triton backend: @triton.jit kernels launched through tlc_runtime.triton_host, NumPy for "
              "the rest; shapes are specialised.")
    IMPORTS = ("import tlc_runtime.triton_host as th", "import triton", "import triton.language as tl")
    STORES_WHOLE = False
    REUSES_BUFFERS = False
    HOISTS_CONSTANTS = False
    """Kernels write into arrays allocated up front."""

    def __init__(self, planned: PlannedProgram):
        super().__init__(planned)
        self.kernels: dict[str, TritonKernel] = {}
        self.decisions: dict[int, list[str]] = {}

    def definitions(self) -> list[str]:
        """The ``@triton.jit`` kernels (and the helpers they use), placed before ``run``."""
        kernels = [kernel.source for kernel in self.kernels.values()]
        if any("_fold_max" in k or "_fold_min" in k for k in kernels):
            kernels.insert(0, HELPERS.strip("\n"))
        return [text for kernel in kernels for text in (*kernel.split("\n"), "", "")]

    def equation(self, k: int, target: str, indent: int = 0, overrides=None, bounds_override=None) -> None:
        """A kernel launch for equation ``k`` when it has a kernel form, else the NumPy code."""
        eq = self.program.equations[k]
        ranges = self.shapes.ranges.get(k, {})
        bounds = {v: Bound(lo, hi - lo) for v, (lo, hi) in ranges.items()}
        bounds.update(bounds_override or {})
        assign = self.sole_target(eq, target)
        name = f"_k{sum(n != attention_node.KERNEL for n in self.kernels) + 1}"
        decisions = self.decisions.setdefault(k, [])
        if isinstance(eq.rhs, ir.Attention):        # attention() decides
            super().equation(k, target, indent, overrides, bounds_override)
            return
        try:
            if any(isinstance(n, ir.Attention) for n in ir.walk(eq.rhs)):
                raise Unsupported("an expression around a fused attention")
            if overrides:
                raise Unsupported("a semi-naive delta of a relation")
            kernel = lower_equation(eq, analyse(eq), bounds, ranges, self.shapes.extents, name=name, target=target,
                                    assign=assign, consts=self.program.consts, symbols=self.symbols,
                                    symbolic=self.symbolic, windows=self.windows, numeric=frozenset(self.numeric))
        except Unsupported as why:
            decisions.append(f"NumPy: {why}")
            super().equation(k, target, indent, overrides, bounds_override)
            return
        self.kernels[name] = kernel
        decisions.append(f"kernel {name}: {kernel.description}")
        pad = "    " * indent
        self.lines.extend(pad + line for line in equation_comments(eq, self.program.filename))
        self.lines.append(f"{pad}{kernel.launch}")

    def attention(self, body, node: ir.Attention, path):
        """The flash-attention kernel's launch for a fused attention node that fits it, else the runtime call."""
        k = body.number
        decisions = self.decisions.setdefault(k, [])
        sizes = attention_node.extents(body, node)
        why = attention_node.unfit(node, self.program.tolerance) or attention_node.unfit_shapes(sizes)
        if why is not None:
            decisions.append(f"NumPy: tlc_runtime.attention ({why})")
            return emit_runtime_attention(body, node, path)
        value, kernel = attention_node.emit_kernel_call(body, node, path, sizes)
        self.kernels.setdefault(attention_node.KERNEL, kernel)
        decisions.append(f"kernel {kernel.description}")
        return value


def emit_triton(planned: PlannedProgram) -> Emitted:
    """Emit the triton-backend module for ``planned``: source, kernels by name, decisions per equation."""
    emitter = TritonEmitter(planned)
    source = emitter.module()
    return Emitted(source, planned.program.filename, emitter.kernels, emitter.decisions)
