"""tlc: the Tensor Logic compiler."""

from tlc.api import Program, Results, compile
from tlc.driver.rows import Rows
from tlc.einsum import contract_path, einsum
from tlc.errors import DataError, EinsumError, TlcError, TlcWarning
from tlc.gradient import GradientProgram, grad
from tlc.train import Trained, train
from tlc_runtime import Weights

__version__ = "0.1.0"
__all__ = ["DataError", "EinsumError", "GradientProgram", "Program", "Results", "Rows", "TlcError", "TlcWarning",
           "Trained", "Weights", "compile",
           "contract_path", "einsum", "grad", "train"]
