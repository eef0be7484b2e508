"""Check tlc's architecture: layers, import cycles, private names and backends, from the source's imports.

Rules (each violation is printed as ``file:line: message``; the exit status is 1 when there is one):

1. Layers: a module imports only from its own layer or lower ones (``LAYERS``, lowest first). Imports inside
   functions count too: a lazy import is still an arrow.
2. No import cycle between modules (imports inside functions count: laziness hides a cycle, not removes it).
3. No private name (``_x``) imported from another package.
4. No backend imports another backend (``tlc.backends.shared`` and ``tlc.backends.registry`` are for all).

``--mermaid`` prints the package graph as a Mermaid flowchart instead (docs/architecture.md shows it).
Run: ``python scripts/check_layers.py`` (the test suite runs it too).
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1] / "tlc"

LAYERS = (
    ("tlc.errors", "tlc.interrupts", "tlc.memory_limit", "tlc.ir", "tlc.contract", "tlc.factorise"),
    ("tlc.frontend",),
    ("tlc.analysis",),
    ("tlc.passes",),
    ("tlc.driver",),
    ("tlc.backends",),
    ("tlc.api",),
    ("tlc.einsum", "tlc.datalog", "tlc.gradient", "tlc.train", "tlc.fuzz"),
    ("tlc.cli", "tlc.__main__", "tlc"),
)
"""Packages and modules by layer, lowest first; ``tlc`` itself (``tlc/__init__.py``) is the top."""

SHARED_BACKEND_PARTS = ("shared", "registry")
"""Parts of ``tlc.backends`` every backend may import."""


def module_name(path: Path) -> str:
    """``tlc.a.b`` for ``tlc/a/b.py`` (``tlc.a`` for ``tlc/a/__init__.py``)."""
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit(module: str) -> str:
    """The layer entry a module belongs to (the longest matching prefix in ``LAYERS``)."""
    names = [n for layer in LAYERS for n in layer if module == n or module.startswith(n + ".")]
    return max(names, key=len)


def layer_of(module: str) -> int:
    """The layer number of a module."""
    name = unit(module)
    return next(k for k, layer in enumerate(LAYERS) if name in layer)


def package_of(module: str) -> str:
    """The package a module lives in (``tlc.backends.llvm`` for ``tlc.backends.llvm.emit``)."""
    path = ROOT.parent / Path(*module.split("."))
    return module if path.is_dir() else module.rpartition(".")[0]


def imports(path: Path) -> list[tuple[int, str, list[str], bool]]:
    """``(line, module, names, top_level)`` for each import of a tlc module in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    top = set(map(id, tree.body))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, [], id(node) in top) for a in node.names if a.name.split(".")[0] == "tlc"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and \
                node.module.split(".")[0] == "tlc":
            found.append((node.lineno, node.module, [a.name for a in node.names], id(node) in top))
    return found


def target(module: str, names: list[str]) -> list[str]:
    """The modules an import reaches: ``from tlc.a import b`` reaches ``tlc.a.b`` when that is a module."""
    reached = []
    for name in names or [None]:
        sub = f"{module}.{name}" if name else module
        base = ROOT.parent / Path(*sub.split("."))
        reached.append(sub if base.with_suffix(".py").exists() or base.is_dir() else module)
    return reached


def check() -> list[str]:
    """Every violation of the rules, as ``file:line: message``."""
    problems = []
    graph = nx.DiGraph()
    for path in sorted(ROOT.rglob("*.py")):
        here = module_name(path)
        graph.add_node(here)
        where = path.relative_to(ROOT.parent)
        for line, module, names, top_level in imports(path):
            for there in target(module, names):
                if there != here:
                    graph.add_edge(here, there, line=line)
                if layer_of(there) > layer_of(here):
                    problems.append(f"{where}:{line}: {here} (layer {unit(here)}) imports {there} from a higher "
                                    f"layer ({unit(there)})")
                if here.startswith("tlc.backends.") and there.startswith("tlc.backends."):
                    mine, theirs = here.split(".")[2], there.split(".")[2]
                    if mine != theirs and theirs not in SHARED_BACKEND_PARTS and mine not in SHARED_BACKEND_PARTS:
                        problems.append(f"{where}:{line}: backend {mine} imports backend {theirs} ({there})")
                    if mine in SHARED_BACKEND_PARTS and theirs not in SHARED_BACKEND_PARTS:
                        problems.append(f"{where}:{line}: shared backend code imports backend {theirs} ({there})")
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private and package_of(module) != package_of(here):
                problems.append(f"{where}:{line}: imports the private {', '.join(private)} from another package "
                                f"({module})")
    for cycle in nx.simple_cycles(graph):
        first = cycle[0]
        path = ROOT.parent / Path(*first.split("."))
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        line = graph.edges[first, cycle[1 % len(cycle)]]["line"]
        problems.append(f"{path.relative_to(ROOT.parent)}:{line}: import cycle {' -> '.join(cycle + [first])}")
    return problems


def mermaid() -> str:
    """The package graph (one node per ``LAYERS`` entry, an arrow where one imports another, arrows implied
    by others left out) as a Mermaid flowchart."""
    graph = nx.DiGraph()
    for path in sorted(ROOT.rglob("*.py")):
        here = unit(module_name(path))
        for _, module, names, _ in imports(path):
            for there in target(module, names):
                if unit(there) not in (here, "tlc"):
                    graph.add_edge(here, unit(there))
    arrows = defaultdict(set)
    for a, b in nx.transitive_reduction(graph).edges:
        arrows[a].add(b)
    lines = ["flowchart BT"]
    for k, layer in enumerate(LAYERS):
        lines.append(f"  subgraph layer{k}[\"layer {k}\"]")
        lines.extend(f"    {n.replace('.', '_')}[\"{n}\"]" for n in layer if n != "tlc")
        lines.append("  end")
    lines.extend(f"  {a.replace('.', '_')} --> {b.replace('.', '_')}" for a in sorted(arrows) for b in sorted(arrows[a])
                 if a != "tlc")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Print the violations (or, with ``--mermaid``, the package graph); 1 when there is a violation."""
    if argv[1:] == ["--mermaid"]:
        print(mermaid())
        return 0
    problems = check()
    print("\n".join(problems) if problems else "layers ok: no cycle, no back-arrow, no private import across "
          "packages, no backend importing another")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
