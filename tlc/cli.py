"""The ``tlc`` command line: run, check, compile, explain, differentiate and train Tensor Logic programs (``.tl``)
and run Datalog programs (``.dl``, with Soufflé's fact files and directives)."""

from __future__ import annotations

import argparse
import functools
import os
import sys
import warnings

import numpy as np

import tlc_runtime as rt
from tlc.api import ALL_BACKENDS, Program
from tlc.backends.shared.relational_duckdb import sql_script
from tlc.backends.dask.files import LAZY_SUFFIXES, open_lazy
from tlc.datalog import DIALECTS, DatalogProgram, translation
from tlc.datalog.lints import lint as datalog_lint
from tlc.driver.stored import stored_names
from tlc.datalog.souffle_io import output_names, print_sizes, read_facts, read_inputs, write_outputs
from tlc.driver.outputs import STDOUT, check_directory, out_target, write_relation
from tlc.driver.drawing import program_dot, render_dot
from tlc.driver.progress import progress_on
from tlc.driver.shaped import shape_errors
from tlc.driver.source import checked, frontend, input_names, load_source, lowered, raise_located, static_problems
from tlc.analysis.relation_plan import CHOICES as RELATION_CHOICES, FORMER_NAMES as FORMER_RELATION_NAMES
from tlc import __version__
from tlc.analysis.lints import lint
from tlc.errors import DataError, Span, TlcError, TlcWarning, did_you_mean, gather, use_colour
from tlc.factorise.options import options_from
from tlc.memory_limit import parse_bytes, parse_limit, resolve as resolve_budget
from tlc.passes.manager import PassManager
from tlc.passes.registry import check_pass_names
from tlc.train.optimisers import OPTIMISERS
from tlc.analysis.strata import check_max_rounds
from tlc_runtime.data import FileRows, load_file


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tlc", description="The Tensor Logic compiler.")
    parser.add_argument("--version", action="version", version=f"tlc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_warnings(p):
        p.add_argument("-W", dest="warnings", choices=("default", "error"), default="default", metavar="error",
                       help="'-W error' makes every warning an error (exit status 1)")
        p.add_argument("-q", "--quiet", action="store_true", help="do not print warnings or progress")

    def with_data(p):
        p.add_argument("--input", action="append", default=[], metavar="NAME=FILE",
                       help="bind one input to a .npy array or .csv/.tsv/.facts tuples (repeatable)")
        p.add_argument("--data", action="append", default=[], metavar="FILE.npz",
                       help="inputs from an .npz archive keyed by tensor name (repeatable)")
        p.add_argument("-F", "--facts", dest="fact_dir", metavar="DIR",
                       help="read each input NAME not given otherwise from DIR/NAME.facts (tab-separated), "
                            ".tsv, .csv or .npy; for .dl files, the .input relations (default: .)")
        p.add_argument("--header", choices=("auto", "yes", "no"), default="auto",
                       help="whether .csv/.tsv inputs start with a header row (auto: when its types say so)")
        p.add_argument("--dialect", choices=DIALECTS, default="auto",
                       help="for .dl files: how lowercase identifiers read (default auto; see docs/datalog.md)")

    def with_passes(p):
        p.add_argument("-O", dest="opt_level", type=int, choices=range(4), default=2, metavar="N",
                       help="optimisation level 0-3 (default 2)")
        p.add_argument("--print-after", action="append", default=[], metavar="PASS",
                       help="print the IR after this pass (repeatable)")
        p.add_argument("--print-ir", action="store_true", help="print the IR after every pass")
        p.add_argument("--factorise", type=_checked(options_from), metavar="rel_err=E[,method=M][,tensors=A+B]",
                       help="replace input weights by low-rank factorisations within a relative error "
                            "(methods auto, svd, tucker, tt, cp)")
        with_memory_limit(p)

    def with_memory_limit(p):
        p.add_argument("--memory-limit", type=_checked(parse_limit), metavar="BYTES",
                       help="largest tensor, temporary or contraction intermediate, in bytes or as 512M, 2G "
                            "(contractions are sliced to fit); default half the available memory; 'none': no limit")

    def with_results(p):
        p.add_argument("--output", action="append", metavar="NAME", dest="outputs",
                       help="a tensor wanted as a result (repeatable); other tensors become intermediates that "
                            "passes may eliminate, such as attention scores (default: every defined tensor)")
        p.add_argument("--tolerance", type=float, metavar="T",
                       help="allow approximate attention with absolute error at most T (when the inputs' norms "
                            "guarantee it; otherwise exact)")

    def with_threads(p):
        p.add_argument("--threads", type=int, metavar="N",
                       help="threads per native kernel (llvm backend; default TLC_NUM_THREADS or the CPU count)")

    def with_relations(p):
        p.add_argument("--relations", choices=RELATION_CHOICES + tuple(FORMER_RELATION_NAMES), default="auto",
                       help="how Datalog-shaped strata run: auto (the planner), sparse, dense, closure (formerly "
                            "squaring) or duckdb (SQL inside DuckDB; needs the duckdb extra)")
        p.add_argument("--db", dest="database", metavar="FILE.duckdb",
                       help="a DuckDB database file: input relations are stored there (rewritten only when their "
                            "content changes; a later run given no data for one reads it from there) and every "
                            "derived relation is written there as a table of its name")
        p.add_argument("--max-rounds", type=_checked(_max_rounds), metavar="N",
                       help="bound every fixpoint loop (numeric, min=/max=, semi-naive) to N rounds; a recursion "
                            "still changing then is a located error (default: see tlc explain)")

    def with_backend(p):
        p.add_argument("--backend", choices=ALL_BACKENDS, default="numpy")
        p.add_argument("--chunks", type=_checked(parse_bytes), metavar="BYTES",
                       help="dask backend: bytes per chunk, such as 64M (default: planned from the memory budget)")
        with_passes(p)
        with_threads(p)
        with_relations(p)

    run = sub.add_parser("run", help="run a program and print the tensors it defines")
    run.add_argument("file")
    with_data(run)
    with_backend(run)
    run.add_argument("--out", metavar="OUT", help="also write the results to FILE.npz, FILE.csv (one relation) or "
                                                  "a directory DIR/ (relations as .csv, tensors as .npy)")
    run.add_argument("-D", "--output-dir", dest="out_dir", metavar="DIR",
                     help="write relations to DIR/NAME.csv (tab-separated, as Soufflé) and tensors to DIR/NAME.npy "
                          "instead of printing; '-' prints relations framed as Soufflé does (for .dl files: the "
                          ".output relations, default .)")
    with_results(run)
    with_warnings(run)
    run.add_argument("--full", action="store_true",
                     help="print every element and tuple (large results are otherwise shortened, as numpy does)")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="dask backend: compute on the running Dask cluster at ADDRESS (tcp://host:8786)")
    run.add_argument("--workers", type=int, metavar="N", help="dask backend: start a LocalCluster of N workers")
    run.add_argument("--memory-limit-per-worker", type=_checked(parse_bytes), metavar="BYTES",
                     help="dask backend: each LocalCluster worker's memory limit, such as 2GB (default: Dask's)")
    check = sub.add_parser("check", help="parse and check a program (shapes too, given data); nothing runs")
    check.add_argument("file")
    with_data(check)
    with_memory_limit(check)
    with_warnings(check)
    comp = sub.add_parser("compile", help="print the code emitted for a target")
    comp.add_argument("file")
    comp.add_argument("--target", choices=(*ALL_BACKENDS, "sql"), default="numpy",
                      help="a backend's module, or sql: the relational strata as DuckDB SQL")
    comp.add_argument("-o", dest="output", metavar="OUT", help="write the code to OUT instead of stdout")
    comp.add_argument("--emit", choices=EMIT_KINDS, default="python",
                      help="llvm target: llvm-ir, asm, obj, or shared (OUT.py plus OUT.so, run by tlc_runtime)")
    comp.add_argument("--cpu", metavar="NAME",
                      help="CPU the llvm artefacts are built for: x86-64-v2 (default on x86-64: portable), "
                           "host (this machine) or any LLVM CPU name (llc -mcpu=help)")
    with_data(comp)
    with_passes(comp)
    with_threads(comp)
    with_results(comp)
    with_relations(comp)
    with_warnings(comp)
    fuzz = sub.add_parser("fuzz", help="generate random programs and check every backend and level agree")
    try:
        from tlc.fuzz import campaign
        campaign.add_arguments(fuzz)
    except ImportError:     # the fuzzer needs hypothesis (the test extra)
        fuzz.set_defaults(fuzz_missing=True)
    grad = sub.add_parser("grad", help="print the program extended with the gradient of a scalar loss, as TL source")
    grad.add_argument("file")
    grad.add_argument("--loss", required=True, metavar="L", help="the 0-d tensor to differentiate")
    grad.add_argument("--wrt", action="append", metavar="W",
                      help="a tensor to differentiate with respect to (repeatable; default: the inputs declared "
                           "with 'tensor', else every numeric input)")
    grad.add_argument("-o", dest="output", metavar="OUT", help="write the program to OUT instead of stdout")
    train = sub.add_parser("train", help="learn a program's tensors by minimising a scalar loss over data")
    train.add_argument("file")
    with_data(train)
    train.add_argument("--loss", required=True, metavar="L", help="the 0-d tensor to minimise")
    train.add_argument("--wrt", action="append", metavar="W",
                       help="a tensor to learn (repeatable; default: the tensors declared with 'tensor' that the "
                            "data does not supply)")
    train.add_argument("--opt", choices=OPTIMISERS, default="adam", help="the optimiser (default adam)")
    train.add_argument("--lr", type=float, default=1e-3, help="learning rate (default 0.001)")
    train.add_argument("--steps", type=int, default=100, metavar="N", help="updates to run (default 100)")
    train.add_argument("--batch", type=int, metavar="B",
                       help="sample B rows of the batched data each step (default: the whole data)")
    train.add_argument("--seed", type=int, default=0, metavar="S", help="seed of initialisation and batches")
    train.add_argument("--out", metavar="FILE.npz",
                       help="write the learned tensors (and the optimiser state to FILE.opt.npz)")
    train.add_argument("--resume", metavar="FILE.npz", help="continue from a checkpoint written by --out")
    train.add_argument("--backend", choices=ALL_BACKENDS, default="numpy")
    explain = sub.add_parser("explain", help="show strata, summations and contraction costs")
    explain.add_argument("file")
    with_data(explain)
    with_backend(explain)
    with_results(explain)
    with_warnings(explain)
    explain.add_argument("--format", dest="explain_format", choices=EXPLAIN_FORMATS, default="text",
                         help="text (default), or a drawing of the program and its plan: dot (Graphviz source), "
                              "svg or png (drawn by Graphviz's dot program; DOT text when it is not installed)")
    explain.add_argument("-o", dest="output", metavar="OUT", help="write the drawing to OUT instead of stdout")
    return parser


