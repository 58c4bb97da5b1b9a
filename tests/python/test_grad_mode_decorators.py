"""Grad modes as decorators (functions, generators, coroutines, async generators), reuse of
one instance (nested, recursive, across threads), set_grad_enabled's three uses, and argument
validation."""

import asyncio
import functools
import inspect
import threading
import warnings

import pytest

import ferrograd as fg


def mode():
    return fg.is_grad_enabled(), fg.is_inference_mode_enabled()


NO = (False, False)
ON = (True, False)
INF = (False, True)

# Every decorator spelling, the mode its body runs in when called from the default mode, and
# when called inside no_grad.
SPELLINGS = {
    "no_grad()": (lambda f: fg.no_grad()(f), NO, NO),
    "no_grad": (lambda f: fg.no_grad(f), NO, NO),
    "enable_grad()": (lambda f: fg.enable_grad()(f), ON, ON),
    "enable_grad": (lambda f: fg.enable_grad(f), ON, ON),
    "inference_mode()": (lambda f: fg.inference_mode()(f), INF, INF),
    "inference_mode": (lambda f: fg.inference_mode(f), INF, INF),
    "inference_mode(True)": (lambda f: fg.inference_mode(True)(f), INF, INF),
    "inference_mode(mode=True)": (lambda f: fg.inference_mode(mode=True)(f), INF, INF),
    # Leaving inference mode when it is not on changes nothing (PyTorch would turn grad on).
    "inference_mode(False)": (lambda f: fg.inference_mode(False)(f), ON, NO),
    "set_grad_enabled(False)": (lambda f: fg.set_grad_enabled(False)(f), NO, NO),
    "set_grad_enabled(True)": (lambda f: fg.set_grad_enabled(True)(f), ON, ON),
}


# ---------------------------------------------------------------- 4. plain functions


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_decorated_function_runs_in_its_mode_and_restores(spelling):
    deco, expected, under_no_grad = SPELLINGS[spelling]

    def f(a, b=2, *, c=3):
        """Docstring of f."""
        return mode(), a + b + c

    g = deco(f)
    assert mode() == ON  # decorating changes nothing now
    assert g.__name__ == "f" and g.__doc__ == "Docstring of f." and g.__wrapped__ is f
    assert g(1, c=10) == (expected, 13)
    assert mode() == ON
    with fg.no_grad():
        assert g(1) == (under_no_grad, 6)
        assert mode() == NO


def test_decorator_syntax_forms():
    @fg.no_grad
    def a():
        return mode()

    @fg.no_grad()
    def b():
        return mode()

    @fg.enable_grad
    def c():
        return mode()

    @fg.inference_mode
    def d():
        return mode()

    @fg.inference_mode(False)
    def e():
        return mode()

    @fg.set_grad_enabled(False)
    def f():
        return mode()

    assert mode() == ON
    with fg.no_grad():
        assert (a(), b(), c(), d(), e(), f()) == (NO, NO, ON, INF, NO, NO)
    with fg.inference_mode():
        # inference_mode(False) turns inference off (and grad on) inside inference mode.
        assert e() == ON
        assert mode() == INF


def test_decorated_function_results_do_not_record():
    x = fg.tensor([1.0, 2.0], requires_grad=True)

    @fg.no_grad
    def step():
        return x * 2

    @fg.enable_grad
    def loss():
        return (x * x).sum()

    assert step().grad_fn is None
    with fg.no_grad():
        y = loss()
    y.backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_decorated_function_that_raises_restores_the_mode():
    @fg.inference_mode
    def bad():
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        bad()
    assert mode() == ON


def test_decorated_methods_and_staticmethods():
    class Model:
        @fg.no_grad()
        def predict(self, v):
            return self, v, mode()

        @staticmethod
        @fg.inference_mode
        def stat():
            return mode()

        @classmethod
        @fg.no_grad
        def cls(cls):
            return cls, mode()

    m = Model()
    assert m.predict(3) == (m, 3, NO)
    assert Model.stat() == INF
    assert Model.cls() == (Model, NO)
    assert mode() == ON


def test_decorating_a_callable_object_and_a_partial():
    class Call:
        def __call__(self, v):
            return v, mode()

    assert fg.no_grad(Call())(5) == (5, NO)
    p = functools.partial(lambda a, b: (a, b, mode()), 1)
    assert fg.inference_mode(p)(2) == (1, 2, INF)


