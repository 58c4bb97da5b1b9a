"""Tensors: creation, dtypes, repr, item/tolist, shape/len, indexing, arithmetic with scalars on
both sides and broadcasting, in-place ops and versions, manual_seed reproducibility."""

import math

import numpy as np
import pytest

import ferrograd as fg


# ----- creation and dtypes -----


def test_tensor_from_scalars_picks_pytorch_dtypes():
    assert fg.tensor(3).dtype == fg.int64
    assert fg.tensor(3.5).dtype == fg.float32
    assert fg.tensor(True).dtype == fg.bool
    assert fg.tensor(3).shape == ()
    assert fg.tensor(3).item() == 3
    assert fg.tensor(2.5).item() == 2.5


def test_tensor_from_nested_lists():
    t = fg.tensor([[1, 2, 3], [4, 5, 6]])
    assert t.dtype == fg.int64
    assert t.shape == (2, 3)
    assert t.tolist() == [[1, 2, 3], [4, 5, 6]]
    f = fg.tensor([[1, 2.5], [3, 4]])
    assert f.dtype == fg.float32
    assert fg.tensor([True, False]).dtype == fg.bool
    assert fg.tensor([]).shape == (0,)
    assert fg.tensor([]).dtype == fg.float32
    assert fg.tensor([[], []]).shape == (2, 0)


def test_tensor_dtype_argument_and_requires_grad():
    t = fg.tensor([1, 2], dtype=fg.float64, requires_grad=True)
    assert t.dtype == fg.float64 and t.requires_grad and t.is_leaf
    assert fg.tensor([1.7, -2.2], dtype=fg.int64).tolist() == [1, -2]
    assert fg.tensor([0, 2], dtype=fg.bool).tolist() == [False, True]
    assert fg.tensor([1], dtype="float64").dtype == fg.float64


def test_tensor_from_numpy_arrays_keeps_float64_only():
    assert fg.tensor(np.zeros(3, dtype=np.float64)).dtype == fg.float64
    assert fg.tensor(np.zeros(3, dtype=np.float32)).dtype == fg.float32
    assert fg.tensor(np.zeros(3, dtype=np.int32)).dtype == fg.int64
    assert fg.tensor(np.zeros(3, dtype=np.uint8)).dtype == fg.int64
    assert fg.tensor(np.zeros(3, dtype=bool)).dtype == fg.bool
    # Python floats in a list are float32 even though NumPy would make float64.
    assert fg.tensor([0.1, 0.2]).dtype == fg.float32


def test_tensor_copies_its_data():
    a = np.arange(4.0)
    t = fg.tensor(a)
    a[0] = 100.0
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_tensor_of_tensors_list():
    t = fg.tensor([fg.tensor(1.0), fg.tensor(2.0)])
    assert t.tolist() == [1.0, 2.0]


def test_filled_creation_functions():
    assert fg.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert fg.zeros((2, 3)).shape == (2, 3)
    assert fg.zeros([4]).shape == (4,)
    assert fg.zeros(2, 3).dtype == fg.float32
    assert fg.ones(3, dtype=fg.int64).tolist() == [1, 1, 1]
    assert fg.empty(2, 2).shape == (2, 2)
    assert fg.full((2, 2), 7).dtype == fg.int64
    assert fg.full((2, 2), 7.5).tolist() == [[7.5, 7.5], [7.5, 7.5]]
    assert fg.full((2,), True).dtype == fg.bool
    assert fg.zeros(()).shape == ()
    t = fg.ones(2, 2, requires_grad=True)
    assert t.requires_grad and t.is_leaf


def test_like_functions_follow_the_input():
    x = fg.tensor([[1.0, 2.0]], dtype=fg.float64)
    for fn in (fg.zeros_like, fg.ones_like, fg.empty_like, fg.rand_like, fg.randn_like):
        y = fn(x)
        assert y.shape == (1, 2) and y.dtype == fg.float64
        assert not y.requires_grad
    assert fg.zeros_like(x).tolist() == [[0.0, 0.0]]
    assert fg.ones_like(x, dtype=fg.int64).tolist() == [[1, 1]]
    assert fg.full_like(x, 3).tolist() == [[3.0, 3.0]]
    assert fg.zeros_like(x, requires_grad=True).requires_grad


