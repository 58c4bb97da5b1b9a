"""Threads: ops and backward from several Python threads at once, and the kernel pool size."""

import threading

import numpy as np
import pytest

import ferrograd as fg


@pytest.fixture
def restore_threads():
    n = fg.get_num_threads()
    yield
    fg.set_num_threads(n)


def test_get_and_set_num_threads(restore_threads):
    n = fg.get_num_threads()
    assert n >= 1
    fg.set_num_threads(1)
    assert fg.get_num_threads() == 1
    a = np.random.default_rng(0).standard_normal((300, 300)).astype(np.float32)
    one = (fg.tensor(a) @ fg.tensor(a)).numpy()
    fg.set_num_threads(2)
    assert fg.get_num_threads() == 2
    two = (fg.tensor(a) @ fg.tensor(a)).numpy()
    np.testing.assert_allclose(one, two, rtol=1e-4, atol=1e-3)
    with pytest.raises(fg.FerrogradError):
        fg.set_num_threads(0)
    with pytest.raises((OverflowError, TypeError)):
        fg.set_num_threads(-1)


def run_threads(target, n=4):
    errors = []

    def wrapped(i):
        try:
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not errors, errors


def test_independent_training_in_threads():
    def work(i):
        rng = np.random.default_rng(i)
        x = fg.tensor(rng.standard_normal((256, 128)).astype(np.float32))
        w = fg.tensor(rng.standard_normal((128, 64)).astype(np.float32) * 0.1, requires_grad=True)
        for _ in range(10):
            loss = ((x @ w).tanh() ** 2).mean()
            loss.backward()
            want = (2 * x.numpy().T @ ((np.tanh(x.numpy() @ w.detach().numpy())) * (1 - np.tanh(x.numpy() @ w.detach().numpy()) ** 2)) / (256 * 64))
            np.testing.assert_allclose(w.grad.numpy(), want, rtol=1e-3, atol=1e-5)
            w.grad = None

    run_threads(work)


def test_shared_leaf_backward_from_threads():
    w = fg.randn(64, 64, requires_grad=True)
    x = fg.randn(128, 64)

    def work(i):
        for _ in range(5):
            (x @ w).sum().backward()

    run_threads(work, n=4)
    # Every backward added the same gradient: 20 of them.
    want = np.broadcast_to(x.numpy().sum(0)[:, None], (64, 64)) * 20
    np.testing.assert_allclose(w.grad.numpy(), want, rtol=1e-4, atol=1e-2)


def test_shared_graph_read_from_threads():
    x = fg.randn(200, 200, requires_grad=True)
    h = (x @ x).relu()

    results = [None] * 4

    def work(i):
        (g,) = fg.autograd.grad(h.sum(), [x], retain_graph=True)
        results[i] = g.numpy()

    run_threads(work)
    for r in results[1:]:
        np.testing.assert_allclose(r, results[0], rtol=1e-5, atol=1e-4)


def test_grad_mode_is_per_thread_during_ops():
    x = fg.ones(3, requires_grad=True)
    seen = {}

    def work(i):
        if i == 0:
            with fg.no_grad():
                for _ in range(200):
                    seen.setdefault(0, set()).add((x * 2).requires_grad)
        else:
            for _ in range(200):
                seen.setdefault(i, set()).add((x * 2).requires_grad)

    run_threads(work, n=3)
    assert seen[0] == {False}
    assert seen[1] == {True} and seen[2] == {True}


def test_num_threads_from_environment():
    import os
    import subprocess
    import sys

    env = dict(os.environ, FERROGRAD_NUM_THREADS="1")
    code = "import ferrograd as fg; print(fg.get_num_threads()); print((fg.ones(300, 300) @ fg.ones(300, 300)).sum().item())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out == ["1", str(300.0**3)]
