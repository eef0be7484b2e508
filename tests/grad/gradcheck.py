"""Finite-difference oracle shared by the gradient tests."""

import numpy as np

import tlc


def random_inputs(shapes: dict, seed: int = 0, positive: bool = False) -> dict:
    """Random float64 inputs away from zero (magnitudes in [0.2, 1.2)), positive on request."""
    rng = np.random.default_rng(seed)
    inputs = {}
    for name, shape in shapes.items():
        value = rng.uniform(0.2, 1.2, size=shape)
        inputs[name] = value if positive else value * rng.choice([-1.0, 1.0], size=shape)
    return inputs


def numeric_gradient(source: str, loss: str, inputs: dict, name: str, backend: str, h: float = 1e-6) -> np.ndarray:
    """dL/d(inputs[name]) by central differences of the forward program."""
    forward = tlc.compile(source, backend=backend, outputs=[loss])
    base = np.asarray(inputs[name], dtype=float)
    result = np.zeros_like(base)
    for idx in np.ndindex(base.shape):
        total = 0.0
        for sign in (1.0, -1.0):
            moved = base.copy()
            moved[idx] += sign * h
            total += sign * float(forward(**{**inputs, name: moved})[loss])
        result[idx] = total / (2 * h)
    return result


def check_gradients(source: str, shapes: dict, backend: str, wrt=None, loss: str = "L", positive: bool = False,
                    extra: dict | None = None) -> tlc.GradientProgram:
    """Assert tlc.grad agrees with central differences for every ``wrt`` tensor; return the compiled gradient."""
    inputs = {**random_inputs(shapes, positive=positive), **(extra or {})}
    program = tlc.grad(source, loss=loss, wrt=wrt, backend=backend)
    results = program(**inputs)
    for name, gradient_name in program.gradients.items():
        expected = numeric_gradient(source, loss, inputs, name, backend)
        assert np.all(np.isfinite(expected)), f"the finite differences of d{loss}/d{name} are not finite"
        np.testing.assert_allclose(results[gradient_name], expected, rtol=1e-5, atol=1e-7,
                                   err_msg=f"d{loss}/d{name}")
    return program
