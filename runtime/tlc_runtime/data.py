"""Load input data files: ``.npy`` arrays, ``.npz`` archives keyed by name, ``.csv``/``.tsv``/``.facts`` tuples;
write tuples as CSV or tab-separated text and arrays as ``.npz``.

Files are untrusted: nothing is unpickled, an array's header is checked against the bytes that hold its
data before anything is allocated, and every failure is a ``DataFileError`` naming the file (and the
archive member, or the row and column)."""

from __future__ import annotations

import csv
import itertools
import os
import unicodedata
import zipfile

import numpy as np

from tlc_runtime.errors import DataFileError

SUFFIXES = (".npy", ".npz", ".csv", ".tsv", ".facts")
TUPLE_SUFFIXES = (".csv", ".tsv", ".facts")
"""Text files of tuples: ``.csv`` is comma-separated, ``.tsv`` and Soufflé's ``.facts`` tab-separated."""
MAX_POSITION = 2**63 - 1
"""Largest integer a cell may hold: positions are 64-bit integers."""


def _cell(text: str, path: str, number: int, column: int):
    """A cell's constant: an integer when it is written in ASCII digits, else the text (a named constant)."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        bad = next((k for k, ch in enumerate(text) if unicodedata.category(ch) == "Cc"), None)
        if bad is not None:
            raise DataFileError(f"cell holds the control character {text[bad]!r}", path, number, column)
        return text
    value = int(text)
    if value > MAX_POSITION:
        raise DataFileError(f"integer {text} is too large: positions are 64-bit integers (at most 2^63 - 1); "
                            f"give large identifiers as names", path, number, column)
    return value


def load_tuples(path: str, header: bool | None = None) -> list[tuple]:
    """Rows of a ``.csv``/``.tsv``/``.facts`` file as tuples (integers where a cell is a whole number);
    blank lines and lines starting with ``#`` are skipped; every row must have the same width.
    A byte-order mark at the start is ignored. ``header``: skip the first row (True), keep it (False), or
    (None) skip it when it is a header by its types: a name in a column whose other rows are all integers.
    ``.facts`` files are Soufflé's: tab-separated, and a double quote is an ordinary character."""
    delimiter = "," if path.lower().endswith(".csv") else "\t"
    quoting = csv.QUOTE_NONE if path.lower().endswith(".facts") else csv.QUOTE_MINIMAL
    rows = FileRows(path)
    width = None
    reader = None
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter=delimiter, quoting=quoting)
            for row in reader:
                number = reader.line_num
                if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                    continue
                columns = list(itertools.accumulate((len(c) + 1 for c in row[:-1]), initial=1))
                if any(not cell.strip() for cell in row):
                    raise DataFileError("empty cell in row", path, number,
                                        columns[[c.strip() for c in row].index("")])
                if width is None:
                    width = len(row)
                elif len(row) != width:
                    raise DataFileError(f"row has {len(row)} columns but the first row has {width}",
                                        path, number, 1)
                rows.append(tuple(_cell(c, path, number, k) for c, k in zip(row, columns)))
                rows.lines.append(number)
    except csv.Error as err:
        line = reader.line_num if reader is not None else None
        raise DataFileError(f"cannot read {path}: {err}", path, line, 1 if line else None) from None
    except UnicodeDecodeError as err:
        line = _line_of_byte(path, err.start)
        raise DataFileError(f"cannot read {path}: not UTF-8 text (byte {err.object[err.start:err.start + 1]!r} "
                            f"at offset {err.start})", path, line, 1 if line else None) from None
    except (OSError, ValueError) as err:
        raise DataFileError(f"cannot read {path}: {getattr(err, 'strerror', None) or err}", path) from None
    if rows and (header or (header is None and is_header(rows))):
        del rows[0], rows.lines[0]
    return rows


class FileRows(list):
    """Tuples read from a text file, with the file's name and the line each came from (for located errors)."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.lines: list[int] = []


def is_header(rows: list[tuple]) -> bool:
    """True when the first row names its columns: it has a name where every later row has an integer."""
    return len(rows) > 1 and any(isinstance(cell, str) and all(isinstance(row[a], int) for row in rows[1:])
                                 for a, cell in enumerate(rows[0]))


def save_tuples(target, rows, delimiter: str = ",") -> None:
    """Write tuples one per line to a path or text stream: CSV with ``,`` (names quoted where needed), else
    cells joined by ``delimiter`` as Soufflé writes them (a cell holding it or a line break is refused).
    A nullary relation's one tuple is written ``()``, as Soufflé does."""
    if isinstance(target, (str, os.PathLike)):
        path = os.fspath(target)
        try:
            with open(path, "w", newline="", encoding="utf-8") as handle:
                _write_tuples(handle, rows, delimiter, path)
        except OSError as err:
            raise DataFileError(f"cannot write {path}: {err.strerror or err}", path) from None
        return
    _write_tuples(target, rows, delimiter, getattr(target, "name", "<stream>"))


