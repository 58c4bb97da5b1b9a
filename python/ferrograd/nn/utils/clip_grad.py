"""Gradient clipping, in place on each parameter's ``.grad`` (under no_grad)."""

from __future__ import annotations

import math

from ... import _core
from ..._core import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = list(parameters)
    return params, [p.grad for p in params if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scales all gradients together so their combined ``norm_type``-norm is at most
    ``max_norm``; returns the total norm before clipping (a 0-d tensor)."""
    _, grads = _grads(parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not grads:
        return _core.tensor(0.0)
    with _core.no_grad():
        if math.isinf(norm_type):
            norms = [g.abs().max().item() for g in grads]
            total = max(norms)
        else:
            total = sum((g.abs() ** norm_type).sum().item() for g in grads) ** (1.0 / norm_type)
        if error_if_nonfinite and not math.isfinite(total):
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
                "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
                "`error_if_nonfinite=False`"
            )
        coef = max_norm / (total + 1e-6)
        if coef < 1.0:
            for g in grads:
                g.mul_(coef)
    return _core.tensor(total, dtype=grads[0].dtype)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamps every gradient element into ``[-clip_value, clip_value]``."""
    _, grads = _grads(parameters)
    v = float(clip_value)
    with _core.no_grad():
        for g in grads:
            g.copy_(g.maximum(_core.tensor(-v, dtype=g.dtype)).minimum(_core.tensor(v, dtype=g.dtype)))