def _checked(parse):
    """An argparse ``type`` that turns a TlcError from ``parse`` into a usage error (exit status 2)."""
    def convert(text: str):
        try:
            return parse(text)
        except TlcError as err:
            raise argparse.ArgumentTypeError(err.message) from None
    return convert


def _max_rounds(text: str) -> int:
    """``--max-rounds``: a positive integer."""
    try:
        value = int(text)
    except ValueError:
        raise TlcError(f"max_rounds must be a positive integer, not {text!r}") from None
    return check_max_rounds(value)


def _header(args) -> bool | None:
    return {"yes": True, "no": False}.get(getattr(args, "header", "auto"))


def _inputs(args, names: list[str], origins: dict | None = None) -> dict:
    """A .tl program's inputs: --data archives, --input files (``.npy``/``.zarr`` opened lazily on the dask
    backend), then -F DIR for the inputs ``names`` not given; ``origins`` (when given) receives each input's file
    and archive key (None for a whole file)."""
    inputs: dict = {}
    origins = {} if origins is None else origins
    for path in args.data:
        loaded = load_file(path)
        if not isinstance(loaded, dict):
            raise TlcError(f"--data expects an .npz archive keyed by tensor name, got {path}", filename=path)
        inputs.update(loaded)
        origins.update((key, (path, key)) for key in loaded)
    for binding in args.input:
        name, sep, path = binding.partition("=")
        if not sep or not name or not path:
            raise _UsageError(f"--input expects NAME=FILE, got {binding!r}")
        if getattr(args, "backend", None) == "dask" and path.lower().rstrip("/").endswith(LAZY_SUFFIXES):
            inputs[name] = open_lazy(path)
            origins[name] = (path, None)
            continue
        loaded = load_file(path, _header(args))
        if isinstance(loaded, dict):
            if len(loaded) != 1:
                raise TlcError(f"{path} holds {len(loaded)} arrays; use --data for archives", filename=path)
            loaded = next(iter(loaded.values()))
        inputs[name] = loaded
        origins[name] = (path, None)
    if args.fact_dir is not None:
        for name in names:
            if name not in inputs:
                found = [os.path.join(args.fact_dir, name + s) for s in (".facts", ".tsv", ".csv", ".npy")]
                found = [path for path in found if os.path.isfile(path)]
                if len(found) > 1:
                    raise TlcError(f"-F {args.fact_dir} holds {len(found)} files for {name}: "
                                   f"{', '.join(found)}; keep one", filename=found[0])
                if found:
                    inputs[name] = load_file(found[0], _header(args))
                    origins[name] = (found[0], None)
    return inputs


