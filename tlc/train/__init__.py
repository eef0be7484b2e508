"""Training: optimisers emitted as Tensor Logic equations, initialisation, batching and the training loop."""

from tlc.train.api import Trained, train
from tlc.train.optimisers import OPTIMISERS, Update, with_update

__all__ = ["OPTIMISERS", "Trained", "Update", "train", "with_update"]
