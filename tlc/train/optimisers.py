"""Optimisers as Tensor Logic equations: the update step appended to a gradient program (IR -> IR).

For a learned tensor ``W`` with gradient ``G`` (the gradient program's ``L_grad_W``), learning rate ``lr`` and
the step number ``t`` (1 for the first update), each optimiser defines ``W_next`` and its new state:

- ``sgd``:      ``W_next = W - lr G``
- ``momentum``: ``W_m_next = mu W_m + G``; ``W_next = W - lr W_m_next`` (heavy ball, ``mu`` = 0.9)
- ``adam``:     ``W_m_next = b1 W_m + (1 - b1) G``; ``W_v_next = b2 W_v + (1 - b2) G^2``;
  ``W_next = W - lr (c1 W_m_next) / (sqrt(c2 W_v_next) + eps)`` with the bias corrections
  ``c1 = 1 / (1 - b1^t)``, ``c2 = 1 / (1 - b2^t)`` (b1 = 0.9, b2 = 0.999, eps = 1e-8)
- ``adamw``:    adam's step plus the decoupled weight decay ``lr wd W`` (wd = 0.01)

The state (``W_m``, ``W_v``) is an input of the program, zero before the first step; the hyper-parameters and
the bias corrections are scalar inputs (``hyper`` gives their values at step ``t``). Every generated name is
fresh (``Namer``), so none collides with the user's. The equations come kind by kind (every tensor's first
moment, then every tensor's second moment, then every updated tensor): equations of one shape next to each other,
which the NumPy backend computes as one (``tlc.backends.shared.batching``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tlc.errors import TlcError
from tlc.gradient import Gradient
from tlc.gradient.names import Namer
from tlc.ir import nodes as ir
from tlc.ir.program import Program

OPTIMISERS = ("sgd", "momentum", "adam", "adamw")
STATE = {"sgd": (), "momentum": ("m",), "adam": ("m", "v"), "adamw": ("m", "v")}
"""Each optimiser's state tensors per learned tensor (suffixes of its name)."""
DEFAULTS = {"mu": 0.9, "b1": 0.9, "b2": 0.999, "eps": 1e-8, "wd": 0.01}
SCALARS = {"sgd": ("lr",), "momentum": ("lr", "mu"), "adam": ("lr", "b1", "b2", "eps", "c1", "c2"),
           "adamw": ("lr", "b1", "b2", "eps", "c1", "c2", "wd")}


@dataclass(frozen=True)
class Update:
    """A program computing the loss, the gradients and one optimiser step."""

    program: Program
    opt: str
    loss: str
    next: dict[str, str]
    """Each learned tensor -> the tensor holding its updated value."""
    state: dict[str, dict[str, str]]
    """Each learned tensor -> {state suffix ('m', 'v') -> (input name, updated tensor's name)}."""
    scalars: dict[str, str]
    """Each hyper-parameter ('lr', 'b1', 'c1', ...) -> its scalar input's name in the program."""


def check_opt(opt: str) -> str:
    """``opt`` when it names an optimiser, else a TlcError listing them."""
    if opt not in OPTIMISERS:
        raise TlcError(f"unknown optimiser {opt!r}: choose one of {', '.join(OPTIMISERS)}")
    return opt


def hyper(opt: str, lr: float, step: int) -> dict[str, float]:
    """The hyper-parameters' values at update number ``step`` (from 1), bias corrections included."""
    values = {"lr": lr, **DEFAULTS}
    values["c1"] = 1.0 / (1.0 - values["b1"] ** step)
    values["c2"] = 1.0 / (1.0 - values["b2"] ** step)
    return {name: values[name] for name in SCALARS[opt]}


