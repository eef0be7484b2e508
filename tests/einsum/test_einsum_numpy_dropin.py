"""``tlc.einsum`` against ``numpy.einsum``: numpy's keywords, dtypes, 0-d results, bytes, labels and error classes."""

from __future__ import annotations

import numpy as np
import pytest
from opt_einsum import get_symbol

import tlc
from tlc.einsum import einsum

RNG = np.random.default_rng(17)


def _random(*shape, dtype=np.float64):
    """Non-zero values of ``dtype``."""
    values = RNG.uniform(0.5, 1.5, shape)
    return values.astype(dtype) if np.dtype(dtype).kind != "i" else RNG.integers(1, 5, shape).astype(dtype)


SIGNATURES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk,kl->il", [(30, 40), (40, 50), (50, 6)]),   # large enough for the pairwise route
    ("i,i->", [(7,), (7,)]),
    ("ii->i", [(4, 4)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
]


@pytest.mark.parametrize("optimize", [True, False, "greedy"])
@pytest.mark.parametrize(("subscripts", "shapes"), SIGNATURES)
def test_out_is_filled_and_returned(subscripts, shapes, optimize):
    arrays = [_random(*s) for s in shapes]
    want = np.einsum(subscripts, *arrays, optimize=optimize)
    out = np.zeros(np.shape(want))
    got = einsum(subscripts, *arrays, out=out, optimize=optimize)
    assert got is out
    np.testing.assert_allclose(out, want)


def test_zero_dimensional_out_on_the_pairwise_route():
    # numpy's pairwise route writes a float result into an int out (gh-31350); its loop nest refuses.
    a = np.ones(7)
    out = np.array(0)
    einsum("i,i->", a, a, out=out, optimize="optimal")
    assert out == 7
    with pytest.raises(TypeError) as info:
        einsum("i,i->", a, a, out=np.array(0), optimize=False)
    assert isinstance(info.value, tlc.TlcError)


@pytest.mark.parametrize("optimize", [True, False])
@pytest.mark.parametrize(("subscripts", "shapes"), SIGNATURES)
def test_dtype_and_casting(subscripts, shapes, optimize):
    arrays = [_random(*s, dtype=np.int64) for s in shapes]
    for dtype, casting in [("f8", "unsafe"), ("f4", "same_kind"), ("c16", "safe")]:
        want = np.einsum(subscripts, *arrays, dtype=dtype, casting=casting, optimize=optimize)
        got = einsum(subscripts, *arrays, dtype=dtype, casting=casting, optimize=optimize)
        assert np.result_type(got) == np.result_type(want)
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_casting_refusal_is_numpys_type_error():
    a = _random(3, 3)
    with pytest.raises(TypeError):
        np.einsum("ij->i", a, dtype="i4")
    with pytest.raises(TypeError) as info:
        einsum("ij->i", a, dtype="i4")
    assert isinstance(info.value, tlc.TlcError)


@pytest.mark.parametrize("order", ["C", "F", "A", "K"])
def test_order(order):
    a, b = _random(4, 5), _random(5, 6)
    want = np.einsum("ij,jk->ik", a, b, order=order)
    got = einsum("ij,jk->ik", a, b, order=order)
    assert got.flags.c_contiguous == want.flags.c_contiguous and got.flags.f_contiguous == want.flags.f_contiguous
    np.testing.assert_allclose(got, want)


@pytest.mark.parametrize("optimize", [True, False, "greedy"])
def test_object_arrays(optimize):
    a = np.array([[1, 2], [3, 4]], dtype=object) * (10**20)
    b = np.array([[5, 6], [7, 8]], dtype=object)
    want = np.einsum("ij,jk->ik", a, b, optimize=optimize)
    got = einsum("ij,jk->ik", a, b, optimize=optimize)
    assert got.dtype == object and got.tolist() == want.tolist()


@pytest.mark.parametrize(("subscripts", "operands"), [
    ("i,i", [np.arange(1.0, 4.0), np.arange(2.0, 5.0)]),
    ("ij->", [np.ones((3, 4))]),
    ("...", [np.float64(2.5)]),
    ("", [np.array(3)]),
    ("ij,ij", [np.ones((40, 50)), np.ones((40, 50))]),
])
def test_zero_dimensional_results_are_numpy_scalars(subscripts, operands):
    want = np.einsum(subscripts, *operands)
    got = einsum(subscripts, *operands)
    assert type(got) is type(want)
    assert got == want


def test_bytes_subscripts():
    a, b = _random(3, 4), _random(4, 5)
    np.testing.assert_allclose(einsum(b"ij,jk->ik", a, b), np.einsum(b"ij,jk->ik", a, b))


def test_non_ascii_labels_match_letters():
    a, b, c = _random(3, 4), _random(4, 5), _random(5, 2)
    s = [get_symbol(k) for k in (200, 300, 400, 500)]
    got = einsum(f"{s[0]}{s[1]},{s[1]}{s[2]},{s[2]}{s[3]}->{s[0]}{s[3]}", a, b, c)
    np.testing.assert_allclose(got, np.einsum("ij,jk,kl->il", a, b, c))
    implicit = einsum(f"{s[1]}{s[0]}", a)     # implicit output: labels sorted, as numpy sorts letters
    np.testing.assert_allclose(implicit, a.T if s[0] < s[1] else a)


def test_more_labels_than_letters():
    n = 60
    labels = [get_symbol(k) for k in range(n + 1)]
    arrays = [_random(2, 2) for _ in range(n)]
    terms = ",".join(labels[k] + labels[k + 1] for k in range(n))
    got = einsum(f"{terms}->{labels[0]}{labels[n]}", *arrays)
    want = np.linalg.multi_dot(arrays)
    np.testing.assert_allclose(got, want)


def test_interleaved_labels_keep_numpys_order():
    a = _random(2, 3)
    assert einsum(a, [30, 0]).shape == np.einsum(a, [30, 0]).shape == (3, 2)


@pytest.mark.parametrize("optimize", [("greedy", 0), ("optimal", 0), ("greedy", 10**6), ["einsum_path", (1, 2), (0, 1)],
                                      [(1, 2), (0, 1)]])
def test_numpy_optimize_forms(optimize):
    a, b, c = _random(30, 40), _random(40, 50), _random(50, 6)
    np.testing.assert_allclose(einsum("ij,jk,kl->il", a, b, c, optimize=optimize), a @ b @ c)


CALLS = [
    ("no operands", (), {}),
    ("subscripts only", ("",), {}),
    ("not a sublist", (0, 0), {}),
    ("operand count", ("", 0, 0), {}),
    ("rank", ("ij", [0, 0]), {}),
    ("invalid label", ("i%", [0.0]), {}),
    ("bad out", ("i", [1.0]), {"out": "x"}),
    ("bad order", ("i", [1.0]), {"order": "W"}),
    ("bad casting", ("i", [1.0]), {"casting": "blah"}),
    ("bad dtype", ("i", [1.0]), {"dtype": "bad_data_type"}),
    ("unknown keyword", ("i", [1.0]), {"bad_arg": 0}),
    ("out shape", ("ij->ij", np.ones((2, 3))), {"out": np.zeros((3, 2))}),
    ("unknown strategy", ("ij,jk,kl", np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2))), {"optimize": "nope"}),
    ("incomplete path", ("ab,bc,cd,de->ae", *[np.ones((2, 2))] * 4), {"optimize": ["einsum_path", (2, 3), (0, 1)]}),
    ("interleaved range", (np.ones((2, 2)), [0, 52]), {}),
    ("interleaved label", (np.ones((2, 2)), ["a", "b"]), {}),
    ("sizes", ("ij,jk", np.ones((2, 3)), np.ones((2, 3))), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), CALLS, ids=[c[0] for c in CALLS])
