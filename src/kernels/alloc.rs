//! A caching allocator for large tensor buffers. Freed buffers of at least [`CACHE_MIN_BYTES`]
//! are kept, grouped by element size and alignment, and handed to the next result of a fitting
//! size: a fresh 64 MiB result otherwise costs 16,384 page faults (the pages are returned to the
//! OS on free and faulted in again on first write), which halves the throughput of large
//! elementwise ops. Small buffers go straight to the system allocator, which already recycles
//! them cheaply.
//!
//! Live-byte accounting (`crate::memory`) is unaffected: it counts buffers held by tensors, and
//! a cached block belongs to no tensor. The cache holds at most `FERROGRAD_CACHE_MB` MiB
//! (default 512; 0 turns caching off); past that the oldest blocks are freed.

use std::alloc::{Layout, dealloc};
use std::mem::{ManuallyDrop, align_of, size_of};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Buffers smaller than this are not cached.
pub const CACHE_MIN_BYTES: usize = 1 << 16;
/// A cached block serves requests down to this fraction of its size (so a block is never
/// more than a quarter larger than what it holds).
const FIT_SLACK_DIV: usize = 4;
/// At most this many blocks are kept (a bound on the linear search).
const MAX_BLOCKS: usize = 64;

struct Block {
    ptr: *mut u8,
    bytes: usize,
    size: usize,
    align: usize,
}

// SAFETY: a block is an unaliased heap allocation owned by the cache alone.
unsafe impl Send for Block {}

impl Block {
    fn free(self) {
        // SAFETY: `ptr` came from a `Vec` of `bytes / size` elements of size `size` and alignment
        // `align`, i.e. from the global allocator with exactly this layout.
        unsafe {
            dealloc(
                self.ptr,
                Layout::from_size_align_unchecked(self.bytes, self.align),
            )
        }
    }
}

struct Cache {
    blocks: Vec<Block>,
    bytes: usize,
}

static CACHE: Mutex<Cache> = Mutex::new(Cache {
    blocks: Vec::new(),
    bytes: 0,
});
/// The limit in bytes, plus one (0 = not read from the environment yet).
static LIMIT: AtomicUsize = AtomicUsize::new(0);

fn limit() -> usize {
    match LIMIT.load(Ordering::Relaxed) {
        0 => {
            let mb = std::env::var("FERROGRAD_CACHE_MB")
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(512);
            let bytes = mb.saturating_mul(1 << 20);
            LIMIT.store(bytes.saturating_add(1), Ordering::Relaxed);
            bytes
        }
        n => n - 1,
    }
}

/// Sets the most bytes the cache keeps (0 turns caching off and frees what it holds).
pub fn set_cache_limit(bytes: usize) {
    LIMIT.store(bytes.saturating_add(1), Ordering::Relaxed);
    trim(bytes);
}

/// Bytes held by the cache right now (not counted as live tensor memory).
pub fn cached_bytes() -> usize {
    CACHE.lock().map(|c| c.bytes).unwrap_or(0)
}

/// Frees every cached block.
pub fn empty_cache() {
    trim(0);
}

fn trim(to: usize) {
    let freed: Vec<Block> = {
        let Ok(mut c) = CACHE.lock() else { return };
        let mut out = Vec::new();
        while c.bytes > to && !c.blocks.is_empty() {
            let b = c.blocks.remove(0);
            c.bytes -= b.bytes;
            out.push(b);
        }
        out
    };
    freed.into_iter().for_each(Block::free);
}

/// An empty vector with room for at least `n` elements, from the cache when a block fits.
#[inline]
pub fn vec_with_capacity<T: Copy>(n: usize) -> Vec<T> {
    let size = size_of::<T>();
    let bytes = n.saturating_mul(size);
    if size == 0 || bytes < CACHE_MIN_BYTES {
        return Vec::with_capacity(n);
    }
    if let Some(b) = take(bytes, size, align_of::<T>()) {
        // SAFETY: the block was allocated by a Vec whose elements have T's size and alignment
        // (both checked by `take`), with capacity `b.bytes / size`; length 0 needs no init.
        return unsafe { Vec::from_raw_parts(b.ptr as *mut T, 0, b.bytes / size) };
    }
    Vec::with_capacity(n)
}

fn take(bytes: usize, size: usize, align: usize) -> Option<Block> {
    CACHE.lock().ok()?.take(bytes, size, align)
}

impl Cache {
    /// The smallest block of this element size and alignment that fits `bytes` within the
    /// slack; of equal ones the last freed, whose lines are the likeliest to still be cached
    /// (taking the oldest would cycle a loop of ops through every cached block).
    fn take(&mut self, bytes: usize, size: usize, align: usize) -> Option<Block> {
        let mut best: Option<usize> = None;
        for (i, b) in self.blocks.iter().enumerate() {
            let fits = b.size == size
                && b.align == align
                && b.bytes >= bytes
                && b.bytes - bytes <= b.bytes / FIT_SLACK_DIV;
            if fits && best.is_none_or(|j| self.blocks[j].bytes >= b.bytes) {
                best = Some(i);
            }
        }
        let b = self.blocks.remove(best?);
        self.bytes -= b.bytes;
        Some(b)
    }