def _check_whole(program, inputs: dict, args) -> None:
    """The checks of the whole program that need no data; when they fail and every input is given, the shape
    checks on that data too, so that one run reports every independent error."""
    problems, strata = static_problems(program)
    if problems.errors and all(name in inputs for name in input_names(program)):
        limit = resolve_budget(getattr(args, "memory_limit", None)).elements
        problems.errors += shape_errors(program, strata, inputs, limit, frozenset(problems.doubtful))
    raise_located(problems, program)


def _check_files(program: Program, inputs: dict, origins: dict) -> None:
    """Data read from files, checked where a mistake is best shown: an archive key or ``--input`` name that is
    no input at the data file and key, a relation's rows of the wrong width at the file's first row."""
    known = program.input_names()
    tensors = program.ir.tensors
    for name, value in inputs.items():
        path, key = origins.get(name, (None, None))
        if path is None:
            continue
        if name not in known and name not in tensors and name not in program.ir.scalars:
            where = f"the archive's key {key!r}" if key is not None else f"--input {name}"
            raise DataError(f"{where} names no input of {program.ir.filename or 'the program'}, which reads "
                            f"{', '.join(known) or 'nothing'}", filename=path, help=did_you_mean(name, known))
        info = tensors.get(name)
        if isinstance(value, FileRows) and value and info is not None and info.relation \
                and len(value[0]) != info.rank:
            use = info.first_use.span
            raise DataError(f"row has {len(value[0])} column{'s' if len(value[0]) != 1 else ''} but relation "
                            f"{name} takes {info.rank} argument{'s' if info.rank != 1 else ''}",
                            Span(value.lines[0], 1), filename=path, source=_read_text(path),
                            notes=(f"{name} is used at {program.ir.filename or '<input>'}:{use.line}:{use.column}",)
                            if use else ())


