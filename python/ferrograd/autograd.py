"""Gradient computation and the grad modes.

``no_grad``, ``enable_grad``, ``set_grad_enabled`` and ``inference_mode`` are implemented in
Rust; each is a context manager and a decorator. Modes are per thread.
"""

from __future__ import annotations

import functools

from ._core import (
    GradFn,
    _ExactMode,
    backward,
    enable_grad,
    grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

__all__ = [
    "GradFn",
    "backward",
    "enable_grad",
    "grad",
    "inherit_grad_mode",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "set_grad_enabled",
]


def inherit_grad_mode(fn):
    """Wraps ``fn`` so it runs under the grad and inference modes in effect *now*, on
    whatever thread later calls it (thread pools, DataLoader workers); the calling thread's
    own mode is restored afterwards.

    >>> with ferrograd.no_grad():
    ...     task = ferrograd.autograd.inherit_grad_mode(model_step)
    >>> pool.submit(task, batch)   # runs without recording, like the submitting code
    """
    if not callable(fn) or isinstance(fn, type):
        raise TypeError(f"inherit_grad_mode expects a function, got {fn!r}")
    mode = _ExactMode.capture()

    @functools.wraps(fn)
    def run(*args, **kwargs):
        with mode:
            return fn(*args, **kwargs)

    run.grad_enabled = mode.grad_enabled
    run.inference_mode = mode.inference
    return run


# ----- gradient checking -----

import warnings as _warnings

import numpy as _np

from ._core import AutogradError as _AutogradError
from ._core import Tensor as _Tensor

__all__ += ["GradcheckError", "gradcheck"]


class GradcheckError(_AutogradError):
    """Raised by :func:`gradcheck` when the analytic and numerical Jacobians disagree."""


def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _float_outputs(out):
    return [o for o in _as_tuple(out) if isinstance(o, _Tensor) and o.is_floating_point()]


def _values(outs):
    """The outputs' values as float64 NumPy vectors (read without recording)."""
    with no_grad():
        return [_np.asarray(o.detach().numpy(), dtype=_np.float64).reshape(-1) for o in outs]


def _check_inputs(inputs):
    diff = []
    for i, t in enumerate(inputs):
        if not (isinstance(t, _Tensor) and t.requires_grad):
            continue
        if not t.is_floating_point():
            raise GradcheckError(f"gradcheck: input {i} requires grad but has dtype {t.dtype}")
        if t.dtype != _float64:
            _warnings.warn(
                f"gradcheck: input {i} requires grad and is not a float64 tensor ({t.dtype}); "
                "finite differences in single precision are unreliable",
                stacklevel=3,
            )
        # Perturbing one element of an expanded input would move all its aliases at once.
        for size, stride in zip(t.shape, t.stride()):
            if stride == 0 and size > 1:
                raise GradcheckError(
                    f"gradcheck: input {i} has a dimension with stride 0 (an expanded tensor); its "
                    "elements overlap in memory, so numerical gradients would be wrong. Pass the "
                    "unexpanded tensor and call .expand inside the function instead."
                )
        diff.append(i)
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor that requires grad")
    return diff


def gradcheck(func, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Checks the gradients autograd computes for ``func`` at ``inputs`` against central finite
    differences, as ``torch.autograd.gradcheck`` does.

    Every input tensor with ``requires_grad=True`` is differentiated (use float64 inputs).
    The analytic Jacobian is built one output element at a time with :func:`grad`; the
    numerical one perturbs each input element by ``±eps``. They must satisfy
    ``|analytic - numerical| <= atol + rtol * |numerical|`` everywhere.

    Returns True; on a mismatch raises :class:`GradcheckError` naming the output, input and
    element (or returns False when ``raise_exception=False``).
    """
    inputs = _as_tuple(inputs)
    diff = _check_inputs(inputs)
    diff_inputs = [inputs[i] for i in diff]

    out = func(*inputs)
    outs = _float_outputs(out)
    if not outs:
        raise ValueError("gradcheck: func returned no floating-point tensor output")

    # Analytic Jacobians: analytic[o][k] has shape (out[o].numel(), input[k].numel()).
    analytic = [[_np.zeros((o.numel(), inputs[i].numel())) for i in diff] for o in outs]
    for oi, o in enumerate(outs):
        if not o.requires_grad:
            continue  # a constant output: its Jacobian is zero
        for j in range(o.numel()):
            onehot = _np.zeros(o.numel(), dtype=_np.float64)
            onehot[j] = 1.0
            go = _tensor(onehot.reshape(tuple(o.shape)), dtype=o.dtype)
            gs = grad([o], diff_inputs, [go], retain_graph=True, allow_unused=True)
            for k, (g, x) in enumerate(zip(gs, diff_inputs)):
                if g is None:
                    continue
                if tuple(g.shape) != tuple(x.shape):
                    return _fail(
                        raise_exception,
                        f"gradcheck: the gradient of input {diff[k]} has shape {tuple(g.shape)}, "
                        f"but the input has shape {tuple(x.shape)}",
                    )
                if g.dtype != x.dtype:
                    return _fail(
                        raise_exception,
                        f"gradcheck: the gradient of input {diff[k]} has dtype {g.dtype}, "
                        f"but the input has dtype {x.dtype}",
                    )
                analytic[oi][k][j, :] = _np.asarray(g.numpy(), dtype=_np.float64).reshape(-1)

    # Numerical Jacobians by central differences, perturbing each element in place.
    numerical = [[_np.zeros_like(a) for a in row] for row in analytic]
    for k, x in enumerate(diff_inputs):
        for flat in range(x.numel()):
            idx = _np.unravel_index(flat, tuple(x.shape)) if x.ndim else ()
            with no_grad():
                elem = x[tuple(int(i) for i in idx)]
                orig = float(elem.item())
                elem.fill_(orig + eps)
                plus = _values(_float_outputs(func(*inputs)))
                elem.fill_(orig - eps)
                minus = _values(_float_outputs(func(*inputs)))
                elem.fill_(orig)
            for oi in range(len(outs)):
                numerical[oi][k][:, flat] = (plus[oi] - minus[oi]) / (2 * eps)

    for oi in range(len(outs)):
        for k in range(len(diff_inputs)):
            a, n = analytic[oi][k], numerical[oi][k]
            bad = ~(_np.abs(a - n) <= atol + rtol * _np.abs(n))
            if bad.any():
                j, e = (int(v) for v in _np.argwhere(bad)[0])
                shape = tuple(diff_inputs[k].shape)
                where = tuple(int(v) for v in _np.unravel_index(e, shape)) if shape else ()
                return _fail(
                    raise_exception,
                    f"Jacobian mismatch for output {oi} with respect to input {diff[k]}: "
                    f"d output[{j}] / d input{list(where)} is {a[j, e]!r} analytically but "
                    f"{n[j, e]!r} numerically (atol={atol}, rtol={rtol}).\n"
                    f"numerical:\n{n}\nanalytical:\n{a}",
                )
    return True


def _fail(raise_exception, msg):
    if raise_exception:
        raise GradcheckError(msg)
    return False


from ._core import float64 as _float64  # noqa: E402
from ._core import tensor as _tensor  # noqa: E402
