"""Grad modes as context managers: what ops record, threads, nesting, exceptions, in-place
updates, inference tensors, and backward without a graph.

Decorators, generators, coroutines and instance reuse are in test_grad_mode_decorators.py.
"""

import gc
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.autograd as autograd


def mode():
    return fg.is_grad_enabled(), fg.is_inference_mode_enabled()


def leaf(*values):
    return fg.tensor(list(values), requires_grad=True)


# ---------------------------------------------------------------- names and basics


@pytest.mark.parametrize(
    "name",
    ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled", "is_inference_mode_enabled"],
)
def test_names_are_the_same_objects_in_ferrograd_and_autograd(name):
    assert getattr(fg, name) is getattr(autograd, name)
    assert name in fg.__all__ and name in autograd.__all__


def test_default_mode():
    assert mode() == (True, False)


def test_with_binds_none():
    for ctx in (fg.no_grad(), fg.enable_grad(), fg.inference_mode(), fg.inference_mode(False)):
        with ctx as v:
            assert v is None
    with fg.set_grad_enabled(False) as v:
        assert v is None
    assert mode() == (True, False)


def test_bare_no_grad_call_changes_nothing():
    fg.no_grad()
    fg.enable_grad()
    fg.inference_mode()
    assert mode() == (True, False)


def test_async_with_raises_type_error():
    import asyncio

    async def main():
        async with fg.no_grad():
            pass

    with pytest.raises(TypeError):
        asyncio.run(main())
    assert mode() == (True, False)


def test_reprs():
    assert "no_grad" in repr(fg.no_grad())
    assert repr(fg.inference_mode(False)).endswith("inference_mode(mode=False)")
    s = fg.set_grad_enabled(True)
    assert repr(s).endswith("set_grad_enabled(mode=True)")
    assert s.mode is True


# ---------------------------------------------------------------- 1. per thread


def _in_thread(fn):
    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


@pytest.mark.parametrize("ctx", [fg.no_grad, fg.inference_mode, lambda: fg.set_grad_enabled(False)])
def test_new_thread_starts_with_grad_on_inference_off(ctx):
    with ctx():
        assert _in_thread(mode) == (True, False)
        # ...and ops there record.
        x = leaf(1.0)
        assert _in_thread(lambda: (x * 2).grad_fn is not None)


def test_change_in_a_thread_does_not_show_in_another():
    entered, checked = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with fg.inference_mode():
            entered.set()
            checked.wait(5)
            seen["worker"] = mode()
        seen["worker_after"] = mode()

    t = threading.Thread(target=worker)
    t.start()
    assert entered.wait(5)
    seen["main_while_worker_inside"] = mode()
    with fg.no_grad():
        checked.set()
        t.join()
        assert mode() == (False, False)
    assert seen == {
        "main_while_worker_inside": (True, False),
        "worker": (False, True),
        "worker_after": (True, False),
    }


def test_set_grad_enabled_function_form_is_per_thread():
    def worker():
        fg.set_grad_enabled(False)  # persists in this thread only
        return mode()

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(worker).result() == (False, False)
        assert mode() == (True, False)
        # The worker thread keeps its own setting.
        assert pool.submit(mode).result() == (False, False)
        pool.submit(fg.set_grad_enabled, True).result()


# ---------------------------------------------------------------- 2. what ops record under no_grad


def _ops(x, m):
    """Results of many kinds of op, views included."""
    return {
        "mul": x * 2,
        "add": x + m,
        "exp": x.exp(),
        "sum": x.sum(),
        "mean_dim": x.mean(dim=0),
        "matmul": x @ m.t(),
        "relu": x.relu(),
        "softmax": x.softmax(dim=1),
        "clone": x.clone(),
        "getitem": x[0],
        "slice": x[:, 1:],
        "view": x.view(6),
        "reshape": x.reshape(3, 2),
        "t": x.t(),
        "transpose": x.transpose(0, 1),
        "permute": x.permute(1, 0),
        "unsqueeze": x.unsqueeze(0),
        "squeeze": x.unsqueeze(0).squeeze(0),
        "expand": x[:1].expand(4, 3),
        "flatten": x.flatten(),
        "select": x.select(1, 0),
        "narrow": x.narrow(1, 0, 2),
        "max_values": x.max(dim=1).values,
        "func_exp": fg.exp(x),
        "detach": x.detach(),
        "float64": x.double(),
    }


