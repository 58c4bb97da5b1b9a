"""Losses of ferrograd.nn.functional: values against NumPy, gradients against finite
differences, stability at extreme logits, and typed errors for bad arguments."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ferrograd as fg
import ferrograd.nn.functional as F
from nn_check import assert_typed_error, gradcheck, t64

rng = np.random.default_rng(0)


def np_log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def np_cross_entropy(x, y, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Reference for [N, C] logits and [N] indices."""
    n, c = x.shape
    lp = np_log_softmax(x, 1)
    w = np.ones(c) if weight is None else weight
    losses, denom = [], 0.0
    for i in range(n):
        if y[i] == ignore_index:
            losses.append(0.0)
            continue
        nll = -w[y[i]] * lp[i, y[i]]
        smooth = -(w * lp[i]).sum() / c
        losses.append((1 - label_smoothing) * nll + label_smoothing * smooth)
        denom += w[y[i]]
    losses = np.array(losses)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / denom


# ----- cross_entropy / nll_loss -----

@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_indices_matches_reference(reduction, smoothing, weighted):
    x = rng.standard_normal((6, 4))
    y = np.array([0, 3, -100, 1, 2, 3])
    w = rng.uniform(0.5, 2.0, 4) if weighted else None
    got = F.cross_entropy(t64(x), fg.tensor(y), weight=None if w is None else t64(w), reduction=reduction,
                          label_smoothing=smoothing).numpy()
    want = np_cross_entropy(x, y, w, reduction=reduction, label_smoothing=smoothing)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_cross_entropy_gradcheck_indices(reduction):
    y = fg.tensor(np.array([2, 0, -100, 1]))
    w = t64([1.0, 2.0, 0.5])
    gradcheck(lambda x: F.cross_entropy(x, y, weight=w, reduction=reduction, label_smoothing=0.1),
              [rng.standard_normal((4, 3))])


def test_cross_entropy_gradcheck_non_contiguous_and_spatial():
    # logits given transposed ([C, N] storage) and a [N, C, d] input with a negative-dim view
    y = fg.tensor(np.array([1, 0, 2]))
    gradcheck(lambda x: F.cross_entropy(x.t(), y), [rng.standard_normal((3, 3))])
    ys = fg.tensor(np.array([[0, 1], [2, 2]]))
    gradcheck(lambda x: F.cross_entropy(x[:, ::2, :], ys, reduction="sum"), [rng.standard_normal((2, 5, 2))])


def test_cross_entropy_probabilities_and_target_grad():
    x = rng.standard_normal((3, 4))
    p = rng.dirichlet(np.ones(4), size=3)
    got = F.cross_entropy(t64(x), t64(p), label_smoothing=0.1).item()
    q = 0.9 * p + 0.1 / 4
    want = -(q * np_log_softmax(x, 1)).sum(1).mean()
    assert abs(got - want) < 1e-12
    gradcheck(lambda a, b: F.cross_entropy(a, b, reduction="none", weight=t64([1, 2, 3, 4.0])), [x, p])


def test_cross_entropy_spatial_and_unbatched():
    x = rng.standard_normal((2, 3, 4))
    y = rng.integers(0, 3, (2, 4))
    got = F.cross_entropy(t64(x), fg.tensor(y), reduction="none").numpy()
    lp = np_log_softmax(x, 1)
    want = -np.take_along_axis(lp, y[:, None, :], 1)[:, 0, :]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    one = F.cross_entropy(t64(x[0, :, 0]), fg.tensor(np.int64(y[0, 0])))
    assert tuple(one.shape) == () and abs(one.item() - want[0, 0]) < 1e-12


def test_cross_entropy_extreme_logits_stay_finite():
    for dtype in (fg.float32, fg.float64):
        x = fg.tensor([[300.0, -300.0, 0.0], [-300.0, 300.0, 299.0]], dtype=dtype, requires_grad=True)
        y = fg.tensor([1, 2])
        loss = F.cross_entropy(x, y)
        # row 0: 600 nats; row 1: log(1 + e^-1 + e^-600) - (299 - 300)
        want = (600.0 + np.log1p(np.exp(-1.0)) + 1.0) / 2
        assert np.isfinite(loss.item()) and abs(loss.item() - want) < 1e-3
        loss.backward()
        assert np.isfinite(x.grad.numpy()).all()
    big = fg.tensor(rng.standard_normal((4, 5)).astype(np.float32) * 1e4)
    assert np.isfinite(F.cross_entropy(big, fg.tensor([0, 1, 2, 3])).item())


