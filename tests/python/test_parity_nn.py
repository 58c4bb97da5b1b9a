"""Parity of ferrograd.nn.functional with torch.nn.functional (outputs and gradients, float32
tolerances). Skipped when torch is not installed."""

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

rng = np.random.default_rng(3)


def run_both(fn_fg, fn_t, arrays, int_arrays=()):
    """Runs the same function in both libraries; returns (outputs, grads) pairs."""
    xs = [fg.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    ts = [torch.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    ints_fg = [fg.tensor(a) for a in int_arrays]
    ints_t = [torch.tensor(a) for a in int_arrays]
    out_fg = fn_fg(*xs, *ints_fg)
    out_t = fn_t(*ts, *ints_t)
    np.testing.assert_allclose(out_fg.numpy(), out_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    v = rng.standard_normal(tuple(out_t.shape)).astype(np.float32)
    (out_fg * fg.tensor(v)).sum().backward()
    (out_t * torch.tensor(v)).sum().backward()
    for a, b in zip(xs, ts):
        ga = np.zeros(a.shape) if a.grad is None else a.grad.numpy()
        gb = np.zeros(tuple(b.shape)) if b.grad is None else b.grad.numpy()
        np.testing.assert_allclose(ga, gb, rtol=1e-4, atol=1e-4)


CASES = {
    "linear": (lambda x, w, b: F.linear(x, w, b), lambda x, w, b: TF.linear(x, w, b), [(3, 4), (5, 4), (5,)]),
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2),
               lambda x, w, b: TF.conv2d(x, w, b, stride=2, padding=1, groups=2), [(2, 4, 6, 5), (4, 2, 3, 3), (4,)]),
    "conv2d_same": (lambda x, w: F.conv2d(x, w, padding="same", dilation=2),
                    lambda x, w: TF.conv2d(x, w, padding="same", dilation=2), [(1, 2, 6, 5), (3, 2, 2, 3)]),
    "conv1d": (lambda x, w: F.conv1d(x, w, stride=2, padding=2), lambda x, w: TF.conv1d(x, w, stride=2, padding=2),
               [(2, 3, 9), (4, 3, 3)]),
    "conv_transpose2d": (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
                         lambda x, w, b: TF.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
                         [(1, 2, 3, 4), (2, 3, 3, 3), (3,)]),
    "max_pool2d": (lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), lambda x: TF.max_pool2d(x, 3, 2, 1, ceil_mode=True),
                   [(2, 2, 7, 6)]),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
                   lambda x: TF.avg_pool2d(x, 3, 2, 1, count_include_pad=False), [(2, 2, 7, 6)]),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (3, 4)), lambda x: TF.adaptive_avg_pool2d(x, (3, 4)),
                            [(1, 2, 7, 9)]),
    "bilinear_up": (lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"),
                    lambda x: TF.interpolate(x, scale_factor=2, mode="bilinear"), [(1, 2, 3, 4)]),
    "nearest": (lambda x: F.interpolate(x, size=(5, 7)), lambda x: TF.interpolate(x, size=(5, 7)), [(1, 2, 3, 4)]),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (4,), w, b), lambda x, w, b: TF.layer_norm(x, (4,), w, b),
                   [(3, 4), (4,), (4,)]),
    "group_norm": (lambda x, w, b: F.group_norm(x, 2, w, b), lambda x, w, b: TF.group_norm(x, 2, w, b),
                   [(2, 4, 3), (4,), (4,)]),
    "batch_norm": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                   lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True), [(5, 3, 2), (3,), (3,)]),
    "mse": (lambda x, y: F.mse_loss(x, y), lambda x, y: TF.mse_loss(x, y), [(3, 4), (3, 4)]),
    "smooth_l1": (lambda x, y: F.smooth_l1_loss(x, y, beta=0.5), lambda x, y: TF.smooth_l1_loss(x, y, beta=0.5), [(3, 4), (3, 4)]),
    "huber": (lambda x, y: F.huber_loss(x, y, delta=0.5), lambda x, y: TF.huber_loss(x, y, delta=0.5), [(3, 4), (3, 4)]),
    "bce_logits": (lambda x, y, p: F.binary_cross_entropy_with_logits(x, y, pos_weight=p),
                   lambda x, y, p: TF.binary_cross_entropy_with_logits(x, y, pos_weight=p), [(3, 4), (3, 4), (4,)]),
    "cosine": (lambda a, b: F.cosine_similarity(a, b), lambda a, b: TF.cosine_similarity(a, b), [(3, 4), (3, 4)]),
    "pairwise": (lambda a, b: F.pairwise_distance(a, b), lambda a, b: TF.pairwise_distance(a, b), [(3, 4), (3, 4)]),
    "normalize": (lambda a: F.normalize(a, dim=0), lambda a: TF.normalize(a, dim=0), [(3, 4)]),
    "unfold": (lambda a: F.unfold(a, 2, padding=1, stride=2), lambda a: TF.unfold(a, 2, padding=1, stride=2), [(1, 2, 4, 5)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_parity(name):
    f_fg, f_t, shapes = CASES[name]
    run_both(f_fg, f_t, [rng.standard_normal(s) for s in shapes])


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_parity_cross_entropy_options(reduction):
    w = rng.uniform(0.5, 2, 4)
    run_both(lambda x, wt, y: F.cross_entropy(x, y, weight=wt.detach(), ignore_index=1, reduction=reduction, label_smoothing=0.1),
             lambda x, wt, y: TF.cross_entropy(x, y, weight=wt.detach(), ignore_index=1, reduction=reduction, label_smoothing=0.1),
             [rng.standard_normal((6, 4)), w], [rng.integers(0, 4, 6)])


def test_parity_bce_and_kl():
    p = rng.uniform(0.05, 0.95, (3, 4))
    y = rng.uniform(0, 1, (3, 4))
    run_both(lambda a, b: F.binary_cross_entropy(a, b), lambda a, b: TF.binary_cross_entropy(a, b), [p, y])
    lp = np.log(rng.dirichlet(np.ones(4), 3))
    run_both(lambda a, b: F.kl_div(a, b, reduction="batchmean"), lambda a, b: TF.kl_div(a, b, reduction="batchmean"),
             [lp, rng.dirichlet(np.ones(4), 3)])


def test_parity_embedding_and_max_pool_indices():
    w = rng.standard_normal((6, 3))
    idx = rng.integers(0, 6, (2, 4))
    run_both(lambda a, i: F.embedding(i, a, padding_idx=0), lambda a, i: TF.embedding(i, a, padding_idx=0), [w], [idx])
    x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    _, i_fg = F.max_pool2d(fg.tensor(x), 2, return_indices=True)
    _, i_t = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(i_fg.numpy(), i_t.numpy())
