#!/usr/bin/env python3
"""Side-by-side benchmarks: ferrograd against NumPy (and PyTorch when it is importable).

Every workload is written once against a small adapter interface; each framework supplies an
adapter. Within one repeat the frameworks run back to back (interleaved), so a ratio
ferrograd/peer is computed pair by pair from samples taken moments apart, which keeps the
ratios meaningful on a noisy shared machine even when absolute figures drift. Before each
sample the process idles for `QUIESCE_S`, so the previous framework's worker threads have gone
to sleep: PyTorch's OpenMP workers keep spinning for milliseconds after each parallel region
(ours for 0.1 ms), and on two cores a spinning neighbour takes half the machine from the next
framework's sample. Each figure is the median of the repeats, with min and max. Memory figures
run each variant in a fresh process, which returns its setup's freed heap to the OS before
taking the baseline (otherwise whoever mallocs its results reuses those resident pages for free).

    python benches/python/compare.py              # full run (a few minutes), table + JSON
    python benches/python/compare.py --quick      # fewer repeats, smaller sizes skipped
    python benches/python/compare.py --only W1,W3 # a subset

Nothing here asserts timings; this is a measurement tool, not a test.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np

THREADS = 2
MiB = 1024 * 1024

# Reference figures from /work/shared/perf/anchors.md (PyTorch 2.13 CPU, NumPy 2.4, same machine
# kind). They are NOT from this run: the table uses them only when torch cannot be imported.
TORCH_ANCHOR = {
    "W1 a+b 100 el, grad on": 1.13,
    "W1 a+b 100 el, grad off": 1.07,
    "W1 a+b 1 el, grad off": 0.99,
    "no_grad enter+exit": 1.3,
    "W2 a*b+c 1M": 35.8,
    "W2 a*b+c 16M": 6.7,
    "W2 relu 1M": 55.1,
    "W2 exp 1M": 52.9,
    "W2 relu 16M": 7.5,
    "W2 exp 16M": 6.8,
    "W3 matmul 128": 230.0,
    "W3 matmul 512": 318.0,
    "W3 matmul 1024": 334.0,
    "W3 matmul 2048": 331.0,
    "W4 MLP step b64": 0.758,
    "W4 MLP step b512": 2.66,
    "W5 8x2048 b256 no_grad": 63.1,
    "W5 8x2048 b256 grad": 65.1,
    "W5 peak over baseline, no_grad": 24.4,
    "W6 chain 100k, per node": 7.9,
}

# Targets from the performance issue: (peer, comparison, factor). For a time ("lower") unit the
# ratio ferrograd/peer must be <= factor; for a rate ("higher") unit it must be >= factor.
# ("abs", "<=", x) is an absolute bound in the workload's unit.
TARGETS = {
    "W1 a+b 100 el, grad on": ("torch", "<=", 0.5),
    "W1 a+b 100 el, grad off": ("numpy", "<=", 1.0),
    "no_grad enter+exit": ("abs", "<=", 0.3),
    "W2 a*b+c 16M": ("torch", ">=", 2.0),
    "W2 relu 1M": ("torch", ">=", 1.0),
    "W2 exp 1M": ("torch", ">=", 1.0),
    "W2 relu 16M": ("torch", ">=", 1.0),
    "W2 exp 16M": ("torch", ">=", 1.0),
    "W3 matmul 128": ("torch", ">=", 1.0),
    "W3 matmul 512": ("torch", ">=", 1.0),
    "W3 matmul 1024": ("torch", ">=", 0.9),
    "W3 matmul 2048": ("torch", ">=", 0.9),
    "W4 MLP step b64": ("torch", "<=", 0.6),
    "W4 MLP step b512": ("torch", "<=", 1.0),
    "W5 8x2048 b256 no_grad": ("torch", "<=", 1.0),
    # The RSS rise of a fresh process whose setup garbage went back to the OS (see
    # `release_free_heap`): activations plus kernel workspaces, as the process sees them.
    "W5 peak over baseline, no_grad": ("numpy", "<=", 1.1),
    "W5 saved activations": ("abs", "<=", 15.4),  # 1.1x the analytic 14.0 MiB
    "W6 chain 100k, per node": ("abs", "<=", 2.0),
}


# ----------------------------------------------------------------------------------------------
# Adapters
# ----------------------------------------------------------------------------------------------


class Adapter:
    name = "?"
    autograd = True

    def setup(self):
        pass

    def sync(self):
        pass


class FerroAdapter(Adapter):
    name = "ferrograd"

    def setup(self):
        import ferrograd as fg

        self.fg = fg
        fg.set_num_threads(THREADS)
        fun = getattr(getattr(fg.nn, "functional", None), "linear", None)
        self._linear = fun

    def from_numpy(self, a, requires_grad=False):
        t = self.fg.tensor(np.ascontiguousarray(a))
        if requires_grad:
            t.requires_grad_(True)
        return t

    def no_grad(self):
        return self.fg.no_grad()

    def linear(self, x, w, b):
        if self._linear is not None:
            return self._linear(x, w, b)
        return x @ w.t() + b

    def relu(self, x):
        return x.relu()

    def exp(self, x):
        return x.exp()

    def cross_entropy(self, logits, target):
        return self.fg.nn.functional.cross_entropy(logits, target)

    def target(self, y):
        return self.fg.tensor(y.astype(np.int64))

    def scalar_leaf(self):
        return self.fg.tensor([1.0], dtype=self.fg.float32).requires_grad_(True)

    def live_bytes(self):
        return self.fg.memory.allocated()

    def peak_bytes(self):
        return self.fg.memory.peak_allocated()

    def reset_peak(self):
        self.fg.memory.reset_peak()

    def set_threads(self, n):
        self.fg.set_num_threads(n)


class TorchAdapter(Adapter):
    name = "torch"

    def setup(self):
        import torch

        self.torch = torch
        torch.set_num_threads(THREADS)

    def from_numpy(self, a, requires_grad=False):
        t = self.torch.from_numpy(np.ascontiguousarray(a).copy())
        if requires_grad:
            t.requires_grad_(True)
        return t

    def no_grad(self):
        return self.torch.no_grad()

    def linear(self, x, w, b):
        return self.torch.nn.functional.linear(x, w, b)

    def relu(self, x):
        return x.relu()

    def exp(self, x):
        return x.exp()

    def cross_entropy(self, logits, target):
        return self.torch.nn.functional.cross_entropy(logits, target)

    def target(self, y):
        return self.torch.from_numpy(y.astype(np.int64))

    def scalar_leaf(self):
        return self.torch.tensor([1.0], dtype=self.torch.float32, requires_grad=True)

    def set_threads(self, n):
        self.torch.set_num_threads(n)


class NumpyAdapter(Adapter):
    """Plain NumPy: no autograd, so training workloads use a hand-written backward."""

    name = "numpy"
    autograd = False

    def from_numpy(self, a, requires_grad=False):
        return np.ascontiguousarray(a).copy()

    def no_grad(self):
        return nullcontext()

    def linear(self, x, w, b):
        return x @ w.T + b

    def relu(self, x):
        return np.maximum(x, 0)

    def exp(self, x):
        return np.exp(x)

    def target(self, y):
        return y.astype(np.int64)


def adapters():
    out = [FerroAdapter(), NumpyAdapter()]
    try:
        import torch  # noqa: F401

        out.append(TorchAdapter())
    except Exception:  # torch is optional and never required
        pass
    for a in out:
        a.setup()
    return out


# ----------------------------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------------------------


def calibrate(fn, target_s):
    """Calls per sample so one sample lasts about `target_s`."""
    fn()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= target_s / 4 or n >= 1 << 22:
            return max(1, int(n * target_s / max(dt, 1e-9)))
        n *= 4


# Idle time before every sample (see the module docstring); longer than any framework's spin.
QUIESCE_S = 0.03


def sample(fn, n, clock=time.perf_counter):
    gc.collect()
    time.sleep(QUIESCE_S)
    gc.disable()
    try:
        t0 = clock()
        for _ in range(n):
            fn()
        return (clock() - t0) / n
    finally:
        gc.enable()


# Work that runs entirely on the calling thread (per-op overhead, long chains of tiny ops) is
# timed with the thread's CPU clock: on a shared machine the wall clock of such a loop mostly
# measures how long other processes held the core. Multi-threaded work needs the wall clock.
THREAD_CLOCK = time.thread_time


class Result:
    def __init__(self, name, unit, higher, note=""):
        self.name, self.unit, self.higher, self.note = name, unit, higher, note
        self.samples = {}  # framework -> [figure per repeat]

    def add(self, fw, value):
        self.samples.setdefault(fw, []).append(value)

    def stats(self, fw):
        s = self.samples.get(fw)
        if not s:
            return None
        return {"median": statistics.median(s), "min": min(s), "max": max(s), "n": len(s)}

    def ratio(self, peer):
        """Median of the per-repeat ratios ferrograd/peer (pairs taken in the same repeat)."""
        a, b = self.samples.get("ferrograd"), self.samples.get(peer)
        if not a or not b:
            return None
        return statistics.median(x / y for x, y in zip(a, b) if y)


def run_timed(name, unit, higher, fws, make, convert, repeats, target_s=0.05, note="", clock=time.perf_counter):
    """`make(adapter)` returns a zero-argument callable (or None when unsupported);
    `convert(seconds_per_call)` turns a time into the workload's unit."""
    res = Result(name, unit, higher, note)
    calls = []
    for a in fws:
        fn = make(a)
        if fn is None:
            continue
        calls.append((a.name, fn, calibrate(fn, target_s)))
    for _ in range(repeats):
        for fw, fn, n in calls:
            res.add(fw, convert(sample(fn, n, clock)))
    del calls
    gc.collect()
    return res


