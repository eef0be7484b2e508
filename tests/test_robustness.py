"""Bad source never crashes the compiler: ``tlc.compile`` (and running a program that needs no inputs)
raises ``tlc.TlcError`` or succeeds, never another exception, never a hang (DESIGN §4).

Inputs: arbitrary text (control characters included), arbitrary bytes decoded with replacement, a soup
of the language's own tokens, truncations and single-character mutations of valid programs, and
brackets/parentheses nested 10..5000 levels deep.
"""

from __future__ import annotations

import signal
import string
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import tlc

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SECONDS_PER_PROGRAM = 10

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Hang(Exception):
    """A program took longer than ``SECONDS_PER_PROGRAM`` to compile and run."""


@contextmanager
def time_limit(seconds: int):
    """Raise ``Hang`` if the body runs longer than ``seconds`` (POSIX main thread only)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def _alarm(signum, frame):
        raise Hang(f"no result after {seconds} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def compile_and_run(source: str) -> None:
    """Compile ``source``; if that works and it needs no inputs, run it and explain it.

    Only ``tlc.TlcError`` may escape from the compiler; anything else fails the test."""
    with time_limit(SECONDS_PER_PROGRAM):
        try:
            program = tlc.compile(source)
        except tlc.TlcError as err:
            str(err)        # rendering the message must not fail either
            return
        if program.input_names():
            return
        try:
            program()
            program.explain()
        except tlc.TlcError as err:
            str(err)


# ---------------------------------------------------------------------------------------------- seeds
SEEDS = [
    # Datalog: facts, recursive rule, query
    "Parent(Alice, Bob)\nParent(Bob, Carol)\nAncestor(x, y) = Parent(x, y)\n"
    "Ancestor(x, z) = Ancestor(x, y) Parent(y, z)\nAncestor(Alice, x)?\n",
    # numeric facts, projection, elementwise functions, powers
    "A[0] = 1\nA[1] = 2\nA[2] = 3\nY = A[i] A[i]\nZ[i] = relu(A[i] - 2) / 2 + A[i]^2 - -1\n",
    # recurrence along a shifted index, declared extent
    "X[0] = 1\ntensor X[5]\nX[t+1] = 0.5 X[t] + 1\n",
    # shortest paths with min=
    "E[0, 1] = 2\nE[1, 2] = 3\nE[0, 2] = 7\nD[0] min= 0\nD[y] min= D[x] + E[x, y]\n",
    # declarations, domain, quoted names, sig with temperature, query
    "domain P: Ann, Bob\nrelation Knows(P, P)\nKnows(Ann, Bob)\nKnows('Cy', Bob)\n"
    "Friend(x, y) = Knows(x, y) + Knows(y, x)\nconst N = 2\ntensor W[N, N]\nW[0, 1] = 1\n"
    "Y[i] = W[i, j] sig(W[j, i], 1)\nFriend(Bob, x)?\n",
    # virtual index
    "H[0] = 1\nU[0] = 1\nU[1] = 2\nU[2] = 3\nH[*t+1] = tanh(0.5 H[*t] + U[t])\n",
    # softmax, lnorm, concat
    "Q[0, 0] = 1\nQ[0, 1] = 2\nQ[1, 0] = 3\nQ[1, 1] = 4\nS[p, p'.] = softmax(Q[p, d] Q[p', d] / 2)\n"
    "O[p, d] = S[p, p'] Q[p', d]\nL[p, d] = lnorm(O[p, d])\nM[dm] = concat(Q[h, d])\n",
    # pooling and convolution
    "I[0] = 1; I[1] = 2; I[2] = 3; I[3] = 4\nF[0] = 1; F[1] = -1\nC[x] = I[x+dx] F[dx]\n"
    "P[x/2] max= I[x]\nA[(x+1)/2] avg= I[x]\n",
    # a program with inputs (compile only)
    "# perceptron\nY[i] = step(W[i, j] X[j] + B[i])  # comment\nZ = sqrt(Dk) Y[i]\n",
]
SEEDS += [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.tl"))]

SEED_INDEX = st.integers(min_value=0, max_value=len(SEEDS) - 1)
INTERESTING = "[](),.;?*+-/^='\"#\\:\n\r\t\x00\x0b\x0c 0129eE_ixtABRmax=avg"
CHAR = st.one_of(st.sampled_from(INTERESTING), st.characters())


def test_seeds_are_valid_programs():
    for source in SEEDS:
        program = tlc.compile(source)
        if not program.input_names():
            program()


# ---------------------------------------------------------------------------------------------- (a) text
@FUZZ
@given(st.text(max_size=300))
@example("")
@example("\x00")
@example("\r\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
@example("Y = 1\x00")
@example("Y[i] = A[i]\u00a0+ B[i]")
@example("Ÿ[i] = A[i]")
def test_arbitrary_text(text):
    compile_and_run(text)


@FUZZ
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=300))
def test_arbitrary_ascii_with_control_characters(text):
    compile_and_run(text)


# ---------------------------------------------------------------------------------------------- (b) bytes
@FUZZ
@given(st.binary(max_size=300))
@example(b"\xff\xfe\x00Y = 1")
@example(b"Y = \xed\xa0\x80")
def test_arbitrary_bytes(data):
    compile_and_run(data.decode("utf-8", errors="replace"))


# ---------------------------------------------------------------------------------------------- token soup
TOKENS = ["Y", "Z", "A", "B", "R", "Bob", "'q n'", "i", "j", "t", "p'", "dx", "0", "1", "2", "0.5", "1e3",
          "[", "]", "(", ")", ",", ".", ";", "?", "*", "+", "-", "/", "^", "=", "+=", "max=", "min=", "avg=",
          "relu", "sig", "softmax", "lnorm", "concat", "exp", "const", "tensor", "relation", "domain", ":",
          "\n", " ", "#c\n", "\\\n"]


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=60))
def test_token_soup(tokens):
    compile_and_run(" ".join(tokens))


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=60))
def test_token_soup_unspaced(tokens):
    compile_and_run("".join(tokens))


# ---------------------------------------------------------------------------------------------- (c) mutations
@FUZZ
@given(SEED_INDEX, st.data())
def test_truncated_programs(k, data):
    source = SEEDS[k]
    cut = data.draw(st.integers(0, len(source)), label="cut")
    compile_and_run(source[:cut])
    compile_and_run(source[cut:])


@FUZZ
@given(SEED_INDEX, st.data())
def test_single_character_mutations(k, data):
    source = SEEDS[k]
    position = data.draw(st.integers(0, len(source)), label="position")
    kind = data.draw(st.sampled_from(["delete", "insert", "replace"]), label="kind")
    if kind == "delete":
        mutated = source[:position] + source[position + 1:]
    else:
        char = data.draw(CHAR, label="char")
        skip = 1 if kind == "replace" else 0
        mutated = source[:position] + char + source[position + skip:]
    compile_and_run(mutated)


@FUZZ
@given(SEED_INDEX, st.lists(st.tuples(st.integers(0, 10 ** 6), st.sampled_from(["delete", "insert", "replace"]),
                                      CHAR), min_size=2, max_size=5))
def test_several_mutations(k, edits):
    source = SEEDS[k]
    for position, kind, char in edits:
        position %= len(source) + 1
        if kind == "delete":
            source = source[:position] + source[position + 1:]
        else:
            source = source[:position] + char + source[position + (kind == "replace"):]
    compile_and_run(source)


@FUZZ
@given(SEED_INDEX, SEED_INDEX, st.data())
def test_spliced_programs(k1, k2, data):
    a, b = SEEDS[k1], SEEDS[k2]
    i = data.draw(st.integers(0, len(a)), label="i")
    j = data.draw(st.integers(0, len(b)), label="j")
    compile_and_run(a[:i] + b[j:])


# ---------------------------------------------------------------------------------------------- (d) nesting
NESTINGS = {
    "parentheses": lambda n: "Y = " + "(" * n + "1" + ")" * n,
    "brackets": lambda n: "Y = A[" + "B[" * n + "i" + "]" * n + "]",
    "index-parentheses": lambda n: "A[0] = 1\nY[i] = A[" + "(" * n + "i" + ")" * n + "]",
    "calls": lambda n: "Y = " + "relu(" * n + "1" + ")" * n,
    "mixed": lambda n: "Y = " + "(A[" * n + "i" + "])" * n,
    "unclosed": lambda n: "Y = " + "(" * n,
    "unopened": lambda n: "Y = 1" + ")" * n,
    "unclosed-brackets": lambda n: "Y = A" + "[" * n,
    "negations": lambda n: "Y = " + "-" * n + "1",
    "spaced-negations": lambda n: "Y = " + "- " * n + "1",
    "powers": lambda n: "Y = " + "^".join(["2"] * n),
    "sum": lambda n: "Y = " + " + ".join(["1"] * n),
    "product": lambda n: "A[0] = 1\nY = " + " ".join(["A[i]"] * n),
    "neg-parentheses": lambda n: "Y = " + "-(" * n + "1" + ")" * n,
    "relation-negation": lambda n: "R(0)\nS(x) = " + "1 - (" * n + "R(x)" + ")" * n,
    "lines": lambda n: "\n".join(f"Y{k}[i] = A[i] + {k}" for k in range(n)),
    "index-sum": lambda n: "A[0] = 1\nY[i] = A[" + " + ".join(["i"] * n) + "]",
}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(NESTINGS)), st.integers(10, 5000))
def test_deep_nesting(kind, depth):
    compile_and_run(NESTINGS[kind](depth))


@pytest.mark.parametrize("depth", [10, 100, 199, 200, 201, 1000, 5000])
@pytest.mark.parametrize("kind", sorted(NESTINGS))
def test_deep_nesting_fixed_depths(kind, depth):
    compile_and_run(NESTINGS[kind](depth))
