"""Initial values of learned tensors, from their ``tensor`` declarations.

The scheme (seeded by ``numpy.random.default_rng(seed)``, drawing in the order the tensors are learned):
a tensor of rank >= 2 is Glorot-uniform, U(-a, a) with a = sqrt(6 / (fan_in + fan_out)), fan_out the first
extent and fan_in the product of the others (``W[i, j] X[j]``: i is the output, j the input); a tensor of rank
0 or 1 (a bias, a scalar) starts at zero.
"""

from __future__ import annotations

import math

import numpy as np

from tlc.errors import TlcError
from tlc.ir.program import Program


def declared_shape(program: Program, name: str) -> tuple[int, ...]:
    """The extents ``tensor name[...]`` declares (integer consts resolved), or a located TlcError."""
    decl = program.shapes.get(name)
    if decl is None:
        info = program.tensors[name]
        raise TlcError(f"cannot initialise the learned tensor {name!r}: declare its shape (tensor {name}[...]) "
                       "or supply it as data", info.first_use.span, filename=program.filename, source=program.source)
    dims = tuple(program.consts.get(d, d) if isinstance(d, str) else d for d in decl.dims)
    if not all(isinstance(d, int) for d in dims):
        raise TlcError(f"cannot initialise the learned tensor {name!r}: its extents must be integers",
                       decl.span, filename=program.filename, source=program.source)
    return dims


def initialise(program: Program, names, seed: int = 0) -> dict[str, np.ndarray]:
    """A float64 starting value for each tensor in ``names``, by the module's seeded scheme."""
    rng = np.random.default_rng(seed)
    values = {}
    for name in names:
        shape = declared_shape(program, name)
        if len(shape) < 2:
            values[name] = np.zeros(shape)
        else:
            bound = math.sqrt(6.0 / (shape[0] + math.prod(shape[1:])))
            values[name] = rng.uniform(-bound, bound, size=shape)
    return values