def test_recursive_decorated_functions_alternating():
    # Like PyTorch's test_set_grad_generator_functions_recursive, with both decorator kinds
    # and with-blocks calling each other.
    @fg.enable_grad()
    def enable(depth):
        assert mode() == ON
        if depth:
            no(depth - 1)
        assert mode() == ON
        with fg.no_grad():
            if depth:
                enable(depth - 1)
            assert mode() == NO
        return depth

    @fg.no_grad
    def no(depth):
        assert mode() == NO
        if depth:
            enable(depth - 1)
        assert mode() == NO
        with fg.enable_grad():
            if depth:
                no(depth - 1)
            assert mode() == ON
        return depth

    assert enable(8) == 8
    with fg.no_grad():
        assert no(8) == 8
        assert mode() == NO
    assert mode() == ON


# ---------------------------------------------------------------- 9. validation


@pytest.mark.parametrize(
    "make",
    [
        lambda: fg.no_grad(42),
        lambda: fg.no_grad()(42),
        lambda: fg.enable_grad("f"),
        lambda: fg.enable_grad()(None),
        lambda: fg.inference_mode()(3.5),
        lambda: fg.inference_mode(1),
        lambda: fg.inference_mode(None),
        lambda: fg.inference_mode(mode=None),
        lambda: fg.set_grad_enabled(False)(42),
    ],
)
def test_non_callables_raise_type_error_at_once(make):
    with pytest.raises(TypeError):
        make()
    assert mode() == ON


@pytest.mark.parametrize(
    "deco",
    [
        fg.no_grad,
        fg.no_grad(),
        fg.enable_grad,
        fg.enable_grad(),
        fg.inference_mode,
        fg.inference_mode(),
        fg.inference_mode(False),
    ],
)
def test_decorating_a_class_raises_type_error(deco):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a TypeError, not PyTorch's FutureWarning
        with pytest.raises(TypeError, match="class"):

            @deco
            class C:
                pass

    assert mode() == ON


def test_set_grad_enabled_decorating_a_class_raises_and_leaves_the_mode():
    with pytest.raises(TypeError, match="class"):

        @fg.set_grad_enabled(False)
        class C:
            pass

    assert mode() == ON


@pytest.mark.parametrize("bad", [1, 0, None, "yes", 1.0, lambda: None, [True]])
def test_set_grad_enabled_rejects_non_bool_and_changes_nothing(bad):
    with fg.no_grad():
        with pytest.raises(TypeError, match="must be bool"):
            fg.set_grad_enabled(bad)
        assert mode() == NO
    with pytest.raises(TypeError, match="must be bool"):
        fg.set_grad_enabled(bad)
    assert mode() == ON


def test_bare_set_grad_enabled_decorator_raises():
    with pytest.raises(TypeError):

        @fg.set_grad_enabled
        def f():
            pass

    assert mode() == ON


@pytest.mark.parametrize("bad", [1, 0, "no", 2.5, None])
def test_inference_mode_rejects_non_bool_and_changes_nothing(bad):
    with pytest.raises(TypeError, match="must be bool"):
        fg.inference_mode(bad)
    with pytest.raises(TypeError):
        fg.inference_mode(mode=bad)
    assert mode() == ON


# ---------------------------------------------------------------- 8. set_grad_enabled


def test_set_grad_enabled_as_a_function_applies_at_once_and_persists():
    try:
        fg.set_grad_enabled(False)
        assert mode() == NO
        x = fg.tensor([1.0], requires_grad=True)
        assert (x * 2).grad_fn is None
        fg.set_grad_enabled(False)
        assert mode() == NO
        fg.set_grad_enabled(True)
        assert mode() == ON
        assert (x * 2).grad_fn is not None
    finally:
        fg.set_grad_enabled(True)


def test_set_grad_enabled_with_restores_the_mode_before():
    with fg.set_grad_enabled(False):
        assert mode() == NO
        with fg.set_grad_enabled(True):
            assert mode() == ON
        assert mode() == NO
    assert mode() == ON
    with fg.no_grad():
        with fg.set_grad_enabled(True):
            assert mode() == ON
        assert mode() == NO
        with fg.set_grad_enabled(False):
            assert mode() == NO
        assert mode() == NO


