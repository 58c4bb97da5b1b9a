"""Zero-size shapes through every op family, forward and backward, with PyTorch's results:
a sum over an empty dim is 0, a mean NaN, a product 1, max/argmax over an empty dim a typed
error naming the op, matmul with k=0 zeros. Never a PanicException."""

import math

import numpy as np
import pytest

import ferrograd as fg
from _shape_helpers import assert_typed_error

F = fg.nn.functional


def z(*shape, dtype=fg.float64, requires_grad=True):
    return fg.zeros(*shape, dtype=dtype, requires_grad=requires_grad)


def npy(t):
    return t.detach().numpy()


def backward_ok(x, out):
    """Backward through `out` reaches `x` with a gradient of x's shape (no panic)."""
    out = out[0] if isinstance(out, (tuple, list)) else out
    assert out.requires_grad, "result lost its history"
    out.sum().backward()
    assert x.grad is not None and tuple(x.grad.shape) == tuple(x.shape)
    return x.grad


# ----- reductions -----


def test_sum_over_an_empty_dim_is_zero_regression():
    # Used to panic in kernels/reduce.rs ("range start index 1 out of range").
    x = z(2, 0)
    out = x.sum(-1)
    assert tuple(out.shape) == (2,)
    np.testing.assert_array_equal(npy(out), [0.0, 0.0])
    backward_ok(x, out)


@pytest.mark.parametrize("dtype", [fg.float32, fg.float64, fg.int64, fg.bool])
@pytest.mark.parametrize("shape,dims", [((2, 0), -1), ((2, 0), 0), ((0, 3), 0), ((0, 3), 1), ((2, 0, 3), (0, 1)), ((2, 0, 3), (1, 2)), ((0,), 0), ((2, 0), None)])
def test_sum_prod_all_any_count_nonzero_of_empty_match_numpy(dtype, shape, dims):
    a = np.zeros(shape, dtype={fg.float32: np.float32, fg.float64: np.float64, fg.int64: np.int64, fg.bool: np.bool_}[dtype])
    t = fg.tensor(a)
    acc = np.int64 if dtype in (fg.int64, fg.bool) else a.dtype
    if dims is None:
        np.testing.assert_array_equal(npy(t.sum()), a.sum(dtype=acc))
        np.testing.assert_array_equal(npy(t.prod()), a.prod(dtype=acc))
        return
    for keepdim in (False, True):
        np.testing.assert_array_equal(npy(t.sum(dims, keepdim=keepdim)), a.sum(dims, keepdims=keepdim, dtype=acc))
        np.testing.assert_array_equal(npy(t.all(dims, keepdim)), a.all(dims, keepdims=keepdim))
        np.testing.assert_array_equal(npy(t.any(dims, keepdim)), a.any(dims, keepdims=keepdim))
    np.testing.assert_array_equal(npy(t.count_nonzero(dims)), np.count_nonzero(a, axis=dims))
    if isinstance(dims, int):
        np.testing.assert_array_equal(npy(t.prod(dims)), a.prod(dims, dtype=acc))
        np.testing.assert_array_equal(npy(t.cumsum(dims)), a.cumsum(dims, dtype=acc))
        np.testing.assert_array_equal(npy(t.cumprod(dims)), a.cumprod(dims, dtype=acc))


