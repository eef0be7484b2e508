"""The datalog-conformance suite's ``basic``, ``errors``, ``negation`` and ``recursion`` program cases,
run through ``tlc.datalog.conformance.TlcEvaluator`` (the ``defeasible`` theories are out of scope).

Every case passes or is a strict xfail whose reason is listed in docs/datalog.md. The suite's own
collection (its plugin's ``yaml_test_case`` fixture) reads all 21 MB of YAML with the pure-Python
loader, which takes minutes, so by default the cases are collected here with libyaml; the two largest
files (16 MB lubm, 3 MB hmmer) are only scanned for case names at collection and loaded when their first
case runs (about 10 s), so selecting other cases stays quick. ``pytest tests/conformance --datalog-evaluator=
tlc.datalog.conformance.TlcEvaluator`` also runs the plugin's own parametrisation (``test_plugin_case``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

pytest.importorskip("datalog_conformance")
yaml = pytest.importorskip("yaml")

from datalog_conformance import YamlTestRunner, schema  # noqa: E402
from datalog_conformance.plugin import get_tests_dir  # noqa: E402

from tlc.datalog.conformance import TlcEvaluator  # noqa: E402

CATEGORIES = ("basic", "errors", "negation", "recursion")

_NEMO_LOCAL = ("Nemo reads a variable that occurs only in a negated literal (P in `not s3(X, 5, P)`, "
               "line 9 of this program) as existential inside the negation; tlc.datalog rejects the rule as "
               "unsafe, like Souffle, Clingo and this suite's errors/review_v2_unsafe_negation case")

LAZY = ("recursion/souffle_example_hmmer", "recursion/souffle_example_lubm")
"""Files too large to load at collection (3 MB and 16 MB of YAML): loaded when their first case runs."""

XFAIL = {
    **{f"negation/nemo_negation::nemo_negation_{name}": _NEMO_LOCAL for name in (
        "projectedZ", "filteredX", "projectedX", "projectedY", "projectedXZ", "multiple", "singlePositionY",
        "filteredY", "reordered", "filteredZ", "projectedXY", "projectedYZ", "singlePositionX",
        "singlePositionZ")},
}
"""Cases expected to fail, by id (``category/file::case``), with the reason."""

EVALUATOR = TlcEvaluator()
RUNNER = YamlTestRunner(EVALUATOR)
DUCKDB_RUNNER = YamlTestRunner(TlcEvaluator(relations="duckdb"))
NATIVE_RUNNER = YamlTestRunner(TlcEvaluator(backend="llvm", relations="sparse"))
"""The llvm backend with every recursive stratum sparse: native semi-naive joins (or a native closure)."""


@dataclass(frozen=True)
class _Case:
    """A suite case, loaded now or (for the large files) when its test runs."""

    path: Path
    name: str
    case: schema.TestCase | None = None

    def load(self) -> schema.TestCase:
        if self.case is not None:
            return self.case
        return next(c for c in _load(self.path) if c.name == self.name)


@functools.lru_cache(maxsize=1)   # a large file's cases all load it: once
def _load(path: Path) -> list[schema.TestCase]:
    """The file's cases, merged as the suite's plugin merges a multi-case file (source, tags, verification)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    if raw is None:
        return []
    if "tests" not in raw:
        return [schema.TestCase.from_dict(raw)]
    cases = []
    for entry in raw["tests"]:
        merged = dict(entry)
        for key in ("source", "verification"):
            if key not in merged and raw.get(key) is not None:
                merged[key] = raw[key]
        if raw.get("tags"):
            merged["tags"] = [*raw["tags"], *merged.get("tags", [])]
        cases.append(schema.TestCase.from_dict(merged))
    return cases


_NAME_LINE = re.compile(r"^(?:- )?name:\s*(.+?)\s*$")


def _names(path: Path) -> list[str]:
    """Case names of a large file without parsing it: top-level ``name:`` or ``- name:`` lines."""
    with path.open(encoding="utf-8") as handle:
        return [yaml.safe_load(m[1]) for line in handle if (m := _NAME_LINE.match(line))]


def _expectation(case_id: str):
    if case_id in XFAIL:
        return pytest.mark.xfail(strict=True, reason=XFAIL[case_id])
    return None


def _params():
    root = get_tests_dir()
    params = []
    for category in CATEGORIES:
        for path in sorted((root / category).rglob("*.yaml")):
            relative = path.relative_to(root).with_suffix("").as_posix()
            cases = [_Case(path, name) for name in _names(path)] if relative in LAZY else \
                [_Case(path, c.name, c) for c in _load(path)]
            for case in cases:
                case_id = f"{relative}::{case.name}"
                mark = _expectation(case_id)
                params.append(pytest.param(case, id=case_id, marks=[mark] if mark else []))
    return params


PARAMS = _params()


def test_every_listed_failure_exists():
    """Each xfail names a real case, so the table cannot silently go stale."""
    ids = {p.id for p in PARAMS}
    assert set(XFAIL) <= ids
    assert all(any(i.startswith(f"{stem}::") for i in ids) for stem in LAZY)


@pytest.mark.parametrize("case", PARAMS)
def test_conformance(case: _Case):
    loaded = case.load()
    if loaded.skip:
        pytest.skip(loaded.skip)
    RUNNER.run_test_case(loaded)


@pytest.mark.parametrize("case", PARAMS)
def test_conformance_in_duckdb(case: _Case):
    """Every case again with the relational strata inside DuckDB: the same model (or the same error)."""
    pytest.importorskip("duckdb")
    loaded = case.load()
    if loaded.skip:
        pytest.skip(loaded.skip)
    DUCKDB_RUNNER.run_test_case(loaded)


@pytest.mark.parametrize("case", PARAMS)
def test_conformance_on_llvm_native_joins(case: _Case):
    """Every case again on the llvm backend with sparse strata, which run as native joins: the same model (or the
    same error)."""
    pytest.importorskip("llvmlite")
    loaded = case.load()
    if loaded.skip:
        pytest.skip(loaded.skip)
    NATIVE_RUNNER.run_test_case(loaded)


def test_plugin_case(yaml_test_case, runner, request):
    """The suite plugin's own parametrisation; collected only with ``--datalog-evaluator`` (see conftest)."""
    path, case = yaml_test_case
    relative = path.relative_to(get_tests_dir()).with_suffix("").as_posix()
    if case.program is None or relative.split("/")[0] not in CATEGORIES:
        pytest.skip("tlc.datalog runs the basic, errors, negation and recursion program cases")
    mark = _expectation(f"{relative}::{case.name}")
    if mark is not None:
        request.applymarker(mark)
    runner.run_test_case(case)