# ----------------------------------------------------------------------------------------------
# Workloads (written once)
# ----------------------------------------------------------------------------------------------

rng = np.random.default_rng(0)


def f32(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def w1(fws, reps, quick):
    out = []
    for n, grad in ((100, True), (100, False), (1, False)):
        a_np, b_np = f32(n), f32(n)

        def make(ad, grad=grad, a_np=a_np, b_np=b_np):
            if grad and not ad.autograd:
                return None
            a, b = ad.from_numpy(a_np, requires_grad=grad), ad.from_numpy(b_np)
            return lambda: a + b

        name = f"W1 a+b {n} el, grad {'on' if grad else 'off'}"
        out.append(run_timed(name, "us/op", False, fws, make, lambda s: s * 1e6, reps, 0.03, note="thread CPU time", clock=THREAD_CLOCK))

    def make_ng(ad):
        if not ad.autograd:
            return None
        ng = ad.no_grad

        def f():
            with ng():
                pass

        return f

    out.append(run_timed("no_grad enter+exit", "us", False, fws, make_ng, lambda s: s * 1e6, reps, 0.03, note="thread CPU time", clock=THREAD_CLOCK))
    return out


def w2(fws, reps, quick):
    out = []
    sizes = (1 << 20,) if quick else (1 << 20, 1 << 24)
    for n in sizes:
        label = "1M" if n == 1 << 20 else "16M"
        a_np, b_np, c_np = f32(n), f32(n), f32(n)

        def make_fma(ad, a_np=a_np, b_np=b_np, c_np=c_np):
            a, b, c = ad.from_numpy(a_np), ad.from_numpy(b_np), ad.from_numpy(c_np)
            return lambda: a * b + c

        out.append(run_timed(f"W2 a*b+c {label}", "GB/s", True, fws, make_fma, lambda s, n=n: 16 * n / s / 1e9, reps, 0.1))
        for op in ("relu", "exp"):

            def make_un(ad, op=op, a_np=a_np):
                a = ad.from_numpy(a_np)
                f = getattr(ad, op)
                return lambda: f(a)

            out.append(run_timed(f"W2 {op} {label}", "GB/s", True, fws, make_un, lambda s, n=n: 8 * n / s / 1e9, reps, 0.1))
        del a_np, b_np, c_np
    return out


def w3(fws, reps, quick):
    out = []
    for n in (128, 512, 1024) if quick else (128, 512, 1024, 2048):
        a_np, b_np = f32(n, n), f32(n, n)

        def make(ad, a_np=a_np, b_np=b_np):
            a, b = ad.from_numpy(a_np), ad.from_numpy(b_np)
            return lambda: a @ b

        out.append(run_timed(f"W3 matmul {n}", "GFLOP/s", True, fws, make, lambda s, n=n: 2 * n**3 / s / 1e9, reps, 0.15))
    return out


MLP = (784, 256, 128, 10)


def mlp_params(ad):
    params = []
    for i, o in zip(MLP[:-1], MLP[1:]):
        bound = 1 / np.sqrt(i)
        w = rng.uniform(-bound, bound, (o, i)).astype(np.float32)
        b = rng.uniform(-bound, bound, (o,)).astype(np.float32)
        params += [ad.from_numpy(w, requires_grad=ad.autograd), ad.from_numpy(b, requires_grad=ad.autograd)]
    return params


def mlp_step_autograd(ad, params, x, y, lr=0.01):
    h = x
    for i in range(0, len(params), 2):
        h = ad.linear(h, params[i], params[i + 1])
        if i + 2 < len(params):
            h = ad.relu(h)
    loss = ad.cross_entropy(h, y)
    loss.backward()
    with ad.no_grad():
        for p in params:
            p -= lr * p.grad
    for p in params:
        p.grad = None  # zero_grad(set_to_none=True), PyTorch's default


def mlp_step_numpy(params, x, y, lr=0.01):
    acts = [x]
    pre = []
    h = x
    for i in range(0, len(params), 2):
        z = h @ params[i].T + params[i + 1]
        pre.append(z)
        h = np.maximum(z, 0) if i + 2 < len(params) else z
        acts.append(h)
    z = acts[-1]
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    p = e / e.sum(axis=1, keepdims=True)
    g = p
    g[np.arange(len(y)), y] -= 1
    g /= len(y)
    for i in range(len(params) - 2, -1, -2):
        layer = i // 2
        a_in = acts[layer]
        gw = g.T @ a_in
        gb = g.sum(axis=0)
        if i > 0:
            g = (g @ params[i]) * (pre[layer - 1] > 0)
        params[i] -= lr * gw
        params[i + 1] -= lr * gb


def w4(fws, reps, quick):
    out = []
    for batch in (64, 512):
        x_np = f32(batch, MLP[0])
        y_np = rng.integers(0, MLP[-1], batch)

        def make(ad, x_np=x_np, y_np=y_np):
            params = mlp_params(ad)
            x, y = ad.from_numpy(x_np), ad.target(y_np)
            if ad.autograd:
                return lambda: mlp_step_autograd(ad, params, x, y)
            return lambda: mlp_step_numpy(params, x, y)

        out.append(run_timed(f"W4 MLP step b{batch}", "ms", False, fws, make, lambda s: s * 1e3, reps, 0.1,
                             note="NumPy: hand-written backward"))
    return out


def deep_params(ad, width=2048, layers=8, requires_grad=False):
    params = []
    for _ in range(layers):
        w = f32(width, width, scale=1 / np.sqrt(width))
        b = f32(width, scale=0.01)
        params.append((ad.from_numpy(w, requires_grad=requires_grad), ad.from_numpy(b, requires_grad=requires_grad)))
    return params


def deep_forward(ad, params, x):
    h = x
    for w, b in params:
        h = ad.relu(ad.linear(h, w, b))
    return h


def w5(fws, reps, quick):
    out = []
    x_np = f32(256, 2048)
    for variant in ("no_grad", "grad"):

        def make(ad, variant=variant):
            if variant == "grad" and not ad.autograd:
                return None
            params = deep_params(ad, requires_grad=variant == "grad")
            x = ad.from_numpy(x_np)
            if variant == "grad":
                return lambda: deep_forward(ad, params, x)

            def f():
                with ad.no_grad():
                    deep_forward(ad, params, x)

            return f

        out.append(run_timed(f"W5 8x2048 b256 {variant}", "ms", False, fws, make, lambda s: s * 1e3, max(3, reps - 2), 0.2,
                             note="NumPy: plain forward"))
    # Memory: one fresh process per framework and variant.
    mem = Result("W5 peak over baseline, no_grad", "MiB", False, note="RSS peak rise in a fresh process, free heap returned first")
    exact = Result("W5 live-tensor peak, no_grad", "MiB", False, note="ferrograd.memory / tracemalloc (exact bytes)")
    saved = Result("W5 saved activations", "MiB", False, note="live bytes held by the graph; analytic 14.0")
    for ad in fws:
        for _ in range(1 if quick else 2):
            r = child(["w5mem", ad.name, "no_grad"])
            if r:
                mem.add(ad.name, r["rss_peak"] / MiB)
                if r.get("exact_peak") is not None:
                    exact.add(ad.name, r["exact_peak"] / MiB)
        if ad.autograd:
            r = child(["w5mem", ad.name, "grad"])
            if r and r.get("saved") is not None:
                saved.add(ad.name, r["saved"] / MiB)
    return out + [mem, exact, saved]


def w6(fws, reps, quick):
    out = []
    n = 100_000

    def make(ad):
        if not ad.autograd:
            return None

        def f():
            y = x = ad.scalar_leaf()
            for _ in range(n):
                y = y * 1.0001
            y.sum().backward()
            del y
            x.grad = None

        return f

    out.append(run_timed("W6 chain 100k, per node", "us/node", False, fws, make, lambda s: s / n * 1e6, max(3, reps - 2), 0.1,
                         note="build + backward + teardown; thread CPU time", clock=THREAD_CLOCK))
    if not quick:
        big = Result("W6 chain 1M, per node", "us/node", False, note="one run in a fresh process: depth must not break")
        for ad in fws:
            if ad.autograd:
                r = child(["chain", ad.name, "1000000"])
                if r:
                    big.add(ad.name, r["per_node_us"])
        out.append(big)
    return out


def w_threads(fws, reps, quick):
    """Two Python threads running inference at once: throughput relative to one thread,
    each framework limited to one kernel thread so the two Python threads can use both cores."""
    res = Result("Two Python threads, inference speedup", "x", True, note="4x1024 layers, b128, 1 kernel thread each")
    x_np = f32(128, 1024)
    for ad in fws:
        if not ad.autograd or not hasattr(ad, "set_threads"):
            continue
        ad.set_threads(1)
        params = deep_params(ad, width=1024, layers=4)
        x = ad.from_numpy(x_np)

        def work(k=4):
            with ad.no_grad():
                for _ in range(k):
                    deep_forward(ad, params, x)

        work(1)
        for _ in range(reps):
            t0 = time.perf_counter()
            work()
            work()
            serial = time.perf_counter() - t0
            ts = [threading.Thread(target=work) for _ in range(2)]
            t0 = time.perf_counter()
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            res.add(ad.name, serial / (time.perf_counter() - t0))
        ad.set_threads(THREADS)
    return [res]


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6, "THREADS": w_threads}


