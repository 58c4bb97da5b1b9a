"""Function forms of Tensor methods (``ferrograd.exp(t)`` is ``t.exp()``), as in PyTorch."""

from __future__ import annotations

from ._core import Tensor

__all__ = [
    "abs", "add", "argmax", "argmin", "div", "exp", "flatten", "log", "log_softmax", "matmul",
    "max", "maximum", "mean", "min", "minimum", "mul", "neg", "numel", "permute", "pow", "relu",
    "reshape", "sigmoid", "softmax", "sqrt", "squeeze", "sub", "sum", "tanh", "transpose",
    "unsqueeze", "eq", "ne", "lt", "le", "gt", "ge", "is_tensor", "clone", "detach",
    # elementwise family
    "exp2", "expm1", "log2", "log10", "log1p", "rsqrt", "square", "reciprocal", "sin", "cos", "tan",
    "asin", "acos", "atan", "sinh", "cosh", "floor", "ceil", "round", "trunc", "frac", "sign", "clamp",
    "clip", "nan_to_num", "isnan", "isinf", "isfinite", "floor_divide", "remainder", "fmod", "atan2",
    "arctan2", "hypot", "logaddexp", "lerp", "masked_fill", "logical_and", "logical_or", "logical_xor",
    "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "isclose", "allclose",
    "equal", "true_divide", "multiply", "subtract", "divide", "selu",
]


def _method(name):
    def fn(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be a Tensor, not {type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = f"Same as ``input.{name}(...)``."
    return fn


for _name in __all__:
    if _name != "is_tensor":
        globals()[_name] = _method(_name)


def is_tensor(obj) -> bool:
    """Whether ``obj`` is a ferrograd Tensor."""
    return isinstance(obj, Tensor)
