"""``tlc fuzz``: generate programs and inputs, run the oracle, and write a reproducer for each failure.

The campaign runs in rounds of Hypothesis ``@given`` tests, each seeded from ``--seed`` and the round
number, so ``tlc fuzz --seed N --count K`` replays the same programs. When a program fails, Hypothesis
shrinks it while it keeps failing with the same signature; the minimised case is written under
``--out`` as ``NAME.tl`` (source), ``NAME.npz`` (arrays and scalars), ``NAME.REL.csv`` (relations given as
tuples) and ``test_NAME.py`` (a pytest file that reproduces it), and later rounds skip that signature.
"""

from __future__ import annotations

import argparse
import csv
import functools
import os
import random
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tlc_runtime.data import save_npz

from tlc.fuzz.backends import DIFFERENTIAL_BACKENDS

if TYPE_CHECKING:
    from tlc.fuzz.generate import FuzzProgram
    from tlc.fuzz.oracle import Report

# Only the standard library and tlc itself at import time: ``add_arguments`` must work without Hypothesis
# (the CLI builds every subcommand's parser); the rest imports tlc.fuzz's Hypothesis-based modules.

ROUND = 100
"""Programs per Hypothesis run; a failure ends its round after shrinking."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``tlc fuzz`` options to ``parser``."""
    parser.add_argument("--seed", type=int, default=None, help="seed of the campaign (default: random, printed)")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--count", type=int, default=None, metavar="N", help="programs to try (default 200)")
    budget.add_argument("--time", type=float, default=None, metavar="S", help="seconds to run instead of a count")
    parser.add_argument("--backend", action="append", default=None, metavar="B",
                        help=f"backend to compare with the reference (repeatable; default: every available one "
                             f"of {', '.join(DIFFERENTIAL_BACKENDS)})")
    parser.add_argument("-O", dest="opt_levels", action="append", type=int, choices=range(4), default=None,
                        metavar="N", help="opt level to try (repeatable; default 0 1 2 3)")
    parser.add_argument("--out", default="fuzz-failures", metavar="DIR",
                        help="where to write reproducers (default ./fuzz-failures)")
    parser.add_argument("--max-equations", type=int, default=6, metavar="N", help="equations per program (default 6)")
    parser.add_argument("--max-extent", type=int, default=4, metavar="N",
                        help="largest input extent (default 4; an equation over many variables gets smaller ones, "
                             "at most 2^24 positions in all)")
    parser.add_argument("--progress", type=int, default=None, metavar="N",
                        help="print a progress line every N programs (0 for none; default every 100 on standard "
                             "error when it is a terminal, else none)")
    parser.add_argument("--mutations", type=int, default=1, metavar="N",
                        help="metamorphic checks per program with the IR mutator (default 1; 0 for none)")
    parser.add_argument("--guided", action="store_true",
                        help="coverage guidance: steer generation toward programs with rarely seen IR features")
    parser.add_argument("--hostile-names", nargs="?", const="all", default=None, metavar="CLASSES",
                        help="rename every tensor and variable with hostile names (keywords, builtins, the emitted "
                             "code's globals, primes, helper-like names, near-duplicates); optionally only the "
                             "comma-separated classes keyword,builtin,emitted,prime,helper,function,near-duplicate")
    parser.add_argument("--mutate-source", action="store_true",
                        help="mutate the text of generated programs and examples/*.tl instead: each must compile "
                             "(and run) or raise a TlcError, never another exception or a hang (--count sources, "
                             "default 2000; first --backend and -O only, default numpy -O2)")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="worker processes for --mutate-source (default 1)")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S",
                        help="seconds allowed per configuration before a run counts as a hang (default 30)")


@dataclass
class Found:
    """One distinct failure: its signature, the minimised case and where it was written."""

    signature: str
    program: FuzzProgram
    inputs: dict
    report: Report
    files: list[Path] = field(default_factory=list)


@dataclass
class Summary:
    """What a campaign did."""

    seed: int
    programs: int = 0
    seconds: float = 0.0
    found: list[Found] = field(default_factory=list)
    fuzzer_errors: list[str] = field(default_factory=list)
    """Tracebacks of errors in the fuzzer itself (a generator bug, not a tlc bug)."""


Oracle = Callable[..., "Report"]


DEFAULT_PROGRESS = 100
"""Programs between two progress lines when standard error is a terminal and ``--progress`` is not given."""


