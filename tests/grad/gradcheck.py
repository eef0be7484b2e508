"""Finite-difference oracle shared by the gradient tests."""

import numpy as np
import pytest

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


def _output(source: str) -> tuple[str, int]:
    """The first tensor defined with no virtual index, and its rank."""
    from tlc.api import frontend
    program = frontend(source)
    name = next(eq.lhs.name for eq in program.equations if eq.lhs.name not in program.virtual_axes)
    return name, program.tensors[name].rank


def check_identity(source: str, shapes: dict, wrt, backend: str, positive: bool = False, extra: dict | None = None,
                   scale: float = 1.0) -> None:
    """Assert <dY, J v> = <J^T dY, v> for the tensor Y the first equation defines: J^T dY is tlc.grad of <Y, dY>
    (dY random), J v the central difference of Y along a random direction v (``scale`` times U(-1, 1))."""
    name, rank = _output(source)
    inputs = {**random_inputs(shapes, seed=1, positive=positive), **(extra or {})}
    y = np.asarray(tlc.compile(source, backend=backend, outputs=[name])(**inputs)[name], dtype=float)
    rng = np.random.default_rng(2)
    dy = rng.uniform(-1.0, 1.0, size=y.shape)
    v = {w: scale * rng.uniform(-1.0, 1.0, size=np.shape(inputs[w])) for w in wrt}
    index = ", ".join(f"i{a}" for a in range(rank))
    shifted = ", ".join(f"i{a} + z{a}" for a in range(rank))  # + z (z = 0): dY's extents are not tied to Y's domain
    ones = " ".join(f"ONE[z{a}]" for a in range(rank))
    dot = f"{source}\nGDOT = {name}[{shifted}] GDY[{index}] {ones}" if rank else f"{source}\nGDOT = {name}[] GDY"
    program = tlc.grad(dot, loss="GDOT", wrt=wrt, backend=backend)
    results = program(**inputs, GDY=dy, ONE=np.ones(1)) if rank else program(**inputs, GDY=float(dy))
    transposed = sum(float(np.sum(results[g] * v[w])) for w, g in program.gradients.items())
    forward = tlc.compile(source, backend=backend, outputs=[name])
    h = 1e-6
    moved = [np.asarray(forward(**{**inputs, **{w: inputs[w] + s * h * v[w] for w in wrt}})[name], dtype=float)
             for s in (1.0, -1.0)]
    jv = (moved[0] - moved[1]) / (2 * h)
    assert transposed == pytest.approx(float(np.sum(dy * jv)), rel=1e-6, abs=1e-8)
