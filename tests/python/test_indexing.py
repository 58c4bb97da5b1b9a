"""Indexing: basic, advanced (int64 tensors, lists, bool masks, mixed with slices/None/...),
gather/scatter/index_select/index_add/take/masked_select/nonzero, and __setitem__ with all of
them. Values against NumPy, gradients by finite differences, errors typed."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrograd as fg
from _shape_helpers import assert_typed_error, gradcheck


def npy(t):
    return t.detach().numpy()


A = np.arange(60, dtype=np.float64).reshape(3, 4, 5)


def idx_to_fg(key):
    """The same index with NumPy arrays turned into ferrograd tensors."""
    conv = lambda k: fg.tensor(k) if isinstance(k, np.ndarray) else k  # noqa: E731
    return tuple(conv(k) for k in key) if isinstance(key, tuple) else conv(key)


@pytest.mark.parametrize(
    "key",
    [
        np.array([2, 0, 2]),
        [0, -1],
        (slice(None), np.array([[0, 1], [3, 2]])),
        (np.array([0, 2]), np.array([1, 3])),
        (np.array([0, 2]), slice(None), np.array([1, 3])),
        (Ellipsis, np.array([4, 0])),
        (slice(1, None), np.array([1, 3]), np.array([[0], [4]])),
        (None, np.array([1]), slice(None, None, 2)),
        (np.array([1, 0]), None, np.array([3, 2])),
        A[:, :, 0] > 20,
        (slice(None), A[0] > 7),
        (A[:, 0, 0] > 0, slice(None), np.array([0, 4])),
        np.array([], dtype=np.int64),
        (slice(None, None, 2), Ellipsis, np.array([-1, -5])),
    ],
)
def test_advanced_index_matches_numpy(key):
    got = fg.tensor(A)[idx_to_fg(key)]
    want = A[key]
    assert tuple(got.shape) == want.shape
    np.testing.assert_array_equal(npy(got), want)


def test_int_next_to_advanced_index_selects_first_like_pytorch():
    # PyTorch applies ints as select before the advanced part, so the slice dim stays first
    # (NumPy would give (2, 4) here).
    got = fg.tensor(A)[0, :, [1, 2]]
    assert got.shape == (4, 2)
    np.testing.assert_array_equal(npy(got), A[0][:, [1, 2]])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_advanced_indices_match_numpy(data):
    shape = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    a = np.arange(np.prod(shape)).reshape(shape)
    key, used = [], 0
    for n in shape:
        kind = data.draw(st.sampled_from(["slice", "arr", "arr", "skip", "none"]))
        if kind == "slice":
            key.append(slice(data.draw(st.integers(-n, n)), None, data.draw(st.integers(1, 3))))
        elif kind == "arr":
            key.append(np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=2, max_size=2))))
        elif kind == "none":
            key.append(None)
            key.append(slice(None))
        else:
            break
        used += 1
    key = tuple(key)
    want = a[key]
    got = fg.tensor(a)[idx_to_fg(key)]
    assert tuple(got.shape) == want.shape
    np.testing.assert_array_equal(npy(got), want)
    # Writing through the same index hits the same elements.
    b = a.copy()
    b[key] = -1
    t = fg.tensor(a)
    t[idx_to_fg(key)] = -1
    np.testing.assert_array_equal(npy(t), b)


@pytest.mark.parametrize(
    "key, value",
    [
        (np.array([0, 2]), 7.0),
        ((slice(None), np.array([1, 3])), np.ones((3, 2, 5))),
        ((np.array([0, 1]), np.array([1, 2]), slice(1, 3)), np.array([1.0, 2.0])),
        (A > 30, -1.0),
        ((Ellipsis, 2), np.arange(4.0)),
        ((1, slice(None, None, 2)), np.zeros((2, 5))),
    ],
)
def test_setitem_matches_numpy(key, value):
    want = A.copy()
    want[key] = value
    t = fg.tensor(A)
    v = fg.tensor(value) if isinstance(value, np.ndarray) else value
    before = t._version
    t[idx_to_fg(key)] = v
    np.testing.assert_array_equal(npy(t), want)
    assert t._version > before


def test_setitem_casts_into_the_tensor_dtype():
    t = fg.zeros(3, dtype=fg.int64)
    t[[0, 2]] = fg.tensor([1.7, -2.2])
    assert t.dtype == fg.int64
    np.testing.assert_array_equal(npy(t), [1, 0, -2])


@settings(max_examples=40, deadline=None)
@given(st.data(), st.sampled_from(["float64", "int64"]))
def test_gather_scatter_family_matches_numpy(data, dtype):
    shape = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    nd = len(shape)
    d = data.draw(st.integers(-nd, nd - 1))
    a = np.arange(np.prod(shape)).reshape(shape).astype(dtype)
    t = fg.tensor(a)
    ishape = [data.draw(st.integers(1, n)) for n in shape]
    ishape[d] = data.draw(st.integers(1, 4))
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    index = rng.integers(0, shape[d], size=ishape)
    # gather reads the leading corner of the other dims (NumPy's take_along_axis would broadcast).
    corner = tuple(slice(None) if k == d % nd else slice(0, n) for k, n in enumerate(ishape))
    np.testing.assert_array_equal(npy(t.gather(d, fg.tensor(index))), np.take_along_axis(a[corner], index, d))
    # scatter_add: reference by a loop over the index.
    src = rng.integers(-5, 5, size=ishape).astype(dtype)
    want = a.copy()
    for pos in np.ndindex(*ishape):
        tgt = list(pos)
        tgt[d] = index[pos]
        want[tuple(tgt)] += src[pos]
    np.testing.assert_array_equal(npy(t.scatter_add(d, fg.tensor(index), fg.tensor(src))), want)
    # scatter with unique targets per line (so the result is defined).
    perm = np.argsort(rng.random(shape), axis=d)
    uniq = np.take(perm, np.arange(min(ishape[d], shape[d])), axis=d)
    ssrc = rng.integers(-5, 5, size=uniq.shape).astype(dtype)
    want = a.copy()
    np.put_along_axis(want, uniq, ssrc, d)
    np.testing.assert_array_equal(npy(t.scatter(d, fg.tensor(uniq), fg.tensor(ssrc))), want)
    sel = rng.integers(-shape[d], shape[d], size=data.draw(st.integers(0, 5)))
    np.testing.assert_array_equal(npy(t.index_select(d, fg.tensor(sel, dtype=fg.int64))), np.take(a, sel, axis=d))
    flat = rng.integers(-a.size, a.size, size=(2, 3))
    np.testing.assert_array_equal(npy(t.take(fg.tensor(flat))), np.take(a, flat))
    mask = rng.random(shape) > 0.5
    np.testing.assert_array_equal(npy(t.masked_select(fg.tensor(mask))), a[mask])
    np.testing.assert_array_equal(npy(t.nonzero()), np.argwhere(a))
    for got, want in zip(t.nonzero(as_tuple=True), np.nonzero(a)):
        np.testing.assert_array_equal(npy(got), want)


def test_index_add_matches_loop_and_accumulates_duplicates():
    a = np.zeros((4, 3))
    src = np.arange(9.0).reshape(3, 3)
    idx = np.array([1, 3, 1])
    want = a.copy()
    np.add.at(want, idx, 2 * src)
    got = fg.tensor(a).index_add(0, fg.tensor(idx), fg.tensor(src), alpha=2)
    np.testing.assert_array_equal(npy(got), want)
    t = fg.tensor(a)
    t.index_add_(0, fg.tensor(idx), fg.tensor(src), alpha=2)
    np.testing.assert_array_equal(npy(t), want)


def test_masked_select_broadcasts():
    t = fg.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(npy(t.masked_select(fg.tensor([True, False, True]))), [0, 2, 3, 5])


# ----- gradients -----


@pytest.mark.parametrize(
    "fn, shapes",
    [
        (lambda x: x[fg.tensor([0, 2, 0, 0])], [(3, 2)]),  # duplicates accumulate
        (lambda x: x.t()[[1, 1], 1:], [(3, 2)]),
        (lambda x: x[:, [0, 2], [1, 1]], [(2, 3, 2)]),
        (lambda x: x[[0, 1], :, [1, 0]], [(2, 3, 2)]),
        (lambda x: x[x > 0.1], [(3, 4)]),
        (lambda x: x[::2, None, fg.tensor([[0], [2]])], [(3, 3)]),
        (lambda x: x.expand(3, 4)[[0, 2], [1, 1]], [(1, 4)]),
        (lambda x: x.t().gather(-1, fg.tensor([[0, 0], [1, 0], [1, 1], [0, 1]])), [(2, 4)]),
        (lambda x, y: x.scatter_add(0, fg.tensor([[1, 0, 1]]), y), [(2, 3), (2, 3)]),
        (lambda x, y: x.scatter(-1, fg.tensor([[2, 0]]), y.t()), [(2, 3), (2, 1)]),
        (lambda x: x.index_select(-1, fg.tensor([2, 0, 2])), [(2, 3)]),
        (lambda x, y: x.index_add(1, fg.tensor([0, 0]), y[:, ::2], alpha=-1.5), [(2, 3), (2, 4)]),
        (lambda x: x.take(fg.tensor([[5, 0], [5, -1]])), [(2, 3)]),
        (lambda x: x.t().masked_select(fg.tensor([[True], [False], [True]])), [(2, 3)]),
    ],
)
def test_gradcheck(fn, shapes):
    assert gradcheck(fn, *[np.random.default_rng(i).standard_normal(s) for i, s in enumerate(shapes)])


def test_duplicate_indices_accumulate_gradient():
    x = fg.zeros(3, requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(npy(x.grad), [3, 0, 1])


# ----- errors -----


@pytest.mark.parametrize(
    "call, types",
    [
        (lambda t: t[[0, 5]], (IndexError,)),
        (lambda t: t[[0, 1], [0, 1, 2]], (IndexError,)),
        (lambda t: t[fg.tensor([0.0, 1.0])], (IndexError,)),
        (lambda t: t[fg.tensor([True, False, True])], (IndexError,)),
        (lambda t: t[0, 0, 0], (IndexError,)),
        (lambda t: t[..., ...], (IndexError,)),
        (lambda t: t["a"], (IndexError, TypeError)),
        (lambda t: t[::-1], (fg.FerrogradError,)),
        (lambda t: t.gather(0, fg.tensor([[0, 3]])), (IndexError,)),
        (lambda t: t.gather(0, fg.tensor([0])), (fg.ShapeError,)),
        (lambda t: t.gather(0, fg.tensor([[0.0]])), (fg.DTypeError,)),
        (lambda t: t.scatter_add(1, fg.tensor([[0, 1]]), fg.ones(1, 1)), (fg.ShapeError,)),
        (lambda t: t.index_select(0, fg.tensor([[0]])), (IndexError,)),
        (lambda t: t.index_select(5, fg.tensor([0])), (IndexError,)),
        (lambda t: t.index_add(0, fg.tensor([0]), fg.ones(2, 3)), (fg.ShapeError,)),
        (lambda t: t.take(fg.tensor([6])), (IndexError,)),
        (lambda t: t.masked_select(fg.tensor([1, 0, 1])), (fg.DTypeError,)),
        (lambda t: t.masked_select(fg.tensor([True, False])), (fg.ShapeError,)),
        (lambda t: t.__setitem__([0, 1], fg.ones(3, 3)), (fg.ShapeError,)),
        (lambda t: t.__setitem__((slice(None), 0), fg.ones(3)), (fg.ShapeError,)),
    ],
)
def test_invalid_indices_raise_typed_errors(call, types):
    assert_typed_error(lambda: call(fg.ones(2, 3)), *types)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=3), st.lists(st.integers(-5, 5), max_size=4), st.integers(-4, 4))
def test_random_indices_never_panic(shape, ints, d):
    t = fg.ones(*shape)
    for call in (
        lambda: t[fg.tensor(ints, dtype=fg.int64)],
        lambda: t[:, ints] if len(shape) > 1 else t[ints],
        lambda: t.gather(d, fg.tensor(ints, dtype=fg.int64).reshape([-1] + [1] * (len(shape) - 1))),
        lambda: t.index_select(d, fg.tensor(ints, dtype=fg.int64)),
        lambda: t.take(fg.tensor(ints, dtype=fg.int64)),
        lambda: t.__setitem__(fg.tensor(ints, dtype=fg.int64), 1.0),
        lambda: t.index_add(d, fg.tensor(ints, dtype=fg.int64), fg.ones(len(ints))),
    ):
        try:
            call()
        except BaseException as e:  # noqa: BLE001
            assert isinstance(e, (fg.FerrogradError, IndexError, TypeError)), f"{type(e).__name__}: {e}"


def test_dim_accepts_axis_alias():
    t = fg.arange(6.0).reshape(2, 3)
    i = fg.tensor([[2, 0]])
    np.testing.assert_array_equal(npy(t.gather(axis=-1, index=i)), npy(t.gather(1, i)))
    np.testing.assert_array_equal(npy(t.index_select(index=fg.tensor([1]), axis=0)), [[3.0, 4.0, 5.0]])
    np.testing.assert_array_equal(npy(t.scatter_add(axis=1, index=i, src=fg.ones(1, 2))), npy(t.scatter_add(1, i, fg.ones(1, 2))))
    np.testing.assert_array_equal(npy(t.index_add(axis=0, index=fg.tensor([0]), source=fg.ones(1, 3))[0]), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(npy(t.scatter(axis=1, index=i, value=9.0)[0]), [9.0, 1.0, 9.0])
    np.testing.assert_array_equal(npy(fg.cat([t, t], axis=1)), np.concatenate([npy(t)] * 2, axis=1))
    assert [p.shape for p in t.chunk(3, axis=1)] == [(2, 1)] * 3
    assert_typed_error(lambda: t.gather(1, i, axis=1), TypeError)
    assert_typed_error(lambda: t.gather(index=i), TypeError)
    assert_typed_error(lambda: t.scatter_add(1, i), TypeError)
