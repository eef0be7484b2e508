"""The loop around a semi-naive stratum's rounds, shared by its NumPy-row and bitset-row forms: a round counter when
rounds are limited, a progress ticker, ``while`` some delta is non-empty, and after the round's body the ticker's
tick and the limit's check."""

from __future__ import annotations

from contextlib import contextmanager

from tlc.analysis.strata import Stratum
from tlc.backends.shared.arrays import tuple_code
from tlc.backends.shared.quoting import internal, literal


@contextmanager
def rounds(emitter, stratum: Stratum, deltas: list[str], test: str, note: str):
    """Emit ``while test:`` (annotated ``note``) and its bookkeeping into ``emitter.lines``; the round's body is what
    the caller emits inside the ``with``, indented one level."""
    lines, members = emitter.lines, tuple(stratum.tensors)
    limit, counter = emitter.max_rounds, internal("round")
    if limit is not None:
        lines.append(f"{counter} = 0")
    ticker = internal("progress")
    lines.append(f"{ticker} = rt.SemiNaiveProgress({literal(members)}, {limit})  # reports rounds on a terminal")
    lines.append(f"while {test}:  # {note}")
    if limit is not None:
        lines.append(f"    {counter} += 1")
    yield
    lines.append(f"    {ticker}.round({tuple_code(deltas)})")
    if limit is not None:
        sites = emitter.recursive_sites(stratum)
        lines.append(f"    rt.round_limit({counter}, {limit}, {literal(members)}, {tuple_code(deltas)}, "
                     f"{literal(sites)})")
    lines.append(f"{ticker}.close()")
