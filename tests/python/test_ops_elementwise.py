"""Elementwise ops: forward values against NumPy, gradients by gradcheck (float64, including
broadcast, transposed, step-sliced and expanded inputs), dtypes, errors and in-place forms."""

import math

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.nn.functional as F
from ferrograd.autograd import gradcheck
from ferrograd.testing import assert_close

RNG = np.random.default_rng(1234)


def erf(a):
    return np.vectorize(math.erf)(a)


def np_sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def np_softplus(a, beta=1.0, threshold=20.0):
    bx = beta * a
    return np.where(bx > threshold, a, np.logaddexp(0.0, bx) / beta)


SELU_A, SELU_S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

# name -> (ferrograd fn, numpy reference, input domain (low, high))
UNARY = {
    "exp": (lambda t: t.exp(), np.exp, (-3, 3)),
    "exp2": (lambda t: t.exp2(), np.exp2, (-3, 3)),
    "expm1": (lambda t: t.expm1(), np.expm1, (-3, 3)),
    "log": (lambda t: t.log(), np.log, (0.2, 4)),
    "log2": (lambda t: t.log2(), np.log2, (0.2, 4)),
    "log10": (lambda t: t.log10(), np.log10, (0.2, 4)),
    "log1p": (lambda t: t.log1p(), np.log1p, (-0.8, 4)),
    "sqrt": (lambda t: t.sqrt(), np.sqrt, (0.2, 4)),
    "rsqrt": (lambda t: t.rsqrt(), lambda a: 1 / np.sqrt(a), (0.2, 4)),
    "square": (lambda t: t.square(), np.square, (-3, 3)),
    "reciprocal": (lambda t: t.reciprocal(), np.reciprocal, (0.3, 3)),
    "sin": (lambda t: t.sin(), np.sin, (-3, 3)),
    "cos": (lambda t: t.cos(), np.cos, (-3, 3)),
    "tan": (lambda t: t.tan(), np.tan, (-1.2, 1.2)),
    "asin": (lambda t: t.asin(), np.arcsin, (-0.9, 0.9)),
    "acos": (lambda t: t.acos(), np.arccos, (-0.9, 0.9)),
    "atan": (lambda t: t.atan(), np.arctan, (-3, 3)),
    "sinh": (lambda t: t.sinh(), np.sinh, (-3, 3)),
    "cosh": (lambda t: t.cosh(), np.cosh, (-3, 3)),
    "tanh": (lambda t: t.tanh(), np.tanh, (-3, 3)),
    "abs": (lambda t: t.abs(), np.abs, (-3, 3)),
    "neg": (lambda t: t.neg(), np.negative, (-3, 3)),
    "sigmoid": (lambda t: t.sigmoid(), np_sigmoid, (-5, 5)),
    "logsigmoid": (F.logsigmoid, lambda a: -np.logaddexp(0.0, -a), (-5, 5)),
    "relu": (F.relu, lambda a: np.maximum(a, 0), (-3, 3)),
    "relu6": (F.relu6, lambda a: np.clip(a, 0, 6), (-3, 9)),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.2), lambda a: np.where(a > 0, a, 0.2 * a), (-3, 3)),
    "elu": (lambda t: F.elu(t, 1.5), lambda a: np.where(a > 0, a, 1.5 * np.expm1(a)), (-3, 3)),
    "selu": (F.selu, lambda a: SELU_S * np.where(a > 0, a, SELU_A * np.expm1(a)), (-3, 3)),
    "gelu": (F.gelu, lambda a: 0.5 * a * (1 + erf(a / math.sqrt(2))), (-4, 4)),
    "gelu_tanh": (
        lambda t: F.gelu(t, approximate="tanh"),
        lambda a: 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a**3))),
        (-4, 4),
    ),
    "silu": (F.silu, lambda a: a * np_sigmoid(a), (-4, 4)),
    "mish": (F.mish, lambda a: a * np.tanh(np.logaddexp(0.0, a)), (-4, 4)),
    "softplus": (F.softplus, np_softplus, (-4, 4)),
    "softplus_beta": (lambda t: F.softplus(t, beta=2.0, threshold=3.0), lambda a: np_softplus(a, 2.0, 3.0), (-4, 4)),
    "softsign": (F.softsign, lambda a: a / (1 + np.abs(a)), (-4, 4)),
    "hardtanh": (lambda t: F.hardtanh(t, -0.5, 1.5), lambda a: np.clip(a, -0.5, 1.5), (-3, 3)),
    "hardsigmoid": (F.hardsigmoid, lambda a: np.clip(a / 6 + 0.5, 0, 1), (-5, 5)),
    "hardswish": (F.hardswish, lambda a: a * np.clip(a + 3, 0, 6) / 6, (-5, 5)),
    "clamp": (lambda t: t.clamp(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), (-2, 2)),
    "clamp_min": (lambda t: t.clamp(min=0.1), lambda a: np.maximum(a, 0.1), (-2, 2)),
    "clip_max": (lambda t: fg.clip(t, max=0.1), lambda a: np.minimum(a, 0.1), (-2, 2)),
    "frac": (lambda t: t.frac(), lambda a: a - np.trunc(a), (-3, 3)),
    "nan_to_num": (lambda t: t.nan_to_num(), np.nan_to_num, (-3, 3)),
    "pow_scalar": (lambda t: t**3, lambda a: a**3, (-2, 2)),
    "pow_float": (lambda t: t**1.5, lambda a: a**1.5, (0.2, 2)),
    "rpow": (lambda t: 2.0**t, lambda a: 2.0**a, (-2, 2)),
}

