"""Hypothesis property tests for reductions, scans, order statistics and matrix products:
forward values against NumPy on random shapes, dims (incl. negative), layouts and dtypes,
and a typed ferrograd error (never a PanicException) for invalid dims and shapes."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ferrograd as fg

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FG = {np.dtype(np.float32): fg.float32, np.dtype(np.float64): fg.float64, np.dtype(np.int64): fg.int64, np.dtype(np.bool_): fg.bool}
TYPED = (fg.ShapeError, fg.DTypeError, fg.FerrogradError, IndexError, TypeError)


def elements(dtype):
    if dtype == np.bool_:
        return st.booleans()
    if dtype == np.int64:
        return st.integers(-20, 20)
    return st.floats(-20, 20, width=32 if dtype == np.float32 else 64)


@st.composite
def tensors(draw, dtypes=(np.float32, np.float64, np.int64, np.bool_), min_dims=1, max_dims=4, min_side=0):
    # min_side=0: zero-size dims are drawn too (every reduction accepts them, see below).
    dtype = draw(st.sampled_from(dtypes))
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=5))
    a = draw(hnp.arrays(dtype, shape, elements=elements(dtype)))
    # Half the time hand over a transposed view (non-contiguous input).
    if a.ndim >= 2 and draw(st.booleans()):
        t = fg.tensor(np.ascontiguousarray(a.swapaxes(0, -1))).transpose(0, -1)
    else:
        t = fg.tensor(a)
    return a, t


@st.composite
def tensor_and_dims(draw, **kw):
    a, t = draw(tensors(**kw))
    k = draw(st.integers(1, a.ndim))
    dims = draw(st.permutations(range(a.ndim)))[:k]
    dims = tuple(d - a.ndim if draw(st.booleans()) else d for d in dims)
    return a, t, dims


def tol(dtype):
    return dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)


@SETTINGS
@given(tensor_and_dims(), st.booleans())
def test_sum_amax_amin_all_any_match_numpy(x, keepdim):
    a, t, dims = x
    np_sum_dtype = np.int64 if a.dtype in (np.int64, np.bool_) else a.dtype
    out = t.sum(dims, keepdim=keepdim)
    assert out.dtype == FG[np.dtype(np_sum_dtype)]
    np.testing.assert_allclose(out.numpy(), a.sum(dims, keepdims=keepdim, dtype=np_sum_dtype), **tol(a.dtype))
    if any(a.shape[d] == 0 for d in dims):
        # No identity for max/min: a typed error naming the op (NumPy raises ValueError).
        for op in ("amax", "amin"):
            with pytest.raises(IndexError, match=op):
                getattr(t, op)(dims, keepdim)
    else:
        np.testing.assert_array_equal(t.amax(dims, keepdim).numpy(), a.max(dims, keepdims=keepdim))
        np.testing.assert_array_equal(t.amin(dims, keepdim).numpy(), a.min(dims, keepdims=keepdim))
    np.testing.assert_array_equal(t.all(dims, keepdim).numpy(), a.all(dims, keepdims=keepdim))
    np.testing.assert_array_equal(t.any(dims, keepdim).numpy(), a.any(dims, keepdims=keepdim))
    np.testing.assert_array_equal(t.count_nonzero(dims).numpy(), np.count_nonzero(a, axis=dims))


@SETTINGS
@given(tensors(), st.data())
def test_prod_cumsum_cumprod_match_numpy(x, data):
    a, t = x
    d = data.draw(st.integers(-a.ndim, a.ndim - 1))
    a = a if a.dtype != np.float32 else a.clip(-2, 2)
    t = fg.tensor(a) if a.dtype == np.float32 else t
    acc = np.int64 if a.dtype in (np.int64, np.bool_) else a.dtype
    np.testing.assert_allclose(t.prod(d).numpy(), a.prod(d, dtype=acc), **tol(a.dtype))
    np.testing.assert_allclose(t.cumsum(d).numpy(), a.cumsum(d, dtype=acc), **tol(a.dtype))
    assert t.cumsum(d).dtype == FG[np.dtype(acc)]
    np.testing.assert_allclose(t.cumprod(d).numpy(), a.cumprod(d, dtype=acc), **tol(a.dtype))


@SETTINGS
@given(tensor_and_dims(dtypes=(np.float32, np.float64)), st.integers(0, 2))
def test_var_std_logsumexp_norm_match_numpy(x, correction):
    a, t, dims = x
    a64 = a.astype(np.float64)
    n = int(np.prod([a.shape[d] for d in dims]))
    if n > correction:
        np.testing.assert_allclose(t.var(dims, correction=correction).numpy(), a64.var(dims, ddof=correction), **tol(a.dtype))
        np.testing.assert_allclose(t.std(dims, correction=correction).numpy(), a64.std(dims, ddof=correction), **tol(a.dtype))
    elif n == 0:
        # 0/0, as in PyTorch (NumPy agrees, with a warning).
        assert np.isnan(t.var(dims, correction=correction).numpy()).all()
        assert np.isnan(t.mean(dims).numpy()).all()
    if n == 0:
        lse = np.full([s for d, s in enumerate(a.shape) if d not in [x % a.ndim for x in dims]], -np.inf)
    else:
        m = a64.max(dims, keepdims=True)
        lse = np.log(np.exp(a64 - m).sum(dims)) + m.squeeze(dims)
    np.testing.assert_allclose(t.logsumexp(dims).numpy(), lse, **tol(a.dtype))
    np.testing.assert_allclose(t.norm(dim=dims).numpy(), np.sqrt((a64**2).sum(dims)), **tol(a.dtype))
    np.testing.assert_allclose(t.norm(1, dim=dims).numpy(), np.abs(a64).sum(dims), **tol(a.dtype))


@SETTINGS
@given(tensors(dtypes=(np.float32, np.float64, np.int64)), st.data())
def test_sort_topk_median_match_numpy(x, data):
    a, t = x
    d = data.draw(st.integers(-a.ndim, a.ndim - 1))
    desc = data.draw(st.booleans())
    s = t.sort(d, descending=desc)
    expect_idx = np.argsort(-a if desc else a, axis=d, kind="stable")
    np.testing.assert_array_equal(s.indices.numpy(), expect_idx)
    np.testing.assert_array_equal(s.values.numpy(), np.take_along_axis(a, expect_idx, d))
    k = data.draw(st.integers(0, a.shape[d]))
    top = t.topk(k, d)
    np.testing.assert_array_equal(top.values.numpy(), np.take(-np.sort(-a, axis=d, kind="stable"), range(k), axis=d))
    np.testing.assert_array_equal(np.take_along_axis(a, top.indices.numpy(), d), top.values.numpy())
    if a.shape[d] == 0:
        with pytest.raises(IndexError, match="median"):
            t.median(d)
        return
    med = t.median(d)
    lower = np.take(np.sort(a, axis=d), [(a.shape[d] - 1) // 2], axis=d).squeeze(d)
    np.testing.assert_array_equal(med.values.numpy(), lower)
    np.testing.assert_array_equal(np.take_along_axis(a, np.expand_dims(med.indices.numpy(), d), d).squeeze(d), lower)


@SETTINGS
@given(tensors(dtypes=(np.int64, np.float64, np.bool_)))
def test_unique_matches_numpy(x):
    a, t = x
    v, inv, c = t.unique(return_inverse=True, return_counts=True)
    ev, einv, ec = np.unique(a, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(v.numpy(), ev)
    np.testing.assert_array_equal(inv.numpy(), einv.reshape(a.shape))
    np.testing.assert_array_equal(c.numpy(), ec)


@SETTINGS
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3), st.integers(0, 4), st.integers(0, 4), st.integers(0, 4),
       st.booleans(), st.booleans(), st.sampled_from([np.float32, np.float64, np.int64]))
def test_matmul_broadcasting_matches_numpy(batch, m, k, n, vec_a, vec_b, dtype):
    sa = (k,) if vec_a else batch.input_shapes[0] + (m, k)
    sb = (k,) if vec_b else batch.input_shapes[1] + (k, n)
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a = (rng.standard_normal(sa) * 3).astype(dtype)
    b = (rng.standard_normal(sb) * 3).astype(dtype)
    out = fg.tensor(a) @ fg.tensor(b)
    assert out.dtype == FG[np.dtype(dtype)]
    np.testing.assert_allclose(out.numpy(), a @ b, **tol(dtype))


@SETTINGS
@given(tensors(), st.integers(-8, 8), st.sampled_from(["sum", "prod", "amax", "var", "logsumexp", "cumsum", "cumprod", "sort", "topk", "median", "norm", "argsort", "all", "count_nonzero", "unique"]))
def test_invalid_dims_raise_typed_errors(x, dim, op):
    a, t = x
    if -a.ndim <= dim < a.ndim:
        dim = a.ndim + 3
    call = {
        "sum": lambda: t.sum(dim), "prod": lambda: t.prod(dim), "amax": lambda: t.amax(dim), "var": lambda: t.var(dim),
        "logsumexp": lambda: t.logsumexp(dim), "cumsum": lambda: t.cumsum(dim), "cumprod": lambda: t.cumprod(dim),
        "sort": lambda: t.sort(dim), "topk": lambda: t.topk(1, dim), "median": lambda: t.median(dim), "norm": lambda: t.norm(dim=dim),
        "argsort": lambda: t.argsort(dim), "all": lambda: t.all(dim), "count_nonzero": lambda: t.count_nonzero(dim),
        "unique": lambda: t.unique(dim=dim),
    }[op]
    try:
        call()
    except BaseException as e:  # PanicException derives from BaseException
        assert isinstance(e, TYPED), f"{op}: {type(e).__name__}: {e}"
    else:
        pytest.fail(f"{op}({dim}) on shape {a.shape} did not raise")


@SETTINGS
@given(st.lists(hnp.array_shapes(min_dims=0, max_dims=4, max_side=4), min_size=2, max_size=2), st.sampled_from(["matmul", "mm", "bmm", "mv", "dot", "outer", "einsum"]))
def test_invalid_product_shapes_raise_typed_errors(shapes, op):
    a, b = fg.ones(*shapes[0]), fg.ones(*shapes[1])
    call = {
        "matmul": lambda: a @ b, "mm": lambda: a.mm(b), "bmm": lambda: a.bmm(b), "mv": lambda: a.mv(b), "dot": lambda: a.dot(b),
        "outer": lambda: a.outer(b), "einsum": lambda: fg.einsum("ij,jk->ik", a, b),
    }[op]
    try:
        out = call()
    except BaseException as e:
        assert isinstance(e, TYPED), f"{op}: {type(e).__name__}: {e}"
    else:
        assert isinstance(out, fg.Tensor)