@pytest.mark.parametrize("dtype", [fg.float32, fg.float64])
def test_float_reductions_over_an_empty_dim(dtype):
    x = z(2, 0, dtype=dtype)
    checks = [
        (lambda t: t.sum(-1), [0.0, 0.0]),
        (lambda t: t.mean(-1), [math.nan, math.nan]),
        (lambda t: t.prod(-1), [1.0, 1.0]),
        (lambda t: t.var(-1), [math.nan, math.nan]),
        (lambda t: t.std(-1), [math.nan, math.nan]),
        (lambda t: t.logsumexp(-1), [-math.inf, -math.inf]),
        (lambda t: t.norm(dim=-1), [0.0, 0.0]),
        (lambda t: t.norm(1, dim=-1), [0.0, 0.0]),
        (lambda t: t.norm(3, dim=-1), [0.0, 0.0]),
        (lambda t: fg.linalg.vector_norm(t, 2, -1), [0.0, 0.0]),
        (lambda t: fg.var_mean(t, -1)[0], [math.nan, math.nan]),
        (lambda t: fg.var_mean(t, -1)[1], [math.nan, math.nan]),
        (lambda t: fg.std_mean(t, -1)[0], [math.nan, math.nan]),
        (lambda t: t.amax(0), []),
        (lambda t: t.amin(0), []),
        (lambda t: t.max(0).values, []),
        (lambda t: t.min(0).values, []),
        (lambda t: t.median(0).values, []),
        (lambda t: t.logsumexp(0), []),
    ]
    for fn, want in checks:
        x.grad = None
        out = fn(x)
        assert out.dtype == dtype
        np.testing.assert_array_equal(npy(out), np.array(want, dtype=np.float64))
        g = backward_ok(x, out)
        assert g.dtype == dtype
    # Whole-tensor forms.
    assert math.isnan(z(2, 0, dtype=dtype).mean().item())
    assert z(2, 0, dtype=dtype).prod().item() == 1.0
    assert math.isnan(z(0, dtype=dtype).median().item())
    x = z(0, dtype=dtype)
    backward_ok(x, x.median())


def test_index_results_over_an_empty_tensor():
    t = fg.zeros(2, 0)
    assert tuple(t.argmax(0).shape) == (0,) and t.argmax(0).dtype == fg.int64
    assert tuple(t.argmin(0, keepdim=True).shape) == (1, 0)
    assert tuple(t.max(0).indices.shape) == (0,)
    assert tuple(t.median(0).indices.shape) == (0,)


@pytest.mark.parametrize(
    "op,call",
    [
        ("max", lambda t: t.max(-1)),
        ("min", lambda t: t.min(1)),
        ("argmax", lambda t: t.argmax(-1)),
        ("argmin", lambda t: t.argmin(1)),
        ("amax", lambda t: t.amax(-1)),
        ("amin", lambda t: t.amin((0, 1))),
        ("median", lambda t: t.median(-1)),
        ("norm", lambda t: t.norm(math.inf, -1)),
        ("norm", lambda t: fg.linalg.vector_norm(t, -math.inf, -1)),
    ],
)
def test_extremes_over_an_empty_dim_raise_index_errors_naming_the_op(op, call):
    e = assert_typed_error(lambda: call(fg.zeros(2, 0)), IndexError)
    assert op in str(e)


@pytest.mark.parametrize("op,call", [("max", lambda t: t.max()), ("min", lambda t: t.min()), ("argmax", lambda t: t.argmax()), ("argmin", lambda t: t.argmin())])
def test_whole_tensor_extremes_of_an_empty_tensor_need_a_dim(op, call):
    e = assert_typed_error(lambda: call(fg.zeros(2, 0)), fg.FerrogradError)
    assert op in str(e) and "numel() == 0" in str(e)


def test_order_statistics_of_empty_tensors():
    x = z(2, 0)
    for out in (x.sort(-1), x.sort(0), x.topk(0, -1), x.topk(1, 0)):
        assert out.values.dtype == fg.float64 and out.indices.dtype == fg.int64
    assert tuple(x.topk(1, 0).values.shape) == (1, 0)
    backward_ok(x, x.sort(0).values)
    assert tuple(x.argsort(-1).shape) == (2, 0)
    assert_typed_error(lambda: x.topk(1, -1), IndexError)
    v, inv, c = fg.zeros(0, dtype=fg.int64).unique(return_inverse=True, return_counts=True)
    assert (tuple(v.shape), tuple(inv.shape), tuple(c.shape)) == ((0,), (0,), (0,))
    assert tuple(fg.zeros(2, 0).unique(dim=1).shape) == (2, 0)
    # PyTorch: only the selected dim may be the empty one.
    assert_typed_error(lambda: fg.zeros(2, 0).unique(dim=0), fg.FerrogradError)
    assert_typed_error(lambda: fg.zeros(0, 0).unique(dim=0), fg.FerrogradError)
    assert_typed_error(lambda: fg.zeros(0, dtype=fg.int64).median(), IndexError)


