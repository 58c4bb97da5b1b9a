"""Reductions, scans and order statistics: values against NumPy, dtype rules, gradients
(finite differences in float64, incl. non-contiguous inputs and negative dims) and errors."""

import math

import numpy as np
import pytest

import ferrograd as fg
from reduce_gradcheck import gradcheck, leaf, rand_leaf

F64 = fg.float64


def np_of(t):
    return t.detach().numpy()


# ----- values and dtypes -----


def test_sum_and_prod_of_int_and_bool_give_int64():
    i = fg.tensor([[1, 2], [3, 4]])
    b = fg.tensor([True, False, True])
    assert i.sum().dtype == fg.int64 and i.sum().item() == 10
    assert b.sum().dtype == fg.int64 and b.sum().item() == 2
    assert i.prod().dtype == fg.int64 and i.prod().item() == 24
    assert b.prod().dtype == fg.int64 and b.prod().item() == 0
    assert i.prod(1).tolist() == [2, 12]
    assert fg.tensor([2.0, 3.0]).prod(dtype=F64).dtype == F64


def test_prod_keepdim_and_negative_dim():
    x = np.arange(1.0, 25.0).reshape(2, 3, 4)
    t = fg.tensor(x)
    np.testing.assert_allclose(np_of(t.prod(-2, keepdim=True)), x.prod(-2, keepdims=True))
    np.testing.assert_allclose(np_of(fg.prod(t, axis=0)), x.prod(0))


def test_amax_amin_tuple_dims_and_nan():
    x = np.random.default_rng(1).standard_normal((3, 4, 5))
    t = fg.tensor(x)
    np.testing.assert_allclose(np_of(t.amax((0, 2))), x.max((0, 2)))
    np.testing.assert_allclose(np_of(t.amin(-1, keepdim=True)), x.min(-1, keepdims=True))
    np.testing.assert_allclose(np_of(fg.amax(t)), x.max())
    assert math.isnan(fg.tensor([1.0, float("nan"), 3.0]).amax().item())
    assert fg.tensor([[1, 5], [7, 2]]).amax(1).tolist() == [5, 7]


def test_all_any_count_nonzero():
    x = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, float("nan")]])
    t = fg.tensor(x)
    assert t.all().dtype == fg.bool and t.all().item() is False
    assert t.any(1).tolist() == [True, True]
    assert t.all(0, keepdim=True).tolist() == [[False, False, True]]
    assert t.count_nonzero().item() == 3 and t.count_nonzero().dtype == fg.int64
    assert t.count_nonzero(0).tolist() == [0, 1, 2]
    assert fg.tensor([True, True]).all().item() is True
    assert fg.any(fg.tensor([0, 0])).item() is False
    assert fg.zeros(0).all().item() is True and fg.zeros(0).any().item() is False


@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_std_match_numpy(correction):
    x = np.random.default_rng(2).standard_normal((4, 6))
    t = fg.tensor(x)
    np.testing.assert_allclose(np_of(t.var(1, correction=correction)), x.var(1, ddof=correction))
    np.testing.assert_allclose(np_of(t.std(correction=correction)), x.std(ddof=correction))
    v, m = fg.var_mean(t, (0, 1), correction=correction, keepdim=True)
    np.testing.assert_allclose(np_of(v), x.var(keepdims=True, ddof=correction))
    np.testing.assert_allclose(np_of(m), x.mean(keepdims=True))
    s, m = fg.std_mean(t, -1)
    np.testing.assert_allclose(np_of(s), x.std(-1, ddof=1))
    np.testing.assert_allclose(np_of(m), x.mean(-1))


def test_var_legacy_unbiased_and_far_from_zero():
    x = np.array([1e8 + 1, 1e8 + 2, 1e8 + 3], dtype=np.float64)
    t = fg.tensor(x)
    assert t.var(False).item() == pytest.approx(2 / 3)
    assert t.var(unbiased=True).item() == pytest.approx(1.0)
    assert math.isnan(fg.tensor([1.0]).var().item())


def test_var_of_int_is_a_dtype_error():
    with pytest.raises(fg.DTypeError):
        fg.tensor([1, 2, 3]).var()


