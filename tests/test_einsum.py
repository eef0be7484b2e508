"""Differential tests of ``tlc.einsum.einsum`` against ``numpy.einsum``."""

from __future__ import annotations

import math

import numpy as np
import opt_einsum
import pytest

from tlc.einsum import contraction_plan, einsum
from tlc.errors import EinsumError

# Copied from opt_einsum 3.4.0 tests/test_contract.py (`tests`), duplicates dropped.
OPT_EINSUM_EXPRESSIONS = [
    "a,->a", "ab,->ab", ",ab,->ab", ",,->",
    "a,ab,abc->abc", "a,b,ab->ab",
    "ea,fb,gc,hd,abcd->efgh", "ea,fb,abcd,gc,hd->efgh", "abcd,ea,fb,gc,hd->efgh",
    "acdf,jbje,gihb,hfac,gfac,gifabc,hfac", "cd,bdhe,aidb,hgca,gc,hgibcd,hgac",
    "abhe,hidj,jgba,hiab,gab", "bde,cdh,agdb,hica,ibd,hgicd,hiac",
    "chd,bde,agbc,hiad,hgc,hgi,hiad", "chd,bde,agbc,hiad,bdi,cgh,agdb", "bdhe,acad,hiab,agac,hibd",
    "ab,ab,c->", "ab,ab,c->c", "ab,ab,cd,cd->", "ab,ab,cd,cd->ac", "ab,ab,cd,cd->cd", "ab,ab,cd,cd,ef,ef->",
    "ab,cd,ef->abcdef", "ab,cd,ef->acdf", "ab,cd,de->abcde", "ab,cd,de->be",
    "ab,bcd,cd->abcd", "ab,bcd,cd->abd",
    "eb,cb,fb->cef", "dd,fb,be,cdb->cef", "bca,cdb,dbf,afc->", "dcc,fce,ea,dbf->ab", "fdf,cdd,ccd,afe->ae",
    "abcd,ad", "ed,fcd,ff,bcf->be", "baa,dcf,af,cde->be", "bd,db,eac->ace", "fff,fae,bef,def->abd",
    "efc,dbc,acf,fd->abe",
    "ab,ab", "ab,ba", "abc,abc", "abc,bac", "abc,cba",
    "ab,bc", "ab,cb", "ba,bc", "ba,cb", "abcd,cd", "abcd,ab", "abcd,cdef", "abcd,cdef->feba", "abcd,efdc",
    "aab,bc->ac", "ab,bcc->ac", "aab,bcc->ac", "baa,bcc->ac", "aab,ccb->ac",
    "aab,fa,df,ecc->bde", "ecb,fef,bad,ed->ac", "bcf,bbb,fbf,fc->", "bb,ff,be->e", "bcb,bb,fc,fff->",
    "fbb,dfd,fc,fc->", "afd,ba,cc,dc->bf", "adb,bc,fa,cfc->d", "bbd,bda,fc,db->acf", "dba,ead,cad->bce",
    "aef,fbc,dca->bde",
]

# (subscripts, operand shapes): numpy's einsum features beyond plain letters.
NUMPY_CASES = [
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,...jk", [(5, 1, 2, 3), (4, 3, 6)]),
    ("...ij,jk->...ik", [(5, 2, 3), (3, 6)]),
    ("ij...,j...->i...", [(2, 3, 4), (3, 4)]),
    ("...,...", [(2, 3), (3,)]),
    ("...i,...i", [(3,), (2, 3)]),
    ("...", [(2, 3)]),
    ("i...->...", [(2, 3, 4)]),
    ("ij->...ij", [(2, 3)]),
    ("...ij->...", [(2, 3, 4)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(4, 4)]),
    ("iij->j", [(3, 3, 2)]),
    ("iji", [(3, 2, 3)]),
    ("ii...->...i", [(3, 3, 2)]),
    ("i...i", [(3, 2, 3)]),
    ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
    ("ij,jk", [(2, 1), (3, 4)]),
    ("ij,ij->ij", [(2, 1), (1, 4)]),
    ("ij,jk,kl->il", [(1, 3), (3, 1), (4, 5)]),
    (",i", [(), (3,)]),
    (",", [(), ()]),
    ("->", [()]),
    ("i,", [(3,), ()]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij", [(2, 3)]),
    ("ji", [(2, 3)]),
    ("Ba,aC", [(2, 3), (3, 4)]),
    ("aB", [(2, 3)]),
    (" ij , jk -> ik ", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 0), (0, 3)]),
    ("ij,jk,kl->il", [(20, 30), (30, 5), (5, 40)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("i,i,i,i->", [(4,), (4,), (4,), (4,)]),
    # Large enough to take the planned (pairwise) route rather than one loop nest.
    ("...ij,...jk", [(5, 1, 20, 30), (4, 30, 25)]),
    ("ij,jk", [(200, 1), (30, 40)]),
    ("ij,ij->ij", [(200, 1), (1, 400)]),
    ("iij,jk->ik", [(30, 30, 20), (20, 40)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 40, 16), (2, 3, 50, 16)]),
    ("ab,bc,cd->ad", [(30, 40), (1, 50), (50, 20)]),
]