# Kinks (relu at 0, clamp bounds...) are where finite differences disagree; keep the
# random points away from them.
KINKS = {
    "relu": [0], "relu6": [0, 6], "leaky_relu": [0], "elu": [0], "selu": [0], "abs": [0],
    "hardtanh": [-0.5, 1.5], "hardsigmoid": [-3, 3], "hardswish": [-3, 3], "clamp": [-0.5, 0.7],
    "clamp_min": [0.1], "clip_max": [0.1], "frac": [-2, -1, 0, 1, 2], "softplus_beta": [1.5],
}


def sample(name, shape, dtype=np.float64):
    lo, hi = UNARY[name][2]
    a = RNG.uniform(lo, hi, size=shape)
    for k in KINKS.get(name, []):
        a = np.where(np.abs(a - k) < 0.05, k + 0.1, a)
    return a.astype(dtype)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unary_forward_matches_numpy(name, dtype):
    fn, ref, _ = UNARY[name]
    a = sample(name, (3, 5), dtype)
    out = fn(fg.tensor(a))
    assert out.dtype == (fg.float32 if dtype == np.float32 else fg.float64)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out.numpy(), ref(a.astype(np.float64)), **tol)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradcheck(name):
    fn = UNARY[name][0]
    x = fg.tensor(sample(name, (3, 4)), requires_grad=True)
    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradcheck_non_contiguous(name):
    fn = UNARY[name][0]
    base = fg.tensor(sample(name, (4, 6)), requires_grad=True)
    assert gradcheck(fn, (base.t(),))  # transposed
    assert gradcheck(fn, (base[::2, 1::2],))  # sliced with steps
    row = fg.tensor(sample(name, (1, 4)), requires_grad=True)
    assert gradcheck(lambda r: fn(r.expand(3, 4)), (row,))  # expanded


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_non_contiguous_forward(name):
    fn, ref, _ = UNARY[name]
    a = sample(name, (4, 6))
    t = fg.tensor(a)
    np.testing.assert_allclose(fn(t.t()).numpy(), ref(a.T), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fn(t[::2, 1::3]).numpy(), ref(a[::2, 1::3]), rtol=1e-12, atol=1e-12)


FLOAT_OF_INT = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin", "cos",
                "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "reciprocal"]


@pytest.mark.parametrize("name", FLOAT_OF_INT)
def test_float_functions_of_int_tensors_are_float32(name):
    t = fg.tensor([1, 2, 3])
    out = getattr(t, name)()
    assert out.dtype == fg.float32
    np.testing.assert_allclose(out.numpy(), UNARY[name][1](np.array([1.0, 2.0, 3.0])), rtol=1e-6)


def test_int_preserving_unary_ops():
    t = fg.tensor([-3, 0, 4])
    for name, ref in [("abs", [3, 0, 4]), ("neg", [3, 0, -4]), ("square", [9, 0, 16]), ("sign", [-1, 0, 1]),
                      ("floor", [-3, 0, 4]), ("ceil", [-3, 0, 4]), ("round", [-3, 0, 4]), ("trunc", [-3, 0, 4])]:
        out = getattr(t, name)()
        assert out.dtype == fg.int64, name
        assert out.tolist() == ref, name
    assert t.clamp(-1, 2).dtype == fg.int64
    assert t.clamp(-1, 2).tolist() == [-1, 0, 2]
    assert t.clamp(min=0.5).dtype == fg.float32


# ----- rounding, sign, classification -----


def test_rounding_values_and_half_to_even():
    a = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1.2345, -7.8])
    t = fg.tensor(a, dtype=fg.float64)
    np.testing.assert_array_equal(t.round().numpy(), np.round(a))
    np.testing.assert_array_equal(fg.round(t).numpy(), np.round(a))
    np.testing.assert_allclose(t.round(decimals=2).numpy(), np.round(a, 2))
    np.testing.assert_allclose(fg.tensor([1234.5, 1250.0], dtype=fg.float64).round(decimals=-2).numpy(), [1200.0, 1200.0])
    np.testing.assert_array_equal(t.floor().numpy(), np.floor(a))
    np.testing.assert_array_equal(t.ceil().numpy(), np.ceil(a))
    np.testing.assert_array_equal(t.trunc().numpy(), np.trunc(a))
    np.testing.assert_array_equal(round(t).numpy(), np.round(a))
    np.testing.assert_array_equal(t.sign().numpy(), np.sign(a))


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc", "sign"])
def test_piecewise_constant_ops_have_zero_gradient(name):
    x = fg.tensor([0.3, 1.7, -2.2], requires_grad=True)
    y = getattr(x, name)()
    assert y.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc", "sign"])