def test_logsumexp_is_finite_for_large_inputs():
    for dtype in (fg.float32, F64):
        t = fg.tensor([[300.0, -300.0, 299.0], [-300.0, -301.0, -302.0]], dtype=dtype)
        out = np_of(t.logsumexp(1)).astype(np.float64)
        expect = [300 + math.log1p(math.exp(-1)), -300 + math.log(1 + math.exp(-1) + math.exp(-2))]
        np.testing.assert_allclose(out, expect, rtol=1e-6)
    big = fg.tensor([3e38, 3e38, 1.0], dtype=fg.float32)
    assert np_of(big.logsumexp(0)) == pytest.approx(3e38 * 1.0, rel=1e-6)
    assert big.logsumexp(0).dtype == fg.float32
    assert fg.tensor([float("-inf"), float("-inf")]).logsumexp(0).item() == float("-inf")
    assert fg.tensor([float("inf"), 1.0]).logsumexp(0).item() == float("inf")
    assert fg.tensor([1, 2]).logsumexp(0).dtype == fg.float32


def test_logsumexp_gradient_is_softmax_at_large_values():
    x = leaf([1000.0, 1000.0, -1000.0])
    x.logsumexp(0).backward()
    np.testing.assert_allclose(np_of(x.grad), [0.5, 0.5, 0.0])


def test_norms():
    x = np.random.default_rng(3).standard_normal((3, 4))
    t = fg.tensor(x)
    np.testing.assert_allclose(np_of(t.norm()), np.linalg.norm(x))
    np.testing.assert_allclose(np_of(t.norm("fro")), np.linalg.norm(x))
    np.testing.assert_allclose(np_of(t.norm(1, dim=1)), np.abs(x).sum(1))
    np.testing.assert_allclose(np_of(t.norm(float("inf"), dim=0)), np.abs(x).max(0))
    np.testing.assert_allclose(np_of(t.norm(float("-inf"), dim=0)), np.abs(x).min(0))
    np.testing.assert_allclose(np_of(t.norm(3, dim=-1, keepdim=True)), (np.abs(x) ** 3).sum(-1, keepdims=True) ** (1 / 3))
    assert t.norm(0).item() == 12
    assert fg.norm(t, p=2, dim=(0, 1)).item() == pytest.approx(np.linalg.norm(x))
    with pytest.raises(fg.DTypeError):
        fg.tensor([1, 2]).norm()


def test_norm2_gradient_at_zero_is_zero():
    x = leaf([0.0, 0.0])
    x.norm().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_cumsum_cumprod_values_and_dtypes():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 0.0, 6.0]])
    t = fg.tensor(x)
    np.testing.assert_allclose(np_of(t.cumsum(1)), x.cumsum(1))
    np.testing.assert_allclose(np_of(t.cumsum(dim=-2)), x.cumsum(0))
    np.testing.assert_allclose(np_of(t.cumprod(1)), x.cumprod(1))
    assert fg.tensor([1, 2, 3]).cumsum(0).dtype == fg.int64
    assert fg.tensor([True, True]).cumsum(0).tolist() == [1, 2]
    assert fg.tensor([1, 2, 3]).cumprod(0, dtype=F64).dtype == F64
    assert fg.cumsum(fg.tensor(5.0), 0).item() == 5.0
    with pytest.raises(TypeError):
        t.cumsum()


def test_median_sort_topk_argsort():
    x = np.array([[3.0, 1.0, 2.0, 5.0], [9.0, 7.0, 8.0, 6.0]])
    t = fg.tensor(x)
    assert t.median().item() == 5.0  # lower median of 8 values
    r = t.median(1)
    assert r.values.tolist() == [2.0, 7.0] and r.indices.tolist() == [2, 1]
    assert t.median(dim=0, keepdim=True).values.shape == (1, 4)
    s = t.sort(dim=1, descending=True)
    np.testing.assert_allclose(np_of(s.values), -np.sort(-x, 1))
    assert s.indices.tolist() == [[3, 0, 2, 1], [0, 2, 1, 3]]
    assert t.argsort(0).tolist() == [[0, 0, 0, 0], [1, 1, 1, 1]]
    k = t.topk(2)
    assert k.values.tolist() == [[5.0, 3.0], [9.0, 8.0]] and k.indices.tolist() == [[3, 0], [0, 2]]
    k = fg.topk(t, 1, dim=0, largest=False)
    assert k.values.tolist() == [[3.0, 1.0, 2.0, 5.0]]


