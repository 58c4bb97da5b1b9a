"""Parity with PyTorch (skipped when torch is not installed): outputs and gradients of the
reductions and linear algebra agree with torch at float32 tolerances."""

import math

import numpy as np
import pytest

import ferrograd as fg

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-4, 1e-5


def pair(shape, seed, positive=False):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    if positive:
        a = np.abs(a) + 0.5
    return fg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


CASES = [
    ("sum", (3, 4), lambda m, x: x.sum(-1)),
    ("prod", (3, 4), lambda m, x: x.prod(1)),
    ("amax", (3, 4, 2), lambda m, x: m.amax(x, (0, 2))),
    ("amin", (3, 4), lambda m, x: m.amin(x, -1, keepdim=True)),
    ("max_dim", (3, 4), lambda m, x: x.max(1).values),
    ("var", (3, 4), lambda m, x: x.var(1)),
    ("var_c0", (3, 4), lambda m, x: x.var((0, 1), correction=0)),
    ("std", (3, 4), lambda m, x: x.std(0, keepdim=True)),
    ("var_mean", (3, 4), lambda m, x: m.var_mean(x, 1)[0] + m.var_mean(x, 1)[1]),
    ("logsumexp", (3, 4), lambda m, x: m.logsumexp(x * 200, 1)),
    ("norm", (3, 4), lambda m, x: x.norm()),
    ("norm1", (3, 4), lambda m, x: x.norm(1, dim=1)),
    ("norm_inf", (3, 4), lambda m, x: x.norm(float("inf"), dim=0)),
    ("cumsum", (3, 4), lambda m, x: x.cumsum(1)),
    ("cumprod", (3, 4), lambda m, x: x.cumprod(-1)),
    ("median", (3, 5), lambda m, x: x.median(1).values),
    ("median_all", (3, 5), lambda m, x: x.median()),
    ("sort", (3, 5), lambda m, x: x.sort(1, descending=True).values),
    ("topk", (3, 5), lambda m, x: x.topk(2, dim=-1).values),
    ("linalg_norm", (3, 4), lambda m, x: m.linalg.norm(x, dim=1)),
    ("linalg_fro", (3, 4), lambda m, x: m.linalg.norm(x, "fro")),
    ("linalg_inf", (3, 4), lambda m, x: m.linalg.norm(x, float("inf"))),
    ("einsum_trace", (4, 4), lambda m, x: m.einsum("ii->", x)),
    ("einsum_outer", (4,), lambda m, x: m.einsum("i,j->ij", x, x)),
    ("einsum_batch", (2, 3, 3), lambda m, x: m.einsum("bij,bjk->bik", x, x)),
]


@pytest.mark.parametrize("name,shape,fn", CASES, ids=[c[0] for c in CASES])
def test_forward_and_gradient_match_torch(name, shape, fn):
    x, tx = pair(shape, len(name))
    out, tout = fn(fg, x), fn(torch, tx)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=RTOL, atol=ATOL)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((3,), (2, 3, 4)), ((2, 1, 2, 3), (5, 3, 4)), ((4, 3), (3,))])
def test_matmul_matches_torch(sa, sb):
    a, ta = pair(sa, 1)
    b, tb = pair(sb, 2)
    out, tout = a @ b, ta @ tb
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=RTOL, atol=ATOL)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=RTOL, atol=ATOL)


def test_addmm_baddbmm_match_torch():
    i, ti = pair((4,), 3)
    a, ta = pair((2, 3), 4)
    b, tb = pair((3, 4), 5)
    out = fg.addmm(i, a, b, beta=0.5, alpha=2.0)
    tout = torch.addmm(ti, ta, tb, beta=0.5, alpha=2.0)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=RTOL, atol=ATOL)
    out.sum().backward()
    tout.sum().backward()
    for x, tx in ((i, ti), (a, ta), (b, tb)):
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=RTOL, atol=ATOL)


def test_int_dtype_rules_match_torch():
    a = np.array([[1, 2], [3, 4]])
    for name in ("sum", "prod"):
        assert str(getattr(fg.tensor(a), name)().dtype).split(".")[-1] == str(getattr(torch.tensor(a), name)().dtype).split(".")[-1]
    assert fg.tensor(a).cumsum(0).tolist() == torch.tensor(a).cumsum(0).tolist()
    assert fg.tensor([True, False]).sum().item() == torch.tensor([True, False]).sum().item()
    assert math.isclose(fg.tensor([1e30, 1.0]).logsumexp(0).item(), torch.tensor([1e30, 1.0]).logsumexp(0).item(), rel_tol=1e-6)
