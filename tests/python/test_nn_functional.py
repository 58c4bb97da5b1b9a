"""ferrograd.nn.functional beyond losses, conv and pooling: linear, bilinear, dropout, the
softmax family, normalisation layers, embedding, one_hot, distances and interpolate."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ferrograd as fg
import ferrograd.nn.functional as F
from nn_check import assert_typed_error, gradcheck, t64

rng = np.random.default_rng(2)


# ----- linear / bilinear -----

def test_linear_matches_and_gradchecks():
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    np.testing.assert_allclose(F.linear(t64(x), t64(w), t64(b)).numpy(), x @ w.T + b, rtol=1e-12)
    np.testing.assert_allclose(F.linear(t64(x), t64(w)).numpy(), x @ w.T, rtol=1e-12)
    gradcheck(lambda a, c, e: F.linear(a, c, e), [x, w, b])
    gradcheck(lambda a, c, e: F.linear(a, c, e), [x[0], w, b])
    y = F.linear(t64(x[0], requires_grad=True), t64(w), t64(b))
    assert y.grad_fn.name() == "AddmmBackward"  # one fused GEMM with the bias
    gradcheck(lambda a, c: F.linear(a.t(), c), [rng.standard_normal((4, 3)), w])  # transposed input
    gradcheck(lambda a, c: F.linear(a[::2], c.expand(5, 4)), [rng.standard_normal((6, 4)), rng.standard_normal((1, 4))])
    assert_typed_error(lambda: F.linear(t64(x), t64(np.zeros((5, 3)))), fg.ShapeError)
    assert_typed_error(lambda: F.linear(t64(x), [[1.0]]), TypeError)


def test_bilinear_matches_and_gradchecks():
    x1, x2 = rng.standard_normal((3, 2)), rng.standard_normal((3, 4))
    w, b = rng.standard_normal((5, 2, 4)), rng.standard_normal(5)
    want = np.einsum("ni,oij,nj->no", x1, w, x2) + b
    np.testing.assert_allclose(F.bilinear(t64(x1), t64(x2), t64(w), t64(b)).numpy(), want, rtol=1e-12)
    gradcheck(lambda a, c, e, f: F.bilinear(a, c, e, f), [x1, x2, w, b])
    assert_typed_error(lambda: F.bilinear(t64(x1), t64(x1), t64(w)), fg.ShapeError)


# ----- dropout -----

def test_dropout_is_seeded_scaled_and_differentiable():
    x = fg.ones(1000, dtype=fg.float64, requires_grad=True)
    fg.manual_seed(7)
    a = F.dropout(x, 0.3)
    fg.manual_seed(7)
    b = F.dropout(x, 0.3)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    vals = np.unique(a.detach().numpy())
    np.testing.assert_allclose(vals, [0.0, 1 / 0.7])
    assert 0.2 < (a.detach().numpy() == 0).mean() < 0.4
    a.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), a.detach().numpy())  # gradient uses the same mask


def test_dropout_eval_p0_p1_and_errors():
    x = t64(rng.standard_normal(10))
    assert F.dropout(x, 0.5, training=False) is x or np.array_equal(F.dropout(x, 0.5, training=False).numpy(), x.numpy())
    np.testing.assert_array_equal(F.dropout(x, 0.0).numpy(), x.numpy())
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), np.zeros(10))
    assert_typed_error(lambda: F.dropout(x, 1.5), ValueError)
    assert_typed_error(lambda: F.dropout(x, -0.1), ValueError)
    y = t64(np.ones(100))
    out = F.dropout(y, 0.5, inplace=True)
    assert out is y and set(np.unique(y.numpy())) <= {0.0, 2.0}


# ----- softmax family -----

def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_softmax_family_values_axis_alias_and_gradcheck():
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(F.softmax(t64(x), dim=-1).numpy(), np_softmax(x, -1), rtol=1e-12)
    np.testing.assert_allclose(F.softmax(t64(x), axis=0).numpy(), np_softmax(x, 0), rtol=1e-12)
    np.testing.assert_allclose(F.softmin(t64(x), 1).numpy(), np_softmax(-x, 1), rtol=1e-12)
    np.testing.assert_allclose(F.log_softmax(t64(x), 1).numpy(), np.log(np_softmax(x, 1)), rtol=1e-12)
    gradcheck(lambda a: F.softmin(a.t(), dim=-1), [x])
    gradcheck(lambda a: F.softmax(a, dim=-1) * a, [x])
    gradcheck(lambda a: F.softmax(a.t()[::2], dim=-2), [x])
    gradcheck(lambda a: a.softmax(0), [x])
    gradcheck(lambda a: F.log_softmax(a[:, ::2], dim=0), [x])
    assert_typed_error(lambda: F.softmax(t64(x)), TypeError)
    assert_typed_error(lambda: F.softmax(t64(x), 2), IndexError)
    assert F.softmax(fg.tensor(x.astype(np.float32)), 1, dtype=fg.float64).dtype == fg.float64


# ----- normalisation -----

def np_norm(x, axes, eps):
    m = x.mean(axis=axes, keepdims=True)
    v = x.var(axis=axes, keepdims=True)
    return (x - m) / np.sqrt(v + eps)


def test_layer_norm_matches_and_gradchecks():
    x = rng.standard_normal((2, 3, 4))
    w, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    got = F.layer_norm(t64(x), (3, 4), t64(w), t64(b), eps=1e-5).numpy()
    np.testing.assert_allclose(got, np_norm(x, (1, 2), 1e-5) * w + b, rtol=1e-10)
    gradcheck(lambda a, c, e: F.layer_norm(a, [4], c, e), [x, w[0], b[0]])
    gradcheck(lambda a: F.layer_norm(a.transpose(0, 2), 2), [x])
    assert_typed_error(lambda: F.layer_norm(t64(x), (4, 3)), fg.ShapeError)
    assert_typed_error(lambda: F.layer_norm(t64(x), 4, t64(np.ones(3))), fg.ShapeError)


@pytest.mark.parametrize("dtype", [fg.float32, fg.float64])
def test_layer_norm_of_rows_split_across_threads_matches_float64(dtype):
    # 300 rows of 500: large enough that the rows go to several tasks. Centred far from zero,
    # so statistics accumulated in float32 would lose the variance.
    x = rng.standard_normal((300, 500)) * 0.5 + 1000.0
    g = rng.standard_normal((300, 500))
    xt = fg.tensor(x, dtype=dtype).requires_grad_(True)
    y = F.layer_norm(xt, (500,), eps=1e-5)
    xs = xt.detach().numpy().astype(np.float64)  # the values the op saw
    want = np_norm(xs, (1,), 1e-5)
    tol = 1e-5 if dtype == fg.float32 else 1e-10
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=tol, atol=tol)
    y.backward(fg.tensor(g, dtype=dtype))
    rstd = 1.0 / np.sqrt(xs.var(axis=1, keepdims=True) + 1e-5)
    gx = (g - g.mean(1, keepdims=True) - want * (g * want).mean(1, keepdims=True)) * rstd
    np.testing.assert_allclose(xt.grad.numpy(), gx, rtol=tol, atol=tol)


def test_batch_norm_of_long_channels_split_across_threads():
    # 3 channels of 100,000 values each: one channel per task.
    x = rng.standard_normal((40, 3, 50, 50))
    rm, rv = fg.zeros(3, dtype=fg.float64), fg.ones(3, dtype=fg.float64)
    y = F.batch_norm(t64(x), rm, rv, training=True, momentum=1.0)
    np.testing.assert_allclose(y.numpy(), np_norm(x, (0, 2, 3), 1e-5), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rm.numpy(), x.mean((0, 2, 3)), rtol=1e-10)
    np.testing.assert_allclose(rv.numpy(), x.var((0, 2, 3), ddof=1), rtol=1e-10)


def test_group_norm_matches_and_gradchecks():
    x = rng.standard_normal((2, 4, 3))
    w, b = rng.standard_normal(4), rng.standard_normal(4)
    got = F.group_norm(t64(x), 2, t64(w), t64(b)).numpy()
    want = np_norm(x.reshape(2, 2, -1), (2,), 1e-5).reshape(x.shape) * w[:, None] + b[:, None]
    np.testing.assert_allclose(got, want, rtol=1e-10)
    gradcheck(lambda a, c, e: F.group_norm(a, 2, c, e), [x, w, b])
    assert_typed_error(lambda: F.group_norm(t64(x), 3), fg.ShapeError)


def test_batch_norm_training_updates_running_stats_without_graph():
    x = rng.standard_normal((5, 3, 2))
    rm, rv = fg.zeros(3, dtype=fg.float64), fg.ones(3, dtype=fg.float64)
    w = t64(rng.standard_normal(3), requires_grad=True)
    b = t64(rng.standard_normal(3))
    y = F.batch_norm(t64(x), rm, rv, w, b, training=True, momentum=0.1)
    want = np_norm(x, (0, 2), 1e-5) * w.detach().numpy()[:, None] + b.numpy()[:, None]
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-10)
    np.testing.assert_allclose(rm.numpy(), 0.1 * x.mean((0, 2)), rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), 0.9 + 0.1 * x.var((0, 2), ddof=1), rtol=1e-12)
    assert not rm.requires_grad and rm.grad_fn is None
    # eval uses the running statistics
    ye = F.batch_norm(t64(x), rm, rv, training=False).numpy()
    np.testing.assert_allclose(ye, (x - rm.numpy()[:, None]) / np.sqrt(rv.numpy()[:, None] + 1e-5), rtol=1e-10)


def test_batch_norm_gradcheck_and_errors():
    x = rng.standard_normal((4, 2, 3))
    gradcheck(lambda a, c, e: F.batch_norm(a, None, None, c, e, training=True), [x, rng.standard_normal(2), rng.standard_normal(2)])
    gradcheck(lambda a: F.batch_norm(a.transpose(0, 2), None, None, training=True), [rng.standard_normal((3, 2, 4))])
    rm, rv = t64(rng.standard_normal(2)), t64(rng.uniform(1, 2, 2))
    gradcheck(lambda a: F.batch_norm(a, rm, rv, training=False), [x])
    assert_typed_error(lambda: F.batch_norm(t64(np.zeros((1, 2))), None, None, training=True), fg.FerrogradError)
    assert_typed_error(lambda: F.batch_norm(t64(x), None, None, training=False), fg.FerrogradError)
    assert_typed_error(lambda: F.batch_norm(t64(x), t64(np.zeros(3)), t64(np.ones(3))), fg.ShapeError)


# ----- embedding / one_hot -----

def test_embedding_lookup_padding_and_freq_scaling():
    w = rng.standard_normal((5, 3))
    idx = fg.tensor([[0, 2, 2], [4, 1, 2]])
    np.testing.assert_allclose(F.embedding(idx, t64(w)).numpy(), w[idx.numpy()])
    wt = t64(w, requires_grad=True)
    F.embedding(idx, wt, padding_idx=2).sum().backward()
    np.testing.assert_allclose(wt.grad.numpy()[:, 0], [1, 1, 0, 0, 1])
    wt2 = t64(w, requires_grad=True)
    F.embedding(idx, wt2, scale_grad_by_freq=True).sum().backward()
    np.testing.assert_allclose(wt2.grad.numpy()[:, 0], [1, 1, 1, 0, 1])
    gradcheck(lambda a: F.embedding(idx, a), [w])
    assert_typed_error(lambda: F.embedding(fg.tensor([5]), t64(w)), IndexError)
    assert_typed_error(lambda: F.embedding(t64([1.0]), t64(w)), fg.DTypeError)


def test_embedding_max_norm_renormalises_rows_in_place():
    w = t64(np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]]))
    out = F.embedding(fg.tensor([0, 1]), w, max_norm=1.0).numpy()
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), [1.0, 0.5], rtol=1e-6)
    np.testing.assert_allclose(w.numpy()[2], [6.0, 8.0])  # rows not looked up stay


def test_one_hot():
    np.testing.assert_array_equal(F.one_hot(fg.tensor([0, 2, 1])).numpy(), np.eye(3, dtype=np.int64)[[0, 2, 1]])
    out = F.one_hot(fg.tensor([[1], [0]]), num_classes=4)
    assert tuple(out.shape) == (2, 1, 4) and out.dtype == fg.int64
    assert_typed_error(lambda: F.one_hot(fg.tensor([3]), 3), fg.FerrogradError)
    assert_typed_error(lambda: F.one_hot(fg.tensor([-1])), fg.FerrogradError)
    assert_typed_error(lambda: F.one_hot(t64([1.0])), fg.DTypeError)


# ----- distances -----

def test_normalize_cosine_pairwise_values_and_grads():
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((1, 4))
    np.testing.assert_allclose(F.normalize(t64(x), dim=1).numpy(), x / np.linalg.norm(x, axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(F.normalize(t64(x), p=1, axis=0).numpy(), x / np.abs(x).sum(0), rtol=1e-12)
    cos = (x * y).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y)
    np.testing.assert_allclose(F.cosine_similarity(t64(x), t64(y)).numpy(), cos, rtol=1e-12)
    d = np.linalg.norm(x - y + 1e-6, axis=-1)
    np.testing.assert_allclose(F.pairwise_distance(t64(x), t64(y)).numpy(), d, rtol=1e-12)
    d3 = (np.abs(x - y + 1e-6) ** 3).sum(-1) ** (1 / 3)
    np.testing.assert_allclose(F.pairwise_distance(t64(x), t64(y), p=3, keepdim=True).numpy(), d3[:, None], rtol=1e-12)
    gradcheck(lambda a, b: F.cosine_similarity(a, b, dim=-1), [x, y])
    gradcheck(lambda a, b: F.pairwise_distance(a.t(), b, p=1.5), [x.T.copy(), y])
    gradcheck(lambda a: F.normalize(a[::2], p=3, dim=-1), [x])


def test_normalize_zero_vector_has_finite_gradient():
    x = t64(np.zeros((2, 3)), requires_grad=True)
    F.normalize(x, dim=1).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


# ----- interpolate -----

def test_interpolate_nearest_and_bilinear():
    x = rng.standard_normal((1, 2, 3, 4))
    near = F.interpolate(t64(x), scale_factor=2).numpy()
    np.testing.assert_allclose(near, x.repeat(2, 2).repeat(2, 3))
    near2 = F.interpolate(t64(x), size=(2, 3)).numpy()
    np.testing.assert_allclose(near2, x[:, :, [0, 1]][:, :, :, [0, 1, 2]])
    ac = F.interpolate(t64(x), size=(5, 7), mode="bilinear", align_corners=True).numpy()
    np.testing.assert_allclose(ac[:, :, ::2, ::2], x, rtol=1e-12)  # corners align on the input grid
    half = F.interpolate(t64(x), scale_factor=2, mode="bilinear", align_corners=False).numpy()
    # output pixel 1 sits at input coordinate 0.25
    np.testing.assert_allclose(half[:, :, 0, 1], 0.75 * x[:, :, 0, 0] + 0.25 * x[:, :, 0, 1], rtol=1e-12)
    lin = F.interpolate(t64(x[0]), size=7, mode="linear", align_corners=True).numpy()
    np.testing.assert_allclose(lin[:, :, ::2], x[0], rtol=1e-12)
    gradcheck(lambda a: F.interpolate(a, size=(4, 5), mode="bilinear"), [x])
    gradcheck(lambda a: F.interpolate(a.transpose(-1, -2), scale_factor=(1.5, 2.0)), [x])


def test_interpolate_errors():
    x = t64(np.zeros((1, 1, 2, 2)))
    assert_typed_error(lambda: F.interpolate(x), ValueError)
    assert_typed_error(lambda: F.interpolate(x, size=2, scale_factor=2), ValueError)
    assert_typed_error(lambda: F.interpolate(x, size=(2, 2, 2)), ValueError)
    assert_typed_error(lambda: F.interpolate(x, size=2, mode="nearest", align_corners=True), ValueError)
    assert_typed_error(lambda: F.interpolate(x, size=2, mode="bicubic"), NotImplementedError)


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 3), min_size=0, max_size=5), dim=st.integers(-6, 5))
def test_dim_ops_random_shapes_raise_typed_errors(shape, dim):
    x = fg.zeros(*shape, dtype=fg.float64)
    for fn in (lambda: F.softmax(x, dim), lambda: F.normalize(x, dim=dim), lambda: F.layer_norm(x, shape[-1:] or [1]),
               lambda: F.cosine_similarity(x, x, dim=dim)):
        try:
            fn()
        except BaseException as e:  # noqa: BLE001
            assert isinstance(e, (fg.FerrogradError, IndexError, ValueError, TypeError)), type(e)


def test_dropout_gradcheck_with_a_fixed_mask():
    # Reseeding inside the function makes every evaluation draw the same mask, so finite
    # differences see the function autograd differentiates: x * mask / (1 - p).
    x = rng.standard_normal((4, 5))

    def drop(a, p=0.4):
        fg.manual_seed(1234)
        return F.dropout(a, p, training=True)

    gradcheck(drop, [x])
    gradcheck(lambda a: drop(a.t()[:, ::2]), [x])
    gradcheck(lambda a: F.dropout(a, 0.5, training=False), [x])
    out = drop(t64(x))
    kept = out.numpy() != 0
    np.testing.assert_allclose(out.numpy()[kept], x[kept] / 0.6, rtol=1e-12)
