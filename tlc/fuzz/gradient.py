"""The fuzzer's gradient oracle: ``tlc.grad`` of a random program against central finite differences.

A generated program gets a scalar loss, the sum over its final numeric tensors ``Y`` of ``<Y, DY>`` with random
``DY`` (``FuzzLoss = Y[i0 + z0, ...] DY[i0, ...] ONE[z0] ...``: the ``+ z`` with ``ONE`` of extent 1 keeps DY's
extents apart from Y's domain), and is differentiated with respect to its numeric input tensors. Along a random
direction ``v`` the gradients must give ``sum_w <dL/dw, v_w>`` equal to ``(L(x + h v) - L(x - h v)) / 2h``, on
every backend. A program the transform refuses with a located ``TlcError`` (a construct with no gradient rule),
or whose data the gradient program refuses (data for a tensor the program defines), passes: that is the promised
behaviour; anything else they raise is a failure. Where the loss is not smooth along
``v`` (a ``step``, ``relu``, ``max=`` or ``abs`` switching within ``h``: the differences at ``h`` and ``h / 4``
disagree), or has a kink at ``x`` itself (an exact tie in a ``min=``, ``abs`` at 0: the one-sided derivatives,
extrapolated to a step of 0, differ), there is no derivative to compare and the program passes unchecked. A
disagreement within the rounding
of the terms the backward pass summed (``tlc.fuzz.magnitude``: a slope of exactly 0 reached by cancellation) passes.
So does one where the gradient jumps at ``x`` (``jumps``): an exact tie, where the gradient is the tie rules'
convention, not a derivative, even where a later tie masks an earlier one and the loss is flat (no kink to see).
"""

from __future__ import annotations

import copy
import traceback
from collections.abc import Iterable, Mapping

import numpy as np

from tlc import api
from tlc.errors import TlcError
from tlc.fuzz.generate import as_fuzz_program
from tlc.fuzz.magnitude import with_sizes
from tlc.fuzz.oracle import Failure, Report, available_backends, final_tensors, time_limit
from tlc.gradient import Gradient, GradientProgram, differentiate
from tlc.gradient.names import Namer
from tlc.ir.program import Program

STEP = 1e-6
"""The central differences' step (TOOLCHAINS.md: sound for float64 on small tensors)."""
RTOL = 1e-5
"""Allowed disagreement, relative to the size of the terms summed (``sum_w |dL/dw| |v_w|`` and ``|L|``)."""
ROUNDING = 1e-12
"""Allowed rounding of the backward pass, relative to the size of the terms it summed (``backward_terms``). Where the
loss's slope along v is exactly 0 by a cancellation (``lnorm`` of equal values: its adjoint sends +a and -a, each
~|dY| / sqrt(eps), to equal elements), ``<gradient, v>`` is the rounding of that sum, 1e-16 to 1e-14, while the loss
is 0 and the central differences exactly 0, so that RTOL * scale (1e-17 absolute there) cannot judge it. float64
rounds each operation by 1.1e-16 relatively, so ROUNDING (~1e4 roundings of every term) leaves room for long chains
and still fails a gradient wrong by more than a millionth of a millionth of its terms, which no rounding explains."""
SMOOTH = 1e-4
"""Largest relative gap between the differences at h and h / 4 for the loss to count as smooth along v."""
TIE = 1e-7
"""Relative size of the moves that break exact ties in the inputs (``jumps``): any float64 tie breaks, while a
gradient continuous at x moves by ~TIE of itself, far under RTOL."""