def test_nll_loss_matches_and_gradchecks():
    lp = np_log_softmax(rng.standard_normal((5, 3)), 1)
    y = np.array([0, 2, 1, 1, -100])
    w = np.array([0.2, 1.0, 3.0])
    got = F.nll_loss(t64(lp), fg.tensor(y), weight=t64(w)).item()
    keep = y != -100
    want = -(w[y[keep]] * lp[keep, y[keep]]).sum() / w[y[keep]].sum()
    assert abs(got - want) < 1e-12
    gradcheck(lambda a: F.nll_loss(a, fg.tensor(y), weight=t64(w), reduction="sum"), [lp])
    y1 = np.array([0, 2, 1, 1, 0])
    assert F.nll_loss(t64(lp), fg.tensor(y1), ignore_index=1, reduction="none").numpy()[2] == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_class_index_loss_of_rows_split_across_threads_matches_numpy(dtype):
    # [300, 512] logits are split into row tasks; ignored rows and class weights must survive it
    n, c = 300, 512
    x = (rng.standard_normal((n, c)) * 3).astype(dtype)
    y = rng.integers(0, c, n)
    y[::7] = -100
    w = rng.uniform(0.5, 2.0, c)
    logits = fg.tensor(x, requires_grad=True)
    loss = F.cross_entropy(logits, fg.tensor(y), weight=fg.tensor(w.astype(dtype)))
    x64 = x.astype(np.float64)
    tol = dict(rtol=1e-4, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(loss.item(), np_cross_entropy(x64, y, w), **tol)
    loss.backward()
    keep = y != -100
    denom = w[y[keep]].sum()
    p = np.exp(np_log_softmax(x64, 1))
    p[np.arange(n), np.where(keep, y, 0)] -= keep
    want = p * np.where(keep, w[np.where(keep, y, 0)], 0.0)[:, None] / denom
    assert logits.grad.dtype == logits.dtype
    np.testing.assert_allclose(logits.grad.numpy(), want, **tol)
    # nll_loss over the same rows: the gradient is one entry per counted row
    lp = fg.tensor(np_log_softmax(x64, 1).astype(dtype), requires_grad=True)
    nll = F.nll_loss(lp, fg.tensor(y), weight=fg.tensor(w.astype(dtype)), reduction="none")
    want_rows = np.where(keep, -w[np.where(keep, y, 0)] * np_log_softmax(x64, 1)[np.arange(n), np.where(keep, y, 0)], 0.0)
    np.testing.assert_allclose(nll.detach().numpy(), want_rows, **tol)
    nll.sum().backward()
    g = np.zeros((n, c))
    g[np.arange(n)[keep], y[keep]] = -w[y[keep]]
    np.testing.assert_allclose(lp.grad.numpy(), g, **tol)


def test_class_loss_errors():
    x = t64(rng.standard_normal((3, 4)))
    assert_typed_error(lambda: F.cross_entropy(x, fg.tensor([0, 1, 4])), IndexError)
    assert_typed_error(lambda: F.cross_entropy(x, fg.tensor([0, 1])), fg.ShapeError)
    assert_typed_error(lambda: F.cross_entropy(x, fg.tensor([0, 1, 2]), reduction="avg"), ValueError)
    assert_typed_error(lambda: F.cross_entropy(x, fg.tensor([0, 1, 2]), weight=t64([1.0, 2.0])), fg.ShapeError)
    assert_typed_error(lambda: F.cross_entropy(x, fg.tensor([0, 1, 2]), label_smoothing=1.5), fg.FerrogradError)
    assert_typed_error(lambda: F.nll_loss(x, t64(np.zeros((3, 4)))), fg.DTypeError)
    assert_typed_error(lambda: F.cross_entropy(x, [0, 1, 2]), TypeError)
    assert_typed_error(lambda: F.cross_entropy(fg.tensor([[1, 2]]), fg.tensor([0])), fg.DTypeError)


def test_legacy_size_average_and_reduce():
    x, y = t64(rng.standard_normal(4)), t64(rng.standard_normal(4))
    assert F.mse_loss(x, y, size_average=False).item() == pytest.approx(F.mse_loss(x, y, reduction="sum").item())
    assert tuple(F.mse_loss(x, y, reduce=False).shape) == (4,)


# ----- elementwise losses -----

def np_pointwise(kind, x, y, param=1.0):
    d = x - y
    if kind == "mse":
        return d ** 2
    if kind == "l1":
        return np.abs(d)
    if kind == "smooth_l1":
        a = np.abs(d)
        return np.where(a < param, 0.5 * d ** 2 / param, a - 0.5 * param)
    a = np.abs(d)
    return np.where(a < param, 0.5 * d ** 2, param * (a - 0.5 * param))


POINTWISE = {
    "mse": lambda x, y, r: F.mse_loss(x, y, reduction=r),
    "l1": lambda x, y, r: F.l1_loss(x, y, reduction=r),
    "smooth_l1": lambda x, y, r: F.smooth_l1_loss(x, y, reduction=r, beta=0.7),
    "huber": lambda x, y, r: F.huber_loss(x, y, reduction=r, delta=0.7),
}


@pytest.mark.parametrize("kind", sorted(POINTWISE))
def test_pointwise_losses_gradcheck_broadcast_and_views(kind):
    f = POINTWISE[kind]
    # broadcast target, transposed input, strided slice, expanded operand
    gradcheck(lambda x, y: f(x, y, "mean"), [rng.standard_normal((3, 4)), rng.standard_normal(4)])
    gradcheck(lambda x, y: f(x.t(), y[::2], "none"), [rng.standard_normal((4, 3)), rng.standard_normal((6, 4))])
    gradcheck(lambda x, y: f(x.expand(3, 4), y, "sum"), [rng.standard_normal((1, 4)), rng.standard_normal((3, 4))])


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(sorted(POINTWISE)), shape=st.lists(st.integers(1, 4), min_size=0, max_size=3),
       bcast=st.booleans(), f32=st.booleans(), reduction=st.sampled_from(["none", "mean", "sum"]))
