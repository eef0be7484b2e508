"""Fast, honest convergence: min=/max= recursions detect negative or gaining cycles after one round per node
of a chain (Bellman-Ford) instead of one per element; ``max_rounds=`` / ``--max-rounds`` bound every fixpoint;
a still-changing sum says "did not converge after N rounds (last change e)", a diverging one "diverges", and an
oscillation is reported when a round gives back the state of two rounds before.

The sizes are such that the old rules took minutes (a 200-node negative cycle: 40,001 rounds; a 300x300
oscillation: 10,000 rounds of a 300^3 product) and the new ones take seconds; the time guards are generous."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest
from scipy.sparse.csgraph import csgraph_from_dense, shortest_path

import tlc

SHORTEST = "D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] + W[y, z]"
LONGEST = "L[x, z] max= G[x, z]\nL[x, z] max= L[x, y] + G[y, z]"
RELIABLE = "R[x, z] max= P[x, z]\nR[x, z] max= R[x, y] P[y, z]"
WIDEST = "B[x, z] max= C[x, z]\nB[x, z] max= min(B[x, y], C[y, z])"
CLOSURE = "Path(x, y) = Edge(x, y)\nPath(x, z) = Path(x, y) Edge(y, z)"


def ring(n: int, weight: float, none: float) -> np.ndarray:
    """Edges i -> i+1 (mod n) of ``weight``, ``none`` elsewhere."""
    w = np.full((n, n), none)
    w[np.arange(n), (np.arange(n) + 1) % n] = weight
    return w


def timed(fn):
    start = time.perf_counter()
    try:
        fn()
    finally:
        timed.elapsed = time.perf_counter() - start


# ------------------------------------------------------------------------------------------ cycles
@pytest.mark.slow
def test_negative_cycle_on_200_nodes_is_found_after_201_rounds(compile_tl):
    """A ring whose one edge makes the 200-edge cycle negative: the cycle is only seen after 200 rounds."""
    w = ring(200, 1.0, np.inf)
    w[199, 0] = -250.0
    prog = compile_tl(SHORTEST)
    prog.specialisation(W=w)
    with pytest.raises(tlc.TlcError, match="D has a negative cycle: its values still change after 201 rounds") \
            as err:
        timed(lambda: prog(W=w))
    assert (err.value.line, err.value.column) == (2, 1)
    assert str(err.value).splitlines()[0].startswith("<input>:2:1: error: D has a negative cycle")
    assert timed.elapsed < 30, timed.elapsed


def test_gaining_cycle_for_max_plus(compile_tl):
    g = ring(120, 1.0, -np.inf)    # longest paths around a positive cycle: no fixpoint
    with pytest.raises(tlc.TlcError, match="L has a gaining cycle: its values still change after 121 rounds") \
            as err:
        compile_tl(LONGEST)(G=g)
    assert err.value.line == 2


def test_gaining_cycle_for_max_product(compile_tl):
    p = ring(30, 0.95, 0.0)
    p[29, 0] = 20.0                 # the cycle's product is 20 * 0.95^29 > 1
    with pytest.raises(tlc.TlcError, match="R has a gaining cycle") as err:
        compile_tl(RELIABLE)(P=p)
    assert err.value.line == 2
    p[29, 0] = 0.5                  # and < 1: most probable paths converge
    got = compile_tl(RELIABLE)(P=p)["R"]
    assert got[0, 29] == pytest.approx(0.95 ** 29)


def test_a_cycle_through_every_node_still_converges(compile_tl):
    """D[x, x] is the 60-edge ring itself: found in round 60, so round 61 sees nothing change."""
    d = compile_tl(SHORTEST)(W=ring(60, 2.0, np.inf))["D"]
    assert np.all(np.diag(d) == 120.0)
    assert d[0, 59] == 118.0 and d[59, 0] == 2.0


# ------------------------------------------------------------------------------ results unchanged
@pytest.mark.parametrize("n, seed", [(40, 0), (150, 1), (131, 2)])
def test_shortest_paths_match_scipy(n, seed, compile_tl):
    """Random graphs with positive weights (150 and 131 nodes run in blocks on the NumPy backend)."""
    rng = np.random.default_rng(seed)
    w = np.where(rng.random((n, n)) < 4 / n, rng.uniform(0.1, 10.0, (n, n)), np.inf)
    np.fill_diagonal(w, np.inf)
    dist = shortest_path(csgraph_from_dense(w, null_value=np.inf), directed=True)
    expected = dist.copy()         # D holds paths of at least one edge: its diagonal is the shortest cycle
    np.fill_diagonal(expected, np.min(w + dist.T, axis=1))
    np.testing.assert_allclose(compile_tl(SHORTEST)(W=w)["D"], expected)


@pytest.mark.parametrize("src, name, times, n", [(WIDEST, "C", np.minimum, 90), (RELIABLE, "P", np.multiply, 70)])
def test_widest_and_most_probable_paths_in_blocks_match_floyd_warshall(src, name, times, n, compile_tl):
    """90 and 70 nodes: the NumPy backend runs the fold in blocks of 6 and 10 rows."""
    rng = np.random.default_rng(3)
    w = np.where(rng.random((n, n)) < 0.05, rng.uniform(0.2, 1.0, (n, n)), 0.0)
    expected = w.copy()
    for k in range(n):
        expected = np.maximum(expected, times(expected[:, k:k + 1], expected[k:k + 1, :]))
    np.testing.assert_allclose(compile_tl(src)(**{name: w})[src[0]], expected)


def test_max_step_that_improves_boundedly_is_not_a_gaining_cycle(compile_tl):
    """0.5 X + 1 is not a path step: each trip around the self-loop gains less, and X reaches 2 after ~54
    rounds; the old rule (one round per element) called this a gaining cycle after 4."""
    got = compile_tl("X[i] max= A[i]\nX[i] max= 0.5 X[i] + 1")(A=np.array([1.0, 0.0, 3.0]))["X"]
    np.testing.assert_array_equal(got, [2.0, 2.0, 3.0])


def test_explain_states_the_bound_and_why():
    w = np.ones((5, 5))
    text = tlc.compile(SHORTEST).explain(W=w)
    assert "converges within 6 rounds, or fails: a chain of derivations visits at most 5 elements (every " \
           "recursive read keeps axis 0 of its LHS" in text
    assert "mean a negative cycle (min=) or a gaining one (max=)" in text
    squaring = tlc.compile("D[x, z] min= W[x, z]\nD[x, z] min= D[x, y] + D[y, z]").explain(W=w)
    assert "converges within 26 rounds, or fails: a chain of derivations visits at most 25 elements;" in squaring
    capped = tlc.compile(SHORTEST, max_rounds=3).explain(W=w)
    assert "converges within 3 rounds, or fails: max_rounds=3 (below the 6 rounds of the cycle test" in capped
    summed = tlc.compile("X[i] = 0.5 X[i] + A[i]", max_rounds=70).explain(A=np.ones(3))
    assert "converges within 70 rounds, or fails: max_rounds=70 for a recursion with a sum" in summed
    relations = tlc.compile(CLOSURE, relations="dense", max_rounds=4).explain(Edge=[(0, 1)])
    assert "at most 4 semi-naive rounds (max_rounds=4)" in relations


# --------------------------------------------------------------------------------- max_rounds
def test_max_rounds_on_a_numeric_fixpoint(compile_tl):
    src = "X[i] = B[i]\nX[i] = X[i] + A[i]"
    with pytest.raises(tlc.TlcError, match=r"X did not converge after 50 rounds \(last change 1\): the limit is "
                                           r"max_rounds=50") as err:
        compile_tl(src, max_rounds=50)(A=np.ones(3), B=np.zeros(3))
    assert (err.value.line, err.value.column) == (2, 1)
    got = compile_tl("X[i] = 0.5 X[i] + A[i]", max_rounds=200)(A=np.ones(3))["X"]    # converges within it
    np.testing.assert_array_equal(got, [2.0, 2.0, 2.0])
    with pytest.raises(tlc.TlcError, match=r"did not converge after 20 rounds \(last change 1.91e-06\)"):
        compile_tl("X[i] = 0.5 X[i] + A[i]", max_rounds=20)(A=np.ones(3))


def test_max_rounds_below_the_cycle_test_is_not_called_a_cycle(compile_tl):
    with pytest.raises(tlc.TlcError, match=r"D did not converge after 3 rounds \(5 elements "
                                           r"reached for the first time\): the limit is max_rounds=3"):
        compile_tl(SHORTEST, max_rounds=3)(W=ring(5, 1.0, np.inf))
    w = ring(50, 1.0, np.inf)
    w[49, 0] = -60.0    # above the cycle test's 51 rounds, the cycle test decides
    with pytest.raises(tlc.TlcError, match="D has a negative cycle: its values still change after 51 rounds"):
        compile_tl(SHORTEST, max_rounds=1000)(W=w)


@pytest.mark.parametrize("relations", ["sparse", "dense"])
def test_max_rounds_on_a_seminaive_stratum(relations, compile_tl):
    chain = [(k, k + 1) for k in range(10)]
    prog = compile_tl(CLOSURE, relations=relations, max_rounds=4)
    with pytest.raises(tlc.TlcError, match=r"Path did not converge after 4 rounds \(the last derived \d+ new "
                                           r"tuples\): the limit is max_rounds=4") as err:
        prog(Edge=chain)
    assert err.value.line == 2
    assert len(set(compile_tl(CLOSURE, relations=relations, max_rounds=10)(Edge=chain)["Path"])) == 55


def test_max_rounds_on_a_dense_tensor_seminaive_stratum(compile_tl):
    """A numeric factor makes the rule no Datalog rule: the general dense semi-naive loop runs."""
    src = "Reach(x) = Start(x)\nReach(y) = Reach(x) Edge(x, y) Open[y]"
    edge = np.eye(12, k=1, dtype=bool)
    start = np.eye(12, dtype=bool)[0]
    with pytest.raises(tlc.TlcError, match=r"Reach did not converge after 5 rounds \(the last derived 1 new tuple\)"):
        compile_tl(src, max_rounds=5)(Start=start, Edge=edge, Open=np.ones(12))
    assert len(set(compile_tl(src, max_rounds=12)(Start=start, Edge=edge, Open=np.ones(12))["Reach"])) == 12


def test_max_rounds_leaves_the_closure_strategy_alone():
    """Squaring is not a round-by-round fixpoint: it ends after about log2(n) products whatever max_rounds is."""
    prog = tlc.compile(CLOSURE, relations="closure", max_rounds=2)
    chain = [(k, k + 1) for k in range(10)]
    assert len(set(prog(Edge=chain)["Path"])) == 55
    assert "semi-naive rounds" not in prog.explain()


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "7"])
def test_max_rounds_must_be_a_positive_integer(bad):
    with pytest.raises(tlc.TlcError, match="max_rounds must be a positive integer"):
        tlc.compile(SHORTEST, max_rounds=bad)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "tlc", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_max_rounds_on_the_command_line(tmp_path):
    src = tmp_path / "grow.tl"
    src.write_text("# grows by A each round\nX[i] = X[i] + A[i]\n")
    np.save(tmp_path / "a.npy", np.ones(3))
    data = f"A={tmp_path / 'a.npy'}"
    done = run_cli("run", str(src), "--input", data, "--max-rounds", "40")
    assert done.returncode == 1, done
    assert f"{src}:2:1: error: X did not converge after 40 rounds (last change 1)" in done.stderr
    assert "Traceback" not in done.stderr
    explained = run_cli("explain", str(src), "--input", data, "--max-rounds", "40")
    assert explained.returncode == 0 and "converges within 40 rounds, or fails: max_rounds=40" in explained.stdout
    compiled = run_cli("compile", str(src), "--input", data, "--max-rounds", "40")
    assert compiled.returncode == 0 and "rt.Fixpoint(('X',), ('sum',), ((2, 1),), 40, False" in compiled.stdout
    bad = run_cli("run", str(src), "--input", data, "--max-rounds", "0")
    assert bad.returncode == 2 and "max_rounds must be a positive integer, not 0" in bad.stderr


# ----------------------------------------------------------------------- divergence, oscillation
def test_an_oscillating_300x300_recursion_is_reported_at_once(compile_tl):
    """X = B - P X with P the reversal permutation and P B = B alternates between B and 0."""
    rng = np.random.default_rng(4)
    p = np.eye(300)[::-1].copy()
    b = rng.random((300, 300))
    b = b + p @ b
    prog = compile_tl("X[i, j] = B[i, j] - P[i, k] X[k, j]")
    with pytest.raises(tlc.TlcError, match="X oscillates between two states: round 2 gives back the state of "
                                           "round 0") as err:
        timed(lambda: prog(P=p, B=b))
    assert (err.value.line, err.value.column) == (1, 1)
    assert timed.elapsed < 30, timed.elapsed


def test_a_scalar_flip_oscillates(compile_tl):
    with pytest.raises(tlc.TlcError, match=r"X oscillates between two states: .*\(they differ by 1\)"):
        compile_tl("X[i] = 1 - X[i]")(X=np.zeros(4))


def test_values_that_become_infinite_still_diverge(compile_tl):
    with pytest.raises(tlc.TlcError, match=r"X diverges: no fixpoint \(values became infinite in round \d+\)") \
            as err:
        compile_tl("X[i] = A[i]\nX[i] = 2 X[i]")(A=np.ones(3))
    assert err.value.line == 2


def test_max_rounds_through_the_datalog_front_door():
    import tlc.datalog
    prog = tlc.datalog.compile("path(X,Y) :- edge(X,Y). path(X,Z) :- path(X,Y), edge(Y,Z).", relations="sparse",
                               max_rounds=2)
    with pytest.raises(tlc.TlcError, match=r"path did not converge after 2 rounds") as err:
        prog(edge=[(k, k + 1) for k in range(6)])
    assert err.value.line == 1


def test_the_emitted_loop_stays_readable():
    """One loop per recursion, its bound and reason as a comment, the checks in one runtime call."""
    source = tlc.compile(SHORTEST).source(W=np.ones((4, 4)))
    assert source.count("while True:") == 1
    assert "# converges within 5 rounds, or fails: a chain of derivations visits at most 4 elements" in source
    assert "_fixpoint = rt.Fixpoint(('D',), ('min',), ((2, 1),), 5, True," in source
    assert "if _fixpoint.settled((_new_D,), (D,)):" in source
