"""Bad source never crashes the compiler: ``tlc.compile`` (and running a program that needs no inputs)
raises ``tlc.TlcError`` or succeeds, never another exception, never a hang (DESIGN §4).

Inputs: arbitrary text (control characters included), arbitrary bytes decoded with replacement, a soup
of the language's own tokens, truncations and single-character mutations of valid programs, and
brackets/parentheses nested 10..5000 levels deep.

Known bugs are listed in ``KNOWN_BUGS``, each with a minimal reproducer that runs as a strict xfail
(``test_known_bug``). The fuzz tests discard (``reject()``) an input that fails with exactly a known
bug's exception type and message, so that they keep looking for new bugs; when a bug is fixed its
reproducer XPASSes, which fails the suite until its entry is deleted, and the filter goes with it.
Crashes found earlier and fixed since are kept as plain regression tests (``REGRESSIONS``).
"""

from __future__ import annotations

import re
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, reject, settings
from hypothesis import strategies as st

import tlc
from tlc.fuzz.oracle import time_limit

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SECONDS_PER_PROGRAM = 10

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.filter_too_much])


def compile_and_run(source: str, seconds: float = SECONDS_PER_PROGRAM) -> None:
    """Compile ``source``; if that works and it needs no inputs, run it and explain it.

    Only ``tlc.TlcError`` may escape from the compiler; anything else fails the test."""
    with time_limit(seconds):
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


@dataclass(frozen=True)
class KnownBug:
    """A crash found by these tests and not yet fixed: how to recognise it, and its smallest reproducer."""

    name: str
    exception: type
    message: str          # regular expression searched in str(exception)
    reproducer: str
    reason: str
    where: str = ""       # a file the traceback must pass through, such as "fold_constants.py"

    def matches(self, err: BaseException) -> bool:
        if not isinstance(err, self.exception) or re.search(self.message, str(err)) is None:
            return False
        return not self.where or any(self.where in frame.filename for frame in traceback.extract_tb(err.__traceback__))


KNOWN_BUGS: list[KnownBug] = []

# Crashes these tests found that are fixed now: each must keep compiling (and running) to a result or a TlcError.
REGRESSIONS = {
    "fold-constants-inf-minus-inf": "Y = 1e999 - 1e999",
    "fold-constants-recursion": "Y = " + "- " * 600 + "1",
    "virtual-axis-named-constant": "U[1] = 2\nH[*t+1] = H[Z] + U[t]",
    "division-by-literal-zero": "Y = 1/0",
    "zero-over-zero": "Y = 0/0",
    "folded-division-by-zero": "A[0]\nY = A[i] / (1 - 1)",
    "tensor-divided-by-zero": "A[3]\nY[i] = A[i] / 0",
    "step-of-nan": "Y = step(0/0)",
    "infinite-literal": "Y = 1e999 + 1",
    "negative-infinite-literal": "Y = -1e999",
    "function-of-inf": "Y = tanh(1e999) + abs(-1e999) + sin(1e999) + 2^1e999 + (-2)^1e999",
    "query-on-virtual-axis": "R(0)\nS(*x) = R(x)\nS(x)?",
    "query-on-virtual-tensor-axis": "A[0] = 1\nY[*i] = A[i]\nY[i]?",
    "query-after-virtual-read": "P(Alice, Bob)\nA(x, y) = P(x, y)\nA(x, z) = A(x, *y) P(y, z)\nA(Alice, x)?",
    "huge-extent": "A[99999999999]",
    "huge-relation-extent": "R(99999999999)",
    "huge-extent-dimension": "A[9999999999999999999999]",
    "huge-2d-extent": "A[3000000, 3000000]",
    "fixpoint-extent-mismatch": "E[2, 1] = 1\nD[0] = 0\nD[y] = D[x] E[x, y]",
    "fixpoint-extent-mismatch-min": "E[0, 1] = 2\nE[3, 2] = 3\nD[0] min= 0\nD[y] min= D[x] + E[x, y]",
    "look-ahead-recursion": "tensor X[3]\nX[t-1] = X[t]",
    "look-ahead-recursion-with-fact": "X[0] = 1\ntensor X[5]\nX[t-1] = 0.5 X[t] + 1",
    "emitter-recursion": "Y = " + "-~" * 199 + "1",
    "emitted-parentheses": "Y = " + "-" * 201 + "1",
    "fact-outside-declared-extent": "tensor T[2]\nT[5] = 1",
    "integer-on-undeclared-domain": "relation R(D)\nR(0)",
    "integers-and-names-on-one-axis": "E[0, 1] = 2\nE[1, O] = 3\nE[0, 2] = 7\nD[0] min= 0\nD[y] min= D[x] + E[x, y]",
    "repeated-index-variable": "A[1]\nB[i] = A[i+i]",
    "nul-in-path": "prog\x00.tl",
}


