"""Tests of ``tlc.contract``: paths valid and correct, never worse than greedy, slicing, budgets, cache, errors."""

from __future__ import annotations

import math
import random
import time

import networkx as nx
import numpy as np
import opt_einsum
import pytest
from opt_einsum.testing import build_shapes, rand_equation

from tlc.contract import cache_clear, cache_info, contract, contract_path, contract_sliced, search
from tlc.contract.cost import Network, tree_cost, tree_to_path
from tlc.errors import EinsumError, TlcError

# From opt_einsum 3.4.0 tests/test_contract.py (`tests`), duplicates dropped.
OPT_EINSUM_EXPRESSIONS = [
    "a,->a",
    "ab,->ab",
    ",ab,->ab",
    ",,->",
    "a,ab,abc->abc",
    "a,b,ab->ab",
    "ea,fb,gc,hd,abcd->efgh",
    "ea,fb,abcd,gc,hd->efgh",
    "abcd,ea,fb,gc,hd->efgh",
    "acdf,jbje,gihb,hfac,gfac,gifabc,hfac",
    "cd,bdhe,aidb,hgca,gc,hgibcd,hgac",
    "abhe,hidj,jgba,hiab,gab",
    "bde,cdh,agdb,hica,ibd,hgicd,hiac",
    "chd,bde,agbc,hiad,hgc,hgi,hiad",
    "chd,bde,agbc,hiad,bdi,cgh,agdb",
    "bdhe,acad,hiab,agac,hibd",
    "ab,ab,c->",
    "ab,ab,c->c",
    "ab,ab,cd,cd->",
    "ab,ab,cd,cd->ac",
    "ab,ab,cd,cd->cd",
    "ab,ab,cd,cd,ef,ef->",
    "ab,cd,ef->abcdef",
    "ab,cd,ef->acdf",
    "ab,cd,de->abcde",
    "ab,cd,de->be",
    "ab,bcd,cd->abcd",
    "ab,bcd,cd->abd",
    "eb,cb,fb->cef",
    "dd,fb,be,cdb->cef",
    "bca,cdb,dbf,afc->",
    "dcc,fce,ea,dbf->ab",
    "fdf,cdd,ccd,afe->ae",
    "abcd,ad",
    "ed,fcd,ff,bcf->be",
    "baa,dcf,af,cde->be",
    "bd,db,eac->ace",
    "fff,fae,bef,def->abd",
    "efc,dbc,acf,fd->abe",
    "ab,ab",
    "ab,ba",
    "abc,abc",
    "abc,bac",
    "abc,cba",
    "ab,bc",
    "ab,cb",
    "ba,bc",
    "ba,cb",
    "abcd,cd",
    "abcd,ab",
    "abcd,cdef",
    "abcd,cdef->feba",
    "abcd,efdc",
    "aab,bc->ac",
    "ab,bcc->ac",
    "aab,bcc->ac",
    "baa,bcc->ac",
    "aab,ccb->ac",
    "aab,fa,df,ecc->bde",
    "ecb,fef,bad,ed->ac",
    "bcf,bbb,fbf,fc->",
    "bb,ff,be->e",
    "bcb,bb,fc,fff->",
    "fbb,dfd,fc,fc->",
    "afd,ba,cc,dc->bf",
    "adb,bc,fa,cfc->d",
    "bbd,bda,fc,db->acf",
    "dba,ead,cad->bce",
    "aef,fbc,dca->bde",
]
DIMS = {c: 2 + k % 4 for k, c in enumerate("abcdefghij")}