def _read_text(path: str) -> str | None:
    """A data file's text (for showing a row), or None when it cannot be read."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def _datalog_inputs(args, program: DatalogProgram) -> dict:
    """A .dl program's facts: its .input relations from -F DIR (default .) and --input NAME=FILE files."""
    tr = program.translation
    if args.data:
        raise _UsageError("--data reads .npz archives of tensors; give a Datalog program facts with -F DIR or "
                          "--input NAME=FILE.facts")
    database = getattr(args, "database", None)
    stored = frozenset()        # relations the database holds: their fact files may be left out
    if database is not None:
        database = os.path.abspath(database)
        used = {p.tl: p.name for p in tr.predicates.values() if p.used and not p.defined}
        stored = frozenset(used[n] for n in stored_names(program.ir, database, list(used)))
    inputs = read_inputs(tr, args.fact_dir or ".", stored, database) if args.command == "run" or args.fact_dir \
        else {}
    for binding in args.input:
        name, sep, path = binding.partition("=")
        if not sep or not name or not path:
            raise _UsageError(f"--input expects NAME=FILE, got {binding!r}")
        if name not in tr.predicates or tr.predicates[name].helper:
            raise TlcError(f"--input {name}: the program has no predicate {name}", filename=tr.filename)
        rel = tr.declarations.relations.get(name)
        types = rel.types if rel else (None,) * tr.predicates[name].arity
        rows = read_facts(path, name, types, "," if path.lower().endswith(".csv") else "\t", _header(args) is True)
        inputs[name] = rows
    return inputs


class _UsageError(Exception):
    pass


def _warn(found: list, args) -> None:
    """Print the program's warnings on stderr (none with --quiet); with -W error they are errors instead."""
    if not found:
        return
    if getattr(args, "warnings", "default") == "error":
        raise gather([w.as_error() for w in found])
    if not getattr(args, "quiet", False):
        colour = use_colour(sys.stderr)
        for warning in found:
            print(warning.render(colour), file=sys.stderr)


EXPLAIN_FORMATS = ("text", "dot", "svg", "png")


