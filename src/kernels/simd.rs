//! Runtime dispatch of the contiguous elementwise loops to AVX-512 or AVX2 code. The loops are
//! written once, generic over the element function; each is compiled three times (baseline,
//! AVX2+FMA, AVX-512) and the widest the CPU supports is chosen on first use. The element
//! functions are plain arithmetic (see `math` for a branch-free `exp`), so LLVM vectorises them
//! at the wider width.

use std::mem::MaybeUninit;
#[cfg(target_arch = "x86_64")]
use std::sync::atomic::{AtomicU8, Ordering};

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Base = 1,
    Avx2 = 2,
    Avx512 = 3,
}

#[cfg(target_arch = "x86_64")]
static LEVEL: AtomicU8 = AtomicU8::new(0);

#[cfg(target_arch = "x86_64")]
#[inline]
fn level() -> Level {
    match LEVEL.load(Ordering::Relaxed) {
        3 => Level::Avx512,
        2 => Level::Avx2,
        1 => Level::Base,
        _ => {
            let l = if std::env::var_os("FERROGRAD_NO_SIMD").is_some() {
                Level::Base
            } else if is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512vl")
                && is_x86_feature_detected!("avx512bw")
                && is_x86_feature_detected!("avx512dq")
                && is_x86_feature_detected!("fma")
            {
                Level::Avx512
            } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                Level::Avx2
            } else {
                Level::Base
            };
            LEVEL.store(l as u8, Ordering::Relaxed);
            l
        }
    }
}

/// The instruction set the elementwise loops use on this CPU: "avx512", "avx2" or "baseline".
pub fn simd_level() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    match level() {
        Level::Avx512 => return "avx512",
        Level::Avx2 => return "avx2",
        Level::Base => {}
    }
    "baseline"
}

/// Defines `$name` (dispatching) over the loop body `$body`, compiled per instruction set.
macro_rules! dispatched {
    ($(#[$doc:meta])* fn $name:ident<$($g:ident),*>($($arg:ident: $ty:ty),*) where $($bounds:tt)*) => {
        $(#[$doc])*
        #[inline]
        pub fn $name<$($g),*>($($arg: $ty),*) where $($bounds)* {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,bmi1,bmi2")]
                fn wide<$($g),*>($($arg: $ty),*) where $($bounds)* {
                    body::$name($($arg),*)
                }
                #[target_feature(enable = "avx2,fma,bmi1,bmi2")]
                fn mid<$($g),*>($($arg: $ty),*) where $($bounds)* {
                    body::$name($($arg),*)
                }
                match level() {
                    // SAFETY: `level()` checked that the CPU has these features.
                    Level::Avx512 => return unsafe { wide($($arg),*) },
                    Level::Avx2 => return unsafe { mid($($arg),*) },
                    Level::Base => {}
                }
            }
            body::$name($($arg),*)
        }
    };
}

/// The loops themselves, inlined into each instruction-set variant.
mod body {
    use std::mem::MaybeUninit;

    #[inline(always)]
    pub fn map<T: Copy, U, F: Fn(T) -> U>(out: &mut [MaybeUninit<U>], src: &[T], f: &F) {
        for (o, &x) in out.iter_mut().zip(src) {
            o.write(f(x));
        }
    }

    #[inline(always)]
    pub fn zip<A: Copy, B: Copy, O, F: Fn(A, B) -> O>(
        out: &mut [MaybeUninit<O>],
        a: &[A],
        b: &[B],
        f: &F,
    ) {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            o.write(f(x, y));
        }
    }

    #[inline(always)]
    pub fn map_inplace<T: Copy, F: Fn(T) -> T>(dst: &mut [T], f: &F) {
        for d in dst.iter_mut() {
            *d = f(*d);
        }
    }

    #[inline(always)]
    pub fn update<T: Copy, B: Copy, F: Fn(T, B) -> T>(dst: &mut [T], src: &[B], f: &F) {
        for (d, &y) in dst.iter_mut().zip(src) {
            *d = f(*d, y);
        }
    }

    /// `out[i] = f(full[i], row[(start + i) % row.len()])`, walked row by row so the inner
    /// loop is a plain slice zip.
    #[inline(always)]
    pub fn rows<A: Copy, B: Copy, O, F: Fn(A, B) -> O>(
        out: &mut [MaybeUninit<O>],
        full: &[A],
        row: &[B],
        start: usize,
        f: &F,
    ) {
        let m = row.len();
        let mut r = start % m;
        let mut i = 0;
        let n = out.len();
        while i < n {
            let len = (m - r).min(n - i);
            for ((o, &x), &y) in out[i..i + len]
                .iter_mut()
                .zip(&full[i..i + len])
                .zip(&row[r..r + len])
            {
                o.write(f(x, y));
            }
            i += len;
            r = 0;
        }
    }
}

dispatched! {
    /// `out[i] = f(src[i])`.
    fn map<T, U, F>(out: &mut [MaybeUninit<U>], src: &[T], f: &F) where T: Copy, F: Fn(T) -> U
}

dispatched! {
    /// `out[i] = f(a[i], b[i])`.
    fn zip<A, B, O, F>(out: &mut [MaybeUninit<O>], a: &[A], b: &[B], f: &F) where A: Copy, B: Copy, F: Fn(A, B) -> O
}

dispatched! {
    /// `dst[i] = f(dst[i])`, in place.
    fn map_inplace<T, F>(dst: &mut [T], f: &F) where T: Copy, F: Fn(T) -> T
}

dispatched! {
    /// `dst[i] = f(dst[i], src[i])`, in place.
    fn update<T, B, F>(dst: &mut [T], src: &[B], f: &F) where T: Copy, B: Copy, F: Fn(T, B) -> T
}

dispatched! {
    /// `out[i] = f(full[i], row[(start + i) % row.len()])` (the bias-add broadcast).
    fn rows<A, B, O, F>(out: &mut [MaybeUninit<O>], full: &[A], row: &[B], start: usize, f: &F) where A: Copy, B: Copy, F: Fn(A, B) -> O
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect<O: Copy>(n: usize, fill: impl FnOnce(&mut [MaybeUninit<O>])) -> Vec<O> {
        let mut v = Vec::with_capacity(n);
        fill(&mut v.spare_capacity_mut()[..n]);
        // SAFETY: `fill` wrote all n elements (checked by the loops' contracts in these tests).
        unsafe { v.set_len(n) };
        v
    }

    #[test]
    fn rows_walks_partial_first_and_last_rows() {
        let full: Vec<i64> = (0..11).collect();
        let row = [100i64, 200, 300];
        // Starting at flat index 4 of a [.., 3] tensor: column 1.
        let out = collect(7, |o| rows(o, &full[4..], &row, 4, &|x, y| x + y));
        assert_eq!(out, vec![204, 305, 106, 207, 308, 109, 210]);
    }

    #[test]
    fn map_and_zip_cover_every_element_at_odd_lengths() {
        for n in [0usize, 1, 7, 16, 17, 33, 1000] {
            let a: Vec<f32> = (0..n).map(|i| i as f32).collect();
            let b: Vec<f32> = (0..n).map(|i| 2.0 * i as f32).collect();
            let m = collect(n, |o| map(o, &a, &|x: f32| x * 3.0));
            assert_eq!(m, b.iter().map(|y| y * 1.5).collect::<Vec<_>>());
            let z = collect(n, |o| zip(o, &a, &b, &|x: f32, y: f32| x + y));
            assert_eq!(z, a.iter().map(|x| x * 3.0).collect::<Vec<_>>());
        }
        assert!(["avx512", "avx2", "baseline"].contains(&simd_level()));
    }
}
