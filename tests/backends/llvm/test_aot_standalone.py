"""Ahead-of-time artefacts stand alone: an ``OUT.py`` + ``OUT.so`` pair runs with numpy and ``tlc_runtime``
only (no tlc, llvmlite, scipy or opt_einsum), sparse programs import scipy where they need it, and the
shared library is built for a portable CPU unless ``--cpu`` says otherwise."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tlc
import tlc_runtime

pytest.importorskip("llvmlite")
from tlc.backends.llvm import aot  # noqa: E402

needs_cc = pytest.mark.skipif(shutil.which(os.environ.get("CC", "cc")) is None and shutil.which("gcc") is None
                              and shutil.which("clang") is None, reason="needs a C compiler as linker")
x86_64 = pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="x86-64 CPU names")

COMPILER = ("tlc", "llvmlite", "lark", "networkx")
OPTIONAL = ("scipy", "opt_einsum")

# Runs first in every child: any import of a blocked top-level package raises ImportError.
BLOCKER = textwrap.dedent("""
    import importlib.abc, sys
    BLOCKED = set(sys.argv[1].split(","))
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked in this test")
            return None
    sys.meta_path.insert(0, Block())
    del sys.argv[1]
""")

RUN_ARTEFACT = BLOCKER + textwrap.dedent("""
    import numpy as np
    from tlc_runtime.native import load_module
    source, library, data, out = sys.argv[1:5]
    namespace = load_module(source, library, threads=1)
    results = namespace["run"](dict(np.load(data)))
    np.savez(out, **{name: np.asarray(value) for name, value in results.items()})
    print(",".join(sorted({m.partition(".")[0] for m in sys.modules})))
