"""Print IR back to Tensor Logic source; the text re-parses to the same IR (a tested round trip)."""

from __future__ import annotations

import re

from tlc.ir import nodes as ir

_CONSTANT_NAME = re.compile(r"[A-Z][A-Za-z0-9_]*'*\Z")
_ATOMS = (ir.Ref, ir.Num, ir.Scalar, ir.IndexValue, ir.Call)


def format_index(index: ir.Index, consts: frozenset[str] = frozenset()) -> str:
    """One index position as source text (a named constant spelled like a ``const`` is quoted)."""
    if index.symbol is not None:
        quote = '"' if "'" in str(index.symbol) else "'"
        bare = _CONSTANT_NAME.match(str(index.symbol)) and index.symbol not in consts
        text = index.symbol if bare else f"{quote}{index.symbol}{quote}"
    else:
        text = ""
        for var, coef in index.terms:
            for _ in range(abs(coef)):     # a coefficient of 2 is written i + i, as it was parsed
                sign = "-" if coef < 0 else "+"
                text = (f"-{var}" if sign == "-" else var) if not text else f"{text} {sign} {var}"
        if index.offset or not text:
            if not text:
                text = str(index.offset)
            else:
                text += f" {'+' if index.offset > 0 else '-'} {abs(index.offset)}"
        if index.divisor != 1:
            text = f"({text})/{index.divisor}" if " " in text else f"{text}/{index.divisor}"
    return ("*" if index.virtual else "") + text + ("." if index.normalised else "")


def format_ref(ref: ir.Ref, consts: frozenset[str] = frozenset()) -> str:
    """A tensor access or relation atom."""
    inner = ", ".join(format_index(i, consts) for i in ref.indices)
    return f"{ref.name}({inner})" if ref.relation else f"{ref.name}[{inner}]"


def _number(value: float) -> str:
    if value == float("inf"):
        return "1e999"
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _const_value(value: float | int) -> str:
    """A const's value so that it re-reads with the same type: floats keep their point."""
    if isinstance(value, int):
        return str(value)
    if value in (float("inf"), float("-inf")):
        return "1e999" if value > 0 else "-1e999"
    return repr(value)


def format_expr(expr: ir.Expr, consts: frozenset[str] = frozenset()) -> str:
    """An expression with the parentheses its structure needs."""
    if isinstance(expr, ir.Ref):
        return format_ref(expr, consts)
    if isinstance(expr, ir.Num):
        return _number(expr.value)
    if isinstance(expr, (ir.Scalar, ir.IndexValue)):
        return expr.name
    if isinstance(expr, ir.Call) and expr.function == "not":
        inner = format_expr(expr.args[0], consts)
        return f"~{inner}" if isinstance(expr.args[0], _ATOMS) else f"~({inner})"
    if isinstance(expr, ir.Call):
        return f"{expr.function}({', '.join(format_expr(a, consts) for a in expr.args)})"
    if isinstance(expr, ir.Sum):
        text = ""
        for k, (term, sign) in enumerate(zip(expr.terms, expr.signs)):
            body = f"({format_expr(term, consts)})" if isinstance(term, ir.Sum) and k else format_expr(term, consts)
            text = body if k == 0 else f"{text} {'+' if sign > 0 else '-'} {body}"
        return text
    if isinstance(expr, ir.Product):
        text = ""
        for k, (factor, inverted) in enumerate(zip(expr.factors, expr.inverted)):
            wrap = isinstance(factor, (ir.Sum, ir.Product)) or (k and isinstance(factor, ir.Neg))
            body = f"({format_expr(factor, consts)})" if wrap else format_expr(factor, consts)
            joiner = " / " if inverted else (" " if isinstance(factor, _ATOMS) and not wrap else " * ")
            text = body if k == 0 else f"{text}{joiner}{body}"
        return text
    if isinstance(expr, ir.Neg):
        inner = expr.operand
        body = format_expr(inner, consts)
        return f"-({body})" if isinstance(inner, (ir.Sum, ir.Product, ir.Neg)) else f"-{body}"
    if isinstance(expr, ir.Power):
        base = format_expr(expr.base, consts)
        atom = isinstance(expr.base, _ATOMS) and not (isinstance(expr.base, ir.Call) and expr.base.function == "not")
        base = base if atom else f"({base})"
        exponent = format_expr(expr.exponent, consts)
        exponent = exponent if isinstance(expr.exponent, (*_ATOMS, ir.Power)) else f"({exponent})"
        return f"{base}^{exponent}"
    raise TypeError(f"cannot print {type(expr).__name__}")