def test_sort_is_stable_and_puts_nan_last():
    t = fg.tensor([2.0, float("nan"), 1.0, 2.0, 1.0])
    s = t.sort()
    assert s.indices.tolist() == [2, 4, 0, 3, 1]
    d = t.sort(descending=True)
    assert d.indices.tolist() == [1, 0, 3, 2, 4]
    assert math.isnan(t.median().item())
    assert fg.tensor([3, 1, 2]).sort().values.tolist() == [1, 2, 3]


def test_unique():
    t = fg.tensor([[3, 1], [3, 2]])
    assert t.unique().tolist() == [1, 2, 3]
    v, inv, c = fg.unique(t, return_inverse=True, return_counts=True)
    assert inv.tolist() == [[2, 0], [2, 1]] and c.tolist() == [1, 1, 2]
    rows = fg.tensor([[1, 2], [0, 5], [1, 2]])
    v, inv = rows.unique(dim=0, return_inverse=True)
    assert v.tolist() == [[0, 5], [1, 2]] and inv.tolist() == [1, 0, 1]
    cols = fg.tensor([[1, 0, 1], [2, 5, 2]]).unique(dim=1)
    assert cols.tolist() == [[0, 1], [5, 2]]


# ----- gradients -----

GRAD_CASES = [
    ("sum_dims", lambda x: x.sum((0, -1))),
    ("prod_dim", lambda x: x.prod(-1)),
    ("prod_all", lambda x: x.prod()),
    ("prod_transposed", lambda x: x.transpose(0, 1).prod(0, keepdim=True)),
    ("amax_tuple", lambda x: x.amax((0, 2))),
    ("amin_neg", lambda x: x.amin(-2)),
    ("max_dim", lambda x: x.max(-1).values),
    ("min_dim", lambda x: x.min(-2, keepdim=True).values),
    ("min_all", lambda x: x.min()),
    ("max_all", lambda x: x.max()),
    ("mean_neg", lambda x: x.mean(-1)),
    ("var", lambda x: x.var(-1)),
    ("var_corr0_keep", lambda x: x.var((0, 1), correction=0, keepdim=True)),
    ("std", lambda x: x.std(1)),
    ("var_mean", lambda x: fg.var_mean(x, -1)[0] + fg.var_mean(x, -1)[1]),
    ("std_mean", lambda x: fg.std_mean(x, 0)[0] * fg.std_mean(x, 0)[1]),
    ("logsumexp", lambda x: x.logsumexp(-1)),
    ("logsumexp_tuple", lambda x: x.logsumexp((0, 2), keepdim=True)),
    ("norm2", lambda x: x.norm(dim=-1)),
    ("norm1", lambda x: x.norm(1)),
    ("norm_inf", lambda x: x.norm(float("inf"), dim=1)),
    ("norm3", lambda x: x.norm(3, dim=(0, 1))),
    ("cumsum", lambda x: x.cumsum(-1)),
    ("cumsum_mid", lambda x: x.cumsum(1)),
    ("cumprod", lambda x: x.cumprod(-1)),
    ("cumprod_dim0", lambda x: x.cumprod(0)),
    ("median_dim", lambda x: x.median(-1).values),
    ("median_all", lambda x: x.median()),
    ("sort", lambda x: x.sort(-1, descending=True).values * fg.arange(4.0, dtype=F64)),
    ("topk", lambda x: x.topk(2, dim=1).values),
    ("topk_smallest", lambda x: x.topk(1, dim=0, largest=False).values),
]


