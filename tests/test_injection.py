"""User text reaches emitted code only through ``tlc.backends.shared.quoting``: hostile names, constants and file
names neither run code nor give one tensor another's value, on every backend.

Each template below exercises one family of places where emitted code interpolates text: inputs, scalars
and results (plain equations), ``avg=`` counts, ``min=`` fixpoints (``_new_``), semi-naive relations
(``_new_``/``_delta_``) in every planner strategy, relations read as numbers (``_num_``), a recurrence
along a virtual index (the step variable and ring-buffer slots), and the closure strategy's ``_plus_``.
Every template runs with hostile names and is compared with the same program under plain names.
"""

from __future__ import annotations

import ast
import builtins
import io
import itertools
import keyword
import os
import subprocess
import sys
import tokenize

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tlc
from tlc.backends.shared.quoting import MODULE_GLOBALS, RESERVED, comment, docstring, identifier, internal

HOSTILE_TENSORS = [
    "np", "np_", "rt", "rs", "th", "tl", "contract", "inputs", "run", "SYMBOLS", "KERNELS", "native", "bs",
    "bitset_native",
    "if", "if_", "def", "class", "match", "range", "range_", "print", "self", "file", "len", "float",
    "X'", "X_p", "X_p_", "X''", "X_p_p", "X__p", "_", "__", "___", "_x", "__x", "_X_", "t", "t_", "self_",
    "Path_num", "_num_Path", "new_R", "_new_R", "delta_R", "_delta_R", "M_count", "_count_M", "_t1", "_round",
    "_step", "_attention", "_plus_R", "R_plus", "_k1", "__import__", "__builtins__", "allow_pickle", "None",
    "True", "Exception", "object",
]
"""Tensor names a careless or hostile user may write (all valid Tensor Logic names)."""
HOSTILE_VARIABLES = ["i", "if", "t", "pid", "range", "i'", "i_p", "_", "acc", "lo_i", "t1", "om", "x_ptr", "dst"]
"""Index variable names (lowercase or ``_``): they become kernel locals on the triton backend."""

TEMPLATES = {
    "plain": ("{Y}[{i}] = relu({W}[{i}, {j}] {X}[{j}] + {B}[{i}]) * {S}\n{Z}[{i}] avg= {W}[{i}, {j}]\n",
              dict(W=(5, 4), X=(4,), B=(5,), S=())),
    "min_fixpoint": ("{D}[{i}, {j}] min= {E}[{i}, {j}]\n{D}[{i}, {k}] min= {D}[{i}, {j}] + {E}[{j}, {k}]\n",
                     dict(E=(6, 6))),
    "relations": ("{P}({i}, {j}) = {R}({i}, {j})\n{P}({i}, {k}) = {P}({i}, {j}) {R}({j}, {k})\n"
                  "{Q}[{i}] = {P}({i}, {j}) {V}[{j}]\n", dict(R=(7, 7), V=(7,))),
    "recurrence": ("{Y}[{i}, *{t} + 1] = tanh({W}[{i}, {j}] {Y}[{j}, *{t}] + {U}[{i}, {k}] {X}[{k}, {t}])\n",
                   dict(W=(4, 4), U=(4, 3), X=(3, 5))),
}
TENSOR_SLOTS = "YWXBZSDEPRQVU"
VARIABLE_SLOTS = "ijkt"


def render(template: str, tensors: dict, variables: dict) -> str:
    return template.format(**tensors, **variables)


