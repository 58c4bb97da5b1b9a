"""Matrix products (every rank combination matmul accepts), mm/bmm/mv/dot/outer, addmm and
baddbmm, einsum and ferrograd.linalg.norm: values against NumPy, gradients (finite
differences in float64) and typed errors."""

import math

import numpy as np
import pytest

import ferrograd as fg
from reduce_gradcheck import gradcheck, rand_leaf

F64 = fg.float64
rng = np.random.default_rng(0)


def arr(*shape):
    return rng.standard_normal(shape)


def t(a, **kw):
    return fg.tensor(a, dtype=F64, **kw)


MATMUL_SHAPES = [
    ((3,), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((5, 1, 2, 3), (4, 3, 2)),
    ((1, 2, 3), (6, 1, 3, 4)),
    ((2, 0), (0, 3)),
    ((0, 3), (3, 2)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_matches_numpy_for_every_rank(sa, sb):
    a, b = arr(*sa), arr(*sb)
    out = t(a) @ t(b)
    np.testing.assert_allclose(out.numpy(), a @ b, atol=1e-12)
    assert out.shape == (a @ b).shape
    np.testing.assert_allclose(fg.matmul(t(a), t(b)).numpy(), a @ b, atol=1e-12)


@pytest.mark.parametrize("sa,sb", [s for s in MATMUL_SHAPES if 0 not in s[0] + s[1]])
def test_matmul_gradcheck_every_rank(sa, sb):
    a, b = rand_leaf(*sa, seed=1, distinct=False), rand_leaf(*sb, seed=2, distinct=False)
    assert gradcheck(lambda a, b: a @ b, (a, b))


def test_matmul_non_contiguous_operands():
    a, b = rand_leaf(4, 3, seed=3, distinct=False), rand_leaf(6, 4, seed=4, distinct=False)
    assert gradcheck(lambda a, b: a.t() @ b[::2].t(), (a, b))
    v = rand_leaf(1, 3, seed=5, distinct=False)
    assert gradcheck(lambda v, b: v.expand(2, 3) @ b[:3, :].t().t(), (v, rand_leaf(3, 4, seed=6, distinct=False)))


def test_int_matmul_and_bool_error():
    a = fg.tensor([[1, 2], [3, 4]])
    assert (a @ a).tolist() == [[7, 10], [15, 22]]
    assert (a @ a).dtype == fg.int64
    with pytest.raises(fg.DTypeError):
        fg.tensor([True]) @ fg.tensor([True])


@pytest.mark.parametrize(
    "call,exc",
    [
        (lambda: fg.ones(2, 3) @ fg.ones(4, 2), fg.ShapeError),
        (lambda: fg.ones(3) @ fg.ones(4), fg.ShapeError),
        (lambda: fg.ones(2, 2, 3) @ fg.ones(3, 3, 2), fg.ShapeError),
        (lambda: fg.tensor(1.0) @ fg.ones(2), fg.ShapeError),
        (lambda: fg.ones(2, 2) @ fg.ones(2, 2, dtype=F64), fg.DTypeError),
        (lambda: fg.ones(2, 3).mm(fg.ones(2, 3)), fg.ShapeError),
        (lambda: fg.ones(2, 3, 1).mm(fg.ones(1, 3)), fg.ShapeError),
        (lambda: fg.ones(2, 3, 4).bmm(fg.ones(3, 4, 2)), fg.ShapeError),
        (lambda: fg.ones(2, 3).bmm(fg.ones(2, 3)), fg.ShapeError),
        (lambda: fg.ones(2, 3).mv(fg.ones(2)), fg.ShapeError),
        (lambda: fg.ones(2, 3).mv(fg.ones(3, 1)), fg.ShapeError),
        (lambda: fg.ones(3).dot(fg.ones(4)), fg.ShapeError),
        (lambda: fg.ones(3).dot(fg.ones(3, dtype=F64)), fg.DTypeError),
        (lambda: fg.ones(2, 2).dot(fg.ones(2, 2)), fg.ShapeError),
        (lambda: fg.ones(2, 2).outer(fg.ones(2)), fg.ShapeError),
        (lambda: fg.ones(3).addmm(fg.ones(2, 2), fg.ones(2, 2)), fg.ShapeError),
        (lambda: fg.ones(2, 2).addmm(fg.ones(2, 3), fg.ones(2, 2)), fg.ShapeError),
        (lambda: fg.ones(2, 2).baddbmm(fg.ones(1, 2, 2), fg.ones(2, 2, 2)), fg.ShapeError),
        (lambda: fg.ones(2).matmul("x"), TypeError),
    ],
)
def test_product_errors_are_typed(call, exc):
    with pytest.raises(exc):
        call()


def test_strict_products_match_numpy():
    a, b, v, w = arr(3, 4), arr(4, 5), arr(4), arr(4)
    ba, bb = arr(2, 3, 4), arr(2, 4, 5)
    np.testing.assert_allclose(t(a).mm(t(b)).numpy(), a @ b)
    np.testing.assert_allclose(fg.mm(t(a), t(b)).numpy(), a @ b)
    np.testing.assert_allclose(fg.bmm(t(ba), t(bb)).numpy(), ba @ bb)
    np.testing.assert_allclose(fg.mv(t(a), t(v)).numpy(), a @ v)
    np.testing.assert_allclose(fg.dot(t(v), t(w)).item(), v @ w)
    np.testing.assert_allclose(fg.outer(t(v), t(w[:3])).numpy(), np.outer(v, w[:3]))
    assert fg.outer(fg.tensor([1, 2]), fg.tensor([1.5])).dtype == fg.float32


def test_addmm_baddbmm():
    i, a, b = arr(3, 5), arr(3, 4), arr(4, 5)
    np.testing.assert_allclose(t(i).addmm(t(a), t(b)).numpy(), i + a @ b)
    np.testing.assert_allclose(fg.addmm(t(i[0]), t(a), t(b), beta=0.5, alpha=2).numpy(), 0.5 * i[0] + 2 * (a @ b))
    nan_in = t(np.full((3, 5), np.nan))
    assert not np.isnan(fg.addmm(nan_in, t(a), t(b), beta=0).numpy()).any()
    bi, ba, bb = arr(2, 3, 5), arr(2, 3, 4), arr(2, 4, 5)
    np.testing.assert_allclose(fg.baddbmm(t(bi), t(ba), t(bb), alpha=-1).numpy(), bi - ba @ bb)


@pytest.mark.parametrize(
    "name,fn,shapes",
    [
        ("mm", lambda a, b: a.mm(b), [(2, 3), (3, 4)]),
        ("bmm", lambda a, b: a.bmm(b), [(2, 2, 3), (2, 3, 2)]),
        ("mv", lambda a, b: a.mv(b), [(2, 3), (3,)]),
        ("dot", lambda a, b: a.dot(b), [(4,), (4,)]),
        ("outer", lambda a, b: a.outer(b), [(3,), (2,)]),
        ("addmm", lambda i, a, b: i.addmm(a, b, beta=0.5, alpha=-2.0), [(4,), (2, 3), (3, 4)]),
        ("baddbmm", lambda i, a, b: i.baddbmm(a, b, beta=2.0), [(1, 2, 2), (3, 2, 4), (3, 4, 2)]),
        ("mm_transposed", lambda a, b: a.t().mm(b[:, ::2]), [(3, 2), (3, 6)]),
        ("bmm_permuted", lambda a, b: a.permute(0, 2, 1).bmm(b), [(2, 3, 2), (2, 3, 2)]),
    ],
)
def test_product_gradchecks(name, fn, shapes):
    inputs = [rand_leaf(*s, seed=k, distinct=False) for k, s in enumerate(shapes)]
    assert gradcheck(fn, inputs)


# ----- einsum -----

EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("ij->ji", [(2, 3)]),
    ("ii->", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("i,i->", [(4,)] * 2),
    ("ij,ij->ij", [(2, 3)] * 2),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ba", [(2, 3)]),
    ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]),
    ("...ij->...ji", [(2, 3, 4)]),
    ("b...,b...->...", [(2, 3, 4), (2, 3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("iij->j", [(3, 3, 2)]),
    ("ij,kj->ikj", [(2, 3), (4, 3)]),
    ("ij,j->i", [(2, 3), (1,)]),
    (",i->i", [(), (3,)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_matches_numpy(eq, shapes):
    arrays = [arr(*s) for s in shapes]
    out = fg.einsum(eq, *[t(a) for a in arrays])
    expect = np.einsum(eq, *arrays)
    assert out.shape == expect.shape
    np.testing.assert_allclose(out.numpy(), expect, atol=1e-12)
    np.testing.assert_allclose(fg.einsum(eq, [t(a) for a in arrays]).numpy(), expect, atol=1e-12)


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_gradcheck(eq, shapes):
    inputs = [rand_leaf(*s, seed=k + 20, distinct=False) for k, s in enumerate(shapes)]
    assert gradcheck(lambda *xs: fg.einsum(eq, *xs), inputs)


def test_einsum_non_contiguous_and_int():
    a = rand_leaf(4, 3, seed=1, distinct=False)
    assert gradcheck(lambda a: fg.einsum("ij,jk->ik", a.t()[:, ::2], a[::2]), (a,))
    i = fg.tensor([[1, 2], [3, 4]])
    assert fg.einsum("ij,jk->ik", i, i).tolist() == [[7, 10], [15, 22]]
    assert fg.einsum("ii", i).item() == 5


@pytest.mark.parametrize(
    "eq,shapes,exc",
    [
        ("ij,jk->ik", [(2, 3), (4, 5)], fg.ShapeError),
        ("ij->ij", [(2, 3, 4)], fg.ShapeError),
        ("ij,jk->ik", [(2, 3)], fg.FerrogradError),
        ("ii->i", [(2, 3)], fg.ShapeError),
        ("ij->iz", [(2, 3)], fg.FerrogradError),
        ("ij->ii", [(2, 3)], fg.FerrogradError),
        ("i1->i", [(2, 3)], fg.FerrogradError),
    ],
)
def test_einsum_errors(eq, shapes, exc):
    with pytest.raises(exc):
        fg.einsum(eq, *[fg.ones(*s) for s in shapes])


def test_einsum_dtype_mismatch():
    with pytest.raises(fg.DTypeError):
        fg.einsum("i,i->", fg.ones(2), fg.ones(2, dtype=F64))


# ----- linalg.norm -----


def test_linalg_norm_vectors_and_matrices():
    x = arr(3, 4)
    tx = t(x)
    np.testing.assert_allclose(fg.linalg.norm(tx).item(), np.linalg.norm(x))
    np.testing.assert_allclose(fg.linalg.norm(tx, dim=1).numpy(), np.linalg.norm(x, axis=1))
    np.testing.assert_allclose(fg.linalg.norm(tx, 1, dim=-1).numpy(), np.linalg.norm(x, 1, axis=-1))
    np.testing.assert_allclose(fg.linalg.norm(tx[0], math.inf).item(), np.linalg.norm(x[0], np.inf))
    for ord_ in ("fro", math.inf, -math.inf, 1, -1):
        np.testing.assert_allclose(fg.linalg.norm(tx, ord_).item(), np.linalg.norm(x, ord_), err_msg=str(ord_))
    b = arr(2, 3, 4)
    np.testing.assert_allclose(fg.linalg.matrix_norm(t(b), 1).numpy(), np.linalg.norm(b, 1, axis=(-2, -1)))
    np.testing.assert_allclose(fg.linalg.norm(t(b), dim=(0, 2), keepdim=True).numpy(), np.linalg.norm(b, axis=(0, 2), keepdims=True))
    np.testing.assert_allclose(fg.linalg.vector_norm(t(b), 0.5).item(), (np.abs(b) ** 0.5).sum() ** 2)


@pytest.mark.parametrize("ord_", ["fro", math.inf, 1, -1])
def test_linalg_matrix_norm_gradcheck(ord_):
    assert gradcheck(lambda x: fg.linalg.norm(x, ord_), (rand_leaf(3, 4, seed=9),))
    assert gradcheck(lambda x: fg.linalg.matrix_norm(x.transpose(0, 2), ord_), (rand_leaf(4, 3, 2, seed=10),))


def test_linalg_vector_norm_gradcheck():
    assert gradcheck(lambda x: fg.linalg.vector_norm(x, 2, dim=-1), (rand_leaf(2, 3, seed=11),))
    assert gradcheck(lambda x: fg.linalg.norm(x[:, ::2], dim=0), (rand_leaf(2, 6, seed=12),))


@pytest.mark.parametrize(
    "call,exc",
    [
        (lambda: fg.linalg.norm(fg.ones(2, 2), "bad"), fg.FerrogradError),
        (lambda: fg.linalg.norm(fg.ones(2, 2), 3), fg.FerrogradError),
        (lambda: fg.linalg.svdvals(fg.ones(3)), fg.ShapeError),
        (lambda: fg.linalg.svd(fg.ones(2, 2, dtype=fg.int64)), fg.DTypeError),
        (lambda: fg.linalg.svdvals(fg.tensor([[1.0, float("nan")]])), fg.FerrogradError),
        (lambda: fg.linalg.svd([[1.0]]), TypeError),
        (lambda: fg.linalg.norm(fg.ones(2, 2, 2), 1), fg.ShapeError),
        (lambda: fg.linalg.matrix_norm(fg.ones(3)), fg.ShapeError),
        (lambda: fg.linalg.norm(fg.tensor([1, 2])), fg.DTypeError),
        (lambda: fg.linalg.norm(fg.ones(2, 2), dim=(0, 1, 1)), fg.ShapeError),
        (lambda: fg.linalg.norm([1.0, 2.0]), TypeError),
    ],
)
def test_linalg_norm_errors(call, exc):
    with pytest.raises(exc):
        call()


# ----- linalg.svd / svdvals and the spectral and nuclear norms -----


def _rank_deficient(m, n, r, seed):
    g = np.random.default_rng(seed)
    return g.standard_normal((m, r)) @ g.standard_normal((r, n))


SVD_INPUTS = {
    "square": lambda: arr(4, 4),
    "tall": lambda: arr(6, 3),
    "wide": lambda: arr(3, 5),
    "rank_deficient": lambda: _rank_deficient(5, 4, 2, 1),
    "rank_deficient_wide": lambda: _rank_deficient(3, 6, 1, 2),
    "zero": lambda: np.zeros((3, 2)),
    "batched": lambda: arr(2, 3, 4, 3),
    "single_row": lambda: arr(1, 5),
    "large_magnitude": lambda: arr(4, 3) * 1e150,
}


@pytest.mark.parametrize("name", list(SVD_INPUTS))
@pytest.mark.parametrize("dtype", [fg.float32, fg.float64])
def test_svdvals_match_numpy(name, dtype):
    a = SVD_INPUTS[name]()
    if dtype == fg.float32 and name == "large_magnitude":
        a = a * 1e-150
    x = fg.tensor(a, dtype=dtype)
    s = fg.linalg.svdvals(x)
    assert s.dtype == dtype and s.shape == a.shape[:-2] + (min(a.shape[-2:]),)
    want = np.linalg.svd(a.astype(np.float64), compute_uv=False)
    scale = max(np.abs(want).max(), 1e-300)
    np.testing.assert_allclose(s.numpy(), want, rtol=1e-5 if dtype == fg.float32 else 1e-12, atol=scale * (1e-6 if dtype == fg.float32 else 1e-13))


@pytest.mark.parametrize("name", list(SVD_INPUTS))
@pytest.mark.parametrize("full_matrices", [False, True])
def test_svd_reconstructs_and_has_orthonormal_factors(name, full_matrices):
    a = SVD_INPUTS[name]()
    m, n = a.shape[-2:]
    k = min(m, n)
    U, S, Vh = fg.linalg.svd(t(a), full_matrices=full_matrices)
    ku, kv = (m, n) if full_matrices else (k, k)
    assert U.shape == a.shape[:-2] + (m, ku) and S.shape == a.shape[:-2] + (k,) and Vh.shape == a.shape[:-2] + (kv, n)
    u, s, vh = U.numpy(), S.numpy(), Vh.numpy()
    back = (u[..., :, :k] * s[..., None, :]) @ vh[..., :k, :]
    scale = max(np.abs(a).max(), 1e-300)
    np.testing.assert_allclose(back, a, atol=1e-12 * scale * max(m, n))
    np.testing.assert_allclose(np.swapaxes(u, -1, -2) @ u, np.broadcast_to(np.eye(ku), u.shape[:-2] + (ku, ku)), atol=1e-12)
    np.testing.assert_allclose(vh @ np.swapaxes(vh, -1, -2), np.broadcast_to(np.eye(kv), vh.shape[:-2] + (kv, kv)), atol=1e-12)
    np.testing.assert_allclose(s, np.linalg.svd(a, compute_uv=False), atol=1e-12 * scale)
    # Named fields, like torch.linalg.svd's result.
    res = fg.linalg.svd(t(a), full_matrices=False)
    assert res.S.shape == S.shape and res.U.shape[-1] == k


def test_svd_of_non_contiguous_and_empty_inputs():
    a = arr(5, 4)
    x = t(a).t()[:, ::2]  # transposed and step-sliced
    np.testing.assert_allclose(fg.linalg.svdvals(x).numpy(), np.linalg.svd(a.T[:, ::2], compute_uv=False), rtol=1e-12)
    U, S, Vh = fg.linalg.svd(fg.zeros(0, 3, dtype=F64))
    assert U.shape == (0, 0) and S.shape == (0,) and Vh.shape == (3, 3)
    np.testing.assert_allclose(Vh.numpy() @ Vh.numpy().T, np.eye(3), atol=1e-15)
    assert fg.linalg.svdvals(fg.zeros(2, 0, 3)).shape == (2, 0)


def _distinct(m, n, seed):
    """A matrix with well-separated singular values (3, 2, 1, ...): a stable gradcheck point."""
    g = np.random.default_rng(seed)
    k = min(m, n)
    q1, _ = np.linalg.qr(g.standard_normal((m, m)))
    q2, _ = np.linalg.qr(g.standard_normal((n, n)))
    return (q1[:, :k] * np.arange(k + 1, 1, -1.0)) @ q2[:k, :]


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4)])
def test_svdvals_gradcheck(shape):
    x = t(_distinct(*shape, seed=3), requires_grad=True)
    assert gradcheck(fg.linalg.svdvals, (x,))
    # Non-contiguous and batched inputs.
    xt = t(_distinct(*shape[::-1], seed=4), requires_grad=True)
    assert gradcheck(lambda a: fg.linalg.svdvals(a.mT), (xt,))
    b = t(np.stack([_distinct(*shape, seed=5), _distinct(*shape, seed=6)]), requires_grad=True)
    assert gradcheck(fg.linalg.svdvals, (b,))


def test_svdvals_gradient_is_u_diag_g_vh():
    a = _distinct(4, 3, seed=8)
    x = t(a, requires_grad=True)
    g = np.array([0.5, -1.0, 2.0])
    (fg.linalg.svdvals(x) * t(g)).sum().backward()
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(x.grad.numpy(), (u * g) @ vh, atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4)])
@pytest.mark.parametrize("full_matrices", [False, True])
def test_svd_factors_gradcheck(shape, full_matrices):
    # U and V are defined up to a sign per singular pair: check functions invariant to it.
    x = t(_distinct(*shape, seed=7), requires_grad=True)
    k = min(shape)

    def invariant(a):
        U, S, Vh = fg.linalg.svd(a, full_matrices=full_matrices)
        U, Vh = U[:, :k], Vh[:k, :]
        outer = U[:, :, None] * Vh[None, :, :]  # u_j v_j^T, sign-free, for each j
        return (outer * fg.tensor(np.arange(1.0, k + 1), dtype=F64)[None, :, None]).sum(1) + (U * U).sum() * S.sum()

    assert gradcheck(invariant, (x,))
    assert gradcheck(lambda a: (lambda r: r.U[:, :k] @ fg.diag(r.S) @ r.Vh[:k])(fg.linalg.svd(a, full_matrices=full_matrices)), (x,))


def test_svd_gradient_when_only_s_is_used_survives_repeated_singular_values():
    x = t(np.eye(3), requires_grad=True)
    fg.linalg.svd(x).S.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.eye(3), atol=1e-12)


@pytest.mark.parametrize("name", ["square", "tall", "wide", "rank_deficient", "batched"])
def test_spectral_and_nuclear_norms_match_numpy(name):
    a = SVD_INPUTS[name]()
    x = t(a)
    for ord_ in ("nuc", 2, -2):
        want = np.linalg.norm(a, ord_, axis=(-2, -1))
        np.testing.assert_allclose(fg.linalg.matrix_norm(x, ord_).numpy(), want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(fg.linalg.norm(x, ord_, dim=(-2, -1)).numpy(), want, rtol=1e-12, atol=1e-12)
        kd = fg.linalg.matrix_norm(x, ord_, keepdim=True)
        assert kd.shape == a.shape[:-2] + (1, 1)
    if a.ndim == 2:
        np.testing.assert_allclose(fg.linalg.norm(x, "nuc").item(), np.linalg.norm(a, "nuc"), rtol=1e-12)
        np.testing.assert_allclose(x.norm("nuc").item(), np.linalg.norm(a, "nuc"), rtol=1e-12)
        np.testing.assert_allclose(fg.linalg.norm(x, 2).item(), np.linalg.norm(a, 2), rtol=1e-12)


def test_matrix_norm_over_other_dims_and_float32():
    b = arr(3, 4, 5)
    got = fg.linalg.matrix_norm(t(b), "nuc", dim=(0, 2))
    want = np.linalg.norm(np.moveaxis(b, (0, 2), (-2, -1)), "nuc", axis=(-2, -1))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    kd = fg.linalg.matrix_norm(t(b), 2, dim=(2, 0), keepdim=True)
    assert kd.shape == (1, 4, 1)
    np.testing.assert_allclose(kd.numpy().ravel(), np.linalg.norm(np.moveaxis(b, (2, 0), (-2, -1)), 2, axis=(-2, -1)), rtol=1e-12)
    f = fg.linalg.matrix_norm(fg.tensor(b, dtype=fg.float32), -2)
    assert f.dtype == fg.float32
    np.testing.assert_allclose(f.numpy(), np.linalg.norm(b, -2, axis=(-2, -1)), rtol=1e-5)


@pytest.mark.parametrize("ord_", ["nuc", 2, -2])
def test_spectral_and_nuclear_norm_gradcheck(ord_):
    assert gradcheck(lambda a: fg.linalg.matrix_norm(a, ord_), (t(_distinct(3, 4, seed=11), requires_grad=True),))
    assert gradcheck(lambda a: fg.linalg.norm(a.t(), ord_), (t(_distinct(4, 2, seed=12), requires_grad=True),))
    b = t(np.stack([_distinct(3, 3, seed=13), _distinct(3, 3, seed=14)]), requires_grad=True)
    assert gradcheck(lambda a: fg.linalg.matrix_norm(a, ord_, dim=(-1, -2), keepdim=True), (b,))


def test_matmul_method_and_function_forms_gradcheck():
    a, b = rand_leaf(2, 3, 4, seed=21), rand_leaf(4, 5, seed=22)
    assert gradcheck(lambda x, y: x.matmul(y), (a, b))  # broadcast batch
    assert gradcheck(lambda x, y: fg.matmul(x.transpose(-1, -2), y.t()), (rand_leaf(2, 4, 3, seed=23), rand_leaf(5, 4, seed=24)))
    assert gradcheck(lambda x, y: fg.matmul(x[:, ::2], y), (rand_leaf(3, 8, seed=25), rand_leaf(4, seed=26)))
