"""Hostile names: generated programs renamed with names that trip emitters, and the check that renaming is harmless.

A name in a Tensor Logic program reaches generated Python and LLVM code; a careless emitter lets a tensor called
``np``, ``range`` or ``inputs`` shadow its own globals, lets ``X'`` and ``X_p`` become the same identifier, or
lets a helper like ``new_R`` (the semi-naive delta of ``R``) collide with a user tensor of that name. This module
takes a program from ``programs()`` and renames every tensor, relation, scalar, const and index variable
injectively to names drawn from such classes (``CLASSES``); ``programs(hostile_names=True)`` does that. The
renamed program remembers the plain one, and ``tlc.fuzz.oracle.judge_renamed`` (called by ``tlc.fuzz.check``)
compares the renamed reference's results, keyed by the user's names, with the plain program's results renamed: two tensors
that get each other's values, or a result that goes missing, are ``renamed`` failures.

Names stay valid TL (``grammar/tensorlogic.lark``: ``NAME`` is ``[A-Za-z_][A-Za-z0-9_]*'*``, ASCII only, so no
unicode identifiers): index variables start with a lower-case letter or ``_``; tensors may have any case but not
the name of a built-in function or a declaration keyword.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from hypothesis import strategies as st

from tlc.frontend.lower import KEYWORDS as TL_KEYWORDS
from tlc.fuzz.generate.builder import NAMED
from tlc.fuzz.generate.records import FuzzProgram
from tlc.ir import nodes as ir

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*'*\Z")
RESERVED = frozenset(ir.FUNCTIONS | TL_KEYWORDS | {"factorise"})
"""Names TL itself refuses for a tensor (built-in functions and declaration keywords)."""

CLASSES: dict[str, tuple[str, ...]] = {
    "keyword": ("if", "def", "class", "match", "case", "_", "lambda", "None", "True", "False", "import", "return",
                "yield", "async", "await", "type", "for", "while", "in", "is", "or", "and", "del", "global", "pass",
                "with", "try", "except", "finally", "raise", "from", "as", "elif", "else", "break", "continue",
                "nonlocal", "assert"),
    "builtin": ("range", "print", "len", "self", "file", "sum", "list", "dict", "str", "int", "float", "object",
                "id", "input", "open", "exec", "eval", "globals", "locals", "super", "cls", "slice", "iter",
                "map", "zip", "__name__", "__builtins__", "__import__", "__class__", "__file__"),
    "emitted": ("np", "rt", "rs", "th", "tl", "triton", "contract", "inputs", "run", "t", "SYMBOLS", "KERNELS",
                "out", "result", "results", "ir", "ctypes", "math", "numpy", "tlc_runtime", "opt_einsum"),
    "prime": ("X'", "X''", "X_p", "X_p_p", "Xp", "Xpp", "x'", "x''", "x_p", "x_p_p", "p'", "p_p", "i'", "i_p"),
    "helper": ("Path_num", "new_R", "delta_R", "M_count", "_t1", "_t0", "_round", "R_new", "old_R", "R_delta",
               "new_T0", "delta_T0", "T0_count", "T0_num", "_tmp", "_i", "_j", "_x", "_acc", "_mask", "_out"),
    "function": ("exp", "log", "step", "relu", "sig", "max", "min", "softmax", "concat", "tensor", "const"),
}
"""Hostile name pools by class (``near-duplicate`` names are derived from names already drawn, see ``_near``;
``function`` names are only used for index variables, which TL allows)."""

NEAR = "near-duplicate"


@dataclass(frozen=True, eq=False)
class HostileProgram(FuzzProgram):
    """A generated program renamed with hostile names; ``plain`` is the same program with its original names."""

    plain: FuzzProgram | None = None
    renaming: tuple[tuple[str, str], ...] = ()
    """``(plain name, hostile name)`` for every tensor, scalar, const and index variable."""
    classes: tuple[tuple[str, str], ...] = ()
    """``(hostile name, class)``: which class each hostile name was drawn from."""

    def __repr__(self) -> str:
        return f"HostileProgram({self.source!r}, plain={self.plain.source if self.plain else None!r})"


# ------------------------------------------------------------------------------------------ names in a program
def roles(program: FuzzProgram) -> dict[str, str]:
    """Every renameable name of ``program`` and its role: ``tensor`` (tensors, relations, scalars, consts) or
    ``variable`` (index variables)."""
    found: dict[str, str] = {}
    for stmt in program.statements:
        if isinstance(stmt, ir.Const):
            found[stmt.name] = "tensor"
        elif isinstance(stmt, ir.Shape):
            found[stmt.name] = "tensor"
        elif isinstance(stmt, (ir.Equation, ir.Query)):
            atoms = [stmt.lhs] if isinstance(stmt, ir.Equation) else [stmt.atom]
            for node in atoms + (list(ir.walk(stmt.rhs)) if isinstance(stmt, ir.Equation) else []):
                if isinstance(node, ir.Ref):
                    found[node.name] = "tensor"
                    for index in node.indices:
                        for v in index.variables:
                            found.setdefault(v, "variable")
                elif isinstance(node, ir.Scalar):
                    found[node.name] = "tensor"
                elif isinstance(node, ir.IndexValue):
                    found.setdefault(node.name, "variable")
                elif isinstance(node, ir.Call):
                    for v in (node.axis, *node.extra_axes):
                        if v is not None:
                            found.setdefault(v, "variable")
    return found


def valid(name: str, role: str) -> bool:
    """True when ``name`` is a valid TL name for ``role`` (``tensor`` or ``variable``)."""
    if not NAME.match(name):
        return False
    if role == "variable":
        return name[0].islower() or name[0] == "_"
    return name not in RESERVED


def rename(program: FuzzProgram, names: Mapping[str, str]) -> tuple[ir.Statement, ...]:
    """``program``'s statements with tensors, scalars, consts and variables renamed by ``names``."""
    def index(i: ir.Index) -> ir.Index:
        return ir.rename_index(i, names)

    def ref(r: ir.Ref) -> ir.Ref:
        return replace(r, name=names.get(r.name, r.name), indices=tuple(index(i) for i in r.indices))

    def expr(e: ir.Expr) -> ir.Expr:
        if isinstance(e, ir.Ref):
            return ref(e)
        if isinstance(e, ir.Scalar):
            return replace(e, name=names.get(e.name, e.name))
        if isinstance(e, ir.IndexValue):
            return replace(e, name=names.get(e.name, e.name))
        if isinstance(e, ir.Call) and e.axis is not None:
            e = replace(e, axis=names.get(e.axis, e.axis), extra_axes=tuple(names.get(a, a) for a in e.extra_axes))
        kids = ir.children(e)
        return ir.with_children(e, tuple(expr(c) for c in kids)) if kids else e

    out: list[ir.Statement] = []
    for stmt in program.statements:
        if isinstance(stmt, ir.Equation):
            out.append(replace(stmt, lhs=ref(stmt.lhs), rhs=expr(stmt.rhs)))
        elif isinstance(stmt, ir.Query):
            out.append(replace(stmt, atom=ref(stmt.atom)))
        elif isinstance(stmt, (ir.Const, ir.Shape)):
            out.append(replace(stmt, name=names.get(stmt.name, stmt.name)))
        else:
            out.append(stmt)
    return tuple(out)


