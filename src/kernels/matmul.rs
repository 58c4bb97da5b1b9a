//! Matrix products on the `gemm` crate: transposed operands are read through their strides
//! (no copies), batches run in parallel when each product is small.

use super::{SharedMut, for_each_chunk, get_num_threads, run_tasks};
use gemm::Parallelism;

/// Multiply-adds below which one product stays on the calling thread.
const GEMM_PAR_MIN: usize = 1 << 18;
/// A block narrower than this (rows or columns) wastes the micro-kernel; split less.
const SPLIT_MIN_SIDE: usize = 32;
/// Elements of the transposed right operand from which `x @ w.T` takes the transposed route
/// (see `product_via_transpose`): about a core's L2. Below it the gathering stays in cache and
/// the direct route is as fast (784x256 weight: equal; 256x128: direct 1.2x faster); above it
/// the route wins 1.3x (256 rows against 1024x1024) to 5x (32 rows against 4096x4096).
const TRANSPOSED_ROUTE_MIN: usize = 1 << 18;
/// Scratch elements per panel of the transposed route: 256 KiB of f32, a quarter of an L2.
const TRANSPOSE_PANEL_ELEMS: usize = 1 << 16;

/// One matrix operand: element (i, j) is at `offset + i * rs + j * cs`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef {
    pub offset: usize,
    pub rs: usize,
    pub cs: usize,
}

/// Element types the GEMM handles.
pub trait GemmElement: Copy + Send + Sync + std::ops::Add<Output = Self> + 'static {
    const ZERO: Self;
    const ONE: Self;
}
impl GemmElement for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}
impl GemmElement for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

/// Batched `out[b] = a[b] @ b[b]` into a fresh row-major `[batch, m, n]` buffer.
/// `a_batch[i]` and `b_batch[i]` are each operand's offsets for batch `i`.
#[allow(clippy::too_many_arguments)]
pub fn matmul<T: GemmElement>(
    a: &[T],
    a_mat: MatRef,
    a_batch: &[usize],
    b: &[T],
    b_mat: MatRef,
    b_batch: &[usize],
    m: usize,
    k: usize,
    n: usize,
) -> Vec<T> {
    let batch = a_batch.len();
    let len = batch * m * n;
    if m == 0 || n == 0 || k == 0 {
        return vec![T::ZERO; len];
    }
    // From the caching allocator and not zeroed: the GEMM overwrites every element (it is
    // told not to read `dst`), so zeroing would be a wasted pass over the output.
    let mut out = super::alloc::vec_with_capacity::<T>(len);
    // SAFETY: every element of `out` is written by `gemm_into` below before anything reads it
    // (batches cover `len` in chunks of m*n, and each product writes its whole m*n block).
    unsafe { out.set_len(len) };
    let work = m * n * k;
    let threads = get_num_threads();
    let one = |dst: &mut [T], i: usize| {
        let a_ref = MatRef {
            offset: a_mat.offset + a_batch[i],
            ..a_mat
        };
        let b_ref = MatRef {
            offset: b_mat.offset + b_batch[i],
            ..b_mat
        };
        gemm_into(dst, a, a_ref, b, b_ref, m, k, n, false);
    };
    if batch > 1
        && work < GEMM_PAR_MIN
        && cfg!(feature = "parallel")
        && threads > 1
        && batch * work >= GEMM_PAR_MIN
    {
        let per_task = batch.div_ceil(threads * 4).max(1);
        for_each_chunk(&mut out, per_task * m * n, |c, start| {
            for (i, dst) in c.chunks_mut(m * n).enumerate() {
                one(dst, start / (m * n) + i)
            }
        });
    } else {
        for (i, dst) in out.chunks_mut(m * n).enumerate() {
            let a_ref = MatRef {
                offset: a_mat.offset + a_batch[i],
                ..a_mat
            };
            let b_ref = MatRef {
                offset: b_mat.offset + b_batch[i],
                ..b_mat
            };
            product(dst, a, a_ref, b, b_ref, m, k, n, false);
        }
    }
    out
}

