"""What every benchmark records beside its figures: the machine it ran on, and one JSON results file.

Benchmarks run as scripts (``python benchmarks/bench_x.py``), so this module is imported by its plain name."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def add_json_option(parser, name: str) -> None:
    """Add ``--json OUT`` to ``parser``, defaulting to ``benchmarks/results/NAME.json``."""
    parser.add_argument("--json", type=Path, default=RESULTS / f"{name}.json", metavar="OUT",
                        help="write the figures here as JSON (default: %(default)s)")


def machine(**versions) -> dict:
    """The run's machine, Python, NumPy, command line and load average, plus any library ``versions`` given."""
    return {"platform": platform.platform(), "python": platform.python_version(), "numpy": np.__version__,
            **versions, "cpus": os.cpu_count(), "load": os.getloadavg(),
            "command": " ".join([os.path.basename(sys.executable), *sys.argv])}


def write_json(path: Path, results: dict, started: float | None = None) -> None:
    """Write ``results`` to ``path`` (creating its folder) and say so, with the run's wall time since ``started``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=_plain) + "\n", encoding="utf-8")
    took = f" in {time.perf_counter() - started:.0f} s" if started is not None else ""
    print(f"wrote {path}{took}")


def _plain(value):
    """NumPy scalars and arrays as Python numbers and lists; anything else as its text."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    return str(value)
