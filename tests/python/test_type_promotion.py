"""PyTorch's type rules: promotion between tensors and Python scalars, conversions, and
what int and bool tensors may do."""

import numpy as np
import pytest

import ferrograd as fg

I = lambda: fg.tensor([1, 2, 3])  # noqa: E731
F32 = lambda: fg.tensor([1.0, 2.0, 3.0])  # noqa: E731
F64 = lambda: fg.tensor([1.0, 2.0, 3.0], dtype=fg.float64)  # noqa: E731
B = lambda: fg.tensor([True, False, True])  # noqa: E731


@pytest.mark.parametrize(
    "make_a, make_b, expected",
    [
        (I, F32, fg.float32),
        (I, F64, fg.float64),
        (F32, F64, fg.float64),
        (B, I, fg.int64),
        (B, F32, fg.float32),
        (B, B, fg.bool),
        (I, I, fg.int64),
    ],
)
@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a * b, fg.maximum, lambda a, b: a.add(b)])
def test_tensor_tensor_promotion(make_a, make_b, expected, op):
    assert op(make_a(), make_b()).dtype == expected
    assert op(make_b(), make_a()).dtype == expected


@pytest.mark.parametrize(
    "make, scalar, expected",
    [
        (F32, 2.5, fg.float32),  # a Python float does not widen float32
        (F32, 2, fg.float32),
        (F64, 2.5, fg.float64),
        (I, 2, fg.int64),
        (I, 2.5, fg.float32),  # int tensor with a float scalar -> default float dtype
        (B, 2, fg.int64),
        (B, 2.5, fg.float32),
        (B, True, fg.bool),
        (I, True, fg.int64),
    ],
)
def test_tensor_scalar_promotion(make, scalar, expected):
    assert (make() * scalar).dtype == expected
    assert (scalar * make()).dtype == expected
    assert fg.where(fg.tensor([True, False, True]), make(), scalar).dtype == expected


def test_zero_dim_tensor_does_not_widen_same_category():
    assert (F32() + fg.tensor(1.0, dtype=fg.float64)).dtype == fg.float32
    assert (I() + fg.tensor(1.5)).dtype == fg.float32
    assert (F32() + fg.tensor(2)).dtype == fg.float32


def test_true_division_of_ints_is_float32():
    out = I() / fg.tensor([2, 2, 2])
    assert out.dtype == fg.float32
    assert out.tolist() == [0.5, 1.0, 1.5]
    assert (I() / 2).dtype == fg.float32
    assert (1 / I()).dtype == fg.float32
    assert (B() / B()).dtype == fg.float32


def test_floor_division_and_remainder_keep_int():
    assert (I() // 2).dtype == fg.int64
    assert (I() % 2).dtype == fg.int64
    assert (I() // 2.0).dtype == fg.float32


def test_bool_arithmetic_rules():
    assert (B() + B()).tolist() == [True, False, True]
    with pytest.raises(fg.DTypeError, match="Subtraction"):
        B() - B()
    with pytest.raises(fg.DTypeError):
        -B()


def test_conversions():
    t = fg.tensor([1.7, -2.2, 0.0])
    assert t.to(fg.float64).dtype == fg.float64
    assert t.to(dtype=fg.int64).tolist() == [1, -2, 0]
    assert t.double().dtype == fg.float64
    assert t.float().dtype == fg.float32
    assert t.long().tolist() == [1, -2, 0]
    assert t.int().dtype == fg.int64
    assert t.bool().tolist() == [True, True, False]
    assert t.type_as(fg.tensor([1])).dtype == fg.int64
    assert t.type_as(fg.tensor([1.0], dtype=fg.float64)).dtype == fg.float64
    assert t.type(fg.float64).dtype == fg.float64
    assert t.type() == "ferrograd.FloatTensor"
    assert fg.tensor([1]).type() == "ferrograd.LongTensor"
    assert t.to("cpu", fg.float64).dtype == fg.float64


def test_conversion_keeps_graph_between_floats_only():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.requires_grad
    (y * 3).sum().backward()
    assert x.grad.dtype == fg.float32
    assert x.grad.tolist() == [3.0, 3.0]
    assert not x.long().requires_grad


@pytest.mark.parametrize("make", [I, B])
def test_requires_grad_on_int_or_bool_is_an_error(make):
    with pytest.raises(fg.DTypeError, match="floating point"):
        make().requires_grad_()
    with pytest.raises(fg.DTypeError):
        fg.tensor([1, 2], requires_grad=True)
    t = make()
    with pytest.raises(fg.DTypeError):
        t.requires_grad = True


def test_item_types():
    assert type(fg.tensor([3]).item()) is int
    assert fg.tensor([3]).item() == 3
    assert type(fg.tensor([3.5]).item()) is float
    assert type(fg.tensor([True]).item()) is bool


def test_int_overflow_wraps_like_torch():
    big = fg.tensor([2**62])
    assert (big * 4).tolist() == [0]  # two's-complement wraparound, as torch does


def test_float32_op_with_numpy_float64_array():
    # A NumPy array operand is a tensor of its own dtype (float64), so it promotes.
    out = F32() + np.array([1.0, 1.0, 1.0])
    assert out.dtype == fg.float64