def test_set_grad_enabled_function_call_inside_a_block_holds_until_its_end():
    with fg.set_grad_enabled(False):
        fg.set_grad_enabled(True)
        assert mode() == ON
    assert mode() == ON
    with fg.no_grad():
        with fg.enable_grad():
            fg.set_grad_enabled(False)
            assert mode() == NO
        assert mode() == NO
    assert mode() == ON


def test_set_grad_enabled_object_made_in_one_mode_entered_in_another():
    # PyTorch restores the mode seen at construction (its behaviour 17); we restore the mode
    # each enter replaced.
    s = fg.set_grad_enabled(False)  # applies now...
    assert mode() == NO
    fg.set_grad_enabled(True)  # ...the user moves on
    with fg.no_grad():
        with s:
            assert mode() == NO
        assert mode() == NO
    with fg.inference_mode():
        with s:
            assert mode() == INF
        assert mode() == INF
    assert mode() == ON


def test_set_grad_enabled_nested_reuse():
    # PyTorch turns grad on at the inner exit (its behaviour 18).
    s = fg.set_grad_enabled(False)
    with s:
        with s:
            assert mode() == NO
        assert mode() == NO
    assert mode() == ON


def test_set_grad_enabled_decorator_leaves_the_ambient_mode_alone():
    @fg.set_grad_enabled(False)
    def f():
        return mode()

    assert mode() == ON
    assert f() == NO
    assert mode() == ON

    with fg.no_grad():

        @fg.set_grad_enabled(True)
        def g():
            return mode()

        assert mode() == NO
        assert g() == ON
        assert mode() == NO

    s = fg.set_grad_enabled(False)
    h = s(lambda: mode())  # a previously built object used as a decorator
    assert mode() == ON
    assert h() == NO
    assert mode() == ON


def test_set_grad_enabled_object_used_on_another_thread():
    s = fg.set_grad_enabled(False)
    fg.set_grad_enabled(True)
    out = []

    def worker():
        with s:
            out.append(mode())
        out.append(mode())

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert out == [NO, ON]
    assert mode() == ON


# ---------------------------------------------------------------- 7. one instance, reused


@pytest.mark.parametrize(
    "make, inside",
    [(fg.no_grad, NO), (fg.enable_grad, ON), (fg.inference_mode, INF), (lambda: fg.inference_mode(False), ON)],
)
@pytest.mark.parametrize("outer", [None, fg.no_grad, fg.inference_mode, fg.enable_grad])
def test_one_instance_nested_restores_every_level(make, inside, outer):
    m = make()

    def body():
        before = mode()
        with m:
            first = mode()
            with m:
                with m:
                    assert mode() == first
                assert mode() == first
            assert mode() == first
        assert mode() == before
        with m:  # and sequentially again
            assert mode() == first
        assert mode() == before
        return first

    if outer is None:
        assert body() == inside
    else:
        with outer():
            body()
    assert mode() == ON


def test_one_instance_nested_with_an_exception_in_the_middle():
    m = fg.no_grad()
    with pytest.raises(KeyError):
        with m:
            with fg.enable_grad():
                with m:
                    raise KeyError
    assert mode() == ON


NO_GRAD = fg.no_grad()
ENABLE = fg.enable_grad()


@NO_GRAD
def _countdown(n, seen):
    seen.append(mode())
    if n:
        with ENABLE:
            seen.append(mode())
            _countdown(n - 1, seen)
            seen.append(mode())
    seen.append(mode())
    return n


def test_module_level_singleton_decorating_a_recursive_function():
    seen = []
    assert _countdown(5, seen) == 5
    assert mode() == ON
    # Each level: NO on entry, ON around the recursive call, NO at the end.
    assert seen.count(NO) == 12 and seen.count(ON) == 10
    with NO_GRAD:  # the singleton still works as a context manager
        assert mode() == NO
        with NO_GRAD:
            assert _countdown(2, []) == 2
        assert mode() == NO
    assert mode() == ON


