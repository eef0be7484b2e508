"""``tlc.train``: learn a program's tensors by gradient descent, each step one compiled call that computes the
forward tensors, the gradients and the optimiser's update (all Tensor Logic equations)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from tlc.api import Program
from tlc.driver.source import frontend, load_source
from tlc.errors import TlcError
from tlc.gradient import default_wrt, differentiate
from tlc.train import checkpoint
from tlc.train.batches import batched, sample
from tlc.train.init import initialise
from tlc.train.optimisers import check_opt, hyper, with_update
from tlc.train.progress import Progress
from tlc_runtime.data import load_file


@dataclass
class Trained:
    """The outcome of ``tlc.train``: learned tensors, optimiser state and the loss at each step."""

    params: dict[str, np.ndarray]
    state: dict[str, dict[str, np.ndarray]]
    opt: str
    step: int
    """Updates done in total (a resumed run counts the earlier ones)."""
    losses: list[float] = field(default_factory=list)
    """The loss before each update of this run."""

    def save(self, path: str) -> None:
        """Write the learned tensors and the optimiser state to an ``.npz`` checkpoint."""
        checkpoint.save(path, self.params, self.state, self.opt, self.step)


def train(src_or_path, data, loss: str = "L", wrt=None, opt: str = "adam", lr: float = 1e-3, steps: int = 100,
          batch: int | None = None, seed: int = 0, init: dict | None = None, backend: str = "numpy",
          resume=None, progress: bool = False, **options) -> Trained:
    """Minimise the 0-d tensor ``loss`` over ``wrt`` (default: the tensors declared with ``tensor`` that
    ``data``, a mapping or an ``.npz`` path, does not supply) with ``opt`` for ``steps`` updates. Learned tensors
    start from ``init``, else ``resume`` (a ``Trained`` or a checkpoint path, see ``tlc.train.checkpoint``), else
    data, else the seeded scheme of ``tlc.train.init``; ``batch`` samples rows as ``tlc.train.batches`` says;
    ``progress`` shows a bar on standard error. Other options are ``tlc.compile``'s."""
    check_opt(opt)
    _check_numbers(lr, steps, batch)
    data = _data(data)
    program = frontend(*load_source(src_or_path))
    if wrt is None:
        wrt = [n for n in default_wrt(program) if n not in data]
        if not wrt:
            raise TlcError("nothing to learn: every tensor declared with 'tensor' is supplied as data",
                           filename=program.filename)
    wrt = [wrt] if isinstance(wrt, str) else list(dict.fromkeys(wrt))
    update = with_update(differentiate(program, loss, wrt), loss, opt)
    params, state, step = _start(program, update, data, init, resume, seed)
    compiled = Program(update.program, backend, **options)
    fixed = {n: v for n, v in data.items() if n not in params}
    rows = batched(program, fixed, wrt) if batch is not None else ()
    rng = np.random.default_rng(seed + step)
    losses: list[float] = []
    bar = Progress(steps, progress)
    try:
        for step in range(step + 1, step + steps + 1):
            inputs = {**(sample(fixed, rows, batch, rng) if rows else fixed), **params,
                      **{update.scalars[k]: v for k, v in hyper(opt, lr, step).items()},
                      **{update.state[w][s][0]: state[w][s] for w in wrt for s in update.state[w]}}
            results = compiled(**inputs)
            value = float(results[loss])
            if not math.isfinite(value):
                raise TlcError(f"the loss {loss!r} became {value} at step {step} (learning rate {lr}); "
                               "try a smaller learning rate", filename=program.filename)
            losses.append(value)
            params = {w: np.asarray(results[update.next[w]]) for w in wrt}
            state = {w: {s: np.asarray(results[n]) for s, (_, n) in update.state[w].items()} for w in wrt}
            bar.update(step, value)
    finally:
        bar.close()
    return Trained(params, state, opt, step, losses)


def _check_numbers(lr, steps, batch) -> None:
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise TlcError(f"the learning rate must be a positive number, not {lr!r}")
    if not isinstance(steps, int) or steps < 1:
        raise TlcError(f"steps must be a positive integer, not {steps!r}")
    if batch is not None and (not isinstance(batch, int) or batch < 1):
        raise TlcError(f"batch must be a positive integer, not {batch!r}")


def _data(data) -> dict:
    """The data as a dict: a mapping, or an ``.npz`` archive's arrays."""
    if isinstance(data, (str, os.PathLike)):
        loaded = load_file(os.fspath(data))
        if not isinstance(loaded, dict):
            raise TlcError(f"training data must be an .npz archive keyed by tensor name, got {data}",
                           filename=os.fspath(data))
        return loaded
    return dict(data)


def _start(program, update, data, init, resume, seed) -> tuple[dict, dict, int]:
    """Starting values, optimiser state and update count (see ``train``)."""
    wrt = list(update.next)
    params, state, step = {}, {}, 0
    if resume is not None:
        params, state, opt, step = checkpoint.load(os.fspath(resume)) if isinstance(resume, (str, os.PathLike)) \
            else (resume.params, resume.state, resume.opt, resume.step)
        if opt is not None and opt != update.opt:
            raise TlcError(f"cannot resume a run of {opt} with {update.opt}: the optimiser state differs",
                           filename=os.fspath(resume) if isinstance(resume, (str, os.PathLike)) else None)
    stray = sorted(set(init or {}) - set(wrt))
    if stray:
        raise TlcError(f"init gives {', '.join(map(repr, stray))}, which this run does not learn "
                       f"(it learns {', '.join(wrt)})", filename=program.filename)
    params = {**params, **{w: data[w] for w in wrt if w in data and w not in params}, **(init or {})}
    params.update(initialise(program, [w for w in wrt if w not in params], seed))
    params = {w: np.asarray(params[w], dtype=np.float64) for w in wrt}
    state = {w: {s: np.asarray(state.get(w, {}).get(s, np.zeros_like(params[w]))) for s in update.state[w]}
             for w in wrt}
    return params, state, step
