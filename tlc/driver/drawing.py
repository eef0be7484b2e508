"""A program and its plan drawn as a Graphviz graph: tensors (boxes for inputs, ellipses for defined ones)
and equations (notes labelled with the equation and the plan's choices), one cluster per stratum. ``dot``
draws it as SVG or PNG when installed; otherwise the DOT text is the result, with a note saying so."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence

from tlc.analysis.strata import Stratum
from tlc.errors import TlcError
from tlc.ir.nodes import refs
from tlc.ir.printer import format_equation, format_ref
from tlc.ir.program import Program

DOT_TIMEOUT = 60
"""Seconds Graphviz may take to draw a graph."""


def dot_string(text: str) -> str:
    """``text`` as a quoted DOT string: backslashes and quotes escaped, every line ending ``\\l`` (left-justified),
    other control characters dropped."""
    lines = str(text).replace("\\", "\\\\").replace('"', '\\"').splitlines() or [""]
    clean = ["".join(c for c in line if c.isprintable()) for line in lines]
    return '"' + "".join(line + "\\l" for line in clean) + '"'


def program_dot(program: Program, strata: Sequence[Stratum], choices: Mapping[int, Sequence[str]] | None = None,
                strategies: Sequence[str] | None = None) -> str:
    """The DOT source of ``program``: ``choices`` are the plan's lines per equation number, ``strategies`` one
    line per stratum (both optional: without inputs nothing is planned yet)."""
    out = ["digraph program {", "  rankdir=LR;", '  node [fontname="monospace", fontsize=10];']
    for name, info in program.tensors.items():
        kind = "relation" if info.relation else "tensor"
        shape = "ellipse" if info.defined else "box"
        out.append(f'  "t:{_id(name)}" [label={dot_string(f"{name} ({kind})")}, shape={shape}];')
    for number, stratum in enumerate(strata, 1):
        title = f"stratum {number}: {stratum.mode.value}"
        if strategies and number - 1 < len(strategies) and strategies[number - 1]:
            title += "\n" + strategies[number - 1]
        out += [f"  subgraph cluster_{number} {{", f"    label={dot_string(title)};", "    style=rounded;"]
        for k in stratum.equations:
            eq = program.equations[k]
            where = f"line {eq.span.line}: " if eq.span else ""
            label = "\n".join([where + format_equation(eq), *(choices or {}).get(k, ())])
            out.append(f'    "e:{k}" [label={dot_string(label)}, shape=note];')
        out.append("  }")
    for k, eq in enumerate(program.equations):
        for name in dict.fromkeys(r.name for r in refs(eq.rhs)):
            out.append(f'  "t:{_id(name)}" -> "e:{k}";')
        out.append(f'  "e:{k}" -> "t:{_id(eq.lhs.name)}";')
    for number, query in enumerate(program.queries):
        label = dot_string(format_ref(query.atom) + "?")
        out.append(f'  "q:{number}" [label={label}, shape=diamond];')
        out.append(f'  "t:{_id(query.atom.name)}" -> "q:{number}";')
    out.append("}")
    return "\n".join(out) + "\n"


def _id(name: str) -> str:
    """A node-id fragment for a tensor name (names are identifiers, primes and all; quotes are escaped)."""
    return name.replace("\\", "\\\\").replace('"', '\\"')


def render_dot(text: str, fmt: str) -> tuple[str | bytes, str | None]:
    """The drawing in ``fmt`` (``dot``, ``svg`` or ``png``) and a note for the user (None when all went as
    asked): without Graphviz's ``dot`` program the DOT text itself, with a note saying how to draw it."""
    if fmt == "dot":
        return text, None
    dot = shutil.which("dot")
    if dot is None:
        return text, (f"Graphviz's 'dot' program is not installed: printing the DOT text instead of {fmt} "
                      f"(draw it with: dot -T{fmt} FILE.dot)")
    try:
        done = subprocess.run([dot, f"-T{fmt}"], input=text.encode("utf-8"), capture_output=True,
                              timeout=DOT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise TlcError(f"Graphviz's dot failed to draw the program: {err}") from None
    if done.returncode != 0:
        raise TlcError(f"Graphviz's dot failed to draw the program: "
                       f"{done.stderr.decode('utf-8', 'replace').strip()}")
    return (done.stdout.decode("utf-8") if fmt == "svg" else done.stdout), None
