"""Ring buffers: which virtual (``*t``) axes need only their last few steps in memory.

A virtual axis of a recurrence whose every access is a step of that recurrence at a bounded delay (or position
0 before the loop starts) is stored as ``delay + 1`` slots, reused modulo; the result keeps its final step.
The memory budget and the emitted schedule both read this decision.
"""

from __future__ import annotations

from collections.abc import Mapping

from tlc.analysis.strata import Stratum
from tlc.ir import nodes as ir
from tlc.ir.program import Program


def plan_windows(program: Program, strata: tuple[Stratum, ...],
                 supplied: Mapping[str, tuple[int, ...]]) -> dict[str, tuple[int, int]]:
    """Tensor -> (virtual axis, slots) for every virtual axis kept as a ring buffer (``supplied``: defined
    tensors given initial data, with its extents: data along the axis rules a buffer out)."""
    windows = {}
    for stratum in strata:
        if stratum.recurrence is not None:
            for name in stratum.tensors:
                window = _window(program, name, stratum, supplied)
                if window:
                    windows[name] = window
    return windows


def virtual_axis(program: Program, name: str) -> int | None:
    """The virtual (step) axis of tensor ``name``, or None."""
    return min(program.virtual_axes.get(name, ()), default=None)


def _window(program: Program, name: str, stratum: Stratum, supplied) -> tuple[int, int] | None:
    """(axis, slots) for ``name``'s virtual axis, or None when some access needs the whole axis."""
    rec = stratum.recurrence
    axis = virtual_axis(program, name)
    if axis is None or rec.axis.get(name) != axis or supplied.get(name, (0,) * (axis + 1))[axis] > 1:
        return None
    delay = 0
    for k, eq in enumerate(program.equations):
        for ref in (eq.lhs, *ir.refs(eq.rhs)):
            if ref.name != name:
                continue
            index = ref.indices[axis]
            if k not in rec.step_order:
                if ref is not eq.lhs or not index.is_constant or index.offset != 0:
                    return None     # read outside the loop, or a start other than position 0
                continue
            shift = index.shifted_variable
            if shift is None or shift[0] != rec.variable[k]:
                return None
            delay = max(delay, rec.lhs_offset[k] - shift[1])
    return axis, delay + 1