def test_pointwise_losses_match_numpy(kind, shape, bcast, f32, reduction):
    r = np.random.default_rng(len(shape))
    x = r.standard_normal(shape)
    y = r.standard_normal(shape[1:] if bcast and shape else shape)
    dt = np.float32 if f32 else np.float64
    fdt = fg.float32 if f32 else fg.float64
    got = POINTWISE[kind](fg.tensor(np.asarray(x, dtype=dt), dtype=fdt), fg.tensor(np.asarray(y, dtype=dt), dtype=fdt), reduction)
    want = np_pointwise(kind, x.astype(dt).astype(np.float64), y.astype(dt).astype(np.float64), 0.7)
    want = {"none": want, "mean": want.mean(), "sum": want.sum()}[reduction]
    assert got.dtype == (fg.float32 if f32 else fg.float64)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5 if f32 else 1e-12, atol=1e-6 if f32 else 1e-12)


@settings(max_examples=30, deadline=None)
@given(a=st.lists(st.integers(1, 4), min_size=1, max_size=3), b=st.lists(st.integers(1, 4), min_size=1, max_size=3))
def test_pointwise_losses_bad_shapes_raise_shape_error(a, b):
    try:
        np.broadcast_shapes(tuple(a), tuple(b))
        return
    except ValueError:
        pass
    assert_typed_error(lambda: F.mse_loss(t64(np.zeros(a)), t64(np.zeros(b))), fg.ShapeError)


def test_pointwise_loss_argument_errors():
    x = t64([1.0, 2.0])
    assert_typed_error(lambda: F.smooth_l1_loss(x, x, beta=-1.0), fg.FerrogradError)
    assert_typed_error(lambda: F.huber_loss(x, x, delta=0.0), fg.FerrogradError)
    assert_typed_error(lambda: F.l1_loss(x, x, reduction="max"), ValueError)
    assert_typed_error(lambda: F.mse_loss(fg.tensor([1, 2]), fg.tensor([1, 2])), fg.DTypeError)


