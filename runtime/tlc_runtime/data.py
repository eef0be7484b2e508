"""Load input data files: ``.npy`` arrays, ``.npz`` archives keyed by name, ``.csv``/``.tsv`` tuples."""

from __future__ import annotations

import csv
import os
import zipfile

import numpy as np

from tlc_runtime.errors import DataFileError

SUFFIXES = (".npy", ".npz", ".csv", ".tsv")


def _cell(text: str):
    text = text.strip()
    return int(text) if text.isdigit() else text


def load_tuples(path: str) -> list[tuple]:
    """Rows of a ``.csv``/``.tsv`` file as tuples (integers where a cell is a whole number);
    blank lines and lines starting with ``#`` are skipped; every row must have the same width."""
    delimiter = "\t" if path.endswith(".tsv") else ","
    rows: list[tuple] = []
    width = None
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            for number, row in enumerate(csv.reader(handle, delimiter=delimiter), 1):
                if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                    continue
                if any(not cell.strip() for cell in row):
                    column = 1 + sum(len(c) + 1 for c in row[:[c.strip() for c in row].index("")])
                    raise DataFileError("empty cell in row", path, number, column)
                if width is None:
                    width = len(row)
                elif len(row) != width:
                    raise DataFileError(f"row has {len(row)} columns but the first row has {width}",
                                        path, number, 1)
                rows.append(tuple(_cell(c) for c in row))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise DataFileError(f"cannot read {path}: {getattr(err, 'strerror', None) or err}", path) from None
    return rows


def load_file(path: str):
    """An array (``.npy``), a dict of arrays (``.npz``) or a list of tuples (``.csv``/``.tsv``)."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SUFFIXES:
        raise DataFileError(f"unsupported data file type {suffix or '(none)'}; use {', '.join(SUFFIXES)}", path)
    if suffix in (".csv", ".tsv"):
        return load_tuples(path)
    try:
        loaded = np.load(path, allow_pickle=False)
        if suffix == ".npz":
            with loaded:
                return {key: loaded[key] for key in loaded.files}
        return loaded
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise DataFileError(f"cannot read {path}: {err}", path) from None