/// `bias + a @ b` into a fresh row-major `[m, n]` buffer, with `bias` (length n) broadcast over
/// the rows: the forward of `Linear` (`x @ w.T + b`, where `b_mat` reads `w` transposed through
/// its strides). The bias is written first and the GEMM accumulates onto it, so the product and
/// the bias add are one pass over the output instead of two, and no temporary is allocated.
#[allow(clippy::too_many_arguments)]
pub fn addmm<T: GemmElement>(
    bias: Option<&[T]>,
    a: &[T],
    a_mat: MatRef,
    b: &[T],
    b_mat: MatRef,
    m: usize,
    k: usize,
    n: usize,
) -> Vec<T> {
    let len = m * n;
    let mut out = super::alloc::vec_with_capacity::<T>(len);
    match bias {
        Some(bias) => {
            assert_eq!(
                bias.len(),
                n,
                "addmm: bias has {} elements for {n} columns",
                bias.len()
            );
            for _ in 0..m {
                out.extend_from_slice(bias);
            }
        }
        None => out.resize(len, T::ZERO),
    }
    if m == 0 || n == 0 || k == 0 {
        return out;
    }
    product(&mut out, a, a_mat, b, b_mat, m, k, n, true);
    out
}

/// One product into row-major `dst` (`[m, n]`), on as many threads as its size is worth: one
/// block of rows (or columns) per thread, each a single-threaded GEMM. The gemm crate's own
/// threading hands the product to a sleeping pool and shares packed panels between threads;
/// at n = 128 that ran at half the one-thread speed, and it was no faster at any size we
/// measured (docs/benchmarks.md).
#[allow(clippy::too_many_arguments)]
fn product<T: GemmElement>(
    dst: &mut [T],
    a: &[T],
    am: MatRef,
    b: &[T],
    bm: MatRef,
    m: usize,
    k: usize,
    n: usize,
    accumulate: bool,
) {
    let threads = get_num_threads();
    let work = m * n * k;
    if m < n && bm.rs == 1 && am.cs == 1 && k * n >= TRANSPOSED_ROUTE_MIN {
        return product_via_transpose(dst, a, am, b, bm, m, k, n, accumulate);
    }
    if !cfg!(feature = "parallel") || threads < 2 || work < GEMM_PAR_MIN {
        return gemm_into(dst, a, am, b, bm, m, k, n, accumulate);
    }
    // Split the longer side of the output: each thread then packs only its share of the
    // operand along that side (a whole 2048x2048 weight packed by both threads, read
    // transposed, slowed Linear at batch 256).
    if m >= n {
        // Blocks of whole rows: disjoint slices of `dst`.
        let rows = m.div_ceil(threads).max(SPLIT_MIN_SIDE.min(m));
        for_each_chunk(&mut dst[..m * n], rows * n, |d, start| {
            let a_rows = MatRef {
                offset: am.offset + start / n * am.rs,
                ..am
            };
            gemm_into(d, a, a_rows, b, bm, d.len() / n, k, n, accumulate)
        });
    } else {
        // Blocks of columns, each written through dst's row stride.
        let cols = n.div_ceil(threads).max(SPLIT_MIN_SIDE.min(n));
        let base = SharedMut(dst.as_mut_ptr());
        run_tasks(n.div_ceil(cols), |i| {
            let c0 = i * cols;
            let w = cols.min(n - c0);
            let b_cols = MatRef {
                offset: bm.offset + c0 * bm.cs,
                ..bm
            };
            // SAFETY: blocks cover disjoint column ranges [c0, c0 + w) of the m x n output,
            // so no two tasks write the same element; `dst` is borrowed for the whole call.
            unsafe { gemm_raw(base.at(c0), n, a, am, b, b_cols, m, k, w, accumulate) }
        });
    }
}

