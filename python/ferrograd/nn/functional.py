"""Functional forms of the neural-network ops (``ferrograd.nn.functional``), with PyTorch's
names, signatures and defaults. The heavy lifting (forward and backward) is in Rust
(``src/ops/nn/``); this module normalises arguments: ints vs tuples, ``padding='same'``,
reduction strings, ``dim``/``axis`` aliases and the legacy ``size_average``/``reduce``.
"""

from __future__ import annotations

import math as _math

from .. import _core
from .._core import Tensor

__all__ = [
    "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "batch_norm", "bilinear",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "conv1d", "conv2d",
    "conv_transpose2d", "cosine_similarity", "cross_entropy", "dropout", "embedding", "fold",
    "group_norm", "huber_loss", "interpolate", "kl_div", "l1_loss", "layer_norm", "linear",
    "log_softmax", "max_pool1d", "max_pool2d", "mse_loss", "nll_loss", "normalize", "one_hot",
    "pad",
    "pairwise_distance", "relu", "sigmoid", "smooth_l1_loss", "softmax", "softmin", "tanh",
    "unfold",
]


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    if inplace and isinstance(input, Tensor):
        return _inplace_or(input, lambda t: t.relu(), True)
    return input.relu()


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


# ----- argument helpers -----

def _tensor(x, name: str, fn: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' must be a Tensor, not {type(x).__name__}")
    return x


def _opt_tensor(x, name: str, fn: str):
    return None if x is None else _tensor(x, name, fn)


def _ntuple(v, n: int, name: str, fn: str) -> list:
    if isinstance(v, bool):
        raise TypeError(f"{fn}(): {name} must be an int or a tuple of {n} ints, not bool")
    if isinstance(v, int):
        return [v] * n
    try:
        out = list(v)
    except TypeError:
        raise TypeError(f"{fn}(): {name} must be an int or a tuple of {n} ints, not {type(v).__name__}") from None
    if len(out) == 1:
        out = out * n
    if len(out) != n or not all(isinstance(x, int) and not isinstance(x, bool) for x in out):
        raise TypeError(f"{fn}(): {name} must be an int or a tuple of {n} ints, got {v!r}")
    return out


def _nonneg(vals, name: str, fn: str, positive: bool = False):
    for x in vals:
        if x < 0 or (positive and x == 0):
            raise ValueError(f"{fn}(): {name} must be {'positive' if positive else 'non-negative'}, got {vals}")
    return vals


def _reduction(size_average, reduce, reduction: str) -> str:
    # PyTorch's legacy arguments: either one given overrides `reduction`.
    if size_average is None and reduce is None:
        if reduction not in ("none", "mean", "sum"):
            raise ValueError(f"{reduction} is not a valid value for reduction")
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _dim(dim, axis, fn: str, default=None):
    if dim is not None and axis is not None:
        raise TypeError(f"{fn}(): got both dim= and its alias axis=")
    d = dim if dim is not None else axis
    return default if d is None else d


# ----- linear, dropout -----

def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``."""
    return _core._nn_linear(_tensor(input, "input", "linear"), _tensor(weight, "weight", "linear"), _opt_tensor(bias, "bias", "linear"))


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y[..., o] = input1 @ weight[o] @ input2 + bias[o]``."""
    return _core._nn_bilinear(_tensor(input1, "input1", "bilinear"), _tensor(input2, "input2", "bilinear"),
                              _tensor(weight, "weight", "bilinear"), _opt_tensor(bias, "bias", "bilinear"))


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zeroes elements with probability ``p`` (scaling the rest by ``1/(1-p)``) when training.
    Masks come from ferrograd's generator, so ``ferrograd.manual_seed`` makes them repeatable."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    out = _core._nn_dropout(_tensor(input, "input", "dropout"), float(p), bool(training))
    if inplace and training and p > 0.0:
        input.copy_(out)
        return input
    return out


# ----- softmax family -----

def softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None, *, axis=None) -> Tensor:
    d = _dim(dim, axis, "softmax")
    if d is None:
        raise TypeError("softmax(): dim must be given (implicit dim choice is deprecated in PyTorch)")
    x = input if dtype is None else input.to(dtype)
    return x.softmax(d)


