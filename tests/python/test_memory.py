"""Tensor memory accounting (ferrograd.memory) and what recording a graph costs in memory."""

import gc

import pytest

import ferrograd as fg

WIDTH, BATCH, LAYERS = 512, 256, 6


def make_mlp():
    fg.manual_seed(0)
    layers = []
    for _ in range(LAYERS):
        w = (fg.randn(WIDTH, WIDTH) * (1.0 / WIDTH**0.5)).requires_grad_()
        b = fg.zeros(WIDTH, requires_grad=True)
        layers.append((w, b))
    return layers


def forward(layers, x):
    h = x
    for i, (w, b) in enumerate(layers):
        h = h @ w + b
        if i < len(layers) - 1:
            h = h.relu()
    return h


def test_allocated_counts_bytes_and_views_are_free():
    gc.collect()
    base = fg.memory.allocated()
    t = fg.zeros(1000)
    assert fg.memory.allocated() - base == 4000
    d = fg.zeros(10, dtype=fg.float64)
    assert fg.memory.allocated() - base == 4080
    v = t.view(10, 100).T[3:]
    assert fg.memory.allocated() - base == 4080
    del t
    assert fg.memory.allocated() - base == 4080  # the view keeps the buffer
    del v, d
    assert fg.memory.allocated() == base


def test_peak_and_reset_peak():
    gc.collect()
    base = fg.memory.allocated()
    fg.memory.reset_peak()
    assert fg.memory.peak_allocated() == base
    t = fg.ones(1 << 16)
    del t
    assert fg.memory.peak_allocated() == base + (1 << 18)
    fg.memory.reset_peak()
    assert fg.memory.peak_allocated() == base


def test_recording_holds_activations_and_no_grad_does_not():
    layers = make_mlp()
    x = fg.randn(BATCH, WIDTH)
    gc.collect()
    base = fg.memory.allocated()
    activation = BATCH * WIDTH * 4

    fg.memory.reset_peak()
    with fg.no_grad():
        out = forward(layers, x)
    held_no_grad = fg.memory.allocated() - base
    peak_no_grad = fg.memory.peak_allocated() - base
    assert held_no_grad == activation  # only the output survives
    del out
    assert fg.memory.allocated() == base

    fg.memory.reset_peak()
    out = forward(layers, x)
    held_grad = fg.memory.allocated() - base
    peak_grad = fg.memory.peak_allocated() - base
    assert out.grad_fn is not None
    assert held_grad >= 4 * held_no_grad, (held_grad, held_no_grad)
    assert peak_grad >= 2 * peak_no_grad, (peak_grad, peak_no_grad)
    del out
    assert fg.memory.allocated() == base

    # After a backward the saved activations are gone too; only the weights' grads remain.
    loss = forward(layers, x).sum()
    loss.backward()
    del loss
    grads = sum(w.grad.numel() + b.grad.numel() for w, b in layers) * 4
    assert fg.memory.allocated() - base == grads
    for w, b in layers:
        w.grad = None
        b.grad = None
    assert fg.memory.allocated() == base


@pytest.mark.parametrize("steps", [5])
def test_training_loop_returns_to_baseline(steps):
    layers = make_mlp()[:2]
    x = fg.randn(32, WIDTH)
    target = fg.randint(0, WIDTH, (32,))
    gc.collect()
    base = fg.memory.allocated()
    for _ in range(steps):
        loss = fg.nn.functional.cross_entropy(forward(layers, x), target)
        loss.backward()
        with fg.no_grad():
            for w, b in layers:
                w -= 0.01 * w.grad
                b -= 0.01 * b.grad
                w.grad = None
                b.grad = None
        del loss
        assert fg.memory.allocated() == base