def test_piecewise_constant_ops_gradcheck(name):
    # Away from the jumps the finite differences are 0 too; transposed and step-sliced inputs.
    x = fg.tensor(np.array([[0.3, 1.7, -2.2, 3.4], [-0.6, 2.25, -1.3, 0.8]]), dtype=fg.float64, requires_grad=True)
    fn = getattr(fg, name)
    assert gradcheck(lambda a: fn(a), (x,))
    assert gradcheck(lambda a: getattr(a.t(), name)() * a.t(), (x,))
    assert gradcheck(lambda a: fn(a[:, ::2]), (x,))


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_div_with_rounding_mode_gradcheck(mode):
    # The quotient is rounded: piecewise constant, so both gradients are zero (as in PyTorch).
    a = fg.tensor(np.array([[2.3, -4.6, 7.1], [5.5, -0.7, 3.3]]), dtype=fg.float64, requires_grad=True)
    b = fg.tensor(np.array([1.3, 2.2, -1.6]), dtype=fg.float64, requires_grad=True)
    assert gradcheck(lambda x, y: x.div(y, rounding_mode=mode), (a, b))  # broadcast
    assert gradcheck(lambda x, y: fg.div(x.t(), y[:, None], rounding_mode=mode), (a, b))
    out = a.div(b, rounding_mode=mode)
    out.sum().backward()
    assert a.grad.abs().sum().item() == 0.0 and b.grad.abs().sum().item() == 0.0


def test_frac_gradient_is_one_and_int_frac_errors():
    x = fg.tensor([0.3, 1.7, -2.2], requires_grad=True)
    x.frac().sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(fg.DTypeError):
        fg.tensor([1, 2]).frac()


def test_isnan_isinf_isfinite_and_nan_to_num():
    a = np.array([1.0, np.nan, np.inf, -np.inf, -0.0])
    t = fg.tensor(a)
    assert t.isnan().tolist() == np.isnan(a).tolist()
    assert t.isinf().tolist() == np.isinf(a).tolist()
    assert t.isfinite().tolist() == np.isfinite(a).tolist()
    assert fg.isnan(t).dtype == fg.bool
    i = fg.tensor([1, 2])
    assert i.isnan().tolist() == [False, False] and i.isfinite().tolist() == [True, True]
    np.testing.assert_array_equal(t.nan_to_num().numpy(), np.nan_to_num(a))
    f32 = fg.tensor(a, dtype=fg.float32).nan_to_num().numpy()
    np.testing.assert_array_equal(f32, np.nan_to_num(a.astype(np.float32)))
    np.testing.assert_array_equal(t.nan_to_num(nan=7.0, posinf=1.0, neginf=-1.0).numpy(), [1.0, 7.0, 1.0, -1.0, -0.0])
    x = fg.tensor(a, dtype=fg.float64, requires_grad=True)
    x.nan_to_num().sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 0.0, 1.0]


def test_nan_propagation():
    t = fg.tensor([float("nan"), 1.0])
    assert math.isnan(t.clamp(0, 0.5)[0].item())
    assert math.isnan(t.relu()[0].item())
    assert math.isnan(fg.maximum(t, fg.tensor([0.0, 0.0]))[0].item())
    assert math.isnan(t.sign()[0].item())


# ----- clamp -----


def test_clamp_tensor_bounds_broadcast_and_grad():
    x = fg.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    lo = fg.tensor(RNG.uniform(-1, -0.2, (4,)), requires_grad=True)
    hi = fg.tensor(RNG.uniform(0.2, 1, (3, 1)), requires_grad=True)
    out = x.clamp(lo, hi)
    np.testing.assert_allclose(out.detach().numpy(), np.minimum(np.maximum(x.detach().numpy(), lo.detach().numpy()), hi.detach().numpy()))
    assert gradcheck(lambda a, b, c: a.clamp(b, c), (x, lo, hi))
    assert gradcheck(lambda a, b: fg.clamp(a, min=b), (x, lo))
    assert gradcheck(lambda a, c: a.clip(max=c), (x.t(), hi.t()))


def test_clamp_min_greater_than_max_gives_max():
    t = fg.tensor([0.0, 5.0, -5.0])
    assert t.clamp(2.0, 1.0).tolist() == [1.0, 1.0, 1.0]
    assert t.clamp(fg.tensor(2.0), fg.tensor(1.0)).tolist() == [1.0, 1.0, 1.0]


def test_clamp_errors():
    t = fg.tensor([1.0])
    with pytest.raises(fg.FerrogradError, match="At least one of 'min' or 'max'"):
        t.clamp()
    with pytest.raises(fg.DTypeError):
        fg.tensor([True]).clamp(0, 1)
    with pytest.raises(fg.ShapeError):
        fg.ones(3).clamp(fg.ones(2))
    with pytest.raises(TypeError):
        t.clamp("a")


