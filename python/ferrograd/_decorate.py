"""How the grad-mode classes decorate functions.

The mode object (a ``no_grad``, ``enable_grad``, ``set_grad_enabled`` or ``inference_mode``
instance, implemented in Rust) is entered around every call. For generator functions it is
entered around every step (``next``, ``send``, ``throw``, ``close``) and for ``async def``
functions around every step of the coroutine, so the caller's (or the event loop's) mode holds
between steps. Each instance keeps a per-thread stack of saved modes, so sharing one between
calls, recursion levels and threads is safe.
"""

from __future__ import annotations

import functools
import inspect
import types


@types.coroutine
def _suspend(value):
    # Hands one value yielded by the inner coroutine to the event loop and returns what the
    # loop sends back.
    return (yield value)


def _wrap_coroutine(ctx, func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        coro = func(*args, **kwargs)
        send, error = None, None
        try:
            while True:
                with ctx:
                    try:
                        if error is None:
                            yielded = coro.send(send)
                        else:
                            exc, error = error, None
                            yielded = coro.throw(exc)
                    except StopIteration as stop:
                        return stop.value
                try:
                    send = await _suspend(yielded)
                except BaseException as exc:  # noqa: BLE001 - forwarded into the coroutine
                    error = exc
        finally:
            with ctx:
                coro.close()

    return wrapper


def _wrap_generator(ctx, func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gen = func(*args, **kwargs)
        try:
            with ctx:
                value = next(gen)
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    with ctx:
                        gen.close()
                    raise
                except BaseException as exc:  # noqa: BLE001 - forwarded into the generator
                    with ctx:
                        value = gen.throw(exc)
                else:
                    with ctx:
                        value = gen.send(sent)
        except StopIteration as stop:
            return stop.value

    return wrapper


def _wrap_async_generator(ctx, func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        agen = func(*args, **kwargs)
        asend = agen.asend
        value = None
        while True:
            step = asend(value)
            try:
                out = await _wrap_coroutine(ctx, lambda: step)()
            except StopAsyncIteration:
                return
            value = yield out

    return wrapper


def wrap(ctx, func):
    """``func`` with ``ctx`` applied around each of its calls (or steps)."""
    if inspect.iscoroutinefunction(func):
        return _wrap_coroutine(ctx, func)
    if inspect.isasyncgenfunction(func):
        return _wrap_async_generator(ctx, func)
    if inspect.isgeneratorfunction(func):
        return _wrap_generator(ctx, func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with ctx:
            return func(*args, **kwargs)

    return wrapper
