"""Training checkpoints: ``OUT.npz`` holds the learned tensors keyed by name (so ``tlc run --data OUT.npz``
reads them as inputs) and ``OUT.opt.npz`` beside it the optimiser's state: ``name`` (the optimiser), ``step``
(updates done) and ``W.m`` / ``W.v`` (tensor ``W``'s moments). Resuming from an archive without the state file
starts the optimiser afresh from those tensors."""

from __future__ import annotations

import os

import numpy as np

from tlc.errors import TlcError
from tlc_runtime.data import load_file, save_npz


def state_path(path) -> str:
    """The optimiser state's file for the checkpoint ``path``."""
    path = os.fspath(path)
    return (path[:-4] if path.endswith(".npz") else path) + ".opt.npz"


def save(path, params: dict, state: dict, opt: str, step: int) -> None:
    """Write the learned tensors to ``path`` and the optimiser state beside it (``state_path``)."""
    save_npz(os.fspath(path), {name: np.asarray(value) for name, value in params.items()})
    arrays = {"name": np.array(opt), "step": np.array(step)}
    for name, moments in state.items():
        arrays.update({f"{name}.{s}": np.asarray(value) for s, value in moments.items()})
    save_npz(state_path(path), arrays)


def load(path) -> tuple[dict, dict, str | None, int]:
    """``(params, state, optimiser, step)`` from a checkpoint written by ``save`` (no state file: ``({}, None, 0)``
    for the last three)."""
    params = _archive(os.fspath(path))
    if not os.path.exists(state_path(path)):
        return params, {}, None, 0
    arrays = _archive(state_path(path))
    if "name" not in arrays or "step" not in arrays:
        raise TlcError("not an optimiser state written by tlc train --out", filename=state_path(path))
    state: dict[str, dict] = {}
    for key, value in arrays.items():
        if key.count(".") == 1:
            name, s = key.split(".")
            state.setdefault(name, {})[s] = value
    return params, state, str(arrays["name"]), int(arrays["step"])


def _archive(path: str) -> dict:
    loaded = load_file(path)
    if not isinstance(loaded, dict):
        raise TlcError("a checkpoint must be an .npz archive keyed by tensor name", filename=path)
    return loaded