# ----- binary -----

BINARY = {
    "add": (lambda a, b: a + b, np.add, None),
    "sub": (lambda a, b: a - b, np.subtract, None),
    "mul": (lambda a, b: a * b, np.multiply, None),
    "div": (lambda a, b: a / b, np.divide, "nonzero_b"),
    "pow": (lambda a, b: a**b, np.power, "positive_a"),
    "maximum": (fg.maximum, np.maximum, None),
    "minimum": (fg.minimum, np.minimum, None),
    "atan2": (fg.atan2, np.arctan2, None),
    "hypot": (fg.hypot, np.hypot, None),
    "logaddexp": (fg.logaddexp, np.logaddexp, None),
    "remainder": (fg.remainder, lambda a, b: np.mod(a, b), "nonzero_b"),
    "fmod": (fg.fmod, np.fmod, "nonzero_b"),
    "add_alpha": (lambda a, b: fg.add(a, b, alpha=2.5), lambda a, b: a + 2.5 * b, None),
    "sub_alpha": (lambda a, b: a.sub(b, alpha=-0.5), lambda a, b: a + 0.5 * b, None),
}


def pair(kind, sa, sb):
    a = RNG.uniform(-2, 2, sa)
    b = RNG.uniform(-2, 2, sb)
    if kind == "nonzero_b":
        b = np.where(np.abs(b) < 0.3, 0.7, b)
    if kind == "positive_a":
        a = np.abs(a) + 0.3
    return a, b


SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((5,), ())]


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", SHAPES)
def test_binary_forward_broadcast(name, shapes):
    fn, ref, kind = BINARY[name]
    a, b = pair(kind, *shapes)
    out = fn(fg.tensor(a, dtype=fg.float64), fg.tensor(b, dtype=fg.float64))
    np.testing.assert_allclose(out.numpy(), ref(a, b), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", SHAPES[:3])
def test_binary_gradcheck_broadcast(name, shapes):
    fn, _, kind = BINARY[name]
    a, b = pair(kind, *shapes)
    if name in ("maximum", "minimum"):
        b = a[..., : b.shape[-1]] * 0 + b if False else b  # ties are measure-zero for random data
    if name in ("remainder", "fmod"):
        # keep a/b away from integers, where the quotient jumps
        q = a / b
        a = np.where(np.abs(q - np.round(q)) < 0.05, a + 0.1 * np.abs(b), a)
    x = fg.tensor(a, requires_grad=True, dtype=fg.float64)
    y = fg.tensor(b, requires_grad=True, dtype=fg.float64)
    assert gradcheck(fn, (x, y))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradcheck_non_contiguous(name):
    fn, _, kind = BINARY[name]
    a, b = pair(kind, (4, 6), (6, 4))
    if name in ("remainder", "fmod"):
        q = a / b.T
        a = np.where(np.abs(q - np.round(q)) < 0.05, a + 0.1 * np.abs(b.T), a)
    x = fg.tensor(a, requires_grad=True, dtype=fg.float64)
    y = fg.tensor(b, requires_grad=True, dtype=fg.float64)
    assert gradcheck(fn, (x, y.t()))  # transposed
    assert gradcheck(fn, (x[::2, ::3], y.t()[1::2, ::3]))  # step slices
    c, _ = pair(kind, (1, 6), (1,))
    z = fg.tensor(c, requires_grad=True, dtype=fg.float64)
    assert gradcheck(lambda p, q: fn(p.expand(4, 6), q), (z, x))  # expanded


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "atan2", "hypot", "logaddexp", "remainder", "fmod"])
def test_binary_scalar_on_either_side(name):
    fn, ref, kind = BINARY[name]
    a, _ = pair(kind, (3,), ())
    t = fg.tensor(a, dtype=fg.float64)
    np.testing.assert_allclose(fn(t, 1.5).numpy(), ref(a, 1.5), rtol=1e-12)
    if name in ("add", "sub", "mul", "div", "pow"):
        np.testing.assert_allclose(fn(1.5, t).numpy(), ref(1.5, a), rtol=1e-12)
    x = fg.tensor(a, dtype=fg.float64, requires_grad=True)
    assert gradcheck(lambda p: fn(p, 1.5), (x,))


def test_pow_both_sides_differentiable():
    a = fg.tensor(RNG.uniform(0.5, 2, (3, 1)), requires_grad=True, dtype=fg.float64)
    b = fg.tensor(RNG.uniform(-1, 2, (4,)), requires_grad=True, dtype=fg.float64)
    assert gradcheck(lambda x, y: x.pow(y), (a, b))
    assert gradcheck(lambda y: 3.0**y, (b,))
    assert gradcheck(lambda y: fg.pow(a.detach(), y), (b,))


