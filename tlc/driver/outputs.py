"""Writing a run's results to files: the ``--out`` target (an ``.npz`` archive, one relation as ``.csv``, or a
directory of ``.csv`` relations and ``.npy`` tensors), checked before anything runs, and relations written one
file each into an output directory or framed on standard output, as Soufflé's ``-D`` does."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

import tlc_runtime as rt
from tlc.errors import TlcError
from tlc_runtime.data import save_npz, save_tuples

STDOUT = "-"
"""The output directory that means standard output (``-D -``)."""


@dataclass(frozen=True)
class OutTarget:
    """Where ``--out`` writes: ``kind`` is ``npz``, ``csv`` (one relation) or ``dir``."""

    kind: str
    path: str

    def write(self, values: Mapping[str, object]) -> None:
        """Write results (``Relation``s and arrays, by name) to this target."""
        if self.kind == "npz":
            save_npz(self.path, {name: np.asarray(value) for name, value in values.items()})
        elif self.kind == "csv":
            (value,) = values.values()
            save_tuples(self.path, list(value))
        else:
            os.makedirs(self.path, exist_ok=True)
            for name, value in values.items():
                if isinstance(value, rt.Relation):
                    save_tuples(os.path.join(self.path, name + ".csv"), list(value))
                else:
                    np.save(os.path.join(self.path, name + ".npy"), np.asarray(value), allow_pickle=False)


def check_directory(path: str, what: str) -> None:
    """A directory results go to: one that exists, or whose parent does (it is made when written)."""
    if path == STDOUT:
        return
    if os.path.exists(path) and not os.path.isdir(path):
        raise TlcError(f"{what} {path} is a file, not a directory", filename=path)
    parent = os.path.dirname(os.path.normpath(path)) or "."
    if not os.path.isdir(path) and not os.path.isdir(parent):
        raise TlcError(f"cannot write to {what} {path}: the directory {parent} does not exist", filename=path)


def out_target(path: str, results: Mapping[str, bool]) -> OutTarget:
    """The ``--out`` target for ``path``, checked against the results to come (name -> is a relation): a
    directory (ending in ``/`` or existing), ``FILE.csv`` for a program with one relation as its result, or
    ``FILE.npz`` (``.npz`` added when there is no suffix, as ``numpy.savez`` does)."""
    if path.endswith(("/", os.sep)) or os.path.isdir(path):
        check_directory(path, "--out")
        return OutTarget("dir", path)
    parent = os.path.dirname(path) or "."
    if not os.path.isdir(parent):
        raise TlcError(f"cannot write --out {path}: the directory {parent} does not exist", filename=path)
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".csv":
        if len(results) != 1 or not next(iter(results.values())):
            what = ", ".join(results) or "nothing"
            raise TlcError(f"--out {path} holds one relation as CSV, but the results are: {what}; write a "
                           f"directory (--out DIR/) or an .npz archive, or choose one relation with --output",
                           filename=path)
        return OutTarget("csv", path)
    if suffix not in ("", ".npz"):
        raise TlcError(f"--out {path}: write FILE.npz (every result), FILE.csv (one relation) or a directory "
                       f"DIR/ (relations as .csv, tensors as .npy)", filename=path)
    return OutTarget("npz", path if suffix else path + ".npz")


def write_relation(directory: str, name: str, rows: Iterable[tuple], delimiter: str = "\t",
                   header: tuple[str, ...] = (), filename: str | None = None) -> None:
    """Write a relation as Soufflé does: ``directory/name.csv`` (or ``filename``), one tuple per line, cells
    joined by ``delimiter``; in ``-`` (standard output) between ``---`` and ``===`` lines naming it."""
    if directory == STDOUT:
        sys.stdout.write("---------------\n" + "\n".join([name, *([delimiter.join(header)] if header else [])])
                         + "\n===============\n")
        save_tuples(sys.stdout, rows, delimiter)
        sys.stdout.write("===============\n")
        return
    os.makedirs(directory, exist_ok=True)
    path = filename if filename and os.path.isabs(filename) else os.path.join(directory, filename or name + ".csv")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        if header:
            handle.write(delimiter.join(header) + "\n")
        save_tuples(handle, rows, delimiter)