def test_one_instance_shared_between_threads():
    m = fg.inference_mode()
    go = threading.Barrier(3)
    results = {}

    def worker(name, outer):
        with outer():
            before = mode()
            with m:
                go.wait(5)  # all three threads are inside m at once
                inside = mode()
                go.wait(5)
            results[name] = (before, inside, mode())

    threads = [
        threading.Thread(target=worker, args=("a", fg.no_grad)),
        threading.Thread(target=worker, args=("b", fg.enable_grad)),
    ]
    for t in threads:
        t.start()
    with m:
        go.wait(5)
        go.wait(5)
    for t in threads:
        t.join()
    assert mode() == ON
    assert results == {"a": (NO, INF, NO), "b": (ON, INF, ON)}


def test_one_instance_exits_on_other_threads_in_any_order():
    # Thread A enters first and exits last; thread B enters and exits in between. Each exit
    # must restore its own thread's mode.
    m = fg.no_grad()
    a_in, b_done = threading.Event(), threading.Event()
    out = {}

    def a():
        with fg.inference_mode():
            with m:
                a_in.set()
                b_done.wait(5)
            out["a"] = mode()

    def b():
        a_in.wait(5)
        with m:
            pass
        out["b"] = mode()
        b_done.set()

    ta, tb = threading.Thread(target=a), threading.Thread(target=b)
    ta.start()
    tb.start()
    ta.join()
    tb.join()
    assert out == {"a": INF, "b": ON}


def test_exit_without_enter_changes_nothing():
    m = fg.no_grad()
    with fg.inference_mode():
        assert m.__exit__(None, None, None) is False
        assert mode() == INF


def test_exit_does_not_suppress_exceptions():
    for m in (fg.no_grad(), fg.enable_grad(), fg.inference_mode(), fg.set_grad_enabled(True)):
        m.__enter__()
        assert m.__exit__(ValueError, ValueError("x"), None) is False
    assert mode() == ON


# ---------------------------------------------------------------- 4. generators


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_generator_body_runs_in_its_mode_and_caller_keeps_its_own(spelling):
    deco, expected, under_no_grad = SPELLINGS[spelling]

    def gen(n):
        """A generator."""
        for i in range(n):
            yield i, mode()
        return "done"

    g = deco(gen)
    assert inspect.isgeneratorfunction(g)
    assert g.__name__ == "gen" and g.__doc__ == "A generator." and g.__wrapped__ is gen
    with fg.no_grad():
        caller = mode()
        for i, seen in g(3):
            assert seen == under_no_grad
            assert mode() == caller  # between yields the caller's mode holds
    assert mode() == ON
    assert list(g(2)) == [(0, expected), (1, expected)]


def test_generator_send_throw_close_run_in_the_mode():
    log = []

    @fg.no_grad
    def coro():
        total = 0
        try:
            while True:
                try:
                    got = yield total
                    log.append(("send", got, mode()))
                    total += got
                except ValueError as e:
                    log.append(("throw", str(e), mode()))
                    total = -1
        finally:
            log.append(("finally", mode()))

    c = coro()
    assert next(c) == 0
    assert mode() == ON
    assert c.send(5) == 5
    assert mode() == ON
    assert c.throw(ValueError("bad")) == -1  # handled inside, in the mode
    assert mode() == ON
    assert c.send(2) == 1
    c.close()
    assert mode() == ON
    assert log == [
        ("send", 5, NO),
        ("throw", "bad", NO),
        ("send", 2, NO),
        ("finally", NO),
    ]


def test_generator_exception_transformed_inside_propagates():
    @fg.inference_mode
    def gen():
        try:
            yield 1
        except ValueError:
            raise KeyError("converted")

    g = gen()
    next(g)
    with pytest.raises(KeyError, match="converted"):
        g.throw(ValueError())
    assert mode() == ON


def test_generator_unhandled_throw_and_error_in_body():
    @fg.no_grad
    def gen():
        yield 1
        raise RuntimeError("body failed")

    g = gen()
    assert next(g) == 1
    with pytest.raises(RuntimeError, match="body failed"):
        next(g)
    assert mode() == ON
    g = gen()
    next(g)
    with pytest.raises(IndexError):
        g.throw(IndexError())
    assert mode() == ON


