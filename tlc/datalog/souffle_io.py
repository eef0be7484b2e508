"""Soufflé's fact files: ``.input`` relations read from ``FACTDIR/rel.facts`` (tab-separated, typed by ``.decl``)
and ``.output`` relations written to ``OUTDIR/rel.csv`` (tab-separated; ``-`` prints them framed as Soufflé does).

A cell of a ``symbol`` column is taken as it is written; a ``number`` cell must be an integer >= 0. Every
mistake in a fact file is a ``DatalogDataError`` located at its line and column.
"""

from __future__ import annotations

import os
import sys

from tlc.datalog.declarations import IOSpec
from tlc.datalog.errors import DatalogDataError
from tlc.datalog.translate import Translation
from tlc.driver.outputs import STDOUT, write_relation
from tlc.errors import Span


def read_facts(path: str, pred: str, types: tuple[str | None, ...], delimiter: str = "\t",
               headers: bool = False) -> list[tuple]:
    """The tuples of a fact file for ``pred``: one per line, ``types`` (``symbol``, ``number`` or None for
    either, as written) per column; blank lines are skipped, and with ``headers`` the first line."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except UnicodeDecodeError as err:
        raise DatalogDataError(f"cannot read {path}: not UTF-8 text (at byte {err.start})", filename=path) from None
    rows = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line or (headers and number == 1):
            continue
        rows.append(_row(line, pred, types, delimiter, Location(path, number, text)))
    return rows


class Location:
    """A line of a fact file, for located errors."""

    def __init__(self, path: str, line: int, text: str):
        self.path, self.line, self.text = path, line, text

    def error(self, message: str, column: int, code: str) -> DatalogDataError:
        """A ``DatalogDataError`` at ``column`` of this line."""
        return DatalogDataError(message, Span(self.line, column), filename=self.path, source=self.text, code=code)


def _row(line: str, pred: str, types: tuple[str | None, ...], delimiter: str, where: Location) -> tuple:
    if not types:
        if line.strip() != "()":
            raise where.error(f"{pred} has no arguments: each line of its fact file is ()", 1, "arity_mismatch")
        return ()
    cells = line.split(delimiter)
    if len(cells) != len(types):
        column = len(delimiter.join(cells[:len(types)])) + len(delimiter) + 1 if len(cells) > len(types) \
            else len(line) + 1
        raise where.error(f"{pred} has {len(types)} column{'s' if len(types) != 1 else ''} but this line has "
                          f"{len(cells)} ({'tab' if delimiter == chr(9) else repr(delimiter)}-separated)",
                          column, "arity_mismatch")
    row, column = [], 1
    for k, (cell, kind) in enumerate(zip(cells, types)):
        text = cell.strip()
        digits = text.isascii() and text.isdigit()
        if kind == "number" and not digits:
            if text[:1] == "-" and text[1:].isascii() and text[1:].isdigit():
                raise where.error(f"negative number {text} in column {k + 1} of {pred}: tlc relations hold "
                                  f"integers >= 0", column, "unsupported")
            raise where.error(f"column {k + 1} of {pred} is a number, but this line has {cell!r}", column,
                              "type_mismatch")
        row.append(int(text) if kind == "number" or (kind is None and digits) else cell)
        column += len(cell) + len(delimiter)
    return tuple(row)


def _types(tr: Translation, pred: str) -> tuple[str | None, ...]:
    rel = tr.declarations.relations.get(pred)
    return rel.types if rel else (None,) * tr.predicates[pred].arity


def _path(directory: str, spec_parameters: dict, default: str) -> str:
    name = spec_parameters.get("filename", default)
    return name if os.path.isabs(name) else os.path.join(directory, name)


def read_inputs(tr: Translation, fact_dir: str = ".", stored: frozenset = frozenset(),
                database: str | None = None) -> dict[str, list[tuple]]:
    """Facts of every ``.input`` relation from ``fact_dir`` (a missing file is an error at its ``.input``,
    unless the relation is among ``stored``, those the ``database`` file holds); a program without ``.input``
    reads ``NAME.facts`` for each input predicate that has one."""
    specs = tr.declarations.of_kind("input")
    data: dict[str, list[tuple]] = {}
    if not specs:
        for pred in (p for p in tr.predicates.values() if not p.defined and not p.helper):
            path = os.path.join(fact_dir, pred.name + ".facts")
            if os.path.isfile(path):
                data[pred.name] = read_facts(path, pred.name, _types(tr, pred.name))
        return data
    for spec in specs:
        path = _path(fact_dir, spec.parameters, spec.name + ".facts")
        if not os.path.isfile(path):
            if spec.name in stored:
                continue
            nor = f" (nor is it stored in {database})" if database is not None else ""
            raise DatalogDataError(f"cannot open the fact file {path} for .input {spec.name}{nor}", spec.span,
                                   filename=tr.filename, source=tr.datalog, code="missing_facts")
        rows = read_facts(path, spec.name, _types(tr, spec.name), spec.parameters.get("delimiter", "\t"),
                          spec.parameters.get("headers") == "true")
        data.setdefault(spec.name, []).extend(rows)
    return data


def output_names(tr: Translation) -> list[str]:
    """Relations with ``.output``, in order (each once)."""
    return list(dict.fromkeys(spec.name for spec in tr.declarations.of_kind("output")))


def write_outputs(tr: Translation, tuples, out_dir: str = ".", names: list[str] | None = None) -> None:
    """Write each ``.output`` relation (or each of ``names``, as a plain ``.output``) to ``out_dir`` (``-``:
    standard output); ``tuples(name)`` gives a relation's tuples."""
    specs = tr.declarations.of_kind("output") if names is None else [IOSpec("output", name) for name in names]
    for spec in specs:
        rel = tr.declarations.relations.get(spec.name)
        header = rel.attributes if rel and spec.parameters.get("headers") == "true" else ()
        directory = STDOUT if spec.parameters.get("IO") == "stdout" else out_dir
        write_relation(directory, spec.name, tuples(spec.name), spec.parameters.get("delimiter", "\t"), header,
                       spec.parameters.get("filename"))


def print_sizes(tr: Translation, tuples) -> None:
    """``.printsize``: each relation's name and number of tuples on standard output."""
    for spec in tr.declarations.of_kind("printsize"):
        sys.stdout.write(f"{spec.name}\t{len(tuples(spec.name))}\n")