def loss_source(source: str, program: Program, seed: int = 0) -> tuple[str, str, dict] | None:
    """``(source, loss, plan)``: the program's text plus the loss ``<Y, DY>`` summed over its final numeric
    tensors, the loss's name, and the plan of the ``DY`` (and ``ONE``) inputs it reads (``loss_data`` makes
    them); None without such a tensor."""
    finals = [n for n in final_tensors(program) if not program.tensors[n].relation and n not in program.virtual_axes]
    if not finals:
        return None
    names = Namer(program)
    loss, one = names.fresh("FuzzLoss"), names.fresh("FuzzOne")
    lines, weights = [], {}
    for name in finals:
        rank = program.tensors[name].rank
        weight = weights[name] = names.fresh(f"FuzzD{name}")
        if rank == 0:
            lines.append(f"{loss} = {name}[] {weight}")
            continue
        index = ", ".join(f"i{a}" for a in range(rank))
        shifted = ", ".join(f"i{a} + z{a}" for a in range(rank))
        ones = " ".join(f"{one}[z{a}]" for a in range(rank))
        lines.append(f"{loss} = {name}[{shifted}] {weight}[{index}] {ones}")
    ranked = any(program.tensors[name].rank for name in finals)
    return "\n".join([source.rstrip("\n"), *lines]) + "\n", loss, {"weights": weights, "one": one if ranked else None,
                                                                 "seed": seed}


def loss_data(plan: dict, extents: Mapping[str, tuple[int, ...]]) -> dict:
    """Random ``DY`` arrays shaped like each final tensor (``extents``), and ``ONE`` (unless every final is 0-d,
    when the loss does not read it)."""
    rng = np.random.default_rng(plan["seed"])
    data = {w: rng.uniform(-1.0, 1.0, size=extents[y]) if extents[y] else float(rng.uniform(0.5, 1.0))
            for y, w in plan["weights"].items()}
    return {**data, plan["one"]: np.ones(1)} if plan["one"] else data


def wrt_of(program: Program, inputs: Mapping) -> list[str]:
    """The numeric input tensors given as float arrays: what the gradient is taken with respect to."""
    return [n for n, v in inputs.items() if n in program.tensors and not program.tensors[n].defined
            and not program.tensors[n].relation and isinstance(v, np.ndarray) and v.dtype.kind == "f"]


def one_sided(loss_at, inputs: Mapping, direction: Mapping, base: float, h: float) -> tuple[float, float]:
    """``((L(x + h v) - L(x)) / h, (L(x) - L(x - h v)) / h)`` for ``loss_at(inputs) -> float`` and ``base = L(x)``."""
    ahead, behind = (loss_at({**inputs, **{w: inputs[w] + s * h * v for w, v in direction.items()}})
                     for s in (1.0, -1.0))
    return (ahead - base) / h, (base - behind) / h


def kink(ahead: float, behind: float, ahead_fine: float, behind_fine: float) -> float:
    """How far apart the one-sided derivatives of the loss at ``x`` along ``v`` are, each extrapolated to a step of 0
    from its differences at h (``ahead``, ``behind``) and h / 4 (Richardson: a smooth loss's one-sided difference is
    off by ~h f''/2, linear in h, so the gap of a smooth loss extrapolates to ~0). A kink at ``x`` (an exact tie in a
    ``min=``, ``abs`` at 0) keeps its jump at every step, which no curvature explains: there the loss has no
    derivative along ``v``, and the central difference is the mean of the two slopes, not either."""
    return abs((4 * (ahead_fine - behind_fine) - (ahead - behind)) / 3)


def projection(gradients: Mapping, direction: Mapping) -> float:
    """``sum_w <gradient_w, v_w>``: the slope along ``direction`` that the gradients claim."""
    return sum(float(np.sum(gradients[w] * v)) for w, v in direction.items())


def scale_of(gradients: Mapping, direction: Mapping, base: float) -> float:
    """The size of the terms a comparison along ``direction`` is relative to: ``sum_w <|gradient_w|, |v_w|>`` over
    the finite gradients (``sqrt(abs(s))`` at a kink ``s = 0`` is infinite) plus ``|L|``."""
    finite = {w: np.where(np.isfinite(gradients[w]), gradients[w], 0.0) for w in direction}
    return sum(float(np.sum(np.abs(finite[w] * v))) for w, v in direction.items()) + abs(base) + 1e-12