# ----------------------------------------------------------------------------------------------
# Fresh-process children (memory, deep chains)
# ----------------------------------------------------------------------------------------------


def rss_now():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def rss_hwm():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def reset_hwm():
    # Writing 5 to clear_refs resets the peak RSS (VmHWM) of this process (Linux >= 4.0).
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def release_free_heap():
    # Pages that setup freed stay resident in the C heap, and a framework that mallocs its
    # results reuses them without raising the RSS; returning them first makes every
    # framework's rise count the memory its forward really touches.
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def child(args):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", *args]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        print(f"  child {args} timed out", file=sys.stderr)
        return None
    if p.returncode != 0:
        print(f"  child {args} failed: {p.stderr.strip()[-400:]}", file=sys.stderr)
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])


def run_child(args):
    kind, fw = args[0], args[1]
    ad = {"ferrograd": FerroAdapter, "numpy": NumpyAdapter, "torch": TorchAdapter}[fw]()
    ad.setup()
    if kind == "w5mem":
        variant = args[2]
        import tracemalloc

        params = deep_params(ad, requires_grad=variant == "grad")
        x = ad.from_numpy(f32(256, 2048))
        gc.collect()
        if fw == "numpy":
            tracemalloc.start()
        live0 = ad.live_bytes() if hasattr(ad, "live_bytes") else None
        if hasattr(ad, "reset_peak"):
            ad.reset_peak()
        release_free_heap()
        base = rss_now()
        ok = reset_hwm()
        ctx = ad.no_grad() if variant == "no_grad" else nullcontext()
        with ctx:
            y = deep_forward(ad, params, x)
        peak = rss_hwm() if ok else rss_now()
        res = {"rss_peak": max(0, peak - base), "exact_peak": None, "saved": None}
        if fw == "numpy":
            res["exact_peak"] = tracemalloc.get_traced_memory()[1]
        elif hasattr(ad, "peak_bytes"):
            res["exact_peak"] = ad.peak_bytes() - live0
            if variant == "grad":
                out_bytes = 256 * 2048 * 4
                res["saved"] = ad.live_bytes() - live0 - out_bytes
        del y
        print(json.dumps(res))
    elif kind == "chain":
        n = int(args[2])
        t0 = THREAD_CLOCK()
        y = x = ad.scalar_leaf()
        for _ in range(n):
            y = y * 1.0001
        y.sum().backward()
        del y
        g = float(x.grad.sum())
        dt = THREAD_CLOCK() - t0
        print(json.dumps({"per_node_us": dt / n * 1e6, "grad": g}))


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------


