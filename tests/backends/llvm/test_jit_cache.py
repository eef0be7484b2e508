"""The JIT's disk cache of object code (``tlc.backends.llvm.object_cache``): a second engine or process loads what a
first compiled and computes the same on random inputs (a fused kernel, the closure loop, the join kernels); processes
filling the same entries at once leave sound ones; damaged, truncated, planted or linked entries are ignored and
rewritten; a cache directory that is a link, another user's or writable by others is refused with one warning,
compiling as without a cache; over ``TLC_JIT_CACHE_SIZE`` the least recently used entries go; ``TLC_JIT_CACHE=0``
turns it off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("llvmlite")

import tlc  # noqa: E402
from tlc.backends.llvm.jit import Jit, native_kernel, ints_for  # noqa: E402
from tlc.backends.llvm.kernel import Array, Binary, Kernel, Output, Pos, Read, Reduce, Unary  # noqa: E402
from tlc.backends.llvm.object_cache import HEADER  # noqa: E402

CLOSURE = "Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)\n"
SAME_GENERATION = "Sg(x, y) = Par(x, p) Par(y, p)\nSg(x, y) = Par(x, p) Sg(p, q) Par(y, q)\n"
DENSE = "Y[i, j] = tanh(A[i, j] * B[i, j] + C[i, j])\n"


def p(var):
    return Pos(((var, 1),), 0, 1)


def product(op: str = "sum") -> Kernel:
    """out[i, k] = tanh(op over j of A[i, j] * B[j, k]): a loop nest with a reduction and a function."""
    value = Unary("tanh", Reduce(op, ("j",), Binary("mul", Read(0, (p("i"), p("j"))), Read(1, (p("j"), p("k"))))))
    return Kernel(("i", "k"), value, Output((p("i"), p("k")), "f64", "assign"), (Array(2), Array(2)))


def run(kernel: Kernel, engine: Jit, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``product``'s kernel run by ``engine`` on ``a`` and ``b``."""
    out = np.zeros((a.shape[0], b.shape[1]))
    ranges = {"i": (0, a.shape[0]), "k": (0, b.shape[1]), "j": (0, a.shape[1])}
    native_kernel(kernel, 1, engine)(out, None, (a, b), (), ints_for(kernel, ranges, out, (a, b)))
    return out


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh cache root for this test; returns the JIT's directory in it (created on first use)."""
    monkeypatch.setenv("TLC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TLC_JIT_CACHE", raising=False)
    return tmp_path / "cache" / "jit"


@pytest.fixture
def rng():
    return np.random.default_rng(11)


def entries(directory) -> list:
    return sorted(directory.glob("*.o")) if directory.exists() else []


def test_a_second_engine_loads_the_kernel_and_computes_the_same(cache, rng):
    kernel = product()
    first = Jit().compile(kernel)
    assert not first.cached
    [entry] = entries(cache)
    assert entry.name == f"{Jit()._objects.key(first.source)}.o" and oct(cache.stat().st_mode & 0o777) == "0o700"
    second = Jit()
    loaded = second.compile(kernel)
    assert loaded.cached and second.loaded == 1 and second.compilations == 1
    assert loaded.symbol == first.symbol and loaded.source == first.source
    a, b = rng.uniform(0.5, 1.5, (23, 17)), rng.uniform(-1.5, -0.5, (17, 31))
    expected = np.tanh(a @ b)
    np.testing.assert_allclose(run(kernel, second, a, b), expected, rtol=1e-12)
    assert np.array_equal(run(kernel, second, a, b), run(kernel, Jit(), a, b))
    assert "x double>" in loaded.llvm_ir or "reassoc" in loaded.llvm_ir       # optimised again on demand


def test_different_kernels_have_different_entries(cache):
    engine = Jit()
    engine.compile(product("sum"))
    engine.compile(product("max"))
    assert len(entries(cache)) == 2 and engine.loaded == 0


PROCESS = """
import json, sys
import numpy as np, tlc
from tlc.backends.llvm.jit import jit
data = np.load(sys.argv[1])
dense = tlc.compile({dense!r}, backend="llvm")(A=data["A"], B=data["B"], C=data["C"])["Y"]
path = np.asarray(tlc.compile({closure!r}, backend="llvm")(Edge=data["Edge"])["Path"])
sg = tlc.compile({same_generation!r}, backend="llvm", relations="sparse")(Par=[tuple(r) for r in data["Par"].tolist()])
np.savez(sys.argv[2], Y=dense, Path=path, Sg=np.array(sorted(sg["Sg"])))
records = jit().records()
print(json.dumps({{"compilations": jit().compilations, "loaded": jit().loaded,
                   "kinds": sorted({{type(k).__name__ for k in records}}),
                   "cached": sorted({{c.cached for c in records.values()}})}}))
""".format(dense=DENSE, closure=CLOSURE, same_generation=SAME_GENERATION)


