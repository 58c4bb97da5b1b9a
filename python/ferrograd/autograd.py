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