# ----- matrix products -----


@pytest.mark.parametrize(
    "fn,shapes",
    [
        (lambda a, b: a @ b, ((2, 0), (0, 3))),
        (lambda a, b: a @ b, ((0, 4), (4, 3))),
        (lambda a, b: a @ b, ((2, 4), (4, 0))),
        (lambda a, b: a @ b, ((0,), (0,))),
        (lambda a, b: a @ b, ((2, 3, 0), (0, 5))),
        (lambda a, b: a.mm(b), ((2, 0), (0, 3))),
        (lambda a, b: a.bmm(b), ((2, 3, 0), (2, 0, 4))),
        (lambda a, b: a.bmm(b), ((0, 3, 2), (0, 2, 4))),
        (lambda a, b: a.mv(b), ((2, 0), (0,))),
        (lambda a, b: a.dot(b), ((0,), (0,))),
        (lambda a, b: a.outer(b), ((0,), (3,))),
        (lambda a, b: fg.einsum("ij,jk->ik", a, b), ((2, 0), (0, 3))),
        (lambda a, b: fg.addmm(fg.ones(2, 3, dtype=fg.float64), a, b), ((2, 0), (0, 3))),
        (lambda a, b: fg.baddbmm(fg.ones(2, 2, 3, dtype=fg.float64), a, b), ((2, 2, 0), (2, 0, 3))),
        (lambda a, b: F.linear(a, b), ((2, 0), (4, 0))),
        (lambda a, b: F.linear(a, b), ((0, 3), (4, 3))),
    ],
)
def test_matmul_family_with_zero_sizes(fn, shapes):
    a, b = z(*shapes[0]), z(*shapes[1])
    out = fn(a, b)
    # Every output element is a sum over nothing (or over zeros): 0, or the added input.
    expect = fn(fg.zeros(*shapes[0], dtype=fg.float64), fg.zeros(*shapes[1], dtype=fg.float64))
    np.testing.assert_array_equal(npy(out), npy(expect))
    out.sum().backward()
    assert tuple(a.grad.shape) == shapes[0] and tuple(b.grad.shape) == shapes[1]
    np.testing.assert_array_equal(npy(a.grad), np.zeros(shapes[0]))
    np.testing.assert_array_equal(npy(b.grad), np.zeros(shapes[1]))


def test_matmul_with_k_zero_gives_zeros():
    out = z(2, 0) @ z(0, 3)
    np.testing.assert_array_equal(npy(out), np.zeros((2, 3)))
    np.testing.assert_array_equal(npy(fg.addmm(fg.full((2, 3), 2.0), fg.zeros(2, 0), fg.zeros(0, 3))), np.full((2, 3), 2.0))
    np.testing.assert_array_equal(npy(fg.zeros(3, 0, dtype=fg.int64) @ fg.zeros(0, 2, dtype=fg.int64)), np.zeros((3, 2)))


# ----- shapes, joins and indexing -----