def run(args: argparse.Namespace, oracle: Oracle | None = None, stream=None) -> int:
    """Run ``tlc fuzz``; returns 1 if anything failed, 0 otherwise (2 for bad usage or no Hypothesis).

    ``oracle`` replaces ``tlc.fuzz.check`` (and its metamorphic checks), e.g. to inject a failure in tests.
    """
    stream = stream or sys.stdout
    if getattr(args, "mutate_source", False):
        try:
            from tlc.fuzz.source_mutate import run as run_source_mutation
        except ImportError as err:
            print(f"tlc fuzz: needs Hypothesis, which comes with the test extra (pip install \"tlc[test]\"): {err}",
                  file=sys.stderr)
            return 2
        return run_source_mutation(args, stream)
    try:
        from tlc.fuzz.mutate import check_with_mutations
        from tlc.fuzz.oracle import available_backends, check
    except ImportError as err:
        print(f"tlc fuzz: needs Hypothesis, which comes with the test extra (pip install \"tlc[test]\"): {err}",
              file=sys.stderr)
        return 2
    backends = args.backend or list(available_backends())
    unknown = [b for b in backends if b not in DIFFERENTIAL_BACKENDS]
    if unknown:
        print(f"tlc fuzz: unknown backend {unknown[0]!r}; available: {', '.join(DIFFERENTIAL_BACKENDS)}",
              file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    if oracle is None:
        oracle = functools.partial(check_with_mutations, mutations=args.mutations) if args.mutations else check
    count = args.count if args.count is not None or args.time is not None else 200
    opt_levels = tuple(args.opt_levels or (0, 1, 2, 3))
    print(f"tlc fuzz: seed {seed}, backends {', '.join(backends)}, opt levels {' '.join(map(str, opt_levels))}, "
          f"{f'{count} programs' if count is not None else f'{args.time:g} s'}", file=stream)
    options = {"max_equations": args.max_equations, "max_extent": args.max_extent}
    if getattr(args, "hostile_names", None):
        from tlc.fuzz.names import class_names
        try:
            options["hostile_names"] = class_names(args.hostile_names)
        except ValueError as err:
            print(f"tlc fuzz: {err}", file=sys.stderr)
            return 2
    progress, progress_stream = args.progress, stream      # asked for: with the rest of the output
    if progress is None:
        progress, progress_stream = (DEFAULT_PROGRESS if sys.stderr.isatty() else 0), sys.stderr
    summary = campaign(seed, count=count, seconds=args.time, backends=tuple(backends), opt_levels=opt_levels,
                       out=Path(args.out), oracle=oracle, progress=progress, stream=stream,
                       progress_stream=progress_stream,
                       timeout=args.timeout, guided=args.guided, program_options=options)
    rate = summary.programs / summary.seconds if summary.seconds else 0.0
    print(f"tlc fuzz: {summary.programs} programs in {summary.seconds:.1f} s ({rate:.1f} programs/s), "
          f"{len(summary.found)} distinct failure(s); seed {seed}", file=stream)
    for found in summary.found:
        first = next((f for f in found.report.failures if f.signature() == found.signature), None)
        title = f"{first.kind} in {first.config}: {first.headline[:200]}" if first else found.signature
        where = (f"pytest {found.files[-1]}  (or: " if found.files else "(") + \
            f"tlc fuzz --seed {seed} --count {summary.programs})"
        print(f"\nFAILURE {title}\n  reproduce: {where}\n  source{f' ({found.files[0]})' if found.files else ''}:",
              file=stream)
        for line in found.program.source.splitlines():
            print(f"    {line}", file=stream)
        for failure in found.report.failures[:3]:
            print(f"  {failure.kind} in {failure.config}: {failure.headline[:300]}", file=stream)
    if summary.fuzzer_errors:
        print(f"tlc fuzz: {len(summary.fuzzer_errors)} internal error(s) of the fuzzer (see above)", file=stream)
    return 1 if summary.found or summary.fuzzer_errors else 0


def campaign(seed: int, count: int | None = 200, seconds: float | None = None, backends=None,
             opt_levels=(0, 1, 2, 3), out: Path | None = None, oracle: Oracle | None = None, progress: int = 100,
             stream=None, timeout: float | None = 30.0, guided: bool = False, progress_stream=None,
             program_options: Mapping | None = None) -> Summary:
    """Generate and check programs until ``count`` have run or ``seconds`` have passed.

    With ``guided``, each program reports how rare its IR features are to ``hypothesis.target``.
    """
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings, target
    from hypothesis import seed as hypothesis_seed

    from tlc.fuzz.coverage import ir_features
    from tlc.fuzz.generate import cases
    from tlc.fuzz.oracle import OracleFailure, check

    oracle = oracle or check

    stream = stream or sys.stdout
    summary = Summary(seed)
    start = time.perf_counter()
    known: set[str] = set()
    options = dict(program_options or {})
    strategy = cases(**options)

    def budget_left() -> bool:
        if count is not None and summary.programs >= count:
            return False
        return seconds is None or time.perf_counter() - start < seconds

    state: dict = {}
    seen: dict[str, int] = {}

    def body(case):
        program, inputs = case
        if state["target"] is None:
            if not budget_left():
                return
            summary.programs += 1
            if progress and summary.programs % progress == 0:
                elapsed = time.perf_counter() - start
                print(f"  {summary.programs} programs, {summary.programs / elapsed:.1f} programs/s, "
                      f"{len(summary.found)} failure(s), {elapsed:.0f} s", file=progress_stream or stream,
                      flush=True)
        if guided:
            found = ir_features(program)
            target(sum(1.0 / (1 + seen.get(f, 0)) for f in found), label="rare features")
            if state["target"] is None:
                for f in found:
                    seen[f] = seen.get(f, 0) + 1
        if state["target"] is None:
            report = oracle(program, inputs, backends=backends, opt_levels=opt_levels, timeout=timeout)
        else:       # shrinking: only the configurations that failed need to run
            report = oracle(program, inputs, backends=state["backends"], opt_levels=state["opt_levels"],
                            timeout=timeout)
        signatures = {f.signature() for f in report.failures} - known
        if not signatures:
            return
        if state["target"] is None:
            state["target"] = sorted(signatures)[0]
            failing = [f.config.split() for f in report.failures if f.signature() == state["target"]]
            state["backends"] = tuple(dict.fromkeys(c[0] for c in failing if len(c) == 2)) or backends
            state["opt_levels"] = tuple(dict.fromkeys(int(c[1][2:]) for c in failing if len(c) == 2
                                                      and c[1].startswith("-O")))
        if state["target"] in signatures:       # shrink toward this failure only, not another one
            state["last"] = (program, inputs, report)
            raise OracleFailure(report)

    round_number = 0
    while budget_left():
        state.update(target=None, last=None)
        size = ROUND if count is None else max(1, min(ROUND, count - summary.programs))
        test = settings(max_examples=size, database=None, deadline=None, derandomize=False,
                        phases=(Phase.generate, Phase.target, Phase.shrink) if guided else
                        (Phase.generate, Phase.shrink), verbosity=Verbosity.quiet,
                        suppress_health_check=list(HealthCheck))(given(strategy)(body))
        test = hypothesis_seed(seed * 1_000_003 + round_number)(test)
        round_number += 1
        try:
            test()
        except Exception:  # noqa: BLE001 - tlc's failures are in state["last"]; anything else is the fuzzer's
            if state["last"] is None:
                summary.fuzzer_errors.append(traceback.format_exc())
                print(f"  tlc fuzz: internal error of the fuzzer in round {round_number - 1} (please report):\n"
                      f"{summary.fuzzer_errors[-1]}", file=stream, flush=True)
        if state["last"] is not None:
            program, inputs, report = state["last"]
            found = Found(state["target"], program, inputs, report)
            known.add(state["target"])
            known.update(f.signature() for f in report.failures)
            if out is not None:
                found.files = write_case(out, f"failure-{seed}-{len(summary.found) + 1:03d}", program, inputs,
                                         report, seed, backends, opt_levels,
                                         mutations=getattr(oracle, "keywords", {}).get("mutations", 0))
            summary.found.append(found)
            print(f"  FAILURE {found.signature}" + (f" -> {found.files[0]}" if found.files else ""),
                  file=stream, flush=True)
    summary.seconds = time.perf_counter() - start
    return summary


# ------------------------------------------------------------------------------------------ case files
def write_case(directory: Path, name: str, program: FuzzProgram, inputs: Mapping, report: Report | None = None,
               seed: int | None = None, backends=None, opt_levels=(0, 1, 2, 3), mutations: int = 0) -> list[Path]:
    """Write ``NAME.tl``, ``NAME.npz``, ``NAME.REL.csv`` per tuple relation and ``test_NAME.py``; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    tl = directory / f"{name}.tl"
    npz = directory / f"{name}.npz"
    header = [f"# tlc fuzz failure{f' (seed {seed})' if seed is not None else ''}"]
    if report is not None:
        header += [f"# {f.kind} in {f.config}: {f.headline[:200]}" for f in report.failures[:5]]
    arrays, tables = {}, {}
    for key, value in inputs.items():
        if isinstance(value, list):
            tables[key] = value
        else:
            arrays[key] = np.asarray(value)
    files = [tl, npz]
    command = f"tlc run {tl.name} --data {npz.name}"
    for key, rows in tables.items():
        path = directory / f"{name}.{key}.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)
        files.append(path)
        command += f" --input {key}={path.name}"
    header.append(f"# reproduce: {command}")
    tl.write_text("\n".join(header) + "\n" + program.source, encoding="utf-8")
    save_npz(os.fspath(npz), arrays)
    if getattr(program, "plain", None) is not None:       # hostile names: the plain program, for the oracle
        from tlc.fuzz.names import dumps
        names = directory / f"{name}.names.json"
        names.write_text(dumps(program), encoding="utf-8")
        files.append(names)
    test = directory / f"test_{name.replace('-', '_')}.py"
    configs = f"backends={tuple(backends)!r}, " if backends else ""
    call = f"check_with_mutations(program, inputs, mutations={mutations}, " if mutations else "check(program, inputs, "
    imports = ("from tlc.fuzz import load_case\nfrom tlc.fuzz.mutate import check_with_mutations\n" if mutations
               else "from tlc.fuzz import check, load_case\n")
    test.write_text(
        f'"""Reproduces a tlc fuzz failure{f" (seed {seed})" if seed is not None else ""}: run with pytest."""\n\n'
        "from pathlib import Path\n\n"
        f"{imports}\n"
        "HERE = Path(__file__).resolve().parent\n\n\n"
        f"def test_{name.replace('-', '_')}():\n"
        f"    program, inputs = load_case(HERE / {tl.name!r})\n"
        f"    {call}{configs}opt_levels={tuple(opt_levels)!r}).raise_if_failed()\n",
        encoding="utf-8")
    files.append(test)
    return files


def load_case(tl_path) -> tuple[FuzzProgram, dict]:
    """The program in ``NAME.tl`` and its inputs from ``NAME.npz`` and ``NAME.*.csv`` beside it (and, for hostile
    names, its plain-named program from ``NAME.names.json``)."""
    from tlc.fuzz.generate import FuzzProgram
    from tlc_runtime.data import load_tuples

    tl_path = Path(tl_path)
    stem = tl_path.with_suffix("")
    names = stem.with_suffix(".names.json")
    if names.exists():          # a hostile-names case: also compared with its plain-named program
        from tlc.fuzz.names import loads
        program = loads(tl_path.read_text(encoding="utf-8"), names.read_text(encoding="utf-8"))
    else:
        program = FuzzProgram.from_source(tl_path.read_text(encoding="utf-8"))
    inputs: dict = {}
    npz = stem.with_suffix(".npz")
    if npz.exists():
        with np.load(npz, allow_pickle=False) as data:
            for key in data.files:
                value = data[key]
                inputs[key] = float(value) if value.ndim == 0 and key in program.ir.scalars else value
    for path in sorted(tl_path.parent.glob(f"{glob_escape(stem.name)}.*.csv")):
        inputs[path.name[len(stem.name) + 1:-4]] = load_tuples(os.fspath(path))
    return program, inputs


def campaign_seed(variable: str = "TLC_FUZZ_SEED", stream=None) -> int:
    """The seed in environment ``variable``, else a random one; printed either way (so CI logs can replay it)."""
    text = os.environ.get(variable, "").strip()
    seed = int(text) if text else random.SystemRandom().randrange(2**32)
    print(f"{variable}={seed}{'' if text else ' (random; set ' + variable + ' to replay)'}", file=stream or sys.stdout)
    return seed


def glob_escape(text: str) -> str:
    """``text`` with glob metacharacters escaped."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def main(argv: list[str] | None = None) -> int:
    """``python -m tlc.fuzz.campaign``: the ``tlc fuzz`` command on its own."""
    parser = argparse.ArgumentParser(prog="tlc fuzz", description="Fuzz tlc: random programs, every backend "
                                     "and opt level against the NumPy -O0 reference.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
