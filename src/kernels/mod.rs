//! Numerical kernels: plain functions over slices and layouts, no autograd. Parallel work runs
//! on one crate-owned rayon pool, and only above a size threshold, so small ops stay on the
//! calling thread.

pub mod alloc;
pub mod cast;
pub mod conv;
pub mod elementwise;
pub mod lanes;
pub mod math;
pub mod matmul;
pub mod reduce;
pub mod simd;
pub mod strided;
pub mod svd;
pub mod ternary;

use std::mem::MaybeUninit;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Elements below which an elementwise kernel stays on one thread: under this, waking a
/// worker costs more than the work (measured in benches/kernels.rs).
pub const ELEMENTWISE_PAR_MIN: usize = 1 << 16;
/// Work units (elements touched) per parallel chunk.
pub const CHUNK: usize = 1 << 14;

static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
static THREADS: AtomicUsize = AtomicUsize::new(0);

fn default_threads() -> usize {
    std::env::var("FERROGRAD_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}

/// How many threads kernels use (`FERROGRAD_NUM_THREADS`, default: all cores).
pub fn get_num_threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => {
            let n = default_threads();
            let _ = THREADS.compare_exchange(0, n, Ordering::Relaxed, Ordering::Relaxed);
            THREADS.load(Ordering::Relaxed)
        }
        n => n,
    }
}

/// Limits kernels to `n` threads (at least 1). The pool keeps its workers; fewer of them are
/// used.
pub fn set_num_threads(n: usize) {
    THREADS.store(n.max(1), Ordering::Relaxed);
}

/// The crate's pool, built on first use with one worker per core.
pub fn pool() -> &'static rayon::ThreadPool {
    POOL.get_or_init(|| {
        let n = default_threads().max(get_num_threads());
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("ferrograd-{i}"))
            .build()
            .expect("building the kernel thread pool")
    })
}

/// Whether work of `n` elements should be split across threads.
#[inline]
pub fn parallel_for(n: usize, min: usize) -> bool {
    cfg!(feature = "parallel") && n >= min && get_num_threads() > 1
}

/// Runs `f` over `0..n_tasks` on the pool, at most `get_num_threads()` at once.
pub fn run_tasks(n_tasks: usize, f: impl Fn(usize) + Sync + Send) {
    use rayon::prelude::*;
    let threads = get_num_threads();
    pool().install(|| {
        (0..n_tasks)
            .into_par_iter()
            .with_min_len(n_tasks.div_ceil(threads).max(1))
            .for_each(&f)
    });
}

/// Allocates `n` elements and fills them with `fill(chunk, start)`, in parallel chunks when
/// `n >= par_min`. `fill` must write every element of its chunk.
pub fn fill_new<T: Copy + Send + Sync>(
    n: usize,
    par_min: usize,
    fill: impl Fn(&mut [MaybeUninit<T>], usize) + Sync + Send,
) -> Vec<T> {
    let mut v: Vec<T> = alloc::vec_with_capacity(n);
    {
        let spare = &mut v.spare_capacity_mut()[..n];
        if parallel_for(n, par_min) {
            use rayon::prelude::*;
            let threads = get_num_threads();
            let chunk = n.div_ceil(threads * 4).max(CHUNK);
            pool().install(|| {
                spare
                    .par_chunks_mut(chunk)
                    .enumerate()
                    .for_each(|(i, c)| fill(c, i * chunk))
            });
        } else {
            fill(spare, 0);
        }
    }
    // SAFETY: `fill` wrote every element of `0..n` (its contract), and T needs no drop glue
    // beyond what a written value has.
    unsafe { v.set_len(n) };
    v
}
