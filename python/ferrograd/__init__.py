"""ferrograd: a CPU autograd engine with a Rust core and a PyTorch-like API."""

from __future__ import annotations

from . import _core
from ._core import (
    AutogradError,
    DTypeError,
    FerrogradError,
    ShapeError,
    Tensor,
    __version__,
    arange,
    as_tensor,
    bool,
    double,
    empty,
    empty_like,
    enable_grad,
    eye,
    float,
    float32,
    float64,
    from_numpy,
    full,
    full_like,
    get_num_threads,
    inference_mode,
    initial_seed,
    int64,
    is_grad_enabled,
    is_inference_mode_enabled,
    linspace,
    long,
    manual_seed,
    no_grad,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    set_grad_enabled,
    set_num_threads,
    tensor,
    zeros,
    zeros_like,
)
from ._core import dtype as dtype
from . import autograd, errors, memory, nn  # noqa: E402  (submodules need the names above)
from . import testing  # noqa: E402
from . import linalg  # noqa: E402
from . import optim, train, utils  # noqa: E402
from .serialization import load, save  # noqa: E402
from .utils.data import Generator  # noqa: E402
from ._core import where  # noqa: E402
from ._functions import *  # noqa: F401,F403,E402
from ._functions import __all__ as _function_names  # noqa: E402
from ._shape_functions import *  # noqa: F401,F403,E402
from ._shape_functions import __all__ as _shape_function_names  # noqa: E402
from ._reduce import *  # noqa: F401,F403,E402
from ._reduce import __all__ as _reduce_names  # noqa: E402

__all__ = [
    "AutogradError",
    "DTypeError",
    "FerrogradError",
    "Generator",
    "ShapeError",
    "Tensor",
    "arange",
    "as_tensor",
    "autograd",
    "bool",
    "double",
    "dtype",
    "empty",
    "empty_like",
    "enable_grad",
    "errors",
    "eye",
    "float",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "full_like",
    "get_num_threads",
    "inference_mode",
    "initial_seed",
    "int64",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "linalg",
    "linspace",
    "load",
    "long",
    "manual_seed",
    "memory",
    "nn",
    "no_grad",
    "optim",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "save",
    "set_grad_enabled",
    "set_num_threads",
    "tensor",
    "testing",
    "train",
    "utils",
    "where",
    "zeros",
    "zeros_like",
    *_function_names,
    *_shape_function_names,
    *_reduce_names,
]
