"""The test tree's layout: pytest (``rootdir``/prepend import mode) puts the directory of every test module and
conftest on ``sys.path``, so a subdirectory there named like a package the tests import would shadow it when it
is missing (``tests/triton/`` made the triton tests fail instead of skipping without the extra)."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent

IMPORTED = {"tlc", "tlc_runtime", "numpy", "scipy", "lark", "opt_einsum", "networkx", "llvmlite", "triton", "torch",
            "hypothesis", "yaml", "datalog_conformance", "pytest"}
"""Top-level packages the tests and tlc import, the optional extras among them."""


def test_no_test_directory_shadows_a_package():
    on_path = {p.parent for p in TESTS.rglob("*.py") if p.name.startswith("test_") or p.name == "conftest.py"}
    shadowing = sorted(str(d.relative_to(TESTS)) for d in on_path for sub in d.iterdir()
                       if sub.is_dir() and sub.name in IMPORTED)
    assert not shadowing, f"test directories named like packages, next to test modules: {shadowing}"

