"""Autograd from Python: recording rules, backward, autograd.grad, retain_graph, the version
error, retain_grad, .grad handling, deep chains and freedom from reference cycles."""

import gc
import weakref

import numpy as np
import pytest

import ferrograd as fg


def test_simple_backward():
    x = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x + 3 * x).sum()
    y.backward()
    assert x.grad.tolist() == [5.0, 7.0, 9.0]
    assert x.grad.dtype == fg.float32


def test_graph_recorded_only_when_needed():
    a = fg.tensor([1.0])
    b = fg.tensor([2.0], requires_grad=True)
    assert (a * 2).grad_fn is None and not (a * 2).requires_grad
    assert (a * b).grad_fn is not None and (a * b).requires_grad
    with fg.no_grad():
        c = a * b
    assert c.grad_fn is None and not c.requires_grad and c.is_leaf


def test_requires_grad_flags():
    x = fg.zeros(2)
    assert not x.requires_grad and x.is_leaf
    assert x.requires_grad_() is x
    assert x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    x.requires_grad = True
    assert x.requires_grad
    y = x * 2
    assert not y.is_leaf
    with pytest.raises(fg.AutogradError):
        y.requires_grad_(False)
    with pytest.raises(fg.DTypeError):
        fg.tensor([1, 2]).requires_grad_()
    with pytest.raises(fg.DTypeError):
        fg.tensor([1, 2], requires_grad=True)


def test_detach_shares_data_but_not_history():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad and d.is_leaf
    with fg.no_grad():
        d[0] = 10.0
    assert y[0].item() == 10.0


def test_backward_with_gradient_and_non_scalar_error():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    with pytest.raises(RuntimeError, match="scalar"):
        y.backward()
    y.backward(fg.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [3.0, 30.0]
    with pytest.raises(fg.ShapeError):
        (x * 3).backward(fg.tensor([1.0, 2.0, 3.0]))
    # A gradient of another float dtype is converted.
    x.grad = None
    (x * 3).backward(gradient=fg.tensor([1.0, 1.0], dtype=fg.float64))
    assert x.grad.dtype == fg.float32 and x.grad.tolist() == [3.0, 3.0]


def test_backward_on_tensor_without_graph_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        fg.tensor(1.0).backward()
    x = fg.tensor(1.0, requires_grad=True)
    with fg.no_grad():
        y = x * 2
    with pytest.raises(fg.AutogradError, match="no_grad"):
        y.backward()


def test_gradients_accumulate_and_grad_can_be_cleared():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]
    x.grad = None
    assert x.grad is None
    (x * 4).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]
    x.grad = fg.tensor([1.0, 1.0])
    (x * 1).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    with pytest.raises(fg.ShapeError):
        x.grad = fg.zeros(3)
    with pytest.raises(TypeError):
        x.grad = [1.0, 2.0]


def test_grad_tensors_have_no_history():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.grad_fn is None
    assert not x.grad.requires_grad
    # Backward rules ran with recording off, so using the grad records nothing.
    assert (x.grad * 2).grad_fn is None