def _arrays(shapes, seed=0):
    """Random non-zero operands for ``shapes``."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.5, 1.5, size=s) * rng.choice([-1, 1], size=s) for s in shapes]


def _network(n, regularity, seed, n_out=0, d_max=3, **kwargs):
    """A random connected-ish network with small extents and at most 52 indices (numpy's alphabet)."""
    eq, shapes = rand_equation(n, regularity, n_out=n_out, d_min=2, d_max=d_max, seed=seed, **kwargs)
    return eq, [tuple(s) for s in shapes]


def _regular(n, seed, bond=2):
    """A random 3-regular graph as a scalar network: one tensor per node, one summed index per edge."""
    g = nx.random_regular_graph(3, n, seed=seed)
    symbol = {frozenset(e): opt_einsum.get_symbol(k) for k, e in enumerate(g.edges())}
    terms = ["".join(symbol[frozenset((u, v))] for v in g.neighbors(u)) for u in g.nodes()]
    return ",".join(terms) + "->", [(bond,) * len(t) for t in terms]


def _check(eq, arrays, **kwargs):
    """Plan ``eq`` and check path, info and result against numpy.einsum."""
    path, info = contract_path(eq, *arrays, **kwargs)
    assert list(info.path) == path
    got = contract_sliced(eq, *arrays, path=path, sliced=info.sliced)
    # numpy's own planner caps intermediates at the largest input and can fall back to one huge loop nest.
    reference_path, _ = opt_einsum.contract_path(eq, *arrays, optimize="greedy")
    want = np.einsum(eq, *arrays, optimize=["einsum_path", *reference_path])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    _, oe_info = opt_einsum.contract_path(eq, *arrays, optimize=path)
    if not info.sliced:
        assert info.opt_cost == oe_info.opt_cost
        np.testing.assert_allclose(opt_einsum.contract(eq, *arrays, optimize=path), want, rtol=1e-9, atol=1e-12)
    return path, info


@pytest.mark.parametrize("eq", OPT_EINSUM_EXPRESSIONS)
def test_opt_einsum_expressions_match_numpy(eq):
    _check(eq, _arrays(build_shapes(eq, DIMS)))


@pytest.mark.parametrize("n", [4, 6, 9, 12, 20])
def test_matrix_chains(n):
    dims = np.random.default_rng(n).integers(2, 40, size=n + 1).tolist()
    eq = ",".join(opt_einsum.get_symbol(i) + opt_einsum.get_symbol(i + 1) for i in range(n))
    eq += "->" + opt_einsum.get_symbol(0) + opt_einsum.get_symbol(n)
    _check(eq, _arrays(list(zip(dims, dims[1:]))))


@pytest.mark.parametrize(
    "n,regularity,seed,n_out",
    [(10, 3, 1, 0), (12, 3, 2, 2), (16, 3, 3, 1), (20, 3, 4, 0), (25, 3, 5, 2), (30, 3, 6, 0), (14, 4, 7, 3)],
)
def test_random_networks_match_numpy(n, regularity, seed, n_out):
    eq, shapes = _network(n, regularity, seed, n_out)
    _check(eq, _arrays(shapes, seed))


def test_hyperedges_and_broadcasting():
    eq, shapes = _network(12, 3, 11, n_out=1, global_dim=True)  # one index on every operand
    _check(eq, _arrays(shapes))
    a, b, c, d = _arrays([(2, 3, 4), (2, 4, 5), (5, 1), (2, 3, 1)])
    _check("...ij,...jk,kl,...il->...", [a, b, c, d])
    _check("ab,bc,cd,da,ac", _arrays([(3, 4), (4, 5), (5, 1), (1, 3), (3, 5)]))


@pytest.mark.parametrize("seed", range(8))
def test_never_worse_than_greedy(seed):
    rng = random.Random(seed)
    eq, shapes = _network(rng.randint(8, 30), rng.choice([3, 4]), seed, n_out=rng.randint(0, 2), d_max=5)
    _, info = contract_path(eq, *shapes, shapes=True)
    _, greedy = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize="greedy")
    assert info.opt_cost <= greedy.opt_cost


def test_small_terms_are_exact():
    for seed in range(5):
        eq, shapes = _network(6, 3, seed, n_out=1, d_max=6)
        _, info = contract_path(eq, *shapes, shapes=True)
        _, best = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize="optimal")
        assert info.strategy == "optimal"
        assert info.opt_cost <= best.opt_cost


def test_three_operands_do_not_search():
    a, b, c = _arrays([(30, 40), (40, 50), (50, 2)])
    cache_clear()
    start = time.perf_counter()
    path, info = contract_path("ij,jk,kl->il", a, b, c)
    assert time.perf_counter() - start < 0.05
    assert info.strategy == "trivial"
    assert path == [(1, 2), (0, 1)]


