"""Source mutation: mangle valid program text and check that tlc answers with a result or a ``TlcError``.

Seeds are generated programs (with inputs from ``inputs_for``) and the examples (``examples/*.tl`` with their
``examples/data/*.npz``). ``mutate_source`` applies one to three text mutations (``MUTATORS``: byte flips,
insertions, deletions, truncation, duplicated lines, line-break and control characters, unicode confusables,
very long names, huge numbers, deep nesting, long ``+`` chains, quotes and backslashes in quoted constants,
splices from another seed). ``check_source`` compiles the text and, when it compiles and every input it needs is
one the seed had, runs it: anything but a result or a ``TlcError`` (whose message must also format) is a
``crash``, more than ``timeout`` seconds a ``hang`` (a ``MemoryError`` while running is not: it comes from the
workers' address-space limit, which is below what tlc's budgets allow).

``source_campaign`` (``tlc fuzz --mutate-source``) runs cases ``0..count-1``; case ``k`` is fully determined by
the campaign seed and ``k``, so a failure replays from its seed and number. It runs on ``jobs`` worker processes
(each under an address-space limit, so a runaway allocation is a ``MemoryError`` and not a swapping machine),
with ``signal``-based time limits inside the workers and a watchdog in the parent that kills a worker stuck in C
code. Each distinct failure (exception type and innermost tlc frame) is minimised by deleting lines and
characters while it keeps failing the same way, and written as ``NAME.tl`` (the exact text), ``NAME.npz``
(inputs, if it ran), ``NAME.txt`` (mutations and traceback) and ``test_NAME.py``.
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tlc import api
from tlc.errors import TlcError
from tlc.fuzz.oracle import Hang, time_limit

TIMEOUT = 10.0
"""Seconds a case may take before it counts as a hang."""
MEMORY = 3 << 30
"""Address-space limit of a worker process, in bytes."""
CHUNK = 50
"""Cases per task handed to a worker."""

CONTROL = ("\r", "\n", "\r\n", "\n\r", "\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\u2028", "\u2029", "\x00", "\x85",
           "\t", "\ufeff", "\x1a", "\x7f", "\\\n", "\\\r\n", "\\")
CONFUSABLES = {
    "a": "\u0430", "e": "\u0435", "o": "\u043e", "i": "\u0456", "p": "\u0440", "x": "\u0445", "c": "\u0441",
    "X": "\u0425", "T": "\u0422", "E": "\u0415", "R": "\u0420", "A": "\u0391", "B": "\u0392", "K": "\u039a",
    "-": "\u2212", "=": "\uff1d", "[": "\uff3b", "]": "\uff3d", "(": "\uff08", ")": "\uff09", ",": "\uff0c",
    " ": "\u00a0", "'": "\u2032", "+": "\uff0b", "*": "\u2217", "/": "\u2215", "^": "\u02c6", "0": "\uff10",
    "1": "\uff11", "2": "\u00b2", ".": "\u2024", "_": "\uff3f", ";": "\u037e", "?": "\uff1f", "~": "\u223c",
}
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\u202e")
NUMBERS = ("1e400", "1e-400", "1" + "0" * 400, "9" * 5000, "0." + "0" * 400 + "1", "1e99999999999", "4294967296",
           "9223372036854775808", "18446744073709551616", "2147483648", "1e308", "0e0", "00000", "1.", ".5e-3",
           "123456789012345678901234567890", "1e", "1e+", "0x10", "1_000", "nan", "inf", "-0")
QUOTED = ("'a\\'", "\"a'b\"", "'\\n'", "\"\\\\\"", "'\\x00'", "'\"'", "'abc", "\"abc", "''", "\"\"", "'a\\\\b'",
          "'{x}'", "'%s'", "'\\u2028'", "'a\tb'", "' '", "'{}'", "'\\'", "\"\\\"", "'''", "'#'", "'; X[i] = 1'",
          "'a\u2028b'", "'caf\u00e9'", "'\u00a0'")
TOKENS = ("X", "Y", "R", "i", "j", "k", "t", "[", "]", "(", ")", ",", "=", "+=", "max=", "min=", "avg=", "+", "-",
          "*", "/", "^", "~", ".", "?", ";", "\n", " ", "0", "1", "2.5", "1e3", "'a b'", '"q"', "Bob", "exp", "sig",
          "softmax", "lnorm", "concat", "const", "tensor", "relation", "domain", ":", "#", "\\\n", "*t", "p'",
          "factorise", "min(", "max(", "sig(", "X[i]", "R(x, y)", "= ", ".]", "*]", "[]", "()", "'", '"')
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*'*")
NUMBER_RE = re.compile(r"\d+(\.\d+)?([eE][+-]?\d+)?")


# ------------------------------------------------------------------------------------------ mutators
def _spot(text: str, rng: random.Random) -> int:
    return rng.randint(0, len(text))


def byte_flip(text: str, rng: random.Random) -> str:
    """Flip one bit of one character (code points stay below 512)."""
    if not text:
        return chr(rng.randrange(256))
    k = rng.randrange(len(text))
    c = ord(text[k])
    return text[:k] + chr((c ^ (1 << rng.randrange(8))) % 0x110000) + text[k + 1:] if c < 0xD800 else text


def insert(text: str, rng: random.Random) -> str:
    """Insert a token or a printable character."""
    k = _spot(text, rng)
    piece = rng.choice(TOKENS) if rng.random() < 0.7 else chr(rng.randrange(32, 127))
    return text[:k] + piece + text[k:]


def delete(text: str, rng: random.Random) -> str:
    """Delete up to 8 characters."""
    a = _spot(text, rng)
    return text[:a] + text[min(len(text), a + rng.randint(1, 8)):]


def truncate(text: str, rng: random.Random) -> str:
    """Cut the text anywhere."""
    return text[:_spot(text, rng)]


def duplicate_line(text: str, rng: random.Random) -> str:
    """Repeat a line (sometimes many times)."""
    lines = text.splitlines(keepends=True) or [text]
    k = rng.randrange(len(lines))
    times = rng.choice((1, 1, 2, 50))
    return "".join(lines[:k + 1] + [lines[k]] * times + lines[k + 1:])


def control(text: str, rng: random.Random) -> str:
    """Insert a line break or control character, or turn every newline into one."""
    piece = rng.choice(CONTROL)
    if rng.random() < 0.2:
        return text.replace("\n", piece)
    k = _spot(text, rng)
    return text[:k] + piece + text[k:]


def confusable(text: str, rng: random.Random) -> str:
    """Replace characters by unicode lookalikes, or insert a zero-width one."""
    spots = [k for k, c in enumerate(text) if c in CONFUSABLES]
    if not spots or rng.random() < 0.2:
        k = _spot(text, rng)
        return text[:k] + rng.choice(ZERO_WIDTH) + text[k:]
    for k in rng.sample(spots, min(len(spots), rng.choice((1, 1, 3)))):
        text = text[:k] + CONFUSABLES[text[k]] + text[k + 1:]
    return text


def long_name(text: str, rng: random.Random) -> str:
    """Make a name very long (every occurrence, or just one)."""
    names = list(dict.fromkeys(m.group() for m in NAME_RE.finditer(text)))
    length = rng.choice((300, 5000, 100_000))
    if not names:
        return text + "X" * length + "[i] = 1\n"
    name = rng.choice(names)
    longer = name + rng.choice("xX_1") * length
    if rng.random() < 0.5:
        return re.sub(rf"(?<![\w']){re.escape(name)}(?![\w'])", lambda m: longer, text)
    k = text.index(name)
    return text[:k] + longer + text[k + len(name):]


def huge_number(text: str, rng: random.Random) -> str:
    """Replace a number by a huge, tiny or malformed one, or add one as an index, extent or term."""
    number = rng.choice(NUMBERS)
    found = list(NUMBER_RE.finditer(text))
    if found and rng.random() < 0.6:
        m = rng.choice(found)
        return text[:m.start()] + number + text[m.end():]
    extra = rng.choice((f"tensor X[{number}]\n", f"const K = {number}\n", f"Y = {number}\n", f"Y[i] = X[i + {number}]\n",
                        f"Y[i/{number}] = X[i]\n", f"Y[{number}] = 1\n", f"R({number}, 1)\n", f"Y = 2^{number}\n"))
    lines = text.splitlines(keepends=True)
    k = rng.randint(0, len(lines))
    return "".join(lines[:k]) + extra + "".join(lines[k:])


def deep_nesting(text: str, rng: random.Random) -> str:
    """Nest an expression 10^2..10^4 deep: parentheses, unary minus, ``~``, function calls, ``^`` chains."""
    depth = rng.choice((100, 1000) * 3 + (10_000,))
    kind = rng.choice(("paren", "neg", "not", "call", "pow", "index"))
    if kind == "index":
        inner = "(" * depth + "i" + ")" * depth
        return text + f"Y[{inner}] = X[i]\n"
    inner = {"paren": "(" * depth + "{}" + ")" * depth, "neg": "-" * depth + "{}", "not": "~" * depth + "{}",
             "call": "exp(" * depth + "{}" + ")" * depth, "pow": "2^" * depth + "{}"}[kind]
    lines = text.splitlines(keepends=True)
    rules = [k for k, line in enumerate(lines) if "=" in line and not line.lstrip().startswith(("#", "const"))]
    if not rules:
        return text + "Y = " + inner.format("1") + "\n"
    k = rng.choice(rules)
    lhs, _, rhs = lines[k].partition("= ")
    end = "\n" if rhs.endswith("\n") else ""
    lines[k] = lhs + "= " + inner.format(f"({rhs.rstrip()})" if rhs.strip() else "1") + end
    return "".join(lines)


def long_chain(text: str, rng: random.Random) -> str:
    """A chain of thousands of ``+`` (or juxtaposed, ``*``, ``/``) terms."""
    n = rng.choice((100, 1000) * 15 + (10_000,))     # 10^4 terms can take seconds: rare, or they dominate
    op = rng.choice((" + ", " ", " * ", " / ", " - ", " max= "))
    refs = re.findall(r"(?<![\w'])[A-Za-z_]\w*'*\[[^\[\]\n]*\]", text) or ["X[i]"]   # names from their start:
    # without the look-behind every position inside a 10^5-character name began a scan to its end (quadratic)
    term = rng.choice(refs)
    lines = text.splitlines(keepends=True)
    rules = [k for k, line in enumerate(lines) if "= " in line]
    if not rules or rng.random() < 0.3:
        return text + "Y[i] = " + op.join([term] * n) + "\n"
    k = rng.choice(rules)
    line = lines[k].rstrip("\n")
    lines[k] = line + op.strip().join([""] * 2) + op.join([term] * n) + "\n" if op.strip() != "max=" else \
        line + " + " + " + ".join([term] * n) + "\n"
    return "".join(lines)


def quoted(text: str, rng: random.Random) -> str:
    """Quotes and backslashes in quoted constants: in a fact, a query, or replacing a named constant."""
    constant = rng.choice(QUOTED)
    names = [m for m in re.finditer(r"(?<=[(,] )'[^'\n]*'|(?<=\()'[^'\n]*'|\b[A-Z][a-z]+\b", text)]
    if names and rng.random() < 0.5:
        m = rng.choice(names)
        return text[:m.start()] + constant + text[m.end():]
    extra = rng.choice((f"R({constant}, Bob)\n", f"R(x, {constant})?\n", f"R({constant}, {constant})\n",
                        f"domain D: {constant}, Bob\n", f"X[{constant}] = 1\n"))
    return text + ("" if text.endswith("\n") or not text else "\n") + extra


def splice(text: str, rng: random.Random, other: str = "") -> str:
    """Insert a piece of another seed."""
    if not other:
        return duplicate_line(text, rng)
    a = rng.randrange(len(other) + 1)
    piece = other[a:a + rng.randint(1, 80)]
    k = _spot(text, rng)
    return text[:k] + piece + text[k:]


MUTATORS: dict[str, Callable[[str, random.Random], str]] = {
    "byte-flip": byte_flip, "insert": insert, "delete": delete, "truncate": truncate,
    "duplicate-line": duplicate_line, "control": control, "confusable": confusable, "long-name": long_name,
    "huge-number": huge_number, "deep-nesting": deep_nesting, "long-chain": long_chain, "quoted": quoted,
    "splice": splice,
}
WEIGHTS = {"byte-flip": 4, "insert": 4, "delete": 3, "truncate": 2, "duplicate-line": 2, "control": 3,
           "confusable": 2, "long-name": 1, "huge-number": 3, "deep-nesting": 0.4, "long-chain": 0.2, "quoted": 3,
           "splice": 2}


def mutate_source(text: str, rng: random.Random, others: tuple[str, ...] = (), steps: int | None = None
                  ) -> tuple[str, tuple[str, ...]]:
    """``text`` after ``steps`` (default 1-3) random mutations, and their names; ``others`` feed ``splice``."""
    kinds = list(WEIGHTS)
    applied = []
    for _ in range(steps if steps is not None else rng.choice((1, 1, 2, 3))):
        kind = rng.choices(kinds, weights=[WEIGHTS[k] for k in kinds])[0]
        if kind == "splice":
            text = splice(text, rng, rng.choice(others) if others else "")
        else:
            text = MUTATORS[kind](text, rng)
        applied.append(kind)
    return text, tuple(applied)


# ------------------------------------------------------------------------------------------ the oracle
@dataclass(frozen=True)
class SourceFailure:
    """A mutated source on which tlc raised something other than ``TlcError``, or hung."""

    kind: str
    """``crash`` or ``hang``."""
    error: str
    """Exception type and message (first 300 characters)."""
    where: str
    """The innermost frame inside tlc (``tlc/frontend/parser.py:42``), or ``?``."""
    trace: str = ""
    stage: str = ""
    """``compile``, ``run`` or ``format`` (formatting the ``TlcError`` message)."""

    def signature(self) -> str:
        """Groups failures with one cause: kind, exception type and innermost tlc frame."""
        return f"{self.kind}: {self.error.split(':')[0]} at {self.where} ({self.stage})"


def _where(err: BaseException) -> str:
    """The innermost frame of ``err``'s traceback in tlc or tlc_runtime (not tlc.fuzz), ``<tlc:source>`` when it
    was raised by emitted code, else the innermost frame."""
    import tlc_runtime

    from tlc import errors      # a module of the tlc package: its directory is the package's

    roots = tuple(os.path.dirname(os.path.abspath(m.__file__)) + os.sep for m in (errors, tlc_runtime))
    fuzz = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frames = traceback.extract_tb(err.__traceback__)
    if frames and frames[-1].filename.startswith("<tlc"):
        return frames[-1].filename          # the emitted code itself (its line numbers differ per program)
    inside = [f for f in frames if os.path.abspath(f.filename).startswith(roots)
              and not os.path.abspath(f.filename).startswith(fuzz)]
    frame = (inside or frames or [None])[-1]
    if frame is None:
        return "?"
    path = os.path.abspath(frame.filename)
    for root in roots:
        if path.startswith(root):
            path = os.path.join(os.path.basename(root.rstrip(os.sep)), path[len(root):])
    return f"{path}:{frame.lineno}"


def _cause(err: BaseException, kind: type) -> BaseException | None:
    """``err`` or the first exception of type ``kind`` it wraps (``orig_exc``, cause or context)."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, kind):
            return err
        seen.add(id(err))
        err = getattr(err, "orig_exc", None) or err.__cause__ or err.__context__
    return None


