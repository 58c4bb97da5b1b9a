"""nn.utils gradient clipping."""

import math

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.nn as nn


def params_with_grads(*grads):
    ps = []
    for g in grads:
        p = nn.Parameter(fg.zeros(len(g)))
        p.grad = fg.tensor(g)
        ps.append(p)
    return ps


def test_clip_grad_norm_scales_all_grads_together():
    ps = params_with_grads([3.0, 0.0], [0.0, 4.0])
    total = nn.utils.clip_grad_norm_(ps, max_norm=1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(ps[0].grad.numpy(), [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(ps[1].grad.numpy(), [0.0, 0.8], rtol=1e-5)


def test_clip_grad_norm_leaves_small_grads_and_supports_inf_norm():
    ps = params_with_grads([0.1, -0.2])
    assert nn.utils.clip_grad_norm_(ps, 10.0).item() == pytest.approx(math.sqrt(0.05), rel=1e-6)
    np.testing.assert_allclose(ps[0].grad.numpy(), [0.1, -0.2], rtol=1e-6)
    ps = params_with_grads([1.0, -4.0])
    assert nn.utils.clip_grad_norm_(ps, 2.0, norm_type=math.inf).item() == pytest.approx(4.0)
    np.testing.assert_allclose(ps[0].grad.numpy(), [0.5, -2.0], rtol=1e-5)
    ps = params_with_grads([float("inf")])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)


def test_clip_grad_value():
    ps = params_with_grads([-3.0, 0.5, 2.0])
    nn.utils.clip_grad_value_(ps, 1.0)
    assert ps[0].grad.tolist() == [-1.0, 0.5, 1.0]
