"""The exception classes: ``FerrogradError`` (a ``RuntimeError``) and its subclasses.
Bad dims raise ``IndexError`` and bad argument types ``TypeError``, as in PyTorch."""

from ._core import AutogradError, DTypeError, FerrogradError, ShapeError

__all__ = ["AutogradError", "DTypeError", "FerrogradError", "ShapeError"]
