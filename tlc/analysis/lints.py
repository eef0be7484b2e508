"""Likely mistakes in a program that still compiles, found without data: each is a located ``TlcWarning``
(listed with an example in docs/diagnostics.md). Only reads the program."""

from __future__ import annotations

from collections import Counter

from tlc.analysis.projection import analyse, occurrences
from tlc.errors import TlcWarning, closest, shortened
from tlc.ir import nodes as ir
from tlc.ir.printer import format_expr, format_ref
from tlc.ir.program import Program, TensorInfo

LINTS = ("close-name", "undefined-relation", "single-use-variable", "summed-away")
"""The warnings' codes, in the order the checks run."""


def lint(program: Program, supplied: frozenset[str] = frozenset()) -> list[TlcWarning]:
    """Every warning about ``program``, in source order; ``supplied`` names the inputs known to be given data
    (a relation read but not defined is then no mistake)."""
    found = [*_close_names(program), *_undefined_relations(program, supplied), *single_use_variables(program),
             *_summed_away(program)]
    for warning in found:
        warning.filename, warning.source = program.filename, program.source
    return sorted(found, key=lambda w: (w.span.line, w.span.column) if w.span else (0, 0))


def _inputs(program: Program) -> list[TensorInfo]:
    """Tensors read but neither defined nor declared (a declaration says the input is meant)."""
    return [info for info in program.tensors.values() if not info.defined and info.name not in program.shapes]


def _close_names(program: Program) -> list[TlcWarning]:
    """A numeric input named like a defined tensor: probably a typo for it."""
    slips = _Slips([n for n, info in program.tensors.items() if info.defined and not info.relation])
    out = []
    for info in _inputs(program):
        near = None if info.relation else slips.of(info.name)
        if near is not None:
            out.append(TlcWarning(
                f"{info.name} is read but never defined, so it is an input; {near} is defined", info.first_use.span,
                help=f"did you mean '{near}'?",
                notes=(f"declare it with 'tensor {info.name}[...]' if it is meant to be an input",),
                code="close-name"))
    return out


def _undefined_relations(program: Program, supplied: frozenset[str]) -> list[TlcWarning]:
    """A relation no rule or fact defines nor data supplies, named like a defined relation, or read by a query
    alone (a relation some rule reads is an input, and querying an input is legitimate)."""
    defined = [n for n, info in program.tensors.items() if info.defined and info.relation]
    slips = _Slips(defined)
    queried = {q.atom.name: q for q in program.queries}
    read = {ref.name for eq in program.equations for ref in ir.refs(eq.rhs)}
    out = []
    for info in _inputs(program):
        if not info.relation or info.name in supplied:
            continue
        near = slips.of(info.name)
        if near is None and (info.name not in queried or info.name in read):
            continue
        if near is None and len(out) < MAX_SUGGESTIONS:
            near = closest(info.name, defined)
        span = queried[info.name].span if near is None else info.first_use.span
        reader = "a query reads it" if info.name in queried else "a rule reads it"
        out.append(TlcWarning(
            f"no rule or fact defines relation {info.name}, but {reader}: it answers only from data given at run "
            f"time", span, help=f"did you mean '{near}'?" if near else None,
            notes=(f"declare it with 'relation {info.name}(...)' if it is meant to be an input",),
            code="undefined-relation"))
    return out


class _Slips:
    """Finds the name another was most likely a slip of the keyboard for, in time linear in the names' length:
    the same name in another case, two neighbours swapped, one letter doubled or typed once for twice, or one
    letter after the first (not a digit, in a name of four or more) replaced. Adding letters is not a slip:
    ``EmbR`` is defined from the input ``Emb``, ``W2`` is another input than ``W1``."""

    def __init__(self, names: list[str]):
        self.folded: dict[str, str] = {}
        self.blanked: dict[str, str] = {}
        for name in names:
            self.folded.setdefault(name.lower(), name)
            if len(name) >= 4:
                for k, c in enumerate(name[1:], 1):
                    if not c.isdigit():
                        self.blanked.setdefault(name[:k] + "\0" + name[k + 1:], name)

    def of(self, typed: str) -> str | None:
        """The name ``typed`` was probably meant to be, or None."""
        found = self.folded.get(typed.lower())
        if found is not None and found != typed:
            return found
        for k in range(len(typed) - 1):
            swapped = typed[:k] + typed[k + 1] + typed[k] + typed[k + 2:]
            if swapped != typed and swapped.lower() in self.folded:
                return self.folded[swapped.lower()]
            undoubled = (typed[:k] + typed[k + 1:]).lower()
            if typed[k].lower() == typed[k + 1].lower() and undoubled in self.folded:
                return self.folded[undoubled]
        for k in range(1, len(typed) + 1):     # a doubled letter typed once: Hiden for Hidden
            doubled = (typed[:k] + typed[k - 1] + typed[k:]).lower()
            if doubled in self.folded:
                return self.folded[doubled]
        if len(typed) >= 4:
            for k, c in enumerate(typed[1:], 1):
                found = None if c.isdigit() else self.blanked.get(typed[:k] + "\0" + typed[k + 1:])
                if found is not None and found != typed:
                    return found
        return None