def _near(base: str, k: int) -> list[str]:
    """Names that differ from ``base`` only by case, underscores or a prime."""
    stem = base.rstrip("'")
    return [stem.swapcase(), stem.lower(), stem.upper(), f"_{stem}", f"{stem}_", f"{stem}__", stem.replace("_", ""),
            f"{stem}'", f"{stem}_p", f"{stem[:1]}_{stem[1:]}", f"{stem}{k}", f"{stem}_{k}"]


def class_names(which=True) -> tuple[str, ...]:
    """The classes ``which`` selects: True for all, a class name, or several (names or a comma-separated string)."""
    every = tuple(sorted(CLASSES)) + (NEAR,)
    if which is True or which == "all":
        return every
    chosen = tuple(c.strip() for c in which.split(",")) if isinstance(which, str) else tuple(which)
    unknown = [c for c in chosen if c not in every]
    if unknown or not chosen:
        raise ValueError(f"unknown hostile name class {unknown[0] if unknown else ''!r}; classes: {', '.join(every)}")
    return chosen


def hostile(program: FuzzProgram, draw, which=True) -> HostileProgram:
    """``program`` renamed injectively with names drawn (by ``draw``, a Hypothesis draw) from ``CLASSES``
    (only the classes ``which`` selects, see ``class_names``)."""
    wanted = roles(program)
    taken = set(NAMED) | {str(s) for s in program.ir.symbols} | \
        {d.name for d in program.statements if isinstance(d, ir.Domain)}
    names: dict[str, str] = {}
    classes: dict[str, str] = {}
    kinds = list(class_names(which))
    for k, (plain, role) in enumerate(wanted.items()):
        candidates: list[tuple[str, str]] = []
        kind = draw(st.sampled_from(kinds))
        if kind == NEAR:
            bases = list(names.values()) or [plain]
            candidates = [(n, NEAR) for n in _near(draw(st.sampled_from(bases)), k)]
        elif kind != "function" or role == "variable":
            candidates = [(n, kind) for n in CLASSES[kind]]
        candidates = [(n, c) for n, c in candidates if valid(n, role) and n not in taken]
        if candidates:
            name, cls = draw(st.sampled_from(candidates))
        else:       # nothing of that class fits: a plain name with a suffix, still unique
            name, cls = plain, "plain"
            n = 0
            while name in taken or not valid(name, role):
                n += 1
                name = f"{plain}_{n}" if role == "tensor" else f"v{n}"
        names[plain] = name
        classes[name] = cls
        taken.add(name)
    statements = rename(program, names)
    renamed = FuzzProgram.from_statements(statements, tuple(names.get(n, n) for n in program.supplied))
    return HostileProgram(renamed.source, renamed.statements, renamed.error, renamed.supplied, plain=program,
                          renaming=tuple(names.items()), classes=tuple(classes.items()))