def log_softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None, *, axis=None) -> Tensor:
    d = _dim(dim, axis, "log_softmax")
    if d is None:
        raise TypeError("log_softmax(): dim must be given (implicit dim choice is deprecated in PyTorch)")
    x = input if dtype is None else input.to(dtype)
    return x.log_softmax(d)


def softmin(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None, *, axis=None) -> Tensor:
    d = _dim(dim, axis, "softmin")
    if d is None:
        raise TypeError("softmin(): dim must be given (implicit dim choice is deprecated in PyTorch)")
    x = input if dtype is None else input.to(dtype)
    return (-x).softmax(d)


# ----- losses -----

def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits against class indices (int64) or class probabilities (float)."""
    r = _reduction(size_average, reduce, reduction)
    return _core._nn_class_loss(_tensor(input, "input", "cross_entropy"), _tensor(target, "target", "cross_entropy"),
                                _opt_tensor(weight, "weight", "cross_entropy"), int(ignore_index), r,
                                float(label_smoothing), True)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities against class indices."""
    r = _reduction(size_average, reduce, reduction)
    return _core._nn_class_loss(_tensor(input, "input", "nll_loss"), _tensor(target, "target", "nll_loss"),
                                _opt_tensor(weight, "weight", "nll_loss"), int(ignore_index), r, 0.0, False)


def _pointwise(kind, fn, input, target, size_average, reduce, reduction, param=1.0):
    r = _reduction(size_average, reduce, reduction)
    return _core._nn_pointwise_loss(kind, _tensor(input, "input", fn), _tensor(target, "target", fn), r, float(param))


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean", weight=None) -> Tensor:
    if weight is not None:
        raise TypeError("mse_loss(): weight is not supported")
    return _pointwise("mse", "mse_loss", input, target, size_average, reduce, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    return _pointwise("l1", "l1_loss", input, target, size_average, reduce, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    return _pointwise("smooth_l1", "smooth_l1_loss", input, target, size_average, reduce, reduction, beta)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    return _pointwise("huber", "huber_loss", input, target, None, None, reduction, delta)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    r = _reduction(size_average, reduce, reduction)
    fn = "binary_cross_entropy"
    x, t = _tensor(input, "input", fn), _tensor(target, "target", fn)
    if tuple(x.shape) != tuple(t.shape):
        raise ValueError(f"Using a target size ({tuple(t.shape)}) that is different to the input size "
                         f"({tuple(x.shape)}) is deprecated. Please ensure they have the same size.")
    return _core._nn_binary_cross_entropy(x, t, _opt_tensor(weight, "weight", fn), r)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    r = _reduction(size_average, reduce, reduction)
    fn = "binary_cross_entropy_with_logits"
    x, t = _tensor(input, "input", fn), _tensor(target, "target", fn)
    if tuple(x.shape) != tuple(t.shape):
        raise ValueError(f"Target size ({tuple(t.shape)}) must be the same as input size ({tuple(x.shape)})")
    return _core._nn_binary_cross_entropy_with_logits(x, t, _opt_tensor(weight, "weight", fn),
                                                      _opt_tensor(pos_weight, "pos_weight", fn), r)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL divergence; ``input`` holds log-probabilities. Use ``reduction='batchmean'`` for the
    mathematically correct mean (PyTorch's ``'mean'`` averages over every element)."""
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, "mean")
    elif reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return _core._nn_kl_div(_tensor(input, "input", "kl_div"), _tensor(target, "target", "kl_div"), reduction, bool(log_target))


# ----- distances -----

def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8, *, axis=None) -> Tensor:
    d = _dim(None if axis is not None and dim == 1 else dim, axis, "cosine_similarity")
    return _core._nn_cosine_similarity(_tensor(x1, "x1", "cosine_similarity"), _tensor(x2, "x2", "cosine_similarity"), int(d), float(eps))


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    return _core._nn_pairwise_distance(_tensor(x1, "x1", "pairwise_distance"), _tensor(x2, "x2", "pairwise_distance"),
                                       float(p), float(eps), bool(keepdim))


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None, *, axis=None) -> Tensor:
    if out is not None:
        raise TypeError("normalize(): out= is not supported")
    d = _dim(None if axis is not None and dim == 1 else dim, axis, "normalize")
    return _core._nn_normalize(_tensor(input, "input", "normalize"), float(p), int(d), float(eps))


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding with a trailing class dim (``num_classes=-1``: max + 1)."""
    return _core._nn_one_hot(_tensor(tensor, "tensor", "one_hot"), None if num_classes == -1 else int(num_classes))


# ----- normalisation -----

def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    shape = [normalized_shape] if isinstance(normalized_shape, int) else list(normalized_shape)
    return _core._nn_layer_norm(_tensor(input, "input", "layer_norm"), shape, _opt_tensor(weight, "weight", "layer_norm"),
                                _opt_tensor(bias, "bias", "layer_norm"), float(eps))


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    return _core._nn_group_norm(_tensor(input, "input", "group_norm"), int(num_groups), _opt_tensor(weight, "weight", "group_norm"),
                                _opt_tensor(bias, "bias", "group_norm"), float(eps))


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation over every dim but dim 1. When ``training``, batch statistics are
    used and ``running_mean``/``running_var`` are updated in place (without recording)."""
    fn = "batch_norm"
    return _core._nn_batch_norm(_tensor(input, "input", fn), _opt_tensor(running_mean, "running_mean", fn),
                                _opt_tensor(running_var, "running_var", fn), _opt_tensor(weight, "weight", fn),
                                _opt_tensor(bias, "bias", fn), bool(training),
                                0.0 if momentum is None else float(momentum), float(eps))


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    if sparse:
        raise TypeError("embedding(): sparse gradients are not supported; use sparse=False")
    return _core._nn_embedding(_tensor(input, "input", "embedding"), _tensor(weight, "weight", "embedding"),
                               padding_idx, None if max_norm is None else float(max_norm), float(norm_type),
                               bool(scale_grad_by_freq))


