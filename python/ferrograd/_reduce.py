"""Function forms of the reduction and linear-algebra methods (``ferrograd.prod(t, 0)`` is
``t.prod(0)``), plus ``var_mean``, ``std_mean`` and ``einsum``, which have no method form."""

from __future__ import annotations

from ._core import Tensor, einsum, std_mean, var_mean

_METHODS = [
    "prod", "amax", "amin", "all", "any", "count_nonzero", "var", "std", "logsumexp", "norm",
    "cumsum", "cumprod", "median", "topk", "sort", "argsort", "unique", "mm", "bmm", "mv",
    "dot", "outer", "addmm", "baddbmm",
]

__all__ = [*_METHODS, "einsum", "std_mean", "var_mean"]


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