def test_retain_graph_and_second_backward_error():
    x = fg.tensor([2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [8.0]
    with pytest.raises(fg.AutogradError, match="second time"):
        y.backward()


def test_autograd_grad_leaves_dot_grad_alone():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    w = fg.tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    gx, gw = fg.autograd.grad(y, (x, w), retain_graph=True)
    assert gx.tolist() == [3.0, 4.0] and gw.tolist() == [1.0, 2.0]
    assert x.grad is None and w.grad is None
    (gx2,) = fg.autograd.grad([y], [x])
    assert gx2.tolist() == [3.0, 4.0]
    with pytest.raises(fg.AutogradError, match="second time"):
        fg.autograd.grad(y, x)


def test_autograd_grad_outputs_and_intermediates():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = h * h
    (gh,) = fg.autograd.grad(y, h, grad_outputs=fg.tensor([1.0, 0.5]), retain_graph=True)
    assert gh.tolist() == [4.0, 4.0]
    (gx,) = fg.autograd.grad(y, [x], grad_outputs=[fg.tensor([1.0, 1.0])])
    assert gx.tolist() == [8.0, 16.0]
    assert h.grad is None


def test_autograd_grad_unused_input():
    x = fg.tensor([1.0], requires_grad=True)
    z = fg.tensor([1.0], requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(fg.AutogradError, match="allow_unused"):
        fg.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = fg.autograd.grad(y, [x, z], allow_unused=True)
    assert gx.tolist() == [2.0] and gz is None


def test_version_error_names_op_and_versions():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = (h * h).sum()
    h += 1  # recording in-place on a non-leaf: allowed, but h was saved by MulBackward
    with pytest.raises(RuntimeError) as info:
        y.backward()
    msg = str(info.value)
    assert isinstance(info.value, fg.AutogradError)
    assert "modified by an inplace operation" in msg
    assert "MulBackward" in msg
    assert "version 1" in msg and "expected version 0" in msg


def test_version_error_through_a_view():
    x = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x.exp()
    y = h.sum()  # exp saved its output
    with fg.no_grad():
        h[1:].mul_(2)
    with pytest.raises(fg.AutogradError, match="ExpBackward"):
        y.backward()


def test_inplace_on_non_leaf_is_differentiated():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h *= x  # h = 2x * x
    h += 1
    h.sum().backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_retain_grad():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    assert not h.retains_grad
    h.retain_grad()
    assert h.retains_grad
    (h * h).sum().backward()
    assert h.grad.tolist() == [6.0, 12.0]
    assert x.grad.tolist() == [18.0, 36.0]
    # Without retain_grad a non-leaf keeps no grad.
    g = x * 2
    (g * 1).sum().backward()
    assert g.grad is None
    with pytest.raises(fg.AutogradError):
        fg.tensor([1.0]).retain_grad()


def test_backward_through_views_and_indexing():
    x = fg.tensor(np.arange(12, dtype=np.float32).reshape(3, 4), requires_grad=True)
    y = (x[1:, ::2] * 2).sum() + x.T[0].sum() + x.reshape(-1)[5] + x[..., None][0, 0, 0]
    y.backward()
    want = np.zeros((3, 4), dtype=np.float32)
    want[1:, ::2] += 2
    want[:, 0] += 1
    want[1, 1] += 1
    want[0, 0] += 1
    np.testing.assert_array_equal(x.grad.numpy(), want)


def test_backward_through_broadcasting():
    a = fg.tensor([[1.0], [2.0]], requires_grad=True)
    b = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.tolist() == [[6.0], [6.0]]
    assert b.grad.tolist() == [3.0, 3.0, 3.0]


def test_max_min_dim_gradients_and_cross_entropy():
    x = fg.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
    v, i = x.max(dim=1)
    v.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    assert i.grad_fn is None and i.dtype == fg.int64
    logits = fg.tensor([[2.0, 1.0], [0.0, 3.0]], requires_grad=True)
    loss = fg.nn.functional.cross_entropy(logits, fg.tensor([0, 1]))
    assert loss.grad_fn is not None
    loss.backward()
    np.testing.assert_allclose(logits.grad.numpy().sum(1), [0.0, 0.0], atol=1e-7)


def test_float64_gradients_stay_float64():
    x = fg.tensor([1.0, 2.0], dtype=fg.float64, requires_grad=True)
    (x * fg.tensor([1.0, 1.0])).sum().backward()
    assert x.grad.dtype == fg.float64


def test_long_chain_from_python():
    # Recursion-free engine and iterative graph teardown: far deeper than CPython's recursion
    # limit. (The 1,000,000-op chain runs in tests/engine.rs and tests/memory.rs, where it
    # takes seconds rather than the ~25 s the Python loop needs on a loaded machine.)
    n = 100_000
    x = fg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]
    w = weakref.ref(y)
    del y
    assert w() is None


def _forward_backward(w, keep):
    x = fg.randn(4, 8)
    h = x @ w
    a = h.tanh()
    loss = (a * a).mean()
    keep.extend(weakref.ref(t) for t in (x, h, a, loss))
    loss.backward()


def test_no_reference_cycles_forward_backward_drop():
    gc.collect()
    gc.disable()  # everything must be freed by reference counting alone
    try:
        w = fg.randn(8, 8, requires_grad=True)
        base = fg.memory.allocated()
        refs = []
        for _ in range(50):
            _forward_backward(w, refs)
        assert all(r() is None for r in refs)
        w.grad = None
        assert fg.memory.allocated() == base
    finally:
        gc.enable()


def test_no_reference_cycles_without_backward():
    gc.collect()
    gc.disable()
    try:
        w = fg.randn(8, 8, requires_grad=True)
        base = fg.memory.allocated()
        refs = []
        for _ in range(20):
            h = (fg.randn(3, 8) @ w).relu()
            out = h.sum()
            refs += [weakref.ref(h), weakref.ref(out)]
            del h, out
        assert all(r() is None for r in refs)
        assert fg.memory.allocated() == base
    finally:
        gc.enable()


def test_retained_grad_tensor_does_not_leak():
    gc.disable()
    try:
        x = fg.randn(3, requires_grad=True)
        h = x * 2
        h.retain_grad()
        (h * h).sum().backward()
        wh = weakref.ref(h)
        del h
        assert wh() is None
    finally:
        gc.enable()


def test_grad_fn_next_functions():
    x = fg.tensor([1.0], requires_grad=True)
    c = fg.tensor([2.0])
    y = x * c
    (left, _), (right, _) = y.grad_fn.next_functions
    assert left.name() == "AccumulateGrad"
    assert right is None