def _draw(program: Program, inputs: dict, args) -> int:
    """``tlc explain --format dot|svg|png``: the program and its plan drawn by Graphviz (DOT text without it)."""
    spec = program.specialisation(**inputs) if inputs or not program.input_names() else None
    choices: dict[int, list[str]] = {}
    strategies = None
    if spec is not None:
        for (k, _), contraction in spec.planned.contractions.items():
            choices.setdefault(k, []).append(contraction.describe())
        for k, chosen in spec.emitted.decisions.items():
            choices.setdefault(k, []).extend(dict.fromkeys(chosen))
        strategies = [s.describe() if s.shown else "" for s in spec.plan.strata]
    drawing, note = render_dot(program_dot(program.ir, program.strata, choices, strategies), args.explain_format)
    if note:
        print(f"tlc: note: {note}", file=sys.stderr)
    if args.output:
        with open(args.output, "wb" if isinstance(drawing, bytes) else "w") as handle:
            handle.write(drawing)
    elif isinstance(drawing, bytes):
        sys.stdout.buffer.write(drawing)
    else:
        sys.stdout.write(drawing)
    return 0


EMIT_KINDS = ("python", "llvm-ir", "asm", "obj", "shared")


def _compile(program: Program, inputs: dict, args) -> int:
    """``tlc compile``: the emitted Python module, or the llvm target's native artifacts."""
    if args.emit != "python" and args.target != "llvm":
        raise _UsageError(f"--emit {args.emit} needs --target llvm")
    if args.cpu is not None and args.emit == "python":
        raise _UsageError("--cpu chooses the CPU of native artefacts: use it with --emit llvm-ir, asm, obj or shared")
    if args.emit == "shared" and not args.output:
        raise _UsageError("--emit shared needs -o OUT (writes OUT.py and OUT.so)")
    spec = program.specialisation(**inputs)
    if args.target == "sql":
        artifact = sql_script(spec.planned)
    elif args.emit == "python":
        artifact = spec.source
    else:
        from tlc.backends.llvm import aot
        if args.emit == "shared":
            aot.write_module(spec.emitted, f"{args.output}.py", f"{args.output}.so", cpu=args.cpu)
            return 0
        artifact = aot.artifact(spec.emitted, args.emit, cpu=args.cpu)
    if args.output:
        with open(args.output, "wb" if isinstance(artifact, bytes) else "w") as handle:
            handle.write(artifact)
    elif isinstance(artifact, bytes):
        raise _UsageError(f"--emit {args.emit} writes binary data: give -o OUT")
    else:
        sys.stdout.write(artifact)
    return 0


def _grad(source: str, filename: str, args) -> int:
    """``tlc grad``: the gradient program as Tensor Logic source."""
    from tlc.gradient.api import differentiate
    from tlc.gradient.printing import format_gradient
    text = format_gradient(differentiate(frontend(source, filename), args.loss, args.wrt), args.loss)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _train(filename: str, args) -> int:
    """``tlc train``: run the optimiser, print the final loss, write the checkpoint (else the learned tensors)."""
    from tlc.train import train
    wanted = []
    if args.fact_dir is not None:     # only -F looks inputs up by name: parse for them only then
        program = frontend(*load_source(filename))
        wanted = [n for n, info in program.tensors.items() if not info.defined] + list(program.scalars)
    trained = train(filename, _inputs(args, wanted), loss=args.loss, wrt=args.wrt, opt=args.opt, lr=args.lr,
                    steps=args.steps, batch=args.batch, seed=args.seed, backend=args.backend, resume=args.resume,
                    progress=sys.stderr.isatty())
    print(f"{args.loss} = {trained.losses[-1]:.6g} after step {trained.step}")
    if args.out:
        trained.save(args.out)
    else:
        for name, value in trained.params.items():
            print(_format_value(name, value))
    return 0


def _format_value(name: str, value, full: bool = False) -> str:
    """A result as ``run`` prints it: large arrays and relations shortened as numpy does, unless ``full``."""
    if isinstance(value, rt.Relation):
        return f"{name} = {value.format(None if full else rt.PRINT_THRESHOLD)}"
    array = np.asarray(value)
    text = np.array2string(array, precision=6, suppress_small=True,
                           threshold=sys.maxsize if full else rt.PRINT_THRESHOLD)
    if array.ndim == 0:
        return f"{name} = {array.item():.6g}"
    return f"{name} {array.shape} =\n{text}"