def test_generator_return_value_reaches_yield_from():
    @fg.no_grad
    def inner():
        got = yield "a"
        yield got
        return "ret", mode()

    def outer():
        result = yield from inner()
        yield result

    o = outer()
    assert next(o) == "a"
    assert o.send("sent") == "sent"
    assert next(o) == ("ret", NO)
    assert mode() == ON


def test_generator_garbage_collected_mid_way_runs_finally_in_its_mode():
    log = []

    @fg.inference_mode
    def gen():
        try:
            yield 1
            yield 2
        finally:
            log.append(mode())

    g = gen()
    next(g)
    del g
    import gc

    gc.collect()
    assert log == [INF]
    assert mode() == ON


def test_generator_closed_before_start():
    log = []

    @fg.no_grad
    def gen():
        log.append("started")
        yield 1

    g = gen()
    g.close()
    assert log == [] and mode() == ON


def test_generators_from_one_decorator_interleave():
    @fg.no_grad
    def gen(tag):
        for i in range(3):
            yield tag, i, mode()

    a, b = gen("a"), gen("b")
    out = []
    with fg.inference_mode():
        for _ in range(3):
            out.append(next(a))
            assert mode() == INF
            out.append(next(b))
    assert all(m == (False, True) for *_, m in out)  # no_grad inside inference keeps it on
    a2, b2 = gen("a"), gen("b")
    assert [next(a2), next(b2), next(a2)] == [("a", 0, NO), ("b", 0, NO), ("a", 1, NO)]
    assert mode() == ON


def test_recursive_generator():
    @fg.enable_grad
    def walk(n):
        yield n, mode()
        if n:
            with fg.no_grad():
                yield from walk(n - 1)

    with fg.no_grad():
        assert list(walk(3)) == [(3, ON), (2, ON), (1, ON), (0, ON)]
        assert mode() == NO


# ---------------------------------------------------------------- 9. coroutines


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_async_def_is_a_coroutine_function_running_in_its_mode(spelling):
    deco, expected, _ = SPELLINGS[spelling]

    async def work(x):
        """Async work."""
        first = mode()
        await asyncio.sleep(0)
        second = mode()
        await asyncio.sleep(0.001)
        return x, first, second, mode()

    w = deco(work)
    assert inspect.iscoroutinefunction(w)
    assert asyncio.iscoroutinefunction(w)
    assert w.__name__ == "work" and w.__doc__ == "Async work." and w.__wrapped__ is work
    assert asyncio.run(w(7)) == (7, expected, expected, expected)
    assert mode() == ON


def test_two_coroutines_with_opposite_modes_interleave():
    log = []

    @fg.no_grad
    async def off(n):
        for i in range(n):
            log.append(("off", mode()))
            await asyncio.sleep(0)
        return "off"

    @fg.inference_mode
    async def inf(n):
        for i in range(n):
            log.append(("inf", mode()))
            await asyncio.sleep(0)
        return "inf"

    @fg.enable_grad
    async def on(n):
        for i in range(n):
            log.append(("on", mode()))
            await asyncio.sleep(0)
        return "on"

    async def observer(n):
        # An undecorated task sees the loop's own mode between the others' steps.
        for i in range(n):
            log.append(("loop", mode()))
            await asyncio.sleep(0)

    async def main():
        with fg.no_grad():  # the loop thread's mode while the tasks run
            res = await asyncio.gather(off(20), inf(20), on(20), observer(20))
        return res

    assert asyncio.run(main())[:3] == ["off", "inf", "on"]
    expected = {"off": NO, "inf": INF, "on": ON, "loop": NO}
    tags = [t for t, _ in log]
    # They did interleave.
    assert tags[:4] == ["off", "inf", "on", "loop"]
    assert all(m == expected[t] for t, m in log), log
    assert mode() == ON


def test_coroutine_exception_and_cancellation_restore():
    @fg.no_grad
    async def fails():
        await asyncio.sleep(0)
        raise ValueError("async boom")

    with pytest.raises(ValueError, match="async boom"):
        asyncio.run(fails())
    assert mode() == ON

    log = []

    @fg.inference_mode
    async def slow():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            log.append(("cancelled", mode()))
            raise
        finally:
            log.append(("finally", mode()))

    async def main():
        t = asyncio.ensure_future(slow())
        await asyncio.sleep(0.01)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        return mode()

    assert asyncio.run(main()) == ON
    assert log == [("cancelled", INF), ("finally", INF)]
    assert mode() == ON