@pytest.mark.parametrize("kind", ["random-greedy", "partition", "community", "spectral"])
def test_every_sampler_gives_a_valid_tree(kind):
    eq, shapes = _network(24, 3, 21, n_out=2)
    inputs, output = eq.split("->")
    sizes = {c: n for t, s in zip(inputs.split(","), shapes) for c, n in zip(t, s)}
    net = Network.build(inputs.split(","), output, sizes)
    tree = search._sample(kind, net, search.weighted_graph(net), random.Random(0), None)
    path = tree_to_path(tree, net.root)
    _, info = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize=path)
    assert tree_cost(net, tree) == (int(info.opt_cost), int(info.largest_intermediate))
    better, _ = search.reconfigure(net, tree, time.perf_counter() + 5, rng=random.Random(1))
    assert tree_cost(net, better)[0] <= tree_cost(net, tree)[0]


def test_memory_limit_slices_and_stays_correct():
    eq, shapes = _network(14, 3, 31, n_out=1, d_max=4)
    arrays = _arrays(shapes)
    _, free = contract_path(eq, *arrays)
    limit = int(free.largest_intermediate) // 8
    limit = max(limit, *(math.prod(s) for s in shapes), 4)
    path, info = _check(eq, arrays, memory_limit=limit)
    assert info.largest_intermediate <= limit
    if info.sliced:
        assert info.n_slices == math.prod(info.size_dict[c] for c in info.sliced)
        assert info.opt_cost >= info.unsliced_cost / 2
    np.testing.assert_allclose(contract(eq, *arrays, memory_limit=limit), contract_sliced(eq, *arrays, path=path))


@pytest.mark.parametrize(
    "eq,shapes",
    [("abc,cde,efa,bdf->", [(4, 4, 4)] * 4), _regular(16, 0), _regular(30, 1)],
)
def test_memory_limit_forces_slicing(eq, shapes):
    arrays = _arrays(shapes)
    limit = max(math.prod(s) for s in shapes)  # in a 3-regular graph every intermediate is bigger
    path, info = _check(eq, arrays, memory_limit=limit)
    assert info.sliced and info.n_slices > 1
    assert info.largest_intermediate <= limit
    assert not set(info.sliced) & set(info.eq.split("->")[1])
    assert info.opt_cost >= info.unsliced_cost


def test_generous_memory_limit_changes_nothing():
    eq, shapes = _network(12, 3, 5)
    _, free = contract_path(eq, *shapes, shapes=True)
    limit = max(int(free.largest_intermediate), *(math.prod(s) for s in shapes))
    _, limited = contract_path(eq, *shapes, shapes=True, memory_limit=limit)
    assert limited.sliced == () and limited.n_slices == 1
    assert limited.opt_cost == free.opt_cost


@pytest.mark.parametrize(
    "eq,shapes,limit",
    [("ij,jk->ik", [(10, 10), (10, 10)], 50), ("ij,jk,kl->", [(100, 2), (2, 3), (3, 4)], 99)],
)
def test_impossible_memory_limit_raises(eq, shapes, limit):
    with pytest.raises(EinsumError, match="memory_limit"):
        contract_path(eq, *shapes, shapes=True, memory_limit=limit)


def test_time_budget_zero_is_greedy():
    eq, shapes = _network(30, 3, 8)
    path, info = contract_path(eq, *shapes, shapes=True, time_budget=0)
    greedy_path, greedy = opt_einsum.contract_path(eq, *shapes, shapes=True, optimize="greedy")
    assert info.strategy == "greedy"
    assert info.opt_cost == greedy.opt_cost
    _check(eq, _arrays(shapes), time_budget=0)


def test_time_budget_zero_with_memory_limit_still_slices_correctly():
    eq, shapes = _regular(16, 3)
    path, info = _check(eq, _arrays(shapes), memory_limit=8, time_budget=0)
    assert info.strategy in ("greedy, then sliced", "greedy, limit-aware, sliced")
    assert info.sliced and info.largest_intermediate <= 8