def _shapes(subscripts: str, loop: int) -> list[tuple[int, ...]]:
    """Shapes giving every index a size near 2-5, or large enough that the loop nest has >= ``loop`` points."""
    inputs = subscripts.split("->")[0].split(",")
    labels = set("".join(inputs))
    base = max(2, math.ceil(loop ** (1 / max(1, len(labels)))))
    return [tuple(base + ord(c) % 4 for c in term) for term in inputs]


def _random(shapes, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    arrays = []
    for shape in shapes:
        if np.dtype(dtype) == np.bool_:
            arrays.append(rng.random(shape) < 0.5)
        elif np.issubdtype(dtype, np.integer):
            arrays.append(rng.integers(1, 5, shape).astype(dtype))
        elif np.issubdtype(dtype, np.complexfloating):
            arrays.append((rng.uniform(0.5, 1.5, shape) + 1j * rng.uniform(-1, 1, shape)).astype(dtype))
        else:
            arrays.append(rng.uniform(0.5, 1.5, shape).astype(dtype))
    return arrays


def _assert_matches(got, want):
    assert np.shape(got) == np.shape(want)
    assert np.result_type(got) == np.result_type(want)
    assert type(got) is type(want) or np.ndim(want) > 0
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("loop", [1, 2**15], ids=["one-loop", "planned"])
@pytest.mark.parametrize("subscripts", OPT_EINSUM_EXPRESSIONS)
def test_opt_einsum_expressions(subscripts, loop):
    shapes = _shapes(subscripts, loop)
    arrays = _random(shapes, seed=len(subscripts))
    _assert_matches(einsum(subscripts, *arrays), np.einsum(subscripts, *arrays))
    if loop > 1 and len(shapes) > 1 and subscripts.replace(",", "").replace("->", ""):
        assert contraction_plan(subscripts, tuple(shapes)).path[0] == "einsum_path"


@pytest.mark.parametrize(("subscripts", "shapes"), NUMPY_CASES)
def test_numpy_features(subscripts, shapes):
    arrays = _random(shapes, seed=1)
    _assert_matches(einsum(subscripts, *arrays), np.einsum(subscripts, *arrays))


@pytest.mark.parametrize("optimize", [True, False, "greedy", "optimal", "dp", "branch-2", ("greedy", 0), ("optimal", 100)])
def test_optimize_strategies(optimize):
    arrays = _random([(13, 14), (14, 15), (15, 16), (16, 13)], seed=2)
    got = einsum("ab,bc,cd,da->", *arrays, optimize=optimize)
    _assert_matches(got, np.einsum("ab,bc,cd,da->", *arrays))


def test_explicit_numpy_path():
    arrays = _random([(30, 40), (40, 50), (50, 20)], seed=3)
    path, _ = np.einsum_path("ab,bc,cd->ad", *arrays, optimize="optimal")
    _assert_matches(einsum("ab,bc,cd->ad", *arrays, optimize=path), np.einsum("ab,bc,cd->ad", *arrays))
    plan = contraction_plan("ab,bc,cd->ad", tuple(a.shape for a in arrays), tuple(path[1:]))
    assert plan.path == tuple(path)


@pytest.mark.parametrize(
    "args",
    [
        lambda a, b, c: (a, [0, 1], b, [1, 2], [0, 2]),
        lambda a, b, c: (a, [0, 1], b, [1, 2]),
        lambda a, b, c: (a, [1, 0]),
        lambda a, b, c: (a, [0, 0]),
        lambda a, b, c: (c, [Ellipsis, 0, 1], b, [1, 2], [Ellipsis, 0, 2]),
        lambda a, b, c: (c, [Ellipsis, 0, 1], b, [1, 2]),
        lambda a, b, c: (a, [np.int64(0), 51], b, [51, 2], [2, 0]),
        lambda a, b, c: (a, (0, 1), b, (1, 2), ()),
    ],
)
def test_interleaved_form(args):
    a, b, c = _random([(3, 3), (3, 4), (2, 3, 3)], seed=4)
    _assert_matches(einsum(*args(a, b, c)), np.einsum(*args(a, b, c)))


@pytest.mark.parametrize(
    "dtypes",
    [
        ("int64", "int64"), ("int32", "int32"), ("uint8", "uint8"), ("bool", "bool"),
        ("float32", "float32"), ("float16", "float16"), ("complex128", "complex128"),
        ("int32", "float32"), ("int8", "float64"), ("bool", "int64"), ("float32", "complex64"),
    ],
)
@pytest.mark.parametrize(("subscripts", "shapes"), [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk,kl->il", [(3, 4), (4, 5), (5, 2)]),
    ("i,i", [(5,), (5,)]),
    ("ii,ij->j", [(3, 3), (3, 2)]),
    ("ij,jk->ik", [(30, 40), (40, 50)]),
    ("ij,jk,kl->il", [(20, 30), (30, 40), (40, 10)]),
])
def test_dtypes_match_numpy(dtypes, subscripts, shapes):
    arrays = [_random([s], seed=5, dtype=d)[0] for s, d in zip(shapes, dtypes * 2)]
    got, want = einsum(subscripts, *arrays), np.einsum(subscripts, *arrays)
    assert np.result_type(got) == np.result_type(want)
    # numpy's own float16 loop nest accumulates in float16 and drifts ~1.5% on these sums.
    np.testing.assert_allclose(got, want, rtol=3e-2 if "float16" in dtypes else 1e-5)


def test_mixed_dtypes_compute_in_the_common_type():
    # Pairwise int8 products would wrap before meeting the float operand; numpy computes in float32.
    a, c = np.full(3, 100, np.int8), np.ones(3, np.float32)
    assert einsum("i,i,i->", a, a, c) == np.einsum("i,i,i->", a, a, c) == 30000


def test_python_scalars_and_lists():
    _assert_matches(einsum("i,i", [1, 2], [3, 4]), np.einsum("i,i", [1, 2], [3, 4]))
    _assert_matches(einsum(",i", 3, np.ones(2)), np.einsum(",i", 3, np.ones(2)))
    _assert_matches(einsum(",", 3, 2), np.einsum(",", 3, 2))


ERRORS = [
    ("i", [(3,), (3,)], "name 1 operands but 2"),
    ("i,i", [(3,)], "name 2 operands but 1"),
    ("i,j", [], "at least one operand"),
    ("i->j", [(2,)], "'j' does not appear"),
    ("ij->ii", [(2, 3)], "'i' appears more than once"),
    ("ij,ij", [(2, 3), (2, 4)], "'j' has size 3 in operand 0 but 4 in operand 1"),
    ("ij,jk,kl", [(2, 3), (3, 4), (5, 6)], "'k' has size 4"),
    ("ijk", [(2, 3)], "too many indices for operand 0"),
    ("...ijk", [(2, 3)], "too many indices for operand 0"),
    ("i", [(2, 3)], "no '...'"),
    ("i1", [(2, 3)], "invalid index '1'"),
    ("ij->j->j", [(2, 3)], "'->' more than once"),
    ("ij-j", [(2, 3)], "invalid index '-'"),
    ("ij>j", [(2, 3)], "invalid index '>'"),
    ("ij->i,j", [(2, 3)], "invalid index ','"),
    ("...i...", [(2, 3)], "not part of a single '...'"),
    ("..i", [(2, 3)], "not part of a single '...'"),
    ("....i", [(2, 3)], "not part of a single '...'"),
    ("i->..", [(2,)], "not part of a single '...'"),
    ("ii->i", [(2, 3)], "'i' repeats in operand 0 with different sizes 2 and 3"),
    ("ii", [(1, 3)], "different sizes"),
    ("...i->i", [(2, 3)], "output has no '...'"),
    ("...ij,...jk", [(5, 2, 3), (4, 3, 6)], "index '...' has size 5"),
]


@pytest.mark.parametrize(("subscripts", "shapes", "message"), ERRORS)
def test_errors(subscripts, shapes, message):
    arrays = _random(shapes)
    with pytest.raises(EinsumError, match=message.replace("(", r"\(")) as info:
        einsum(subscripts, *arrays)
    assert isinstance(info.value, ValueError)
    with pytest.raises(ValueError):
        np.einsum(subscripts, *arrays)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (lambda a: (a, [0, 52]), r"outside the valid range \[0, 52\)"),
        (lambda a: (a, [0, -1]), "outside the valid range"),
        (lambda a: (a, ["a", "b"]), "neither an integer nor Ellipsis"),
        (lambda a: (a, [0, 1], a, [1]), "operand 1 has rank 2"),
        (lambda a: (a,), "at least one operand followed by its subscript list"),
    ],
)
def test_interleaved_errors(args, message):
    with pytest.raises(EinsumError, match=message) as info:
        einsum(*args(np.ones((2, 2))))
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("optimize", "message"),
    [("nope", "invalid optimize='nope'"), (("greedy", "x"), "must be a number"), ([1, 2], "is not a bool")],
)
def test_bad_optimize(optimize, message):
    with pytest.raises(EinsumError, match=message):
        einsum("ij,jk,kl", np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)), optimize=optimize)


def test_second_call_uses_cached_plan(monkeypatch):
    arrays = _random([(7, 11), (11, 13), (13, 30)], seed=6)
    first = einsum("ab,bc,cd->ad", *arrays)
    before = contraction_plan.cache_info()

    def no_planning(*args, **kwargs):
        raise AssertionError("a cached call must not plan again")

    monkeypatch.setattr(opt_einsum, "contract_path", no_planning)
    second = einsum("ab,bc,cd->ad", *arrays)
    after = contraction_plan.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)
    np.testing.assert_array_equal(first, second)


def test_plan_depends_on_shapes_not_values():
    a, b = _random([(17, 19), (19, 23)], seed=7)
    einsum("ij,jk", a, b)
    misses = contraction_plan.cache_info().misses
    _assert_matches(einsum("ij,jk", b.T, a.T), np.einsum("ij,jk", b.T, a.T))
    assert contraction_plan.cache_info().misses == misses + 1
    einsum("ij,jk", 2 * a, b)
    assert contraction_plan.cache_info().misses == misses + 1