""")

DENSE = """
H[b, i] = relu(W1[i, j] X[b, j] + B1[i])
G[b, k] = relu(W2[k, i] H[b, i] + B2[k])
Y[b] = sig(G[b, k] V[k])
"""

CLOSURE = """
Path(x, y) = Edge(x, y)
Path(x, z) = Path(x, y) Edge(y, z)
"""


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def _child(script: str, blocked, *args) -> subprocess.CompletedProcess:
    """Run ``script`` in a fresh interpreter (this one's) with ``blocked`` packages unimportable."""
    runtime_root = os.path.dirname(os.path.dirname(tlc_runtime.__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([runtime_root, os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-c", script, ",".join(blocked), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=300)


def _dense_inputs(rng):
    def nz(*shape):
        return rng.uniform(0.1, 1.0, shape) * rng.choice([-1.0, 1.0], shape)
    return {"W1": nz(128, 64), "X": nz(32, 64), "B1": nz(128), "W2": nz(48, 128), "B2": nz(48), "V": nz(48)}


def _run_artefact(tmp_path, program, inputs, blocked, cpu=None):
    """Write ``program``'s artefact for ``inputs``, run it in a child with ``blocked`` packages; returns the
    results, the emitted source and the top-level modules the child had loaded."""
    spec = program.specialisation(**inputs)
    base = tmp_path / "artefact"
    aot.write_module(spec.emitted, f"{base}.py", f"{base}.so", cpu=cpu)
    np.savez(tmp_path / "inputs.npz", **{k: np.asarray(v) for k, v in inputs.items()})
    child = _child(RUN_ARTEFACT, blocked, f"{base}.py", f"{base}.so", tmp_path / "inputs.npz", tmp_path / "out.npz")
    assert child.returncode == 0, child.stderr
    with np.load(tmp_path / "out.npz") as out:
        results = {k: out[k] for k in out.files}
    return results, spec.source, set(child.stdout.strip().split(","))


def test_importing_tlc_runtime_imports_neither_scipy_nor_opt_einsum():
    script = BLOCKER + textwrap.dedent("""
        import tlc_runtime, tlc_runtime.native, tlc_runtime.sparse, tlc_runtime.sliced, tlc_runtime.data
        print(",".join(sorted({m.partition(".")[0] for m in sys.modules})))
    """)
    child = _child(script, COMPILER + OPTIONAL)
    assert child.returncode == 0, child.stderr
    assert not set(child.stdout.strip().split(",")) & set(COMPILER + OPTIONAL)
    # Without the blocker too: nothing imports them behind a try/except.
    plain = subprocess.run([sys.executable, "-c", "import sys, tlc_runtime, tlc_runtime.native, tlc_runtime.sparse; "
                            "print(sorted(m for m in sys.modules if m.partition('.')[0] in ('scipy', 'opt_einsum')))"],
                           capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0 and plain.stdout.strip() == "[]", plain.stderr


@needs_cc
def test_dense_artefact_runs_with_numpy_and_tlc_runtime_alone(tmp_path, rng):
    inputs = _dense_inputs(rng)
    program = tlc.compile(DENSE, backend="llvm")
    results, source, loaded = _run_artefact(tmp_path, program, inputs, COMPILER + OPTIONAL)
    assert "rt.contract(" in source and "opt_einsum" not in source      # the dense layers go to BLAS
    assert not loaded & set(COMPILER + OPTIONAL)
    jit = program(**inputs)
    reference = tlc.compile(DENSE)(**inputs)
    assert set(results) == set(reference) == {"H", "G", "Y"}
    for name in results:
        np.testing.assert_allclose(results[name], jit[name], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(results[name], reference[name], rtol=1e-10, atol=1e-12)


def test_numpy_module_contracts_without_opt_einsum(tmp_path, rng):
    """The NumPy backend's module runs too, its three-factor product contracted by numpy.einsum."""
    src = "Z[a, d] = A[a, b] B[b, c] C[c, d]\n"
    inputs = {"A": rng.random((30, 40)), "B": rng.random((40, 5)), "C": rng.random((5, 50))}
    program = tlc.compile(src)
    source = program.source(**inputs)
    assert "rt.contract('ab,bc,cd->ad'" in source and "optimize=" in source
    (tmp_path / "module.py").write_text(source)
    np.savez(tmp_path / "inputs.npz", **inputs)
    script = BLOCKER + textwrap.dedent("""
        import numpy as np
        namespace = {}
        exec(open(sys.argv[1]).read(), namespace)
        np.save(sys.argv[3], namespace["run"](dict(np.load(sys.argv[2])))["Z"])
    """)
    child = _child(script, COMPILER + OPTIONAL, tmp_path / "module.py", tmp_path / "inputs.npz", tmp_path / "z.npy")
    assert child.returncode == 0, child.stderr
    np.testing.assert_allclose(np.load(tmp_path / "z.npy"), inputs["A"] @ inputs["B"] @ inputs["C"], rtol=1e-12)


@needs_cc
def test_sparse_relation_artefact_imports_scipy_where_it_needs_it(tmp_path, rng):
    n = 40
    edge = np.zeros((n, n), dtype=bool)
    edge[np.arange(n - 1), np.arange(1, n)] = True               # a chain with a few shortcuts
    edge[rng.integers(0, n, 10), rng.integers(0, n, 10)] = True
    program = tlc.compile(CLOSURE, backend="llvm", relations="sparse")
    results, source, loaded = _run_artefact(tmp_path, program, {"Edge": edge}, COMPILER + ("opt_einsum",))
    assert "import tlc_runtime.sparse as rs" in source and "'sparse'" in source
    assert "scipy" in loaded and not loaded & set(COMPILER + ("opt_einsum",))
    np.testing.assert_array_equal(results["Path"], np.asarray(tlc.compile(CLOSURE)(Edge=edge)["Path"]))
    np.testing.assert_array_equal(results["Path"], np.asarray(program(Edge=edge)["Path"]))


@needs_cc
def test_closure_artefact_runs_its_native_loop_from_the_library(tmp_path, rng):
    n = 300
    edge = np.zeros((n, n), dtype=bool)
    edge[rng.integers(0, n, 400), rng.integers(0, n, 400)] = True     # cycles and self-loops
    program = tlc.compile(CLOSURE, backend="llvm", relations="closure")
    results, source, loaded = _run_artefact(tmp_path, program, {"Edge": edge}, COMPILER + ("opt_einsum",))
    assert "native.ClosureSpec('tlc_closure_words_v8')" in source and "rs.closure(Edge, _closure)" in source
    assert not loaded & set(COMPILER + ("opt_einsum",))
    np.testing.assert_array_equal(results["Path"], np.asarray(tlc.compile(CLOSURE)(Edge=edge)["Path"]))


@needs_cc
def test_semiring_artefact_runs_its_native_kernels_from_the_library(tmp_path, rng):
    n = 200
    weights = np.where(rng.random((n, n)) < 0.03, rng.uniform(0.0, 9.0, (n, n)), np.inf)
    src = np.where(np.arange(n) < 3, 0.0, np.inf)
    program = tlc.compile("Dist[y] min= Src[y]\nDist[y] min= Dist[x] + W[x, y]", backend="llvm",
                          relations="semiring")
    results, source, loaded = _run_artefact(tmp_path, program, {"W": weights, "Src": src}, COMPILER + OPTIONAL)
    assert "semiring_native.SemiringSpec('tlc_semiring_min_add_v4', 'min', 'add')" in source
    assert not loaded & set(COMPILER + OPTIONAL)      # label setting natively: no scipy
    expected = tlc.compile(program.source_ir.source, relations="dense")(W=weights, Src=src)["Dist"]
    np.testing.assert_array_equal(results["Dist"], expected)


@needs_cc
def test_counting_artefact_runs_its_native_pass_from_the_library(tmp_path, rng):
    edges = np.triu(rng.random((150, 150)) < 0.04, 1) * rng.integers(1, 3, (150, 150)).astype(float)
    program = tlc.compile("N[x, z] = E[x, z]\nN[x, z] = N[x, y] E[y, z]", backend="llvm", relations="semiring")
    results, source, loaded = _run_artefact(tmp_path, program, {"E": edges}, COMPILER + OPTIONAL)
    assert "counting.CountingSpec('tlc_counting_v1')" in source
    assert not loaded & set(COMPILER + OPTIONAL)
    expected = tlc.compile(program.source_ir.source)(E=edges)["N"]
    assert results["N"].tobytes() == np.asarray(expected).tobytes()


def _disassembly(library, program, inputs, cpu) -> str:
    """The library's machine code as text: ``objdump -d`` when available, else LLVM's assembly."""
    if shutil.which("objdump"):
        return subprocess.run(["objdump", "-d", str(library)], capture_output=True, text=True, check=True).stdout
    return aot.artifact(program.specialisation(**inputs).emitted, "asm", cpu=cpu)


WIDE = re.compile(r"%?\b(zmm\d+|ymm\d+|k[1-7])\b")      # AVX/AVX2 (ymm) and AVX-512 (zmm, mask registers)


@x86_64
@needs_cc
def test_artefacts_default_to_portable_x86_64_v2(tmp_path, rng):
    inputs = _dense_inputs(rng)
    program = tlc.compile(DENSE + "E[b, i] = exp(H[b, i]) * H[b, i]\n", backend="llvm")
    emitted = program.specialisation(**inputs).emitted
    portable, v4 = tmp_path / "portable.so", tmp_path / "v4.so"
    aot.write_shared(emitted.kernels.values(), str(portable))
    aot.write_shared(emitted.kernels.values(), str(v4), cpu="x86-64-v4")
    assert not WIDE.findall(_disassembly(portable, program, inputs, None))       # SSE only: no AVX, no AVX-512
    assert WIDE.findall(_disassembly(v4, program, inputs, "x86-64-v4"))         # the control: wide code exists
    assert not WIDE.findall(aot.artifact(emitted, "asm"))
    assert re.search(r"\b(zmm\d+|k[1-7])\b", aot.artifact(emitted, "asm", cpu="x86-64-v4"))


@pytest.mark.slow
@x86_64
@needs_cc
def test_cli_cpu_option(tmp_path, rng):
    inputs = _dense_inputs(rng)
    (tmp_path / "dense.tl").write_text(DENSE)
    np.savez(tmp_path / "dense.npz", **inputs)

    def tlc_compile(*args):
        return subprocess.run([sys.executable, "-m", "tlc", "compile", str(tmp_path / "dense.tl"), "--data",
                               str(tmp_path / "dense.npz"), *args], capture_output=True, text=True, timeout=300)

    for cpu in ([], ["--cpu", "host"], ["--cpu", "x86-64"]):       # each runs here
        done = tlc_compile("--target", "llvm", "--emit", "shared", "-o", str(tmp_path / "out"), *cpu)
        assert done.returncode == 0, done.stderr
        results, _, _ = _run_artefact_files(tmp_path, inputs)
        np.testing.assert_allclose(results["Y"], tlc.compile(DENSE)(**inputs)["Y"], rtol=1e-10)
    asm = tlc_compile("--target", "llvm", "--emit", "asm", "--cpu", "x86-64-v2")
    assert asm.returncode == 0 and "ret" in asm.stdout and not WIDE.findall(asm.stdout)
    bad = tlc_compile("--target", "llvm", "--emit", "obj", "-o", str(tmp_path / "k.o"), "--cpu", "pentium9")
    assert bad.returncode == 1 and "unknown CPU 'pentium9'" in bad.stderr and "skylake" in bad.stderr
    assert "host" in bad.stderr and "Traceback" not in bad.stderr
    assert tlc_compile("--cpu", "host").returncode == 2            # --cpu is for native artefacts only


def _run_artefact_files(tmp_path, inputs):
    np.savez(tmp_path / "inputs.npz", **inputs)
    child = _child(RUN_ARTEFACT, COMPILER + OPTIONAL, tmp_path / "out.py", tmp_path / "out.so",
                   tmp_path / "inputs.npz", tmp_path / "results.npz")
    assert child.returncode == 0, child.stderr
    with np.load(tmp_path / "results.npz") as out:
        return {k: out[k] for k in out.files}, None, set(child.stdout.strip().split(","))


@x86_64
def test_unknown_cpu_names_are_refused_before_llvm_sees_them():
    from tlc.backends.llvm.target import cpu_names, resolve_cpu
    assert {"x86-64-v2", "skylake", "znver4"} <= set(cpu_names())
    assert resolve_cpu(None) == ("x86-64-v2", "") and resolve_cpu("skylake") == ("skylake", "")
    with pytest.raises(tlc.TlcError, match=r"unknown CPU 'bogus'.*'host'.*x86-64-v2.*znver4"):
        resolve_cpu("bogus")


def test_ahead_of_time_builds_and_the_jit_share_llvm_safely_across_threads():
    """LLVM's one global context is not thread-safe: objects built ahead of time in some threads while others
    JIT-compile new kernels all succeed, and every JIT-compiled program still computes the NumPy backend's result."""
    import concurrent.futures

    emitted = tlc.compile("Y[i] = relu(W[i, j] X[j] + B[i])", backend="llvm").specialisation(
        W=np.ones((3, 2)), X=np.ones(2), B=np.ones(3)).emitted

    def build(_):
        return len(aot.object_code(list(emitted.kernels.values())))

    def compile_and_run(k):
        source = f"Z[i] = exp(A[i, j] * {k + 2}) C[j] + A[i, {k % 3}]"
        rng = np.random.default_rng(k)
        a, c = rng.random((4, 3)), rng.random(3)
        got = np.asarray(tlc.compile(source, backend="llvm")(A=a, C=c)["Z"])
        np.testing.assert_allclose(got, np.asarray(tlc.compile(source)(A=a, C=c)["Z"]), rtol=1e-12)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        built = pool.map(build, range(6))
        ran = pool.map(compile_and_run, range(6))
        assert all(size > 0 for size in built)
        list(ran)


@needs_cc
def test_bitset_strata_artefact_runs_its_native_kernels_from_the_library(tmp_path, rng):
    mutual = "A(x, z) = E(x, z)\nA(x, z) = B(x, y) E(y, z)\nB(x, z) = A(x, y) F(y, z)"
    inputs = {"E": rng.random((90, 90)) < 0.03, "F": rng.random((90, 90)) < 0.03}
    program = tlc.compile(mutual, backend="llvm", relations="dense")
    results, source, loaded = _run_artefact(tmp_path, program, inputs, COMPILER + OPTIONAL)
    assert "bitset_native.BitsetSpec('tlc_bitsets_v4')" in source and "bs.advance(" in source
    assert not loaded & set(COMPILER + OPTIONAL)
    expected = tlc.compile(mutual, relations="dense")(**inputs)
    for name in ("A", "B"):
        np.testing.assert_array_equal(results[name], np.asarray(expected[name]))
