"""What to factorise: ``--factorise`` text, the ``factorise=`` dict, and ``factorise(...)`` declarations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tlc.errors import TlcError
from tlc.factorise.decompositions import METHODS, check_budget

DEFAULT_REL_ERR = 1e-3
"""The budget when the options name no ``rel_err``."""

KEYS = ("rel_err", "method", "tensors")


@dataclass(frozen=True, slots=True)
class Budget:
    """How one tensor may be factorised: the relative Frobenius error allowed and the method."""

    rel_err: float = DEFAULT_REL_ERR
    method: str = "auto"
    named: bool = True
    """False when the tensor is only a candidate (no ``tensors=`` list): failing to meet the budget then keeps
    it dense instead of raising."""


@dataclass(frozen=True)
class FactoriseOptions:
    """Program-wide factorisation options: a default budget, and which tensors (None: every candidate)."""

    default: Budget = Budget()
    tensors: Mapping[str, Budget] | None = field(default=None)
    """Tensors named explicitly, with their budgets; None lets every numeric input of rank >= 2 compete."""


def budget(rel_err=DEFAULT_REL_ERR, method="auto") -> Budget:
    """A checked :class:`Budget` (a TlcError names the bad value)."""
    if isinstance(rel_err, str):
        try:
            rel_err = float(rel_err)
        except ValueError:
            raise TlcError(f"rel_err must be a number, not {rel_err!r}") from None
    if method not in METHODS:
        raise TlcError(f"unknown factorisation method {method!r}; methods are {', '.join(METHODS)}")
    return Budget(check_budget(rel_err), method)


def parse_text(text: str) -> FactoriseOptions:
    """Options from ``rel_err=1e-3[,method=tt][,tensors=W1+W2]`` (the ``--factorise`` flag)."""
    fields: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep or not key or not value:
            raise TlcError(f"--factorise expects KEY=VALUE items separated by commas "
                           f"(keys {', '.join(KEYS)}), got {item.strip()!r}")
        if key not in KEYS:
            raise TlcError(f"unknown --factorise key {key!r}; keys are {', '.join(KEYS)}")
        if key in fields:
            raise TlcError(f"--factorise gives {key} twice")
        fields[key] = value.strip()
    names = fields.pop("tensors", None)
    return options_from({**fields, **({"tensors": names.split("+")} if names else {})})


def options_from(spec) -> FactoriseOptions:
    """Options from the API's ``factorise=``: ``"rel_err=..."`` text, or a dict with ``rel_err``, ``method``
    and ``tensors`` (a list of names, or a dict of name -> {rel_err, method})."""
    if isinstance(spec, FactoriseOptions):
        return spec
    if isinstance(spec, str):
        return parse_text(spec)
    if not isinstance(spec, Mapping):
        raise TlcError(f"factorise must be text such as 'rel_err=1e-3' or a dict, not {type(spec).__name__}")
    unknown = [k for k in spec if k not in KEYS]
    if unknown:
        raise TlcError(f"unknown factorise option {unknown[0]!r}; options are {', '.join(KEYS)}")
    default = budget(spec.get("rel_err", DEFAULT_REL_ERR), spec.get("method", "auto"))
    names = spec.get("tensors")
    if names is None:
        return FactoriseOptions(default)
    if isinstance(names, str):
        names = [names]
    if isinstance(names, Mapping):
        chosen = {}
        for name, own in names.items():
            own = own or {}
            bad = [k for k in own if k not in ("rel_err", "method")]
            if bad:
                raise TlcError(f"unknown factorise option {bad[0]!r} for tensor {name}; options are rel_err, method")
            chosen[name] = budget(own.get("rel_err", default.rel_err), own.get("method", default.method))
        return FactoriseOptions(default, chosen)
    if not all(isinstance(n, str) and n for n in names):
        raise TlcError(f"factorise tensors must be tensor names, got {names!r}")
    return FactoriseOptions(default, {n: default for n in names})
