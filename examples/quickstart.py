"""ferrograd quickstart: a small MLP built from raw tensors.

Runs one forward pass with gradient recording and one under no_grad, and prints how long each
took and how much tensor memory each held (ferrograd.memory counts live storage bytes). Then
trains the MLP for a few steps on a toy problem to show backward and an SGD update.
"""

import time

import ferrograd as fg

BATCH, IN, HIDDEN, CLASSES, LAYERS = 256, 64, 256, 10, 4


def make_mlp():
    fg.manual_seed(0)
    sizes = [IN] + [HIDDEN] * (LAYERS - 1) + [CLASSES]
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = (fg.randn(fan_in, fan_out) * (2.0 / fan_in) ** 0.5).requires_grad_()
        b = fg.zeros(fan_out, requires_grad=True)
        params.append((w, b))
    return params


def forward(params, x):
    h = x
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = h.relu()
    return h


def measure(label, params, x, no_grad):
    base = fg.memory.allocated()
    fg.memory.reset_peak()
    start = time.perf_counter()
    if no_grad:
        with fg.no_grad():
            out = forward(params, x)
    else:
        out = forward(params, x)
    elapsed = time.perf_counter() - start
    held = fg.memory.allocated() - base
    peak = fg.memory.peak_allocated() - base
    print(
        f"{label:<22} {elapsed * 1e3:7.2f} ms   held {held / 2**20:6.2f} MiB   "
        f"peak {peak / 2**20:6.2f} MiB   grad_fn={out.grad_fn.name() if out.grad_fn else None}"
    )
    del out
    return held


def main():
    params = make_mlp()
    x = fg.randn(BATCH, IN)
    print(f"ferrograd {fg.__version__}: MLP {IN}-{'-'.join([str(HIDDEN)] * (LAYERS - 1))}-{CLASSES}, batch {BATCH}")
    print(f"threads: {fg.get_num_threads()}")
    measure("forward (recording)", params, x, no_grad=False)
    measure("forward (no_grad)", params, x, no_grad=True)

    # A toy problem: the class is the index of the largest of the first CLASSES features.
    target = x[:, :CLASSES].argmax(dim=1)
    lr = 0.05
    for step in range(20):
        loss = fg.nn.functional.cross_entropy(forward(params, x), target)
        loss.backward()
        with fg.no_grad():
            for w, b in params:
                w -= lr * w.grad
                b -= lr * b.grad
                w.grad = None
                b.grad = None
        if step % 5 == 0 or step == 19:
            print(f"step {step:2d}  loss {loss.item():.4f}")
    with fg.no_grad():
        accuracy = (forward(params, x).argmax(dim=1) == target).float().mean().item()
    print(f"training accuracy {accuracy:.2%}")


if __name__ == "__main__":
    main()
