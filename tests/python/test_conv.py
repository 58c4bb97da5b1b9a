"""Convolutions, unfold/fold and pooling: values against direct NumPy loops, gradients
against finite differences (with strided/transposed/expanded inputs), typed errors."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ferrograd as fg
import ferrograd.nn.functional as F
from nn_check import assert_typed_error, gradcheck, t64

rng = np.random.default_rng(1)


def np_conv2d(x, w, b=None, stride=(1, 1), pad=(0, 0, 0, 0), dil=(1, 1), groups=1):
    """Direct cross-correlation; pad = (top, bottom, left, right)."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[1]), (pad[2], pad[3])))
    oh = (h + pad[0] + pad[1] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd + pad[2] + pad[3] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, o, oh, ow))
    og = o // groups
    for oc in range(o):
        g = oc // og
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, g * cg:(g + 1) * cg, i * stride[0]: i * stride[0] + dil[0] * (kh - 1) + 1: dil[0],
                           j * stride[1]: j * stride[1] + dil[1] * (kw - 1) + 1: dil[1]]
                out[:, oc, i, j] = (patch * w[oc]).sum(axis=(1, 2, 3))
    if b is not None:
        out += b[None, :, None, None]
    return out


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 2), cg=st.integers(1, 2), groups=st.integers(1, 2), og=st.integers(1, 2),
       h=st.integers(3, 6), w=st.integers(3, 6), k=st.integers(1, 3), s=st.integers(1, 2), p=st.integers(0, 2),
       d=st.integers(1, 2), bias=st.booleans(), f32=st.booleans())
def test_conv2d_matches_numpy(n, cg, groups, og, h, w, k, s, p, d, bias, f32):
    if h + 2 * p < d * (k - 1) + 1 or w + 2 * p < d * (k - 1) + 1:
        return
    r = np.random.default_rng(h * 7 + w)
    x = r.standard_normal((n, cg * groups, h, w))
    wt = r.standard_normal((og * groups, cg, k, k))
    b = r.standard_normal(og * groups) if bias else None
    dt = np.float32 if f32 else np.float64
    got = F.conv2d(fg.tensor(x.astype(dt)), fg.tensor(wt.astype(dt)), None if b is None else fg.tensor(b.astype(dt)),
                   stride=s, padding=p, dilation=d, groups=groups)
    want = np_conv2d(x, wt, b, (s, s), (p, p, p, p), (d, d), groups)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-4 if f32 else 1e-10, atol=1e-4 if f32 else 1e-10)


def test_conv2d_same_padding_even_kernel_and_valid():
    x = rng.standard_normal((1, 2, 5, 6))
    w = rng.standard_normal((3, 2, 2, 4))
    got = F.conv2d(t64(x), t64(w), padding="same", dilation=(2, 1)).numpy()
    # total padding d*(k-1): rows 2 -> (1, 1); cols 3 -> (1, 2)
    np.testing.assert_allclose(got, np_conv2d(x, w, pad=(1, 1, 1, 2), dil=(2, 1)), rtol=1e-10)
    assert got.shape == (1, 3, 5, 6)
    np.testing.assert_allclose(F.conv2d(t64(x), t64(w), padding="valid").numpy(), np_conv2d(x, w), rtol=1e-10)
    assert_typed_error(lambda: F.conv2d(t64(x), t64(w), padding="same", stride=2), ValueError)


def test_conv2d_gradcheck_groups_bias_views():
    x = rng.standard_normal((2, 4, 4, 3))
    w = rng.standard_normal((4, 2, 2, 2))
    b = rng.standard_normal(4)
    gradcheck(lambda a, c, e: F.conv2d(a, c, e, stride=(2, 1), padding=1, dilation=(1, 2), groups=2), [x, w, b])
    # transposed input (H and W swapped storage), strided slice, expanded batch
    gradcheck(lambda a, c: F.conv2d(a.transpose(2, 3), c, padding=1), [rng.standard_normal((1, 2, 3, 4)), rng.standard_normal((2, 2, 2, 2))])
    gradcheck(lambda a, c: F.conv2d(a[:, :, ::2, :], c), [rng.standard_normal((1, 1, 6, 3)), rng.standard_normal((1, 1, 2, 2))])
    gradcheck(lambda a, c: F.conv2d(a.expand(2, 1, 3, 3), c, padding="same"), [rng.standard_normal((1, 1, 3, 3)), rng.standard_normal((2, 1, 3, 3))])