def test_a_second_process_loads_every_kernel_and_computes_the_same(tmp_path, rng):
    """A fused kernel, the closure loop and the join kernels: compiled by one process, loaded by the next."""
    child = np.arange(1, 60)
    inputs = {"A": rng.uniform(0.5, 1.5, (9, 13)), "B": rng.uniform(-1.5, -0.5, (9, 13)),
              "C": rng.uniform(0.5, 1.5, (9, 13)), "Edge": rng.random((40, 40)) < 0.06,
              "Par": np.stack([child, np.maximum(0, child - 1 - rng.integers(0, 6, len(child)))], axis=1)}
    np.savez(tmp_path / "in.npz", **inputs)
    env = {**os.environ, "TLC_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("TLC_JIT_CACHE", None)
    runs = []
    for k in range(2):
        done = subprocess.run([sys.executable, "-c", PROCESS, str(tmp_path / "in.npz"), str(tmp_path / f"out{k}.npz")],
                              capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    cold, warm = runs
    assert {"Kernel", "ClosureLoop", "JoinLoop"} <= set(cold["kinds"]) and cold["kinds"] == warm["kinds"]
    assert cold["loaded"] == 0 and cold["cached"] == [False]
    assert warm["loaded"] == warm["compilations"] == cold["compilations"] and warm["cached"] == [True]
    first, second = np.load(tmp_path / "out0.npz"), np.load(tmp_path / "out1.npz")
    for name in ("Y", "Path", "Sg"):
        assert np.array_equal(first[name], second[name]), name
    numpy = {"Y": tlc.compile(DENSE)(A=inputs["A"], B=inputs["B"], C=inputs["C"])["Y"],
             "Path": np.asarray(tlc.compile(CLOSURE, relations="dense")(Edge=inputs["Edge"])["Path"]),
             "Sg": np.array(sorted(tlc.compile(SAME_GENERATION)(Par=[tuple(r) for r in inputs["Par"].tolist()])["Sg"]))}
    np.testing.assert_allclose(second["Y"], numpy["Y"], rtol=1e-12)
    assert np.array_equal(second["Path"], numpy["Path"]) and second["Path"].any()
    assert np.array_equal(second["Sg"], numpy["Sg"]) and len(numpy["Sg"]) > 0


def test_processes_filling_the_same_entries_at_once_leave_sound_ones(cache):
    """Two processes compile the same program into an empty cache at once: each entry is written whole (a temporary
    file renamed into place), so every entry left is sound and no temporary file remains."""
    script = ("import numpy as np, tlc\n"
              "x = np.random.default_rng(3).uniform(0.5, 1.5, (3, 6, 7))\n"
              f"tlc.compile({DENSE!r}, backend='llvm')(A=x[0], B=x[1], C=x[2])\n")
    children = [subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for child in children:
        assert child.wait(timeout=300) == 0, child.stderr.read()[-3000:]
        child.stderr.close()
    assert entries(cache) and not list(cache.glob("*.tmp"))
    engine = Jit()
    assert all(engine._objects.load(entry.stem) is not None for entry in entries(cache))


def _truncated(entry, other):
    entry.write_bytes(entry.read_bytes()[:-40])


def _header_only(entry, other):
    entry.write_bytes(entry.read_bytes()[:HEADER])


def _flipped(entry, other):
    data = bytearray(entry.read_bytes())
    data[HEADER + len(data[HEADER:]) // 2] ^= 0x40
    entry.write_bytes(bytes(data))


def _planted(entry, other):
    """Another kernel's sound entry under this one's name (its header names the other key)."""
    entry.write_bytes(other.read_bytes())


def _garbage(entry, other):
    entry.write_bytes(os.urandom(4096))


def _empty(entry, other):
    entry.write_bytes(b"")


def _linked(entry, other):
    """A link to another kernel's entry in place of the file."""
    entry.unlink()
    entry.symlink_to(other)


@pytest.mark.parametrize("damage", [_truncated, _header_only, _flipped, _planted, _garbage, _empty, _linked],
                         ids=lambda f: f.__name__.strip("_"))
def test_a_damaged_entry_is_ignored_and_rewritten(cache, rng, damage):
    kernel, other = product("sum"), product("max")
    first = Jit()
    source = first.compile(kernel).source
    first.compile(other)
    entry = cache / f"{first._objects.key(source)}.o"
    sound = entry.read_bytes()
    [other_entry] = [e for e in entries(cache) if e != entry]
    damage(entry, other_entry)
    second = Jit()
    assert not second.compile(kernel).cached
    assert not entry.is_symlink() and entry.read_bytes()[:HEADER] == sound[:HEADER]
    a, b = rng.uniform(0.5, 1.5, (5, 7)), rng.uniform(0.5, 1.5, (7, 3))
    np.testing.assert_allclose(run(kernel, second, a, b), np.tanh(a @ b), rtol=1e-12)
    third = Jit()
    assert third.compile(kernel).cached
    np.testing.assert_allclose(run(kernel, third, a, b), np.tanh(a @ b), rtol=1e-12)
    assert other_entry.read_bytes()[:HEADER] != sound[:HEADER]           # the other entry is untouched


def _writable_by_others(root):
    root.mkdir()
    root.chmod(0o777)


def _a_link(root):
    real = root.parent / "real"
    real.mkdir(mode=0o700)
    root.symlink_to(real)


def _a_file(root):
    root.write_text("not a directory")


def _another_users(root):
    if os.getuid() != 0:
        pytest.skip("giving a directory to another user needs root")
    root.mkdir(mode=0o700)
    os.chown(root, 54321, -1)


@pytest.mark.parametrize("make, why", [
    (_writable_by_others, "is writable by others (mode 777): refusing to load code from it"),
    (_a_link, "is not a directory (a link or a file): refusing to use it"),
    (_a_file, "cannot create the JIT cache"),
    (_another_users, "belongs to another user (uid 54321): refusing to load code from it"),
], ids=["writable-by-others", "link", "file", "another-user"])
def test_a_refused_cache_directory_warns_once_and_compiles(tmp_path, monkeypatch, rng, make, why):
    root = tmp_path / "root"
    make(root)
    monkeypatch.setenv("TLC_CACHE_DIR", str(root))
    monkeypatch.delenv("TLC_JIT_CACHE", raising=False)
    engine = Jit()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled = [engine.compile(product(op)) for op in ("sum", "max")]
    messages = [str(w.message) for w in caught if isinstance(w.message, tlc.TlcWarning)]
    assert len(messages) == 1 and why in messages[0] and "compiling kernels without it" in messages[0]
    assert "TLC_JIT_CACHE=0" in messages[0]
    assert not any(c.cached for c in compiled)
    assert not list(tmp_path.rglob("*.o"))
    a, b = rng.uniform(0.5, 1.5, (4, 6)), rng.uniform(0.5, 1.5, (6, 2))
    np.testing.assert_allclose(run(product(), engine, a, b), np.tanh(a @ b), rtol=1e-12)


def test_turned_off_it_neither_reads_nor_writes(cache, monkeypatch):
    Jit().compile(product())
    [entry] = entries(cache)
    monkeypatch.setenv("TLC_JIT_CACHE", "0")
    engine = Jit()
    assert not engine.compile(product()).cached and engine.loaded == 0
    engine.compile(product("max"))
    assert entries(cache) == [entry]


def test_a_bad_switch_value_is_an_error(cache, monkeypatch):
    monkeypatch.setenv("TLC_JIT_CACHE", "yes")
    with pytest.raises(tlc.TlcError, match=r"TLC_JIT_CACHE must be 0 \(no disk cache of compiled kernels\) or 1 "
                                           r"\(the default\), not 'yes'"):
        Jit().compile(product())


def test_over_its_size_the_least_recently_used_entries_go(cache, monkeypatch):
    compiled = [Jit().compile(product(op)) for op in ("sum", "max", "min")]
    first, second, third = (cache / f"{Jit()._objects.key(c.source)}.o" for c in compiled)
    for age, entry in enumerate((first, second, third)):
        os.utime(entry, ns=((age + 1) * 10**17,) * 2)      # written in the 1970s, in this order
    assert Jit().compile(product("sum")).cached              # loading the first marks it used now
    monkeypatch.setenv("TLC_JIT_CACHE_SIZE", str(first.stat().st_size + third.stat().st_size))
    third.unlink()
    Jit().compile(product("min"))          # stored again: over the size, the least recently used (second) goes
    assert entries(cache) == sorted([first, third])


def test_a_bad_size_is_an_error(cache, monkeypatch):
    monkeypatch.setenv("TLC_JIT_CACHE_SIZE", "lots")
    with pytest.raises(tlc.TlcError, match=r"TLC_JIT_CACHE_SIZE must be a size such as 256M or 1G, not 'lots'"):
        Jit().compile(product())
