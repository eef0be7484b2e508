"""Helpers shared by the triton backend's tests (imported by name: pytest puts this directory on the path)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]


def nz(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Random values in ±[0.5, 1.5): never near zero, so no check passes by multiplying zeros."""
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def run_without_interpreter(script: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run Python ``script`` with this checkout on the path and ``TRITON_INTERPRET`` unset."""
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "runtime"), env.get("PYTHONPATH", "")])
    env["TRITON_DEFAULT_FP_FUSION"] = "1"
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=timeout)
