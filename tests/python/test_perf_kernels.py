"""Correctness of the performance paths: the caching allocator (exact live-byte counts, reused
buffers fully overwritten), the SIMD elementwise loops (every broadcast fast path, odd lengths,
chunk boundaries of the parallel split) and the vectorised exp (special values, subnormals)."""

import numpy as np
import pytest

import ferrograd as fg

BIG = 1 << 18  # above the parallel threshold and the cache's minimum block size


def test_memory_counts_live_bytes_exactly_while_buffers_are_cached():
    base = fg.memory.allocated()
    a = fg.ones(BIG)
    b = a * 2.0
    assert fg.memory.allocated() == base + 2 * 4 * BIG
    del b
    assert fg.memory.allocated() == base + 4 * BIG
    # The next result of that size reuses the freed block; the count stays exact.
    c = a + 1.0
    assert fg.memory.allocated() == base + 2 * 4 * BIG
    del a, c
    assert fg.memory.allocated() == base


def test_reused_buffers_hold_only_the_new_result():
    for fill in (7.0, -3.0, 0.5):
        x = fg.full((BIG,), fill)
        y = x * 1.0
        np.testing.assert_array_equal(y.numpy(), np.full(BIG, fill, np.float32))
        del x, y
    # A matmul into a recycled block: the GEMM must not add to stale contents.
    n = 256
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    for _ in range(3):
        junk = fg.full((n, n), 1e6)
        del junk
        out = (fg.tensor(a) @ fg.eye(n)).numpy()
        np.testing.assert_allclose(out, a, rtol=1e-6)


@pytest.mark.parametrize("n", [1, 15, 16, 17, 1023, 65537, BIG + 3])
def test_elementwise_fast_paths_match_numpy(n):
    rng = np.random.default_rng(n)
    a = rng.standard_normal(n).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    ta, tb = fg.tensor(a), fg.tensor(b)
    np.testing.assert_array_equal((ta * tb + tb).numpy(), a * b + b)
    np.testing.assert_array_equal((ta - 2.5).numpy(), a - np.float32(2.5))
    np.testing.assert_array_equal((2.5 - ta).numpy(), np.float32(2.5) - a)
    np.testing.assert_array_equal(ta.relu().numpy(), np.maximum(a, 0))


@pytest.mark.parametrize("rows,cols", [(1, 1), (3, 7), (129, 257), (1100, 256)])
def test_row_broadcast_both_ways(rows, cols):
    rng = np.random.default_rng(rows)
    m = rng.standard_normal((rows, cols)).astype(np.float32)
    v = rng.standard_normal(cols).astype(np.float32)
    tm, tv = fg.tensor(m), fg.tensor(v)
    np.testing.assert_array_equal((tm + tv).numpy(), m + v)
    np.testing.assert_array_equal((tv - tm).numpy(), v - m)


def test_exp_float32_accuracy_and_special_values():
    x = np.concatenate([np.linspace(-104, 89, 200_001, dtype=np.float32), np.float32([0, -0.0, 1e-8, -1e-8])])
    got = fg.tensor(x).exp().numpy()
    with np.errstate(over="ignore"):
        want = np.exp(x.astype(np.float64)).astype(np.float32)
    finite = np.isfinite(want) & (want > 0)
    ulp = np.abs(got[finite].view(np.int32).astype(np.int64) - want[finite].view(np.int32).astype(np.int64))
    assert ulp.max() <= 2
    special = fg.tensor(np.float32([np.inf, -np.inf, np.nan, 100.0, -1000.0, -100.0])).exp().numpy()
    assert special[0] == np.inf and special[1] == 0.0 and np.isnan(special[2])
    assert special[3] == np.inf and special[4] == 0.0
    assert 0 < special[5] < np.finfo(np.float32).tiny  # a subnormal, not flushed to zero


def test_exp_float64_and_gradient_unchanged():
    x = np.linspace(-5, 5, 101)
    t = fg.tensor(x).requires_grad_(True)
    y = t.exp()
    np.testing.assert_allclose(y.detach().numpy(), np.exp(x), rtol=1e-15)
    y.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), np.exp(x), rtol=1e-15)


# Results of at least 8 MiB are written with streaming stores through a staging block.
STREAMED = (1 << 21) + 5


@pytest.mark.parametrize("offset", [0, 1, 3])
def test_streamed_results_match_numpy(offset):
    rng = np.random.default_rng(offset)
    a = rng.standard_normal(STREAMED + offset).astype(np.float32)
    b = rng.standard_normal(STREAMED + offset).astype(np.float32)
    # Sliced inputs start off the 64-byte grid; the results are fresh buffers of odd length.
    ta, tb = fg.tensor(a)[offset:], fg.tensor(b)[offset:]
    an, bn = a[offset:], b[offset:]
    np.testing.assert_array_equal((ta * tb + tb).numpy(), an * bn + bn)
    np.testing.assert_array_equal(ta.relu().numpy(), np.maximum(an, 0))
    np.testing.assert_array_equal((ta > tb).numpy(), an > bn)
    d = fg.tensor(a.astype(np.float64))
    np.testing.assert_array_equal((d * 2.0).numpy(), a.astype(np.float64) * 2.0)
    m = fg.tensor(a[: 4096 * 512].reshape(512, 4096))
    v = fg.tensor(b[:4096])
    np.testing.assert_array_equal((m + v).numpy(), a[: 4096 * 512].reshape(512, 4096) + b[:4096])


