"""Low-rank factorisation of weight tensors (CP, Tucker, tensor train) and §6 densification of relations."""

from tlc.factorise.decompositions import METHODS, Decomposition, Leg, decompose
from tlc.factorise.densify import Densified, densify

__all__ = ["METHODS", "Decomposition", "Densified", "Leg", "decompose", "densify"]
