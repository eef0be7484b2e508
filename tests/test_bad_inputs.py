"""Hostile inputs: every user error is a located ``tlc.TlcError`` (at the source, or at the data file's name,
key and row), never another exception; through the CLI, exit status 1 and no traceback (DESIGN §3)."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

import tlc
from tlc.cli import main


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "tlc", *args], capture_output=True, text=True, timeout=120)


def cli_error(capsys, *args) -> str:
    """Run ``tlc ARGS`` in-process; it must fail with exit status 1 and no traceback: its stderr."""
    code = main([str(a) for a in args])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "Traceback" not in err and "error:" in err, err
    return err


def located(err: tlc.TlcError) -> tlc.TlcError:
    assert err.line is not None and err.line >= 1, str(err)
    str(err)
    return err


# ---------------------------------------------------------------- index arithmetic reading past an extent
SHIFTED = [pytest.param("X[i, j] = W[i, k] X[i-j, k]", marks=pytest.mark.slow), "X[i, j] = W[i, k] X[j-i, k]",
           "X[i, j] = W[i, k] X[i+j, k]", pytest.param("X[i, j] = W[i, j] + X[i-j, j]", marks=pytest.mark.slow),
           "Y[i, j] = W[i, k] X[i-j, k]", "Y[i, j] = W[i, k] X[j-i, k]", "Y[i, j] = W[i, k] X[i+j, k]"]
"""Index arithmetic past an extent; the slow ones are numeric recursions that run to their round bound."""
ROUNDS = 200
"""The round bound of those recursions here (every configuration alike): reaching the default 10,000 took 0.7 s a run,
over two minutes a backend, and says nothing more about reads past an extent."""


@pytest.mark.parametrize("src", SHIFTED)
def test_index_arithmetic_past_the_extent_reads_zero(backend, src):
    """Recursive reads such as ``X[i-j, k]`` reach past X's current extent: those positions read 0 (the
    fuzzer found an IndexError in ``tlc_runtime.gather``), and every backend and level agrees."""
    if backend == "llvm":
        pytest.importorskip("llvmlite")
    rng = np.random.default_rng(0)
    for a, b, c, d in itertools.product([1, 2, 4], [1, 3], [1, 2, 5], [1, 3]):
        inputs = {"W": rng.random((a, b)), "X": rng.random((c, d))}
        results = []
        for opt_level in (0, 2):
            try:
                res = tlc.compile(src, backend=backend, opt_level=opt_level, max_rounds=ROUNDS)(**inputs)
                results.append({k: np.asarray(v) for k, v in res.items()})
            except tlc.TlcError as err:
                results.append(located(err).message)
        reference = tlc.compile(src, opt_level=0, max_rounds=ROUNDS)
        try:
            expected = {k: np.asarray(v) for k, v in reference(**inputs).items()}
        except tlc.TlcError as err:
            expected = err.message
        for got in results:
            if isinstance(expected, str):
                assert got == expected
            else:
                assert got.keys() == expected.keys()
                for k in got:
                    np.testing.assert_allclose(got[k], expected[k])


def test_gather_outside_reads_zero():
    from tlc_runtime import gather
    x = np.arange(6.0).reshape(2, 3)
    # X[i-j, k] for i, j in [0, 2), k in [0, 4): negative rows and column 3 are outside
    out = gather(x, [((("i", 1), ("j", -1)), 0, 1), ((("k", 1),), 0, 1)], {"i": (0, 2), "j": (0, 2), "k": (0, 4)},
                 "ijk")
    expected = np.zeros((2, 2, 4))
    for i, j, k in itertools.product(range(2), range(2), range(4)):
        if 0 <= i - j < 2 and k < 3:
            expected[i, j, k] = x[i - j, k]
    np.testing.assert_array_equal(out, expected)
    # a strided read X[i+j, k] that runs past the end falls back to the same rule
    out = gather(x, [((("i", 1), ("j", 1)), 0, 1), ((("k", 1),), 0, 1)], {"i": (0, 2), "j": (0, 2), "k": (0, 3)},
                 "ijk")
    assert out[1, 1].tolist() == [0.0, 0.0, 0.0] and out[0, 1].tolist() == x[1].tolist()


def test_index_with_a_coefficient_is_a_located_error():
    for src in ("Y[i, j] = X[2*i-j, j]", "Y[i, j] = X[i+i-j, j]", "Y[i] = X[i*i]"):
        with pytest.raises(tlc.TlcError) as info:
            tlc.compile(src)(X=np.ones((3, 3)))
        located(info.value)


# ---------------------------------------------------------------- integers too large for 64-bit positions
BIG = 99999999999999999999


@pytest.mark.parametrize("src", [f"R({BIG})\nQ(x) = R(x)", f"R({2**63})", f"R({2**63 - 1})", f"Y[{BIG}] = 1",
                                 f"Y[i+{BIG}] = X[i]", f"Y[i/{BIG}] = X[i]", f"const N = {BIG}\nY[N] = 1",
                                 f"tensor Y[{BIG}]\nY[i] = 1", f"Y[i] = X[i-{BIG}]", f"R(Bob, {BIG})",
                                 f"R({2**62}, {2**62})\nQ(x, y) = R(x, y)", f"R({2**32}, {2**32})",
                                 f"R({2**32})\nS({2**32})\nQ(x, y) = R(x) S(y)", f"Y[i] = X[i]\nY[{BIG}]?"])
def test_huge_integer_in_source_is_located(src):
    with pytest.raises(tlc.TlcError) as info:
        program = tlc.compile(src)
        program(X=np.ones(3)) if "X" in src else program()
    assert "64-bit" in located(info.value).message


@pytest.mark.parametrize("value", [2**63 - 1, 2**63, 2**64, 10**30, -1])
@pytest.mark.parametrize("src", ["Q(x) = R(x)", "Q(x, y) = R(x, y)", "P(x, y) = R(x, y)\nP(x, z) = P(x, y) R(y, z)",
                                 "C[x] += R(x, y)"])
def test_huge_integer_in_relation_data_is_located(backend, value, src):
    if backend == "llvm":
        pytest.importorskip("llvmlite")
    rank = 1 if src == "Q(x) = R(x)" else 2
    with pytest.raises(tlc.TlcError) as info:
        tlc.compile(src, backend=backend)(R=[(value,) * rank, (0,) * rank])
    assert f"R" in located(info.value).message


@pytest.mark.parametrize("src", ["Q(x) = R(x)", "P(x, y) = R(x, y)\nP(x, z) = P(x, y) R(y, z)"])
def test_large_identifiers_cost_no_memory_in_proportion(src):
    """Identifiers up to 2^31 (2^62 for a unary relation) stay sparse: no CSR row pointer of 2^31 entries."""
    value = 2**31 if "P" in src else 2**62
    rank = 1 if src == "Q(x) = R(x)" else 2
    res = tlc.compile(src)(R=[(value,) * rank, (0,) * rank])
    assert sorted(res["Q" if rank == 1 else "P"]) == [(0,) * rank, (value,) * rank]


# ---------------------------------------------------------------- inputs whose names clash with parameters
def test_inputs_named_self_and_text():
    program = tlc.compile("Y[i] = self[i] + text[i]")
    data = {"self": np.ones(2), "text": np.arange(2.0)}
    np.testing.assert_array_equal(program(**data)["Y"], [1.0, 2.0])
    np.testing.assert_array_equal(program.query("Y[i]", **data), [1.0, 2.0])
    program.check(**data)
    assert "self" in program.source(**data) and program.explain(**data)
    assert program.specialisation(**data).shapes.extents["Y"] == (2,)


# ---------------------------------------------------------------- Python values that are no numbers or arrays
class Failing:
    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("cannot convert")


BAD_VALUES = [10**400, -10**400, [10**400], np.array([1, "a"], dtype=object),
              np.array([[1], [2, 3]], dtype=object), [[1], [2, 3]], [None, 1], None, {"a": 1}, "abc", 1j,
              np.array([1 + 2j]), iter([1.0]), Failing(), np.zeros(3, dtype=[("a", int)])]


@pytest.mark.parametrize("value", BAD_VALUES, ids=lambda v: type(v).__name__)
@pytest.mark.parametrize("src, name", [("Y[i] = X[i] * 2", "X"), ("Y[i] = a * X[i]", "a"), ("Q(x) = R(x)", "R"),
                                       ("C[x] += R(x, y)", "R")])
def test_bad_python_value_is_a_located_data_error(src, name, value):
    program = tlc.compile(src)
    inputs = {"X": np.ones(3), "a": 2.0}
    inputs = {n: inputs[n] for n in program.input_names() if n in inputs}
    inputs[name] = value
    for method in (program, program.check, program.explain):
        with pytest.raises(tlc.TlcError) as info:
            method(**inputs)
        assert name in located(info.value).message


def test_object_arrays_of_numbers_are_converted():
    program = tlc.compile("Y[i] = X[i] * 2")
    np.testing.assert_array_equal(program(X=np.array([1, 2.5], dtype=object))["Y"], [2.0, 5.0])
    assert tlc.compile("Y[i] = a * X[i]")(a=np.array(3, dtype=object), X=[1.0])["Y"].tolist() == [3.0]


def test_scipy_sparse_relation_data_must_be_boolean():
    sparse = pytest.importorskip("scipy.sparse")
    program = tlc.compile("Q(x, y) = R(x, y)")
    assert sorted(program(R=sparse.csr_matrix(np.eye(2)))["Q"]) == [(0, 0), (1, 1)]
    for bad in (sparse.csr_matrix(np.array([[0.5, 1.0]])), sparse.csr_matrix(np.eye(2) * 1j)):
        with pytest.raises(tlc.TlcError) as info:
            program(R=bad)
        assert "Boolean" in located(info.value).message
    with pytest.raises(tlc.TlcError) as info:
        tlc.compile("Y[i, j] = X[i, j]")(X=sparse.csr_matrix(np.eye(2)))
    assert "dense" in located(info.value).message


# ---------------------------------------------------------------- tlc.einsum on dtypes tlc does not plan
EINSUM_OPERANDS = [np.array([1, 2, 3], dtype=object), np.array([10**30, 2, 3], dtype=object), [10**30, 1, 2],
                   np.array([1.5, 2, 0.25], dtype=object), np.array([1, 2, 3], dtype="timedelta64[s]"),
                   np.array([True, False, True]), np.array([1 + 1j, 2, 3])]


@pytest.mark.parametrize("subscripts", ["i->", "i,i->", "i,i->i", "i,j->ij", "i->i"])
@pytest.mark.parametrize("k", range(len(EINSUM_OPERANDS)))
def test_einsum_falls_back_to_numpy_for_other_dtypes(subscripts, k):
    operands = [EINSUM_OPERANDS[k]] * (subscripts.split("->")[0].count(",") + 1)
    try:
        expected = np.einsum(subscripts, *operands)
    except (TypeError, ValueError) as err:
        with pytest.raises(type(err)) as info:
            tlc.einsum(subscripts, *operands)
        assert isinstance(info.value, tlc.TlcError)
        return
    got = tlc.einsum(subscripts, *operands)
    assert type(got) is type(expected)
    assert np.asarray(got).dtype == np.asarray(expected).dtype
    assert np.asarray(got).tolist() == np.asarray(expected).tolist()


@pytest.mark.parametrize("operands", [(np.array(["a", "b"]),), (np.array([1, "a"], dtype=object),) * 2,
                                      (np.zeros(2, dtype=[("a", int)]),), ([[1], [2, 3]],),
                                      (np.ones(2), np.array(["2020-01-01"] * 2, dtype="datetime64[D]"))])
def test_einsum_refusals_are_tlc_errors_of_numpys_class(operands):
    subscripts = ",".join("i" for _ in operands) + "->"
    with pytest.raises(Exception) as expected:
        np.einsum(subscripts, *operands)
    with pytest.raises(tlc.TlcError) as info:
        tlc.einsum(subscripts, *operands)
    assert isinstance(info.value, (TypeError, ValueError)) and \
        isinstance(info.value, type(expected.value).__mro__[1] if type(expected.value).__name__ == "DTypePromotionError"
                   else type(expected.value))


# ---------------------------------------------------------------- data files through the CLI
def _npy_header(shape, descr="<f8", version=(1, 0)) -> bytes:
    import io
    buf = io.BytesIO()
    write = np.lib.format.write_array_header_1_0 if version == (1, 0) else np.lib.format.write_array_header_2_0
    write(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _zip(path, members: dict):
    import zipfile
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


BAD_FILES = {   # file name -> (how to write it into a directory, text the message must contain)
    "forged.npy": (lambda p: p.write_bytes(_npy_header((10**12,)) + bytes(100)), "header claims shape (1000000000000,)"),
    "forged2.npy": (lambda p: p.write_bytes(_npy_header((2**62, 2**62), version=(2, 0))), "header claims"),
    "forged.npz": (lambda p: _zip(p, {"X.npy": _npy_header((10**12,)) + bytes(100)}), "array 'X'"),
    "object.npy": (lambda p: np.save(p, np.array([1, "a"], dtype=object), allow_pickle=True), "Python objects"),
    "object.npz": (lambda p: np.savez(p, X=np.array([[1], [2, 3]], dtype=object)), "array 'X'"),
    "pickle_header.npy": (lambda p: p.write_bytes(_npy_header((1,), "|O") + b"\x80\x04N."), "never unpickles"),
    "truncated.npy": (lambda p: p.write_bytes(_npy_header((3,))[:20]), "not a valid .npy"),
    "short.npy": (lambda p: p.write_bytes(_npy_header((3,)) + bytes(8)), "only 8 bytes"),
    "empty.npy": (lambda p: p.write_bytes(b""), "not a valid .npy"),
    "text.npz": (lambda p: p.write_text("hello"), "not a zip file"),
    "garbage_member.npz": (lambda p: _zip(p, {"X.npy": b"garbage"}), "array 'X'"),
    "big.csv": (lambda p: p.write_text("1\n99999999999999999999\n"), ":2:1: error: integer 99999999999999999999 is too large"),
    "cells.csv": (lambda p: p.write_text("1\n2\n3,,4\n"), ":3:3: error: empty cell"),
    "ragged.tsv": (lambda p: p.write_text("1\t2\n3\n"), ":2:1: error: row has 1 columns"),
    "control.csv": (lambda p: p.write_text("1\n\x00\n"), ":2:1: error: cell holds the control character"),
    "binary.csv": (lambda p: p.write_bytes(b"1\n2\n\xff\xfe\n"), ":3:1: error: cannot read"),
    "long.csv": (lambda p: p.write_text("9" * 200000 + "\n"), ":1:1: error: cannot read"),
    "directory.npz": (lambda p: p.mkdir(), "cannot read"),
    "wrong.txt": (lambda p: p.write_text("1\n"), "unsupported data file type .txt"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_data_file_is_located_at_the_file(tmp_path, capsys, name):
    write, expected = BAD_FILES[name]
    path = tmp_path / name
    write(path)
    src = tmp_path / "p.tl"
    src.write_text("Y[i] = X[i]\nQ(x) = R(x)\n")
    np.save(tmp_path / "x.npy", np.ones(3))
    target = "R" if name.endswith((".csv", ".tsv")) else "X"
    inputs = ["--input", f"R={tmp_path / 'r.csv'}"] if target == "X" else ["--input", f"X={tmp_path / 'x.npy'}"]
    (tmp_path / "r.csv").write_text("1\n")
    binding = ["--data", str(path)] if name.endswith(".npz") else ["--input", f"{target}={path}"]
    for command in ("run", "check", "explain", "compile"):
        err = cli_error(capsys, command, src, *binding, *inputs)
        assert err.startswith(str(path)) and expected in err, err


def test_bad_data_file_through_a_subprocess_has_no_traceback(tmp_path):
    path = tmp_path / "forged.npy"
    BAD_FILES["forged.npy"][0](path)
    src = tmp_path / "p.tl"
    src.write_text("Y[i] = X[i]\n")
    proc = run_cli("run", str(src), "--input", f"X={path}")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and f"{path}: error:" in proc.stderr


@pytest.mark.parametrize("text", ["\ufeff1\n2\n", "\ufeff# comment\n1\n2\n", "1\r\n2\r\n"])
@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_byte_order_mark_and_crlf_are_accepted(tmp_path, capsys, text, suffix):
    (tmp_path / f"r{suffix}").write_text(text, encoding="utf-8")
    src = tmp_path / "p.tl"
    src.write_text("Q(x) = R(x)\n")
    assert main(["run", str(src), "--input", f"R={tmp_path / f'r{suffix}'}"]) == 0
    assert "Q = {1, 2}" in capsys.readouterr().out


def test_non_ascii_digits_are_names(tmp_path, capsys):
    (tmp_path / "r.csv").write_text("1\n²\n１\n", encoding="utf-8")
    src = tmp_path / "p.tl"
    src.write_text("Q(x) = R(x)\n")
    assert main(["run", str(src), "--input", f"R={tmp_path / 'r.csv'}"]) == 0
    assert "Q = {1, ², １}" in capsys.readouterr().out


def test_huge_csv_integer_relation_cli(tmp_path, capsys):
    (tmp_path / "e.csv").write_text(f"0,{2**62}\n{2**62},1\n")
    src = tmp_path / "p.tl"
    src.write_text("P(x, y) = E(x, y)\nP(x, z) = P(x, y) E(y, z)\n")
    err = cli_error(capsys, "run", src, "--input", f"E={tmp_path / 'e.csv'}")
    assert f"{src}:1:" in err and "64-bit" in err


# ---------------------------------------------------------------- bad source files through the CLI
BAD_SOURCES = {"binary.tl": (b"Y[i] = X[i]\n\xff\xfe", ":2:1: error: cannot read"),
               "nul.tl": (b"Y[i] = X[i]\x00\n", ":1:12: error: unexpected character"),
               "rank.tl": (("Y[" + ",".join(f"i{k}" for k in range(65)) + "] = 1\n").encode(), ":1:1: error: Y has 65"),
               "bigint.tl": (b"R(99999999999999999999)\n", ":1:3: error: the index 99999999999999999999"),
               "escape.tl": (b"Y[i] = X[i] \x1b[31m\n", "?[31m")}


@pytest.mark.parametrize("name", sorted(BAD_SOURCES))
def test_bad_source_file_is_located(tmp_path, capsys, name):
    data, expected = BAD_SOURCES[name]
    path = tmp_path / name
    path.write_bytes(data)
    for command in ("run", "check", "explain", "compile"):
        err = cli_error(capsys, command, path)
        assert err.startswith(str(path)) and expected in err, err
        assert "\x1b" not in err and "\x00" not in err


def test_source_with_a_byte_order_mark(tmp_path, capsys):
    path = tmp_path / "bom.tl"
    path.write_text("\ufeffY[i] = X[i] * 2\n", encoding="utf-8")
    assert main(["check", str(path)]) == 0
    assert tlc.compile(str(path))(X=[1.0])["Y"].tolist() == [2.0]


# ---------------------------------------------------------------- --out keeps every name
def test_out_writes_every_tensor_name(tmp_path, capsys):
    names = ["file", "allow_pickle", "self", "args", "kwds", "Y"]
    src = tmp_path / "p.tl"
    src.write_text("".join(f"{n}[i] = X[i] * {k + 1}\n" for k, n in enumerate(names)) + "R(1, 2)\n")
    np.save(tmp_path / "x.npy", np.arange(3.0))
    out = tmp_path / "out.npz"
    assert main(["run", str(src), "--input", f"X={tmp_path / 'x.npy'}", "--out", str(out)]) == 0, \
        capsys.readouterr().err
    with np.load(out) as saved:
        assert sorted(saved.files) == sorted(names + ["R"])
        for k, n in enumerate(names):
            np.testing.assert_array_equal(saved[n], np.arange(3.0) * (k + 1))
        assert saved["R"].dtype == bool and saved["R"][1, 2]
    assert main(["run", str(src), "--input", f"X={tmp_path / 'x.npy'}", "--out", str(tmp_path / "plain")]) == 0
    assert (tmp_path / "plain.npz").exists()      # numpy.savez's naming


def test_out_to_an_unwritable_place(tmp_path, capsys):
    src = tmp_path / "p.tl"
    src.write_text("Y = 1\n")
    cli_error(capsys, "run", src, "--out", tmp_path / "missing" / "o.npz")


# ---------------------------------------------------------------- data whose logical size is huge
@pytest.mark.parametrize("src, name, value", [
    ("Y[i] = X[i]", "X", np.broadcast_to(np.ones(1), (10**12,))),
    ("Q(x) = R(x)", "R", np.broadcast_to(np.ones(1, dtype=bool), (10**12,))),
    ("Y[i] = X[i]", "X", np.broadcast_to(np.ones(1, dtype=np.float32), (10**10,)))])
def test_huge_broadcast_view_is_refused_before_any_pass(src, name, value):
    with pytest.raises(tlc.TlcError) as info:
        tlc.compile(src)(**{name: value})
    assert "elements" in located(info.value).message


def test_tall_sparse_matrix_needs_no_row_pointer():
    sparse = pytest.importorskip("scipy.sparse")
    tall = sparse.coo_matrix(([1.0, 1.0, 0.0], ([0, 2**35, 5], [0, 1, 1])), shape=(2**36, 2))
    assert sorted(tlc.compile("Q(x, y) = R(x, y)")(R=tall)["Q"]) == [(0, 0), (2**35, 1)]
    huge = sparse.coo_matrix(([1.0], ([0], [0])), shape=(2**40, 2**40))
    with pytest.raises(tlc.TlcError) as info:
        tlc.compile("Q(x, y) = R(x, y)")(R=huge)
    assert "64-bit" in located(info.value).message


# ---------------------------------------------------------------- queries from Python
@pytest.mark.parametrize("text", ["Q(x, y)", "Q()", "Y[i, j]", "Y[]", "S[i]", 123, None, b"Q(x)", "Q(x", ""])
def test_bad_query_is_a_located_error(text):
    program = tlc.compile("Y[i] = X[i]\nQ(x) = R(x)\nS = 2\n")
    with pytest.raises(tlc.TlcError) as info:
        program.query(text, X=np.ones(3), R=[(1,)])
    str(info.value)
    if isinstance(text, str):
        assert located(info.value).filename == "<query>"


# ---------------------------------------------------------------- compile options of the wrong type
@pytest.mark.parametrize("args, options", [((123,), {}), ((None,), {}), ((b"Y = 1",), {}),
                                           (("Y[i] = X[i]",), {"outputs": 123}), (("Y[i] = X[i]",), {"outputs": [1]}),
                                           (("Y[i] = X[i]",), {"weights": [1]}), (("Y[i] = X[i]",), {"passes": 1}),
                                           (("Y[i] = X[i]",), {"weights": {"X": np.array([1, "a"], dtype=object)}})])
def test_compile_options_of_the_wrong_type(args, options):
    with pytest.raises(tlc.TlcError):
        tlc.compile(*args, **options)(X=np.ones(2)) if "weights" not in options else tlc.compile(*args, **options)()