@pytest.mark.parametrize(
    "fn,shape,want",
    [
        (lambda t: t.reshape(0, 5), (2, 0), (0, 5)),
        (lambda t: t.view(-1), (2, 0), (0,)),
        (lambda t: t.flatten(), (2, 0, 3), (0,)),
        (lambda t: t.unflatten(1, (0, 5)), (2, 0), (2, 0, 5)),
        (lambda t: t.transpose(0, 1), (2, 0), (0, 2)),
        (lambda t: t.permute(2, 0, 1), (2, 0, 3), (3, 2, 0)),
        (lambda t: t.squeeze(), (1, 0), (0,)),
        (lambda t: t.unsqueeze(0), (0,), (1, 0)),
        (lambda t: t.expand(3, 0), (1, 0), (3, 0)),
        (lambda t: t.expand(0, 3), (1, 3), (0, 3)),
        (lambda t: t.narrow(1, 3, 0), (2, 3), (2, 0)),
        (lambda t: t.select(0, 1), (2, 0), (0,)),
        (lambda t: t.chunk(2, 0)[0], (0, 3), (0, 3)),
        (lambda t: t.split([0, 3], 0)[0], (3, 2), (0, 2)),
        (lambda t: t.t().contiguous(), (2, 0), (0, 2)),
        (lambda t: t.flip(1), (2, 0), (2, 0)),
        (lambda t: t.roll(1, 1), (2, 0), (2, 0)),
        (lambda t: t.roll(1), (2, 0), (2, 0)),
        (lambda t: t.repeat(2, 3), (2, 0), (4, 0)),
        (lambda t: t.repeat(0, 1), (2, 3), (0, 3)),
        (lambda t: t.repeat_interleave(2, 0), (2, 0), (4, 0)),
        (lambda t: t.tile(2), (2, 0), (2, 0)),
        (lambda t: t.diag(), (0,), (0, 0)),
        (lambda t: t.diagonal(), (2, 0), (0,)),
        (lambda t: t.tril(), (2, 0), (2, 0)),
        (lambda t: t.movedim(0, -1), (2, 0, 3), (0, 3, 2)),
        (lambda t: fg.cat([t, t], 1), (2, 0), (2, 0)),
        (lambda t: fg.cat([fg.ones(2, 3, dtype=fg.float64), t], 0), (0, 3), (2, 3)),
        (lambda t: fg.stack([t, t], 0), (2, 0), (2, 2, 0)),
        (lambda t: fg.stack([t, t], -1), (0, 3), (0, 3, 2)),
        (lambda t: fg.hstack([t, t]), (2, 0), (2, 0)),
        (lambda t: fg.vstack([t, t]), (0, 3), (0, 3)),
        (lambda t: F.pad(t, (1, 1)), (2, 0), (2, 2)),
        (lambda t: t[1], (2, 0), (0,)),
        (lambda t: t[:, 3:], (2, 3), (2, 0)),
        (lambda t: t[:, ::2][:, 2:], (2, 3), (2, 0)),
        (lambda t: t[fg.tensor([], dtype=fg.int64)], (2, 3), (0, 3)),
        (lambda t: t[fg.zeros(2, 3, dtype=fg.bool)], (2, 3), (0,)),
        (lambda t: t[:, [0, 2]], (0, 3), (0, 2)),
        (lambda t: t.gather(1, fg.zeros(2, 0, dtype=fg.int64)), (2, 3), (2, 0)),
        (lambda t: t.scatter_add(1, fg.zeros(2, 0, dtype=fg.int64), fg.zeros(2, 0, dtype=fg.float64)), (2, 3), (2, 3)),
        (lambda t: t.index_select(0, fg.tensor([1, 0])), (2, 0), (2, 0)),
        (lambda t: t.index_add(1, fg.zeros(0, dtype=fg.int64), fg.zeros(2, 0, dtype=fg.float64)), (2, 3), (2, 3)),
        (lambda t: t.take(fg.zeros(0, dtype=fg.int64)), (2, 3), (0,)),
        (lambda t: t.masked_select(fg.zeros(2, 0, dtype=fg.bool)), (2, 0), (0,)),
        (lambda t: fg.where(fg.zeros(2, 0, dtype=fg.bool), t, fg.ones(1, dtype=fg.float64)), (2, 0), (2, 0)),
        (lambda t: t.masked_fill(fg.zeros(2, 0, dtype=fg.bool), 1.0), (2, 0), (2, 0)),
        (lambda t: t + fg.ones(3, dtype=fg.float64), (0, 1), (0, 3)),
    ],
)
def test_shape_ops_and_indexing_with_zero_sizes(fn, shape, want):
    x = z(*shape)
    out = fn(x)
    assert tuple(out.shape) == want
    backward_ok(x, out)