@pytest.mark.parametrize("ctx", [fg.no_grad, fg.inference_mode, lambda: fg.set_grad_enabled(False)])
def test_no_op_result_records_inside(ctx):
    x = fg.randn(2, 3, requires_grad=True)
    m = fg.randn(2, 3, requires_grad=True)
    with ctx():
        results = _ops(x, m)
    for name, r in results.items():
        assert r.requires_grad is False, name
        assert r.grad_fn is None, name
        assert r.is_leaf, name
    # The inputs are unchanged.
    assert x.requires_grad and x.is_leaf and x.grad_fn is None
    # The same ops do record outside (the test would pass vacuously otherwise).
    recorded = _ops(x, m)
    assert all(r.grad_fn is not None for k, r in recorded.items() if k != "detach")


def test_no_grad_saves_nothing_for_backward():
    x = fg.randn(256, 256, requires_grad=True)
    nbytes = 256 * 256 * 4
    gc.collect()
    base = fg.memory.allocated()
    with fg.no_grad():
        y = (x * x).exp().tanh()
    # Only the result is alive: intermediates were freed and nothing was saved.
    assert fg.memory.allocated() - base == nbytes
    del y
    gc.collect()
    assert fg.memory.allocated() == base
    # While recording, the intermediates are held by the graph (the check above means something).
    y = (x * x).exp().tanh()
    assert fg.memory.allocated() - base > nbytes
    del y


def test_inplace_change_of_input_after_no_grad_op_breaks_nothing():
    x = leaf(1.0, 2.0, 3.0)
    with fg.no_grad():
        y = x * x
        x.add_(1.0)  # would trip a saved-tensor version check if x had been saved
    assert y.tolist() == [1.0, 4.0, 9.0]
    assert y.grad_fn is None
    # x still works as a leaf.
    (x * x).sum().backward()
    assert x.grad.tolist() == [4.0, 6.0, 8.0]


def test_mixing_no_grad_results_back_into_a_graph():
    x = leaf(1.0, 2.0)
    with fg.no_grad():
        c = x * 3  # a constant from now on
    (x * c).sum().backward()
    assert x.grad.tolist() == [3.0, 6.0]


@pytest.mark.parametrize(
    "factory",
    [
        lambda: fg.zeros(2, 3, requires_grad=True),
        lambda: fg.ones(3, requires_grad=True),
        lambda: fg.randn(2, requires_grad=True),
        lambda: fg.rand(2, requires_grad=True),
        lambda: fg.tensor([1.0, 2.0], requires_grad=True),
        lambda: fg.full((2,), 1.5, requires_grad=True),
        lambda: fg.Tensor([1.0, 2.0], requires_grad=True),
    ],
)
def test_factories_with_requires_grad_inside_no_grad_give_leaves(factory):
    with fg.no_grad():
        t = factory()
        assert t.requires_grad and t.is_leaf and t.grad_fn is None
    (t * 2).sum().backward()
    assert t.grad is not None


def test_requires_grad_toggles_inside_no_grad():
    with fg.no_grad():
        t = fg.ones(2)
        t.requires_grad_()
        assert t.requires_grad
        u = fg.ones(2)
        u.requires_grad = True
        assert u.requires_grad
        # A no-grad op result made into a leaf.
        r = (leaf(1.0, 2.0) * 2).requires_grad_()
    assert r.requires_grad and r.is_leaf and r.grad_fn is None
    (r * r).sum().backward()
    assert r.grad.tolist() == [4.0, 8.0]


def test_numpy_of_requires_grad_tensor_allowed_only_under_no_grad():
    x = leaf(1.0, 2.0)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    with fg.no_grad():
        np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])


# ---------------------------------------------------------------- 3. enable_grad, nesting, exceptions


def test_enable_grad_inside_no_grad_records_again():
    x = leaf(1.0, 2.0)
    with fg.no_grad():
        with fg.enable_grad():
            assert mode() == (True, False)
            y = (x * x).sum()
            assert y.requires_grad and y.grad_fn is not None
        assert mode() == (False, False)
        assert (x * 2).grad_fn is None
    y.backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_backward_of_a_graph_from_inside_no_grad():
    x = leaf(1.0, 2.0)
    y = (x * x).sum()
    with fg.no_grad():
        y.backward()
        assert mode() == (False, False)
    assert x.grad.tolist() == [2.0, 4.0]