@pytest.mark.parametrize("n", [7, BIG + 3])
def test_inplace_arithmetic_under_no_grad_updates_storage_directly(n):
    rng = np.random.default_rng(n)
    p_np = rng.standard_normal(n).astype(np.float32)
    g_np = rng.standard_normal(n).astype(np.float32)
    p = fg.tensor(p_np.copy()).requires_grad_(True)
    g = fg.tensor(g_np)
    alias = p.detach()  # shares storage: must see the update
    v0 = p._version
    with fg.no_grad():
        p -= 0.1 * g
        p *= 2.0
        p += fg.tensor(1.5)  # a 0-d tensor operand
        p /= g
    want = ((p_np - np.float32(0.1) * g_np) * np.float32(2.0) + np.float32(1.5)) / g_np
    np.testing.assert_allclose(p.detach().numpy(), want, rtol=1e-6)
    np.testing.assert_array_equal(alias.numpy(), p.detach().numpy())
    assert p._version == v0 + 4
    assert p.requires_grad and p.is_leaf and p.grad_fn is None


def test_inplace_arithmetic_broadcasts_casts_and_refuses_what_it_must():
    m = fg.zeros(3, 4, dtype=fg.float64)
    with fg.no_grad():
        m += fg.tensor([1.0, 2.0, 3.0, 4.0])  # float32 row into float64 rows
        m *= fg.tensor([[1], [2], [3]])  # int64 column
    np.testing.assert_array_equal(m.numpy(), np.array([[1, 2, 3, 4]]) * np.array([[1], [2], [3]]))
    # A contiguous slice with an offset into its storage.
    base = fg.arange(10.0)
    tail = base[4:]
    tail -= fg.ones(6)
    np.testing.assert_array_equal(base.numpy(), np.r_[np.arange(4.0), np.arange(4.0, 10.0) - 1])
    # Aliasing operands and non-contiguous targets still give the right answer.
    x = fg.arange(6.0).reshape(2, 3)
    x += x.flip(1)
    np.testing.assert_array_equal(x.numpy(), np.array([[2.0, 2, 2], [8, 8, 8]]))
    t = fg.arange(6.0).reshape(2, 3).t()
    t *= fg.tensor([1.0, 10.0])
    np.testing.assert_array_equal(t.numpy(), np.arange(6.0).reshape(2, 3).T * [1.0, 10.0])
    # A result that would widen the tensor, or a shape that does not fit, is refused.
    i = fg.ones(3, dtype=fg.int64)
    with pytest.raises(fg.DTypeError):
        i += fg.tensor(0.5)
    with pytest.raises(fg.ShapeError):
        f = fg.ones(3)
        f += fg.ones(2, 3)
    # A leaf that requires grad is refused while recording.
    w = fg.ones(3, requires_grad=True)
    with pytest.raises(fg.AutogradError):
        w -= fg.ones(3)


@pytest.mark.parametrize(
    "m,k,n",
    [
        (128, 128, 128),  # split into row blocks
        (16, 300, 2000),  # few rows against a transposed weight: the transposed route
        (37, 900, 517),  # the transposed route with ragged tiles and blocks
        (16, 100, 300),  # a small transposed weight: the direct route, split into column blocks
        (33, 70, 150),  # uneven blocks
        (600, 600, 600),  # large: the GEMM's own threading
    ],
)
def test_matmul_and_linear_match_numpy_whichever_way_the_product_is_split(m, k, n):
    rng = np.random.default_rng(m * n)
    a = rng.standard_normal((m, k)).astype(np.float32)
    w = rng.standard_normal((n, k)).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    got = (fg.tensor(a) @ fg.tensor(w).t()).numpy()
    np.testing.assert_allclose(got, a @ w.T, rtol=1e-4, atol=1e-3)
    # The same product with a row-major right operand: few rows split into column blocks
    # written through the row stride.
    wt = np.ascontiguousarray(w.T)
    np.testing.assert_allclose((fg.tensor(a) @ fg.tensor(wt)).numpy(), a @ wt, rtol=1e-4, atol=1e-3)
    a64, w64 = a.astype(np.float64), w.astype(np.float64)
    np.testing.assert_allclose((fg.tensor(a64) @ fg.tensor(w64).t()).numpy(), a64 @ w64.T, rtol=1e-9, atol=1e-12)
    lin = fg.nn.functional.linear(fg.tensor(a), fg.tensor(w), fg.tensor(bias)).numpy()
    np.testing.assert_allclose(lin, a @ w.T + bias, rtol=1e-4, atol=1e-3)
    # The transposed product reads its operand through strides; the gradient path uses it.
    ta = fg.tensor(a).requires_grad_(True)
    (ta @ fg.tensor(w).t()).sum().backward()
    np.testing.assert_allclose(ta.grad.numpy(), np.broadcast_to(w.sum(0), (m, k)), rtol=1e-4, atol=1e-3)
