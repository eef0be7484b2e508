"""The backend registry: every backend by name, and the record (``Backend``) each one provides.

A backend is one package whose module-level ``BACKEND`` is a ``Backend``, plus one line in ``BACKENDS``. The
registry imports a backend's package only when that backend is asked for, so a missing extra costs nothing
until it is used.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tlc.driver.planned import PlannedProgram
from tlc.errors import TlcError

LAZY_RESULTS = "lazy-results"
"""Backend capability: its numeric results are lazy arrays (Dask's), returned as they are (``np.asarray``
computes one)."""

BACKENDS = {
    "numpy": "tlc.backends.numpy",
    "llvm": "tlc.backends.llvm",
    "triton": "tlc.backends.triton",
    "dask": "tlc.backends.dask",
}
"""Backend name -> the package whose ``BACKEND`` implements it."""


@dataclass(frozen=True)
class Emitted:
    """What a backend emitted for one planned program: the module's source, its kernels by call name (the
    backend's own records, e.g. for ahead-of-time compilation) and, per equation, what it decided and why."""

    source: str
    filename: str | None = None
    """The program's file name, for messages and the loaded module's name."""
    kernels: Mapping[str, object] = field(default_factory=dict)
    decisions: Mapping[int, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Backend:
    """One backend: how it is installed, what it can do, and how it emits and loads a planned program."""

    name: str
    summary: str
    emit: Callable[[PlannedProgram], Emitted]
    """Emit a planned program (pure: no compilation, nothing loaded)."""
    load: Callable[[PlannedProgram, Emitted], Callable[[dict], dict]]
    """Compile and load what ``emit`` made for a planned program: returns ``run(prepared_inputs) -> {tensor:
    value}``."""
    extra: str | None = None
    """The ``pip install 'tlc[EXTRA]'`` extra it needs (None: none)."""
    requires: tuple[str, ...] = ()
    """Modules that must be importable for it to compile anything."""
    capabilities: frozenset[str] = frozenset()
    """What the planner may rely on (``tlc.driver.plan.FUSED_FOLDS``, ...)."""
    function_fallbacks: Mapping[str, str] = field(default_factory=dict)
    """Built-in functions (``tlc.ir.functions``) this backend does not compile itself, with the reason: an
    equation using one runs as NumPy code. Every other function has a native form."""
    attention_runs: Callable | None = None
    """For ``explain``: how a fused attention node runs on this backend (None: the runtime's blocked kernel)."""

    def missing(self) -> str | None:
        """Why this backend cannot run here (a module of its extra is not installed), or None."""
        for module in self.requires:
            if sys.modules.get(module) is None and importlib.util.find_spec(module) is None:     # a search: ~0.1 ms
                return f"the {self.name} backend needs {module}: pip install 'tlc[{self.extra}]'"
        return None


def backend(name: str) -> Backend:
    """The backend called ``name``; a TlcError naming the valid ones (and the closest) for any other."""
    if name not in BACKENDS:
        close = difflib.get_close_matches(str(name), BACKENDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise TlcError(f"unknown backend {name!r}{hint}; available: {', '.join(BACKENDS)}")
    return importlib.import_module(BACKENDS[name]).BACKEND