MAX_SUGGESTIONS = 10
"""Most warnings a lint computes an edit-distance suggestion for (each costs a pass over every name)."""


def slip_of(name: str, names: list[str]) -> str | None:
    """The one of ``names`` that ``name`` was most likely a slip of the keyboard for (see ``_Slips``), or None."""
    return _Slips(names).of(name)


def _as_written(name: str, line: int | None) -> str:
    return name


def single_use_variables(program: Program, shown=_as_written) -> list[TlcWarning]:
    """A variable that occurs once in a relational rule joins nothing and constrains nothing (as Soufflé warns);
    ``shown(name, line)`` is how a variable or relation of the rule on ``line`` is named in the message (a front
    end's own names)."""
    out = []
    for eq in program.equations:
        if not eq.lhs.relation or eq.fact:
            continue
        counts: Counter[str] = Counter()
        where: dict[str, object] = {}
        for ref in (eq.lhs, *ir.refs(eq.rhs)):
            for index in ref.indices:
                for v in index.variables:
                    counts[v] += 1
                    where.setdefault(v, index.span or ref.span)
        for node in ir.walk(eq.rhs):
            if isinstance(node, ir.IndexValue):
                counts[node.name] += 1
                where.setdefault(node.name, node.span)
        line = eq.span.line if eq.span else None
        for v, n in counts.items():
            if n == 1 and not v.startswith("_"):
                name = shown(v, line)
                out.append(TlcWarning(
                    f"variable {name} occurs only once in this rule of {shown(eq.lhs.name, line)}, so it joins "
                    f"nothing", where[v], help=f"name it _{name} if any value will do; otherwise it should match a "
                                               f"variable of another atom", code="single-use-variable"))
    return out


def _summed_away(program: Program) -> list[TlcWarning]:
    """An index summed over a sum of terms: ``Y[i] = X[i,j] + B[j]`` sums the whole right-hand side over j
    (adding any term without j once per value of j), where ``Y[i,j]`` was more likely meant."""
    out = []
    for eq in program.equations:
        if eq.lhs.relation or eq.fact:
            continue
        for path, variables in analyse(eq).summed_at.items():
            node = ir.node_at(eq.rhs, path)
            if isinstance(node, ir.Sum) and not _contractions_only(node, variables):
                how = f"over the terms of {shortened(format_expr(node))}"
                why = "no product holds all its occurrences, so the whole sum is summed"
            elif isinstance(node, ir.Ref) and _term_of_sum(eq.rhs, path):
                how = f"over {shortened(format_expr(node))} alone, before it is added to the other terms"
                why = "a single tensor holds all its occurrences, so that tensor alone is summed"
            else:
                continue
            they = len(variables) > 1
            kept = format_ref(ir.Ref(eq.lhs.name, eq.lhs.indices + tuple(
                ir.Index(terms=((v, 1),)) for v in variables), eq.lhs.relation))
            out.append(TlcWarning(
                f"{', '.join(variables)} {'are' if they else 'is'} summed away {how}, not kept in {eq.lhs.name}",
                node.span or eq.span,
                help=f"to keep {'them' if they else 'it'}, write {kept} on the left-hand side",
                notes=(f"an index missing from the left-hand side is summed over the smallest product holding all "
                       f"its occurrences; here {why}",),
                code="summed-away"))
    return out


def _contractions_only(node: ir.Sum, variables) -> bool:
    """True when every term of ``node`` is a product of several factors using all ``variables``: then summing
    the whole sum is summing each product (``W[i,j] X[j] + U[i,j] H[j]``), as intended."""
    for term in node.terms:
        inner = term.operand if isinstance(term, ir.Neg) else term
        if not isinstance(inner, ir.Product) or len(inner.factors) < 2:
            return False
        used = {v for _, v in occurrences(inner)}
        if not set(variables) <= used:
            return False
    return True


def _term_of_sum(rhs: ir.Expr, path: tuple[int, ...]) -> bool:
    """True when the node at ``path`` (under any negations) is a term of a sum."""
    while path:
        parent = ir.node_at(rhs, path[:-1])
        if isinstance(parent, ir.Sum):
            return True
        if not isinstance(parent, ir.Neg):
            return False
        path = path[:-1]
    return False