def test_errors_are_tlc_errors_of_numpys_class(name, args, kwargs):
    with pytest.raises(Exception) as expected:
        np.einsum(*args, **kwargs)
    with pytest.raises(tlc.TlcError) as info:
        einsum(*args, **kwargs)
    assert isinstance(info.value, type(expected.value)), (type(info.value).__mro__, type(expected.value))


def test_incomplete_path_says_what_is_missing():
    with pytest.raises(tlc.TlcError, match=r"leaves 2 operands uncontracted.*\(0, 1\)"):
        einsum("ab,bc,cd,de->ae", *[np.ones((2, 2))] * 4, optimize=[(2, 3), (0, 1)])


def test_default_route_refuses_an_out_numpys_default_refuses():
    # numpy.einsum's default (one loop nest) refuses a float result in an int out under casting='safe',
    # also when the call is large enough for tlc to plan it pairwise.
    for n in (3, 300):
        a = np.ones((n, n))
        with pytest.raises(TypeError):
            np.einsum("ij,jk->ik", a, a, out=np.zeros((n, n), int))
        with pytest.raises(TypeError) as info:
            einsum("ij,jk->ik", a, a, out=np.zeros((n, n), int))
        assert isinstance(info.value, tlc.TlcError)
        out = np.zeros((n, n), int)
        einsum("ij,jk->ik", a, a, out=out, casting="unsafe")
        assert (out == n).all()


@pytest.mark.parametrize("seed", range(12))
def test_random_equations_in_every_spelling(seed):
    """Seeded random networks, spelled in letters, non-ASCII labels, bytes and the interleaved form, with
    numpy's keywords: every spelling gives numpy's result."""
    from opt_einsum.testing import rand_equation

    eq, shapes = rand_equation(4 + seed % 3, 3, n_out=2, d_min=2, d_max=4, seed=seed)
    arrays = [RNG.uniform(0.5, 1.5, s) for s in shapes]
    want = np.einsum(eq, *arrays)
    rename = {c: get_symbol(300 + k) for k, c in enumerate(sorted(set(eq) - set(",->")))}
    inputs, output = eq.split("->")
    interleaved = [x for term, a in zip(inputs.split(","), arrays) for x in (a, [ord(c) % 52 for c in term])]
    spellings = {
        "letters": einsum(eq, *arrays),
        "non-ASCII": einsum("".join(rename.get(c, c) for c in eq), *arrays),
        "bytes": einsum(eq.encode(), *arrays),
        "interleaved": einsum(*interleaved, [ord(c) % 52 for c in output]),
    }
    for name, got in spellings.items():
        np.testing.assert_allclose(got, want, rtol=1e-10, err_msg=name)
    out = np.empty(want.shape, dtype=np.complex128, order="F")
    assert einsum(eq, *arrays, out=out, dtype="c16", order="F") is out
    np.testing.assert_allclose(out, want, rtol=1e-10)