def test_arange():
    assert fg.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert fg.arange(5).dtype == fg.int64
    assert fg.arange(1, 4).tolist() == [1, 2, 3]
    assert fg.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert fg.arange(0, 1, 0.25).dtype == fg.float32
    assert fg.arange(5, 0, -2).tolist() == [5, 3, 1]
    assert fg.arange(3, dtype=fg.float64).dtype == fg.float64
    assert fg.arange(0).shape == (0,)


def test_linspace():
    t = fg.linspace(0, 1, 5)
    assert t.dtype == fg.float32
    np.testing.assert_allclose(t.numpy(), [0, 0.25, 0.5, 0.75, 1.0])
    assert fg.linspace(-1, 1, 1).tolist() == [-1.0]
    assert fg.linspace(0, 1, 0).shape == (0,)
    t = fg.linspace(0.1, 0.7, 7, dtype=fg.float64)
    assert t.tolist()[-1] == 0.7


def test_random_functions_shapes_and_ranges():
    r = fg.rand(1000)
    a = r.numpy()
    assert r.dtype == fg.float32 and a.min() >= 0 and a.max() < 1
    n = fg.randn(2000, dtype=fg.float64).numpy()
    assert abs(n.mean()) < 0.15 and 0.85 < n.std() < 1.15
    i = fg.randint(0, 10, (500,))
    assert i.dtype == fg.int64
    assert set(i.tolist()) == set(range(10))
    assert fg.randint(3, (2, 2)).numpy().max() < 3
    assert fg.randint(3, size=(40,)).numpy().min() >= 0
    assert fg.randint(-5, -2, size=[30]).numpy().max() < -2
    assert fg.randint(0, 2, (3,), dtype=fg.float32).dtype == fg.float32
    assert fg.rand(2, 3).shape == (2, 3)
    assert fg.randn((4,)).shape == (4,)


def test_manual_seed_makes_every_random_function_reproducible():
    def draw():
        return (
            fg.rand(5).tolist(),
            fg.randn(2, 3, dtype=fg.float64).tolist(),
            fg.randint(0, 100, (6,)).tolist(),
            fg.rand_like(fg.zeros(3)).tolist(),
            fg.randn_like(fg.zeros(3)).tolist(),
        )

    fg.manual_seed(1234)
    first = draw()
    fg.manual_seed(1234)
    assert draw() == first
    fg.manual_seed(99)
    assert draw() != first
    assert fg.initial_seed() == 99


def test_from_numpy():
    a = np.array([[1, 2], [3, 4]], dtype=np.int64)
    t = fg.from_numpy(a)
    assert t.dtype == fg.int64 and t.tolist() == [[1, 2], [3, 4]]
    assert fg.from_numpy(np.ones(2, dtype=np.float64)).dtype == fg.float64
    with pytest.raises(TypeError):
        fg.from_numpy([1, 2])


# ----- metadata and data out -----


def test_shape_ndim_numel_len():
    t = fg.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.ndim == 3 and t.dim() == 3
    assert t.numel() == 24
    assert len(t) == 2
    assert t.stride() == (12, 4, 1)
    assert t.storage_offset() == 0
    with pytest.raises(TypeError):
        len(fg.tensor(1.0))


def test_item_and_tolist_types():
    assert isinstance(fg.tensor(2).item(), int)
    assert isinstance(fg.tensor(2.0).item(), float)
    assert isinstance(fg.tensor(True).item(), bool)
    assert fg.tensor([[5]]).item() == 5
    assert fg.tensor([1.5, 2.5]).tolist() == [1.5, 2.5]
    assert fg.tensor(1.5).tolist() == 1.5
    assert fg.tensor([True]).tolist() == [True]
    with pytest.raises(fg.FerrogradError):
        fg.tensor([1, 2]).item()
    assert float(fg.tensor(2.5)) == 2.5
    assert int(fg.tensor(7)) == 7
    assert bool(fg.tensor(0.0)) is False


