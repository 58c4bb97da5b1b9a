"""Values and gradients against PyTorch on the same inputs (skipped when torch is absent)."""

import numpy as np
import pytest

import ferrograd as fg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def arr(*shape, positive=False):
    a = RNG.standard_normal(shape).astype(np.float64)
    return np.abs(a) + 0.5 if positive else a


def compare(fn, *arrays, int_args=()):
    """Runs fn on ferrograd and torch tensors built from the same float64 arrays; compares the
    output and the gradient of sum(out * weights) with respect to every input."""
    fx = [fg.tensor(a, requires_grad=True) for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    fo = fn(fg, *fx, *[fg.tensor(i) for i in int_args])
    to = fn(torch, *tx, *[torch.tensor(i) for i in int_args])
    np.testing.assert_allclose(fo.detach().numpy(), to.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = RNG.standard_normal(to.shape)
    (fo * fg.tensor(w)).sum().backward()
    (to * torch.tensor(w)).sum().backward()
    for f, t in zip(fx, tx):
        if t.grad is None:
            assert f.grad is None
        else:
            np.testing.assert_allclose(f.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


CASES = {
    "add_broadcast": (lambda m, a, b: a + b, [arr(2, 3), arr(3)]),
    "sub_rscalar": (lambda m, a: 2.5 - a, [arr(4)]),
    "mul_broadcast": (lambda m, a, b: a * b, [arr(2, 1), arr(1, 3)]),
    "div": (lambda m, a, b: a / b, [arr(2, 3), arr(2, 3, positive=True)]),
    "rdiv": (lambda m, a: 3 / a, [arr(5, positive=True)]),
    "pow_scalar": (lambda m, a: a**3, [arr(4)]),
    "pow_tensor": (lambda m, a, b: a**b, [arr(3, positive=True), arr(3)]),
    "rpow": (lambda m, a: 2**a, [arr(3)]),
    "neg": (lambda m, a: -a, [arr(3)]),
    "exp": (lambda m, a: a.exp(), [arr(3, 2)]),
    "log": (lambda m, a: a.log(), [arr(3, positive=True)]),
    "sqrt": (lambda m, a: a.sqrt(), [arr(3, positive=True)]),
    "tanh": (lambda m, a: a.tanh(), [arr(4)]),
    "sigmoid": (lambda m, a: a.sigmoid(), [arr(4)]),
    "relu": (lambda m, a: a.relu(), [arr(6)]),
    "sum_dims": (lambda m, a: a.sum(dim=(0, -1), keepdim=True), [arr(2, 3, 4)]),
    "mean_dim": (lambda m, a: a.mean(-2), [arr(2, 3, 4)]),
    "max_dim": (lambda m, a: a.max(dim=1).values, [arr(3, 5)]),
    "min_dim": (lambda m, a: a.min(dim=0, keepdim=True)[0], [arr(3, 5)]),
    "matmul_2d": (lambda m, a, b: a @ b, [arr(3, 4), arr(4, 2)]),
    "matmul_vec": (lambda m, a, b: a @ b, [arr(4), arr(4, 2)]),
    "matmul_batched": (lambda m, a, b: a @ b, [arr(2, 1, 3, 4), arr(3, 4, 2)]),
    "reshape_transpose": (lambda m, a: a.reshape(4, 3).transpose(0, 1) * 2, [arr(2, 6)]),
    "permute": (lambda m, a: a.permute(2, 0, 1), [arr(2, 3, 4)]),
    "unsqueeze_squeeze": (lambda m, a: a.unsqueeze(1).squeeze(), [arr(3, 1, 2)]),
    "indexing": (lambda m, a: a[1:, None, ::2][..., 0], [arr(4, 5)]),
    "softmax": (lambda m, a: a.softmax(dim=-1), [arr(3, 4)]),
    "log_softmax": (lambda m, a: a.log_softmax(0), [arr(3, 4)]),
    "mlp": (lambda m, x, w, b: (x @ w + b).tanh().sum(1), [arr(4, 3), arr(3, 5), arr(5)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_parity(name):
    fn, arrays = CASES[name]
    compare(fn, *arrays)


def test_cross_entropy_parity():
    logits = arr(5, 4)
    target = np.array([0, 3, 1, 1, 2])
    fl = fg.tensor(logits, requires_grad=True)
    tl = torch.tensor(logits, requires_grad=True)
    fo = fg.nn.functional.cross_entropy(fl, fg.tensor(target))
    to = torch.nn.functional.cross_entropy(tl, torch.tensor(target))
    assert fo.item() == pytest.approx(to.item(), rel=1e-12)
    fo.backward()
    to.backward()
    np.testing.assert_allclose(fl.grad.numpy(), tl.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_creation_dtypes_match():
    for data in (3, 3.5, True, [1, 2], [1.0, 2], [[True]], np.zeros(2), np.zeros(2, np.float32), np.zeros(2, np.int32)):
        assert fg.tensor(data).dtype.name == str(torch.tensor(data).dtype).replace("torch.", "")


def test_repr_matches():
    for data in ([1.0, 2.0, 3.0], [1, 2], [True, False], 2.5, [[1.5, 2.0], [3.0, 4.25]]):
        assert repr(fg.tensor(data)) == repr(torch.tensor(data))
    assert repr(fg.tensor([1.0, 2.0], requires_grad=True)) == repr(torch.tensor([1.0, 2.0], requires_grad=True))