def test_coroutine_exception_caught_inside_and_value_returned():
    @fg.no_grad
    async def inner():
        await asyncio.sleep(0)
        raise KeyError("k")

    @fg.enable_grad
    async def outer():
        try:
            await inner()
        except KeyError:
            pass
        await asyncio.sleep(0)
        return mode()

    async def main():
        with fg.no_grad():
            return await outer()

    assert asyncio.run(main()) == ON


def test_coroutine_awaiting_a_future_gets_its_result():
    @fg.no_grad
    async def waits(fut):
        value = await fut
        return value, mode()

    async def main():
        fut = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(0.001, fut.set_result, 42)
        return await waits(fut)

    assert asyncio.run(main()) == (42, NO)


def test_async_generator():
    @fg.no_grad
    async def agen(n):
        for i in range(n):
            await asyncio.sleep(0)
            yield i, mode()

    assert inspect.isasyncgenfunction(agen)

    async def main():
        out = []
        async for item in agen(3):
            out.append((item, mode()))
        return out

    assert asyncio.run(main()) == [((i, NO), ON) for i in range(3)]
    assert mode() == ON


def test_async_generator_asend_athrow_aclose_run_in_the_mode():
    log = []

    @fg.inference_mode
    async def agen():
        try:
            while True:
                try:
                    got = yield mode()
                    log.append(("send", got, mode()))
                except ValueError:
                    log.append(("throw", mode()))
        finally:
            await asyncio.sleep(0)
            log.append(("finally", mode()))

    async def main():
        g = agen()
        assert await g.asend(None) == INF
        assert await g.asend("x") == INF
        assert mode() == ON
        assert await g.athrow(ValueError()) == INF
        await g.aclose()
        return mode()

    assert asyncio.run(main()) == ON
    assert log == [("send", "x", INF), ("throw", INF), ("finally", INF)]


# ---------------------------------------------------------------- the body keeps its own mode


def test_with_block_spanning_a_yield_in_a_decorated_generator():
    # The body's own `with` blocks survive its yields; PyTorch re-applies the decorated mode on
    # every resume, so there the inner block's mode is lost after the first yield.
    @fg.enable_grad
    def gen():
        yield mode()
        with fg.no_grad():
            yield mode()
            yield mode()
        yield mode()

    with fg.inference_mode():
        it = gen()
        out = []
        for m in it:
            out.append(m)
            assert mode() == INF
    assert out == [(True, True), (False, True), (False, True), (True, True)]


def test_with_block_spanning_an_await_in_interleaved_coroutines():
    log = []

    @fg.enable_grad
    async def worker(tag, ctx):
        with ctx():
            for _ in range(5):
                log.append((tag, mode()))
                await asyncio.sleep(0)
        log.append((tag + "-after", mode()))

    async def main():
        await asyncio.gather(worker("no", fg.no_grad), worker("inf", fg.inference_mode))
        return mode()

    assert asyncio.run(main()) == ON
    assert {m for t, m in log if t == "no"} == {NO}
    assert {m for t, m in log if t == "inf"} == {INF}
    assert {m for t, m in log if t.endswith("after")} == {ON}
    assert mode() == ON


def test_decorated_generator_moved_between_threads_keeps_its_mode():
    @fg.no_grad
    def gen():
        while True:
            yield mode()

    g = gen()
    assert next(g) == NO
    assert _run_in_thread(lambda: next(g)) == NO
    assert next(g) == NO
    g.close()
    assert mode() == ON


def _run_in_thread(fn):
    out = []
    t = threading.Thread(target=lambda: out.append((fn(), mode())))
    t.start()
    t.join()
    value, after = out[0]
    assert after == ON  # the thread's own mode came back
    return value


def test_inference_mode_argument_errors():
    with pytest.raises(TypeError, match="at most 1"):
        fg.inference_mode(True, False)
    with pytest.raises(TypeError, match="unexpected keyword"):
        fg.inference_mode(enabled=True)
    with pytest.raises(TypeError, match="multiple values"):
        fg.inference_mode(True, mode=True)
    assert fg.inference_mode(mode=False).mode is False
    assert fg.inference_mode().mode is True
