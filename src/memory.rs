//! Live tensor memory: every storage buffer adds its bytes when created and removes them when
//! dropped, so `allocated()` is exactly the bytes held by live tensors (views count once).

use std::sync::atomic::{AtomicUsize, Ordering};

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Bytes of tensor storage alive right now, in this process.
pub fn allocated() -> usize {
    ALLOCATED.load(Ordering::Relaxed)
}

/// The highest `allocated()` since start or since the last `reset_peak()`.
pub fn peak_allocated() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Sets the peak to the current allocation.
pub fn reset_peak() {
    PEAK.store(allocated(), Ordering::Relaxed);
}

pub(crate) fn on_alloc(bytes: usize) {
    let now = ALLOCATED.fetch_add(bytes, Ordering::Relaxed) + bytes;
    // A plain load first: the peak rarely moves, and a read-modify-write on every allocation
    // would be a second contended atomic on the per-op path.
    if now > PEAK.load(Ordering::Relaxed) {
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

pub(crate) fn on_free(bytes: usize) {
    ALLOCATED.fetch_sub(bytes, Ordering::Relaxed);
}

/// Bytes kept by the caching allocator for reuse (freed tensor buffers; not live memory).
pub fn cached() -> usize {
    crate::kernels::alloc::cached_bytes()
}

/// Returns every cached buffer to the system.
pub fn empty_cache() {
    crate::kernels::alloc::empty_cache()
}