def test_conv1d_matches_and_gradchecks():
    x = rng.standard_normal((2, 2, 7))
    w = rng.standard_normal((3, 2, 3))
    b = rng.standard_normal(3)
    got = F.conv1d(t64(x), t64(w), t64(b), stride=2, padding=1, dilation=2).numpy()
    want = np_conv2d(x[:, :, None, :], w[:, :, None, :], b, (1, 2), (0, 0, 1, 1), (1, 2))[:, :, 0, :]
    np.testing.assert_allclose(got, want, rtol=1e-10)
    gradcheck(lambda a, c, e: F.conv1d(a, c, e, padding="same"), [x, w, b])
    unb = F.conv1d(t64(x[0]), t64(w))
    assert tuple(unb.shape) == (3, 5)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    # <conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for matching geometry
    for stride, pad, dil, groups in [(1, 0, 1, 1), (2, 1, 1, 1), (2, 1, 2, 2), (3, 0, 1, 1)]:
        x = rng.standard_normal((2, 4, 7, 6))
        w = rng.standard_normal((2 * groups, 4 // groups, 3, 2))
        y_fwd = F.conv2d(t64(x), t64(w), stride=stride, padding=pad, dilation=dil, groups=groups).numpy()
        y = rng.standard_normal(y_fwd.shape)
        # output_padding recovers the exact input size
        oph = (7 + 2 * pad - dil * 2 - 1) % stride
        opw = (6 + 2 * pad - dil * 1 - 1) % stride
        xt = F.conv_transpose2d(t64(y), t64(w), stride=stride, padding=pad, output_padding=(oph, opw),
                                groups=groups, dilation=dil).numpy()
        assert xt.shape == x.shape
        assert abs((y_fwd * y).sum() - (x * xt).sum()) < 1e-9


def test_conv_transpose2d_gradcheck_and_bias():
    x = rng.standard_normal((1, 2, 3, 3))
    w = rng.standard_normal((2, 3, 2, 2))
    b = rng.standard_normal(3)
    out = F.conv_transpose2d(t64(x), t64(w), t64(b), stride=2)
    assert tuple(out.shape) == (1, 3, 6, 6)
    gradcheck(lambda a, c, e: F.conv_transpose2d(a, c, e, stride=2, padding=1, output_padding=1), [x, w, b])


def test_conv_errors():
    x = t64(np.zeros((1, 3, 5, 5)))
    w = t64(np.zeros((2, 3, 3, 3)))
    assert_typed_error(lambda: F.conv2d(x, t64(np.zeros((2, 2, 3, 3)))), fg.ShapeError)
    assert_typed_error(lambda: F.conv2d(x, t64(np.zeros((2, 3, 7, 7)))), fg.ShapeError)
    assert_typed_error(lambda: F.conv2d(x, w.float()), fg.DTypeError)
    assert_typed_error(lambda: F.conv2d(x, w, t64(np.zeros(3))), fg.ShapeError)
    assert_typed_error(lambda: F.conv2d(t64(np.zeros((3, 5))), w), fg.ShapeError)
    assert_typed_error(lambda: F.conv2d(x, w, stride=0), ValueError)
    assert_typed_error(lambda: F.conv2d(x, w, groups=0), ValueError)
    assert_typed_error(lambda: F.conv2d(x, w, padding="full"), ValueError)
    assert_typed_error(lambda: F.conv2d(x, w, groups=2), fg.ShapeError)
    assert_typed_error(lambda: F.conv_transpose2d(x, t64(np.zeros((3, 2, 3, 3))), output_padding=1), fg.FerrogradError)


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=0, max_size=5), k=st.integers(0, 4), groups=st.integers(1, 3))
def test_conv2d_random_shapes_never_panic(shape, k, groups):
    x = fg.zeros(*shape, dtype=fg.float64)
    w = fg.zeros(2, 1, k, k, dtype=fg.float64)
    try:
        F.conv2d(x, w, groups=groups)
    except BaseException as e:  # noqa: BLE001
        assert isinstance(e, (fg.FerrogradError, ValueError, IndexError, TypeError)), type(e)


