"""``ferrograd.linalg``: norms with ``torch.linalg``'s conventions.

``vector_norm`` reduces over ``dim`` (every dim when ``None``) with ``ord`` in
{2 (default), 1, inf, -inf, 0, any real}. ``matrix_norm`` reduces the two dims ``dim``
(default ``(-2, -1)``) with ``ord`` in {"fro" (default), inf, -inf, 1, -1}; the spectral (2, -2)
and nuclear ("nuc") norms need an SVD and are not provided. ``norm`` picks between them as
``torch.linalg.norm`` does.
"""

from __future__ import annotations

import math

from ._core import DTypeError, FerrogradError, ShapeError, Tensor

__all__ = ["matrix_norm", "norm", "vector_norm"]


def _check(x, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.{name}(): argument 'x' must be a Tensor, not {type(x).__name__}")
    if not x.is_floating_point():
        raise DTypeError(f"linalg.{name}: expected a floating point tensor, got {x.dtype}")


def _cast(x, dtype):
    return x if dtype is None else x.to(dtype)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector ``ord``-norm of ``x`` over ``dim`` (all elements when ``None``)."""
    _check(_cast(x, dtype), "vector_norm")
    if isinstance(ord, str):
        raise FerrogradError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    return _cast(x, dtype).norm(float(ord), dim, keepdim)


def matrix_norm(x, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The matrix ``ord``-norm over the two dims ``dim``."""
    x = _cast(x, dtype)
    _check(x, "matrix_norm")
    if x.ndim < 2:
        raise ShapeError(f"linalg.matrix_norm: the input must have at least 2 dimensions, got shape {tuple(x.shape)}")
    dim = tuple(dim)
    if len(dim) != 2:
        raise ShapeError(f"linalg.matrix_norm: dim must be a 2-tuple, got {dim}")
    r, c = (d % x.ndim if -x.ndim <= d < x.ndim else d for d in dim)
    if not (0 <= r < x.ndim and 0 <= c < x.ndim):
        raise IndexError(f"linalg.matrix_norm: dims {dim} out of range for a {x.ndim}-D tensor")
    if r == c:
        raise FerrogradError(f"linalg.matrix_norm: dims must be different, got {dim}")
    if ord == "fro":
        return x.norm(2.0, (r, c), keepdim)
    if ord == "nuc" or ord in (2, -2):
        raise FerrogradError(f"linalg.matrix_norm: ord={ord!r} needs a singular value decomposition, which ferrograd does not provide")
    if ord in (math.inf, -math.inf):
        # Largest (smallest) absolute row sum: sum over columns first.
        summed, other = c, r
    elif ord in (1, -1):
        summed, other = r, c
    else:
        raise FerrogradError(f"linalg.matrix_norm: unsupported ord {ord!r}; expected 'fro', inf, -inf, 1 or -1")
    s = x.abs().sum(summed, keepdim=True)
    out = s.amax(other, keepdim=True) if ord > 0 else s.amin(other, keepdim=True)
    return out if keepdim else out.squeeze((r, c))


def norm(x, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``torch.linalg.norm``: a vector norm when ``dim`` is an int (or ``x`` is 1-D with
    ``dim=None``), a matrix norm when ``dim`` is a 2-tuple (or ``x`` is 2-D with ``ord`` given),
    and the 2-norm of the flattened tensor when both ``ord`` and ``dim`` are ``None``."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        dim = tuple(dim)
        if len(dim) == 1:
            return vector_norm(x, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
        if len(dim) == 2:
            return matrix_norm(x, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
        raise ShapeError(f"linalg.norm: dim must be an int or a 2-tuple, got {dim}")
    if ord is None:
        return vector_norm(x, 2, None, keepdim, dtype=dtype)
    if x.ndim == 1:
        return vector_norm(x, ord, None, keepdim, dtype=dtype)
    if x.ndim == 2:
        return matrix_norm(x, ord, (-2, -1), keepdim, dtype=dtype)
    raise ShapeError(f"linalg.norm: with ord={ord!r} and dim=None the input must be 1-D or 2-D, got {x.ndim}-D")