def test_zero_size_parts_leave_values_alone():
    ones = fg.ones(2, 3, dtype=fg.float64)
    np.testing.assert_array_equal(npy(fg.cat([ones, fg.zeros(0, 3, dtype=fg.float64)], 0)), np.ones((2, 3)))
    np.testing.assert_array_equal(npy(F.pad(fg.zeros(2, 0), (1, 2), value=7.0)), np.full((2, 3), 7.0))
    idx = fg.zeros(2, 0, dtype=fg.int64)
    np.testing.assert_array_equal(npy(ones.scatter_add(1, idx, fg.zeros(2, 0, dtype=fg.float64))), np.ones((2, 3)))
    np.testing.assert_array_equal(npy(ones.index_add(1, fg.zeros(0, dtype=fg.int64), fg.zeros(2, 0, dtype=fg.float64))), np.ones((2, 3)))


def test_stack_of_empty_tensors_regression():
    # Used to panic: the copy of an empty part was placed past the end of the output buffer.
    out = fg.stack([fg.zeros(2, 0), fg.zeros(2, 0), fg.zeros(2, 0)], 1)
    assert tuple(out.shape) == (2, 3, 0)


def test_unbind_split_and_meshgrid_with_zero_sizes():
    assert fg.zeros(2, 0).unbind(1) == ()
    parts = fg.zeros(0, 3).tensor_split(3, 0)
    assert [tuple(p.shape) for p in parts] == [(0, 3)] * 3
    a, b = fg.meshgrid(fg.zeros(0), fg.zeros(3), indexing="ij")
    assert tuple(a.shape) == tuple(b.shape) == (0, 3)
    assert tuple(fg.zeros(2, 0).nonzero().shape) == (0, 2)


# ----- nn.functional -----


