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

/// Fails (instead of letting the allocator abort the process) when a buffer of `bytes` cannot
/// be had. Only large requests are probed: reserving and releasing address space is cheap,
/// and a request beyond what the OS will give is refused up front.
pub(crate) fn check_can_allocate(op: &'static str, bytes: usize) -> crate::error::Result<()> {
    const PROBE_FROM: usize = 1 << 30;
    if bytes < PROBE_FROM {
        return Ok(());
    }
    let too_big = || {
        crate::error::Error::invalid(
            op,
            format!(
                "not enough memory: tried to allocate {bytes} bytes ({:.1} GiB)",
                bytes as f64 / (1u64 << 30) as f64
            ),
        )
    };
    if bytes > isize::MAX as usize {
        return Err(too_big());
    }
    let mut probe: Vec<u8> = Vec::new();
    probe.try_reserve_exact(bytes).map_err(|_| too_big())
}
