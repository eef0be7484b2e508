"""Lower the surface AST to IR: resolve names, build index expressions, check what needs no data."""

from __future__ import annotations

from tlc.errors import Span, TlcError, did_you_mean, gather
from tlc.frontend import ast
from tlc.ir import nodes as ir
from tlc.ir.program import Program

from tlc.frontend.parser import MAX_INT_DIGITS
from tlc.ir.functions import Function
from tlc.ir.nodes import FUNCTIONS, NORMALISERS
KEYWORDS = {"const", "tensor", "relation", "domain"}
MAX_POSITION = 2**63 - 1
"""Largest position, extent or divisor an index may hold: positions are 64-bit integers."""
MAX_RANK = 64
"""Most indices a tensor may have (NumPy's limit on array dimensions)."""


def _is_variable(name: str) -> bool:
    return name[0].islower() or name[0] == "_"


def _position(value: int, what: str, span: Span | None) -> int:
    """``value`` itself, if a 64-bit position can hold it."""
    if abs(value) > MAX_POSITION:
        raise TlcError(f"{what} {value} is too large: positions are 64-bit integers (at most 2^63 - 1)", span)
    return value


class _Lowerer:
    def __init__(self, module: ast.Module):
        self.module = module
        self.consts: dict[str, float | int] = {}
        self.relations: dict[str, bool] = {}   # name -> is relation, from first use
        self.ranks: dict[str, tuple[int, Span | None]] = {}
        self.scalar_uses: dict[str, Span | None] = {}      # bare names read as scalar inputs, first use
        self.scalar_tensors = {s.lhs.name for s in module.statements
                               if isinstance(s, ast.Equation) and isinstance(s.lhs, ast.Name)}

    # ----- statements
    def run(self) -> tuple[ir.Statement, ...]:
        out: list[ir.Statement] = []
        errors: list[TlcError] = []     # every statement is lowered: all independent errors in one run
        for stmt in self.module.statements:
            try:
                out.append(self._statement(stmt))
            except RecursionError:
                errors.append(TlcError("expression nested too deeply", stmt.span))
            except TlcError as err:
                errors.append(err)
        for name, span in self.scalar_uses.items():     # a bare name is a scalar input: not also a tensor
            if name in self.ranks and self.ranks[name][0] > 0:
                rank, first = self.ranks[name]
                where = f" (line {first.line})" if first else ""
                errors.append(TlcError(f"{name} is used without indices here but with {rank} ind"
                                       f"{'ex' if rank == 1 else 'ices'} elsewhere{where}", span))
        if errors:
            raise gather(errors)
        return tuple(out)

    def _statement(self, stmt: ast.Statement) -> ir.Statement:
        if isinstance(stmt, ast.ConstDecl):
            value = float(stmt.value)
            self.consts[stmt.name] = int(value) if value.is_integer() and "." not in stmt.value else value
            return ir.Const(stmt.name, self.consts[stmt.name], span=stmt.span)
        if isinstance(stmt, ast.ShapeDecl):
            dims = tuple(self._dim(d, stmt) for d in stmt.dims)
            self._note_use(stmt.name, stmt.relation, len(dims), stmt.span)
            factorise = None if stmt.factorise is None else _factorise_decl(stmt)
            return ir.Shape(stmt.name, stmt.relation, dims, factorise, span=stmt.span)
        if isinstance(stmt, ast.DomainDecl):
            return ir.Domain(stmt.name, stmt.members, span=stmt.span)
        if isinstance(stmt, ast.Equation):
            return self._equation(stmt)
        if isinstance(stmt, ast.Fact):
            atom = self._atom(stmt.atom)
            if any(not i.is_constant for i in atom.indices):
                raise TlcError("a fact's arguments must be constants; did you mean a rule with '='?", stmt.span)
            return ir.Equation(atom, ir.Aggregator.SUM, ir.Num(1.0, span=stmt.span), fact=True, span=stmt.span)
        return ir.Query(self._atom(stmt.atom), span=stmt.span)

    def _dim(self, dim: int | str, stmt: ast.ShapeDecl) -> int | str:
        if isinstance(dim, int):
            return _position(dim, "extent", stmt.span)
        if dim in self.consts:
            value = self.consts[dim]
            if not isinstance(value, int) or value < 0:
                raise TlcError(f"extent {dim} = {value} is not a non-negative integer", stmt.span)
            return _position(value, "extent", stmt.span)
        if not stmt.relation:
            raise TlcError(f"unknown extent {dim!r}: use an integer or a const", stmt.span)
        return dim

    def _equation(self, stmt: ast.Equation) -> ir.Equation:
        if isinstance(stmt.lhs, ast.Name):
            lhs = ir.Ref(stmt.lhs.name, (), False, span=stmt.lhs.span)
            self._note_use(lhs.name, False, 0, lhs.span)
        else:
            lhs = self._atom(stmt.lhs)
        aggregator = ir.Aggregator(stmt.op)
        if lhs.relation and aggregator not in (ir.Aggregator.SUM, ir.Aggregator.ADD):
            raise TlcError(f"a relation is defined with '=' (its value is step of the right-hand side); "
                           f"'{stmt.op}' needs a numeric tensor T[...]", stmt.span)
        variables = {v for i in lhs.indices for v in i.variables}
        variables |= _index_variables(stmt.rhs)
        dotted = [i for i in lhs.indices if i.normalised]
        for index in dotted:
            if index.plain_variable is None:
                raise TlcError("the normalised axis must be a plain index variable", index.span)
        axis = tuple(dict.fromkeys(i.plain_variable for i in dotted))   # several: normalised jointly
        rhs = self._expr(stmt.rhs, variables, lhs, axis)
        uses_normaliser = any(isinstance(n, ir.Call) and n.function in NORMALISERS for n in ir.walk(rhs))
        if axis and not uses_normaliser:
            raise TlcError("an index is marked as the normalised axis but there is no softmax or lnorm",
                           dotted[0].span)
        return ir.Equation(lhs, aggregator, rhs, span=stmt.span)

    # ----- references
    def _note_use(self, name: str, relation: bool, rank: int, span: Span | None) -> None:
        if name in FUNCTIONS or name in KEYWORDS:
            raise TlcError(f"{name!r} is a reserved word and cannot name a tensor", span)
        if rank > MAX_RANK:
            raise TlcError(f"{name} has {rank} indices; a tensor may have at most {MAX_RANK}", span)
        if name in self.consts:
            raise TlcError(f"{name!r} is a const and cannot be used as a tensor", span)
        if name in self.relations and self.relations[name] != relation:
            was = "a relation R(...)" if self.relations[name] else "a numeric tensor T[...]"
            raise TlcError(f"{name} was used as {was} before; a name is either a relation or a tensor",
                           span)
        self.relations.setdefault(name, relation)
        if name in self.ranks and self.ranks[name][0] != rank:
            first, first_span = self.ranks[name]
            where = f" (line {first_span.line})" if first_span else ""
            raise TlcError(f"{name} has {rank} ind{'ex' if rank == 1 else 'ices'} here but {first} "
                           f"where first used{where}", span)
        self.ranks.setdefault(name, (rank, span))

    def _atom(self, node: ast.TensorRef | ast.Apply) -> ir.Ref:
        relation = isinstance(node, ast.Apply)
        if relation and node.name in FUNCTIONS:
            raise TlcError(f"{node.name!r} is a built-in function and cannot be defined or queried", node.span)
        indices = tuple(self._index(arg) for arg in node.args)
        self._note_use(node.name, relation, len(indices), node.span)
        return ir.Ref(node.name, indices, relation, span=node.span)

    # ----- index expressions
    def _index(self, arg: ast.Arg) -> ir.Index:
        expr = arg.expr
        if type(expr) is ast.Name and expr.name not in self.consts and _is_variable(expr.name):   # most indices
            return ir.Index(((expr.name, 1),), 0, 1, None, arg.virtual, arg.normalised, span=arg.span)
        terms, offset, divisor, symbol = self._linear(expr)
        if any(abs(c) != 1 for c in terms.values()):
            raise TlcError("an index variable can appear only once in an index expression", arg.span)
        if arg.virtual and symbol is not None:
            raise TlcError("a virtual index is a step number, not a named constant", arg.span)
        _position(offset, "position", arg.span)
        _position(divisor, "divisor", arg.span)
        return ir.Index(tuple(terms.items()), offset, divisor, symbol, arg.virtual, arg.normalised,
                        span=arg.span)

    def _linear(self, expr: ast.Expr) -> tuple[dict[str, int], int, int, str | None]:
        """An index expression as (coefficients, offset, divisor, symbol)."""
        if isinstance(expr, ast.Number):
            if not expr.text.isdigit():
                raise TlcError(f"an index must be an integer, not {expr.text}", expr.span)
            if len(expr.text) > MAX_INT_DIGITS:
                raise TlcError(f"the index {expr.text[:20]}... is too large: positions are 64-bit integers "
                               f"(at most {MAX_INT_DIGITS} digits)", expr.span)
            return {}, int(expr.text), 1, None
        if isinstance(expr, ast.String):
            return {}, 0, 1, expr.value
        if isinstance(expr, ast.Name):
            if expr.name in self.consts:
                value = self.consts[expr.name]
                if not isinstance(value, int) or abs(value) >= 10 ** MAX_INT_DIGITS:
                    raise TlcError(f"const {expr.name} = {value:.6g} is not an integer of at most {MAX_INT_DIGITS} "
                                   "digits and cannot index (positions are 64-bit integers)", expr.span)
                return {}, value, 1, None
            if _is_variable(expr.name):
                return {expr.name: 1}, 0, 1, None
            return {}, 0, 1, expr.name
        if isinstance(expr, ast.BinOp) and expr.op in "+-":
            lt, lo, ld, ls = self._linear(expr.left)
            rt, ro, rd, rs = self._linear(expr.right)
            if ld != 1 or rd != 1 or ls is not None or rs is not None:
                raise TlcError("unsupported index expression: only sums of variables and integers, "
                               "optionally divided by an integer, can index", expr.span)
            sign = 1 if expr.op == "+" else -1
            terms = dict(lt)
            for var, coef in rt.items():
                terms[var] = terms.get(var, 0) + sign * coef
            return {v: c for v, c in terms.items() if c}, lo + sign * ro, 1, None
        if isinstance(expr, ast.BinOp) and expr.op == "/":
            terms, offset, divisor, symbol = self._linear(expr.left)
            dterms, dvalue, _, dsymbol = self._linear(expr.right)
            if dterms or dsymbol is not None or dvalue <= 0 or divisor != 1 or symbol is not None:
                raise TlcError("an index can only be divided by a positive integer (or integer const)",
                               expr.span)
            return terms, offset, dvalue, None
        if isinstance(expr, ast.Neg):
            terms, offset, divisor, symbol = self._linear(expr.operand)
            if divisor != 1 or symbol is not None:
                raise TlcError("unsupported index expression", expr.span)
            return {v: -c for v, c in terms.items()}, -offset, 1, None
        raise TlcError("unsupported index expression: use a variable, a constant, v+c, v+w or v/N",
                       getattr(expr, "span", None))

    # ----- value expressions
    def _expr(self, node: ast.Expr, variables: set[str], lhs: ir.Ref, axis: tuple[str, ...]) -> ir.Expr:
        if isinstance(node, ast.Number):
            return ir.Num(float(node.text), span=node.span)
        if isinstance(node, ast.String):
            raise TlcError(f"the named constant '{node.value}' can only appear as an index", node.span)
        if isinstance(node, ast.Name):
            if node.name in variables:
                return ir.IndexValue(node.name, span=node.span)
            if node.name in self.relations and self.ranks.get(node.name, (0,))[0] > 0:
                raise TlcError(f"{node.name} needs its indices here", node.span)
            if node.name in self.scalar_tensors:
                self._note_use(node.name, False, 0, node.span)
                return ir.Ref(node.name, (), False, span=node.span)
            self.scalar_uses.setdefault(node.name, node.span)
            return ir.Scalar(node.name, span=node.span)
        if isinstance(node, ast.TensorRef):
            return self._read(self._atom(node))
        if isinstance(node, ast.Apply):
            if node.name in FUNCTIONS:
                return self._call(node, variables, lhs, axis)
            try:
                return self._read(self._atom(node))
            except TlcError as err:
                if node.name[0].islower() and "index" in err.message:
                    hint = did_you_mean(node.name, FUNCTIONS)
                    at = node.span and Span(node.span.line, node.span.column, node.span.line,
                                            node.span.column + len(node.name))
                    raise TlcError(f"unknown function {node.name!r}", at, help=hint,
                                   notes=() if hint else (f"functions are {', '.join(sorted(FUNCTIONS))}",)) from None
                raise
        if isinstance(node, ast.Neg):
            return ir.Neg(self._expr(node.operand, variables, lhs, axis), span=node.span)
        if isinstance(node, ast.BinOp) and node.op == "^":
            return ir.Power(self._expr(node.left, variables, lhs, axis),
                            self._expr(node.right, variables, lhs, axis), span=node.span)
        if isinstance(node, ast.BinOp):
            # a chain a + b - c (or a b / c) is a left spine; walk it without recursion
            family = "+-" if node.op in "+-" else ("*", "/", "juxt")
            spine = []
            while isinstance(node, ast.BinOp) and node.op in family:
                spine.append(node)
                node = node.left
            operands = [self._expr(node, variables, lhs, axis)]
            marks = []
            for link in reversed(spine):
                operands.append(self._expr(link.right, variables, lhs, axis))
                marks.append(link.op)
            top = spine[0]
            if family == "+-":
                terms, signs = _flatten_sum(operands[0])
                return ir.Sum(terms + tuple(operands[1:]), signs + tuple(1 if m == "+" else -1 for m in marks),
                              span=top.span)
            factors, inverted = _flatten_product(operands[0])
            return ir.Product(factors + tuple(operands[1:]), inverted + tuple(m == "/" for m in marks),
                              span=top.span)
        raise TlcError("unsupported expression", getattr(node, "span", None))

    def _read(self, ref: ir.Ref) -> ir.Ref:
        for index in ref.indices:
            if index.normalised:
                raise TlcError("the normalised-axis mark '.' belongs on the left-hand side", index.span)
        return ref

    def _call(self, node: ast.Apply, variables: set[str], lhs: ir.Ref, axis: tuple[str, ...]) -> ir.Call:
        arity = Function.of(node.name).value.arity
        if len(node.args) not in arity:
            want = " or ".join(str(a) for a in arity)
            raise TlcError(f"{node.name} takes {want} argument{'s' if arity != (1,) else ''}, "
                           f"got {len(node.args)}", node.span)
        for arg in node.args:
            if arg.virtual or arg.normalised:
                raise TlcError("'*' and '.' marks belong to indices, not function arguments", arg.span)
        args = tuple(self._expr(a.expr, variables, lhs, axis) for a in node.args)
        call_axis = ()
        if node.name in NORMALISERS:
            call_axis = axis
            if not call_axis and node.name == "lnorm" and lhs.indices and lhs.indices[-1].plain_variable:
                call_axis = (lhs.indices[-1].plain_variable,)
            if not call_axis:
                raise TlcError(f"{node.name} normalises over an index of the left-hand side; mark it "
                               f"with a dot, as in Y[p, t.] = {node.name}(...)", node.span)
        return ir.Call(node.name, args, call_axis[0] if call_axis else None, call_axis[1:], span=node.span)