    /// Keeps `block`; returns the oldest blocks that no longer fit under `max`.
    fn put(&mut self, block: Block, max: usize) -> Vec<Block> {
        self.bytes += block.bytes;
        self.blocks.push(block);
        let mut out = Vec::new();
        while (self.bytes > max || self.blocks.len() > MAX_BLOCKS) && !self.blocks.is_empty() {
            let b = self.blocks.remove(0);
            self.bytes -= b.bytes;
            out.push(b);
        }
        out
    }
}

/// Gives a buffer back: kept for reuse when large enough and the cache has room, else freed.
#[inline]
pub fn recycle<T: Copy>(v: Vec<T>) {
    let size = size_of::<T>();
    let bytes = v.capacity().saturating_mul(size);
    if size == 0 || bytes < CACHE_MIN_BYTES {
        return;
    }
    let max = limit();
    if bytes > max {
        return;
    }
    let mut v = ManuallyDrop::new(v);
    let block = Block {
        ptr: v.as_mut_ptr() as *mut u8,
        bytes,
        size,
        align: align_of::<T>(),
    };
    let evicted = match CACHE.lock() {
        Ok(mut c) => c.put(block, max),
        Err(_) => vec![block],
    };
    // Freed outside the lock: returning pages to the OS can take a while.
    evicted.into_iter().for_each(Block::free);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_of<T: Copy + Default>(n: usize) -> (Block, usize) {
        let mut v = ManuallyDrop::new(vec![T::default(); n]);
        let ptr = v.as_mut_ptr() as *mut u8;
        let b = Block {
            ptr,
            bytes: v.capacity() * size_of::<T>(),
            size: size_of::<T>(),
            align: align_of::<T>(),
        };
        (b, ptr as usize)
    }

    // On a private cache: the global one is shared with tests running in parallel.
    #[test]
    fn takes_the_smallest_fitting_block_of_the_same_element_type() {
        let mut c = Cache {
            blocks: Vec::new(),
            bytes: 0,
        };
        let (big, p_big) = block_of::<f32>(1 << 16);
        let (mid, p_mid) = block_of::<f32>(1 << 15);
        let (dbl, p_dbl) = block_of::<f64>(1 << 14);
        for b in [big, mid, dbl] {
            assert!(c.put(b, usize::MAX).is_empty());
        }
        assert_eq!(c.bytes, (1 << 18) + (1 << 17) + (1 << 17));
        // 120 KiB of f32: the 128 KiB block fits (within a quarter), the f64 block is another type.
        let b = c.take(120 << 10, 4, 4).unwrap();
        assert_eq!(b.ptr as usize, p_mid);
        b.free();
        // Half of the big block is too loose a fit; nothing else of this type is left.
        assert!(c.take(1 << 17, 4, 4).is_none());
        let b = c.take(1 << 17, 8, 8).unwrap();
        assert_eq!(b.ptr as usize, p_dbl);
        b.free();
        let b = c.take(1 << 18, 4, 4).unwrap();
        assert_eq!(b.ptr as usize, p_big);
        b.free();
        assert_eq!(c.bytes, 0);
    }

    #[test]
    fn of_equal_blocks_takes_the_last_freed() {
        let mut c = Cache {
            blocks: Vec::new(),
            bytes: 0,
        };
        let (a, pa) = block_of::<f32>(1 << 15);
        let (b, pb) = block_of::<f32>(1 << 15);
        assert!(c.put(a, usize::MAX).is_empty());
        assert!(c.put(b, usize::MAX).is_empty());
        // A loop that frees its result before the next call gets the same block every time.
        for _ in 0..3 {
            let t = c.take(1 << 17, 4, 4).unwrap();
            assert_eq!(t.ptr as usize, pb);
            assert!(c.put(t, usize::MAX).is_empty());
        }
        let t = c.take(1 << 17, 4, 4).unwrap();
        let u = c.take(1 << 17, 4, 4).unwrap();
        assert_eq!((t.ptr as usize, u.ptr as usize), (pb, pa));
        t.free();
        u.free();
    }

    #[test]
    fn evicts_the_oldest_blocks_past_the_limit() {
        let mut c = Cache {
            blocks: Vec::new(),
            bytes: 0,
        };
        let (a, pa) = block_of::<f32>(1 << 15);
        let (b, _) = block_of::<f32>(1 << 15);
        assert!(c.put(a, 1 << 18).is_empty());
        let out = c.put(b, 1 << 17);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].ptr as usize, pa);
        out.into_iter().for_each(Block::free);
        assert_eq!(c.bytes, 1 << 17);
        c.take(1 << 17, 4, 4).unwrap().free();
    }
}