def verdict(r):
    t = TARGETS.get(r.name)
    if t is None:
        return "", None
    peer, cmp, factor = t
    fg = r.stats("ferrograd")
    if fg is None:
        return "n/a", None
    if peer == "abs":
        value, basis = fg["median"], "absolute"
        ok = value <= factor if cmp == "<=" else value >= factor
        return ("met" if ok else "NOT met"), basis
    ratio = r.ratio(peer)
    basis = "same run"
    if ratio is None and peer == "torch" and r.name in TORCH_ANCHOR:
        ratio, basis = fg["median"] / TORCH_ANCHOR[r.name], "vs anchor (not same run)"
    if ratio is None:
        return "n/a", None
    ok = ratio <= factor if cmp == "<=" else ratio >= factor
    return ("met" if ok else "NOT met"), basis


def fmt(x):
    if x is None:
        return "-"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def table(results, fw_names):
    head = ["workload", "unit"] + [f"{f} median [min-max]" for f in fw_names]
    head += [f"fg/{p}" for p in fw_names if p != "ferrograd"] + ["fg/torch anchor", "target", "status"]
    rows = []
    for r in results:
        row = [r.name, r.unit]
        for f in fw_names:
            s = r.stats(f)
            row.append("-" if s is None else f"{fmt(s['median'])} [{fmt(s['min'])}-{fmt(s['max'])}]")
        for p in fw_names:
            if p != "ferrograd":
                row.append(fmt(r.ratio(p)))
        fg = r.stats("ferrograd")
        anchor = TORCH_ANCHOR.get(r.name)
        row.append(fmt(fg["median"] / anchor) if fg and anchor else "-")
        t = TARGETS.get(r.name)
        row.append("-" if t is None else (f"{t[1]} {t[2]} {r.unit}" if t[0] == "abs" else f"{t[1]} {t[2]}x {t[0]}"))
        v, basis = verdict(r)
        row.append(v + (f" ({basis})" if basis and basis != "same run" else ""))
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |"]
    lines.append("| " + " | ".join("-" * w for w in widths) + " |")
    for row in rows:
        lines.append("| " + " | ".join(str(x).ljust(w) for x, w in zip(row, widths)) + " |")
    return "\n".join(lines)