def check_source(text: str, inputs: Mapping | None = None, timeout: float | None = TIMEOUT, backend: str = "numpy",
                 opt_level: int = 2) -> SourceFailure | None:
    """Compile ``text`` (and run it when ``inputs`` has everything it needs); a ``SourceFailure`` if tlc raised
    anything but a ``TlcError`` or took longer than ``timeout`` seconds, else None."""
    stage = "compile"
    expiry = None
    try:
        with time_limit(timeout) as expiry:
            try:
                program = api.Program(api.frontend(text), backend, opt_level)
                if inputs is not None:
                    needed = program.input_names()
                    if all(n in inputs for n in needed):
                        stage = "run"
                        program(**{n: inputs[n] for n in needed})
            except TlcError as err:
                stage = "format"
                str(err)
                (err.line, err.column)
    except Hang as err:
        return SourceFailure("hang", f"Hang: {err}", "?", "", stage)
    except BaseException as err:  # noqa: BLE001 - anything but a TlcError is the finding
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        hang = _cause(err, Hang)
        if hang is not None:        # the alarm fired inside code that wrapped it (Lark's VisitError)
            return SourceFailure("hang", f"Hang: {hang}", "?", "", stage)
        if expiry is not None and expiry.reason:    # the alarm surfaced as another error (deep in a recursion)
            return SourceFailure("hang", f"Hang: {expiry.reason}", "?", "", stage)
        if isinstance(err, MemoryError) and stage == "run":
            return None     # the worker's own address-space limit (MEMORY), below tlc's dense budget: not a bug
        message = f"{type(err).__name__}: {str(err)[:300]}"
        return SourceFailure("crash", message, _where(err), traceback.format_exc()[-4000:], stage)
    return None


