"""Shared helpers for the shape/indexing tests: float64 finite-difference gradient checks
(the project's ``ferrograd.autograd.gradcheck`` plus a weighted-sum check of ``.grad`` after
``backward()``, which exercises gradient accumulation into leaves)."""

import numpy as np

import ferrograd as fg


def _np(t):
    return np.asarray(t.detach().numpy())


def gradcheck(fn, *arrays, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Checks the analytic gradient of ``fn(*tensors)`` against central differences (float64).
    A random weighting of the output makes every output element count."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    xs = [fg.tensor(a, dtype=fg.float64, requires_grad=True) for a in arrays]
    out = fn(*xs)
    w = np.random.default_rng(0).standard_normal(tuple(out.shape))
    (out * fg.tensor(w)).sum().backward()

    def value(vals):
        with fg.no_grad():
            return float((_np(fn(*[fg.tensor(v, dtype=fg.float64) for v in vals])) * w).sum())

    for k, a in enumerate(arrays):
        num = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus = [v.copy() for v in arrays]
            minus = [v.copy() for v in arrays]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            num[idx] = (value(plus) - value(minus)) / (2 * eps)
        got = xs[k].grad
        assert got is not None, f"input {k} got no gradient"
        np.testing.assert_allclose(_np(got), num, atol=atol, rtol=rtol, err_msg=f"gradient of input {k}")
    fresh = tuple(fg.tensor(a, dtype=fg.float64, requires_grad=True) for a in arrays)
    return fg.autograd.gradcheck(fn, fresh, eps=eps, atol=atol, rtol=rtol)


def assert_typed_error(fn, *types):
    """``fn()`` must raise one of ``types`` (never a PanicException, which is a BaseException)."""
    try:
        fn()
    except BaseException as e:  # noqa: BLE001 - PanicException must be caught to be reported
        assert isinstance(e, types), f"expected {types}, got {type(e).__name__}: {e}"
        return e
    raise AssertionError(f"expected {types} to be raised")
