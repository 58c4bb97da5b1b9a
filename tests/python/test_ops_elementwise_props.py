"""Hypothesis property tests: elementwise forward values against NumPy on random shapes,
broadcasts and dtypes, and typed errors (never a PanicException) for invalid inputs."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ferrograd as fg

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FG_DTYPE = {np.dtype(np.float32): fg.float32, np.dtype(np.float64): fg.float64,
            np.dtype(np.int64): fg.int64, np.dtype(np.bool_): fg.bool}


def arrays(dtype, shape, lo=-50, hi=50):
    if dtype == np.bool_:
        return hnp.arrays(np.bool_, shape)
    if dtype == np.int64:
        return hnp.arrays(np.int64, shape, elements=st.integers(lo, hi))
    return hnp.arrays(dtype, shape, elements=st.floats(lo, hi, width=32 if dtype == np.float32 else 64))


def result_dtype(a, b):
    order = [np.bool_, np.int64, np.float32, np.float64]
    return order[max(order.index(a.dtype.type), order.index(b.dtype.type))]


@st.composite
def broadcast_pair(draw, dtypes=(np.bool_, np.int64, np.float32, np.float64), lo=-50, hi=50):
    # min_side=0: zero-size dims broadcast like any other.
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=4, min_side=0, max_side=4))
    da, db = draw(st.sampled_from(dtypes)), draw(st.sampled_from(dtypes))
    a = draw(arrays(da, shapes.input_shapes[0], lo, hi))
    b = draw(arrays(db, shapes.input_shapes[1], lo, hi))
    return a, b


def tol(dtype):
    return dict(rtol=2e-6, atol=1e-5) if dtype in (np.float32,) else dict(rtol=1e-12, atol=1e-12)


@SETTINGS
@given(broadcast_pair(dtypes=(np.int64, np.float32, np.float64)))
def test_add_sub_mul_match_numpy(pair):
    a, b = pair
    rd = result_dtype(a, b)
    ta, tb = fg.tensor(a, dtype=FG_DTYPE[a.dtype]), fg.tensor(b, dtype=FG_DTYPE[b.dtype])
    for op, ref in [(lambda x, y: x + y, np.add), (lambda x, y: x - y, np.subtract), (lambda x, y: x * y, np.multiply)]:
        out = op(ta, tb)
        assert out.dtype == FG_DTYPE[np.dtype(rd)]
        np.testing.assert_allclose(out.numpy(), ref(a.astype(rd), b.astype(rd)), **tol(rd))


@SETTINGS
@given(broadcast_pair())
def test_comparisons_and_bool_results(pair):
    a, b = pair
    rd = result_dtype(a, b)
    ta, tb = fg.tensor(a, dtype=FG_DTYPE[a.dtype]), fg.tensor(b, dtype=FG_DTYPE[b.dtype])
    for op, ref in [(fg.eq, np.equal), (fg.lt, np.less), (fg.ge, np.greater_equal)]:
        out = op(ta, tb)
        assert out.dtype == fg.bool
        np.testing.assert_array_equal(out.numpy(), ref(a.astype(rd), b.astype(rd)))
    np.testing.assert_array_equal(fg.logical_xor(ta, tb).numpy(), np.logical_xor(a, b))


@SETTINGS
@given(broadcast_pair(dtypes=(np.float32, np.float64), lo=-20, hi=20))
def test_float_binary_functions_match_numpy(pair):
    a, b = pair
    rd = result_dtype(a, b)
    ta, tb = fg.tensor(a, dtype=FG_DTYPE[a.dtype]), fg.tensor(b, dtype=FG_DTYPE[b.dtype])
    a64, b64 = a.astype(rd), b.astype(rd)
    for op, ref in [(fg.maximum, np.maximum), (fg.minimum, np.minimum), (fg.atan2, np.arctan2),
                    (fg.hypot, np.hypot), (fg.logaddexp, np.logaddexp)]:
        np.testing.assert_allclose(op(ta, tb).numpy(), ref(a64, b64), **tol(rd))
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_allclose((ta / tb).numpy(), a64 / b64, **tol(rd))
        np.testing.assert_allclose(fg.fmod(ta, tb).numpy(), np.fmod(a64, b64), **tol(rd))


@SETTINGS
@given(broadcast_pair(dtypes=(np.int64,), lo=-100, hi=100))
def test_integer_division_family_matches_python(pair):
    a, b = pair
    ta, tb = fg.tensor(a, dtype=FG_DTYPE[a.dtype]), fg.tensor(b, dtype=FG_DTYPE[b.dtype])
    if (b == 0).any():
        with pytest.raises(fg.FerrogradError, match="ZeroDivisionError"):
            ta // tb
        return
    np.testing.assert_array_equal((ta // tb).numpy(), a // b)
    np.testing.assert_array_equal((ta % tb).numpy(), a % b)
    np.testing.assert_array_equal(fg.fmod(ta, tb).numpy(), np.fmod(a, b))
    np.testing.assert_array_equal((ta & tb).numpy(), a & b)
    np.testing.assert_array_equal((ta | tb).numpy(), a | b)
    np.testing.assert_array_equal((ta ^ tb).numpy(), a ^ b)


UNARY_NP = {
    "exp": np.exp, "sin": np.sin, "cos": np.cos, "tanh": np.tanh, "atan": np.arctan, "abs": np.abs,
    "floor": np.floor, "ceil": np.ceil, "trunc": np.trunc, "sign": np.sign, "expm1": np.expm1,
    "square": np.square, "round": np.round, "isnan": np.isnan, "isfinite": np.isfinite,
}


@SETTINGS
@given(
    st.sampled_from(sorted(UNARY_NP)),
    st.sampled_from([np.float32, np.float64]),
    hnp.array_shapes(min_dims=0, max_dims=4, max_side=5),
    st.data(),
)
def test_unary_matches_numpy_any_layout(name, dtype, shape, data):
    a = data.draw(arrays(dtype, shape, -10, 10))
    # dtype given explicitly: 0-d NumPy arrays are read as Python scalars (float32).
    t = fg.tensor(a, dtype=FG_DTYPE[np.dtype(dtype)])
    np.testing.assert_allclose(getattr(t, name)().numpy(), UNARY_NP[name](a), **tol(dtype))
    if a.ndim >= 2:
        np.testing.assert_allclose(getattr(t.transpose(0, -1), name)().numpy(), UNARY_NP[name](np.swapaxes(a, 0, -1)), **tol(dtype))
        np.testing.assert_allclose(getattr(t[::2], name)().numpy(), UNARY_NP[name](a[::2]), **tol(dtype))


@SETTINGS
@given(
    hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
    st.floats(-5, 5),
    st.floats(-5, 5),
    st.data(),
)
def test_clamp_and_where_match_numpy(shape, lo, hi, data):
    a = data.draw(arrays(np.float64, shape, -10, 10))
    t = fg.tensor(a)
    np.testing.assert_array_equal(t.clamp(lo, hi).numpy(), np.minimum(np.maximum(a, lo), hi))
    cond = data.draw(hnp.arrays(np.bool_, shape))
    np.testing.assert_array_equal(fg.where(fg.tensor(cond), t, -t).numpy(), np.where(cond, a, -a))


def _incompatible(draw):
    """Two shapes that do not broadcast."""
    n = draw(st.integers(2, 5))
    m = draw(st.integers(2, 5).filter(lambda v: v != n))
    lead = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    return lead + (n,), (m,)


BINARY_FNS = [fg.add, fg.sub, fg.mul, fg.div, fg.pow, fg.maximum, fg.atan2, fg.hypot, fg.logaddexp,
              fg.remainder, fg.fmod, fg.floor_divide, fg.eq, fg.lt, fg.logical_and, fg.bitwise_or,
              lambda a, b: fg.where(a > 0, a, b), lambda a, b: a.clamp(b), lambda a, b: a.masked_fill(b > 0, 1)]


@SETTINGS
@given(st.data(), st.sampled_from(range(len(BINARY_FNS))), st.sampled_from([fg.float32, fg.int64]))
def test_invalid_shapes_raise_shape_error_never_panic(data, k, dtype):
    sa, sb = _incompatible(data.draw)
    a, b = fg.ones(*sa, dtype=dtype), fg.ones(*sb, dtype=dtype)
    try:
        BINARY_FNS[k](a, b)
    except BaseException as e:  # PanicException derives from BaseException
        assert type(e) in (fg.ShapeError, fg.DTypeError), repr(e)
    else:
        raise AssertionError("expected an error")


@SETTINGS
@given(st.sampled_from(["&", "|", "^", "~", "frac", "isclose", "neg_bool", "sub_bool", "where_int", "round_int"]))
def test_invalid_dtypes_raise_typed_errors(case):
    f, i, b = fg.ones(3), fg.ones(3, dtype=fg.int64), fg.ones(3, dtype=fg.bool)
    ops = {
        "&": lambda: f & f, "|": lambda: f | i, "^": lambda: f ^ b, "~": lambda: ~f,
        "frac": lambda: i.frac(), "isclose": lambda: fg.isclose(f, i), "neg_bool": lambda: -b,
        "sub_bool": lambda: b - b, "where_int": lambda: fg.where(i, f, f), "round_int": lambda: i.round(decimals=2),
    }
    try:
        ops[case]()
    except BaseException as e:
        assert type(e) is fg.DTypeError, repr(e)
    else:
        raise AssertionError("expected a DTypeError")


@SETTINGS
@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True))
def test_scalar_edge_values_never_panic(x, y):
    a = fg.tensor([x], dtype=fg.float64)
    for fn in (lambda: a // y, lambda: a % y, lambda: fg.fmod(a, fg.tensor([y], dtype=fg.float64)), lambda: a.clamp(y),
               lambda: a**y, lambda: fg.logaddexp(a, fg.tensor([y], dtype=fg.float64)), lambda: a.round(decimals=3),
               lambda: a.nan_to_num(), lambda: F_gelu(a), lambda: a.softplus(), lambda: a.isclose(fg.tensor([y], dtype=fg.float64))):
        fn()
    i = fg.tensor([int(min(max(x, -1e15), 1e15)) if np.isfinite(x) else 3])
    try:
        i // 0
    except BaseException as e:
        assert type(e) is fg.FerrogradError


def F_gelu(t):
    return t.gelu()
