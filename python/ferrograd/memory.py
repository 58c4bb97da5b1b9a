"""How much tensor memory is alive: the bytes of every storage buffer, counted exactly when
buffers are created and freed (views share their base's buffer and add nothing)."""

from __future__ import annotations

from ._core import memory_allocated, memory_peak_allocated, memory_reset_peak

__all__ = ["allocated", "peak_allocated", "reset_peak"]


def allocated() -> int:
    """Bytes of live tensor storage in this process."""
    return memory_allocated()


def peak_allocated() -> int:
    """The highest ``allocated()`` since start or since the last ``reset_peak()``."""
    return memory_peak_allocated()


def reset_peak() -> None:
    """Sets the peak to the current allocation."""
    memory_reset_peak()