@pytest.mark.parametrize("source", REGRESSIONS.values(), ids=REGRESSIONS.keys())
def test_fixed_crash_stays_fixed(source):
    compile_and_run(source)


def test_scalar_division_by_zero_data():
    program = tlc.compile("Y = 5 / S")
    try:
        program(S=0.0)
    except tlc.TlcError:
        pass


def fuzz(source: str) -> None:
    """``compile_and_run`` for the fuzz tests: an input that hits a known bug is discarded, not failed."""
    try:
        compile_and_run(source)
    except Exception as err:   # noqa: BLE001 - only the exact known bugs are filtered, the rest re-raised
        if any(bug.matches(err) for bug in KNOWN_BUGS):
            reject()
        raise


@pytest.mark.parametrize("bug", [pytest.param(b, id=b.name, marks=pytest.mark.xfail(strict=True, reason=b.reason))
                                 for b in KNOWN_BUGS])
def test_known_bug(bug):
    compile_and_run(bug.reproducer)


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
    # stratified negation
    "Person(Ann)\nPerson(Bob)\nKnows(Ann, Bob)\nStranger(x, y) = Person(x) Person(y) ~Knows(x, y)\nStranger(Bob, x)?\n",
    # a program with inputs (compile only)
    "# perceptron\nY[i] = step(W[i, j] X[j] + B[i])  # comment\nZ = sqrt(Dk) Y[i]\n",
]
SEEDS += [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.tl"))]

SEED_INDEX = st.integers(min_value=0, max_value=len(SEEDS) - 1)
INTERESTING = "[](),.;?*+-/^=~'\"#\\:\n\r\t\x00\x0b\x0c 0129eE_ixtABRmax=avg"
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
    fuzz(text)


@FUZZ
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=300))
def test_arbitrary_ascii_with_control_characters(text):
    fuzz(text)


# ---------------------------------------------------------------------------------------------- (b) bytes
@FUZZ
@given(st.binary(max_size=300))
@example(b"\xff\xfe\x00Y = 1")
@example(b"Y = \xed\xa0\x80")
def test_arbitrary_bytes(data):
    fuzz(data.decode("utf-8", errors="replace"))


# ---------------------------------------------------------------------------------------------- token soup
TOKENS = ["Y", "Z", "A", "B", "R", "Bob", "'q n'", "i", "j", "t", "p'", "dx", "0", "1", "2", "0.5", "1e3",
          "[", "]", "(", ")", ",", ".", ";", "?", "*", "+", "-", "/", "^", "=", "+=", "max=", "min=", "avg=",
          "~", "not", "relu", "sig", "softmax", "lnorm", "concat", "exp", "const", "tensor", "relation", "domain", ":",
          "\n", " ", "#c\n", "\\\n"]


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=60))
def test_token_soup(tokens):
    fuzz(" ".join(tokens))


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=60))
def test_token_soup_unspaced(tokens):
    fuzz("".join(tokens))


# ---------------------------------------------------------------------------------------------- (c) mutations
@FUZZ
@given(SEED_INDEX, st.data())
def test_truncated_programs(k, data):
    source = SEEDS[k]
    cut = data.draw(st.integers(0, len(source)), label="cut")
    fuzz(source[:cut])
    fuzz(source[cut:])


@pytest.mark.slow
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
    fuzz(mutated)


@FUZZ
@given(SEED_INDEX, st.lists(st.tuples(st.integers(0, 10 ** 6), st.sampled_from(["delete", "insert", "replace"]),
                                      CHAR), min_size=2, max_size=5))