def unfused(eq: ir.Equation) -> tuple[ir.Equation, ir.Equation]:
    """The two source equations equivalent to an equation whose right-hand side is an ``Attention``
    node: the scores' softmax, and the contraction of the scores with the values."""
    node = eq.rhs
    key = node.keys[0].indices[[i.plain_variable for i in node.keys[0].indices].index(node.key_axes[0])]
    factors = [node.query, *node.keys]
    inverted = [False] * len(factors)
    if isinstance(node.scale, ir.Product):
        factors += node.scale.factors
        inverted += node.scale.inverted
    elif node.scale is not None:
        factors.append(node.scale)
        inverted.append(False)
    terms, signs = [ir.Product(tuple(factors), tuple(inverted))], [1]
    if node.mask is not None:
        mask = node.mask.operand if isinstance(node.mask, ir.Neg) else node.mask
        terms.append(mask)
        signs.append(-1 if isinstance(node.mask, ir.Neg) else 1)
    if node.causal_penalty is not None:
        later = ir.Sum((ir.IndexValue(key.plain_variable), ir.IndexValue(node.query_axis)), (1, -1))
        terms.append(ir.Product((node.causal_penalty, ir.Call("step", (later,))), (False, False)))
        signs.append(-1)
    argument = terms[0] if len(terms) == 1 else ir.Sum(tuple(terms), tuple(signs))
    axes = tuple(i.plain_variable for i in node.scores.indices if i.normalised)
    scores = ir.Equation(node.scores, ir.Aggregator.SUM, ir.Call("softmax", (argument,), axes[0], axes[1:]))
    read = ir.Ref(node.scores.name, tuple(ir.Index(i.terms) for i in node.scores.indices))
    combine = ir.Product((read, *node.values), (False,) * (1 + len(node.values)))
    return scores, ir.Equation(eq.lhs, eq.aggregator, combine, span=eq.span)


def format_equation(eq: ir.Equation, consts: frozenset[str] = frozenset()) -> str:
    """An equation (or fact) on one line; a fused attention prints as a comment and the two equations
    it replaced (which re-parse to the unfused program)."""
    if isinstance(eq.rhs, ir.Attention):
        scores, combine = unfused(eq)
        return (f"# fused attention: {eq.rhs.scores.name} is not materialised\n"
                f"{format_equation(scores, consts)}\n{format_equation(combine, consts)}")
    lhs = format_ref(eq.lhs, consts) if eq.lhs.indices or eq.lhs.relation else eq.lhs.name
    if eq.fact:
        return lhs
    return f"{lhs} {eq.aggregator.value} {format_expr(eq.rhs, consts)}"


def _factorise_clause(decl: ir.FactoriseDecl) -> str:
    options = ([f"rel_err={decl.rel_err!r}"] if decl.rel_err is not None else []) + \
        ([f"method={decl.method}"] if decl.method is not None else [])
    return f" factorise({', '.join(options)})"


def format_statement(stmt: ir.Statement, consts: frozenset[str] = frozenset()) -> str:
    """Any statement on one line; ``consts`` are the program's ``const`` names."""
    if isinstance(stmt, ir.Equation):
        return format_equation(stmt, consts)
    if isinstance(stmt, ir.Query):
        return f"{format_ref(stmt.atom, consts)}?"
    if isinstance(stmt, ir.Const):
        return f"const {stmt.name} = {_const_value(stmt.value)}"
    if isinstance(stmt, ir.Shape):
        dims = ", ".join(str(d) for d in stmt.dims)
        if stmt.relation:
            return f"relation {stmt.name}({dims})"
        return f"tensor {stmt.name}[{dims}]" + (_factorise_clause(stmt.factorise) if stmt.factorise else "")
    if isinstance(stmt, ir.Domain):
        return f"domain {stmt.name}: {', '.join(stmt.members)}"
    raise TypeError(f"cannot print {type(stmt).__name__}")


def format_program(statements) -> str:
    """A whole program, one statement per line."""
    consts = frozenset(s.name for s in statements if isinstance(s, ir.Const))
    return "".join(format_statement(s, consts) + "\n" for s in statements)
