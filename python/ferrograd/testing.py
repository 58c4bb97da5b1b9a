"""Test helpers: :func:`assert_close`, like ``torch.testing.assert_close``."""

from __future__ import annotations

import numbers

import numpy as np

from ._core import Tensor

__all__ = ["assert_close"]

# (rtol, atol) by dtype, the defaults torch.testing.assert_close uses.
_TOLERANCES = {
    np.dtype(np.float16): (1e-3, 1e-5),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
}


def _to_numpy(x, name):
    if isinstance(x, Tensor):
        return x.detach().numpy()
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, np.generic):
        return np.asarray(x)
    if isinstance(x, numbers.Number):
        if isinstance(x, complex):
            raise TypeError(f"assert_close: complex {name} values are not supported")
        return np.asarray(x)
    if isinstance(x, (list, tuple)):
        return np.asarray(x)
    raise TypeError(
        f"assert_close: {name} must be a Tensor, a NumPy array or a number, got {type(x).__name__}"
    )


def _dtype_name(x, arr):
    return str(x.dtype) if isinstance(x, Tensor) else str(arr.dtype)


def _default_tolerances(*arrays):
    rtol, atol = 0.0, 0.0
    for a in arrays:
        r, t = _TOLERANCES.get(a.dtype, (0.0, 0.0))
        rtol, atol = max(rtol, r), max(atol, t)
    return rtol, atol


def assert_close(actual, expected, rtol=None, atol=None, *, equal_nan=False, check_dtype=True, msg=None):
    """Asserts ``|actual - expected| <= atol + rtol * |expected|`` elementwise.

    ``actual`` and ``expected`` may be ferrograd tensors, NumPy arrays or Python numbers. Shapes
    must match exactly (no broadcasting). When both are tensors and ``check_dtype`` is true,
    their dtypes must match too. Omitted tolerances default by dtype as in
    ``torch.testing.assert_close`` (float32: rtol 1.3e-6, atol 1e-5; float64: 1e-7, 1e-7;
    integers and bool: exact). NaNs compare equal only with ``equal_nan=True``.
    """
    if (rtol is None) != (atol is None):
        raise ValueError(
            f"Both 'rtol' and 'atol' must be either specified or omitted, "
            f"but got no {'rtol' if rtol is None else 'atol'}."
        )
    a = _to_numpy(actual, "actual")
    e = _to_numpy(expected, "expected")

    def fail(text):
        raise AssertionError(text if msg is None else f"{msg}\n\n{text}")

    if a.shape != e.shape:
        fail(f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}.")
    if check_dtype and isinstance(actual, Tensor) and isinstance(expected, Tensor) and actual.dtype != expected.dtype:
        fail(f"The values for attribute 'dtype' do not match: {actual.dtype} != {expected.dtype}.")
    if rtol is None:
        rtol, atol = _default_tolerances(a, e)

    if a.dtype == np.bool_ or e.dtype == np.bool_:
        a64, e64 = a.astype(np.float64), e.astype(np.float64)
    elif np.issubdtype(a.dtype, np.integer) and np.issubdtype(e.dtype, np.integer):
        # Exact integer comparison without float rounding of large values.
        bad = a != e
        if bad.any():
            _report(fail, a, e, bad, np.abs(a.astype(np.float64) - e.astype(np.float64)), rtol, atol, "Scalars" if a.ndim == 0 else "Tensor-likes")
        return
    else:
        a64, e64 = a.astype(np.float64), e.astype(np.float64)

    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a64 - e64)
        close = diff <= atol + rtol * np.abs(e64)
        # Equal infinities (diff is nan) are close.
        close |= a64 == e64
        if equal_nan:
            close |= np.isnan(a64) & np.isnan(e64)
    bad = ~close
    if bad.any():
        _report(fail, a64, e64, bad, diff, rtol, atol, "Scalars" if a.ndim == 0 else "Tensor-likes")


def _report(fail, a, e, bad, diff, rtol, atol, kind):
    n_bad, n = int(bad.sum()), bad.size
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = diff / np.abs(e.astype(np.float64))
    d = np.where(bad, np.nan_to_num(diff.astype(np.float64), nan=np.inf), -1.0)
    r = np.where(bad, np.nan_to_num(rel, nan=np.inf), -1.0)
    ia = np.unravel_index(int(np.argmax(d)), bad.shape) if bad.ndim else ()
    ir = np.unravel_index(int(np.argmax(r)), bad.shape) if bad.ndim else ()
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
    fail(
        f"{kind} are not close!\n\n"
        f"Mismatched elements: {n_bad} / {n} ({100.0 * n_bad / n:.1f}%)\n"
        f"First mismatch at index {first}: actual {a[first]!r}, expected {e[first]!r}\n"
        f"Greatest absolute difference: {d[ia]} at index {tuple(int(i) for i in ia)} (up to {atol} allowed)\n"
        f"Greatest relative difference: {r[ir]} at index {tuple(int(i) for i in ir)} (up to {rtol} allowed)"
    )
