"""Parity with PyTorch (skipped when torch is not installed): outputs and gradients of the
elementwise ops agree at float32 tolerances."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ferrograd as fg  # noqa: E402
import ferrograd.nn.functional as F  # noqa: E402

RNG = np.random.default_rng(7)

UNARY = [
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "square", "reciprocal",
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "abs", "neg",
    "floor", "ceil", "round", "trunc", "frac", "sign", "relu",
]
ACTS = [
    ("logsigmoid", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.1}), ("elu", {"alpha": 0.7}),
    ("selu", {}), ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}),
    ("softplus", {"beta": 2.0, "threshold": 5.0}), ("softsign", {}), ("hardtanh", {"min_val": -0.5, "max_val": 2.0}),
    ("hardsigmoid", {}), ("hardswish", {}),
]
POSITIVE = {"log", "log2", "log10", "sqrt", "rsqrt", "reciprocal", "log1p"}
UNIT = {"asin", "acos"}


def data(name, shape=(4, 5)):
    if name in POSITIVE:
        return RNG.uniform(0.2, 3.0, shape).astype(np.float32)
    if name in UNIT:
        return RNG.uniform(-0.9, 0.9, shape).astype(np.float32)
    return (RNG.standard_normal(shape) * 3).astype(np.float32)


def compare(fg_fn, torch_fn, *arrays, grad=True):
    fx = [fg.tensor(a, requires_grad=grad) for a in arrays]
    tx = [torch.tensor(a, requires_grad=grad) for a in arrays]
    fo, to = fg_fn(*fx), torch_fn(*tx)
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=1e-5, atol=1e-5)
    assert str(fo.dtype).split(".")[-1] == str(to.dtype).split(".")[-1]
    if grad:
        w = RNG.standard_normal(tuple(fo.shape)).astype(np.float32)
        (fo * fg.tensor(w)).sum().backward()
        (to * torch.tensor(w)).sum().backward()
        for a, b in zip(fx, tx):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", UNARY)
def test_unary_parity(name):
    compare(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), data(name))


@pytest.mark.parametrize("name, kw", ACTS)
def test_activation_parity(name, kw):
    compare(lambda t: getattr(F, name)(t, **kw), lambda t: getattr(torch.nn.functional, name)(t, **kw), data(name))


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "atan2", "hypot", "logaddexp", "remainder", "fmod"])
def test_binary_parity_broadcast(name):
    a = RNG.uniform(0.5, 2, (3, 4)).astype(np.float32)
    b = RNG.uniform(0.5, 2, (4,)).astype(np.float32)
    compare(lambda x, y: getattr(fg, name)(x, y), lambda x, y: getattr(torch, name)(x, y), a, b)


def test_clamp_where_lerp_parity():
    a, lo, hi = data("x"), RNG.uniform(-2, -0.5, (5,)).astype(np.float32), RNG.uniform(0.5, 2, (4, 1)).astype(np.float32)
    compare(lambda x, l, h: x.clamp(l, h), lambda x, l, h: x.clamp(l, h), a, lo, hi)
    compare(lambda x: x.clamp(min=-1.0), lambda x: x.clamp(min=-1.0), a)
    cond = RNG.standard_normal((4, 5)) > 0
    compare(lambda x, y: fg.where(fg.tensor(cond), x, y), lambda x, y: torch.where(torch.tensor(cond), x, y), a, lo)
    w = RNG.uniform(0, 1, (4, 1)).astype(np.float32)
    compare(lambda s, e, ww: s.lerp(e, ww), lambda s, e, ww: s.lerp(e, ww), a, lo, w)


def test_int_division_parity():
    a = RNG.integers(-20, 20, (6,))
    b = RNG.integers(1, 7, (6,)) * RNG.choice([-1, 1], 6)
    for fg_fn, t_fn in [(lambda x, y: x // y, lambda x, y: x // y), (lambda x, y: x % y, lambda x, y: x % y),
                        (fg.fmod, torch.fmod), (lambda x, y: x.div(y, rounding_mode="trunc"), lambda x, y: x.div(y, rounding_mode="trunc"))]:
        np.testing.assert_array_equal(fg_fn(fg.tensor(a), fg.tensor(b)).numpy(), t_fn(torch.tensor(a), torch.tensor(b)).numpy())


def test_promotion_parity():
    cases = [(np.array([1, 2]), 2.5), (np.array([1.0, 2.0], dtype=np.float32), 2), (np.array([True, False]), 3)]
    for a, s in cases:
        assert str((fg.tensor(a) * s).dtype).split(".")[-1] == str((torch.tensor(a) * s).dtype).split(".")[-1]