@pytest.mark.parametrize(
    "fn,shape,want",
    [
        (lambda x: F.softmax(x, -1), (2, 0), (2, 0)),
        (lambda x: F.softmax(x, 0), (0, 3), (0, 3)),
        (lambda x: F.log_softmax(x, -1), (2, 0), (2, 0)),
        (lambda x: F.softmin(x, -1), (0, 3), (0, 3)),
        (lambda x: F.bilinear(x, fg.zeros(0, 2, dtype=fg.float64), fg.ones(4, 3, 2, dtype=fg.float64)), (0, 3), (0, 4)),
        (lambda x: F.dropout(x, 0.5), (2, 0), (2, 0)),
        (lambda x: F.cross_entropy(x, fg.zeros(0, dtype=fg.int64), reduction="none"), (0, 3), (0,)),
        (lambda x: F.cosine_similarity(x, x), (0, 3), (0,)),
        (lambda x: F.cosine_similarity(x, x), (2, 0), (2,)),
        (lambda x: F.pairwise_distance(x, x), (0, 3), (0,)),
        (lambda x: F.normalize(x), (2, 0), (2, 0)),
        (lambda x: F.normalize(x), (0, 3), (0, 3)),
        (lambda x: F.layer_norm(x, (3,), fg.ones(3, dtype=fg.float64), fg.zeros(3, dtype=fg.float64)), (0, 3), (0, 3)),
        (lambda x: F.layer_norm(x, (0,)), (2, 0), (2, 0)),
        (lambda x: F.group_norm(x, 2), (0, 4, 2), (0, 4, 2)),
        (lambda x: F.batch_norm(x, fg.zeros(3, dtype=fg.float64), fg.ones(3, dtype=fg.float64), training=False), (0, 3), (0, 3)),
        (lambda x: F.batch_norm(x, None, None, training=True), (0, 3), (0, 3)),
        (lambda x: F.embedding(fg.zeros(2, 0, dtype=fg.int64), x), (5, 3), (2, 0, 3)),
        (lambda x: F.conv2d(x, fg.ones(3, 2, 3, 3, dtype=fg.float64), fg.ones(3, dtype=fg.float64)), (0, 2, 5, 5), (0, 3, 3, 3)),
        (lambda x: F.conv2d(fg.ones(1, 2, 5, 5, dtype=fg.float64), x), (0, 2, 3, 3), (1, 0, 3, 3)),
        (lambda x: F.conv1d(x, fg.ones(3, 2, 3, dtype=fg.float64)), (0, 2, 5), (0, 3, 3)),
        (lambda x: F.conv_transpose2d(x, fg.ones(2, 3, 3, 3, dtype=fg.float64)), (0, 2, 5, 5), (0, 3, 7, 7)),
        (lambda x: F.max_pool2d(x, 2), (0, 2, 4, 4), (0, 2, 2, 2)),
        (lambda x: F.max_pool2d(x, 2), (1, 0, 4, 4), (1, 0, 2, 2)),
        (lambda x: F.max_pool1d(x, 2), (0, 2, 4), (0, 2, 2)),
        (lambda x: F.avg_pool2d(x, 2), (0, 2, 4, 4), (0, 2, 2, 2)),
        (lambda x: F.avg_pool1d(x, 2), (0, 2, 4), (0, 2, 2)),
        (lambda x: F.adaptive_avg_pool2d(x, 2), (0, 2, 4, 4), (0, 2, 2, 2)),
        (lambda x: F.interpolate(x, scale_factor=2), (0, 2, 4, 4), (0, 2, 8, 8)),
        (lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"), (0, 2, 4, 4), (0, 2, 8, 8)),
        (lambda x: F.unfold(x, 2), (0, 2, 4, 4), (0, 8, 9)),
        (lambda x: F.fold(x, (4, 4), 2), (0, 8, 9), (0, 2, 4, 4)),
    ],
)
def test_nn_functional_with_zero_sizes(fn, shape, want):
    x = z(*shape)
    out = fn(x)
    assert tuple(out.shape) == want
    backward_ok(x, out)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, y: F.mse_loss(x, y),
        lambda x, y: F.l1_loss(x, y),
        lambda x, y: F.smooth_l1_loss(x, y),
        lambda x, y: F.huber_loss(x, y),
        lambda x, y: F.binary_cross_entropy(x, y),
        lambda x, y: F.binary_cross_entropy_with_logits(x, y),
        lambda x, y: F.kl_div(x, y, reduction="mean"),
        lambda x, y: F.cross_entropy(x, y),
    ],
)
def test_mean_losses_of_an_empty_batch_are_nan_and_sums_zero(fn):
    x, y = z(0, 3), fg.zeros(0, 3, dtype=fg.float64)
    out = fn(x, y)
    assert math.isnan(out.item())
    backward_ok(x, out)


def test_sum_losses_of_an_empty_batch_are_positive_zero():
    x = z(0, 3)
    for out in (
        F.mse_loss(x, fg.zeros(0, 3, dtype=fg.float64), reduction="sum"),
        F.cross_entropy(x, fg.zeros(0, dtype=fg.int64), reduction="sum"),
        F.nll_loss(x, fg.zeros(0, dtype=fg.int64), reduction="sum"),
    ):
        assert out.item() == 0.0 and math.copysign(1.0, out.item()) == 1.0


def test_batch_norm_of_an_empty_batch_leaves_running_stats_alone():
    rm, rv = fg.zeros(3), fg.ones(3)
    out = F.batch_norm(fg.zeros(0, 3), rm, rv, training=True)
    assert tuple(out.shape) == (0, 3)
    np.testing.assert_array_equal(rm.numpy(), np.zeros(3))
    np.testing.assert_array_equal(rv.numpy(), np.ones(3))
    # One value per channel is still refused, as in PyTorch.
    assert_typed_error(lambda: F.batch_norm(fg.zeros(1, 3), rm, rv, training=True), fg.FerrogradError)