def _nest(depth, ctxs, trail):
    if depth == 0:
        return
    ctx = ctxs[depth % len(ctxs)]
    before = mode()
    with ctx():
        trail.append(mode())
        _nest(depth - 1, ctxs, trail)
        trail.append(mode())
    assert mode() == before


def test_deep_mixed_nesting_restores_every_level():
    ctxs = [
        fg.no_grad,
        fg.enable_grad,
        fg.inference_mode,
        lambda: fg.set_grad_enabled(True),
        lambda: fg.inference_mode(False),
        lambda: fg.set_grad_enabled(False),
    ]
    trail = []
    _nest(60, ctxs, trail)
    assert mode() == (True, False)
    # Every level saw its own mode both before and after its inner levels ran.
    assert trail[:60] == trail[60:][::-1]
    assert {m for m in trail} >= {(True, False), (False, False), (False, True), (True, True)}


@pytest.mark.parametrize(
    "ctx, inside",
    [
        (fg.no_grad, (False, False)),
        (fg.enable_grad, (True, False)),
        (fg.inference_mode, (False, True)),
        (lambda: fg.set_grad_enabled(False), (False, False)),
    ],
)
def test_an_exception_restores_the_mode_and_propagates(ctx, inside):
    class Boom(Exception):
        pass

    with fg.no_grad():
        with pytest.raises(Boom):
            with ctx():
                assert mode() == inside
                raise Boom
        assert mode() == (False, False)
    with pytest.raises(Boom):
        with ctx():
            raise Boom
    assert mode() == (True, False)


def test_ferrograd_errors_inside_a_block_restore_the_mode():
    with pytest.raises(fg.ShapeError):
        with fg.inference_mode():
            fg.ones(2) + fg.ones(3)
    assert mode() == (True, False)
    with pytest.raises(IndexError):
        with fg.no_grad():
            fg.ones(2).sum(dim=5)
    assert mode() == (True, False)


def test_keyboard_interrupt_and_system_exit_restore_the_mode():
    for exc in (KeyboardInterrupt, SystemExit, GeneratorExit):
        with pytest.raises(exc):
            with fg.no_grad():
                raise exc()
        assert mode() == (True, False)


def test_inference_mode_inside_no_grad_and_back():
    with fg.no_grad():
        with fg.inference_mode():
            assert mode() == (False, True)
            with fg.no_grad():
                assert mode() == (False, True)
            assert mode() == (False, True)
            with fg.inference_mode(False):
                assert mode() == (True, False)
            assert mode() == (False, True)
        assert mode() == (False, False)
        # Better than PyTorch (its behaviour 60): leaving inference mode when it is not on
        # does not force grad on inside no_grad.
        with fg.inference_mode(False):
            assert mode() == (False, False)
        assert mode() == (False, False)
    assert mode() == (True, False)


def test_enable_grad_inside_inference_mode_sets_the_flag_but_records_nothing():
    x = leaf(1.0)
    with fg.inference_mode():
        with fg.enable_grad():
            assert mode() == (True, True)
            y = x * 2
            assert y.requires_grad is False and y.grad_fn is None
        with fg.set_grad_enabled(True):
            assert (x * 2).grad_fn is None
    assert mode() == (True, False)


# ---------------------------------------------------------------- 5. in-place updates of leaves


@pytest.mark.parametrize(
    "update",
    [
        lambda p: p.sub_(0.5),
        lambda p: p.add_(fg.ones(3), alpha=-0.5),
        lambda p: p.mul_(2.0),
        lambda p: p.div_(2.0),
        lambda p: p.zero_(),
        lambda p: p.fill_(3.0),
        lambda p: p.copy_(fg.zeros(3)),
        lambda p: p.__isub__(0.5),
        lambda p: p.__setitem__(0, 7.0),
        lambda p: p.__setitem__(slice(1, None), fg.zeros(2)),
    ],
)
def test_inplace_on_leaf_allowed_under_no_grad_and_refused_outside(update):
    p = leaf(1.0, 2.0, 3.0)
    with pytest.raises(fg.AutogradError, match="leaf Variable that requires grad") as info:
        update(p)
    assert isinstance(info.value, RuntimeError)
    assert "no_grad" in str(info.value)  # the message says how to fix it
    assert p.tolist() == [1.0, 2.0, 3.0] and p._version == 0
    with fg.no_grad():
        update(p)
    assert p._version >= 1
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    (p * p).sum().backward()
    assert p.grad is not None


