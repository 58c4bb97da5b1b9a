"""Parity with torch (skipped when torch is not installed): outputs and gradients of the
shape, join, indexing and in-place-on-view ops at float32 tolerances."""

import numpy as np
import pytest

import ferrograd as fg

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-5, 1e-6

CASES = [
    (lambda m, x: x.movedim(0, -1).flip(1), [(2, 3, 4)]),
    (lambda m, x: x.t().roll(1, 0).repeat(2, 1), [(3, 4)]),
    (lambda m, x: x.tile((2,)).tril(-1) + x.triu(1), [(3, 3)]),
    (lambda m, x: x.diagonal(1, 0, -1) * 2, [(3, 4)]),
    (lambda m, x: x.repeat_interleave(2, dim=-1), [(2, 3)]),
    (lambda m, x, y: m.cat([x, y.t()], dim=-1), [(2, 3), (4, 2)]),
    (lambda m, x, y: m.stack([x, y], dim=1), [(2, 3), (2, 3)]),
    (lambda m, x: x[[0, 2, 0], 1:], [(3, 4)]),
    (lambda m, x: x[:, [0, 1], [2, 2]], [(2, 3, 4)]),
    (lambda m, x: x[[0, 1], :, [1, 0]], [(2, 3, 4)]),
    (lambda m, x: x[0, :, [1, 2]], [(2, 3, 4)]),
    (lambda m, x: x[x > 0], [(3, 4)]),
    (lambda m, x: x.gather(1, m.tensor([[0, 0], [2, 1]])), [(2, 3)]),
    (lambda m, x, y: x.scatter_add(0, m.tensor([[1, 0, 1]]), y), [(2, 3), (1, 3)]),
    (lambda m, x, y: x.index_add(0, m.tensor([1, 1]), y), [(2, 3), (2, 3)]),
    (lambda m, x: x.index_select(1, m.tensor([2, 0, 2])), [(2, 3)]),
    (lambda m, x: m.nn.functional.pad(x, (1, 2), mode="reflect"), [(1, 2, 4)]),
    (lambda m, x: m.nn.functional.pad(x, (2, 1, 1, 0), mode="replicate"), [(1, 2, 3)]),
    (lambda m, x: m.nn.functional.pad(x, (1, -1), value=2.0), [(2, 3)]),
    (lambda m, x: _setitem(x * 1.0, (slice(None), [0, 2]), x[:, :2] * 3), [(3, 3)]),
    (lambda m, x: _inplace_view(x * 2.0), [(3, 3)]),
]


def _setitem(y, key, value):
    y[key] = value
    return y


def _inplace_view(y):
    y[1:].mul_(y[:2].detach() + 1)
    y.diagonal().add_(1.0)
    return y


@pytest.mark.parametrize("fn, shapes", CASES)
def test_matches_torch(fn, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    fx = [fg.tensor(a, requires_grad=True) for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    fo, to = fn(fg, *fx), fn(torch, *tx)
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=RTOL, atol=ATOL)
    w = rng.standard_normal(tuple(to.shape)).astype(np.float32)
    (fo * fg.tensor(w)).sum().backward()
    (to * torch.tensor(w)).sum().backward()
    for f, t in zip(fx, tx):
        np.testing.assert_allclose(f.grad.numpy(), t.grad.numpy(), rtol=RTOL, atol=ATOL)
