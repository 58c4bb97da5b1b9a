//! Kernels for convolution and pooling over [planes, H, W] buffers (a plane is one channel of
//! one sample): im2col / col2im (convolution runs as a GEMM over the columns), max pooling
//! with argmax indices, and separable resampling (average pools, adaptive pools and
//! interpolation are all sums of per-axis taps). Every plane is independent, so planes are
//! split across threads when the work is large.

use super::{for_each_chunk, get_num_threads, parallel_for};

/// Work (elements written) above which planes run in parallel.
const PLANES_PAR_MIN: usize = 1 << 15;

/// A sliding window over an H x W plane. Padding may differ per side (padding='same' with an
/// even kernel pads one more on the bottom/right).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window2d {
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    pub dh: usize,
    pub dw: usize,
    pub oh: usize,
    pub ow: usize,
}

impl Window2d {
    /// Input row of kernel row `i` at output row `oy` (None when it falls in the padding).
    #[inline]
    fn row(&self, oy: usize, i: usize) -> Option<usize> {
        (oy * self.sh + i * self.dh)
            .checked_sub(self.pad_top)
            .filter(|&r| r < self.h)
    }
    #[inline]
    fn col(&self, ox: usize, j: usize) -> Option<usize> {
        (ox * self.sw + j * self.dw)
            .checked_sub(self.pad_left)
            .filter(|&c| c < self.w)
    }
    pub fn k(&self) -> usize {
        self.kh * self.kw
    }
    pub fn l(&self) -> usize {
        self.oh * self.ow
    }
}

/// Runs `f(plane, out_chunk)` for each of the `out.len() / per_plane` planes.
fn for_planes<T: Send>(out: &mut [T], per_plane: usize, f: impl Fn(usize, &mut [T]) + Sync + Send) {
    if per_plane == 0 {
        return;
    }
    if parallel_for(out.len(), PLANES_PAR_MIN) {
        // A few planes per task: one claim per plane would cost more than a small plane.
        let planes = out.len() / per_plane;
        let per_task = planes.div_ceil(get_num_threads() * 8).max(1);
        for_each_chunk(out, per_task * per_plane, |c, start| {
            for (i, plane) in c.chunks_mut(per_plane).enumerate() {
                f(start / per_plane + i, plane)
            }
        });
    } else {
        out.chunks_mut(per_plane)
            .enumerate()
            .for_each(|(p, c)| f(p, c));
    }
}

/// `x` [planes, H, W] -> columns [planes, kh*kw, oh*ow]: column (i*kw + j, oy*ow + ox) holds
/// the input under kernel tap (i, j) at output (oy, ox), zero in the padding.
pub fn im2col<T: Copy + Default + Send + Sync>(x: &[T], planes: usize, win: &Window2d) -> Vec<T> {
    let (k, l) = (win.k(), win.l());
    let mut out = vec![T::default(); planes * k * l];
    for_planes(&mut out, k * l, |p, dst| {
        let src = &x[p * win.h * win.w..(p + 1) * win.h * win.w];
        for i in 0..win.kh {
            for j in 0..win.kw {
                let row = &mut dst[(i * win.kw + j) * l..(i * win.kw + j + 1) * l];
                for oy in 0..win.oh {
                    let Some(r) = win.row(oy, i) else { continue };
                    for ox in 0..win.ow {
                        if let Some(c) = win.col(ox, j) {
                            row[oy * win.ow + ox] = src[r * win.w + c];
                        }
                    }
                }
            }
        }
    });
    out
}

/// The adjoint of [`im2col`]: sums columns [planes, kh*kw, oh*ow] back into [planes, H, W].
pub fn col2im<T: Copy + Default + Send + Sync + std::ops::AddAssign>(
    cols: &[T],
    planes: usize,
    win: &Window2d,
) -> Vec<T> {
    let (k, l) = (win.k(), win.l());
    let mut out = vec![T::default(); planes * win.h * win.w];
    for_planes(&mut out, win.h * win.w, |p, dst| {
        let src = &cols[p * k * l..(p + 1) * k * l];
        for i in 0..win.kh {
            for j in 0..win.kw {
                let row = &src[(i * win.kw + j) * l..(i * win.kw + j + 1) * l];
                for oy in 0..win.oh {
                    let Some(r) = win.row(oy, i) else { continue };
                    for ox in 0..win.ow {
                        if let Some(c) = win.col(ox, j) {
                            dst[r * win.w + c] += row[oy * win.ow + ox];
                        }
                    }
                }
            }
        }
    });
    out
}