def test_manual_sgd_step():
    w = leaf(1.0, -2.0)
    for _ in range(3):
        loss = (w * w).sum()
        loss.backward()
        v = w._version
        with fg.no_grad():
            w -= 0.25 * w.grad
        assert w._version == v + 1
        w.grad = None
    assert w.tolist() == [0.125, -0.25]


def test_inplace_under_no_grad_on_a_saved_tensor_trips_the_version_check():
    x = leaf(1.0, 2.0)
    y = x * 1.0
    z = y * y  # saves y
    with fg.no_grad():
        y.mul_(2.0)
    with pytest.raises(fg.AutogradError, match="modified by an inplace operation"):
        z.sum().backward()


# ---------------------------------------------------------------- 6. inference mode and its tensors


def test_inference_mode_results_are_inference_tensors():
    x = leaf(1.0, 2.0)
    n = fg.ones(2)
    with fg.inference_mode():
        assert mode() == (False, True)
        y = x * 2
        f = fg.ones(2, requires_grad=True)
        v = n[:1]
    assert y.is_inference() and not y.requires_grad and y.grad_fn is None
    assert f.is_inference() and f.requires_grad and f.is_leaf
    assert not x.is_inference() and not n.is_inference()
    # Views of normal tensors stay normal.
    assert not v.is_inference()


def test_inference_tensor_cannot_be_saved_for_backward_outside():
    x = leaf(1.0, 2.0)
    with fg.inference_mode():
        t = fg.tensor([3.0, 4.0])
    with pytest.raises(RuntimeError, match="cannot be saved for backward") as info:
        x * t
    msg = str(info.value)
    assert "clone" in msg and "no_grad" in msg
    # An op that saves nothing from it is fine, and clone() is the documented fix.
    (x + t).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    c = t.clone()
    assert not c.is_inference()
    (x * c).sum().backward()
    assert x.grad.tolist() == [4.0, 5.0]


def test_inference_tensor_inplace_outside_raises_inside_is_fine():
    with fg.inference_mode():
        t = fg.ones(3)
        t.add_(1.0)
        t[0] = 5.0
    assert t.tolist() == [5.0, 2.0, 2.0]
    for update in (lambda: t.add_(1.0), lambda: t.zero_(), lambda: t.__setitem__(0, 1.0)):
        with pytest.raises(RuntimeError, match="inference") as info:
            update()
        assert "clone" in str(info.value)
    # under no_grad too: no_grad is not inference mode
    with fg.no_grad():
        with pytest.raises(RuntimeError, match="inference"):
            t.mul_(2.0)
    assert t.tolist() == [5.0, 2.0, 2.0]


def test_requires_grad_on_inference_tensor_outside_raises():
    with fg.inference_mode():
        t = fg.ones(2)
        u = fg.ones(2)
        u.requires_grad_()  # allowed inside
    assert u.requires_grad
    with pytest.raises(RuntimeError, match="inference") as info:
        t.requires_grad_()
    assert "clone" in str(info.value)
    assert not t.requires_grad
    with pytest.raises(RuntimeError, match="inference"):
        t.requires_grad = True


def test_inference_tensor_version_is_not_tracked():
    with fg.inference_mode():
        t = fg.ones(2)
        with pytest.raises(RuntimeError, match="version"):
            t._version
    with pytest.raises(RuntimeError, match="version"):
        t._version


def test_inplace_on_normal_tensor_inside_inference_mode_moves_its_version():
    x = fg.ones(2)
    with fg.inference_mode():
        x.add_(1.0)
    assert x._version == 1 and not x.is_inference()


def test_functional_ops_on_inference_tensors_outside_give_normal_tensors():
    with fg.inference_mode():
        t = fg.ones(2)
    y = t * 2
    assert not y.is_inference() and not y.requires_grad


# ---------------------------------------------------------------- 10. backward without a graph