def _index_variables(node: ast.Expr) -> set[str]:
    """Variables used in index positions anywhere inside ``node``."""
    found: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.TensorRef, ast.Apply)):
            if isinstance(n, ast.Apply) and n.name in FUNCTIONS:
                stack.extend(a.expr for a in n.args)
                continue
            for arg in n.args:
                sub = [arg.expr]
                while sub:
                    e = sub.pop()
                    if isinstance(e, ast.Name) and _is_variable(e.name):
                        found.add(e.name)
                    elif isinstance(e, ast.BinOp):
                        sub.extend((e.left, e.right))
                    elif isinstance(e, ast.Neg):
                        sub.append(e.operand)
                    elif isinstance(e, (ast.TensorRef, ast.Apply)):
                        stack.append(e)
        elif isinstance(n, ast.BinOp):
            stack.extend((n.left, n.right))
        elif isinstance(n, ast.Neg):
            stack.append(n.operand)
    return found


def _flatten_sum(expr: ir.Expr) -> tuple[tuple[ir.Expr, ...], tuple[int, ...]]:
    if isinstance(expr, ir.Sum):
        return expr.terms, expr.signs
    return (expr,), (1,)


def _flatten_product(expr: ir.Expr) -> tuple[tuple[ir.Expr, ...], tuple[bool, ...]]:
    if isinstance(expr, ir.Product):
        return expr.factors, expr.inverted
    return (expr,), (False,)


