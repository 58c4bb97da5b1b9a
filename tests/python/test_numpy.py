"""NumPy interop: round trips for every dtype, non-contiguous arrays and tensors, __array__,
and the numpy() refusal on tensors that require grad."""

import numpy as np
import pytest

import ferrograd as fg

DTYPES = [
    (np.float32, fg.float32),
    (np.float64, fg.float64),
    (np.int64, fg.int64),
    (np.bool_, fg.bool),
]


def sample(np_dtype, shape=(3, 4)):
    rng = np.random.default_rng(7)
    if np_dtype == np.bool_:
        return rng.random(shape) > 0.5
    if np.issubdtype(np_dtype, np.integer):
        return rng.integers(-1000, 1000, shape).astype(np_dtype)
    return rng.standard_normal(shape).astype(np_dtype)


@pytest.mark.parametrize("np_dtype,fg_dtype", DTYPES)
def test_round_trip_every_dtype(np_dtype, fg_dtype):
    a = sample(np_dtype)
    for t in (fg.tensor(a), fg.from_numpy(a)):
        assert t.dtype == fg_dtype
        assert t.shape == a.shape
        back = t.numpy()
        assert back.dtype == a.dtype
        np.testing.assert_array_equal(back, a)
        np.testing.assert_array_equal(np.asarray(t), a)


@pytest.mark.parametrize("np_dtype,fg_dtype", DTYPES)
def test_non_contiguous_arrays_in(np_dtype, fg_dtype):
    a = sample(np_dtype, (6, 8))
    for view in (a.T, a[::2, 1::3], a[:, ::-1], a[::-1, ::-2].T, np.broadcast_to(a[0], (3, 8))):
        t = fg.tensor(view)
        assert t.dtype == fg_dtype and t.shape == view.shape
        np.testing.assert_array_equal(t.numpy(), view)


@pytest.mark.parametrize("np_dtype,fg_dtype", DTYPES)
def test_non_contiguous_tensors_out(np_dtype, fg_dtype):
    a = sample(np_dtype, (4, 6))
    t = fg.tensor(a)
    cases = [
        (t.T, a.T),
        (t.transpose(0, 1)[1:, ::2], a.T[1:, ::2]),
        (t[::2, 3:], a[::2, 3:]),
        (t[1], a[1]),
        (t[:, 2], a[:, 2]),
        (t.unsqueeze(1).permute(2, 1, 0), a[:, None, :].transpose(2, 1, 0)),
        (t[None, ..., ::3], a[None, ..., ::3]),
    ]
    for got, want in cases:
        out = got.numpy()
        assert out.shape == want.shape
        np.testing.assert_array_equal(out, want)
        np.testing.assert_array_equal(got.tolist(), want.tolist())
        np.testing.assert_array_equal(np.asarray(got), want)


def test_zero_d_and_empty():
    # NumPy scalars keep their dtype, as 0-d arrays do (as in PyTorch).
    t = fg.tensor(np.float64(2.5))
    assert t.shape == () and t.dtype == fg.float64 and t.item() == 2.5
    assert fg.tensor(np.float32(1.5)).dtype == fg.float32
    assert fg.tensor(np.int32(3)).dtype == fg.int64
    assert fg.tensor(np.bool_(True)).dtype == fg.bool
    assert fg.tensor(np.array(2.5)).dtype == fg.float64
    assert fg.tensor(np.array(2.5)).numpy().shape == ()
    e = fg.tensor(np.zeros((0, 3), dtype=np.float32))
    assert e.shape == (0, 3) and e.numpy().shape == (0, 3)


def test_numpy_returns_a_copy_tensor_unchanged_by_later_writes():
    t = fg.tensor([1.0, 2.0])
    a = t.numpy()
    a[0] = 50.0
    assert t.tolist() == [1.0, 2.0]


def test_array_protocol():
    t = fg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert np.array(t).shape == (2, 2)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    np.testing.assert_array_equal(np.exp(np.asarray(t)), np.exp(t.numpy()))
    assert np.sum(np.asarray(t)) == 10.0


def test_numpy_refused_on_tensor_that_requires_grad():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    with pytest.raises(RuntimeError):
        (x * 2).numpy()
    with pytest.raises(RuntimeError):
        np.asarray(x)
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 2.0])
    with fg.no_grad():
        np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    assert x.tolist() == [1.0, 2.0]  # tolist is allowed, as in PyTorch


def test_numpy_scalars_as_operands():
    x = fg.tensor([1.0, 2.0])
    assert (x * np.float32(2)).tolist() == [2.0, 4.0]
    assert (x * np.float32(2)).dtype == fg.float32
    assert (fg.tensor([1, 2]) + np.int64(3)).tolist() == [4, 5]


