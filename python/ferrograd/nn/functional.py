"""Functional forms of the neural-network ops."""

from __future__ import annotations

from .. import _core
from .._core import Tensor

__all__ = ["cross_entropy", "log_softmax", "relu", "sigmoid", "softmax", "tanh"]


def relu(input: Tensor) -> Tensor:
    return input.relu()


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def softmax(input: Tensor, dim=None, *, axis=None, dtype=None) -> Tensor:
    return input.softmax(dim, axis=axis, dtype=dtype)


def log_softmax(input: Tensor, dim=None, *, axis=None, dtype=None) -> Tensor:
    return input.log_softmax(dim, axis=axis, dtype=dtype)


def cross_entropy(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Mean cross-entropy between logits ``[N, C]`` and int64 class indices ``[N]``."""
    if reduction != "mean":
        raise NotImplementedError(f"cross_entropy(reduction={reduction!r}) is not supported yet; only 'mean'")
    if not isinstance(input, Tensor):
        raise TypeError(f"cross_entropy(): argument 'input' must be a Tensor, not {type(input).__name__}")
    return _core.cross_entropy(input, target)
