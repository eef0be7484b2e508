"""Gradients as Tensor Logic programs: the reverse-mode transform (IR -> IR) and its front doors."""

from tlc.gradient.api import GradientProgram, differentiate, grad
from tlc.gradient.transform import Gradient, default_wrt, gradient

__all__ = ["Gradient", "GradientProgram", "default_wrt", "differentiate", "grad", "gradient"]