def minimise(text: str, same: Callable[[str], bool], seconds: float = 20.0) -> str:
    """A shorter ``text`` for which ``same`` still holds: delete lines, then chunks of characters (ddmin-like)."""
    deadline = time.perf_counter() + seconds
    lines = text.splitlines(keepends=True)
    k = 0
    while k < len(lines) and time.perf_counter() < deadline:
        trial = "".join(lines[:k] + lines[k + 1:])
        if same(trial):
            lines = lines[:k] + lines[k + 1:]
        else:
            k += 1
    text = "".join(lines)
    size = max(1, len(text) // 2)
    while size >= 1 and time.perf_counter() < deadline:
        k, changed = 0, False
        while k < len(text) and time.perf_counter() < deadline:
            trial = text[:k] + text[k + size:]
            if same(trial):
                text, changed = trial, True
            else:
                k += size
        if not changed:
            size //= 2
    return text


# ------------------------------------------------------------------------------------------ seeds and cases
@dataclass(frozen=True)
class Seed:
    """A valid program text and inputs for it (None when it needs none we can make)."""

    name: str
    source: str
    inputs: Mapping | None = None


def example_seeds(root: Path | None = None) -> list[Seed]:
    """``examples/*.tl`` with ``examples/data/NAME.npz`` when it exists: of the source checkout tlc runs from,
    else of the current directory (none when neither has them)."""
    if root is None:
        checkout = Path(__file__).resolve().parents[2] / "examples"
        root = checkout if checkout.is_dir() else Path.cwd() / "examples"
    seeds = []
    for path in sorted(root.glob("*.tl")):
        data = root / "data" / f"{path.stem}.npz"
        inputs = None
        if data.exists():
            with np.load(data, allow_pickle=False) as archive:
                inputs = {k: archive[k] for k in archive.files}
        seeds.append(Seed(f"examples/{path.name}", path.read_text(encoding="utf-8"), inputs))
    return seeds


def generated_seeds(seed: int, count: int = 200, **program_options) -> list[Seed]:
    """``count`` generated programs with inputs (``tlc.fuzz.cases``), reproducibly from ``seed``."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    from tlc.fuzz.generate import cases

    found: list[Seed] = []

    @hypothesis_seed(seed)
    @settings(max_examples=count, database=None, deadline=None, phases=(Phase.generate,),
              suppress_health_check=list(HealthCheck))
    @given(cases(**program_options))
    def collect(case):
        program, inputs = case
        if program.error is None and len(found) < count:
            found.append(Seed(f"generated #{len(found)}", program.source, inputs))

    collect()
    return found


def case_source(seeds: list[Seed], seed: int, k: int) -> tuple[Seed, str, tuple[str, ...]]:
    """Case ``k`` of the campaign with ``seed``: its seed program, mutated text and mutations."""
    rng = random.Random(f"{seed}:{k}")
    base = seeds[rng.randrange(len(seeds))]
    others = tuple(rng.choice(seeds).source for _ in range(2))
    text, applied = mutate_source(base.source, rng, others)
    return base, text, applied


# ------------------------------------------------------------------------------------------ the campaign
@dataclass
class SourceFound:
    """One distinct failure: the first case that showed it, minimised."""

    signature: str
    case: int
    failure: SourceFailure
    source: str
    original: str
    mutations: tuple[str, ...]
    seed_name: str
    inputs: Mapping | None
    count: int = 1
    files: list[Path] = field(default_factory=list)


@dataclass
class SourceSummary:
    """What a source-mutation campaign did."""

    seed: int
    cases: int = 0
    seconds: float = 0.0
    seeds: int = 0
    seed_seconds: float = 0.0
    """Time spent generating the seed programs (not in ``seconds``)."""
    cpu_seconds: float = 0.0
    """CPU time of the worker processes."""
    found: dict[str, SourceFound] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Mutated sources checked per second of wall time (seed generation and minimising excluded)."""
        return self.cases / self.seconds if self.seconds else 0.0

    @property
    def cpu_rate(self) -> float:
        """Mutated sources checked per CPU second of the workers (what one idle core would do)."""
        return self.cases / self.cpu_seconds if self.cpu_seconds else 0.0


def _limit_memory(limit: int | None) -> None:
    try:
        import resource
        if limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass


def _worker(wid, conn, clock, seeds, seed, timeout, backend, opt_level, memory):
    import gc

    _limit_memory(memory)
    # Hypothesis (which made the seeds) leaves gc callbacks behind that swallow exceptions, the time limit's too
    gc.callbacks[:] = [c for c in gc.callbacks if "hypothesis" not in getattr(c, "__module__", "")]
    slot = 4 * wid
    while True:
        task = conn.recv()
        if task is None:
            return
        start, end = task
        clock[slot + 2], clock[slot + 3] = start, end
        for k in range(start, end):
            clock[slot] = k
            clock[slot + 1] = time.time()
            base, text, applied = case_source(seeds, seed, k)
            failure = check_source(text, base.inputs, timeout, backend, opt_level)
            if failure is not None and failure.kind == "hang":
                conn.send(("hang", k, dataclasses.asdict(failure)))
                return      # a time limit that fired deep in a recursion may leave CPython unsound: start afresh
            if failure is not None:
                conn.send(("failure", k, dataclasses.asdict(failure)))
        clock[slot + 1] = 0.0
        conn.send(("done", start, end))


def source_campaign(seed: int, count: int | None = 2000, seconds: float | None = None, jobs: int = 1,
                    out: Path | None = None, timeout: float = TIMEOUT, backend: str = "numpy", opt_level: int = 2,
                    seeds: list[Seed] | None = None, generated: int = 200, examples: bool = True,
                    memory: int | None = MEMORY, minimise_seconds: float = 20.0, progress: int = 0,
                    stream=None, watchdog: float | None = None, start_method: str = "forkserver") -> SourceSummary:
    """Check mutated sources ``0..count-1`` (or until ``seconds`` pass) on ``jobs`` processes; see the module doc.

    Each worker has its own pipe (a worker that dies cannot take a shared queue's lock with it); ``watchdog``
    (default ``2 * timeout + 5``) is how long a case may run before the parent kills its worker. Workers start
    from a ``forkserver`` by default, not by forking the caller: a caller with threads (a test session that ran a
    Dask cluster, DuckDB, thread pools) forks children whose locks and interpreter state are broken (seen as
    hangs, ``SystemError`` and segfaults on programs that take 0.05 s alone); ``start_method="fork"`` keeps the
    caller's state (monkeypatches) for tests.
    """
    import multiprocessing as mp
    import resource
    from collections import deque
    from multiprocessing.connection import wait

    stream = stream or sys.stdout
    start_time = time.perf_counter()
    if seeds is None:
        seeds = generated_seeds(seed, generated) + (example_seeds() if examples else [])
    summary = SourceSummary(seed, seeds=len(seeds), seed_seconds=time.perf_counter() - start_time)
    start_time = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    ctx = mp.get_context(start_method)
    clock = ctx.Array("d", 4 * jobs, lock=False)     # per worker: case, its start time, chunk start, chunk end
    hard = watchdog if watchdog is not None else timeout * 2 + 5

    def spawn(wid):
        mine, theirs = ctx.Pipe()
        process = ctx.Process(target=_worker, args=(wid, theirs, clock, seeds, seed, timeout, backend, opt_level,
                                                    memory), daemon=True)
        process.start()
        theirs.close()
        clock[4 * wid + 1] = 0.0
        return process, mine

    workers = [spawn(w) for w in range(jobs)]
    busy: list[tuple[int, int] | None] = [None] * jobs
    backlog: deque[tuple[int, int]] = deque()       # chunks to redo after a worker died
    failures: list[tuple[int, dict]] = []
    next_case, done, last_report = 0, 0, 0

    def next_chunk() -> tuple[int, int] | None:
        nonlocal next_case
        if backlog:
            return backlog.popleft()
        if count is not None and next_case >= count or seconds is not None and \
                time.perf_counter() - start_time >= seconds:
            return None
        chunk = (next_case, next_case + CHUNK if count is None else min(count, next_case + CHUNK))
        next_case = chunk[1]
        return chunk

    def assign(wid) -> None:
        chunk = next_chunk()
        busy[wid] = chunk
        if chunk is not None:
            workers[wid][1].send(chunk)

    def restart(wid, k: int, failure: dict) -> None:
        """Replace worker ``wid`` after case ``k`` of its chunk, which failed with ``failure``; the rest of the
        chunk goes back to the queue."""
        nonlocal done
        process, conn = workers[wid]
        process.kill()
        process.join()
        conn.close()
        if busy[wid] is not None:
            start, end = busy[wid]
            failures.append((k, failure))
            done += k + 1 - start
            if k + 1 < end:
                backlog.append((k + 1, end))
        workers[wid] = spawn(wid)
        assign(wid)

    def replace_worker(wid, why: str) -> None:
        slot = 4 * wid
        start = busy[wid][0] if busy[wid] is not None else 0
        k = int(clock[slot]) if busy[wid] is not None and clock[slot + 1] and start <= clock[slot] < busy[wid][1] \
            else start
        workers[wid][0].kill()
        workers[wid][0].join()
        exitcode = workers[wid][0].exitcode
        restart(wid, k, dataclasses.asdict(SourceFailure(
            "hang" if why == "hang" else "crash",
            f"Hang: no result after {hard:g} s (killed)" if why == "hang" else
            f"WorkerDied: exit code {exitcode}", "?", "", "?")))

    for wid in range(jobs):
        assign(wid)
    try:
        while any(b is not None for b in busy):
            conns = {workers[w][1]: w for w in range(jobs) if busy[w] is not None}
            for conn in wait(list(conns), timeout=0.5):
                wid = conns[conn]
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    replace_worker(wid, "died")
                    continue
                if message[0] == "failure":
                    failures.append((message[1], message[2]))
                elif message[0] == "hang":      # the worker stopped after it: a fresh one takes the rest
                    restart(wid, message[1], message[2])
                else:
                    done += message[2] - message[1]
                    assign(wid)
            now = time.time()
            for wid in range(jobs):
                started = clock[4 * wid + 1]
                if busy[wid] is not None and started and now - started > hard:
                    replace_worker(wid, "hang")
                elif busy[wid] is not None and not workers[wid][0].is_alive() and not workers[wid][1].poll():
                    replace_worker(wid, "died")
            if progress and done - last_report >= progress:
                last_report = done
                elapsed = time.perf_counter() - start_time
                print(f"  {done} sources, {done / elapsed:.0f}/s, {len(failures)} failing", file=stream, flush=True)
    finally:
        for process, conn in workers:
            try:
                conn.send(None)
            except (OSError, ValueError):
                pass
        for process, conn in workers:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
    summary.cases = done
    summary.seconds = time.perf_counter() - start_time
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary.cpu_seconds = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    for k, data in sorted(failures):
        failure = SourceFailure(**data)
        key = failure.signature()
        if key in summary.found:
            summary.found[key].count += 1
            continue
        base, text, applied = case_source(seeds, seed, k)
        summary.found[key] = SourceFound(key, k, failure, text, base.source, applied, base.name, base.inputs)
    for found in summary.found.values():
        _minimise(found, timeout, backend, opt_level, minimise_seconds, memory, start_method)
        if out is not None:
            found.files = write_source_case(out, f"srcmut-{seed}-{found.case}", found, seed)
    return summary


def _minimise(found: SourceFound, timeout: float, backend: str, opt_level: int, seconds: float,
              memory: int | None = MEMORY, start_method: str = "forkserver") -> None:
    """Minimise ``found`` in a child process (under the workers' memory limit, killed if it overruns), so a case
    that kills or hangs its process cannot take the campaign with it."""
    import multiprocessing as mp

    if found.failure.kind == "hang" or found.failure.error.startswith("WorkerDied") or seconds <= 0:
        return
    ctx = mp.get_context(start_method)
    mine, theirs = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_minimise_child, args=(theirs, found, timeout, backend, opt_level, seconds, memory),
                          daemon=True)
    process.start()
    theirs.close()
    if mine.poll(seconds + 2 * timeout + 10):
        try:
            source, failure = mine.recv()
            found.source = source
            found.failure = SourceFailure(**failure) if failure else found.failure
        except (EOFError, OSError):
            pass
    process.kill()
    process.join()
    mine.close()