def test_pow_int_rules():
    t = fg.tensor([2, 3])
    assert (t**2).dtype == fg.int64 and (t**2).tolist() == [4, 9]
    assert (t**0.5).dtype == fg.float32
    with pytest.raises(fg.FerrogradError, match="negative integer powers"):
        t ** -1


def test_div_rounding_modes():
    a = np.array([7.0, -7.0, 7.5, -7.5])
    b = np.array([2.0, 2.0, -2.0, -2.0])
    ta, tb = fg.tensor(a, dtype=fg.float64), fg.tensor(b, dtype=fg.float64)
    np.testing.assert_array_equal(ta.div(tb, rounding_mode="trunc").numpy(), np.trunc(a / b))
    np.testing.assert_array_equal(fg.div(ta, tb, rounding_mode="floor").numpy(), np.floor_divide(a, b))
    np.testing.assert_array_equal(ta.div(tb).numpy(), a / b)
    ia, ib = fg.tensor([7, -7, 7, -7]), fg.tensor([2, 2, -2, -2])
    assert ia.div(ib, rounding_mode="trunc").tolist() == [3, -3, -3, 3]
    assert ia.div(ib, rounding_mode="floor").tolist() == [3, -4, -4, 3]
    assert ia.div(ib, rounding_mode="floor").dtype == fg.int64
    assert (ia / ib).dtype == fg.float32
    with pytest.raises(fg.FerrogradError, match="rounding_mode"):
        ta.div(tb, rounding_mode="round")
    x = fg.tensor(a, requires_grad=True)
    x.div(2.0, rounding_mode="floor").sum().backward()
    assert x.grad.tolist() == [0.0] * 4


