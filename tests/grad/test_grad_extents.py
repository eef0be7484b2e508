"""``tlc.gradient.extents``: the axes known, before any data, to be at least (or exactly) as long as their domain's
inputs."""

import pytest

from tlc.api import frontend
from tlc.gradient.extents import exact_axes, full_axes, joined


def _full(source: str) -> set:
    program = frontend(source)
    return full_axes(program.equations, program.shapes)


@pytest.mark.parametrize("source, full, short", [
    ("H[n, h] = relu(W[h, d] X[n, d] + B[h])\nZ[n, k] = V[k, h] H[n, h]\n", [("H", 0), ("H", 1), ("Z", 1)], []),
    ("T0[p] = X0[p + 1]\nT[q] = T0[q] X[q]\n", [("X0", 0), ("X", 0)], [("T0", 0), ("T", 0)]),
    ("M[b, m] = concat(A[b, h, v])\n", [("M", 0), ("A", 1)], [("M", 1)]),
    ("P[x/2] = X[x]\nQ[i] = X[i] X[i + 1]\n", [("X", 0)], [("P", 0), ("Q", 0)]),
    ("tensor Y[5]\nY[i] = B[i]\nZ[i] = Y[i]\n", [("B", 0)], [("Y", 0), ("Z", 0)]),
    ("P[i] = A[i] + M[i, j] P[j]\nR[i] = P[i] P[i]\n", [("P", 0), ("R", 0)], []),
    ("S[i] = X[i] + S[i]\n", [], [("S", 0)]),
])
def test_axes_written_plainly_from_full_axes_are_full(source, full, short):
    found = _full(source)
    assert set(full) <= found
    assert not set(short) & found


def test_axes_are_joined_through_chains_of_plain_variables():
    program = frontend("T0[p] = X0[p + 1]\nT[q] = T0[q] X2[q]\nG[q] = T0[q]\n")
    assert joined(program.equations, ("G", 0), ("X2", 0))
    assert not joined(program.equations, ("G", 0), ("X0", 0))


@pytest.mark.parametrize("source, exact, inexact", [
    ("H[n, h] = relu(W[h, d] X[n, d] + B[h])\nZ[n, k] = V[k, h] H[n, h]\n",
     [("W", 0), ("X", 1), ("H", 0), ("H", 1), ("Z", 0), ("Z", 1)], []),
    ("R0[0] = 1.0\nT[i] = X[i] + R0[i]\n", [("X", 0)], [("R0", 0), ("T", 0)]),
    ("T[i] = X[i]\nT[0] += 1\n", [("X", 0)], [("T", 0)]),
    ("tensor Y[5]\nY[i] = B[i]\nZ[i] = Y[i]\n", [("B", 0)], [("Y", 0), ("Z", 0)]),
    ("P[i] = A[i] + M[i, j] P[j]\nR[i] = P[i] P[i]\n", [("P", 0), ("R", 0)], []),
    ("T0[p] = X0[p + 1]\nT[q] = T0[q] X[q]\n", [("X", 0)], [("T0", 0), ("T", 0)]),
])
def test_axes_written_plainly_from_an_exact_axis_and_full_ones_are_exact(source, exact, inexact):
    program = frontend(source)
    found = exact_axes(program.equations, program.shapes, full_axes(program.equations, program.shapes))
    assert set(exact) <= found
    assert not set(inexact) & found
