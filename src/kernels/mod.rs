//! Numerical kernels: plain functions over slices and layouts, no autograd. Parallel work runs
//! on the crate's team of threads (`team`), the calling thread included, and only above a size
//! threshold, so small ops stay on the calling thread.

pub mod alloc;
pub mod cast;
pub mod conv;
pub mod elementwise;
pub mod lanes;
pub mod math;
pub mod matmul;
pub mod reduce;
pub mod simd;
pub mod stream;
pub mod strided;
pub mod svd;
pub mod team;
pub mod ternary;

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Elements below which an elementwise kernel stays on one thread: under this, waking a
/// worker costs more than the work (measured in benches/kernels.rs).
pub const ELEMENTWISE_PAR_MIN: usize = 1 << 16;
/// Work units (elements touched) per parallel chunk.
pub const CHUNK: usize = 1 << 14;
/// Most elements per task of an elementwise op. Small tasks let the team's alternating walk
/// (see `team`) start each op on the lines the previous op left in L2.
pub const ELEMENTWISE_TASK_MAX: usize = 1 << 15;

/// Elements per task when `n` elements are split for an elementwise op.
pub fn elementwise_chunk(n: usize) -> usize {
    n.div_ceil(get_num_threads() * 4)
        .clamp(CHUNK, ELEMENTWISE_TASK_MAX)
}

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

/// Whether work of `n` elements should be split across threads.
#[inline]
pub fn parallel_for(n: usize, min: usize) -> bool {
    cfg!(feature = "parallel") && n >= min && get_num_threads() > 1
}

/// Runs `f` over `0..n_tasks` on up to `get_num_threads()` threads, the calling thread
/// included (see `team`).
pub fn run_tasks(n_tasks: usize, f: impl Fn(usize) + Sync + Send) {
    let threads = if cfg!(feature = "parallel") {
        get_num_threads().min(n_tasks)
    } else {
        1
    };
    team::run(n_tasks, threads, &f);
}

/// Threads the machine's kernels may use at most (the team's size).
fn max_threads() -> usize {
    default_threads().max(get_num_threads())
}

/// Runs `f(chunk, start)` over consecutive chunks of `data` (the last one shorter), in
/// parallel through [`run_tasks`].
pub fn for_each_chunk<T: Send>(
    data: &mut [T],
    chunk: usize,
    f: impl Fn(&mut [T], usize) + Sync + Send,
) {
    let n = data.len();
    let chunk = chunk.max(1);
    let base = SharedMut(data.as_mut_ptr());
    run_tasks(n.div_ceil(chunk), |i| {
        let start = i * chunk;
        let len = chunk.min(n - start);
        // SAFETY: task i alone gets elements [start, start + len) of `data`, which is
        // borrowed mutably for the whole call; the ranges of different tasks are disjoint.
        let part = unsafe { std::slice::from_raw_parts_mut(base.at(start), len) };
        f(part, start)
    });
}

/// A pointer to a buffer that parallel tasks write at disjoint elements.
pub(crate) struct SharedMut<T>(pub(crate) *mut T);
impl<T> Clone for SharedMut<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SharedMut<T> {}
// SAFETY: only used by tasks that write disjoint elements (see each use).
unsafe impl<T> Send for SharedMut<T> {}
unsafe impl<T> Sync for SharedMut<T> {}
impl<T> SharedMut<T> {
    /// The element `offset` places in; callers keep it inside the buffer.
    pub(crate) fn at(self, offset: usize) -> *mut T {
        self.0.wrapping_add(offset)
    }
}

/// Allocates `n` elements and fills them with `fill(chunk, start)`, in parallel chunks when
/// `n >= par_min`. `fill` must write every element of its chunk.
pub fn fill_new<T: Copy + Send + Sync>(
    n: usize,
    par_min: usize,
    fill: impl Fn(&mut [MaybeUninit<T>], usize) + Sync + Send,
) -> Vec<T> {
    let mut v: Vec<T> = alloc::vec_with_capacity(n);
    // Results bigger than the cache skip reading their destination lines (see `stream`).
    let streamed = |c: &mut [MaybeUninit<T>], s: usize| stream::fill_streaming(c, s, &fill);
    let fill: &(dyn Fn(&mut [MaybeUninit<T>], usize) + Sync + Send) =
        if n.saturating_mul(std::mem::size_of::<T>()) >= stream::STREAM_MIN_BYTES {
            &streamed
        } else {
            &fill
        };
    {
        let spare = &mut v.spare_capacity_mut()[..n];
        if parallel_for(n, par_min) {
            for_each_chunk(spare, elementwise_chunk(n), fill);
        } else {
            fill(spare, 0);
        }
    }
    // SAFETY: `fill` wrote every element of `0..n` (its contract), and T needs no drop glue
    // beyond what a written value has.
    unsafe { v.set_len(n) };
    v
}
