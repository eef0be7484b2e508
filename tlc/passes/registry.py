"""The pass registry: every IR -> IR pass by name, with its level and where it lives (as text, so that the
registry imports no pass and no pass imports the registry or the manager).

A pass is a frozen dataclass whose fields are its options and whose ``run(program)`` returns the rewritten
program; ``parse_pass("name{key=value,...}")`` makes one from text (xDSL style), e.g. ``factorise{rel_err=1e-3}``.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
from dataclasses import dataclass

from tlc.errors import TlcError


@dataclass(frozen=True)
class Entry:
    """A registered pass: its name, the lowest ``-O`` level that runs it (None: opt-in, no level runs it), and
    its class as ``module:Class``."""

    name: str
    level: int | None
    location: str


ENTRIES = (
    Entry("fold-constants", 1, "tlc.passes.fold_constants:FoldConstants"),
    Entry("attention", 1, "tlc.passes.attention:FuseAttention"),
    Entry("cse", 2, "tlc.passes.cse:CommonSubexpressions"),
    Entry("fuse", 2, "tlc.passes.fuse:Fuse"),
    Entry("factorise", None, "tlc.passes.factorise:Factorise"),
)
"""Every pass, in the order the pipeline runs them."""
REGISTRY = {entry.name: entry for entry in ENTRIES}
PIPELINE = tuple(e.name for e in ENTRIES if e.level is not None)
"""The passes ``-O`` levels run, in order; ``-O N`` keeps those whose level is at most N."""
OPT_IN = tuple(e.name for e in ENTRIES if e.level is None)
"""Passes no ``-O`` level runs: they need more than the IR (weight values) and run when asked for."""


def check_pass_names(names) -> None:
    """Raise a TlcError listing the valid pass names (and the closest) if any of ``names`` is unknown."""
    for name in names:
        if name not in REGISTRY:
            close = difflib.get_close_matches(str(name), REGISTRY, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TlcError(f"unknown pass {name!r}{hint}; passes are {', '.join(REGISTRY)}")


def pass_class(name: str) -> type:
    """The class of pass ``name`` (imported now)."""
    check_pass_names([name])
    module, _, cls = REGISTRY[name].location.partition(":")
    return getattr(importlib.import_module(module), cls)


def parse_pass(text: str):
    """A pass from ``name`` or ``name{key=value,...}``: each key is a field of the pass's dataclass, each value
    converted to the field's default's type."""
    name, brace, rest = text.strip().partition("{")
    if brace and not rest.endswith("}"):
        raise TlcError(f"a pass with options is written name{{key=value,...}}, got {text!r}")
    cls = pass_class(name.strip())
    fields = {f.name: f for f in dataclasses.fields(cls)}
    options = {}
    for item in filter(None, (i.strip() for i in rest[:-1].split(",") if brace)):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in fields:
            raise TlcError(f"pass {name.strip()} has no option {key!r}; options: {', '.join(fields) or 'none'}")
        options[key] = _convert(fields[key], value.strip())
    return cls(**options)


def _convert(field: dataclasses.Field, value: str):
    """``value`` as the type of ``field``'s default (text when the default is None or text)."""
    default = field.default
    if isinstance(default, bool):
        return value.lower() in ("1", "true", "yes")
    if isinstance(default, (int, float)):
        try:
            return type(default)(value)
        except ValueError:
            raise TlcError(f"option {field.name} must be a number, not {value!r}") from None
    return value