def with_update(grad: Gradient, loss: str, opt: str) -> Update:
    """``grad``'s program extended with ``opt``'s update of every tensor ``grad`` differentiates."""
    check_opt(opt)
    names = Namer(grad.program)
    scalars = {s: names.fresh(f"opt_{s}") for s in SCALARS[opt]}
    kinds: list[list[ir.Equation]] = [[] for _ in range(len(STATE[opt]) + 1)]
    nexts, state = {}, {}
    for tensor, gradient in grad.gradients.items():
        rank = grad.program.tensors[tensor].rank
        variables = tuple(f"i{a + 1}" for a in range(rank))
        nexts[tensor] = names.fresh(f"{tensor}_next")
        state[tensor] = {s: (names.fresh(f"{tensor}_{s}"), names.fresh(f"{tensor}_{s}_next")) for s in STATE[opt]}
        rule = _RULES[opt]
        for kind, (lhs, rhs) in zip(kinds, rule(lambda name: _ref(name, variables), lambda s: ir.Scalar(scalars[s]),
                                                tensor, gradient, nexts[tensor], state[tensor]), strict=True):
            kind.append(ir.Equation(_ref(lhs, variables), ir.Aggregator.SUM, rhs))
    equations = tuple(eq for kind in kinds for eq in kind)
    outputs = frozenset([loss, *nexts.values(), *(n for s in state.values() for _, n in s.values())])
    program = replace(grad.program, statements=grad.program.statements + equations, outputs=outputs)
    return Update(program, opt, loss, nexts, state, scalars)


def _ref(name: str, variables: tuple[str, ...]) -> ir.Ref:
    return ir.Ref(name, tuple(ir.Index(((v, 1),)) for v in variables))


def _times(*factors: ir.Expr) -> ir.Product:
    return ir.Product(factors, (False,) * len(factors))


def _minus(a: ir.Expr, b: ir.Expr) -> ir.Sum:
    return ir.Sum((a, b), (1, -1))


def _one_minus(s: ir.Expr) -> ir.Sum:
    return _minus(ir.Num(1.0), s)


def _sgd(ref, scalar, w, g, w_next, state):
    return [(w_next, _minus(ref(w), _times(scalar("lr"), ref(g))))]


def _momentum(ref, scalar, w, g, w_next, state):
    m, m_next = state["m"]
    return [(m_next, ir.Sum((_times(scalar("mu"), ref(m)), ref(g)), (1, 1))),
            (w_next, _minus(ref(w), _times(scalar("lr"), ref(m_next))))]


def _adam_step(ref, scalar, state) -> ir.Product:
    """lr (c1 m) / (sqrt(c2 v) + eps), over the updated moments."""
    m_next, v_next = state["m"][1], state["v"][1]
    denominator = ir.Sum((ir.Call("sqrt", (_times(scalar("c2"), ref(v_next)),)), scalar("eps")), (1, 1))
    return ir.Product((scalar("lr"), scalar("c1"), ref(m_next), denominator), (False, False, False, True))


def _moments(ref, scalar, g, state):
    (m, m_next), (v, v_next) = state["m"], state["v"]
    return [(m_next, ir.Sum((_times(scalar("b1"), ref(m)), _times(_one_minus(scalar("b1")), ref(g))), (1, 1))),
            (v_next, ir.Sum((_times(scalar("b2"), ref(v)),
                             _times(_one_minus(scalar("b2")), ir.Power(ref(g), ir.Num(2.0)))), (1, 1)))]


def _adam(ref, scalar, w, g, w_next, state):
    return _moments(ref, scalar, g, state) + [(w_next, _minus(ref(w), _adam_step(ref, scalar, state)))]


def _adamw(ref, scalar, w, g, w_next, state):
    decay = _times(scalar("lr"), scalar("wd"), ref(w))
    step = ir.Sum((ref(w), _adam_step(ref, scalar, state), decay), (1, -1, -1))
    return _moments(ref, scalar, g, state) + [(w_next, step)]


_RULES = {"sgd": _sgd, "momentum": _momentum, "adam": _adam, "adamw": _adamw}
