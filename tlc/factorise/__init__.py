"""Low-rank factorisation of weight tensors (CP, Tucker, tensor train) and §6 densification of relations."""

from tlc.factorise.decompose import METHODS, Decomposition, Leg, decompose

__all__ = ["METHODS", "Decomposition", "Leg", "decompose"]
