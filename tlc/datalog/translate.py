"""Translate parsed Datalog to Tensor Logic source, with a source map back to the Datalog text.

One Datalog clause becomes one Tensor Logic line (plus one helper line per negated literal that has a
wildcard), so every Tensor Logic position maps back to the Datalog span it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tlc.datalog import syntax as dl
from tlc.datalog.declarations import Declarations, check_clause, declarations
from tlc.datalog.errors import (ArityError, DatalogError, SafetyViolationError, UnknownPredicateError,
                                UnsupportedError)
from tlc.errors import Span
from tlc.frontend.lower import FUNCTIONS, KEYWORDS

DIALECTS = ("classic", "souffle", "auto")
RESERVED = FUNCTIONS | KEYWORDS
"""Names Tensor Logic keeps for itself; a Datalog predicate with one of them gets a prime (``exp'``)."""


# ---------------------------------------------------------------------------------------- resolved terms
@dataclass(frozen=True, slots=True)
class Var:
    """A Datalog variable and the Tensor Logic index variable it became."""

    name: str
    tl: str = ""
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Wildcard:
    """``_``: a fresh variable at each occurrence."""

    tl: str = ""
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Const:
    """A constant: ``str`` for atoms and strings, ``int`` for integers."""

    value: str | int
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Arith:
    """Integer arithmetic ``left op right`` inside an argument."""

    op: str
    left: "Term"
    right: "Term"
    span: Span | None = field(default=None, compare=False)


Term = Var | Wildcard | Const | Arith


def _walk(term: Term):
    yield term
    if isinstance(term, Arith):
        yield from _walk(term.left)
        yield from _walk(term.right)


# ---------------------------------------------------------------------------------------- results
@dataclass(frozen=True, slots=True)
class Predicate:
    """A predicate of the program: its Tensor Logic name, arity and first use."""

    name: str
    tl: str
    arity: int
    span: Span | None
    defined: bool = False        # some rule or fact has it as head
    helper: bool = False         # introduced by the translation (negation of a wildcard atom)
    of: str = ""                 # for a helper, the Datalog predicate it projects
    used: bool = True            # False for a relation only declared (.decl): not in the Tensor Logic program


@dataclass(frozen=True, slots=True)
class Query:
    """A ``?- atom.`` query; ``answer`` evaluates it against a relation's tuples."""

    text: str
    pred: str
    args: tuple[Term, ...]
    span: Span | None

    @property
    def variables(self) -> tuple[str, ...]:
        """Named variables in order of first appearance (wildcards are not reported)."""
        return tuple(dict.fromkeys(a.name for a in self.args if isinstance(a, Var)))

    def answer(self, rows) -> list[tuple]:
        """Distinct tuples of the variables' values over ``rows`` (``[()]`` is yes, ``[]`` is no)."""
        found: dict[tuple, None] = {}
        names = self.variables
        for row in rows:
            binding: dict[str, object] = {}
            for term, value in zip(self.args, row):
                if isinstance(term, Const):
                    if type(term.value) is not type(value) or term.value != value:
                        break
                elif isinstance(term, Var):
                    if binding.setdefault(term.name, value) != value:
                        break
            else:
                found.setdefault(tuple(binding[n] for n in names))
        return sorted(found, key=value_order)


def value_order(row: tuple) -> tuple:
    """A sort key for tuples that mix integers and strings (integers first)."""
    return tuple((isinstance(v, str), v) for v in row)


@dataclass(frozen=True, slots=True)
class _Segment:
    start: int                   # Tensor Logic columns, 1-based, end exclusive
    end: int
    span: Span


@dataclass(frozen=True, slots=True)
class _LineInfo:
    segments: tuple[_Segment, ...]
    names: dict                  # Tensor Logic name -> Datalog name, for messages


@dataclass(frozen=True)
class Translation:
    """Datalog text, the Tensor Logic it became, and everything needed to map back."""

    datalog: str
    filename: str | None
    dialect: str                 # the dialect used ("auto" resolved to "classic" or "souffle")
    tl: str                      # Tensor Logic source, queries included
    executable: str              # the same lines with queries commented out (answered by tlc.datalog)
    predicates: dict[str, Predicate]
    queries: tuple[Query, ...]
    lines: tuple[_LineInfo, ...]
    declarations: Declarations = field(default_factory=Declarations)
    """Soufflé's ``.decl``/``.input``/``.output`` directives (empty for classic Datalog)."""

    def locate(self, span: Span | None) -> Span | None:
        """The Datalog span of a Tensor Logic span (the innermost construct that contains it)."""
        if span is None or not 1 <= span.line <= len(self.lines):
            return None
        start = span.column
        end = span.end_column if span.end_line == span.line and span.end_column else start + 1
        best = None
        for seg in self.lines[span.line - 1].segments:
            if seg.start <= start and end <= seg.end and (best is None or seg.end - seg.start < best.end - best.start):
                best = seg
        if best is None:
            best = max(self.lines[span.line - 1].segments, key=lambda s: s.end - s.start, default=None)
        return best.span if best else None

    def names_at(self, line: int | None) -> dict:
        """Tensor Logic -> Datalog names of the predicates, and of the variables on a Tensor Logic line."""
        names = {p.tl: p.name for p in self.predicates.values() if not p.helper}
        names.update({p.tl: p.of for p in self.predicates.values() if p.helper})
        if line is not None and 1 <= line <= len(self.lines):
            names.update(self.lines[line - 1].names)
        return names

    def datalog_line(self, tl_line: int) -> int | None:
        """The Datalog line a Tensor Logic line came from."""
        span = self.locate(Span(tl_line, 1, tl_line, 10**9))
        return span.line if span else None


# ---------------------------------------------------------------------------------------- emission
class _Line:
    """One Tensor Logic line under construction, recording which columns came from which Datalog span."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.col = 1
        self.segments: list[_Segment] = []

    def put(self, text: str) -> None:
        self.parts.append(text)
        self.col += len(text)

    def mark(self, start: int, span: Span | None) -> None:
        if span is not None:
            self.segments.append(_Segment(start, self.col, span))

    def text(self) -> str:
        return "".join(self.parts)


def _tl_constant(value: str | int, span: Span | None) -> str:
    if isinstance(value, int):
        return str(value)
    if "\n" in value:
        raise UnsupportedError("a string constant with a line break cannot be written in Tensor Logic", span)
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise UnsupportedError("a string constant with both kinds of quote cannot be written in Tensor Logic",
                           span)


def format_term(term: Term) -> str:
    """A resolved term in Datalog syntax (used in messages and query texts)."""
    if isinstance(term, Var):
        return term.name
    if isinstance(term, Wildcard):
        return "_"
    if isinstance(term, Const):
        if isinstance(term.value, int):
            return str(term.value)
        return '"' + term.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    right = format_term(term.right)
    if isinstance(term.right, Arith):
        right = f"({right})"
    return f"{format_term(term.left)} {term.op} {right}"


# ---------------------------------------------------------------------------------------- translator
class _Translator:
    def __init__(self, text: str, filename: str | None, dialect: str, data_arities: dict[str, int],
                 decls: Declarations):
        if dialect not in DIALECTS:
            raise ValueError(f"unknown Datalog dialect {dialect!r}; use one of {', '.join(DIALECTS)}")
        self.decls = decls
        self.text = text
        self.filename = filename
        self.dialect = dialect
        self.data_arities = dict(data_arities)
        self.predicates: dict[str, Predicate] = {}
        self.queries: list[Query] = []
        self.lines: list[tuple[str, _LineInfo, bool]] = []   # (text, info, is_query)
        self.helpers = 0

    # ----- dialect
    def resolve_dialect(self, clauses: tuple[dl.Clause, ...]) -> str:
        if self.dialect != "auto":
            return self.dialect
        if self.decls.relations:
            return "souffle"
        lowercase = False
        for clause in clauses:
            if clause.kind == "fact":
                continue
            for ident in _idents(clause):
                if ident.name == "_":
                    continue
                if ident.name[0].isupper() or ident.name[0] == "_":
                    return "classic"
                lowercase = True
        return "souffle" if lowercase else "classic"

    # ----- terms
    def resolve(self, term: dl.Term, lowercase_variables: bool) -> Term:
        if isinstance(term, dl.Ident):
            if term.name == "_":
                return Wildcard(span=term.span)
            if term.name[0].isupper() or term.name[0] == "_" or lowercase_variables:
                return Var(term.name, span=term.span)
            return Const(term.name, span=term.span)
        if isinstance(term, dl.Str):
            return Const(term.value, span=term.span)
        if isinstance(term, dl.Int):
            return Const(term.value, span=term.span)
        if isinstance(term, dl.Float):
            raise UnsupportedError(f"the number {term.text} is not supported: constants are names, strings and "
                                   f"integers", term.span)
        if isinstance(term, dl.Negate):
            operand = self.resolve(term.operand, lowercase_variables)
            if isinstance(operand, Const) and isinstance(operand.value, int):
                return Const(-operand.value, span=term.span)
            return Arith("-", Const(0, span=term.span), operand, span=term.span)
        if term.op not in "+-":
            raise UnsupportedError(f"arithmetic with '{term.op}' is not supported: Tensor Logic indices "
                                   f"allow only + and - of integers", term.span)
        return Arith(term.op, self.resolve(term.left, lowercase_variables),
                     self.resolve(term.right, lowercase_variables), span=term.span)

    def atom(self, atom: dl.Atom, lowercase_variables: bool, defines: bool = False) -> tuple[Term, ...]:
        args = tuple(self.resolve(a, lowercase_variables) for a in atom.args)
        self.note(atom, defines)
        return args

    def note(self, atom: dl.Atom, defines: bool) -> None:
        arity = len(atom.args)
        known = self.predicates.get(atom.pred)
        if known is not None and known.arity != arity:
            where = f"at line {known.span.line}" if known.span else "where first used"
            raise ArityError(f"{atom.pred} has {_args(arity)} here but {known.arity} {where}", atom.span)
        if known is None and atom.pred in self.data_arities and self.data_arities[atom.pred] != arity:
            raise ArityError(f"{atom.pred} has {_args(arity)} here but its facts given as data have "
                             f"{self.data_arities[atom.pred]}", atom.span)
        if known is None:
            tl = atom.pred + "'" if atom.pred in RESERVED else atom.pred
            known = Predicate(atom.pred, tl, arity, atom.span)
        if defines and not known.defined:
            known = Predicate(known.name, known.tl, known.arity, known.span, defined=True)
        self.predicates[atom.pred] = known

    # ----- clauses
    def run(self, clauses: tuple[dl.Clause, ...]) -> Translation:
        dialect = self.resolve_dialect(clauses)
        souffle = dialect == "souffle"
        for clause in clauses:
            lowercase_variables = souffle and (clause.kind != "fact" or self.dialect != "auto")
            check_clause(clause, self.decls, lowercase_variables)
            if clause.kind == "fact":
                self.fact(clause, lowercase_variables)
            elif clause.kind == "rule":
                self.rule(clause, souffle)
            else:
                self.query(clause, souffle)
        for rel in self.decls.relations.values():
            if rel.name not in self.predicates:
                tl = rel.name + "'" if rel.name in RESERVED else rel.name
                self.predicates[rel.name] = Predicate(rel.name, tl, len(rel.types), rel.span, used=False)
        texts = [t for t, _, _ in self.lines]
        executable = ["# " + t if is_query else t for t, _, is_query in self.lines]
        tl = "\n".join(texts) + ("\n" if texts else "")
        return Translation(self.text, self.filename, dialect, tl,
                           "\n".join(executable) + ("\n" if executable else ""),
                           dict(self.predicates), tuple(self.queries),
                           tuple(info for _, info, _ in self.lines), self.decls)

    def fact(self, clause: dl.Clause, lowercase_variables: bool) -> None:
        args = self.atom(clause.head, lowercase_variables, defines=True)
        for arg in args:
            for t in _walk(arg):
                if isinstance(t, (Var, Wildcard)):
                    what = "the wildcard _" if isinstance(t, Wildcard) else f"the variable {t.name}"
                    hint = ' (in the souffle dialect identifiers are variables: quote constants, "a")' \
                        if lowercase_variables and isinstance(t, Var) and t.name[0].islower() else ""
                    raise SafetyViolationError(f"a fact's arguments must be constants, but {what} occurs here; "
                                               f"did you mean a rule with ':-'?{hint}", t.span,
                                               code="unbound_variable")
        self.emit(clause, args, [], names={})

    def query(self, clause: dl.Clause, lowercase_variables: bool) -> None:
        atom = clause.head
        if atom.pred not in self.predicates and atom.pred not in self.data_arities:
            known = ", ".join(sorted({p for p in self.predicates if not self.predicates[p].helper}
                                     | set(self.data_arities))) or "none"
            raise UnknownPredicateError(f"unknown predicate {atom.pred} in a query; the program's predicates "
                                        f"are: {known}", atom.name_span or atom.span)
        arity = self.predicates[atom.pred].arity if atom.pred in self.predicates else self.data_arities[atom.pred]
        if len(atom.args) != arity:
            raise ArityError(f"{atom.pred} has {_args(len(atom.args))} in this query but {arity} in the program",
                             atom.span)
        args = tuple(self.resolve(a, lowercase_variables) for a in atom.args)
        for arg in args:
            if isinstance(arg, Arith):
                raise UnsupportedError("a query's arguments must be variables, constants or _", arg.span)
        args = self.name_variables(args, [])[0]
        text = _slice(self.text, atom.span) or f"{atom.pred}({', '.join(format_term(a) for a in args)})"
        self.queries.append(Query(text, atom.pred, args, clause.span))
        self.emit(clause, args, None, names=self.var_names(args, []))

    def rule(self, clause: dl.Clause, lowercase_variables: bool) -> None:
        head = self.atom(clause.head, lowercase_variables, defines=True)
        body: list[tuple[dl.Node, bool, dl.Atom | None, tuple[Term, ...]]] = []
        for lit in clause.body:
            if isinstance(lit, dl.Comparison):
                terms = (self.resolve(lit.left, lowercase_variables), self.resolve(lit.right, lowercase_variables))
                body.append((lit, False, None, terms))
            else:
                body.append((lit, lit.negated, lit.atom, self.atom(lit.atom, lowercase_variables)))
        self.check_safety(head, body)
        for lit, _, atom, _ in body:
            if atom is None:
                raise UnsupportedError(f"the comparison '{lit.op}' is not supported: Tensor Logic has joins, "
                                       f"negation and integer + and - in arguments, but no comparisons", lit.span)
        head, body_terms = self.name_variables(head, [terms for *_, terms in body])
        body = [(lit, neg, atom, terms) for (lit, neg, atom, _), terms in zip(body, body_terms)]
        self.emit(clause, head, body, names=self.var_names(head, body_terms))

    def check_safety(self, head: tuple[Term, ...], body) -> None:
        bound = {t.name for _, negated, atom, terms in body if atom is not None and not negated
                 for t in terms if isinstance(t, Var)}
        for arg in head:
            for t in _walk(arg):
                if isinstance(t, Wildcard):
                    raise SafetyViolationError("the wildcard _ cannot appear in a rule's head: every head "
                                               "argument must be bound by the body", t.span, code="wildcard_in_head")
                if isinstance(t, Var) and t.name not in bound:
                    raise SafetyViolationError(f"unsafe rule: the head variable {t.name} does not occur as an "
                                               f"argument of a positive literal in the body", t.span,
                                               code="unbound_variable")
        for lit, _, atom, terms in body:
            for arg in terms:
                if atom is not None and not isinstance(arg, Arith):
                    continue      # plain variables of negated atoms: tlc checks negation safety
                for t in _walk(arg):
                    if isinstance(t, Var) and t.name not in bound:
                        where = "a comparison" if atom is None else "arithmetic"
                        raise SafetyViolationError(f"unsafe rule: the variable {t.name} is used in {where} but "
                                                   f"does not occur as an argument of a positive literal",
                                                   t.span, code="unbound_variable")
                    if isinstance(t, Wildcard) and (atom is None or isinstance(arg, Arith)):
                        raise SafetyViolationError("the wildcard _ cannot be used in arithmetic or a comparison",
                                                   t.span, code="unbound_variable")

    # ----- naming
    def name_variables(self, head: tuple[Term, ...], bodies: list[tuple[Term, ...]]):
        """Give every variable of a clause a Tensor Logic index name, consistently within the clause."""
        names: dict[str, str] = {}
        used: set[str] = set()
        for term in (t for group in (head, *bodies) for arg in group for t in _walk(arg)):
            if isinstance(term, Var) and term.name not in names:
                tl = term.name if term.name[0].islower() or term.name[0] == "_" else \
                    term.name[0].lower() + term.name[1:]
                while tl in used:
                    tl += "'"
                names[term.name] = tl
                used.add(tl)
        counter = iter(range(1, 10**9))

        def fresh() -> str:
            while True:
                tl = f"_{next(counter)}"
                if tl not in used:
                    used.add(tl)
                    return tl

        def rename(term: Term) -> Term:
            if isinstance(term, Var):
                return Var(term.name, names[term.name], term.span)
            if isinstance(term, Wildcard):
                return Wildcard(fresh(), term.span)
            if isinstance(term, Arith):
                return Arith(term.op, rename(term.left), rename(term.right), term.span)
            return term

        return tuple(rename(a) for a in head), [tuple(rename(a) for a in group) for group in bodies]

    def var_names(self, head, bodies) -> dict:
        names = {}
        for term in (t for group in (head, *bodies) for arg in group for t in _walk(arg)):
            if isinstance(term, Var):
                names[term.tl] = term.name
            elif isinstance(term, Wildcard):
                names[term.tl] = "_"
        return names

    # ----- output
    def term(self, line: _Line, term: Term) -> None:
        start = line.col
        if isinstance(term, (Var, Wildcard)):
            line.put(term.tl)
        elif isinstance(term, Const):
            line.put(_tl_constant(term.value, term.span))
        else:
            self.term(line, term.left)
            line.put(f" {term.op} ")
            if isinstance(term.right, Arith):
                line.put("(")
                self.term(line, term.right)
                line.put(")")
            else:
                self.term(line, term.right)
        line.mark(start, term.span)

    def ref(self, line: _Line, tl_name: str, args: tuple[Term, ...], atom_span: Span | None,
            name_span: Span | None = None) -> None:
        start = line.col
        line.put(tl_name)
        line.mark(start, name_span)
        line.put("(")
        for k, arg in enumerate(args):
            if k:
                line.put(", ")
            self.term(line, arg)
        line.put(")")
        line.mark(start, atom_span)

    def emit(self, clause: dl.Clause, head: tuple[Term, ...], body, names: dict) -> None:
        line = _Line()
        if body:
            body = [self.helper(lit, neg, atom, terms, names) if neg and _has_wildcard(terms)
                    else (lit, neg, self.predicates[atom.pred].tl, atom, terms) for lit, neg, atom, terms in body]
        pred = self.predicates.get(clause.head.pred)
        self.ref(line, pred.tl if pred else clause.head.pred, head, clause.head.span, clause.head.name_span)
        if body is None:
            line.put("?")
        elif body:
            line.put(" = ")
            for k, (lit, negated, tl_name, atom, terms) in enumerate(body):
                start = line.col
                if k:
                    line.put(" ")
                    start = line.col
                if negated:
                    line.put("~")
                self.ref(line, tl_name, terms, atom.span if atom else None, atom.name_span if atom else None)
                line.mark(start, lit.span)
        line.mark(1, clause.span)
        self.lines.append((line.text(), _LineInfo(tuple(line.segments), names), body is None))

    def helper(self, lit, negated, atom: dl.Atom, terms: tuple[Term, ...], names: dict):
        """``not p(X, _)`` means "no Y with p(X, Y)": project p first (``p_not1'(x) = p(x, _1)``)."""
        self.helpers += 1
        tl_name = f"{atom.pred}_not{self.helpers}'"
        params = tuple(dict.fromkeys(t for arg in terms for t in _walk(arg) if isinstance(t, Var)))
        self.predicates[tl_name] = Predicate(tl_name, tl_name, len(params), atom.span, defined=True, helper=True,
                                              of=atom.pred)
        line = _Line()
        self.ref(line, tl_name, params, lit.span)
        line.put(" = ")
        self.ref(line, self.predicates[atom.pred].tl, terms, atom.span, atom.name_span)
        line.mark(1, lit.span)
        self.lines.append((line.text(), _LineInfo(tuple(line.segments), dict(names)), False))
        return lit, negated, tl_name, atom, params


def _has_wildcard(terms: tuple[Term, ...]) -> bool:
    return any(isinstance(t, Wildcard) for arg in terms for t in _walk(arg))


def _idents(clause: dl.Clause):
    atoms = [clause.head] + [lit.atom for lit in clause.body if isinstance(lit, dl.Literal)]
    terms = [a for atom in atoms for a in atom.args]
    terms += [t for lit in clause.body if isinstance(lit, dl.Comparison) for t in (lit.left, lit.right)]
    while terms:
        term = terms.pop()
        if isinstance(term, dl.Ident):
            yield term
        elif isinstance(term, dl.Arith):
            terms += [term.left, term.right]
        elif isinstance(term, dl.Negate):
            terms.append(term.operand)


def _slice(text: str, span: Span | None) -> str | None:
    """The source text a span covers (None if the span is incomplete)."""
    if span is None or span.end_line is None or span.end_column is None:
        return None
    lines = text.splitlines(keepends=True)
    start = sum(len(x) for x in lines[:span.line - 1]) + span.column - 1
    end = sum(len(x) for x in lines[:span.end_line - 1]) + span.end_column - 1
    return " ".join(text[start:end].split())


def _args(n: int) -> str:
    return f"{n} argument{'s' if n != 1 else ''}"


def translate_clauses(items: tuple[dl.Clause | dl.Directive, ...], text: str, filename: str | None = None,
                      dialect: str = "classic", data_arities: dict[str, int] | None = None) -> Translation:
    """Translate parsed clauses and directives; raises located ``DatalogError``s for what Datalog forbids."""
    try:
        decls = declarations([d for d in items if not isinstance(d, dl.Clause)])
        clauses = tuple(c for c in items if isinstance(c, dl.Clause))
        return _Translator(text, filename, dialect, data_arities or {}, decls).run(clauses)
    except DatalogError as err:
        raise err.located(filename, text) from None
