"""How the grad-mode classes decorate functions.

The mode object (a ``no_grad``, ``enable_grad``, ``set_grad_enabled`` or ``inference_mode``
instance, implemented in Rust) is entered around every call of a plain function. Its saved
modes live on a per-thread stack tagged with the object, so sharing one object between calls,
recursion levels and threads is safe.

Generators, coroutines and async generators are driven step by step (``next``, ``send``,
``throw``, ``close``, and each resumption by the event loop). The body runs in its *own* mode:
the decorated mode at the first step, then whatever mode the body itself was in when it last
suspended, so a ``with`` block inside the body that spans a ``yield`` or an ``await`` keeps
working. Between steps the caller's (or the event loop's) mode holds, so two such coroutines
interleaving in one loop never see each other's mode.
"""

from __future__ import annotations

import functools
import inspect
import types

from ._core import _get_mode, _set_mode


@types.coroutine
def _suspend(value):
    # Hands one value yielded by the inner awaitable to the event loop and returns what the
    # loop sends back.
    return (yield value)


async def _drive(awaitable, state):
    """Awaits ``awaitable`` (a coroutine, or an async generator's ``asend``/``athrow``/
    ``aclose`` object), running each of its steps in the body mode ``state[0]`` and storing
    the mode the body left in ``state[0]`` after each step."""
    sent, error = None, None
    while True:
        prev = _set_mode(state[0])
        try:
            if error is None:
                yielded = awaitable.send(sent)
            else:
                exc, error = error, None
                yielded = awaitable.throw(exc)
        except StopIteration as stop:
            return stop.value
        finally:
            state[0] = _set_mode(prev)
        try:
            sent = await _suspend(yielded)
        except BaseException as exc:  # noqa: BLE001 - cancellation, close(): forwarded inside
            error = exc


def _wrap_coroutine(ctx, func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        return await _drive(func(*args, **kwargs), [ctx._target(_get_mode())])

    return wrapper


def _wrap_async_generator(ctx, func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        agen = func(*args, **kwargs)
        state = [ctx._target(_get_mode())]
        try:
            value = await _drive(agen.asend(None), state)
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    await _drive(agen.aclose(), state)
                    raise
                except BaseException as exc:  # noqa: BLE001 - athrow(): forwarded inside
                    value = await _drive(agen.athrow(exc), state)
                else:
                    value = await _drive(agen.asend(sent), state)
        except StopAsyncIteration:
            return

    return wrapper


def _wrap_generator(ctx, func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gen = func(*args, **kwargs)
        body = ctx._target(_get_mode())
        try:
            prev = _set_mode(body)
            try:
                value = gen.send(None)
            finally:
                body = _set_mode(prev)
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    prev = _set_mode(body)
                    try:
                        gen.close()  # a `finally` in the body runs in its mode
                    finally:
                        _set_mode(prev)
                    raise
                except BaseException as exc:  # noqa: BLE001 - throw(): forwarded inside
                    step, arg = gen.throw, exc
                else:
                    step, arg = gen.send, sent
                prev = _set_mode(body)
                try:
                    value = step(arg)
                finally:
                    body = _set_mode(prev)
        except StopIteration as stop:
            return stop.value  # reaches `yield from`

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
