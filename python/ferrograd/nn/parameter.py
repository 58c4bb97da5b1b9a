"""``nn.Parameter``: a Tensor that a Module registers as one of its parameters."""

from __future__ import annotations

from .._core import Tensor, empty


class Parameter(Tensor):
    """A leaf tensor that requires grad by default. ``Parameter(t)`` shares ``t``'s storage
    (as in PyTorch); assigning one to a Module attribute registers it."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, not {type(data).__name__}")
        self = super().__new__(cls, data)
        if requires_grad:
            self.requires_grad_(True)
        return self

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach().numpy(), self.requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = Parameter(self.detach().clone(), self.requires_grad)
        memo[id(self)] = out
        return out


def _rebuild_parameter(array, requires_grad):
    from .._core import from_numpy

    return Parameter(from_numpy(array.copy()), requires_grad)
