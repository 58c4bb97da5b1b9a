"""nn.init: in place, under no_grad, with PyTorch's distributions and defaults."""

import math

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.nn as nn
from ferrograd.nn import init


def big(*shape):
    return nn.Parameter(fg.empty(*shape))


def test_inits_work_in_place_on_parameters_without_recording():
    p = big(10, 10)
    v = p._version
    out = init.uniform_(p, -1, 1)
    assert out is p and p.is_leaf and p.grad_fn is None and p._version > v


def test_uniform_and_normal_moments():
    fg.manual_seed(0)
    u = init.uniform_(big(200, 200), -2.0, 4.0).detach().numpy()
    assert u.min() >= -2.0 and u.max() < 4.0 and abs(u.mean() - 1.0) < 0.05
    n = init.normal_(big(200, 200), mean=3.0, std=0.5).detach().numpy()
    assert abs(n.mean() - 3.0) < 0.01 and abs(n.std() - 0.5) < 0.01


def test_constant_zeros_ones_eye_dirac():
    assert init.constant_(big(3), 2.5).tolist() == [2.5] * 3
    assert init.zeros_(big(2)).tolist() == [0.0, 0.0]
    assert init.ones_(big(2)).tolist() == [1.0, 1.0]
    assert init.eye_(big(2, 3)).tolist() == [[1, 0, 0], [0, 1, 0]]
    d = init.dirac_(big(2, 2, 3)).detach().numpy()
    assert d[0, 0, 1] == 1 and d[1, 1, 1] == 1 and d.sum() == 2


def test_xavier_and_kaiming_bounds_and_stds():
    fg.manual_seed(1)
    fan_in, fan_out = 300, 200
    x = init.xavier_uniform_(big(fan_out, fan_in), gain=2.0).detach().numpy()
    bound = 2.0 * math.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(x).max() <= bound and np.abs(x).max() > 0.95 * bound
    xn = init.xavier_normal_(big(fan_out, fan_in)).detach().numpy()
    assert abs(xn.std() - math.sqrt(2.0 / (fan_in + fan_out))) < 0.003
    k = init.kaiming_uniform_(big(fan_out, fan_in), a=math.sqrt(5)).detach().numpy()
    assert np.abs(k).max() <= 1 / math.sqrt(fan_in) + 1e-7
    kn = init.kaiming_normal_(big(fan_out, fan_in), mode="fan_out", nonlinearity="relu").detach().numpy()
    assert abs(kn.std() - math.sqrt(2.0 / fan_out)) < 0.003
    conv = init.kaiming_uniform_(big(8, 4, 3, 3), nonlinearity="relu").detach().numpy()
    assert np.abs(conv).max() <= math.sqrt(6.0 / (4 * 9))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(big(5))
    with pytest.raises(ValueError, match="Mode"):
        init.kaiming_normal_(big(2, 2), mode="fan_sideways")


def test_trunc_normal_stays_in_range():
    fg.manual_seed(2)
    t = init.trunc_normal_(big(100, 100), mean=0.0, std=1.0, a=-0.5, b=1.0).detach().numpy()
    assert t.min() >= -0.5 and t.max() <= 1.0 and t.std() > 0.2
    # the truncated standard normal on [-0.5, 1] has mean (phi(-0.5) - phi(1)) / (Phi(1) - Phi(-0.5))
    phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    Phi = lambda x: (1 + math.erf(x / math.sqrt(2))) / 2  # noqa: E731
    assert abs(t.mean() - (phi(-0.5) - phi(1.0)) / (Phi(1.0) - Phi(-0.5))) < 0.02


def test_orthogonal():
    for shape in [(6, 4), (4, 6), (3, 2, 2)]:
        w = init.orthogonal_(big(*shape), gain=2.0).detach().numpy().reshape(shape[0], -1)
        small = min(w.shape)
        gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
        np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-5)


def test_calculate_gain():
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError):
        init.calculate_gain("mystery")


def test_layer_default_initialisation_matches_pytorch_bounds():
    fg.manual_seed(0)
    lin = nn.Linear(400, 300)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    bound = 1 / math.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.002  # uniform(-b, b) has std b/sqrt(3)
    conv = nn.Conv2d(4, 8, 3)
    cb = 1 / math.sqrt(4 * 9)
    assert np.abs(conv.weight.detach().numpy()).max() <= cb and np.abs(conv.bias.detach().numpy()).max() <= cb
    assert conv.weight.shape == (8, 4, 3, 3)
    emb = nn.Embedding(1000, 20, padding_idx=3)
    e = emb.weight.detach().numpy()
    assert abs(e.std() - 1.0) < 0.03 and (e[3] == 0).all()
    lstm = nn.LSTM(10, 16)
    assert all(np.abs(p.detach().numpy()).max() <= 0.25 for p in lstm.parameters())
