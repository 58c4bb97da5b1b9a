"""Identity, Linear and Bilinear."""

from __future__ import annotations

import math

from ... import _core
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Bilinear", "Identity", "Linear"]


def _factory(dtype):
    return _core.float32 if dtype is None else dtype


class Identity(Module):
    """Returns its input; accepts and ignores any constructor arguments (as PyTorch's)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


def _linear(input, weight, bias):
    # F.linear is the nn-functional helper's; until it exists a matmul + add is the same math.
    fn = getattr(F, "linear", None)
    if fn is not None:
        return fn(input, weight, bias)
    out = input.matmul(weight.t())
    return out if bias is None else out + bias


class Linear(Module):
    """``y = x W^T + b`` with PyTorch's initialisation (kaiming-uniform, a=sqrt(5); bias
    uniform in +-1/sqrt(in_features))."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(_core.empty(out_features, in_features, dtype=_factory(dtype)))
        if bias:
            self.bias = Parameter(_core.empty(out_features, dtype=_factory(dtype)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return _linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """``y = x1^T A x2 + b`` with A of shape [out, in1, in2]."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(_core.empty(out_features, in1_features, in2_features, dtype=_factory(dtype)))
        if bias:
            self.bias = Parameter(_core.empty(out_features, dtype=_factory(dtype)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        fn = getattr(F, "bilinear", None)
        if fn is not None:
            return fn(input1, input2, self.weight, self.bias)
        # [..., in1] @ [out, in1, in2] -> [..., out, in2], then contract with x2.
        lead = input1.shape[:-1]
        x1 = input1.reshape(-1, 1, 1, self.in1_features)
        x2 = input2.reshape(-1, 1, self.in2_features, 1)
        t = x1.matmul(self.weight.unsqueeze(0))  # [N, out, 1, in2]
        y = t.matmul(x2).reshape(*lead, self.out_features)
        return y if self.bias is None else y + self.bias

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
