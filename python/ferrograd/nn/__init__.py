"""Neural-network building blocks: ``Module``, ``Parameter``, layers, losses, ``init`` and
``utils`` (gradient clipping), with PyTorch's names and defaults."""

from . import functional, init, utils
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _module_names
from .parameter import Parameter

__all__ = ["Parameter", "functional", "init", "utils", *_module_names]
