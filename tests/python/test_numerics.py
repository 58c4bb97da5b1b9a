"""Numerical robustness: activations and (log-)softmax stay finite and accurate for inputs
around +-300 and for float32 inputs of large magnitude."""

import math

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.nn.functional as F

BIG = [-1000.0, -300.0, -100.0, -30.0, -1e-8, 0.0, 1e-8, 30.0, 100.0, 300.0, 1000.0]


def ref_sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def ref_softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def ref_logsigmoid(x):
    return -ref_softplus(-x)


@pytest.mark.parametrize("dtype", [fg.float32, fg.float64])
@pytest.mark.parametrize(
    "name, fn, ref",
    [
        ("sigmoid", lambda t: t.sigmoid(), ref_sigmoid),
        ("softplus", F.softplus, ref_softplus),
        ("tanh", lambda t: t.tanh(), math.tanh),
        ("logsigmoid", F.logsigmoid, ref_logsigmoid),
        ("silu", F.silu, lambda x: x * ref_sigmoid(x)),
        ("mish", F.mish, lambda x: x * math.tanh(ref_softplus(x))),
        ("gelu", F.gelu, lambda x: 0.5 * x * math.erfc(-x / math.sqrt(2))),
        ("elu", F.elu, lambda x: x if x > 0 else math.expm1(x)),
    ],
)
def test_activations_finite_and_accurate_at_large_inputs(dtype, name, fn, ref):
    x = fg.tensor(BIG, dtype=dtype, requires_grad=True)
    y = fn(x)
    got = y.detach().numpy().astype(np.float64)
    assert np.all(np.isfinite(got)), f"{name}: {got}"
    expected = np.array([ref(v) for v in BIG])
    # float32 cannot hold values below its normal range accurately.
    rtol, atol = (1e-6, 1e-37) if dtype == fg.float32 else (1e-12, 1e-300)
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
    y.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy())), f"{name} gradient: {x.grad.numpy()}"


@pytest.mark.parametrize("dtype", [fg.float32, fg.float64])
def test_activation_gradients_at_large_inputs(dtype):
    x = fg.tensor([-300.0, 300.0], dtype=dtype, requires_grad=True)
    tiny = dict(rtol=1e-6, atol=1e-30)  # sigmoid(-300) = 5e-131 in float64, 0 in float32
    x.sigmoid().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0], **tiny)
    x.grad = None
    F.softplus(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1.0], **tiny)
    x.grad = None
    F.logsigmoid(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.0], **tiny)
    x.grad = None
    x.tanh().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0], **tiny)


def test_logsigmoid_keeps_precision_for_large_positive():
    # log(sigmoid(40)) = -4.25e-18: computing log(sigmoid) directly would give 0.
    x = fg.tensor([40.0], dtype=fg.float64)
    np.testing.assert_allclose(F.logsigmoid(x).numpy(), [-math.exp(-40.0)], rtol=1e-12)
    np.testing.assert_allclose(F.softplus(-x).numpy(), [math.exp(-40.0)], rtol=1e-12)


@pytest.mark.parametrize("dtype", [fg.float32, fg.float64])
@pytest.mark.parametrize("scale", [1.0, 300.0, 1e4, 1e30])
def test_softmax_and_log_softmax_stay_finite(dtype, scale):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 7)) * scale
    if dtype == fg.float32:
        a = a.astype(np.float32)
    x = fg.tensor(a, dtype=dtype, requires_grad=True)
    s = x.softmax(-1)
    ls = F.log_softmax(x, dim=1)
    a64 = a.astype(np.float64)
    m = a64.max(axis=1, keepdims=True)
    ref_ls = a64 - m - np.log(np.exp(a64 - m).sum(axis=1, keepdims=True))
    got_s, got_ls = s.detach().numpy(), ls.detach().numpy()
    assert np.all(np.isfinite(got_s)) and np.all(np.isfinite(got_ls))
    tol = 1e-5 if dtype == fg.float32 else 1e-12
    np.testing.assert_allclose(got_s, np.exp(ref_ls), rtol=tol, atol=tol)
    np.testing.assert_allclose(got_ls, ref_ls, rtol=tol, atol=tol * max(1.0, scale))
    np.testing.assert_allclose(got_s.sum(axis=1), 1.0, rtol=tol)
    (ls * fg.tensor(rng.standard_normal((4, 7)), dtype=dtype)).sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))


def test_softmax_at_plus_minus_300():
    x = fg.tensor([[-300.0, 0.0, 300.0]], requires_grad=True)
    s = x.softmax(dim=-1)
    assert s.tolist() == [[0.0, 0.0, 1.0]]
    ls = x.log_softmax(dim=-1)
    np.testing.assert_allclose(ls.detach().numpy(), [[-600.0, -300.0, 0.0]], rtol=1e-6)
    ls[:, 0].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, 0.0, -1.0]], atol=1e-6)


def test_logaddexp_large_and_infinite():
    a = fg.tensor([1000.0, -1000.0, float("inf"), float("-inf")], dtype=fg.float64)
    b = fg.tensor([1000.0, -1001.0, float("inf"), float("-inf")], dtype=fg.float64)
    np.testing.assert_allclose(fg.logaddexp(a, b).numpy(), np.logaddexp(a.numpy(), b.numpy()))


def test_expm1_log1p_precision_near_zero():
    x = fg.tensor([1e-10, -1e-12], dtype=fg.float64)
    np.testing.assert_allclose(x.expm1().numpy(), np.expm1(x.numpy()), rtol=1e-15)
    np.testing.assert_allclose(x.log1p().numpy(), np.log1p(x.numpy()), rtol=1e-15)


def test_hypot_does_not_overflow():
    t = fg.tensor([1e200], dtype=fg.float64)
    np.testing.assert_allclose(fg.hypot(t, t).numpy(), [math.sqrt(2) * 1e200])
