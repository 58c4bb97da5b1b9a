//! Matrix products on the `gemm` crate: transposed operands are read through their strides
//! (no copies), batches run in parallel when each product is small.

use super::{get_num_threads, pool};
use gemm::Parallelism;

/// Multiply-adds below which one product stays on the calling thread.
const GEMM_PAR_MIN: usize = 1 << 18;

/// One matrix operand: element (i, j) is at `offset + i * rs + j * cs`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef {
    pub offset: usize,
    pub rs: usize,
    pub cs: usize,
}

/// Element types the GEMM handles.
pub trait GemmElement: Copy + Send + Sync + 'static {
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
    let mut out = vec![T::ZERO; batch * m * n];
    if m == 0 || n == 0 {
        return out;
    }
    let work = m * n * k;
    let threads = get_num_threads();
    let one = |dst: &mut [T], i: usize, par: Parallelism| {
        let a_ref = MatRef { offset: a_mat.offset + a_batch[i], ..a_mat };
        let b_ref = MatRef { offset: b_mat.offset + b_batch[i], ..b_mat };
        gemm_into(dst, a, a_ref, b, b_ref, m, k, n, par);
    };
    if batch > 1 && work < GEMM_PAR_MIN && cfg!(feature = "parallel") && threads > 1 && batch * work >= GEMM_PAR_MIN {
        use rayon::prelude::*;
        pool().install(|| {
            out.par_chunks_mut(m * n).enumerate().for_each(|(i, dst)| one(dst, i, Parallelism::None))
        });
    } else {
        let par = if cfg!(feature = "parallel") && threads > 1 && work >= GEMM_PAR_MIN {
            Parallelism::Rayon(threads)
        } else {
            Parallelism::None
        };
        let run = |out: &mut Vec<T>| {
            for (i, dst) in out.chunks_mut(m * n).enumerate() {
                one(dst, i, par);
            }
        };
        if matches!(par, Parallelism::None) { run(&mut out) } else { pool().install(|| run(&mut out)) }
    }
    out
}

/// `dst = a @ b` for one product; `dst` is row-major `[m, n]`.
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
    par: Parallelism,
) {
    assert!(dst.len() >= m * n);
    if k > 0 {
        assert!(am.offset + (m - 1) * am.rs + (k - 1) * am.cs < a.len(), "lhs outside its buffer");
        assert!(bm.offset + (k - 1) * bm.rs + (n - 1) * bm.cs < b.len(), "rhs outside its buffer");
    }
    // SAFETY: the asserts keep every element the product reads inside `a` and `b`, and `dst`
    // holds m*n elements written row-major (row stride n, column stride 1).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr().add(am.offset),
            am.cs as isize,
            am.rs as isize,
            b.as_ptr().add(bm.offset),
            bm.cs as isize,
            bm.rs as isize,
            T::ZERO,
            T::ONE,
            false,
            false,
            false,
            par,
        );
    }
}
