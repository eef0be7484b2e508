"""Training: optimisers emitted as Tensor Logic equations, initialisation, batching and the training loop."""