def test_unsupported_numpy_dtype_is_a_type_error():
    with pytest.raises(TypeError):
        fg.tensor(np.array(["a", "b"]))
    with pytest.raises(TypeError):
        fg.tensor(np.array([1 + 2j]))
    with pytest.raises(TypeError):
        fg.tensor(object())


# Each NumPy dtype maps to the dtype PyTorch keeps, narrowed to the four dtypes ferrograd has
# (every integer width to int64, float16 to float32).
NUMPY_DTYPES = [
    (np.bool_, fg.bool), (np.int8, fg.int64), (np.int16, fg.int64), (np.int32, fg.int64), (np.int64, fg.int64),
    (np.uint8, fg.int64), (np.uint16, fg.int64), (np.uint32, fg.int64), (np.uint64, fg.int64),
    (np.float16, fg.float32), (np.float32, fg.float32), (np.float64, fg.float64),
]


@pytest.mark.parametrize("np_dtype,fg_dtype", NUMPY_DTYPES)
@pytest.mark.parametrize("shape", [(), (1,), (2, 3)])
def test_every_numpy_dtype_keeps_its_dtype_through_every_constructor(np_dtype, fg_dtype, shape):
    a = (np.arange(int(np.prod(shape))) % 2).astype(np_dtype).reshape(shape)
    assert isinstance(a, np.ndarray)
    for make in (fg.tensor, fg.as_tensor, fg.from_numpy):
        t = make(a)
        assert t.dtype == fg_dtype, f"{make.__name__}({np.dtype(np_dtype).name} array of shape {shape})"
        assert tuple(t.shape) == shape
        np.testing.assert_array_equal(t.numpy(), a.astype(t.numpy().dtype))
    if shape == ():
        # NumPy scalars (np.float64(1.5)) behave as 0-d arrays.
        assert fg.tensor(a[()]).dtype == fg_dtype and fg.as_tensor(a[()]).dtype == fg_dtype


def test_zero_d_float64_array_stays_float64_and_python_float_is_float32():
    assert fg.tensor(np.array(1.5)).dtype == fg.float64
    assert fg.as_tensor(np.array(1.5)).dtype == fg.float64
    assert fg.from_numpy(np.array(1.5)).dtype == fg.float64
    assert fg.tensor(1.5).dtype == fg.float32
    assert fg.as_tensor(1.5).dtype == fg.float32
    x = fg.tensor(np.array(1.5), requires_grad=True)
    assert x.dtype == fg.float64 and x.requires_grad


@pytest.mark.parametrize(
    "data,dtype",
    [
        (True, fg.bool), (1, fg.int64), (1.5, fg.float32),
        ([True, False], fg.bool), ([1, 2], fg.int64), ([1.5], fg.float32), ([[1, 2.5]], fg.float32),
        ([1, True], fg.int64), ([True, 1.5], fg.float32), ([], fg.float32),
        # Elements with a dtype of their own keep it, promoted across the sequence.
        ([np.float64(1.5)], fg.float64), ([np.array(1.5), 2.0], fg.float64), ([np.float32(1), 1], fg.float32),
        ([np.int32(1), 2], fg.int64), ([fg.tensor(1.5, dtype=fg.float64)], fg.float64), ([fg.tensor(1), 2.5], fg.float32),
        ([[np.float64(1)], [2]], fg.float64),
    ],
)
def test_python_values_and_sequences_infer_dtypes_like_pytorch(data, dtype):
    assert fg.tensor(data).dtype == dtype
    assert fg.as_tensor(data).dtype == dtype


def test_explicit_dtype_wins_over_inference():
    assert fg.tensor(np.array(1.5), dtype=fg.float32).dtype == fg.float32
    assert fg.tensor([np.float64(1.5)], dtype=fg.float32).dtype == fg.float32
    assert fg.as_tensor(np.arange(3), dtype=fg.float64).dtype == fg.float64


def test_as_tensor_returns_the_same_tensor_when_nothing_changes():
    t = fg.tensor([1.0, 2.0], requires_grad=True)
    assert fg.as_tensor(t) is t
    assert fg.as_tensor(t, dtype=fg.float32) is t
    d = fg.as_tensor(t, dtype=fg.float64)
    assert d.dtype == fg.float64 and d.grad_fn is not None  # a float cast keeps the graph
    with pytest.raises(TypeError):
        fg.as_tensor([1.0], device="cuda")


def test_uint64_values_beyond_int64_are_refused_not_wrapped():
    with pytest.raises(fg.FerrogradError, match="int64"):
        fg.tensor(np.array([2**63 + 5], dtype=np.uint64))
    with pytest.raises(fg.FerrogradError):
        fg.tensor(np.uint64(2**64 - 1))
    assert fg.tensor(np.array([2**63 - 1], dtype=np.uint64)).tolist() == [2**63 - 1]
