"""``ferrograd.linalg``: norms with ``torch.linalg``'s conventions.

``vector_norm`` reduces over ``dim`` (every dim when ``None``) with ``ord`` in
{2 (default), 1, inf, -inf, 0, any real}. ``matrix_norm`` reduces the two dims ``dim``
(default ``(-2, -1)``) with ``ord`` in {"fro" (default), "nuc", inf, -inf, 1, -1, 2, -2}; the
nuclear and spectral (2, -2) norms go through ``svdvals``. ``norm`` picks between them as
``torch.linalg.norm`` does. ``svd`` and ``svdvals`` decompose the last two dims (batched over
the others) with a one-sided Jacobi SVD computed in float64.
"""

from __future__ import annotations

import math
from collections import namedtuple

from ._core import DTypeError, FerrogradError, ShapeError, Tensor, _linalg_svd, _linalg_svdvals

__all__ = ["matrix_norm", "norm", "svd", "svdvals", "vector_norm"]

#: The result of ``svd``: ``U``, ``S`` (descending) and ``Vh``, as ``torch.linalg.svd`` returns.
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])


def svd(A, full_matrices=True, *, driver=None):
    """``A = U @ diag(S) @ Vh`` over the last two dims (``torch.linalg.svd``). With
    ``full_matrices=False`` U is ``[..., m, k]`` and Vh ``[..., k, n]`` (``k = min(m, n)``).
    The signs of the singular vectors are arbitrary. Differentiable for distinct singular
    values; the extra columns of the full form receive no gradient (as in PyTorch)."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.svd(): argument 'A' must be a Tensor, not {type(A).__name__}")
    if driver is not None:
        raise FerrogradError("linalg.svd: driver is only supported on CUDA inputs")
    return SVDResult(*_linalg_svd(A, bool(full_matrices)))


def svdvals(A, *, driver=None):
    """The singular values of each matrix in ``A`` (last two dims), descending."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.svdvals(): argument 'A' must be a Tensor, not {type(A).__name__}")
    if driver is not None:
        raise FerrogradError("linalg.svdvals: driver is only supported on CUDA inputs")
    return _linalg_svdvals(A)


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
    if ord == "nuc" or (not isinstance(ord, str) and ord in (2, -2)):
        # Singular values of the (r, c) matrices, moved last; then sum / max / min of them.
        sv = svdvals(x.movedim((r, c), (-2, -1)))
        out = sv.sum(-1) if ord == "nuc" else (sv.amax(-1) if ord == 2 else sv.amin(-1))
        if keepdim:
            for d in sorted((r, c)):
                out = out.unsqueeze(d)
        return out
    if isinstance(ord, str):
        raise FerrogradError(f"linalg.matrix_norm: unsupported ord {ord!r}; expected 'fro', 'nuc', inf, -inf, 1, -1, 2 or -2")
    if ord in (math.inf, -math.inf):
        # Largest (smallest) absolute row sum: sum over columns first.
        summed, other = c, r
    elif ord in (1, -1):
        summed, other = r, c
    else:
        raise FerrogradError(f"linalg.matrix_norm: unsupported ord {ord!r}; expected 'fro', 'nuc', inf, -inf, 1, -1, 2 or -2")
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