def compare(analytic: dict, direction: Mapping, loss_at, inputs: Mapping, base: float,
            terms: float = 0.0) -> str | None:
    """Why the gradients ``analytic`` (name -> array) disagree with central differences along ``direction``, or
    None when they agree or the loss is not smooth along it: the one-sided differences (at h and h / 4) differ by
    more than ``SMOOTH``, as at a kink or a tie (two equal shortest paths) within the step, where the central
    difference averages the two slopes, or the loss has a kink at ``x`` itself by more than the comparison's own
    precision (``kink``: a jump below ``SMOOTH`` still moves the central difference by half of it). The
    scale of that judgement leaves out non-finite gradients (``sqrt(abs(s))`` at a kink ``s = 0`` is infinite);
    ``terms`` (``backward_terms``) allows the backward pass's rounding on top (``ROUNDING``). A gradient not shaped
    like its tensor is wrong whatever its values (broadcast against v, a longer one padded with 0 would agree)."""
    for w in direction:
        if np.shape(analytic[w]) != np.shape(inputs[w]):
            return f"the gradient of {w} has shape {np.shape(analytic[w])}, {w} {np.shape(inputs[w])}"
    projected = projection(analytic, direction)
    scale = scale_of(analytic, direction, base)
    slopes = [*one_sided(loss_at, inputs, direction, base, STEP), *one_sided(loss_at, inputs, direction, base, STEP / 4)]
    if max(slopes) - min(slopes) > SMOOTH * scale or kink(*slopes) > RTOL * scale:
        return None
    fine = (slopes[2] + slopes[3]) / 2
    if abs(projected - fine) <= RTOL * scale + ROUNDING * terms:
        return None
    return (f"<gradient, v> = {projected!r} but central differences give {fine!r} (step {STEP / 4:g}; "
            f"relative gap {abs(projected - fine) / scale:.3g})")


def jumps(gradient_at, inputs: Mapping, direction: Mapping, analytic: Mapping, base: float, seed: int = 0) -> bool:
    """Whether the gradient ``analytic`` at ``x`` is not the limit of the gradients around it: along v,
    ``gradient_at(values)`` (name -> array) at ``x + TIE (1 + |x|) u`` or ``x - TIE (1 + |x|) u``, with a random u,
    differs from it by more than RTOL of the scale. Only an exact tie or kink at ``x`` does that (a wrong gradient
    that is wrong nearby too does not jump): there the gradient is the documented tie rules' choice, and where a
    later tie masks an earlier one (``T0 = max(a, b)`` tied, then ``min=`` over tied ``T0``) the loss is flat, so
    central differences give 0 and the one-sided slopes show no kink, while the rules route the adjoint to one side
    (TLC_FUZZ_SEED=653). A gradient program refusing the moved inputs is taken as no jump."""
    rng = np.random.default_rng(seed + 2)
    move = {w: TIE * (1.0 + np.abs(inputs[w])) * rng.uniform(-1.0, 1.0, size=np.shape(inputs[w])) for w in direction}
    at_x, scale = projection(analytic, direction), scale_of(analytic, direction, base)
    for sign in (1.0, -1.0):
        try:
            moved = gradient_at({**inputs, **{w: inputs[w] + sign * m for w, m in move.items()}})
        except TlcError:
            return False
        if abs(projection(moved, direction) - at_x) > RTOL * scale:
            return True
    return False