def random_inputs(shapes: dict, relations: set, names: dict, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for slot, shape in shapes.items():
        if slot in relations:
            value = rng.random(shape) < 0.3
        elif shape == ():
            value = float(rng.uniform(0.5, 1.5))
        else:
            value = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
            if slot == "E":
                value = np.abs(value)       # shortest paths over positive weights
        out[names[slot]] = value
    return out


def hostile_assignments(count: int):
    """``count`` assignments of distinct hostile names to the template slots, cycling through the corpus."""
    pool = itertools.cycle(range(len(HOSTILE_TENSORS)))
    for n in range(count):
        start = next(pool)
        chosen = [HOSTILE_TENSORS[(start + 7 * s) % len(HOSTILE_TENSORS)] for s in range(len(TENSOR_SLOTS))]
        if len(set(chosen)) < len(chosen):
            chosen = list(dict.fromkeys(chosen + HOSTILE_TENSORS))[:len(TENSOR_SLOTS)]
        variables = [HOSTILE_VARIABLES[(n + 3 * s) % len(HOSTILE_VARIABLES)] for s in range(len(VARIABLE_SLOTS))]
        if len(set(variables)) < len(variables):
            variables = list(dict.fromkeys(variables + HOSTILE_VARIABLES))[:len(VARIABLE_SLOTS)]
        yield dict(zip(TENSOR_SLOTS, chosen)), dict(zip(VARIABLE_SLOTS, variables))


PLAIN = (dict(zip(TENSOR_SLOTS, [f"T{c}" for c in TENSOR_SLOTS])), dict(zip(VARIABLE_SLOTS, VARIABLE_SLOTS)))
CASES = [(name, n) for name in TEMPLATES for n in range(len(HOSTILE_TENSORS) // 3)]


@pytest.mark.parametrize("template,case", CASES, ids=[f"{t}-{n}" for t, n in CASES])
def test_hostile_names_keep_their_values(template, case, backend):
    text, shapes = TEMPLATES[template]
    tensors, variables = list(hostile_assignments(case + 1))[case]
    relations = {"R"} if template == "relations" else set()
    expected_prog = tlc.compile(render(text, *PLAIN))
    expected = expected_prog(**random_inputs(shapes, relations, PLAIN[0]))
    strategies = ("sparse", "dense", "closure") if template == "relations" else ("auto",)
    for strategy in strategies:
        prog = tlc.compile(render(text, tensors, variables), backend=backend, relations=strategy)
        got = prog(**random_inputs(shapes, relations, tensors))
        assert sorted(got) == sorted(tensors[k[1:]] for k in expected), prog.source()
        for plain_name, value in expected.items():
            hostile = tensors[plain_name[1:]]
            np.testing.assert_allclose(np.asarray(got[hostile], dtype=float), np.asarray(value, dtype=float),
                                       err_msg=f"{hostile} ({strategy})")
        assert_names_are_accounted_for(prog.source(), prog)


@pytest.mark.parametrize("name", ["sr", "counting", "semiring_native"])
def test_runtime_modules_are_not_shadowed_by_a_tensor(name, backend):
    """The semiring and counting runtimes' module names as the recursive tensor (``sr`` once shadowed ``sr``)."""
    rng = np.random.default_rng(4)
    w = np.where(rng.random((6, 6)) < 0.4, rng.uniform(0.5, 2.0, (6, 6)), np.inf)
    e = np.triu(rng.random((6, 6)) < 0.5, 1).astype(float)
    for text, data, plain in ((f"{name}[x, z] min= W[x, z]\n{name}[x, z] min= {name}[x, y] + W[y, z]", w, "W"),
                              (f"{name}[x, z] = W[x, z]\n{name}[x, z] = {name}[x, y] W[y, z]", e, "W")):
        expected = tlc.compile(text.replace(name, "T"))(W=data)["T"]
        prog = tlc.compile(text, backend=backend, relations="semiring")
        np.testing.assert_array_equal(np.asarray(prog(**{plain: data})[name]), expected)
        assert_names_are_accounted_for(prog.source(), prog)


def assert_names_are_accounted_for(source: str, prog) -> None:
    """Every name the emitted module uses is a user name's identifier, an internal name, a module global,
    a builtin or a kernel's own local, and every comment is one line of printable text."""
    users = {identifier(n) for n in [*prog.ir.tensors, *prog.ir.scalars]}
    tree = ast.parse(source)
    kernels = {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name != "run"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            name = node.id
            known = name in users or name in MODULE_GLOBALS or name in kernels or hasattr(builtins, name)
            assert known or name.startswith("_"), name
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            assert token.string.isprintable(), token.string


CANARY = "TLC_INJECTION_CANARY"
PAYLOADS = [
    'x\r    __import__("os").environ.__setitem__("{c}", "1")#',
    "x\rdef _f():#",
    'x\x0c__import__("os").environ.__setitem__("{c}", "1")',
    'x\x0b__import__("os").environ.__setitem__("{c}", "1")',
    'x\x1c\x1d\x1e\x85\u2028\u2029__import__("os").environ.__setitem__("{c}", "1")',
    "x''' + __import__('os').environ.__setitem__('{c}', '1') + '''",
    'x""" + __import__("os").environ.__setitem__("{c}", "1") + """',
    "x\\\\\\ \\n \\r",
    "x\x00y",
    'x # """ \\',
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_constants_never_run(payload, backend, monkeypatch):
    monkeypatch.delenv(CANARY, raising=False)
    text = payload.format(c=CANARY)
    quoted = f"'{text}'" if "'" not in text else f'"{text}"'
    src = f"R({quoted}, B)\nR(A, {quoted})\nQ(x) = R(x, y)\nQ(x)?\n"
    prog = tlc.compile(src, backend=backend)
    source = prog.source()
    results = prog()
    assert set(results["Q"]) == {(text,), ("A",)}
    assert prog.query("R(x, B)") == [(text,)]
    assert CANARY not in os.environ, source
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            assert token.string.isprintable(), token.string


@pytest.mark.slow
@pytest.mark.parametrize("payload", PAYLOADS[:7])
def test_hostile_file_names_never_run(payload, tmp_path):
    name = payload.format(c=CANARY).replace("\x00", "").replace("/", "") + ".tl"
    path = tmp_path / name
    path.write_text("Y[i] = relu(W[i, j] X[j])\n")
    data = tmp_path / "x.npz"
    np.savez(data, W=np.ones((2, 3)), X=np.ones(3))
    env = {k: v for k, v in os.environ.items() if k != CANARY}
    for command in (["check"], ["run", "--data", str(data)], ["compile", "--data", str(data)]):
        done = subprocess.run([sys.executable, "-m", "tlc", *command, str(path)], capture_output=True, text=True,
                              env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
    prog = tlc.compile(str(path))
    prog(W=np.ones((2, 3)), X=np.ones(3))
    ast.parse(prog.source())
    assert CANARY not in os.environ


# ------------------------------------------------------------------ the mangler itself
NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}'{0,3}", fullmatch=True)


@given(st.lists(NAMES, min_size=2, max_size=2, unique=True))
def test_identifier_is_injective(pair):
    a, b = pair
    assert identifier(a) != identifier(b)


@given(NAMES)
def test_identifier_never_meets_reserved_or_internal_names(name):
    ident = identifier(name)
    assert ident.isidentifier() and ident.isascii() and not keyword.iskeyword(ident)
    assert ident not in RESERVED
    assert not (ident.startswith("_") and ident[1:2].isalpha()), "the internal namespace is _ and a letter"
    for family in ("new", "delta", "num", "count", "plus", "step", "round", "t1"):
        assert ident != internal(family)


@given(st.text())
def test_comments_and_docstrings_stay_on_one_line(text):
    line = comment(text)
    assert line.startswith("# ") and line.isprintable()
    assert len(list(tokenize.generate_tokens(io.StringIO(line + "\n").readline))) == 3   # comment, NL, end
    literal = docstring(text)
    assert ast.literal_eval(literal) == text