def _format_answer(answer) -> str:
    if isinstance(answer, list):
        if not answer:
            return "no"
        if answer == [()]:
            return "yes"
        return ", ".join(str(a[0]) if len(a) == 1 else "(" + ", ".join(map(str, a)) + ")" for a in answer)
    return np.array2string(np.asarray(answer), precision=6, suppress_small=True)


def _command(args) -> int:
    if args.command == "fuzz":
        if getattr(args, "fuzz_missing", False):
            raise TlcError("tlc fuzz needs hypothesis: pip install 'tlc[test]'")
        from tlc.fuzz import campaign
        return campaign.run(args)
    if os.path.isdir(args.file):
        raise TlcError(f"{args.file} is a directory, not a program file", filename=args.file)
    source, filename = load_source(args.file) if os.path.exists(args.file) else (None, args.file)
    if source is None:
        raise TlcError(f"no such file: {args.file}", filename=args.file)
    if args.command == "grad":
        if filename.lower().endswith(".dl"):
            raise TlcError("tlc grad differentiates Tensor Logic (.tl) programs, not Datalog", filename=filename)
        return _grad(source, filename, args)
    if args.command == "train":
        return _train(filename, args)
    try:
        check_pass_names(getattr(args, "print_after", ()))
    except TlcError as err:
        raise _UsageError(err.message) from None
    opt_level = getattr(args, "opt_level", 2)
    passes = PassManager(opt_level, frozenset(getattr(args, "print_after", ())), getattr(args, "print_ir", False),
                         out=sys.stdout)
    backend = getattr(args, "backend", None) or getattr(args, "target", "numpy")
    relations = getattr(args, "relations", "auto")
    if backend == "sql":     # the SQL of the relational strata: every one planned for DuckDB
        backend, relations = "numpy", "duckdb"
    threads = getattr(args, "threads", None)
    if threads is not None and threads < 1:
        raise _UsageError(f"--threads must be at least 1, not {threads}")
    tolerance = getattr(args, "tolerance", None)
    if tolerance is not None and not tolerance > 0:
        raise _UsageError(f"--tolerance must be positive, not {tolerance}")
    options = dict(passes=passes, threads=threads, memory_limit=getattr(args, "memory_limit", None),
                   factorise=getattr(args, "factorise", None), relations=relations,
                   max_rounds=getattr(args, "max_rounds", None), database=getattr(args, "database", None))
    if getattr(args, "chunks", None) is not None:
        options["chunks"] = args.chunks
    datalog = filename.lower().endswith(".dl")
    if datalog:
        if getattr(args, "outputs", None) or tolerance is not None:
            raise _UsageError("--output and --tolerance are for .tl programs; a .dl program names its outputs "
                              "with .output")
        program = DatalogProgram(translation(args.file, dialect=args.dialect), backend, opt_level, **options)
        inputs = _datalog_inputs(args, program)
        _warn(datalog_lint(program.translation, program.source_ir, frozenset(inputs)), args)
    else:
        written = lowered(source, filename)
        origins: dict = {}
        inputs = _inputs(args, input_names(written), origins)
        _check_whole(written, inputs, args)
        checked_ir = checked(written, getattr(args, "outputs", None), tolerance)
        program = Program(checked_ir, backend, opt_level, **options)
        _warn(lint(checked_ir, supplied=frozenset(inputs)), args)
        _check_files(program, inputs, origins)
    with warnings.catch_warnings(record=True) as caught:    # notes of a call (a stored input replaced) as tlc's
        warnings.simplefilter("always", TlcWarning)
        status = _act(program, inputs, args, filename)
    for found in caught:
        if not isinstance(found.message, TlcWarning):
            warnings.showwarning(found.message, found.category, found.filename, found.lineno)
    _warn([found.message for found in caught if isinstance(found.message, TlcWarning)], args)
    return status


def _act(program: Program, inputs: dict, args, filename: str) -> int:
    """``tlc check``, ``explain``, ``compile`` or ``run`` of a compiled program on its inputs."""
    if args.command == "check":
        shaped = bool(inputs) or not program.input_names()     # without inputs every shape is known already
        if shaped:
            program.check(**inputs)
        print(f"{filename}: ok ({len(program.ir.equations)} equations, {len(program.ir.tensors)} tensors"
              f"{', shapes checked against the data' if inputs else ', shapes checked' if shaped else ''})")
        return 0
    if args.command == "explain":
        if args.explain_format == "text":
            print(program.explain(**inputs))
            return 0
        return _draw(program, inputs, args)
    if args.command == "compile":
        return _compile(program, inputs, args)
    return _run(program, inputs, args)


