"""The grammar ships inside the installed package, and emitted code needs only tlc_runtime."""

import importlib.resources
import subprocess
import sys

import tlc


def test_grammar_is_package_data():
    grammar = importlib.resources.files("tlc.grammar").joinpath("tensorlogic.lark")
    assert grammar.is_file() and "AGGREGATOR" in grammar.read_text()


def test_emitted_code_runs_without_the_compiler(tmp_path):
    prog = tlc.compile("Parent(Bob, Charlie)\nParent(Charlie, Dana)\n"
                       "Ancestor(x, y) = Parent(x, y)\nAncestor(x, z) = Ancestor(x, y) Parent(y, z)\n")
    module = tmp_path / "family_numpy.py"
    module.write_text(prog.source())
    script = ("import sys; sys.modules['tlc'] = None\n"
              f"import importlib.util; spec = importlib.util.spec_from_file_location('m', {str(module)!r})\n"
              "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
              "print(int(m.run({})['Ancestor'].sum()))")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "3"


def test_every_package_directory_is_listed_in_pyproject():
    """setuptools installs only the packages pyproject.toml lists: a new package directory must be listed."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(root).parts) for p in (root / "tlc").rglob("__init__.py")}
    assert found - listed == set(), "add these to [tool.setuptools] packages"