# ----- convolution -----

def _same_padding(kernel, dilation, stride, fn):
    if any(s != 1 for s in stride):
        raise ValueError(f"{fn}(): padding='same' is not supported for strided convolutions")
    pads = []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        pads += [total // 2, total - total // 2]
    return pads


def _conv_padding(padding, n, kernel, dilation, stride, fn):
    if isinstance(padding, str):
        if padding == "valid":
            return [0] * (2 * n)
        if padding == "same":
            return _same_padding(kernel, dilation, stride, fn)
        raise ValueError(f"{fn}(): invalid padding string {padding!r}, should be one of 'valid', 'same'")
    p = _nonneg(_ntuple(padding, n, "padding", fn), "padding", fn)
    return [x for v in p for x in (v, v)]


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    fn = "conv2d"
    x, w = _tensor(input, "input", fn), _tensor(weight, "weight", fn)
    stride = _nonneg(_ntuple(stride, 2, "stride", fn), "stride", fn, positive=True)
    dilation = _nonneg(_ntuple(dilation, 2, "dilation", fn), "dilation", fn, positive=True)
    if groups <= 0:
        raise ValueError(f"{fn}(): non-positive groups is not supported")
    kernel = list(w.shape[2:]) if w.ndim == 4 else [1, 1]
    pads = _conv_padding(padding, 2, kernel, dilation, stride, fn)
    return _core._nn_conv2d(x, w, _opt_tensor(bias, "bias", fn), stride, pads, dilation, int(groups))


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    fn = "conv1d"
    x, w = _tensor(input, "input", fn), _tensor(weight, "weight", fn)
    (stride,) = _nonneg(_ntuple(stride, 1, "stride", fn), "stride", fn, positive=True)
    (dilation,) = _nonneg(_ntuple(dilation, 1, "dilation", fn), "dilation", fn, positive=True)
    if groups <= 0:
        raise ValueError(f"{fn}(): non-positive groups is not supported")
    kernel = [w.shape[2]] if w.ndim == 3 else [1]
    pads = _conv_padding(padding, 1, kernel, [dilation], [stride], fn)
    return _core._nn_conv1d(x, w, _opt_tensor(bias, "bias", fn), stride, pads, dilation, int(groups))


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    fn = "conv_transpose2d"
    x, w = _tensor(input, "input", fn), _tensor(weight, "weight", fn)
    stride = _nonneg(_ntuple(stride, 2, "stride", fn), "stride", fn, positive=True)
    dilation = _nonneg(_ntuple(dilation, 2, "dilation", fn), "dilation", fn, positive=True)
    padding = _nonneg(_ntuple(padding, 2, "padding", fn), "padding", fn)
    output_padding = _nonneg(_ntuple(output_padding, 2, "output_padding", fn), "output_padding", fn)
    if groups <= 0:
        raise ValueError(f"{fn}(): non-positive groups is not supported")
    return _core._nn_conv_transpose2d(x, w, _opt_tensor(bias, "bias", fn), stride, padding, output_padding,
                                      int(groups), dilation)


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sliding local blocks: ``[N, C, H, W]`` -> ``[N, C*kh*kw, L]``."""
    fn = "unfold"
    return _core._nn_unfold(_tensor(input, "input", fn), _nonneg(_ntuple(kernel_size, 2, "kernel_size", fn), "kernel_size", fn, True),
                            _nonneg(_ntuple(dilation, 2, "dilation", fn), "dilation", fn, True),
                            _nonneg(_ntuple(padding, 2, "padding", fn), "padding", fn),
                            _nonneg(_ntuple(stride, 2, "stride", fn), "stride", fn, True))


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sums sliding local blocks into an image: ``[N, C*kh*kw, L]`` -> ``[N, C, H, W]``."""
    fn = "fold"
    return _core._nn_fold(_tensor(input, "input", fn), _nonneg(_ntuple(output_size, 2, "output_size", fn), "output_size", fn, True),
                          _nonneg(_ntuple(kernel_size, 2, "kernel_size", fn), "kernel_size", fn, True),
                          _nonneg(_ntuple(dilation, 2, "dilation", fn), "dilation", fn, True),
                          _nonneg(_ntuple(padding, 2, "padding", fn), "padding", fn),
                          _nonneg(_ntuple(stride, 2, "stride", fn), "stride", fn, True))


# ----- pooling -----

def _pool_args(kernel_size, stride, padding, dilation, n, fn):
    k = _nonneg(_ntuple(kernel_size, n, "kernel_size", fn), "kernel_size", fn, True)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _nonneg(_ntuple(stride, n, "stride", fn), "stride", fn, True)
    p = _nonneg(_ntuple(padding, n, "padding", fn), "padding", fn)
    d = _nonneg(_ntuple(dilation, n, "dilation", fn), "dilation", fn, True)
    if n == 1:
        return [1] + k, [1] + s, [0] + p, [1] + d
    return k, s, p, d


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, 2, "max_pool2d")
    out, idx = _core._nn_max_pool(_tensor(input, "input", "max_pool2d"), k, s, p, d, bool(ceil_mode), False)
    return (out, idx) if return_indices else out


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, 1, "max_pool1d")
    out, idx = _core._nn_max_pool(_tensor(input, "input", "max_pool1d"), k, s, p, d, bool(ceil_mode), True)
    return (out, idx) if return_indices else out


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1, 2, "avg_pool2d")
    return _core._nn_avg_pool(_tensor(input, "input", "avg_pool2d"), k, s, p, bool(ceil_mode), bool(count_include_pad),
                              divisor_override, False)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1, 1, "avg_pool1d")
    return _core._nn_avg_pool(_tensor(input, "input", "avg_pool1d"), k, s, p, bool(ceil_mode), bool(count_include_pad),
                              None, True)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    if output_size is None or isinstance(output_size, int):
        size = [output_size, output_size]
    else:
        size = list(output_size)
        if len(size) != 2:
            raise TypeError(f"adaptive_avg_pool2d(): output_size must be an int or a pair, got {output_size!r}")
    for v in size:
        if v is not None and (not isinstance(v, int) or v <= 0):
            raise ValueError(f"adaptive_avg_pool2d(): output_size must hold positive ints or None, got {output_size!r}")
    return _core._nn_adaptive_avg_pool2d(_tensor(input, "input", "adaptive_avg_pool2d"), size)


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resizes ``[N, C, W]`` or ``[N, C, H, W]``: modes 'nearest', 'linear' (3-D) and
    'bilinear' (4-D)."""
    x = _tensor(input, "input", "interpolate")
    nsp = x.ndim - 2
    if nsp not in (1, 2):
        raise NotImplementedError(f"interpolate(): input must be 3-D or 4-D, got {x.ndim}-D")
    expected = {1: ("nearest", "linear"), 2: ("nearest", "bilinear")}[nsp]
    if mode not in ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact"):
        raise ValueError(f"interpolate(): unknown mode {mode!r}")
    if mode not in expected:
        raise NotImplementedError(f"interpolate(): mode {mode!r} is not supported for {x.ndim}-D input (supported: {expected})")
    if antialias:
        raise NotImplementedError("interpolate(): antialias=True is not supported")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    in_sp = list(x.shape[2:])
    if size is not None:
        out = [size] * nsp if isinstance(size, int) else list(size)
        if len(out) != nsp:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input with spatial dimensions of {in_sp} and output size of {size}.")
        scales = [None] * nsp
    else:
        sf = [scale_factor] * nsp if isinstance(scale_factor, (int, float)) else list(scale_factor)
        if len(sf) != nsp:
            raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got input with spatial dimensions of {in_sp} and scale_factor of shape {scale_factor}.")
        out = [int(_math.floor(float(n) * float(f))) for n, f in zip(in_sp, sf)]
        scales = [None] * nsp if recompute_scale_factor else [float(f) for f in sf]
    if any((not isinstance(v, int)) or v <= 0 for v in out):
        raise ValueError(f"interpolate(): output sizes must be positive, got {out}")
    return _core._nn_interpolate(x, out, scales, mode, bool(align_corners))


# ----- shape ops (owned by the shape/indexing family) -----


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """Pads the trailing dims of ``input``; ``pad`` lists ``(before, after)`` amounts starting
    from the last dim. ``mode`` is ``"constant"`` (fill with ``value``, default 0; negative
    amounts crop), ``"reflect"`` (mirror, edge not repeated) or ``"replicate"`` (repeat edge)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' must be a Tensor, not {type(input).__name__}")
    return _core.pad(input, list(pad), mode, None if value is None else float(value))