def test_floor_divide_remainder_fmod_operators():
    a = np.array([7, -7, 7, -7, 0])
    b = np.array([3, 3, -3, -3, 5])
    ta, tb = fg.tensor(a), fg.tensor(b)
    assert (ta // tb).tolist() == (a // b).tolist()
    assert (ta % tb).tolist() == (a % b).tolist()
    assert fg.fmod(ta, tb).tolist() == np.fmod(a, b).tolist()
    assert (ta // 2).tolist() == (a // 2).tolist()
    assert (10 // tb).tolist() == (10 // b).tolist()
    assert (10 % tb).tolist() == (10 % b).tolist()
    fa, fb = a.astype(np.float64) + 0.5, b.astype(np.float64)
    np.testing.assert_array_equal((fg.tensor(fa) // fg.tensor(fb)).numpy(), np.floor_divide(fa, fb).astype(np.float32))
    np.testing.assert_allclose((fg.tensor(fa, dtype=fg.float64) % fg.tensor(fb, dtype=fg.float64)).numpy(), np.mod(fa, fb))
    np.testing.assert_allclose((5.5 % fg.tensor(fb, dtype=fg.float64)).numpy(), np.mod(5.5, fb))


def test_integer_division_by_zero_raises_not_panics():
    for fn in (lambda a, b: a // b, lambda a, b: a % b, fg.fmod, lambda a, b: a.div(b, rounding_mode="trunc")):
        with pytest.raises(fg.FerrogradError, match="ZeroDivisionError"):
            fn(fg.tensor([1, 2]), fg.tensor([1, 0]))
    # float division by zero follows IEEE
    assert (fg.tensor([1.0]) // fg.tensor([0.0])).tolist() == [float("inf")]


def test_alpha_rules():
    a, b = fg.tensor([1, 2]), fg.tensor([3, 4])
    assert fg.add(a, b, alpha=2).tolist() == [7, 10]
    assert a.sub(b, alpha=2).tolist() == [-5, -6]
    with pytest.raises(fg.DTypeError, match="alpha"):
        a.add(b, alpha=0.5)
    t = fg.tensor([1.0, 2.0])
    t.sub_(fg.tensor([1.0, 1.0]), alpha=2)
    assert t.tolist() == [-1.0, 0.0]
    assert fg.tensor([1.0]).add(2, alpha=3).tolist() == [7.0]


def test_lerp_scalar_and_tensor_weight():
    s = fg.tensor(RNG.standard_normal((3, 4)), requires_grad=True, dtype=fg.float64)
    e = fg.tensor(RNG.standard_normal((4,)), requires_grad=True, dtype=fg.float64)
    w = fg.tensor(RNG.uniform(0, 1, (3, 1)), requires_grad=True, dtype=fg.float64)
    out = fg.lerp(s, e, w)
    ref = s.detach().numpy() + w.detach().numpy() * (e.detach().numpy() - s.detach().numpy())
    np.testing.assert_allclose(out.detach().numpy(), ref)
    assert gradcheck(lambda a, b, c: a.lerp(b, c), (s, e, w))
    assert gradcheck(lambda a, b: a.lerp(b, 0.3), (s, e))
    with pytest.raises(fg.DTypeError):
        fg.tensor([1, 2]).lerp(fg.tensor([1, 2]), 0.5)


def test_where_values_broadcast_scalars_and_grad():
    cond = fg.tensor([[True, False, True]])
    a = fg.tensor(RNG.standard_normal((2, 3)), requires_grad=True, dtype=fg.float64)
    b = fg.tensor(RNG.standard_normal((3,)), requires_grad=True, dtype=fg.float64)
    out = fg.where(cond, a, b)
    np.testing.assert_array_equal(out.detach().numpy(), np.where(cond.numpy(), a.detach().numpy(), b.detach().numpy()))
    assert gradcheck(lambda x, y: fg.where(cond, x, y), (a, b))
    assert gradcheck(lambda x, y: fg.where(cond, x.t(), y[None, :]), (a.detach().t().contiguous().requires_grad_(), b))
    assert fg.where(cond, a, 0.0).dtype == fg.float64
    assert fg.where(cond, 1.0, 0.0).dtype == fg.float32
    assert fg.where(cond, 1, 0).dtype == fg.int64
    assert a.where(cond, 0.0).shape == (2, 3)
    with pytest.raises(fg.DTypeError, match="boolean"):
        fg.where(fg.tensor([1, 0]), fg.ones(2), fg.zeros(2))
    with pytest.raises(fg.ShapeError):
        fg.where(fg.tensor([True, False]), fg.ones(3), fg.zeros(3))
    with pytest.raises(TypeError):
        fg.where(cond)


def test_masked_fill_and_grad():
    x = fg.tensor(RNG.standard_normal((2, 3)), requires_grad=True, dtype=fg.float64)
    mask = fg.tensor([False, True, False])
    out = x.masked_fill(mask, -1.0)
    assert out[:, 1].tolist() == [-1.0, -1.0]
    assert gradcheck(lambda t: t.masked_fill(mask, 2.0), (x,))
    assert gradcheck(lambda t: fg.masked_fill(t, mask, fg.tensor(3.0)), (x.t().t(),))
    with pytest.raises(fg.DTypeError):
        x.masked_fill(fg.tensor([1, 0, 1]), 0.0)
    with pytest.raises(fg.ShapeError):
        fg.ones(3).masked_fill(fg.tensor([[True], [False]]), 0.0)



def test_masked_fill_with_a_zero_d_value_that_requires_grad():
    # The value's gradient is the sum of the incoming gradient over the filled positions.
    x = fg.tensor(RNG.standard_normal((2, 3)), requires_grad=True, dtype=fg.float64)
    v = fg.tensor(0.7, dtype=fg.float64, requires_grad=True)
    mask = fg.tensor([[True, False, True], [False, False, True]])
    out = x.masked_fill(mask, v)
    np.testing.assert_array_equal(out.detach().numpy(), np.where(mask.numpy(), 0.7, x.detach().numpy()))
    w = RNG.standard_normal((2, 3))
    (out * fg.tensor(w)).sum().backward()
    assert v.grad is not None and v.grad.shape == ()
    np.testing.assert_allclose(v.grad.item(), w[mask.numpy()].sum())
    np.testing.assert_allclose(x.grad.numpy(), np.where(mask.numpy(), 0.0, w))
    assert gradcheck(lambda t, val: t.masked_fill(mask, val), (x, v))
    assert gradcheck(lambda val: fg.masked_fill(x.detach(), mask, val), (v,))
    # Broadcast mask, transposed input, float32 input with a float64 value (result keeps float32).
    row = fg.tensor([True, False, True])
    assert gradcheck(lambda t, val: t.t().masked_fill(row, val), (x.detach().t().contiguous().requires_grad_(), v))
    assert gradcheck(lambda t, val: t.masked_fill(row, val), (x, v))
    f32 = fg.ones(2, 3).masked_fill(row, v)
    assert f32.dtype == fg.float32
    f32.sum().backward()
    assert v.grad.dtype == fg.float64
    with pytest.raises(fg.FerrogradError, match="0-dimensional"):
        x.masked_fill(mask, fg.tensor([1.0]))


def test_masked_fill_inplace_with_a_zero_d_value_that_requires_grad():
    v = fg.tensor(-2.0, dtype=fg.float64, requires_grad=True)
    mask = fg.tensor([True, False, True, True])

    def fill(t, val):
        y = t * 1.0
        y.masked_fill_(mask, val)
        return y

    base = fg.tensor(RNG.standard_normal(4), dtype=fg.float64, requires_grad=True)
    assert gradcheck(fill, (base, v))
    y = fill(base, v)
    y.sum().backward()
    assert v.grad.item() == 3.0
    np.testing.assert_array_equal(base.grad.numpy(), [0.0, 1.0, 0.0, 0.0])
    # A plain tensor filled with a value that requires grad joins the graph.
    t = fg.zeros(4, dtype=fg.float64)
    t.masked_fill_(mask, v)
    assert t.requires_grad and t.grad_fn is not None


def test_where_with_zero_d_tensor_operands_gradcheck():
    cond = fg.tensor([[True, False, True], [False, True, False]])
    a = fg.tensor(1.25, dtype=fg.float64, requires_grad=True)
    b = fg.tensor(RNG.standard_normal((2, 3)), dtype=fg.float64, requires_grad=True)
    c = fg.tensor(-0.5, dtype=fg.float64, requires_grad=True)
    assert gradcheck(lambda x, y: fg.where(cond, x, y), (a, b))
    assert gradcheck(lambda x, y: fg.where(cond, x, y), (b, a))
    assert gradcheck(lambda x, y: fg.where(cond, x, y), (a, c))  # both 0-d: broadcast to cond
    assert gradcheck(lambda x, y: y.where(cond, x), (a, b))
    out = fg.where(cond, a, c)
    out.sum().backward()
    assert a.grad.item() == 3.0 and c.grad.item() == 3.0
    # A 0-d float64 operand does not widen a float32 tensor (PyTorch's 0-d promotion rule).
    assert fg.where(cond, a, fg.ones(2, 3)).dtype == fg.float32

# ----- logical, bitwise, comparisons -----


def test_logical_ops():
    a = fg.tensor([True, True, False, False])
    b = fg.tensor([True, False, True, False])
    assert fg.logical_and(a, b).tolist() == [True, False, False, False]
    assert a.logical_or(b).tolist() == [True, True, True, False]
    assert a.logical_xor(b).tolist() == [False, True, True, False]
    assert fg.logical_not(a).tolist() == [False, False, True, True]
    assert fg.logical_and(fg.tensor([0.0, 2.0]), fg.tensor([1, 1])).tolist() == [False, True]


def test_bitwise_ops_and_operators():
    a, b = np.array([12, -3, 7]), np.array([10, 5, -1])
    ta, tb = fg.tensor(a), fg.tensor(b)
    assert (ta & tb).tolist() == (a & b).tolist()
    assert (ta | tb).tolist() == (a | b).tolist()
    assert (ta ^ tb).tolist() == (a ^ b).tolist()
    assert (~ta).tolist() == (~a).tolist()
    assert (ta & 6).tolist() == (a & 6).tolist()
    assert (6 | ta).tolist() == (6 | a).tolist()
    assert (6 ^ ta).tolist() == (6 ^ a).tolist()
    assert fg.bitwise_and(ta, tb).tolist() == (a & b).tolist()
    assert fg.bitwise_not(ta).tolist() == (~a).tolist()
    p, q = fg.tensor([True, False]), fg.tensor([True, True])
    assert (p & q).dtype == fg.bool and (p & q).tolist() == [True, False]
    assert (p | q).tolist() == [True, True] and (p ^ q).tolist() == [False, True]
    assert (~p).tolist() == [False, True]
    for bad in (lambda: fg.ones(2) & fg.ones(2), lambda: ~fg.ones(2), lambda: ta | 1.5):
        with pytest.raises(fg.DTypeError):
            bad()


def test_comparisons_with_scalars_and_broadcast():
    a = RNG.standard_normal((3, 4))
    t = fg.tensor(a)
    b = RNG.standard_normal((4,)).astype(np.float32)
    for op in ("eq", "ne", "lt", "le", "gt", "ge"):
        ref = getattr(np, {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal"}[op])
        out = getattr(fg, op)(t, fg.tensor(b))
        assert out.dtype == fg.bool
        np.testing.assert_array_equal(out.numpy(), ref(a, b.astype(np.float64)))
    assert (fg.tensor([1, 2, 3]) > 1.5).tolist() == [False, True, True]
    assert (1.5 < fg.tensor([1, 2, 3])).tolist() == [False, True, True]
    assert (fg.tensor([1, 2]) == fg.tensor([1.0, 2.5])).tolist() == [True, False]


def test_isclose_allclose_equal():
    a = fg.tensor([1.0, float("nan"), float("inf"), 1.0])
    b = fg.tensor([1.0 + 1e-7, float("nan"), float("inf"), 1.1])
    assert fg.isclose(a, b).tolist() == [True, False, True, False]
    assert a.isclose(b, equal_nan=True).tolist() == [True, True, True, False]
    assert a.isclose(b, rtol=0.2).tolist() == [True, False, True, True]
    assert not fg.allclose(a, b)
    assert fg.allclose(fg.tensor([1.0, 2.0]), fg.tensor([1.0, 2.0 + 1e-6]))
    assert fg.tensor([1.0]).allclose(1.0)
    assert fg.equal(fg.tensor([1, 2]), fg.tensor([1, 2]))
    assert not fg.equal(fg.tensor([1, 2]), fg.tensor([1, 3]))
    assert not fg.equal(fg.tensor([1, 2]), fg.tensor([[1, 2]]))
    with pytest.raises(fg.DTypeError, match="same dtype"):
        fg.isclose(fg.tensor([1.0]), fg.tensor([1.0], dtype=fg.float64))


# ----- in-place -----


def test_inplace_ops_values_and_version():
    t = fg.tensor([1.0, -2.0, 3.0])
    v = t._version
    assert t.pow_(2) is t and t.tolist() == [1.0, 4.0, 9.0]
    assert t.clamp_(max=5.0) is t and t.tolist() == [1.0, 4.0, 5.0]
    assert t.clip_(min=2.0).tolist() == [2.0, 4.0, 5.0]
    assert t.neg_().tolist() == [-2.0, -4.0, -5.0]
    t.exp_()
    np.testing.assert_allclose(t.numpy(), np.exp([-2.0, -4.0, -5.0]), rtol=1e-6)
    t.masked_fill_(fg.tensor([True, False, False]), 0.0)
    assert t[0].item() == 0.0
    t.pow_(fg.tensor([1.0, 2.0, 1.0]))
    assert t._version == v + 7


def test_inplace_int_tensor_refuses_float_result():
    t = fg.tensor([1, 2])
    with pytest.raises(fg.DTypeError):
        t.exp_()
    t.clamp_(0, 1)
    assert t.tolist() == [1, 1]
    with pytest.raises(fg.DTypeError):
        t.clamp_(0.5)


@pytest.mark.parametrize(
    "op",
    [lambda t: t.pow_(2), lambda t: t.clamp_(0, 1), lambda t: t.exp_(), lambda t: t.neg_(),
     lambda t: t.masked_fill_(fg.tensor([True, False]), 0.0), lambda t: F.relu(t, inplace=True)],
)
def test_inplace_refused_on_leaf_requiring_grad_but_allowed_under_no_grad(op):
    x = fg.tensor([0.5, 2.0], requires_grad=True)
    with pytest.raises(fg.AutogradError, match="leaf"):
        op(x)
    with fg.no_grad():
        op(x)


@pytest.mark.parametrize(
    "op, ref",
    [
        (lambda t: t.pow_(3), lambda t: t**3),
        (lambda t: t.clamp_(-0.5, 0.5), lambda t: t.clamp(-0.5, 0.5)),
        (lambda t: t.exp_(), lambda t: t.exp()),
        (lambda t: t.neg_(), lambda t: -t),
        (lambda t: t.masked_fill_(fg.tensor([True, False, False]), 1.0), lambda t: t.masked_fill(fg.tensor([True, False, False]), 1.0)),
        (lambda t: F.silu(t, inplace=True), F.silu),
        (lambda t: F.hardtanh(t, inplace=True), F.hardtanh),
    ],
)
def test_inplace_recorded_on_non_leaf(op, ref):
    x = fg.tensor([0.3, -0.9, 0.7], requires_grad=True, dtype=fg.float64)
    assert gradcheck(lambda a: op(a * 1.0), (x,))
    assert gradcheck(lambda a: ref(a * 1.0), (x,))
    y = x * 1.0
    op(y)
    np.testing.assert_allclose(y.detach().numpy(), ref(x * 1.0).detach().numpy())


def test_inplace_after_save_is_detected():
    x = fg.tensor([0.5, 1.5], requires_grad=True)
    y = x * 1.0
    z = y.exp()  # saves its output
    z.neg_()
    with pytest.raises(fg.AutogradError, match="modified by an inplace operation"):
        z.sum().backward()


# ----- errors -----


def test_shape_mismatch_errors_name_the_op():
    for fn in (fg.add, fg.atan2, fg.hypot, fg.logaddexp, fg.remainder, fg.maximum, lambda a, b: a // b, lambda a, b: a & b):
        a, b = fg.ones(2, 3, dtype=fg.int64), fg.ones(4, dtype=fg.int64)
        with pytest.raises(fg.ShapeError):
            fn(a, b)


def test_bad_argument_types():
    t = fg.ones(2)
    with pytest.raises(TypeError):
        t.atan2("x")
    with pytest.raises(TypeError):
        t.masked_fill(fg.tensor([True, False]), "x")
    assert t.__and__("x") is NotImplemented
    with pytest.raises(fg.FerrogradError, match="approximate"):
        F.gelu(t, approximate="fast")
    with pytest.raises(fg.FerrogradError, match="min_val"):
        F.hardtanh(t, 2.0, 1.0)
    with pytest.raises(TypeError):
        F.gelu([1.0])


def test_function_forms_exist_and_delegate():
    t = fg.tensor([0.25, 0.5], dtype=fg.float64)
    for name in ["exp2", "expm1", "log2", "log10", "log1p", "rsqrt", "square", "reciprocal", "sin", "cos", "tan",
                 "asin", "acos", "atan", "sinh", "cosh", "floor", "ceil", "trunc", "frac", "sign", "isnan",
                 "isinf", "isfinite", "nan_to_num", "selu"]:
        assert_close(getattr(fg, name)(t), getattr(t, name)())
    assert_close(fg.clip(t, 0.3, 0.4), t.clamp(0.3, 0.4))
    assert_close(fg.true_divide(t, 2), t / 2)
    assert_close(fg.multiply(t, 2), t * 2)
    assert_close(fg.subtract(t, 1, alpha=2), t - 2)
    assert_close(fg.divide(t, 2), t / 2)
    assert_close(fg.arctan2(t, t), fg.atan2(t, t))