@pytest.mark.parametrize("name,fn", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradcheck_contiguous(name, fn):
    assert gradcheck(fn, (rand_leaf(2, 3, 4, seed=len(name)),))


@pytest.mark.parametrize("name,fn", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradcheck_transposed_input(name, fn):
    x = rand_leaf(4, 3, 2, seed=len(name) + 7)
    assert gradcheck(lambda x: fn(x.permute(2, 1, 0)), (x,))


@pytest.mark.parametrize("name,fn", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradcheck_strided_slice(name, fn):
    x = rand_leaf(4, 3, 8, seed=len(name) + 11)
    assert gradcheck(lambda x: fn(x[::2, :, 1::2]), (x,))


@pytest.mark.parametrize("name", ["sum_dims", "prod_dim", "var", "logsumexp", "cumsum", "cumprod", "norm2"])
def test_gradcheck_expanded_input(name):
    fn = dict(GRAD_CASES)[name]
    x = rand_leaf(3, 1, 4, seed=5)
    assert gradcheck(lambda x: fn(x.expand(3, 2, 4).permute(1, 0, 2)), (x,))


def test_cumprod_gradient_with_zeros():
    for vals in ([2.0, 0.0, 3.0, 4.0], [0.0, 2.0, 0.0, 5.0], [1.5, 2.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0]):
        assert gradcheck(lambda x: x.cumprod(0), (leaf(vals),))


def test_prod_gradient_with_zeros():
    for vals in ([[2.0, 0.0, 3.0], [1.0, 2.0, 3.0]], [[0.0, 0.0, 3.0], [4.0, 0.0, 1.0]]):
        assert gradcheck(lambda x: x.prod(1), (leaf(vals),))
        assert gradcheck(lambda x: x.prod(), (leaf(vals),))


def test_amax_ties_share_the_gradient():
    x = leaf([1.0, 3.0, 3.0])
    x.amax().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]


def test_sort_gradient_follows_the_permutation():
    x = leaf([3.0, 1.0, 2.0])
    (x.sort().values * fg.tensor([1.0, 10.0, 100.0], dtype=F64)).sum().backward()
    assert x.grad.tolist() == [100.0, 1.0, 10.0]


def test_int_results_do_not_require_grad():
    x = rand_leaf(2, 3)
    assert not x.argsort().requires_grad
    assert not x.sort().indices.requires_grad
    assert not x.count_nonzero().requires_grad
    assert not x.all().requires_grad


def test_no_graph_under_no_grad():
    x = rand_leaf(2, 3)
    with fg.no_grad():
        for y in (x.prod(1), x.amax(), x.var(), x.logsumexp(0), x.norm(), x.cumsum(0), x.cumprod(1), x.sort().values, x.topk(1).values, x.median()):
            assert y.grad_fn is None and not y.requires_grad


# ----- errors -----


@pytest.mark.parametrize(
    "call,exc",
    [
        (lambda t: t.prod(3), IndexError),
        (lambda t: t.amax((0, 0)), fg.FerrogradError),
        (lambda t: t.amax(5), IndexError),
        (lambda t: t.var(-4), IndexError),
        (lambda t: t.logsumexp(2), IndexError),
        (lambda t: t.cumsum(2), IndexError),
        (lambda t: t.cumprod(-3), IndexError),
        (lambda t: t.median(2), IndexError),
        (lambda t: t.sort(2), IndexError),
        (lambda t: t.topk(5), IndexError),
        (lambda t: t.topk(-1), IndexError),
        (lambda t: t.unique(dim=3), IndexError),
        (lambda t: t[0].norm("nuc"), fg.ShapeError),
        (lambda t: t.norm("bad"), fg.FerrogradError),
        (lambda t: fg.zeros(0, 3).amax(0), IndexError),
        (lambda t: fg.zeros(2, 0).median(1), IndexError),
        (lambda t: fg.zeros(0, dtype=fg.int64).median(), IndexError),
        (lambda t: t.sum(dim=0, axis=1), TypeError),
        (lambda t: t.var(True, unbiased=False), TypeError),
        (lambda t: t.var(correction=1, unbiased=True), TypeError),
    ],
)
def test_errors_are_typed(call, exc):
    t = fg.randn(2, 3)
    with pytest.raises(exc):
        call(t)


def test_reductions_of_empty_and_0d():
    assert fg.zeros(0).sum().item() == 0.0
    assert fg.zeros(0).prod().item() == 1.0
    assert fg.zeros(3, 0).amax(0).shape == (0,)
    s = fg.tensor(2.5)
    assert s.prod(0).item() == 2.5 and s.amax().item() == 2.5 and s.cumsum(0).item() == 2.5
    assert s.sort().values.item() == 2.5 and s.topk(1).indices.item() == 0
    assert s.median(0).values.item() == 2.5
    assert fg.zeros(0, 3).logsumexp(0).tolist() == [float("-inf")] * 3