def test_unfold_fold_match_reference_and_gradcheck():
    x = rng.standard_normal((2, 3, 5, 4))
    cols = F.unfold(t64(x), (2, 3), dilation=1, padding=1, stride=(2, 1)).numpy()
    # the conv with identity filters reproduces unfold's rows (channel-major, then kh, kw)
    eye = np.eye(3 * 2 * 3).reshape(18, 3, 2, 3)
    want = np_conv2d(x, eye, stride=(2, 1), pad=(1, 1, 1, 1))
    np.testing.assert_allclose(cols, want.reshape(2, 18, -1), rtol=1e-12)
    folded = F.fold(t64(cols), (5, 4), (2, 3), padding=1, stride=(2, 1))
    assert tuple(folded.shape) == (2, 3, 5, 4)
    gradcheck(lambda a: F.unfold(a, 2, dilation=2, padding=1), [rng.standard_normal((1, 2, 4, 4))])
    gradcheck(lambda a: F.fold(a, (3, 3), 2), [rng.standard_normal((1, 4, 4))])
    assert_typed_error(lambda: F.fold(t64(cols), (6, 4), (2, 3), padding=1, stride=(2, 1)), fg.ShapeError)


# ----- pooling -----

def np_max_pool2d(x, k, s, p, d=(1, 1), ceil=False):
    n, c, h, w = x.shape

    def size(i, kk, ss, pp, dd):
        o = (i + 2 * pp - dd * (kk - 1) - 1 + (ss - 1 if ceil else 0)) // ss + 1
        if ceil and (o - 1) * ss >= i + pp:
            o -= 1
        return o

    oh, ow = size(h, k[0], s[0], p[0], d[0]), size(w, k[1], s[1], p[1], d[1])
    out = np.full((n, c, oh, ow), -np.inf)
    for i in range(oh):
        for j in range(ow):
            for a in range(k[0]):
                for b in range(k[1]):
                    r, q = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + b * d[1]
                    if 0 <= r < h and 0 <= q < w:
                        out[:, :, i, j] = np.maximum(out[:, :, i, j], x[:, :, r, q])
    return out


@settings(max_examples=40, deadline=None)
@given(h=st.integers(2, 7), w=st.integers(2, 7), k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 1),
       d=st.integers(1, 2), ceil=st.booleans())
def test_max_pool2d_matches_numpy(h, w, k, s, p, d, ceil):
    if 2 * p > d * (k - 1) + 1 or h + 2 * p < d * (k - 1) + 1 or w + 2 * p < d * (k - 1) + 1:
        return
    x = np.random.default_rng(h + 10 * w).standard_normal((2, 2, h, w))
    got, idx = F.max_pool2d(t64(x), k, s, p, d, ceil_mode=ceil, return_indices=True)
    want = np_max_pool2d(x, (k, k), (s, s), (p, p), (d, d), ceil)
    np.testing.assert_allclose(got.numpy(), want)
    flat = x.reshape(2, 2, -1)
    np.testing.assert_allclose(np.take_along_axis(flat, idx.numpy().reshape(2, 2, -1), 2).reshape(want.shape), want)


def test_max_pool_gradcheck_and_1d():
    x = rng.permutation(48).reshape(1, 3, 4, 4) * 0.1  # distinct values: no ties
    gradcheck(lambda a: F.max_pool2d(a, 2, stride=1, padding=1), [x])
    gradcheck(lambda a: F.max_pool2d(a.transpose(-1, -2), (2, 3), ceil_mode=True), [x])
    x1 = rng.permutation(14).reshape(2, 7) * 1.0
    got = F.max_pool1d(t64(x1), 3, stride=2).numpy()
    want = np.stack([x1[:, i:i + 3].max(1) for i in range(0, 5, 2)], 1)
    np.testing.assert_allclose(got, want)
    gradcheck(lambda a: F.max_pool1d(a, 2), [x1[None]])