# ----- binary cross-entropy -----

def test_bce_matches_reference_and_clamps_logs():
    p = rng.uniform(0.05, 0.95, (3, 4))
    y = rng.uniform(0, 1, (3, 4))
    w = rng.uniform(0.5, 2, 4)
    got = F.binary_cross_entropy(t64(p), t64(y), weight=t64(w), reduction="none").numpy()
    want = -w * (y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    edge = F.binary_cross_entropy(t64([0.0, 1.0]), t64([1.0, 0.0]), reduction="none").numpy()
    np.testing.assert_array_equal(edge, [100.0, 100.0])
    gradcheck(lambda a, b: F.binary_cross_entropy(a, b, weight=t64(w)), [p, y])
    gradcheck(lambda a: F.binary_cross_entropy(a.t(), t64(y)), [p.T.copy()])


def test_bce_errors():
    assert_typed_error(lambda: F.binary_cross_entropy(t64([1.5]), t64([1.0])), fg.FerrogradError)
    assert_typed_error(lambda: F.binary_cross_entropy(t64([0.5, 0.5]), t64([1.0])), ValueError)


def np_bce_logits(x, y, pw=None, w=None):
    lw = 1.0 if pw is None else 1 + (pw - 1) * y
    sp = np.logaddexp(0, -x)
    out = (1 - y) * x + lw * sp
    return out if w is None else out * w


def test_bce_with_logits_reference_gradcheck_and_pos_weight():
    x = rng.standard_normal((3, 4)) * 3
    y = rng.uniform(0, 1, (3, 4))
    pw = rng.uniform(0.5, 3, 4)
    w = rng.uniform(0.5, 2, (3, 1))
    got = F.binary_cross_entropy_with_logits(t64(x), t64(y), weight=t64(w), pos_weight=t64(pw), reduction="none").numpy()
    np.testing.assert_allclose(got, np_bce_logits(x, y, pw, w), rtol=1e-12)
    gradcheck(lambda a, b, c: F.binary_cross_entropy_with_logits(a, b, pos_weight=c), [x, y, pw])
    gradcheck(lambda a: F.binary_cross_entropy_with_logits(a.t(), t64(y), weight=t64(w), reduction="sum"), [x.T.copy()])


def test_bce_with_logits_extreme_inputs():
    for dtype in (fg.float32, fg.float64):
        x = fg.tensor([300.0, -300.0, 300.0, -300.0, 1e30], dtype=dtype, requires_grad=True)
        y = fg.tensor([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype)
        loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
        np.testing.assert_allclose(loss.detach().numpy(), [0.0, 0.0, 300.0, 300.0, 0.0], atol=1e-6)
        loss.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 1.0, -1.0, 0.0], atol=1e-6)


def test_kl_div_reductions_and_gradcheck():
    lp = np_log_softmax(rng.standard_normal((3, 4)), 1)
    q = rng.dirichlet(np.ones(4), size=3)
    q[0, 0] = 0.0
    pointwise = np.where(q > 0, q * (np.log(np.where(q > 0, q, 1)) - lp), 0.0)
    assert F.kl_div(t64(lp), t64(q), reduction="batchmean").item() == pytest.approx(pointwise.sum() / 3)
    assert F.kl_div(t64(lp), t64(q), reduction="mean").item() == pytest.approx(pointwise.mean())
    lt = np.log(rng.dirichlet(np.ones(4), size=3))
    want = (np.exp(lt) * (lt - lp)).sum()
    assert F.kl_div(t64(lp), t64(lt), reduction="sum", log_target=True).item() == pytest.approx(want)
    gradcheck(lambda a, b: F.kl_div(a, b, reduction="batchmean", log_target=True), [lp, lt])
    gradcheck(lambda a: F.kl_div(a, t64(q), reduction="sum"), [lp])
    assert_typed_error(lambda: F.kl_div(t64(lp), t64(q), reduction="bad"), ValueError)
