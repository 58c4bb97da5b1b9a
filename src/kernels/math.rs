//! Branch-free transcendentals that vectorise (libm's `expf` is a call per element, which no
//! compiler vectorises). Accuracy: within 2 ulp of the correctly rounded result over the whole
//! f32 range, including overflow to inf, subnormal results, ±inf and NaN.

use crate::dtype::Element;
use std::mem::MaybeUninit;

/// e^x for f32: range reduction x = n·ln2 + r with |r| <= ln2/2, a degree-6 polynomial for
/// e^r (Cephes' coefficients), and the scale 2^n applied in two halves so subnormal and
/// near-overflow results come out right.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Round-to-nearest by the 1.5·2^23 trick: no rounding instruction needed at any SIMD level.
    const MAGIC: f32 = 12_582_912.0;
    // Beyond these the result is inf or 0 anyway; clamping keeps n inside the scale's range.
    // (`max`/`min` return the other operand for NaN, so NaN is carried by `nan` below.)
    #[allow(clippy::manual_clamp)] // clamp would keep NaN; max/min move it into range
    let xc = x.max(-104.0).min(89.0);
    let t = xc * LOG2E + MAGIC;
    let n = t - MAGIC;
    let r = xc - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_2e-4f32;
    p = p * r + 1.398_2e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 0.166_666_65;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    // n sits in the low mantissa bits of t; reading it there (instead of `n as i32`, a
    // saturating conversion LLVM keeps scalar) lets the whole function vectorise.
    let ni = (t.to_bits() as i32).wrapping_sub(0x4B40_0000);
    let n1 = ni >> 1;
    let n2 = ni - n1;
    let s1 = f32::from_bits(((n1 + 127) as u32) << 23);
    let s2 = f32::from_bits(((n2 + 127) as u32) << 23);
    let out = y * s1 * s2;
    if x.is_nan() { x } else { out }
}

/// Element types with a vectorisable exp; f64 keeps libm's (the common float32 path is the
/// one that must be fast).
pub trait FastExp: Copy {
    fn fast_exp(self) -> Self;
    /// `out[i] = exp(src[i])` over a whole contiguous slice.
    fn exp_slice(out: &mut [MaybeUninit<Self>], src: &[Self]) {
        super::simd::map(out, src, &Self::fast_exp)
    }
}

impl FastExp for f32 {
    #[inline(always)]
    fn fast_exp(self) -> f32 {
        exp_f32(self)
    }

    fn exp_slice(out: &mut [MaybeUninit<f32>], src: &[f32]) {
        #[cfg(target_arch = "x86_64")]
        if super::simd::simd_level() == "avx512" {
            // SAFETY: the CPU has AVX-512F (checked by `simd_level`).
            return unsafe { avx512::exp_f32(out, src) };
        }
        super::simd::map(out, src, &exp_f32)
    }
}

impl FastExp for f64 {
    #[inline(always)]
    fn fast_exp(self) -> f64 {
        self.exp()
    }
}

/// Elements shifted per block of [`exp_rows_shifted`]: small enough to stay on the stack and
/// in L1.
const SHIFT_BLOCK: usize = 256;

/// For rows of `c` elements laid end to end in `src`, `out = exp(src - shift[row])` with the
/// vectorised exp. Blocks run across row boundaries, so short rows (ten classes) do not each
/// pay the vector loop's set-up.
pub fn exp_rows_shifted<T>(out: &mut [MaybeUninit<T>], src: &[T], c: usize, shift: &[T])
where
    T: FastExp + Element + std::ops::Sub<Output = T>,
{
    assert!(c > 0 && out.len() == src.len() && src.len() == shift.len() * c);
    let mut shifted = [const { MaybeUninit::<T>::uninit() }; SHIFT_BLOCK];
    for (b, (o, s)) in out
        .chunks_mut(SHIFT_BLOCK)
        .zip(src.chunks(SHIFT_BLOCK))
        .enumerate()
    {
        let first = b * SHIFT_BLOCK;
        let tmp = &mut shifted[..s.len()];
        // One row's stretch of the block at a time.
        let mut e = 0;
        while e < s.len() {
            let row = (first + e) / c;
            let end = ((row + 1) * c - first).min(s.len());
            let m = shift[row];
            for (t, &v) in tmp[e..end].iter_mut().zip(&s[e..end]) {
                t.write(v - m);
            }
            e = end;
        }
        // SAFETY: the loop above wrote every element of `tmp`.
        T::exp_slice(o, unsafe { assume_init(tmp) });
    }
}

/// Views a fully written slice as initialised.
///
/// # Safety
/// Every element of `v` must have been written.
pub unsafe fn assume_init<T>(v: &[MaybeUninit<T>]) -> &[T] {
    // SAFETY: MaybeUninit<T> has T's layout, and the caller vouches every element is written.
    unsafe { &*(v as *const [MaybeUninit<T>] as *const [T]) }
}

/// The sum of `v` in f64, over eight independent lanes (one running total would chain every
/// addition on the one before and cost more than the exps it sums).
pub fn wide_sum<T: Element>(v: &[T]) -> f64 {
    let mut lanes = [0.0f64; 8];
    let chunks = v.chunks_exact(8);
    let tail: f64 = chunks.remainder().iter().map(|x| x.to_f64()).sum();
    for c in chunks {
        for (l, x) in lanes.iter_mut().zip(c) {
            *l += x.to_f64();
        }
    }
    lanes.iter().sum::<f64>() + tail
}