def np_avg_pool2d(x, k, s, p, ceil, include_pad, divisor=None):
    n, c, h, w = x.shape

    def size(i, kk, ss, pp):
        o = (i + 2 * pp - kk + (ss - 1 if ceil else 0)) // ss + 1
        if ceil and (o - 1) * ss >= i + pp:
            o -= 1
        return o

    oh, ow = size(h, k[0], s[0], p[0]), size(w, k[1], s[1], p[1])
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            hs, ws = i * s[0] - p[0], j * s[1] - p[1]
            he, we = min(hs + k[0], h + p[0]), min(ws + k[1], w + p[1])
            pool = (he - hs) * (we - ws)
            hs2, ws2, he2, we2 = max(hs, 0), max(ws, 0), min(he, h), min(we, w)
            total = x[:, :, hs2:he2, ws2:we2].sum(axis=(2, 3))
            div = divisor if divisor else (pool if include_pad else (he2 - hs2) * (we2 - ws2))
            out[:, :, i, j] = total / div
    return out


@settings(max_examples=40, deadline=None)
@given(h=st.integers(2, 7), w=st.integers(2, 7), k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 1),
       ceil=st.booleans(), include=st.booleans(), divisor=st.sampled_from([None, 3]))
def test_avg_pool2d_matches_numpy(h, w, k, s, p, ceil, include, divisor):
    if 2 * p > k or h + 2 * p < k or w + 2 * p < k:
        return
    x = np.random.default_rng(h * w).standard_normal((1, 2, h, w))
    got = F.avg_pool2d(t64(x), k, s, p, ceil, include, divisor)
    np.testing.assert_allclose(got.numpy(), np_avg_pool2d(x, (k, k), (s, s), (p, p), ceil, include, divisor), rtol=1e-12)


def test_avg_pool_gradcheck_and_1d():
    gradcheck(lambda a: F.avg_pool2d(a, 3, stride=2, padding=1, count_include_pad=False), [rng.standard_normal((1, 2, 5, 4))])
    gradcheck(lambda a: F.avg_pool2d(a[:, :, ::2], 2, ceil_mode=True), [rng.standard_normal((1, 1, 6, 5))])
    x = rng.standard_normal((2, 3, 8))
    got = F.avg_pool1d(t64(x), 4, stride=2, padding=1).numpy()
    want = np_avg_pool2d(x[:, :, None, :], (1, 4), (1, 2), (0, 1), False, True)[:, :, 0, :]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    gradcheck(lambda a: F.avg_pool1d(a, 3, stride=1, padding=1, count_include_pad=False), [x[:1]])


def test_adaptive_avg_pool2d_matches_and_gradchecks():
    x = rng.standard_normal((2, 3, 7, 5))
    got = F.adaptive_avg_pool2d(t64(x), (3, None)).numpy()
    want = np.zeros((2, 3, 3, 5))
    for i in range(3):
        s, e = (i * 7) // 3, -((-(i + 1) * 7) // 3)
        want[:, :, i, :] = x[:, :, s:e, :].mean(2)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(t64(x), 1).numpy(), x.mean((2, 3), keepdims=True), rtol=1e-12)
    gradcheck(lambda a: F.adaptive_avg_pool2d(a.transpose(-1, -2), (2, 3)), [rng.standard_normal((1, 2, 5, 4))])


def test_pool_errors():
    x = t64(np.zeros((1, 1, 4, 4)))
    assert_typed_error(lambda: F.max_pool2d(x, 2, padding=2), fg.FerrogradError)
    assert_typed_error(lambda: F.max_pool2d(x, 5), fg.ShapeError)
    assert_typed_error(lambda: F.max_pool2d(t64(np.zeros(4)), 2), fg.ShapeError)
    assert_typed_error(lambda: F.max_pool2d(x, 0), ValueError)
    assert_typed_error(lambda: F.avg_pool2d(x, 2, divisor_override=0), fg.FerrogradError)
    assert_typed_error(lambda: F.max_pool2d(fg.zeros(1, 1, 4, 4, dtype=fg.int64), 2), fg.DTypeError)
    assert_typed_error(lambda: F.adaptive_avg_pool2d(x, 0), ValueError)
