"""Losses as modules; each forwards to its ``nn.functional`` form with the module's
options (only the ones that differ from the defaults are passed)."""

from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "KLDivLoss", "L1Loss", "MSELoss", "NLLLoss", "SmoothL1Loss"]

_REDUCTIONS = ("none", "mean", "sum")


class _Loss(Module):
    _fn = ""
    _defaults: dict = {}
    _reductions = _REDUCTIONS

    def __init__(self, reduction: str = "mean", **options):
        super().__init__()
        if reduction not in self._reductions:
            raise ValueError(f"{reduction} is not a valid value for reduction")
        self.reduction = reduction
        for k, v in options.items():
            if isinstance(v, _core_tensor()):
                self.register_buffer(k, v)
            else:
                setattr(self, k, v)
        self._option_names = tuple(options)

    def _kwargs(self):
        kw = {} if self.reduction == "mean" else {"reduction": self.reduction}
        for k in self._option_names:
            v, default = getattr(self, k), self._defaults.get(k)
            is_default = v is default or (not isinstance(v, _core_tensor()) and v == default)
            if not is_default:
                kw[k] = v
        return kw

    def forward(self, input, target):
        return getattr(F, self._fn)(input, target, **self._kwargs())


def _core_tensor():
    from ..._core import Tensor

    return Tensor


class CrossEntropyLoss(_Loss):
    _fn = "cross_entropy"
    _defaults = {"weight": None, "ignore_index": -100, "label_smoothing": 0.0}

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction, weight=weight, ignore_index=ignore_index, label_smoothing=label_smoothing)


class NLLLoss(_Loss):
    _fn = "nll_loss"
    _defaults = {"weight": None, "ignore_index": -100}

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(reduction, weight=weight, ignore_index=ignore_index)


class MSELoss(_Loss):
    _fn = "mse_loss"

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__(reduction)


class L1Loss(_Loss):
    _fn = "l1_loss"

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__(reduction)


class SmoothL1Loss(_Loss):
    _fn = "smooth_l1_loss"
    _defaults = {"beta": 1.0}

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(reduction, beta=beta)


class BCELoss(_Loss):
    _fn = "binary_cross_entropy"
    _defaults = {"weight": None}

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(reduction, weight=weight)


class BCEWithLogitsLoss(_Loss):
    _fn = "binary_cross_entropy_with_logits"
    _defaults = {"weight": None, "pos_weight": None}

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(reduction, weight=weight, pos_weight=pos_weight)


class KLDivLoss(_Loss):
    _fn = "kl_div"
    _defaults = {"log_target": False}
    _reductions = (*_REDUCTIONS, "batchmean")

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(reduction, log_target=log_target)