def _write_tuples(handle, rows, delimiter: str, path: str) -> None:
    writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n") if delimiter == "," else None
    for row in rows:
        if not row:
            handle.write("()\n")
        elif writer is not None:
            writer.writerow(row)
        else:
            cells = [str(cell) for cell in row]
            bad = next((c for c in cells if delimiter in c or "\n" in c or "\r" in c), None)
            if bad is not None:
                raise DataFileError(f"cannot write {path}: the name {bad!r} holds the delimiter or a line break, "
                                    f"which a {'tab' if delimiter == chr(9) else repr(delimiter)}-separated file "
                                    f"cannot hold (write CSV instead)", path)
            handle.write(delimiter.join(cells) + "\n")


def _line_of_byte(path: str, offset: int) -> int | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(offset).count(b"\n") + 1
    except OSError:
        return None


def _header(handle, what: str, path: str, size: int) -> None:
    """Check an ``.npy`` header against the ``size`` bytes that follow its start: no object arrays (never
    unpickled), and enough data for the shape it claims (so a forged header allocates nothing)."""
    try:
        version = np.lib.format.read_magic(handle)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(handle)
    except (ValueError, EOFError, OSError, SyntaxError, TypeError) as err:
        raise DataFileError(f"cannot read {what}: not a valid .npy array ({err})", path) from None
    if dtype.hasobject:
        raise DataFileError(f"cannot read {what}: it holds Python objects (dtype {dtype}); tlc reads numeric and "
                            f"Boolean arrays only and never unpickles data", path)
    count = 1
    for n in shape:
        count *= n
    need = count * dtype.itemsize
    have = size - handle.tell()
    if need > have:
        raise DataFileError(f"cannot read {what}: its header claims shape {tuple(shape)} of {dtype} "
                            f"({need} bytes) but only {max(have, 0)} bytes of data follow", path)


def _load_npy(path: str):
    with open(path, "rb") as handle:
        _header(handle, path, path, os.fstat(handle.fileno()).st_size)
        handle.seek(0)
        return np.lib.format.read_array(handle, allow_pickle=False)


def _load_npz(path: str) -> dict:
    out = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            what = f"{path}, array {key!r}"
            if key in out:
                raise DataFileError(f"cannot read {what}: the archive holds two arrays named {key!r}", path)
            with archive.open(info) as member:
                _header(member, what, path, info.file_size)
            with archive.open(info) as member:
                try:
                    out[key] = np.lib.format.read_array(member, allow_pickle=False)
                except (ValueError, EOFError, OSError, zipfile.BadZipFile) as err:
                    raise DataFileError(f"cannot read {what}: {err}", path) from None
    return out


def load_file(path: str, header: bool | None = None):
    """An array (``.npy``), a dict of arrays (``.npz``) or a list of tuples (``.csv``/``.tsv``/``.facts``, with
    ``header`` as in ``load_tuples``)."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SUFFIXES:
        raise DataFileError(f"unsupported data file type {suffix or '(none)'}; use {', '.join(SUFFIXES)}", path)
    if suffix in TUPLE_SUFFIXES:
        return load_tuples(path, header)
    try:
        return _load_npz(path) if suffix == ".npz" else _load_npy(path)
    except DataFileError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError) as err:
        raise DataFileError(f"cannot read {path}: {getattr(err, 'strerror', None) or err}", path) from None
    except MemoryError:
        raise DataFileError(f"cannot read {path}: its arrays do not fit in memory", path) from None


def save_npz(path: str, arrays: dict) -> None:
    """Write ``arrays`` to an ``.npz`` archive as ``numpy.savez`` does, keyed by name; names are not passed
    as keywords, so tensors called ``file`` or ``allow_pickle`` are written like any other."""
    path = path if path.endswith(".npz") else path + ".npz"     # as numpy.savez names it
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)