def check_gradient(program, inputs: Mapping | None = None, backends: Iterable[str] | None = None,
                   seed: int = 0, timeout: float | None = None) -> Report:
    """Differentiate ``program`` (a ``FuzzProgram``, IR ``Program`` or source) on every backend and compare its
    gradients with central differences of the NumPy forward along a random direction (module docstring)."""
    fuzz = as_fuzz_program(program)
    inputs = dict(inputs or {})
    report = Report(fuzz, inputs)
    made = None if fuzz.error else loss_source(fuzz.source, fuzz.ir, seed)
    wrt = wrt_of(fuzz.ir, inputs)
    if made is None or not wrt:
        return report
    source, loss, plan = made
    try:
        with time_limit(timeout):
            forward = api.Program(api.frontend(source), "numpy", 0)
            extents = forward.specialisation(**inputs, **loss_data(plan, _ones(plan, fuzz.ir))).shapes.extents
            data = {**inputs, **loss_data(plan, extents)}
            base = float(forward(**copy.deepcopy(data))[loss])
    except TlcError:
        return report                     # the forward's own errors are the differential oracle's business
    try:
        gradient = differentiate(source, loss, wrt)
    except TlcError as err:
        report.configs.append(f"refused: {err.message}")
        return report
    except Exception:  # noqa: BLE001 - a crash of the transform is a finding
        report.failures.append(Failure("crash", "tlc.grad", traceback.format_exc()))
        return report
    rng = np.random.default_rng(seed + 1)
    direction = {w: rng.uniform(-1.0, 1.0, size=np.shape(data[w])) for w in wrt}

    def loss_at(values: Mapping) -> float:
        return float(forward(**values)[loss])

    for backend in tuple(backends) if backends is not None else available_backends():
        config = f"grad {backend}"
        report.configs.append(config)
        try:
            with time_limit(timeout):
                compiled = GradientProgram(gradient, backend, 0)

                def gradient_at(values: Mapping) -> dict:
                    results = compiled(**copy.deepcopy(values))
                    return {w: np.asarray(results[gradient.gradients[w]], dtype=float) for w in wrt}
                analytic = gradient_at(data)
                problem = compare(analytic, direction, loss_at, data, base)
                if problem:                       # only then is the rounding floor worth its extra runs
                    terms = backward_terms(gradient, data, direction)
                    problem = compare(analytic, direction, loss_at, data, base, terms)
                if problem and jumps(gradient_at, data, direction, analytic, base, seed):
                    report.configs.append(f"unjudged: the gradient on {backend} jumps at the inputs (an exact tie)")
                    problem = None
        except TlcError as err:
            if err.message.startswith("data for "):     # data the gradient program refuses (tlc.GradientProgram)
                report.configs.append(f"refused: {err.message}")
                return report
            report.failures.append(Failure("error", config, f"the gradient program raised: {err}"))
            continue
        except Exception:  # noqa: BLE001 - every other exception is a crash
            report.failures.append(Failure("crash", config, traceback.format_exc()))
            continue
        if problem:
            report.failures.append(Failure("gradient", config, problem, loss))
    return report


def backward_terms(gradient: Gradient, data: Mapping, direction: Mapping) -> float:
    """The size of the terms rounded on the way to ``<gradient, v>``: ``sum_w <|v_w|, size_w>`` with ``size_w`` the
    twin of ``w``'s gradient in absolute values (``tlc.fuzz.magnitude``), run on NumPy; 0 (no allowance for
    rounding) where the twin program is refused or its sizes are not finite (an adjoint fixpoint in absolute
    values need not converge)."""
    sized, sizes = with_sizes(gradient)
    try:
        results = GradientProgram(sized, "numpy", 0)(**copy.deepcopy(data))
    except TlcError:
        return 0.0
    total = sum(float(np.sum(np.asarray(results[sizes[w]], dtype=float) * np.abs(v)))
                for w, v in direction.items() if w in sizes)
    return total if np.isfinite(total) else 0.0


def _ones(plan: dict, program: Program) -> dict:
    """Placeholder extents (1 per axis) for the loss's ``DY`` arrays, enough to infer the program's shapes."""
    return {y: (1,) * program.tensors[y].rank for y in plan["weights"]}
