"""Training checkpoints: one ``.npz`` archive holding the learned tensors keyed by name, and the optimiser's
state under keys a tensor name cannot take: ``opt.name`` (the optimiser), ``opt.step`` (updates done) and
``opt.W.m`` / ``opt.W.v`` (tensor ``W``'s moments)."""

from __future__ import annotations

import os

import numpy as np

from tlc.errors import TlcError
from tlc_runtime.data import load_file, save_npz


def save(path: str, params: dict, state: dict, opt: str, step: int) -> None:
    """Write a checkpoint ``tlc train --resume`` (or ``tlc.train(resume=path)``) continues from."""
    arrays = {name: np.asarray(value) for name, value in params.items()}
    arrays["opt.name"], arrays["opt.step"] = np.array(opt), np.array(step)
    for name, moments in state.items():
        arrays.update({f"opt.{name}.{s}": np.asarray(value) for s, value in moments.items()})
    save_npz(os.fspath(path), arrays)


def load(path: str) -> tuple[dict, dict, str, int]:
    """``(params, state, optimiser, step)`` from a checkpoint written by ``save``."""
    arrays = load_file(path)
    if not isinstance(arrays, dict) or "opt.name" not in arrays or "opt.step" not in arrays:
        raise TlcError(f"{path} is not a training checkpoint (written by tlc train --out)", filename=path)
    params = {name: value for name, value in arrays.items() if not name.startswith("opt.")}
    state: dict[str, dict] = {}
    for key, value in arrays.items():
        if key.startswith("opt.") and key.count(".") == 2:
            _, name, s = key.split(".")
            state.setdefault(name, {})[s] = value
    return params, state, str(arrays["opt.name"]), int(arrays["opt.step"])