def _minimise_child(conn, found: SourceFound, timeout, backend, opt_level, seconds, memory) -> None:
    import gc

    _limit_memory(memory)
    gc.callbacks[:] = [c for c in gc.callbacks if "hypothesis" not in getattr(c, "__module__", "")]
    key = found.signature

    def same(text: str) -> bool:
        failure = check_source(text, found.inputs, min(timeout, 5.0), backend, opt_level)
        return failure is not None and failure.signature() == key

    if not same(found.source):          # not reproducible on its own
        conn.send((found.source, None))
        return
    source = minimise(found.source, same, seconds)
    failure = check_source(source, found.inputs, timeout, backend, opt_level)
    conn.send((source, dataclasses.asdict(failure) if failure else None))


def write_source_case(directory: Path, name: str, found: SourceFound, seed: int | None = None) -> list[Path]:
    """Write ``NAME.tl`` (the exact text), ``NAME.npz`` (inputs), ``NAME.txt`` and ``test_NAME.py``."""
    from tlc_runtime.data import save_npz

    directory.mkdir(parents=True, exist_ok=True)
    tl, txt = directory / f"{name}.tl", directory / f"{name}.txt"
    with open(tl, "w", encoding="utf-8", newline="") as handle:
        handle.write(found.source)
    files = [tl]
    if found.inputs is not None:
        npz = directory / f"{name}.npz"
        save_npz(os.fspath(npz), {k: np.asarray(v) for k, v in found.inputs.items()})
        files.append(npz)
    txt.write_text(f"tlc fuzz --mutate-source{f' --seed {seed}' if seed is not None else ''}: case {found.case}, "
                   f"{found.count} case(s) with this signature\n{found.signature}\nmutations: "
                   f"{', '.join(found.mutations)} of {found.seed_name}\n{found.failure.error}\n\n{found.failure.trace}"
                   f"\noriginal:\n{found.original}", encoding="utf-8")
    files.append(txt)
    test = directory / f"test_{name.replace('-', '_')}.py"
    data = "load_npz(HERE / f'{NAME}.npz')" if found.inputs is not None else "None"
    test.write_text(
        f'"""Reproduces a tlc fuzz --mutate-source failure: {found.signature}"""\n\n'
        "from pathlib import Path\n\n"
        "from tlc.fuzz.source_mutate import check_source, load_npz\n\n"
        "HERE = Path(__file__).resolve().parent\n"
        f"NAME = {name!r}\n\n\n"
        f"def test_{name.replace('-', '_')}():\n"
        "    text = (HERE / f'{NAME}.tl').read_bytes().decode('utf-8')\n"
        f"    failure = check_source(text, {data})\n"
        "    assert failure is None, f'{failure.error}\\n{failure.trace}'\n", encoding="utf-8")
    files.append(test)
    return files


