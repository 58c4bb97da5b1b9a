"""Finite-difference gradient check for the reduction/linalg tests: uses
``ferrograd.autograd.gradcheck`` when the package provides it, else an equivalent local one
(same signature and tolerances)."""

from __future__ import annotations

import numpy as np

import ferrograd as fg


def _local_gradcheck(func, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    inputs = tuple(inputs)
    diff = [t for t in inputs if isinstance(t, fg.Tensor) and t.requires_grad]
    out = func(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    outs = [o for o in outs if isinstance(o, fg.Tensor) and o.is_floating_point()]
    for o in outs:
        n = o.numel()
        analytic = np.zeros((n, len(diff)), dtype=object)
        for j in range(n):
            onehot = np.zeros(n)
            onehot[j] = 1.0
            if o.requires_grad:
                gs = fg.autograd.grad([o], diff, [fg.tensor(onehot.reshape(tuple(o.shape)), dtype=o.dtype)], retain_graph=True, allow_unused=True)
            else:
                gs = [None] * len(diff)
            for k, g in enumerate(gs):
                analytic[j, k] = np.zeros(diff[k].numel()) if g is None else g.detach().numpy().reshape(-1)
        for k, t in enumerate(diff):
            base = t.detach().numpy().copy()
            flat = base.reshape(-1)
            for e in range(flat.size):
                vals = []
                for delta in (eps, -eps):
                    shifted = flat.copy()
                    shifted[e] += delta
                    new = [fg.tensor(shifted.reshape(base.shape)) if x is t else (x.detach() if isinstance(x, fg.Tensor) else x) for x in inputs]
                    with fg.no_grad():
                        r = func(*new)
                    r = list(r) if isinstance(r, (tuple, list)) else [r]
                    r = [x for x in r if isinstance(x, fg.Tensor) and x.is_floating_point()]
                    vals.append(r[outs.index(o)].numpy().reshape(-1))
                numeric = (vals[0] - vals[1]) / (2 * eps)
                for j in range(n):
                    a = analytic[j, k][e]
                    if abs(a - numeric[j]) > atol + rtol * abs(numeric[j]):
                        raise AssertionError(f"gradcheck: output element {j}, input {k} element {e}: analytic {a}, numerical {numeric[j]}")
    return True


def gradcheck(func, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    check = getattr(fg.autograd, "gradcheck", None) or _local_gradcheck
    return check(func, tuple(inputs), eps=eps, atol=atol, rtol=rtol)


def leaf(a):
    """A float64 leaf that requires grad."""
    return fg.tensor(np.asarray(a, dtype=np.float64), dtype=fg.float64, requires_grad=True)


def rand_leaf(*shape, seed=0, distinct=True):
    """Random float64 leaf; with `distinct`, values are well separated (no ties within eps)."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    if distinct:
        v = rng.permutation(n).astype(np.float64) * 0.37 + rng.uniform(-0.05, 0.05, n) - n * 0.15
    else:
        v = rng.standard_normal(n)
    return leaf(v.reshape(shape))