def lower(module: ast.Module, filename: str | None = None, source: str | None = None) -> Program:
    """Lower a parsed module to an IR ``Program``; raises located ``TlcError`` on misuse."""
    try:
        statements = _Lowerer(module).run()
    except TlcError as err:
        raise err.located(filename, source) from None
    except RecursionError:
        raise TlcError("expression nested too deeply", filename=filename, source=source) from None
    return Program(statements, filename, source)


def _factorise_decl(stmt: ast.ShapeDecl) -> ir.FactoriseDecl:
    """The checked options of a ``factorise(...)`` clause (keys ``rel_err`` and ``method``)."""
    from tlc.factorise.options import budget
    given = dict(stmt.factorise)
    if len(given) != len(stmt.factorise) or set(given) - {"rel_err", "method"}:
        bad = next((k for k in given if k not in ("rel_err", "method")), None)
        raise TlcError(f"unknown factorise option {bad!r}; options are rel_err, method" if bad
                       else "a factorise option is given twice", stmt.span)
    try:
        checked = budget(given.get("rel_err", 1e-3), given.get("method", "auto"))
    except TlcError as err:
        raise TlcError(err.message, stmt.span) from None
    return ir.FactoriseDecl(checked.rel_err if "rel_err" in given else None, given.get("method"))