def load_npz(path) -> dict:
    """Inputs saved by ``write_source_case``."""
    with np.load(path, allow_pickle=False) as archive:
        return {k: archive[k] for k in archive.files}


def run(args, stream=None) -> int:
    """``tlc fuzz --mutate-source``: returns 1 if anything failed, else 0."""
    stream = stream or sys.stdout
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    count = args.count if args.count is not None or args.time is not None else 2000
    backend = (args.backend or ["numpy"])[0]
    if backend not in api.BACKENDS:
        print(f"tlc fuzz: unknown backend {backend!r}; available: {', '.join(api.BACKENDS)}", file=sys.stderr)
        return 2
    opt_level = (args.opt_levels or [2])[0]
    jobs = max(1, args.jobs or 1)
    print(f"tlc fuzz --mutate-source: seed {seed}, {f'{count} sources' if count is not None else f'{args.time:g} s'}, "
          f"{jobs} job(s), backend {backend} -O{opt_level}", file=stream, flush=True)
    summary = source_campaign(seed, count=count, seconds=args.time, jobs=jobs, out=Path(args.out),
                              timeout=min(args.timeout, TIMEOUT) if args.timeout else TIMEOUT, backend=backend,
                              opt_level=opt_level, progress=10 * _progress_every(args),
                              stream=stream)
    print(f"tlc fuzz --mutate-source: {summary.cases} mutated sources of {summary.seeds} seeds "
          f"({summary.seed_seconds:.1f} s to generate) in {summary.seconds:.1f} s: {summary.rate:.0f} sources/s on "
          f"{jobs} job(s), {summary.cpu_rate:.0f} per CPU second; {len(summary.found)} distinct failure(s); "
          f"seed {seed}", file=stream)
    for found in summary.found.values():
        print(f"\nFAILURE {found.signature} ({found.count} case(s); first: case {found.case}, "
              f"{', '.join(found.mutations)} of {found.seed_name})\n  {found.failure.error[:300]}", file=stream)
        if found.files:
            print(f"  reproduce: pytest {found.files[-1]}", file=stream)
        shown = found.source if len(found.source) < 400 else found.source[:400] + "…"
        for line in shown.splitlines() or [""]:
            print(f"    {line!r}", file=stream)
    return 1 if summary.found else 0


def _progress_every(args) -> int:
    """``--progress N`` as given; without it, the default every 100 (x10 sources) on a terminal, else none."""
    if args.progress is not None:
        return args.progress
    return 100 if sys.stderr.isatty() else 0