/// `a @ b` as `(b^T @ a^T)^T`, for a row-major `a` of few rows and a column-major `b` (Linear's
/// `x @ w.T`). The gemm crate works column-major: for a row-major result it swaps the operands,
/// and `b`, read transposed, becomes the operand it gathers element by element while packing.
/// When `b` is the large one (a 2048x2048 weight against 256 rows of input) that gathering
/// dominated: 120 GFLOP/s on one thread against 186 for the same product the other way round.
/// Computing the transposed product puts the gathering on the small `a`; transposing its
/// result back costs one pass over the output.
///
/// `a` is first copied column-major, once: handed over row-major, the gemm crate gathers it
/// into a whole-size packing buffer on every thread, buffers that the threads' malloc arenas
/// then keep (2 threads: 5 MiB more resident for a 2048-wide inference). The product then
/// goes in panels of `dst`'s columns, each into a small scratch block that is transposed into
/// `dst` while it is still in cache.
#[allow(clippy::too_many_arguments)]
fn product_via_transpose<T: GemmElement>(
    dst: &mut [T],
    a: &[T],
    am: MatRef,
    b: &[T],
    bm: MatRef,
    m: usize,
    k: usize,
    n: usize,
    accumulate: bool,
) {
    let parallel = cfg!(feature = "parallel") && get_num_threads() > 1 && m * n * k >= GEMM_PAR_MIN;
    let a_cols = column_major_copy(a, am, m, k, parallel);
    // `a^T` read row-major from the column-major copy.
    let a_t = MatRef {
        offset: 0,
        rs: m,
        cs: 1,
    };
    let width = transpose_panel_width(m, n);
    let base = SharedMut(dst.as_mut_ptr());
    let panel = |i: usize| {
        let c0 = i * width;
        let w = width.min(n - c0);
        let mut t = super::alloc::vec_with_capacity::<T>(w * m);
        // SAFETY: the product below writes all w*m elements (it does not read `t`).
        unsafe { t.set_len(w * m) };
        // Columns [c0, c0 + w) of `b`, transposed: rows of `b^T`.
        let b_t = MatRef {
            offset: bm.offset + c0 * bm.cs,
            rs: bm.cs,
            cs: bm.rs,
        };
        // SAFETY: `t` holds w*m elements, written row-major with row stride m.
        unsafe { gemm_raw(t.as_mut_ptr(), m, b, b_t, &a_cols, a_t, w, k, m, false) };
        // SAFETY: panels cover disjoint column ranges [c0, c0 + w) of the m x n output, so no
        // two tasks write the same element; `dst` is borrowed for the whole call.
        unsafe { transpose_into(base.at(c0), n, &t, m, w, accumulate) };
        super::alloc::recycle(t);
    };
    let panels = n.div_ceil(width);
    if parallel {
        run_tasks(panels, panel);
    } else {
        (0..panels).for_each(panel);
    }
    super::alloc::recycle(a_cols);
}

/// Columns per panel of the transposed route: a scratch block of about `TRANSPOSE_PANEL_ELEMS`,
/// at least `SPLIT_MIN_SIDE` wide, and at least one panel per thread.
fn transpose_panel_width(m: usize, n: usize) -> usize {
    let by_size = (TRANSPOSE_PANEL_ELEMS / m.max(1)).max(SPLIT_MIN_SIDE);
    let by_threads = n.div_ceil(get_num_threads().max(1));
    by_size.min(by_threads).div_ceil(16) * 16
}

/// The `m x k` operand `a` copied column-major (element (i, j) at `i + j * m`), from the cache.
fn column_major_copy<T: GemmElement>(
    a: &[T],
    am: MatRef,
    m: usize,
    k: usize,
    parallel: bool,
) -> Vec<T> {
    const TILE: usize = 32;
    let mut out = super::alloc::vec_with_capacity::<T>(m * k);
    // SAFETY: the loops below write all m*k elements before anything reads them.
    unsafe { out.set_len(m * k) };
    // One task per block of TILE columns: column j of the copy is a contiguous run of m.
    let body = |c: &mut [T], start: usize| {
        let j0 = start / m;
        let cols = c.len() / m;
        for i0 in (0..m).step_by(TILE) {
            let i1 = (i0 + TILE).min(m);
            for j in 0..cols {
                let src = am.offset + (j0 + j) * am.cs;
                for i in i0..i1 {
                    c[j * m + i] = a[src + i * am.rs];
                }
            }
        }
    };
    let chunk = TILE * m;
    if parallel {
        for_each_chunk(&mut out, chunk, body);
    } else {
        body(&mut out, 0);
    }
    out
}