@pytest.mark.slow
def test_several_mutations(k, edits):
    source = SEEDS[k]
    for position, kind, char in edits:
        position %= len(source) + 1
        if kind == "delete":
            source = source[:position] + source[position + 1:]
        else:
            source = source[:position] + char + source[position + (kind == "replace"):]
    fuzz(source)


@pytest.mark.slow
@FUZZ
@given(SEED_INDEX, SEED_INDEX, st.data())
def test_spliced_programs(k1, k2, data):
    a, b = SEEDS[k1], SEEDS[k2]
    i = data.draw(st.integers(0, len(a)), label="i")
    j = data.draw(st.integers(0, len(b)), label="j")
    fuzz(a[:i] + b[j:])


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
    "nots": lambda n: "R(0)\nS(x) = " + "~" * n + "R(x)",
    "mixed-negations": lambda n: "Y = " + "-~" * n + "1",
    "powers": lambda n: "Y = " + "^".join(["2"] * n),
    "neg-parentheses": lambda n: "Y = " + "-(" * n + "1" + ")" * n,
    "relation-negation": lambda n: "R(0)\nS(x) = " + "1 - (" * n + "R(x)" + ")" * n,
}


# flat chains are not nesting, but a recursive tree walk sees them as deep
CHAINS = {
    "sum": lambda n: "Y = " + " + ".join(["1"] * n),
    "difference": lambda n: "Y = " + " - ".join(["1"] * n),
    "product": lambda n: "A[0] = 1\nY = " + " ".join(["A[i]"] * n),
    "quotient": lambda n: "A[0] = 1\nY = " + " / ".join(["A[i]"] * n),
    "index-sum": lambda n: "A[0] = 1\nY[i] = A[" + " + ".join(["i"] * n) + "]",
    "relation-join": lambda n: "R(0, 0)\nS(x0, x%d) = " % n + " ".join(f"R(x{k}, x{k + 1})" for k in range(n)),
}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.filter_too_much])
@pytest.mark.slow
@given(st.sampled_from(sorted(NESTINGS)), st.integers(10, 5000))
def test_deep_nesting(kind, depth):
    fuzz(NESTINGS[kind](depth))


@pytest.mark.parametrize("depth", [10, 199, 200, 201, 1000, 5000])
@pytest.mark.parametrize("kind", sorted(NESTINGS))
def test_deep_nesting_fixed_depths(kind, depth):
    compile_and_run(NESTINGS[kind](depth))


@pytest.mark.parametrize("length", [10, 200, 1000])
@pytest.mark.parametrize("kind", sorted(CHAINS))
def test_long_chains(kind, length):
    compile_and_run(CHAINS[kind](length))


def test_nested_too_deeply_is_located():
    with pytest.raises(tlc.TlcError) as info:
        tlc.compile("Z = 1\nY = " + "-" * 3000 + "1")
    assert info.value.line == 2


@pytest.mark.parametrize("source", ["Y = " + " + ".join(["1"] * 1000), "A[0] = 1\nY = " + " ".join(["A[i]"] * 1000)],
                         ids=["sum", "product"])
def test_long_flat_chains_compile(source):
    tlc.compile(source)


@pytest.mark.slow
def test_long_product_compiles_quickly():
    compile_and_run(CHAINS["product"](5000), seconds=10)


def _compile_seconds(source: str) -> float:
    start = time.process_time()
    with time_limit(60):
        tlc.compile(source)
    return time.process_time() - start


@pytest.mark.slow
def test_many_equations_compile_in_near_linear_time():
    """4x the equations may cost at most ~9x the time (it was quadratic: 16x, in strata.py)."""
    def program(n):
        return "\n".join(f"Y{k}[i] = A[i] + {k}" for k in range(n))
    _compile_seconds(program(50))      # warm the parser cache
    small = min(_compile_seconds(program(400) + f"\n# run {run}") for run in range(2))   # new texts: the front
    # end's kept program would make the second a lookup
    large = _compile_seconds(program(1600))
    assert large < 9 * small + 0.5, (small, large)