def hostile_programs(strategy: st.SearchStrategy, which=True) -> st.SearchStrategy:
    """Programs of ``strategy`` renamed by ``hostile`` with names of the classes ``which`` selects."""
    class_names(which)

    @st.composite
    def build(draw):
        return hostile(draw(strategy), draw, which)

    return build()


def name_class(program, name: str) -> str:
    """The class a hostile name of ``program`` was drawn from (``plain`` when it was not renamed)."""
    return dict(getattr(program, "classes", ())).get(name, "plain")


# ------------------------------------------------------------------------------------------ case files
def dumps(program: HostileProgram) -> str:
    """The plain program and renaming as JSON (written beside a reproducer as ``NAME.names.json``)."""
    return json.dumps({"plain": program.plain.source, "supplied": list(program.plain.supplied),
                       "renaming": program.renaming, "classes": program.classes}, indent=1)


def loads(source: str, text: str) -> HostileProgram:
    """The ``HostileProgram`` of renamed ``source`` and its ``dumps`` JSON ``text``."""
    data = json.loads(text)
    plain = FuzzProgram.from_source(data["plain"], tuple(data["supplied"]))
    renamed = FuzzProgram.from_source(source)
    names = dict(data["renaming"])
    return HostileProgram(renamed.source, renamed.statements, None, tuple(names.get(n, n) for n in plain.supplied),
                          plain=plain, renaming=tuple(tuple(p) for p in data["renaming"]),
                          classes=tuple(tuple(c) for c in data["classes"]))