/// `dst[i][j] = t[j][i]` (or `+=` with `accumulate`) for `dst` `[m, w]` with row stride `ld`
/// and row-major `t` `[w, m]`, in square tiles so both sides move a cache line at a time.
///
/// # Safety
/// `dst` must be valid for writes of every element `i * ld + j` (i < m, j < w), and no one
/// else may access those elements during the call.
unsafe fn transpose_into<T: GemmElement>(
    dst: *mut T,
    ld: usize,
    t: &[T],
    m: usize,
    w: usize,
    accumulate: bool,
) {
    const TILE: usize = 32;
    for i0 in (0..m).step_by(TILE) {
        let i1 = (i0 + TILE).min(m);
        for j0 in (0..w).step_by(TILE) {
            let j1 = (j0 + TILE).min(w);
            for i in i0..i1 {
                // SAFETY: the caller guarantees row i's elements [0, w) at `dst + i * ld`.
                let row = unsafe { std::slice::from_raw_parts_mut(dst.add(i * ld), w) };
                for j in j0..j1 {
                    let v = t[j * m + i];
                    row[j] = if accumulate { row[j] + v } else { v };
                }
            }
        }
    }
}

/// `dst = a @ b` (or `dst += a @ b` with `accumulate`) for one product; `dst` is row-major `[m, n]`.
#[allow(clippy::too_many_arguments)]
fn gemm_into<T: GemmElement>(
    dst: &mut [T],
    a: &[T],
    am: MatRef,
    b: &[T],
    bm: MatRef,
    m: usize,
    k: usize,
    n: usize,
    accumulate: bool,
) {
    assert!(dst.len() >= m * n);
    // SAFETY: `dst` holds m*n elements, written row-major with row stride n.
    unsafe { gemm_raw(dst.as_mut_ptr(), n, a, am, b, bm, m, k, n, accumulate) }
}

