"""In-place ops on views of tensors in a graph (PyTorch's CopySlices semantics), in-place
index/scatter ops, and the version counter that catches modified saved tensors."""

import numpy as np
import pytest

import ferrograd as fg
from _shape_helpers import assert_typed_error, gradcheck


def npy(t):
    return t.detach().numpy()


def test_inplace_on_view_of_nonleaf_rebases_base_history():
    x = fg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 2
    v = y[1:3]
    v.mul_(x[:2])  # y[1:3] *= x[:2]
    assert y.grad_fn.name() == "CopySlices"
    assert v.grad_fn is not None
    np.testing.assert_allclose(npy(y), [2, 4 * 1, 6 * 2, 8])
    y.sum().backward()
    # d/dx0: 2 (y0) + 4 (y1 = 2 x1 * x0); d/dx1: 2 x0 (y1) + 6 (y2 = 2 x2 * x1) ...
    np.testing.assert_allclose(npy(x.grad), [2 + 4, 2 * 1 + 6, 2 * 2, 2])


def test_view_history_becomes_a_view_of_the_new_base():
    x = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2.0
    v = y[:2]
    v.add_(1.0)
    (v * fg.tensor([1.0, 10.0])).sum().backward()
    np.testing.assert_allclose(npy(x.grad), [2.0, 20.0, 0.0])


def test_other_views_see_the_rebased_history():
    x = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1.0
    w = y[1:]  # made before the in-place op through another view
    y[:2].mul_(5.0)
    np.testing.assert_allclose(npy(w), [10.0, 3.0])
    w.sum().backward()
    np.testing.assert_allclose(npy(x.grad), [0.0, 5.0, 1.0])


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, s: _apply(x * 1.0, lambda y: y[1:, ::2].mul_(s[:2, :2])),
        lambda x, s: _apply(x.t() * 1.0, lambda y: y.diagonal().copy_(s[0])),
        lambda x, s: _apply(x * 3.0, lambda y: y[0].add_(s[1])),
        lambda x, s: _apply(x * 1.0, lambda y: y.__setitem__((slice(None), [0, 2]), s[:, :2].exp())),
        lambda x, s: _apply(x * 1.0, lambda y: y.__setitem__(y.detach() > 0, 0.0)) * s,
        lambda x, s: _apply(x * 1.0, lambda y: y[:, 1].__setitem__(0, s[0, 0] * 3)),
        lambda x, s: _apply(x * 2.0, lambda y: y.index_add_(1, fg.tensor([2, 2]), s[:, :2])),
        lambda x, s: _apply(x * 2.0, lambda y: y.scatter_(0, fg.tensor([[2, 0, 1]]), s[:1])),
        lambda x, s: _apply(x * 1.5, lambda y: y[1:].scatter_add_(1, fg.tensor([[0, 0]]), s[:1, :2])),
        lambda x, s: _apply(x * 1.0, lambda y: y[2].fill_(7.0)) * s,
        lambda x, s: _apply(fg.zeros(3, 3, dtype=fg.float64), lambda y: y[1:].copy_(x[:2] * s[:2])),
        lambda x, s: _apply(x * 1.0, lambda y: y.sub_(s[0])),  # broadcast operand
        lambda x, s: _apply(x.t() * 2.0, lambda y: y[:, ::2].div_(s[:, ::2] * s[:, ::2] + 1.0)),
        lambda x, s: _apply(x * 1.0, lambda y: y[1].zero_()) * s,
        lambda x, s: _iadd(x * 1.0, s.t()),
        lambda x, s: _imul_isub_idiv(x * 1.0, s),
    ],
)
def test_gradcheck_inplace(fn):
    rng = np.random.default_rng(0)
    assert gradcheck(fn, rng.standard_normal((3, 3)), rng.standard_normal((3, 3)))


def _apply(y, op):
    op(y)
    return y


def _iadd(y, s):
    before = y
    y += s
    assert y is before  # the augmented operator keeps the object
    return y


def _imul_isub_idiv(y, s):
    y *= s
    y -= s[-1]
    y /= s * s + 1.0
    y **= 2
    return y


def test_view_of_leaf_requiring_grad_still_raises():
    x = fg.ones(3, requires_grad=True)
    e = assert_typed_error(lambda: x[0].mul_(2.0), fg.AutogradError)
    assert "view of a leaf" in str(e)
    assert_typed_error(lambda: x.__setitem__(0, 5.0), fg.AutogradError)
    assert_typed_error(lambda: x.__setitem__([0, 1], 5.0), fg.AutogradError)
    assert_typed_error(lambda: x.index_add_(0, fg.tensor([0]), fg.ones(1)), fg.AutogradError)
    with fg.no_grad():
        x[0] = 5.0
        x[[1]] = 6.0
    np.testing.assert_array_equal(npy(x), [5.0, 6.0, 1.0])


def test_inplace_on_view_catches_saved_output():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # saves its output
    y[:1].mul_(2.0)
    assert_typed_error(lambda: y.sum().backward(), fg.AutogradError)


def test_inplace_on_view_moves_version_and_catches_saved_tensor():
    x = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1.0
    w = y * y  # saves y
    before = y._version
    y[0] = 10.0
    assert y._version > before
    assert_typed_error(lambda: w.sum().backward(), fg.AutogradError)


def test_setitem_into_buffer_makes_it_require_grad():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    buf = fg.zeros(2, 2)
    buf[0] = x * 3
    assert buf.requires_grad and not buf.is_leaf
    buf.sum().backward()
    np.testing.assert_allclose(npy(x.grad), [3.0, 3.0])


def test_overlapping_write_is_refused():
    t = fg.zeros(1, 3).expand(2, 3)
    assert_typed_error(lambda: t.add_(1.0), fg.FerrogradError)
    assert_typed_error(lambda: t.fill_(1.0), fg.FerrogradError)


def test_inplace_index_ops_without_grad():
    t = fg.zeros(2, 3)
    t.scatter_(1, fg.tensor([[2], [0]]), fg.tensor([[5.0], [6.0]]))
    t.scatter_(1, fg.tensor([[1]]), value=2.0)
    t.scatter_add_(0, fg.tensor([[1, 1, 1]]), fg.ones(1, 3))
    np.testing.assert_array_equal(npy(t), [[0, 2, 5], [7, 1, 1]])