def test_repr_matches_pytorch_style():
    assert repr(fg.tensor([1.0, 2.0, 3.0])) == "tensor([1., 2., 3.])"
    assert repr(fg.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(fg.tensor([True, False])) == "tensor([ True, False])"
    assert repr(fg.tensor(2.5)) == "tensor(2.5000)"
    assert repr(fg.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward>)"
    assert repr(fg.tensor([1.0], dtype=fg.float64)) == "tensor([1.], dtype=ferrograd.float64)"
    assert repr(fg.tensor([1, 10, -3])) == "tensor([ 1, 10, -3])"
    assert repr(fg.tensor([[1.5, 2.0], [3.0, 4.25]])) == "tensor([[1.5000, 2.0000],\n        [3.0000, 4.2500]])"
    assert repr(fg.zeros(0)) == "tensor([])"
    assert repr(fg.zeros(2, 0)) == "tensor([], size=(2, 0))"
    assert repr(fg.zeros(0, dtype=fg.int64)) == "tensor([], dtype=ferrograd.int64)"
    assert repr(fg.tensor([1e-5, 1.0])) == "tensor([1.0000e-05, 1.0000e+00])"
    assert repr(fg.tensor([float("nan"), 1.0])) == "tensor([nan, 1.])"
    assert repr(fg.arange(2000, dtype=fg.float32)) == (
        "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
        "        1.9990e+03])"
    )
    assert repr(fg.arange(30, dtype=fg.float32)) == (
        "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
        "        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n"
        "        28., 29.])"
    )


def test_grad_fn_names():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    assert (x + 1).grad_fn.name() == "AddBackward"
    assert (x - x).grad_fn.name() == "SubBackward"
    assert (x / 2).grad_fn.name() == "DivBackward"
    assert (x**2).grad_fn.name() == "PowBackward"
    assert x.exp().grad_fn.name() == "ExpBackward"
    assert x.sum().grad_fn.name() == "SumBackward"
    assert x.relu().grad_fn.name() == "ReluBackward"
    assert x.grad_fn is None
    assert "MulBackward" in repr((x * x).grad_fn)


# ----- arithmetic -----


def test_arithmetic_with_python_scalars_on_both_sides():
    x = fg.tensor([1.0, 2.0, 4.0])
    assert (x + 1).tolist() == [2.0, 3.0, 5.0]
    assert (1 + x).tolist() == [2.0, 3.0, 5.0]
    assert (x - 1).tolist() == [0.0, 1.0, 3.0]
    assert (1 - x).tolist() == [0.0, -1.0, -3.0]
    assert (x * 2).tolist() == [2.0, 4.0, 8.0]
    assert (2 * x).tolist() == [2.0, 4.0, 8.0]
    assert (x / 2).tolist() == [0.5, 1.0, 2.0]
    assert (4 / x).tolist() == [4.0, 2.0, 1.0]
    assert (x**2).tolist() == [1.0, 4.0, 16.0]
    assert (2**x).tolist() == [2.0, 4.0, 16.0]
    assert (-x).tolist() == [-1.0, -2.0, -4.0]
    assert (x + True).tolist() == [2.0, 3.0, 5.0]


def test_scalar_type_promotion_follows_pytorch():
    i = fg.tensor([1, 2])
    assert (i + 1).dtype == fg.int64
    assert (i + 1.5).dtype == fg.float32
    assert (i / 2).dtype == fg.float32
    assert (i / 2).tolist() == [0.5, 1.0]
    f = fg.tensor([1.0], dtype=fg.float64)
    assert (f * 2.0).dtype == fg.float64
    assert (fg.tensor([1.0]) * 2.0).dtype == fg.float32
    assert (fg.tensor([1.0]) + fg.tensor([1.0], dtype=fg.float64)).dtype == fg.float64
    assert (i + fg.tensor([0.5])).dtype == fg.float32
    # A 0-d tensor of the same category does not widen a dimensioned one.
    assert (fg.tensor([1.0]) + fg.tensor(1.0, dtype=fg.float64)).dtype == fg.float32
    b = fg.tensor([True, False])
    assert (b + 1).dtype == fg.int64


def test_broadcasting():
    a = fg.arange(6, dtype=fg.float32).reshape(2, 3)
    b = fg.tensor([10.0, 20.0, 30.0])
    c = fg.tensor([[1.0], [2.0]])
    np.testing.assert_array_equal((a + b).numpy(), a.numpy() + b.numpy())
    np.testing.assert_array_equal((a * c).numpy(), a.numpy() * c.numpy())
    np.testing.assert_array_equal((c - b).numpy(), c.numpy() - b.numpy())
    assert (c - b).shape == (2, 3)
    assert (fg.ones(4, 1, 3) + fg.ones(5, 1)).shape == (4, 5, 3)
    with pytest.raises(fg.ShapeError):
        a + fg.ones(2)


def test_numpy_array_operand():
    x = fg.tensor([1.0, 2.0])
    y = x + np.array([1.0, 1.0], dtype=np.float32)
    assert isinstance(y, fg.Tensor) and y.tolist() == [2.0, 3.0]


def test_matmul_ranks():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.arange(12, dtype=np.float32).reshape(3, 4)
    v = np.arange(3, dtype=np.float32)
    ta, tb, tv = fg.tensor(a), fg.tensor(b), fg.tensor(v)
    np.testing.assert_allclose((ta @ tb).numpy(), a @ b)
    np.testing.assert_allclose((tv @ tv).numpy(), v @ v)
    assert (tv @ tv).shape == ()
    np.testing.assert_allclose((ta @ tv).numpy(), a @ v)
    np.testing.assert_allclose((tv @ tb).numpy(), v @ b)
    batch = np.random.default_rng(0).standard_normal((5, 1, 2, 3)).astype(np.float32)
    other = np.random.default_rng(1).standard_normal((4, 3, 2)).astype(np.float32)
    np.testing.assert_allclose((fg.tensor(batch) @ fg.tensor(other)).numpy(), batch @ other, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fg.tensor(a).matmul(fg.tensor(b)).numpy(), a @ b)
    np.testing.assert_allclose((fg.tensor(a).T @ fg.tensor(a)).numpy(), a.T @ a)


def test_unary_functions_match_numpy():
    a = np.array([-2.0, -0.5, 0.25, 3.0], dtype=np.float32)
    t = fg.tensor(a)
    np.testing.assert_allclose(t.exp().numpy(), np.exp(a), rtol=1e-6)
    np.testing.assert_allclose(t.tanh().numpy(), np.tanh(a), rtol=1e-6)
    np.testing.assert_allclose(t.sigmoid().numpy(), 1 / (1 + np.exp(-a)), rtol=1e-6)
    np.testing.assert_array_equal(t.relu().numpy(), np.maximum(a, 0))
    p = np.abs(a)
    np.testing.assert_allclose(fg.tensor(p).log().numpy(), np.log(p), rtol=1e-6)
    np.testing.assert_allclose(fg.tensor(p).sqrt().numpy(), np.sqrt(p), rtol=1e-6)
    assert fg.exp(t).tolist() == t.exp().tolist()
    # Int tensors compute transcendental functions in float32.
    assert fg.tensor([0, 1]).exp().dtype == fg.float32


def test_reductions():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    t = fg.tensor(a)
    assert t.sum().item() == a.sum()
    np.testing.assert_array_equal(t.sum(1).numpy(), a.sum(1))
    np.testing.assert_array_equal(t.sum(dim=(0, -1)).numpy(), a.sum((0, 2)))
    np.testing.assert_array_equal(t.sum(axis=-1, keepdim=True).numpy(), a.sum(-1, keepdims=True))
    np.testing.assert_allclose(t.mean(dim=[0, 1]).numpy(), a.mean((0, 1)))
    np.testing.assert_allclose(t.mean(axis=2, keepdim=True).numpy(), a.mean(2, keepdims=True))
    assert fg.tensor([1, 2, 3]).sum().dtype == fg.int64
    assert fg.tensor([True, True, False]).sum().item() == 2
    with pytest.raises(fg.DTypeError):
        fg.tensor([1, 2]).mean()
    v, i = t.max(dim=1)
    np.testing.assert_array_equal(v.numpy(), a.max(1))
    np.testing.assert_array_equal(i.numpy(), a.argmax(1))
    r = t.min(axis=-1, keepdim=True)
    assert r.values.shape == (2, 3, 1) and r.indices.dtype == fg.int64
    assert t.max().item() == 23 and t.min().item() == 0
    assert t.argmax().item() == 23
    np.testing.assert_array_equal(t.argmin(dim=0).numpy(), a.argmin(0))
    np.testing.assert_array_equal(t.argmax(axis=2).numpy(), a.argmax(2))


def test_comparisons_give_bool_without_grad():
    x = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for r in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2, 2 < x, x > fg.tensor([0.0, 5.0, 3.0])):
        assert r.dtype == fg.bool
        assert not r.requires_grad and r.grad_fn is None
    assert (x > 1.5).tolist() == [False, True, True]
    assert (2 < x).tolist() == [False, False, True]
    assert (x == fg.tensor([1.0])).tolist() == [True, False, False]
    assert x.gt(2).tolist() == [False, False, True]