/// `exp_f32` written with AVX-512's fused multiply-adds, rounding and `scalef` (which applies
/// 2^n with correct overflow and subnormal results in one instruction): about half the
/// instructions of the portable loop, whose multiply-adds the compiler may not fuse.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    #[target_feature(enable = "avx512f")]
    pub unsafe fn exp_f32(out: &mut [MaybeUninit<f32>], src: &[f32]) {
        let n = out.len().min(src.len());
        let (src, dst) = (src.as_ptr(), out.as_mut_ptr().cast::<f32>());
        let mut i = 0;
        while i + 16 <= n {
            // SAFETY: i + 16 <= n, inside both slices.
            unsafe { _mm512_storeu_ps(dst.add(i), exp16(_mm512_loadu_ps(src.add(i)))) };
            i += 16;
        }
        if i < n {
            let mask: __mmask16 = (1u16 << (n - i)) - 1;
            // SAFETY: the mask limits the load and the store to the n - i remaining elements.
            unsafe {
                let x = _mm512_maskz_loadu_ps(mask, src.add(i));
                _mm512_mask_storeu_ps(dst.add(i), mask, exp16(x));
            }
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn exp16(x: __m512) -> __m512 {
        // `max`/`min` return their second operand when either is NaN, so NaN flows through
        // the clamp (and every step after it) unchanged.
        let x = _mm512_min_ps(
            _mm512_set1_ps(89.0),
            _mm512_max_ps(_mm512_set1_ps(-104.0), x),
        );
        let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
            _mm512_mul_ps(x, _mm512_set1_ps(std::f32::consts::LOG2_E)),
        );
        let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693_359_4), x);
        let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.121_944_4e-4), r);
        let mut p = _mm512_set1_ps(1.987_569_2e-4);
        for c in [1.398_2e-3, 8.333_452e-3, 4.166_579_6e-2, 0.166_666_65, 0.5] {
            p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
        }
        let y = _mm512_add_ps(
            _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r),
            _mm512_set1_ps(1.0),
        );
        _mm512_scalef_ps(y, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f32, b: f32) -> u32 {
        if a == b {
            return 0;
        }
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    #[test]
    fn exp_matches_f64_reference_within_two_ulp() {
        let mut worst = 0;
        let mut x = -104.0f32;
        while x < 89.0 {
            let want = (x as f64).exp() as f32;
            let got = exp_f32(x);
            let u = ulps(got, want);
            assert!(u <= 2, "exp({x}) = {got}, want {want} ({u} ulp)");
            worst = worst.max(u);
            x += 0.0137;
        }
        for &x in &[
            0.0f32, -0.0, 1.0, -1.0, 1e-7, -1e-7, 88.72, -87.5, -100.0, -103.9,
        ] {
            let want = (x as f64).exp() as f32;
            assert!(ulps(exp_f32(x), want) <= 2, "exp({x})");
        }
        assert!(worst <= 2);
    }

    #[test]
    fn slice_kernel_matches_the_reference_at_every_length() {
        let xs: Vec<f32> = (0..4000)
            .map(|i| -104.0 + i as f32 * 0.0483)
            .chain([
                f32::NAN,
                f32::INFINITY,
                f32::NEG_INFINITY,
                -100.0,
                88.72,
                89.5,
            ])
            .collect();
        for len in [0usize, 1, 15, 16, 17, xs.len()] {
            let src = &xs[xs.len() - len..];
            let mut out = vec![MaybeUninit::<f32>::uninit(); len];
            <f32 as FastExp>::exp_slice(&mut out, src);
            for (o, &x) in out.iter().zip(src) {
                // SAFETY: exp_slice wrote every element.
                let got = unsafe { o.assume_init() };
                let want = (x as f64).exp() as f32;
                if x.is_nan() {
                    assert!(got.is_nan());
                } else {
                    assert!(ulps(got, want) <= 2, "exp({x}) = {got}, want {want}");
                }
            }
        }
    }

    #[test]
    fn exp_special_values() {
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32(89.0), f32::INFINITY);
        assert_eq!(exp_f32(1000.0), f32::INFINITY);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(-1000.0), 0.0);
        assert!(exp_f32(f32::NAN).is_nan());
        assert_eq!(exp_f32(0.0), 1.0);
        // A subnormal result, not flushed to zero.
        let sub = exp_f32(-100.0);
        assert!(sub > 0.0 && sub < f32::MIN_POSITIVE);
    }

    #[test]
    fn exp_rows_shifted_applies_each_rows_shift_across_block_boundaries() {
        // Rows of 7 (blocks of 256 end mid-row) and of 300 (a row spans two blocks).
        for c in [7usize, 300] {
            let rows = 90;
            let src: Vec<f32> = (0..rows * c)
                .map(|i| (i % 23) as f32 * 0.25 - 2.0)
                .collect();
            let shift: Vec<f32> = (0..rows).map(|r| r as f32 * 0.01).collect();
            let mut out = vec![MaybeUninit::uninit(); rows * c];
            exp_rows_shifted(&mut out, &src, c, &shift);
            for (i, (o, &v)) in out.iter().zip(&src).enumerate() {
                // SAFETY: exp_rows_shifted writes every element.
                let got = unsafe { o.assume_init() };
                let want = ((v - shift[i / c]) as f64).exp() as f32;
                assert!(ulps(got, want) <= 2, "c={c} i={i}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn wide_sum_adds_every_element_in_f64() {
        // One f32 ulp above 1 per element: exact in f64, rounded away by an f32 running total.
        let v = vec![1.0f32 + 2f32.powi(-23); 1003];
        let want = 1003.0 * (1.0 + 2f64.powi(-23));
        assert_eq!(wide_sum(&v), want);
    }
}