# ----- activations (elementwise helper) -----
# PyTorch's signatures; ``inplace=True`` overwrites ``input`` (refused on leaves that require
# grad, like every in-place op).

__all__ += [
    "elu", "gelu", "hardsigmoid", "hardswish", "hardtanh", "leaky_relu", "logsigmoid", "mish",
    "relu6", "selu", "silu", "softplus", "softsign",
]


def _check(name, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be a Tensor, not {type(input).__name__}")


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    _check("relu6", input)
    return _inplace_or(input, lambda t: t.relu6(), inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    _check("leaky_relu", input)
    return _inplace_or(input, lambda t: t.leaky_relu(negative_slope), inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    _check("elu", input)
    return _inplace_or(input, lambda t: t.elu(alpha), inplace)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    _check("selu", input)
    return _inplace_or(input, lambda t: t.selu(), inplace)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    _check("gelu", input)
    return input.gelu(approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    _check("silu", input)
    return _inplace_or(input, lambda t: t.silu(), inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    _check("mish", input)
    return _inplace_or(input, lambda t: t.mish(), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    _check("softplus", input)
    return input.softplus(beta, threshold)


def softsign(input: Tensor) -> Tensor:
    _check("softsign", input)
    return input.softsign()


def logsigmoid(input: Tensor) -> Tensor:
    _check("logsigmoid", input)
    return input.logsigmoid()


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    _check("hardtanh", input)
    return _inplace_or(input, lambda t: t.hardtanh(min_val, max_val), inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    _check("hardsigmoid", input)
    return _inplace_or(input, lambda t: t.hardsigmoid(), inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    _check("hardswish", input)
    return _inplace_or(input, lambda t: t.hardswish(), inplace)


def _inplace_or(input, fn, inplace):
    """``fn(input)``, or with ``inplace`` the same value written into ``input``. The in-place
    path computes from a clone so the graph stays valid (the value autograd saved is the
    clone, which nothing overwrites)."""
    if not inplace:
        return fn(input)
    return input.copy_(fn(input.clone()))