def _result_kinds(program: Program) -> dict[str, bool]:
    """The results a run will return, before it runs: name -> is a relation."""
    if isinstance(program, DatalogProgram):
        return {p.name: True for p in program.translation.predicates.values() if p.defined and p.used and not p.helper}
    ir = program.ir
    return {name: info.relation for name, info in ir.tensors.items()
            if info.defined and ir.is_result(name) and name in program.source_ir.tensors}


def _run(program: Program, inputs: dict, args) -> int:
    """``tlc run``: print the results (or write them to -D DIR), and write --out; both checked before running;
    on the dask backend, where ``--scheduler``/``--workers`` say."""
    cluster = {"--scheduler": args.scheduler, "--workers": args.workers,
               "--memory-limit-per-worker": args.memory_limit_per_worker}
    if program.backend != "dask":
        given = [flag for flag, value in cluster.items() if value is not None]
        if given or (args.out and _zarr(args.out)):
            raise _UsageError(f"{given[0] if given else '--out DIR.zarr'} is for --backend dask")
        return _run_here(program, inputs, args)
    from tlc.backends.dask.cluster import scheduler
    with scheduler(args.scheduler, args.workers, args.memory_limit_per_worker):
        return _run_here(program, inputs, args)


def _zarr(path: str) -> bool:
    """True for a ``.zarr`` store's path."""
    return path.lower().rstrip("/").endswith(".zarr")


def _run_here(program: Program, inputs: dict, args) -> int:
    """Run and report, on whatever scheduler is active."""
    zarr_out = args.out if args.out and _zarr(args.out) else None
    target = out_target(args.out, _result_kinds(program)) if args.out and not zarr_out else None
    if args.out_dir:
        check_directory(args.out_dir, "-D")
    show = sys.stderr.isatty() and not args.quiet
    if program.backend == "dask":
        from tlc.backends.dask.progress import computed, local_progress
        with local_progress(sys.stderr, show):
            results = program(**inputs)
            if zarr_out is not None:
                from tlc.backends.dask.files import write_zarr
                write_zarr(zarr_out, results)
            values = computed(dict(results.items()), sys.stderr, show)
    else:
        results = program(**inputs)
        values = dict(results.items())
    if isinstance(program, DatalogProgram):
        tr = program.translation
        tuples = functools.partial(program.tuples, results)
        outputs = output_names(tr)
        if outputs or args.out_dir:
            write_outputs(tr, tuples, args.out_dir or ".", None if outputs else list(results))
        else:
            _print(values, args.full)
        print_sizes(tr, tuples)
    elif args.out_dir:
        for name, value in values.items():
            if isinstance(value, rt.Relation):
                write_relation(args.out_dir, name, value)
            elif args.out_dir == STDOUT:
                print(_format_value(name, value, args.full))
            else:
                os.makedirs(args.out_dir, exist_ok=True)
                np.save(os.path.join(args.out_dir, name + ".npy"), np.asarray(value), allow_pickle=False)
    else:
        _print(values, args.full)
    for text, answer in results.answers:
        print(f"{text} {_format_answer(answer)}")
    if args.tolerance is not None:
        for report in program.report:
            report.measure()
            print(report.describe(), file=sys.stderr)
    if target is not None:
        target.write(values)
    return 0


def _print(values, full: bool = False) -> None:
    for name, value in values.items():
        print(_format_value(name, value, full))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tlc`` command; returns the exit status (0 ok, 1 user error, 2 usage)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        with progress_on(sys.stderr, not getattr(args, "quiet", False)):
            return _command(args)
    except _UsageError as err:
        parser.error(str(err))
    except rt.DataFileError as err:
        span = Span(err.line, err.column) if err.line else None
        source = None
        if err.line:
            try:
                with open(err.filename, encoding="utf-8", errors="replace") as handle:
                    source = handle.read()
            except OSError:
                pass
        print(DataError(err.message, span, filename=err.filename, source=source).render(use_colour(sys.stderr)),
              file=sys.stderr)
    except TlcError as err:
        print(err.render(use_colour(sys.stderr)), file=sys.stderr)
    except BrokenPipeError:           # the reader (``| head``) stopped early: nothing is wrong
        sys.stderr.close()
        return 0
    except OSError as err:
        print(f"tlc: error: {err}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