def test_explicit_time_budget_is_respected():
    eq, shapes = _network(40, 3, 9)
    start = time.perf_counter()
    contract_path(eq, *shapes, shapes=True, time_budget=0.3)
    assert time.perf_counter() - start < 1.5


def test_cache_hit_on_repeat():
    eq, shapes = _network(16, 3, 10)
    cache_clear()
    path, info = contract_path(eq, *shapes, shapes=True)
    hits = cache_info().hits
    path.append((0, 1))  # the caller's list is theirs: changing it must not touch the cached plan
    again, info_again = contract_path(eq, *shapes, shapes=True)
    assert cache_info().hits == hits + 1
    assert info_again is info and again == path[:-1]


def test_deterministic_given_seed():
    eq, shapes = _network(28, 3, 12, n_out=1)
    cache_clear()
    one = contract_path(eq, *shapes, shapes=True)
    cache_clear()
    two = contract_path(eq, *shapes, shapes=True)
    assert one[0] == two[0] and one[1].strategy == two[1].strategy


@pytest.mark.parametrize(
    "eq,shapes,kwargs,match",
    [
        ("ij,jk->ik", [(2, 3)], {}, "operands"),
        ("ij,jk->ik->i", [(2, 3), (3, 4)], {}, "'->'"),
        ("ij,j1->i", [(2, 3), (3, 4)], {}, "invalid index"),
        ("ij,jk->iz", [(2, 3), (3, 4)], {}, "does not appear"),
        ("ij,jk->ii", [(2, 3), (3, 4)], {}, "more than once"),
        ("ijk,jk->i", [(2, 3), (3, 4)], {}, "does not match"),
        ("ij,jk->ik", [(2, 3), (4, 5)], {}, "extent"),
        ("i.j,jk->ik", [(2, 3), (3, 4)], {}, r"\.\.\."),
        ("ij,jk->ik", [(2, 3), (3, 4)], {"memory_limit": 0}, "memory_limit"),
        ("ij,jk->ik", [(2, 3), (3, 4)], {"memory_limit": 2.5}, "memory_limit"),
        ("ij,jk->ik", [(2, 3), (3, 4)], {"time_budget": -1}, "time_budget"),
        ("ij,jk->ik", [(2, -3), (3, 4)], {}, "non-negative"),
    ],
)
def test_malformed_input_raises_einsum_error(eq, shapes, kwargs, match):
    with pytest.raises(EinsumError, match=match) as err:
        contract_path(eq, *shapes, shapes=True, **kwargs)
    assert isinstance(err.value, (TlcError, ValueError))


def test_other_malformed_calls():
    with pytest.raises(EinsumError):
        contract_path(["ij"], np.ones((2, 2)))
    with pytest.raises(EinsumError, match="at least one"):
        contract_path("->")
    with pytest.raises(EinsumError, match="shapes=True"):
        contract_path("ij", np.ones((2, 2)), shapes=True)
    a, b = np.ones((2, 3)), np.ones((3, 4))
    with pytest.raises(EinsumError, match="output index"):
        contract_sliced("ij,jk->ik", a, b, path=[(0, 1)], sliced=["i"])
    with pytest.raises(EinsumError, match="does not appear"):
        contract_sliced("ij,jk->ik", a, b, path=[(0, 1)], sliced=["z"])


def test_info_reports_like_opt_einsum():
    a, b, c, d = _arrays([(8, 9), (9, 10), (10, 11), (11, 12)])
    path, info = contract_path("ij,jk,kl,lm->im", a, b, c, d)
    _, oe_info = opt_einsum.contract_path("ij,jk,kl,lm->im", a, b, c, d, optimize="optimal")
    assert info.eq == "ij,jk,kl,lm->im"
    assert info.opt_cost == oe_info.opt_cost
    assert info.largest_intermediate == info.path_info.largest_intermediate
    assert info.sliced == () and info.n_slices == 1
    assert "Strategy:  optimal" in str(info) and "Optimized FLOP count" in repr(info)
