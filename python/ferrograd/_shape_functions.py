"""Function forms of the shape, join and indexing ops (``ferrograd.flip(t, ...)`` is
``t.flip(...)``), plus the joins that only exist as functions (cat, stack, ...)."""

from __future__ import annotations

from ._core import Tensor, cat, hstack, meshgrid, stack, vstack

_METHODS = [
    "broadcast_to", "chunk", "diag", "diagonal", "flip", "fliplr", "flipud", "gather", "index_add",
    "index_select", "masked_select", "movedim", "moveaxis", "narrow", "nonzero", "repeat_interleave",
    "roll", "scatter", "scatter_add", "select", "split", "swapaxes", "swapdims", "t", "take",
    "tensor_split", "tile", "tril", "triu", "unbind", "unflatten", "view_as", "expand_as",
]

__all__ = [*_METHODS, "cat", "concat", "concatenate", "hstack", "meshgrid", "stack", "vstack"]

concat = cat
concatenate = cat


def _method(name):
    def fn(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be a Tensor, not {type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = f"Same as ``input.{name}(...)``."
    return fn


for _name in _METHODS:
    globals()[_name] = _method(_name)
