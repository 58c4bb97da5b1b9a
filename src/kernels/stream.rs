//! Writing results larger than the caches with non-temporal ("streaming") stores. An ordinary
//! store to a line that is not cached first reads that line from memory, so a 64 MiB result
//! costs 128 MiB of traffic; streaming stores skip the read. A kernel fills a small staging
//! block that stays in L1, and the block is then streamed to the result: about a third less
//! memory traffic for `a * b` on 16M float32 elements. Results that fit in the cache keep
//! ordinary stores, so the next op finds them there.

use std::mem::{MaybeUninit, align_of, size_of};

/// Results at least this large are written with streaming stores (a quarter of the L3 on the
/// machines we measure: smaller results may still be in the cache when the next op reads them).
pub const STREAM_MIN_BYTES: usize = 8 << 20;
/// The staging block: small enough to stay in L1 next to the inputs being read.
const BLOCK_BYTES: usize = 8 << 10;

#[repr(C, align(64))]
struct Staging([MaybeUninit<u8>; BLOCK_BYTES]);

/// Whether this CPU has the streaming stores used here (AVX2 or AVX-512).
#[inline]
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        super::simd::simd_level() != "baseline"
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Runs `fill(block, start + offset)` over `out` one staging block at a time and streams each
/// block to its place in `out`. Like `fill`, it writes every element of `out`.
pub fn fill_streaming<T: Copy>(
    out: &mut [MaybeUninit<T>],
    start: usize,
    fill: &impl Fn(&mut [MaybeUninit<T>], usize),
) {
    let size = size_of::<T>();
    if !available() || size == 0 || size > BLOCK_BYTES || align_of::<T>() > 64 {
        return fill(out, start);
    }
    let per_block = BLOCK_BYTES / size;
    let mut stage = Staging([MaybeUninit::uninit(); BLOCK_BYTES]);
    // SAFETY: the staging bytes are 64-aligned (enough for T, checked above) and hold
    // `per_block * size <= BLOCK_BYTES` bytes; MaybeUninit<T> needs no initialisation.
    let block: &mut [MaybeUninit<T>] = unsafe {
        std::slice::from_raw_parts_mut(stage.0.as_mut_ptr().cast::<MaybeUninit<T>>(), per_block)
    };
    for (i, dst) in out.chunks_mut(per_block).enumerate() {
        let len = dst.len();
        fill(&mut block[..len], start + i * per_block);
        // SAFETY: `fill` wrote all `len` staged elements; `dst` is exactly `len` elements that
        // do not overlap the stack-held staging block.
        unsafe { copy_streaming(dst.as_mut_ptr().cast(), block.as_ptr().cast(), len * size) };
    }
    fence();
}

/// Copies `bytes` bytes from `src` to `dst`, streaming the aligned middle part.
///
/// # Safety
/// `src` and `dst` must be valid for `bytes` bytes and must not overlap.
unsafe fn copy_streaming(dst: *mut u8, src: *const u8, bytes: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if super::simd::simd_level() == "avx512" {
            // SAFETY: the CPU has AVX-512F (checked by the dispatcher); the caller's contract.
            return unsafe { x86::copy_512(dst, src, bytes) };
        }
        if available() {
            // SAFETY: the CPU has AVX2; the caller's contract.
            return unsafe { x86::copy_256(dst, src, bytes) };
        }
    }
    // SAFETY: the caller's contract.
    unsafe { std::ptr::copy_nonoverlapping(src, dst, bytes) }
}

/// Orders the streaming stores before anything this thread does next (they are weakly ordered,
/// and another thread will read the result once this task has finished).
#[inline]
fn fence() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of the x86_64 baseline.
    unsafe {
        std::arch::x86_64::_mm_sfence()
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// The bytes before `dst` reaches `align`, then whole aligned lanes, then the tail.
    #[inline(always)]
    unsafe fn split(dst: *mut u8, bytes: usize, align: usize) -> (usize, usize) {
        let head = (dst as usize).wrapping_neg() % align;
        let head = head.min(bytes);
        let body = (bytes - head) / align * align;
        (head, body)
    }

    #[target_feature(enable = "avx512f")]
    pub unsafe fn copy_512(dst: *mut u8, src: *const u8, bytes: usize) {
        // SAFETY (whole function): the caller guarantees both ranges are valid for `bytes`
        // bytes and disjoint; every streamed address is 64-aligned by construction.
        unsafe {
            let (head, body) = split(dst, bytes, 64);
            std::ptr::copy_nonoverlapping(src, dst, head);
            let mut i = head;
            while i < head + body {
                let v = _mm512_loadu_si512(src.add(i).cast());
                _mm512_stream_si512(dst.add(i).cast(), v);
                i += 64;
            }
            std::ptr::copy_nonoverlapping(src.add(i), dst.add(i), bytes - i);
        }
    }

    #[target_feature(enable = "avx2")]
    pub unsafe fn copy_256(dst: *mut u8, src: *const u8, bytes: usize) {
        // SAFETY: as in `copy_512`, with 32-byte alignment.
        unsafe {
            let (head, body) = split(dst, bytes, 32);
            std::ptr::copy_nonoverlapping(src, dst, head);
            let mut i = head;
            while i < head + body {
                let v = _mm256_loadu_si256(src.add(i).cast());
                _mm256_stream_si256(dst.add(i).cast(), v);
                i += 32;
            }
            std::ptr::copy_nonoverlapping(src.add(i), dst.add(i), bytes - i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_every_element_at_any_alignment_and_length() {
        // Odd offsets into the output make the head and tail paths run; lengths span several
        // staging blocks and partial ones.
        for offset in [0usize, 1, 3, 7] {
            for n in [0usize, 1, 15, 2048, 2049, 5000] {
                let mut out = vec![MaybeUninit::<f32>::uninit(); n + offset];
                fill_streaming(&mut out[offset..], 10, &|c, s| {
                    for (j, o) in c.iter_mut().enumerate() {
                        o.write((s + j) as f32);
                    }
                });
                for (j, o) in out[offset..].iter().enumerate() {
                    // SAFETY: fill_streaming wrote every element of the slice.
                    assert_eq!(unsafe { o.assume_init() }, (10 + j) as f32);
                }
            }
        }
    }

    #[test]
    fn copies_eight_byte_elements() {
        let n = 3001;
        let mut out = vec![MaybeUninit::<i64>::uninit(); n];
        fill_streaming(&mut out[1..], 0, &|c, s| {
            for (j, o) in c.iter_mut().enumerate() {
                o.write(-((s + j) as i64));
            }
        });
        for (j, o) in out[1..].iter().enumerate() {
            // SAFETY: written above.
            assert_eq!(unsafe { o.assume_init() }, -(j as i64));
        }
    }
}
