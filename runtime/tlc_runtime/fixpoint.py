"""Watching the loops of recursive strata: convergence, divergence, oscillation and round limits.

Emitted code keeps one loop per recursion and asks these helpers, once per round, whether to stop; every way
of failing raises a ``RuntimeFailure`` located at the recursive equation, with a message that says what was
seen (a negative cycle, values that became infinite, two states that repeat, or values still changing).
"""

from __future__ import annotations

import numpy as np

from tlc_runtime.errors import RuntimeFailure
from tlc_runtime.progress import Ticker

IMPROVING = {"min": "a negative cycle", "max": "a gaining cycle"}
DIRECTION = {"min": "lowering", "max": "raising"}


class Fixpoint:
    """One naive fixpoint loop over a stratum's tensors; call ``settled(new, old)`` at the end of each round.

    ``names``, ``kinds`` (``sum``, ``avg``, ``min``, ``max`` or ``relation``) and ``where`` ((line, column) of
    a recursive equation defining it) are per tensor, in the order of the arrays passed to ``settled``.
    ``rounds`` is the bound; with ``proof`` set, values still changing after it prove a cycle that keeps
    improving them (``tlc.analysis.strata.round_bound``), else they only did not converge (``limit`` says why
    that bound). With ``oscillation``, a round that gives back the state of two rounds before fails at once.
    """

    def __init__(self, names, kinds, where, rounds: int, proof: bool, limit: str, oscillation: bool = False):
        self.names, self.kinds, self.where = tuple(names), tuple(kinds), tuple(where)
        self.rounds, self.proof, self.limit = rounds, proof, limit
        self.round = 0
        self.oscillation = oscillation
        """Whether to watch for a repeated state (not needed by path-step min=/max=, whose values only improve;
        watching keeps one more state alive)."""
        self.back = None
        """The state two rounds back: a repeat of it is an oscillation (the next state is a function of this one)."""
        self.ticker = Ticker(f"fixpoint of {', '.join(self.names)}", rounds)

    def settled(self, new, old) -> bool:
        """True when ``new`` (this round's arrays) equals ``old`` (the last round's); raises on failure."""
        self.round += 1
        for name, kind, array, at in zip(self.names, self.kinds, new, self.where):
            if kind in ("sum", "avg") and not np.isfinite(array).all():
                raise RuntimeFailure(f"{name} diverges: no fixpoint (values became infinite in round "
                                     f"{self.round})", *at)
        changed = [k for k, (a, b) in enumerate(zip(new, old)) if not np.array_equal(a, b, equal_nan=True)]
        if not changed:
            self.ticker.close()
            return True
        k = changed[0]
        if self.ticker.due():
            self.ticker.report(self.round, describe_change(new[k], old[k], f"{self.names[k]} last changed by"))
        if self.back is not None and all(np.array_equal(a, b, equal_nan=True) for a, b in zip(new, self.back)):
            raise RuntimeFailure(self.oscillation_message(k, new[k], old[k]), *self.where[k])
        if self.round >= self.rounds:
            raise RuntimeFailure(self._failure(k, new[k], old[k]), *self.where[k])
        if self.oscillation:
            self.back = old
        return False

    def oscillation_message(self, k: int, new, old) -> str:
        """What to say when this round gave back the state of two rounds before (``new``/``old``: tensor k's)."""
        gap = describe_change(new, old, "they differ by")
        return (f"{self.names[k]} oscillates between two states: round {self.round} gives back the state of round "
                f"{self.round - 2} ({gap}), so there is no fixpoint")

    def _failure(self, k: int, new, old) -> str:
        name, kind = self.names[k], self.kinds[k]
        if self.proof and kind in IMPROVING:
            return (f"{name} has {IMPROVING[kind]}: its values still change after {self.rounds} rounds, but a best "
                    f"derivation visits at most {self.rounds - 1} element{'s' * (self.rounds != 2)} unless a cycle "
                    f"keeps {DIRECTION[kind]} them, so no fixpoint exists ({describe_change(new, old)})")
        return f"{name} did not converge after {self.rounds} rounds ({describe_change(new, old)}): {self.limit}"


def describe_change(new, old, lead: str = "last change") -> str:
    """``last change ε``: the largest absolute change between two states among elements finite in both, with
    elements reached for the first time (from NaN or an infinity: no path yet) counted apart, and changed tuples
    counted for relations."""
    new, old = np.asarray(new), np.asarray(old)
    if new.dtype == bool:
        count = int(np.count_nonzero(new != old))
        return f"{lead} {count} tuple{'s' * (count != 1)}"
    new, old = new.astype(np.float64, copy=False), old.astype(np.float64, copy=False)
    differs = np.isfinite(new) & np.isfinite(old) & (new != old)
    reached = int(np.count_nonzero(~np.isfinite(old) & np.isfinite(new)))
    others = int(np.count_nonzero(~np.isfinite(new) & (new != old) & ~(np.isnan(new) & np.isnan(old))))
    parts = [f"{lead} {float(np.abs(new[differs] - old[differs]).max()):.3g}"] if differs.any() else []
    if reached:
        parts.append(f"{reached} element{'s' * (reached != 1)} reached for the first time")
    if others or not parts:
        parts.append(f"{others} element{'s' * (others != 1)} became infinite or NaN")
    return ", ".join(parts)


def round_limit(round_: int, rounds: int, names, news, where) -> None:
    """In a semi-naive loop, after the check that ends it: raise once round ``rounds`` still derived new tuples
    (``news``, per tensor of ``names``, located at ``where``)."""
    if round_ < rounds:
        return
    for name, new, at in zip(names, news, where):
        count = int(np.count_nonzero(new)) if isinstance(new, np.ndarray) else len(new)
        if count:
            raise RuntimeFailure(f"{name} did not converge after {rounds} rounds (the last derived {count} new "
                                 f"tuple{'s' * (count != 1)}): the limit is max_rounds={rounds}", *at)