@pytest.mark.parametrize("ctx", [fg.no_grad, fg.inference_mode, lambda: fg.set_grad_enabled(False)])
def test_backward_on_a_result_made_while_recording_was_off_explains(ctx):
    x = leaf(1.0, 2.0)
    with ctx():
        y = (x * x).sum()
    for call in (y.backward, lambda: autograd.grad(y, x), lambda: autograd.backward([y])):
        with pytest.raises(RuntimeError) as info:
            call()
        msg = str(info.value)
        assert "no_grad" in msg and "inference_mode" in msg, msg
    assert x.grad is None
    # Also when the no-grad value flows on into ops run with grad on (the typical validation
    # bug: features computed under no_grad, loss computed outside).
    loss = (y * 2 + 1).sum()
    with pytest.raises(RuntimeError, match="no_grad"):
        loss.backward()


def test_backward_on_a_tensor_that_never_required_grad_says_so():
    y = (fg.ones(2) * 2).sum()
    with pytest.raises(fg.AutogradError, match="does not require grad"):
        y.backward()


# ---------------------------------------------------------------- 11. backward inside inference_mode


def test_backward_inside_inference_mode_gives_normal_grads_that_accumulate():
    x = leaf(1.0, 2.0)
    y1 = (x * x).sum()
    y2 = (x * 3).sum()
    with fg.inference_mode():
        y1.backward()
        assert mode() == (False, True)
    assert not x.grad.is_inference()
    assert x.grad._version >= 0  # readable: not an inference tensor
    y2.backward()
    assert x.grad.tolist() == [5.0, 7.0]
    with fg.inference_mode():
        # A graph built under inference_mode(False) inside, differentiated inside.
        with fg.inference_mode(False):
            y3 = (x * x).sum()
        (g,) = autograd.grad(y3, x)
    assert not g.is_inference() and g.tolist() == [2.0, 4.0]


# ---------------------------------------------------------------- 12. inherit_grad_mode


def _report():
    return mode(), (leaf(1.0) * 2).grad_fn is not None


@pytest.mark.parametrize(
    "ctx, expected",
    [
        (fg.no_grad, ((False, False), False)),
        (fg.inference_mode, ((False, True), False)),
        (fg.enable_grad, ((True, False), True)),
    ],
)
def test_inherit_grad_mode_in_a_thread_pool(ctx, expected):
    with ctx():
        task = autograd.inherit_grad_mode(_report)
    assert task.__name__ == "_report" and task.__wrapped__ is _report
    with ThreadPoolExecutor(2) as pool:
        results = [f.result() for f in [pool.submit(task) for _ in range(8)]]
        assert results == [expected] * 8
        # Each worker's own mode is back afterwards.
        assert [f.result() for f in [pool.submit(mode) for _ in range(4)]] == [(True, False)] * 4
        # Plain submissions do not inherit (thread-local modes, as documented).
        with fg.no_grad():
            assert pool.submit(mode).result() == (True, False)
    # On the calling thread too.
    with fg.inference_mode():
        assert task() == expected
        assert mode() == (False, True)


def test_inherit_grad_mode_restores_on_exception_and_nests():
    with fg.no_grad():
        failing = autograd.inherit_grad_mode(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failing()
    assert mode() == (True, False)

    with fg.inference_mode():
        inner = autograd.inherit_grad_mode(mode)
    with fg.no_grad():
        outer = autograd.inherit_grad_mode(lambda: (mode(), inner(), mode()))
    assert outer() == ((False, False), (False, True), (False, False))
    assert mode() == (True, False)


def test_inherit_grad_mode_rejects_non_functions():
    with pytest.raises(TypeError):
        autograd.inherit_grad_mode(42)
    with pytest.raises(TypeError):
        autograd.inherit_grad_mode(int)


def test_switch_interval_stress_threads_keep_their_modes():
    # Many threads flipping modes with frequent GIL switches: each sees only its own changes.
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    errors = []
    shared = fg.no_grad()  # one instance shared by every thread

    def worker(i):
        try:
            for _ in range(200):
                ctx = shared if i % 2 else fg.inference_mode()
                expected = (False, False) if i % 2 else (False, True)
                with ctx:
                    if mode() != expected:
                        errors.append((i, mode()))
                if mode() != (True, False):
                    errors.append((i, "after", mode()))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    try:
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert errors == []