def test_softmax_and_log_softmax_values():
    a = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, -1000.0]], dtype=np.float32)
    t = fg.tensor(a)
    s = t.softmax(dim=1).numpy()
    np.testing.assert_allclose(s.sum(1), [1.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(s[1], [0.5, 0.5, 0.0], atol=1e-7)
    ls = t.log_softmax(axis=-1).numpy()
    assert np.isfinite(ls).all()
    np.testing.assert_allclose(ls[1, :2], [-math.log(2)] * 2, rtol=1e-6)
    np.testing.assert_allclose(fg.nn.functional.softmax(t, dim=0).numpy().sum(0), [1, 1, 1], rtol=1e-6)


@pytest.mark.parametrize("shape", [(513, 10), (300, 7), (40, 300), (3, 5000), (70000, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_rows_of_any_length_match_numpy(shape, dtype):
    # short rows share one pass of the exp, long rows span several; big ones split across threads
    a = (np.random.default_rng(3).standard_normal(shape) * 4).astype(dtype)
    a[0, 0] = np.inf if shape[1] == 1 else a[0, 0]
    m = a.max(1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(invalid="ignore"):
        ls = (a - m) - np.log(np.exp((a - m).astype(np.float64)).sum(1, keepdims=True))
    tol = dict(rtol=2e-6, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    t = fg.tensor(a)
    np.testing.assert_allclose(t.log_softmax(dim=1).numpy(), ls.astype(dtype), **tol)
    np.testing.assert_allclose(t.softmax(dim=1).numpy(), np.exp(ls).astype(dtype), **tol)


def test_cross_entropy_value():
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]], dtype=np.float32)
    target = np.array([0, 2])
    lp = logits - logits.max(1, keepdims=True)
    lp = lp - np.log(np.exp(lp).sum(1, keepdims=True))
    want = -(lp[0, 0] + lp[1, 2]) / 2
    got = fg.nn.functional.cross_entropy(fg.tensor(logits), fg.tensor(target)).item()
    assert got == pytest.approx(want, rel=1e-6)


# ----- views and indexing -----


def test_views_share_storage():
    t = fg.arange(6, dtype=fg.float32)
    v = t.view(2, 3)
    r = t.reshape(3, 2)
    tr = v.transpose(0, 1)
    p = v.permute(1, 0)
    assert tr.shape == (3, 2) and tr.stride() == (1, 3)
    assert not tr.is_contiguous()
    assert p.tolist() == tr.tolist()
    v[0, 0] = 100.0
    assert t[0].item() == 100.0 and r[0, 0].item() == 100.0 and tr[0, 0].item() == 100.0
    assert v.unsqueeze(0).shape == (1, 2, 3)
    assert v.unsqueeze(dim=-1).shape == (2, 3, 1)
    assert v.unsqueeze(axis=1).shape == (2, 1, 3)
    assert fg.zeros(1, 3, 1).squeeze().shape == (3,)
    assert fg.zeros(1, 3, 1).squeeze(0).shape == (3, 1)
    assert fg.zeros(1, 3, 1).squeeze(dim=-1).shape == (1, 3)
    assert v.reshape(-1).shape == (6,)
    assert v.reshape((3, -1)).shape == (3, 2)
    with pytest.raises(fg.ShapeError):
        tr.view(6)
    assert tr.reshape(6).tolist() == [100.0, 3.0, 1.0, 4.0, 2.0, 5.0]


def test_basic_indexing_matches_numpy():
    a = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    t = fg.tensor(a)
    keys = [
        1,
        -1,
        (0, 2),
        (slice(None), 1),
        (slice(1, None, 2),),
        (slice(None, None, 2), slice(None, -1, 3), slice(4, 0, None)),
        (Ellipsis, 0),
        (None, 1, Ellipsis, None),
        (1, None, slice(None, 2)),
        (Ellipsis,),
        (slice(-100, 100),),
        (2, 3, 4),
        (slice(None), None, slice(None, None, 4)),
    ]
    for key in keys:
        got = t[key]
        want = a[key]
        assert got.shape == want.shape, key
        np.testing.assert_array_equal(got.numpy(), want, err_msg=str(key))
    # Integer indexing of every element gives a 0-d tensor.
    assert t[2, 3, 4].shape == ()
    assert t[2, 3, 4].item() == 59.0


def test_indexing_is_a_view_and_setitem_writes_through():
    t = fg.zeros(3, 4)
    row = t[1]
    row[2] = 5.0
    assert t[1, 2].item() == 5.0
    t[:, 0] = fg.tensor([1.0, 2.0, 3.0])
    assert t[:, 0].tolist() == [1.0, 2.0, 3.0]
    t[0, 1:3] = 7
    assert t[0].tolist() == [1.0, 7.0, 7.0, 0.0]


def test_index_errors():
    t = fg.zeros(2, 3)
    with pytest.raises(IndexError):
        t[2]
    with pytest.raises(IndexError):
        t[0, -4]
    with pytest.raises(IndexError):
        t[0, 0, 0]
    with pytest.raises((IndexError, TypeError)):
        t["a"]
    with pytest.raises((ValueError, fg.FerrogradError)):
        t[::-1]


# ----- in-place ops -----


def test_inplace_ops_and_version_counter():
    t = fg.tensor([1.0, 2.0])
    v0 = t._version
    t += 1
    assert t.tolist() == [2.0, 3.0]
    t -= fg.tensor([1.0, 1.0])
    t *= 4
    t /= 2
    assert t.tolist() == [2.0, 4.0]
    assert t._version == v0 + 4
    t.add_(1).sub_(1).mul_(2).div_(2)
    assert t._version == v0 + 8
    t.zero_()
    assert t.tolist() == [0.0, 0.0]
    t.fill_(3)
    assert t.tolist() == [3.0, 3.0]
    t.copy_(fg.tensor([5.0, 6.0]))
    assert t.tolist() == [5.0, 6.0]
    assert t._version == v0 + 11
    t.add_(fg.tensor([1.0, 1.0]), alpha=2)
    assert t.tolist() == [7.0, 8.0]


def test_inplace_keeps_identity_and_moves_views_versions():
    t = fg.zeros(4)
    ident = id(t)
    t += 1
    assert id(t) == ident
    v = t[1:3]
    before = t._version
    v.mul_(3)
    assert t._version == before + 1 == v._version
    assert t.tolist() == [1.0, 3.0, 3.0, 1.0]


def test_inplace_broadcast_and_dtype_rules():
    t = fg.zeros(2, 3)
    t += fg.tensor([1.0, 2.0, 3.0])
    assert t.tolist() == [[1.0, 2.0, 3.0]] * 2
    with pytest.raises(fg.ShapeError):
        fg.zeros(3).add_(fg.zeros(2, 3))
    i = fg.tensor([1, 2])
    i += 1
    assert i.dtype == fg.int64
    with pytest.raises(fg.DTypeError):
        i += 0.5
    with pytest.raises(fg.DTypeError):
        i /= 2
    f = fg.tensor([1.0])
    f.copy_(fg.tensor([3]))
    assert f.dtype == fg.float32 and f.tolist() == [3.0]


def test_inplace_on_a_leaf_that_requires_grad_is_refused():
    w = fg.tensor([1.0], requires_grad=True)
    with pytest.raises(fg.AutogradError):
        w += 1
    with pytest.raises(fg.AutogradError):
        w.zero_()
    with fg.no_grad():
        w -= 0.5
    assert w.tolist() == [0.5]
    assert w.requires_grad and w.is_leaf


def test_function_forms():
    x = fg.tensor([[1.0, -2.0], [3.0, 4.0]])
    assert fg.add(x, 1).tolist() == (x + 1).tolist()
    assert fg.matmul(x, x).tolist() == (x @ x).tolist()
    assert fg.sum(x, dim=0).tolist() == [4.0, 2.0]
    assert fg.relu(x).tolist() == [[1.0, 0.0], [3.0, 4.0]]
    assert fg.transpose(x, 0, 1).tolist() == [[1.0, 3.0], [-2.0, 4.0]]
    assert fg.is_tensor(x) and not fg.is_tensor(1)
    with pytest.raises(TypeError):
        fg.exp([1.0])