def machine():
    info = {"python": platform.python_version(), "numpy": np.__version__, "cores": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            txt = f.read()
        info["cpu"] = next((line.split(":", 1)[1].strip() for line in txt.splitlines() if line.startswith("model name")), "?")
        flags = next((line for line in txt.splitlines() if line.startswith("flags")), "")
        info["avx512f"] = " avx512f" in flags
    except OSError:
        pass
    try:
        import ferrograd

        info["ferrograd"] = ferrograd.__version__
    except Exception:
        pass
    try:
        import torch

        info["torch"] = torch.__version__
    except Exception:
        info["torch"] = None
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repeats and sizes")
    ap.add_argument("--only", default="", help="comma-separated workloads: " + ",".join(WORKLOADS))
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--json", default="bench-results/compare.json")
    ap.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        run_child(args.child)
        return
    reps = args.repeats or (3 if args.quick else 7)
    names = [n.strip().upper() for n in args.only.split(",") if n.strip()] or list(WORKLOADS)
    fws = adapters()
    fw_names = [a.name for a in fws]
    info = machine()
    print(f"# machine: {info}", flush=True)
    if "torch" not in fw_names:
        print("# torch is not importable: torch ratios use the anchor figures (NOT the same run)", flush=True)
    results = []
    t_start = time.time()
    for n in names:
        t0 = time.time()
        rs = WORKLOADS[n](fws, reps, args.quick)
        results += rs
        print(f"# {n} done in {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
        print(table(rs, fw_names), flush=True)
    print(f"\n# all results ({time.time() - t_start:.0f}s)\n")
    print(table(results, fw_names))
    out = {
        "machine": info,
        "repeats": reps,
        "results": [
            {
                "name": r.name,
                "unit": r.unit,
                "higher_is_better": r.higher,
                "note": r.note,
                "stats": {f: r.stats(f) for f in fw_names if r.stats(f)},
                "samples": r.samples,
                "ratios_same_run": {p: r.ratio(p) for p in fw_names if p != "ferrograd" and r.ratio(p) is not None},
                "torch_anchor": TORCH_ANCHOR.get(r.name),
                "target": TARGETS.get(r.name),
                "status": verdict(r)[0],
                "status_basis": verdict(r)[1],
            }
            for r in results
        ],
    }
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(f"\n# wrote {path}")


if __name__ == "__main__":
    main()
