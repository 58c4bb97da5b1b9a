"""Shape and view ops, joins and pad: values against NumPy, views sharing storage, gradients
(finite differences in float64) and typed errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrograd as fg
from _shape_helpers import assert_typed_error, gradcheck

F = fg.nn.functional


def arr(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def t64(a, **kw):
    return fg.tensor(np.asarray(a, dtype=np.float64), dtype=fg.float64, **kw)


def npy(t):
    return t.detach().numpy()


# ----- views share storage and the version counter -----


@pytest.mark.parametrize(
    "make",
    [
        lambda x: x.swapaxes(0, 1),
        lambda x: x.swapdims(0, -1),
        lambda x: x.movedim(0, -1),
        lambda x: x.unflatten(1, (2, 2)),
        lambda x: x.diagonal(),
        lambda x: x.broadcast_to((2, 3, 4)),
        lambda x: x.unbind(1)[2],
        lambda x: x.chunk(2, 1)[1],
        lambda x: x.split([1, 3], dim=1)[1],
        lambda x: x.tensor_split(3, dim=1)[0],
        lambda x: x.mT,
        lambda x: x.narrow(-1, 1, 2),
    ],
)
def test_views_share_storage_and_version(make):
    x = fg.zeros(3, 4)
    v = make(x)
    before = x._version
    with fg.no_grad():
        x.add_(1.0)
    assert x._version == before + 1 and v._version == x._version
    assert np.all(npy(v) == 1.0), "a view must see writes to its base"


def test_meshgrid_returns_views_and_matches_numpy():
    a, b = fg.arange(3.0), fg.arange(4.0)
    for indexing in ("ij", "xy"):
        got = fg.meshgrid(a, b, indexing=indexing)
        want = np.meshgrid(np.arange(3.0), np.arange(4.0), indexing=indexing)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(npy(g), w)
    assert_typed_error(lambda: fg.meshgrid(a, b, indexing="yx"), fg.FerrogradError)


# ----- values against NumPy -----

# Zero-size dims included: every shape op accepts them.
shapes = st.lists(st.integers(0, 4), min_size=1, max_size=4)


@settings(max_examples=40, deadline=None)
@given(shapes, st.data())
def test_movedim_flip_roll_match_numpy(shape, data):
    a = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    t = fg.tensor(a)
    nd = len(shape)
    src = data.draw(st.integers(-nd, nd - 1))
    dst = data.draw(st.integers(-nd, nd - 1))
    np.testing.assert_array_equal(npy(t.movedim(src, dst)), np.moveaxis(a, src, dst))
    np.testing.assert_array_equal(npy(fg.moveaxis(t, src, dst)), np.moveaxis(a, src, dst))
    dims = data.draw(st.lists(st.integers(0, nd - 1), unique=True, max_size=nd))
    np.testing.assert_array_equal(npy(t.flip(dims)), np.flip(a, dims) if dims else a)
    shift = data.draw(st.integers(-7, 7))
    d = data.draw(st.integers(-nd, nd - 1))
    np.testing.assert_array_equal(npy(t.roll(shift, d)), np.roll(a, shift, d))
    np.testing.assert_array_equal(npy(t.roll(shift)), np.roll(a, shift))


@settings(max_examples=40, deadline=None)
@given(shapes, st.data())
def test_repeat_tile_interleave_match_numpy(shape, data):
    a = np.arange(np.prod(shape)).reshape(shape)
    t = fg.tensor(a)
    reps = data.draw(st.lists(st.integers(0, 3), min_size=len(shape), max_size=len(shape) + 1))
    np.testing.assert_array_equal(npy(t.repeat(*reps)), np.tile(a, reps))
    few = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=len(shape)))
    np.testing.assert_array_equal(npy(t.tile(few)), np.tile(a, few))
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    k = data.draw(st.integers(0, 3))
    np.testing.assert_array_equal(npy(t.repeat_interleave(k, dim=d)), np.repeat(a, k, axis=d))
    np.testing.assert_array_equal(npy(t.repeat_interleave(k)), np.repeat(a, k))
    counts = data.draw(st.lists(st.integers(0, 3), min_size=shape[d], max_size=shape[d]))
    np.testing.assert_array_equal(npy(t.repeat_interleave(fg.tensor(counts, dtype=fg.int64), dim=d)), np.repeat(a, counts, axis=d))


@settings(max_examples=40, deadline=None)
@given(shapes, st.data(), st.sampled_from(["float32", "float64", "int64", "bool"]))
def test_cat_stack_split_match_numpy(shape, data, dtype):
    a = (np.arange(np.prod(shape)).reshape(shape) % 3).astype(dtype)
    b = (np.arange(np.prod(shape)).reshape(shape) % 2).astype(dtype)
    ta, tb = fg.tensor(a), fg.tensor(b)
    nd = len(shape)
    d = data.draw(st.integers(-nd, nd - 1))
    np.testing.assert_array_equal(npy(fg.cat([ta, tb], dim=d)), np.concatenate([a, b], axis=d))
    np.testing.assert_array_equal(npy(fg.concat((ta, tb), axis=d)), np.concatenate([a, b], axis=d))
    s = data.draw(st.integers(-nd - 1, nd))
    np.testing.assert_array_equal(npy(fg.stack([ta, tb], s)), np.stack([a, b], s))
    np.testing.assert_array_equal(npy(fg.hstack([ta, tb])), np.hstack([a, b]))
    np.testing.assert_array_equal(npy(fg.vstack([ta, tb])), np.vstack([a, b]))
    n = shape[d]
    sections = data.draw(st.integers(1, n + 2))
    for got, want in zip(ta.tensor_split(sections, dim=d), np.array_split(a, sections, axis=d)):
        np.testing.assert_array_equal(npy(got), want)
    idx = sorted(data.draw(st.lists(st.integers(0, n), max_size=3)))
    parts = ta.tensor_split(idx, dim=d)
    assert len(parts) == len(idx) + 1
    for got, want in zip(parts, np.split(a, idx, axis=d)):
        np.testing.assert_array_equal(npy(got), want)
    size = data.draw(st.integers(1, n + 1))
    got = ta.split(size, d)
    want = np.split(a, list(range(size, n, size)), axis=d)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(npy(g), w)
    chunks = data.draw(st.integers(1, n + 1))
    got = ta.chunk(chunks, d)
    step = -(-n // chunks)
    # An empty dim gives `chunks` empty pieces (PyTorch's rule), else ceil-sized pieces.
    assert len(got) == (chunks if n == 0 else len(range(0, n, step)))
    assert all(g.shape[d] == 0 for g in got) if n == 0 else True
    for g, u in zip(got, fg.unbind(ta, d) if chunks == n else []):
        np.testing.assert_array_equal(npy(g).squeeze(d), npy(u))


def test_cat_promotes_dtypes_and_skips_legacy_empty():
    out = fg.cat([fg.tensor([1, 2]), fg.tensor([0.5]), fg.zeros(0)])
    assert out.dtype == fg.float32
    np.testing.assert_array_equal(npy(out), [1, 2, 0.5])
    out = fg.cat([fg.ones(2, 2), fg.tensor([])])
    assert out.shape == (2, 2)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(-6, 6), st.sampled_from(["float64", "int64"]))
def test_tril_triu_diag_diagonal_match_numpy(n, m, k, dtype):
    a = np.arange(n * m).reshape(n, m).astype(dtype)
    t = fg.tensor(a)
    np.testing.assert_array_equal(npy(t.tril(k)), np.tril(a, k))
    np.testing.assert_array_equal(npy(fg.triu(t, k)), np.triu(a, k))
    np.testing.assert_array_equal(npy(t.diag(k)), np.diag(a, k))
    np.testing.assert_array_equal(npy(t.diagonal(k)), np.diagonal(a, k))
    v = np.arange(n).astype(dtype)
    np.testing.assert_array_equal(npy(fg.tensor(v).diag(k)), np.diag(v, k))
    b = np.arange(2 * n * m).reshape(2, n, m)
    np.testing.assert_array_equal(npy(fg.tensor(b).diagonal(k, -1, -2)), np.diagonal(b, k, -1, -2))
    np.testing.assert_array_equal(npy(fg.tensor(b).tril(k)), np.tril(b, k))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.data())
def test_pad_matches_numpy(shape, data):
    a = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    t = fg.tensor(a)
    k = data.draw(st.integers(1, len(shape)))
    amounts = []
    for d in range(k):
        n = shape[len(shape) - 1 - d]
        amounts += [data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))]
    widths = [(0, 0)] * len(shape)
    for d in range(k):
        widths[len(shape) - 1 - d] = (amounts[2 * d], amounts[2 * d + 1])
    np.testing.assert_array_equal(npy(F.pad(t, amounts, mode="reflect")), np.pad(a, widths, mode="reflect"))
    np.testing.assert_array_equal(npy(F.pad(t, amounts, mode="replicate")), np.pad(a, widths, mode="edge"))
    np.testing.assert_array_equal(npy(F.pad(t, amounts, value=-2.5)), np.pad(a, widths, constant_values=-2.5))


def test_pad_negative_constant_crops():
    a = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(npy(F.pad(fg.tensor(a), (-1, 2, 1, -2))), np.pad(a[:1, 1:], ((1, 0), (0, 2))))


# ----- gradients (float64 finite differences), including non-contiguous inputs -----


@pytest.mark.parametrize(
    "fn, shapes",
    [
        (lambda x: x.movedim((0, 1), (-1, 0)), [(2, 3, 4)]),
        (lambda x: x.swapaxes(-1, 0).unflatten(0, (2, -1)), [(3, 4)]),
        (lambda x: x.t().flip(0, -1), [(3, 4)]),
        (lambda x: x[::2].roll((1, -2), (0, -1)), [(5, 3)]),
        (lambda x: x.t().repeat(2, 1, 3), [(2, 3)]),
        (lambda x: x.expand(2, 3, 2).tile((2,)), [(3, 1)]),
        (lambda x: x.t().repeat_interleave(fg.tensor([0, 2, 1]), dim=-1), [(3, 2)]),
        (lambda x: x[:, 1::2].repeat_interleave(2), [(2, 5)]),
        (lambda x: x.diag(-1), [(3,)]),
        (lambda x: x.t().diag(1), [(3, 4)]),
        (lambda x: x.diagonal(1, -1, -2) * 2, [(2, 3, 4)]),
        (lambda x: x.t().tril(-1), [(4, 3)]),
        (lambda x: x[::2].triu(1), [(5, 4)]),
        (lambda x, y: fg.cat([x.t(), y], dim=-1), [(2, 3), (3, 2)]),
        (lambda x, y: fg.stack([x, y.expand(3, 2)], dim=-1), [(3, 2), (1, 2)]),
        (lambda x, y: fg.hstack([x, y]) + fg.vstack([x, y[:2]]).sum(), [(2,), (3,)]),
        (lambda x: sum(p.sum() * (i + 1) for i, p in enumerate(x.t().unbind(-1))), [(2, 3)]),
        (lambda x: sum(p.sum() * (i + 1) for i, p in enumerate(x.split([1, 2], dim=-1))), [(2, 3)]),
        (lambda x: sum((p * (i + 1)).sum() for i, p in enumerate(x.tensor_split(3, dim=0))), [(4, 2)]),
        (lambda x: x.chunk(2, dim=1)[1] * 3, [(2, 5)]),
        (lambda x: F.pad(x.t(), (1, 2, 2, 0), mode="reflect"), [(3, 4)]),
        (lambda x: F.pad(x, (2, 1), mode="replicate"), [(2, 3)]),
        (lambda x: F.pad(x[:, ::2], (1, -1, 0, 1), value=3.0), [(2, 5)]),
        (lambda x, y: fg.meshgrid(x, y)[0] * fg.meshgrid(x, y, indexing="xy")[1].t(), [(3,), (2,)]),
        (lambda x: x.broadcast_to((2, 3)) * fg.arange(3.0, dtype=fg.float64), [(3,)]),
    ],
)
def test_gradcheck(fn, shapes):
    assert gradcheck(fn, *[arr(*s, seed=i) for i, s in enumerate(shapes)])


# ----- errors are typed, never panics -----


@pytest.mark.parametrize(
    "call, types",
    [
        (lambda t: t.movedim((0, 0), (1, 0)), (fg.FerrogradError,)),
        (lambda t: t.movedim(5, 0), (IndexError,)),
        (lambda t: t.unflatten(0, (4, 2)), (fg.ShapeError,)),
        (lambda t: t.split([1, 2], 0), (fg.ShapeError,)),
        (lambda t: t.chunk(0), (fg.FerrogradError,)),
        (lambda t: t.tensor_split(0), (fg.FerrogradError,)),
        (lambda t: t.repeat(2), (fg.ShapeError,)),
        (lambda t: t.repeat(-1, 2), (fg.FerrogradError,)),
        (lambda t: t.diagonal(0, 1, 1), (fg.FerrogradError,)),
        (lambda t: t.diagonal(0, 0, 2), (IndexError,)),
        (lambda t: t.reshape(-1).tril(), (fg.ShapeError,)),
        (lambda t: t.roll((1, 2), 0), (fg.FerrogradError,)),
        (lambda t: t.repeat_interleave(fg.tensor([1, 2, 3]), dim=0), (fg.ShapeError,)),
        (lambda t: t.repeat_interleave(-1), (fg.FerrogradError,)),
        (lambda t: fg.cat([t, fg.zeros(2, 4)]), (fg.ShapeError,)),
        (lambda t: fg.cat([]), (fg.FerrogradError,)),
        (lambda t: fg.stack([t, t.t()]), (fg.ShapeError,)),
        (lambda t: fg.stack([t], dim=3), (IndexError,)),
        (lambda t: F.pad(t, (1,)), (fg.FerrogradError,)),
        (lambda t: F.pad(t, (3, 0), mode="reflect"), (fg.ShapeError,)),
        (lambda t: F.pad(t, (1, 1, 1, 1, 1, 1)), (fg.ShapeError,)),
        (lambda t: F.pad(t, (1, 1), mode="circular"), (fg.FerrogradError,)),
        (lambda t: F.pad(t, (-5, 0)), (fg.ShapeError,)),
        (lambda t: t.broadcast_to((3,)), (fg.ShapeError,)),
        (lambda t: fg.tensor(1.0).unbind(), (fg.FerrogradError,)),
    ],
)
def test_invalid_arguments_raise_typed_errors(call, types):
    assert_typed_error(lambda: call(fg.ones(2, 3)), *types)


@settings(max_examples=60, deadline=None)
@given(shapes, st.integers(-6, 6), st.integers(-6, 6), st.integers(-3, 6))
def test_random_dims_never_panic(shape, d0, d1, n):
    t = fg.ones(*shape)
    for call in (
        lambda: t.movedim(d0, d1),
        lambda: t.swapaxes(d0, d1),
        lambda: t.diagonal(n, d0, d1),
        lambda: t.unflatten(d0, (n, -1)),
        lambda: t.chunk(n, d0),
        lambda: t.split(n, d1),
        lambda: t.roll(n, d0),
        lambda: t.flip(d0, d1),
        lambda: fg.cat([t, t], d0),
        lambda: fg.stack([t, t], d1),
        lambda: t.tensor_split(n, d0),
        lambda: F.pad(t, (n, d0), mode="reflect"),
        lambda: F.pad(t, (n, d1)),
        lambda: t.repeat_interleave(n, dim=d0),
    ):
        try:
            call()
        except BaseException as e:  # noqa: BLE001
            assert isinstance(e, (fg.FerrogradError, IndexError, TypeError)), f"{type(e).__name__}: {e}"


# ----- the pre-existing view ops: values, sharing, gradients with negative dims -----


def test_existing_view_ops_match_numpy_and_share_storage():
    a = np.arange(24.0).reshape(2, 3, 4)
    t = fg.tensor(a)
    cases = [
        (t.reshape(4, -1), a.reshape(4, -1)),
        (t.view(-1, 4), a.reshape(-1, 4)),
        (t.flatten(1), a.reshape(2, 12)),
        (t.flatten(-2, -1), a.reshape(2, 12)),
        (t.transpose(-1, 0), np.swapaxes(a, -1, 0)),
        (t.permute(2, 0, 1), a.transpose(2, 0, 1)),
        (t.permute((-1, -3, -2)), a.transpose(2, 0, 1)),
        (t.T, a.T),
        (t.mT, np.swapaxes(a, -1, -2)),
        (t[:, :1].squeeze((0, 1)), a[:, 0]),
        (t[:1, :1].squeeze(), a[0, 0]),
        (t.unsqueeze(-1), a[..., None]),
        (t[:, :1].expand(2, 5, 4), np.broadcast_to(a[:, :1], (2, 5, 4))),
        (t.narrow(-1, 1, 2), a[..., 1:3]),
        (t.select(-2, -1), a[:, -1]),
        (t.view_as(fg.zeros(6, 4)), a.reshape(6, 4)),
        (t[0].expand_as(fg.zeros(5, 3, 4)), np.broadcast_to(a[0], (5, 3, 4))),
    ]
    for got, want in cases:
        np.testing.assert_array_equal(npy(got), want)
    with fg.no_grad():
        t.mul_(2.0)
    for got, want in cases:
        np.testing.assert_array_equal(npy(got), want * 2, err_msg="views must share storage")
    assert_typed_error(lambda: t.transpose(0, 1).view(-1), fg.ShapeError)
    np.testing.assert_array_equal(npy(t.transpose(0, 1).reshape(-1)), np.swapaxes(a * 2, 0, 1).reshape(-1))


@pytest.mark.parametrize(
    "fn, shape",
    [
        (lambda x: x.t().reshape(-1, 2), (2, 3)),
        (lambda x: x.view(3, -1).flatten(-2), (2, 3)),
        (lambda x: x.permute(-1, 0, -2).squeeze(-1), (2, 1, 3)),
        (lambda x: x.unsqueeze(-2).expand(2, 4, 3), (2, 3)),
        (lambda x: x.mT.narrow(-1, 1, 1).select(-2, -1), (3, 2, 2)),
        (lambda x: x[1::2, None, ..., -1], (4, 3)),
    ],
)
def test_existing_view_ops_gradcheck(fn, shape):
    assert gradcheck(fn, arr(*shape))


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.repeat(2**40, 2**40),
        lambda t: t.tile((2**62,)),
        lambda t: t.repeat_interleave(2**62),
        lambda t: t.diag(2**62),
        lambda t: F.pad(t, (2**61, 2**61)),
    ],
)
def test_unaddressable_results_are_refused(call):
    assert_typed_error(lambda: call(fg.ones(3)), fg.FerrogradError)


def test_extreme_shifts_and_pads_do_not_overflow():
    t = fg.arange(5.0)
    big = 2**63 - 1
    np.testing.assert_array_equal(npy(t.roll((big, big), (0, 0))), np.roll(np.arange(5.0), (2 * big) % 5))
    assert_typed_error(lambda: F.pad(t, (big, big)), fg.FerrogradError)
    assert fg.zeros(0, 3).roll(2, 0).shape == (0, 3)



# ----- views of 0-d and 1-d tensors keep their history -----

VIEW_OPS_LOW_RANK = [
    lambda t: t.permute(*range(t.ndim)) if t.ndim else t.permute(()),
    lambda t: t.t(),
    lambda t: t.T,
    lambda t: t.transpose(0, -1),
    lambda t: t.swapaxes(0, -1),
    lambda t: t.swapdims(-1, 0),
    lambda t: t.movedim(0, -1),
    lambda t: fg.moveaxis(t, -1, 0),
    lambda t: t.view(tuple(t.shape)),
    lambda t: t.view(-1),
    lambda t: t.view_as(t),
    lambda t: t.reshape(tuple(t.shape)),
    lambda t: t.flatten(),
    lambda t: t.squeeze(),
    lambda t: t.squeeze(0),
    lambda t: t.unsqueeze(0),
    lambda t: t.expand(*t.shape),
    lambda t: t.expand_as(t),
    lambda t: t.broadcast_to(tuple(t.shape)),
    lambda t: t.flip(()),
    lambda t: t[...],
    lambda t: t[None],
]


@pytest.mark.parametrize("shape", [(), (1,), (3,)])
@pytest.mark.parametrize("fn", VIEW_OPS_LOW_RANK)
def test_views_of_low_rank_tensors_keep_history(fn, shape):
    # permute(()) / t() / transpose of a 0-d tensor used to return a result with no grad_fn.
    x = t64(np.arange(1.0, 1.0 + int(np.prod(shape))).reshape(shape), requires_grad=True)
    for src in (x, x * 2.0):
        out = fn(src)
        assert out.grad_fn is not None and not out.is_leaf
    out = fn(x)
    (out * 3.0).sum().backward()
    np.testing.assert_array_equal(npy(x.grad), np.full(shape, 3.0))


def test_zero_d_transpose_is_a_view_with_gradient():
    x = t64(2.0, requires_grad=True)
    y = x * 1.0
    v = y.t()
    assert v.grad_fn is not None
    assert gradcheck(lambda a: a.permute(()) * a.t() * a.transpose(0, -1), np.array(1.5))
    # An in-place change through the view reaches the base's history.
    v.mul_(4.0)
    y.backward()
    assert x.grad.item() == 4.0



@pytest.mark.parametrize(
    "fn,shapes",
    [
        (lambda x: x.view_as(fg.zeros(6, 2)), [(3, 4)]),
        (lambda x: x.t().contiguous().view_as(fg.zeros(12)), [(3, 4)]),
        (lambda x, y: x.expand_as(y) * y, [(3, 1), (3, 4)]),
        (lambda x: x[:, ::2].clone() * 2.0, [(3, 4)]),
        (lambda x: x.t().clone(), [(3, 4)]),
        (lambda x, y: fg.concat([x.t(), y], -1), [(2, 3), (3, 2)]),
        (lambda x, y: fg.concat((x, y.expand(2, 3)), dim=0), [(2, 3), (1, 3)]),
    ],
)
def test_view_as_expand_as_clone_concat_gradcheck(fn, shapes):
    arrays = [arr(*s, seed=i) for i, s in enumerate(shapes)]
    assert gradcheck(fn, *arrays)
