"""Shared helpers of the nn.functional tests: a finite-difference gradient check (float64)
and ferrograd <-> NumPy conversion."""

from __future__ import annotations

import numpy as np

import ferrograd as fg


def t64(a, requires_grad: bool = False):
    return fg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def gradcheck(fn, arrays, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0) -> None:
    """Checks autograd's gradients of ``fn(*tensors)`` against central differences, with the
    project's ``ferrograd.autograd.gradcheck`` (full Jacobians) and, independently, a random
    projection of the output (one backward, two forwards per input element).

    ``arrays`` are NumPy arrays (float64 leaves); ``fn`` may build views of the leaves
    (transposes, strided slices, expands) itself.
    """
    official = getattr(fg.autograd, "gradcheck", None)
    if official is not None:
        official(fn, [t64(a, requires_grad=True) for a in arrays], eps=eps, atol=atol, rtol=rtol)
    rng = np.random.default_rng(seed)
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    leaves = [t64(a, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    v = rng.standard_normal(tuple(out.shape))
    (out * t64(v)).sum().backward()
    for i, (a, leaf) in enumerate(zip(arrays, leaves)):
        analytic = np.zeros_like(a) if leaf.grad is None else leaf.grad.numpy()
        numeric = np.zeros_like(a)
        flat = a.reshape(-1)
        for k in range(flat.size):
            vals = []
            for d in (eps, -eps):
                pert = [b.copy() for b in arrays]
                pert[i].reshape(-1)[k] += d
                with fg.no_grad():
                    vals.append(float((fn(*[t64(b) for b in pert]).numpy() * v).sum()))
            numeric.reshape(-1)[k] = (vals[0] - vals[1]) / (2 * eps)
        if not np.allclose(analytic, numeric, atol=atol, rtol=rtol):
            worst = np.unravel_index(np.argmax(np.abs(analytic - numeric)), a.shape) if a.ndim else ()
            raise AssertionError(
                f"gradient of input {i} differs at {worst}: analytic {analytic[worst]} vs numeric {numeric[worst]}\n"
                f"analytic=\n{analytic}\nnumeric=\n{numeric}"
            )


def assert_typed_error(fn, *types):
    """Calls ``fn`` and requires one of ``types`` (never a PanicException, which derives
    from BaseException)."""
    try:
        fn()
    except BaseException as e:  # noqa: BLE001 - a panic must not pass as an error
        assert isinstance(e, types), f"expected {types}, got {type(e).__name__}: {e}"
        return e
    raise AssertionError(f"expected one of {types}, nothing was raised")