/// The product into `m x n` elements at `dst` with row stride `ld` (column stride 1).
///
/// # Safety
/// `dst` must be valid for writes of every element `i * ld + j` (i < m, j < n), and no one
/// else may access those elements during the call.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_raw<T: GemmElement>(
    dst: *mut T,
    ld: usize,
    a: &[T],
    am: MatRef,
    b: &[T],
    bm: MatRef,
    m: usize,
    k: usize,
    n: usize,
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k > 0 {
        assert!(
            am.offset + (m - 1) * am.rs + (k - 1) * am.cs < a.len(),
            "lhs outside its buffer"
        );
        assert!(
            bm.offset + (k - 1) * bm.rs + (n - 1) * bm.cs < b.len(),
            "rhs outside its buffer"
        );
    }
    // SAFETY: the asserts keep every element the product reads inside `a` and `b`; the
    // caller guarantees the output elements.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            ld as isize,
            accumulate,
            a.as_ptr().add(am.offset),
            am.cs as isize,
            am.rs as isize,
            b.as_ptr().add(bm.offset),
            bm.cs as isize,
            bm.rs as isize,
            if accumulate { T::ONE } else { T::ZERO },
            T::ONE,
            false,
            false,
            false,
            // Threads come from `product`'s blocks, never from inside the GEMM.
            Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The row-major `[rows, cols]` matrix `w` transposed, row-major `[cols, rows]`.
    fn transposed(w: &[f32], rows: usize, cols: usize) -> Vec<f32> {
        let mut t = vec![0.0; rows * cols];
        for j in 0..rows {
            for p in 0..cols {
                t[p * rows + j] = w[j * cols + p];
            }
        }
        t
    }

    fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        out
    }

    #[test]
    fn addmm_adds_the_bias_row_to_a_product_read_through_strides() {
        let (m, k, n) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|i| (i % 5) as f32 - 2.0).collect();
        let w: Vec<f32> = (0..n * k).map(|i| (i % 3) as f32 * 0.5).collect(); // [n, k], used as w.T
        let bias = [10.0f32, 20.0, 30.0];
        let wt = transposed(&w, n, k);
        let want: Vec<f32> = naive(&a, &wt, m, k, n)
            .iter()
            .enumerate()
            .map(|(i, v)| v + bias[i % n])
            .collect();
        let am = MatRef {
            offset: 0,
            rs: k,
            cs: 1,
        };
        let wm = MatRef {
            offset: 0,
            rs: 1,
            cs: k,
        };
        assert_eq!(addmm(Some(&bias), &a, am, &w, wm, m, k, n), want);
        assert_eq!(
            addmm(None, &a, am, &w, wm, m, k, n),
            naive(&a, &wt, m, k, n)
        );
        // k = 0: the product is empty, the result is the bias.
        assert_eq!(
            addmm(Some(&bias), &[], am, &[], wm, 2, 0, n),
            vec![10.0, 20.0, 30.0, 10.0, 20.0, 30.0]
        );
    }

    #[test]
    fn few_rows_against_a_transposed_weight_take_the_transposed_route() {
        // 37 x 517 x 900: above TRANSPOSED_ROUTE_MIN, ragged against the 32-wide tiles.
        let (m, k, n) = (37, 900, 517);
        assert!(k * n >= TRANSPOSED_ROUTE_MIN);
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7) % 11) as f32 - 5.0).collect();
        let w: Vec<f32> = (0..n * k).map(|i| ((i * 5) % 13) as f32 * 0.25).collect();
        let bias: Vec<f32> = (0..n).map(|j| j as f32).collect();
        let wt = transposed(&w, n, k);
        let am = MatRef {
            offset: 0,
            rs: k,
            cs: 1,
        };
        let wm = MatRef {
            offset: 0,
            rs: 1,
            cs: k,
        };
        let plain = naive(&a, &wt, m, k, n);
        // Small integers: every sum is exact, so the routes must agree exactly.
        assert_eq!(addmm(None, &a, am, &w, wm, m, k, n), plain);
        let with_bias: Vec<f32> = plain
            .iter()
            .enumerate()
            .map(|(i, v)| v + bias[i % n])
            .collect();
        assert_eq!(addmm(Some(&bias), &a, am, &w, wm, m, k, n), with_bias);
        assert_eq!(matmul(&a, am, &[0], &w, wm, &[0], m, k, n), plain);
    }

    #[test]
    fn the_transposed_route_reads_a_strided_lhs_in_ragged_panels() {
        // 300 rows: panels of 224 columns (65536 / 300, rounded up to 16), the last one ragged;
        // `a` is columns [3, 3 + k) of a wider matrix, so the copy must follow its strides.
        let (m, k, n, wide) = (300, 900, 1000, 907);
        assert!(transpose_panel_width(m, n) < n);
        let big: Vec<f32> = (0..m * wide).map(|i| ((i * 7) % 11) as f32 - 5.0).collect();
        let a: Vec<f32> = (0..m * k).map(|i| big[i / k * wide + 3 + i % k]).collect();
        let w: Vec<f32> = (0..n * k).map(|i| ((i * 5) % 13) as f32 * 0.25).collect();
        let wt = transposed(&w, n, k);
        let bias: Vec<f32> = (0..n).map(|j| (j % 17) as f32).collect();
        let am = MatRef {
            offset: 3,
            rs: wide,
            cs: 1,
        };
        let wm = MatRef {
            offset: 0,
            rs: 1,
            cs: k,
        };
        let expected: Vec<f32> = naive(&a, &wt, m, k, n)
            .iter()
            .enumerate()
            .map(|(i, v)| v + bias[i % n])
            .collect();
        assert_eq!(addmm(Some(&bias), &big, am, &w, wm, m, k, n), expected);
    }

    #[test]
    fn matmul_overwrites_a_reused_buffer() {
        // A recycled block holds old data; the product must not read it.
        let n = 128; // 64 KiB output: large enough for the cache
        let a: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32).collect();
        let eye: Vec<f32> = (0..n * n)
            .map(|i| if i / n == i % n { 1.0 } else { 0.0 })
            .collect();
        let rm = MatRef {
            offset: 0,
            rs: n,
            cs: 1,
        };
        for _ in 0..3 {
            let out = matmul(&a, rm, &[0], &eye, rm, &[0], n, n, n);
            assert_eq!(out, a);
            super::super::alloc::recycle(out);
        }
    }
}
