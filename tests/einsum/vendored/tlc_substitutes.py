"""numpy and opt_einsum as the vendored tests see them: every attribute theirs except tlc's drop-ins."""

from __future__ import annotations

import types

import numpy
import opt_einsum

from tlc.einsum import contract, contract_path, einsum


class _WithTlc(types.ModuleType):
    """A module that is ``base`` except for the attributes given (tlc's functions)."""

    def __init__(self, base: types.ModuleType, **replaced: object) -> None:
        super().__init__(base.__name__, base.__doc__)
        self.__dict__.update(replaced)
        self._base = base

    def __getattr__(self, name: str) -> object:
        return getattr(self._base, name)


numpy_with_tlc = _WithTlc(numpy, einsum=einsum)
"""``numpy`` with ``einsum`` replaced by ``tlc.einsum.einsum`` (``einsum_path`` stays numpy's)."""
opt_einsum_with_tlc = _WithTlc(opt_einsum, contract=contract, contract_path=contract_path)
"""``opt_einsum`` with ``contract`` and ``contract_path`` replaced by tlc's."""

__all__ = ["contract", "contract_path", "numpy_with_tlc", "opt_einsum_with_tlc"]
