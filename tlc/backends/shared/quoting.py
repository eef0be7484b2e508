"""How user text enters generated code: the one place that turns names, constants and source text into code.

Every backend that emits Python source goes through these functions, so that no user text can end a
comment, close a string or shadow a name the generated code relies on:

- ``identifier(name)`` maps a tensor, scalar or index name to a Python identifier, one-to-one. A name that
  is plain ASCII, starts with a letter, has no ``__``, does not end with ``_`` and is not reserved keeps its
  spelling (``W``, ``Path``, ``new_R``); any other is escaped (``_`` doubled, each prime ``_p``) and gets a
  trailing ``_`` (``X'`` -> ``X_p_``, ``np`` -> ``np_``, ``np_`` -> ``np___``). Escaped names end in ``_``
  and plain ones do not, and escaping is uniquely decodable, so no two names share an identifier.
- ``internal(family, name)`` names the generated code's own values (``_new_X``, ``_count_X``, ``_t3``):
  they start with one ``_`` and a letter, which no image of ``identifier`` does, so they never meet a user's.
- ``literal(value)`` is the only way a string or number becomes code (``repr``, finite or not).
- ``comment(text)`` is the only way source text becomes a comment: it cannot end the comment's line.
- ``sql_identifier(name)`` and ``sql_comment(text)`` do the same for SQL: a double-quoted identifier (quotes
  doubled, NUL refused) and a ``-- ...`` comment on one line.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re

from tlc_runtime.symbols import compact

MODULE_GLOBALS = frozenset({
    "np", "rt", "rs", "rdb", "th", "tl", "triton", "native", "contract", "math", "run", "inputs", "SYMBOLS", "KERNELS",
    "da", "CHUNKS", "nj", "sr", "semiring_native", "counting", "WORKSPACE", "bs", "bitset_native",
})
"""Names the emitted modules bind at module level (imports, tables, the entry point and its argument)."""
RESERVED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins)) | MODULE_GLOBALS
"""Identifiers a user name never maps to unchanged: Python keywords, builtins and the modules' globals."""
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*\Z")
_FAMILY = re.compile(r"[a-z][a-z0-9]*\Z")


def identifier(name: str) -> str:
    """The Python identifier for a user's tensor, scalar or index name (injective; see the module notes)."""
    if _PLAIN.match(name) and name not in RESERVED:
        return name
    escaped = []
    for char in name:
        if char == "_":
            escaped.append("__")
        elif char == "'":
            escaped.append("_p")
        elif char.isascii() and char.isalnum():
            escaped.append(char)
        else:
            escaped.append(f"_x{ord(char):x}_")
    return "".join(escaped) + "_"


def internal(family: str, name: str | None = None) -> str:
    """A name of the generated code's own: ``_family`` or ``_family_<identifier(name)>`` (never a user's)."""
    if not _FAMILY.match(family):
        raise ValueError(f"an internal family is a lowercase word, not {family!r}")
    return f"_{family}" if name is None else f"_{family}_{identifier(name)}"


def counts_of(target: str) -> str:
    """The array counting ``avg=`` contributions beside the emitted array ``target``."""
    return f"_count_{target}"


def numeric_copy(name: str) -> str:
    """The float 0/1 copy of relation ``name`` that arithmetic reads."""
    return internal("num", name)


def literal(value) -> str:
    """Python source for a constant: strings, ints, floats (NaN and infinities through NumPy), bools, None
    and tuples, lists or dicts of them; nothing else is accepted."""
    if isinstance(value, float):
        if math.isnan(value):
            return "np.nan"
        if math.isinf(value):
            return "np.inf" if value > 0 else "-np.inf"
        return repr(value)
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no literal for {type(value).__name__}")


def symbols_code(symbols: tuple) -> str:
    """Python source for a symbol table: a tuple literal, or for a large one ``rt.symbol_table`` of its JSON text
    (``tlc_runtime.symbols``), which compiles in a fraction of the time."""
    text = compact(symbols)
    return literal(symbols) if text is None else f"rt.symbol_table({literal(text)})"


def one_line(text: str) -> str:
    """``text`` with every character that could end a line (``\\r``, ``\\x0c``, ``\\u2028``, NUL, ...) and
    every other control character written as an escape, so it stays on one line of any reader."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for c in text)


def comment(text: str) -> str:
    """A ``# ...`` comment showing ``text`` (source, a file name) on one line."""
    return "# " + one_line(text)


def sql_identifier(name: str) -> str:
    """A double-quoted SQL identifier naming ``name`` exactly (embedded quotes doubled)."""
    if "\x00" in name:
        raise ValueError("an SQL identifier cannot hold NUL")
    return '"' + name.replace('"', '""') + '"'


def sql_comment(text: str) -> str:
    """A ``-- ...`` SQL comment showing ``text`` on one line."""
    return "-- " + one_line(text)


def docstring(text: str) -> str:
    """A docstring statement holding ``text``: triple-quoted when that is safe (printable, no quote or
    backslash), else a ``repr`` literal, which no text can close early."""
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"""{text}"""'
    return repr(text)


def equation_comments(eq, filename: str | None) -> list[str]:
    """Comment lines naming an equation and where it is written: ``# file:line  Y[i] = ...``."""
    from tlc.ir.printer import format_equation
    where = f"{filename or 'line'}:{eq.span.line}" if eq.span else ""
    first, *rest = f"{where}  {format_equation(eq)}".split("\n")
    return [comment(first), *(comment("  " + line) for line in rest)]