/// Max over each window (padding never wins; NaN does, as in PyTorch) and the flat index
/// `row * W + col` of the winner within its plane.
pub fn max_pool2d<T: num_traits::Float + Send + Sync>(
    x: &[T],
    planes: usize,
    win: &Window2d,
) -> (Vec<T>, Vec<i64>) {
    let l = win.l();
    let mut pairs: Vec<(T, i64)> = vec![(T::zero(), 0); planes * l];
    for_planes(&mut pairs, l, |p, dst| {
        let src = &x[p * win.h * win.w..(p + 1) * win.h * win.w];
        for oy in 0..win.oh {
            for ox in 0..win.ow {
                let mut best = T::neg_infinity();
                let mut at: i64 = -1;
                'win: for i in 0..win.kh {
                    let Some(r) = win.row(oy, i) else { continue };
                    for j in 0..win.kw {
                        let Some(c) = win.col(ox, j) else { continue };
                        let v = src[r * win.w + c];
                        if at < 0 || v > best || v.is_nan() {
                            best = v;
                            at = (r * win.w + c) as i64;
                            if v.is_nan() {
                                break 'win;
                            }
                        }
                    }
                }
                dst[oy * win.ow + ox] = (best, at.max(0));
            }
        }
    });
    pairs.into_iter().unzip()
}

/// The adjoint of max pooling: each output gradient goes to its window's winner.
pub fn max_pool2d_backward<T: Copy + Default + Send + Sync + std::ops::AddAssign>(
    g: &[T],
    idx: &[i64],
    planes: usize,
    hw: usize,
    l: usize,
) -> Vec<T> {
    let mut out = vec![T::default(); planes * hw];
    for_planes(&mut out, hw, |p, dst| {
        for q in p * l..(p + 1) * l {
            dst[idx[q] as usize] += g[q];
        }
    });
    out
}

/// Per-axis taps: output position i reads `(input index, weight)` pairs.
pub type Taps = Vec<Vec<(usize, f64)>>;

/// `out[p, y, x] = sum_a sum_b th[y][a].w * tw[x][b].w * in[p, th[y][a].i, tw[x][b].i]`.
pub fn resample<T: num_traits::Float + Send + Sync>(
    x: &[T],
    planes: usize,
    (h, w): (usize, usize),
    th: &Taps,
    tw: &Taps,
) -> Vec<T> {
    let (oh, ow) = (th.len(), tw.len());
    let mut out = vec![T::zero(); planes * oh * ow];
    for_planes(&mut out, oh * ow, |p, dst| {
        let src = &x[p * h * w..(p + 1) * h * w];
        for (y, ty) in th.iter().enumerate() {
            for (xo, tx) in tw.iter().enumerate() {
                let mut acc = 0.0f64;
                for &(r, wr) in ty {
                    for &(c, wc) in tx {
                        acc += wr * wc * src[r * w + c].to_f64().unwrap_or(f64::NAN);
                    }
                }
                dst[y * ow + xo] = T::from(acc).unwrap_or(T::nan());
            }
        }
    });
    out
}

/// The adjoint of [`resample`].
pub fn resample_backward<T: num_traits::Float + Send + Sync>(
    g: &[T],
    planes: usize,
    (h, w): (usize, usize),
    th: &Taps,
    tw: &Taps,
) -> Vec<T> {
    let (oh, ow) = (th.len(), tw.len());
    let mut out = vec![T::zero(); planes * h * w];
    for_planes(&mut out, h * w, |p, dst| {
        let src = &g[p * oh * ow..(p + 1) * oh * ow];
        for (y, ty) in th.iter().enumerate() {
            for (xo, tx) in tw.iter().enumerate() {
                let gv = src[y * ow + xo];
                for &(r, wr) in ty {
                    for &(c, wc) in tx {
                        let d = &mut dst[r * w + c];
                        *d = *d + gv * T::from(wr * wc).unwrap_or(T::nan());
                    }
                }
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn win(h: usize, w: usize, k: usize, s: usize, p: usize, d: usize) -> Window2d {
        let o = |n: usize| (n + 2 * p - d * (k - 1) - 1) / s + 1;
        Window2d {
            h,
            w,
            kh: k,
            kw: k,
            sh: s,
            sw: s,
            pad_top: p,
            pad_left: p,
            dh: d,
            dw: d,
            oh: o(h),
            ow: o(w),
        }
    }

    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        // <im2col(x), c> == <x, col2im(c)> for arbitrary x, c.
        let wd = win(5, 4, 3, 2, 1, 1);
        let x: Vec<f64> = (0..2 * 20).map(|i| (i as f64 * 0.37).sin()).collect();
        let cols = im2col(&x, 2, &wd);
        let c: Vec<f64> = (0..cols.len()).map(|i| (i as f64 * 0.11).cos()).collect();
        let back = col2im(&c, 2, &wd);
        let lhs: f64 = cols.iter().zip(&c).map(|(a, b)| a * b).sum();
        let rhs: f64 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-12);
    }

    #[test]
    fn max_pool_picks_the_window_max() {
        let wd = win(2, 2, 2, 2, 0, 1);
        let (v, i) = max_pool2d(&[1.0f32, 5.0, 3.0, 2.0], 1, &wd);
        assert_eq!((v, i), (vec![5.0], vec![1]));
    }
}
