//! Pooling and resampling over `[N, C, H, W]` (or unbatched `[C, H, W]`; the 1-D forms add
//! a height-1 axis): max pooling with argmax indices, and average pools, adaptive average
//! pools and interpolation as separable tap sums (kernels/conv.rs), each with its adjoint as
//! backward.

use crate::error::{Error, Result};
use crate::kernels::conv::{
    Taps, Window2d, max_pool2d, max_pool2d_backward, resample, resample_backward,
};
use crate::ops::{grads, record};
use crate::tensor::Tensor;
use crate::with_float;
use std::sync::Arc;

/// Window options of a pooling op, per axis (height, width).
#[derive(Clone, Copy, Debug)]
pub struct PoolArgs {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub ceil_mode: bool,
}

/// Output length of a pooling window along one axis (PyTorch's `pooling_output_shape`).
fn pooled_len(
    op: &'static str,
    n: usize,
    k: usize,
    s: usize,
    p: usize,
    d: usize,
    ceil: bool,
) -> Result<usize> {
    if k == 0 || s == 0 || d == 0 {
        return Err(Error::invalid(
            op,
            format!(
                "kernel_size, stride and dilation must be greater than zero, but got kernel_size={k}, stride={s}, dilation={d}"
            ),
        ));
    }
    if 2 * p > d * (k - 1) + 1 {
        return Err(Error::invalid(
            op,
            format!(
                "pad should be at most half of effective kernel size, but got pad={p}, kernel_size={k} and dilation={d}"
            ),
        ));
    }
    let span = d * (k - 1) + 1;
    let padded = n + 2 * p;
    if padded < span {
        return Err(Error::shape(
            op,
            format!(
                "input size {n} (padded by {p} on each side) is smaller than the kernel extent {span}: output size is too small"
            ),
        ));
    }
    let mut out = (padded - span + if ceil { s - 1 } else { 0 }) / s + 1;
    // A window must start inside the input or the left padding.
    if ceil && (out - 1) * s >= n + p {
        out -= 1;
    }
    Ok(out)
}

/// The input as `[N, C, H, W]`, the shape prefix it had (`[N, C]` or `[C]`) and whether a
/// 1-D op added the height axis.
fn as_planes(op: &'static str, x: &Tensor, one_d: bool) -> Result<(Tensor, Vec<usize>)> {
    if !x.dtype().is_float() {
        return Err(Error::dtype(
            op,
            format!("expected a floating point input, got {}", x.dtype()),
        ));
    }
    let spatial = if one_d { 1 } else { 2 };
    let nd = x.ndim();
    if nd != spatial + 1 && nd != spatial + 2 {
        return Err(Error::shape(
            op,
            format!(
                "expected {}D or {}D input (unbatched or batched), but got input of size: {:?}",
                spatial + 1,
                spatial + 2,
                x.shape()
            ),
        ));
    }
    if x.shape()[nd - spatial..].contains(&0) {
        return Err(Error::shape(
            op,
            format!(
                "expected input with non-zero spatial dims, got {:?}",
                x.shape()
            ),
        ));
    }
    let lead = x.shape()[..nd - spatial].to_vec();
    let planes: usize = lead.iter().product();
    let (h, w) = if one_d {
        (1, x.shape()[nd - 1])
    } else {
        (x.shape()[nd - 2], x.shape()[nd - 1])
    };
    Ok((x.reshape_to(&[planes, 1, h, w])?, lead))
}

fn restore(y: Tensor, lead: &[usize], one_d: bool) -> Result<Tensor> {
    let (oh, ow) = (y.shape()[2], y.shape()[3]);
    let mut shape = lead.to_vec();
    if !one_d {
        shape.push(oh);
    }
    shape.push(ow);
    y.reshape_to(&shape)
}

/// Max pooling on `[P, 1, H, W]`; returns values and flat `h * W + w` indices.
fn max_pool_planes(x: &Tensor, win: Window2d) -> Result<(Tensor, Tensor)> {
    let p = x.shape()[0];
    let shape = [p, 1, win.oh, win.ow];
    let (vals, idx) = with_float!(x.dtype(), T => {
        let (v, i) = x.with_contiguous(|s: &[T]| max_pool2d(s, p, &win))?;
        (Tensor::from_buffer_vec(v, &shape), i)
    }, _ => unreachable!());
    let indices = Tensor::from_vec(idx.clone(), &shape)?;
    let hw = win.h * win.w;
    let l = win.l();
    let out = record(vals, "MaxPool2DWithIndicesBackward", &[x], move |_| {
        Ok(move |g: &Tensor, _: &[bool]| {
            let gx = with_float!(g.dtype(), T => {
                let v = g.with_contiguous(|s: &[T]| max_pool2d_backward(s, &idx, p, hw, l))?;
                Tensor::from_buffer_vec(v, &[p, 1, win.h, win.w])
            }, _ => return Err(Error::dtype("max_pool2d", "gradients must be floating point")));
            Ok(grads([Some(gx)]))
        })
    })?;
    Ok((out, indices))
}

/// `[P, 1, H, W]` -> `[P, 1, oh, ow]` through per-axis taps.
fn resample_planes(x: &Tensor, th: Taps, tw: Taps, node: &'static str) -> Result<Tensor> {
    let (p, h, w) = (x.shape()[0], x.shape()[2], x.shape()[3]);
    let (th, tw) = (Arc::new(th), Arc::new(tw));
    let shape = [p, 1, th.len(), tw.len()];
    let out = with_float!(x.dtype(), T => {
        let v = x.with_contiguous(|s: &[T]| resample(s, p, (h, w), &th, &tw))?;
        Tensor::from_buffer_vec(v, &shape)
    }, _ => unreachable!());
    record(out, node, &[x], move |_| {
        Ok(move |g: &Tensor, _: &[bool]| {
            let gx = with_float!(g.dtype(), T => {
                let v = g.with_contiguous(|s: &[T]| resample_backward(s, p, (h, w), &th, &tw))?;
                Tensor::from_buffer_vec(v, &[p, 1, h, w])
            }, _ => return Err(Error::dtype("resample", "gradients must be floating point")));
            Ok(grads([Some(gx)]))
        })
    })
}

/// Taps of an average pool along one axis (PyTorch's divisor rules).
fn avg_taps(
    n: usize,
    out: usize,
    k: usize,
    s: usize,
    p: usize,
    count_include_pad: bool,
    unit: bool,
) -> Taps {
    (0..out)
        .map(|o| {
            let start = (o * s) as isize - p as isize;
            let end = (start + k as isize).min((n + p) as isize);
            let pool = (end - start) as f64;
            let (lo, hi) = (start.max(0) as usize, end.min(n as isize).max(0) as usize);
            let div = if unit {
                1.0
            } else if count_include_pad {
                pool
            } else {
                (hi.saturating_sub(lo)) as f64
            };
            (lo..hi).map(|i| (i, 1.0 / div)).collect()
        })
        .collect()
}

fn identity_taps() -> Taps {
    vec![vec![(0, 1.0)]]
}

/// How `interpolate` maps output to input positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterpMode {
    Nearest,
    /// `linear` for 1-D inputs, `bilinear` for 2-D.
    Linear,
}

fn interp_taps(
    mode: InterpMode,
    n: usize,
    out: usize,
    scale: Option<f64>,
    align_corners: bool,
) -> Taps {
    (0..out)
        .map(|o| match mode {
            InterpMode::Nearest => {
                // PyTorch computes the nearest source index in float32.
                let sc = match scale {
                    Some(s) => (1.0 / s) as f32,
                    None => n as f32 / out as f32,
                };
                let i = ((o as f32 * sc).floor() as usize).min(n - 1);
                vec![(i, 1.0)]
            }
            InterpMode::Linear => {
                let src = if align_corners {
                    if out > 1 {
                        (n - 1) as f64 / (out - 1) as f64 * o as f64
                    } else {
                        0.0
                    }
                } else {
                    let sc = match scale {
                        Some(s) => 1.0 / s,
                        None => n as f64 / out as f64,
                    };
                    (sc * (o as f64 + 0.5) - 0.5).max(0.0)
                };
                let i0 = (src.floor() as usize).min(n - 1);
                let i1 = if i0 < n - 1 { i0 + 1 } else { i0 };
                let l1 = src - i0 as f64;
                vec![(i0, 1.0 - l1), (i1, l1)]
            }
        })
        .collect()
}

impl Tensor {
    /// Max pooling over the last two dims; returns the values and (as int64) each winner's
    /// flat index `h * W + w` within its plane, as `return_indices=True` does in PyTorch.
    pub fn max_pool2d_with_indices(&self, a: &PoolArgs) -> Result<(Tensor, Tensor)> {
        self.max_pool("max_pool2d", a, false)
    }

    /// Max pooling over the last dim (`a.kernel[0]` etc. are ignored: height is 1).
    pub fn max_pool1d_with_indices(&self, a: &PoolArgs) -> Result<(Tensor, Tensor)> {
        self.max_pool("max_pool1d", a, true)
    }

    fn max_pool(&self, op: &'static str, a: &PoolArgs, one_d: bool) -> Result<(Tensor, Tensor)> {
        let (x, lead) = as_planes(op, self, one_d)?;
        let (h, w) = (x.shape()[2], x.shape()[3]);
        let (kh, sh, ph, dh) = if one_d {
            (1, 1, 0, 1)
        } else {
            (a.kernel[0], a.stride[0], a.padding[0], a.dilation[0])
        };
        let oh = pooled_len(op, h, kh, sh, ph, dh, a.ceil_mode)?;
        let ow = pooled_len(
            op,
            w,
            a.kernel[1],
            a.stride[1],
            a.padding[1],
            a.dilation[1],
            a.ceil_mode,
        )?;
        let win = Window2d {
            h,
            w,
            kh,
            kw: a.kernel[1],
            sh,
            sw: a.stride[1],
            pad_top: ph,
            pad_left: a.padding[1],
            dh,
            dw: a.dilation[1],
            oh,
            ow,
        };
        let (v, i) = max_pool_planes(&x, win)?;
        Ok((restore(v, &lead, one_d)?, restore(i, &lead, one_d)?))
    }

    /// Average pooling over the last two dims (1-D with `one_d`).
    pub fn avg_pool(
        &self,
        a: &PoolArgs,
        count_include_pad: bool,
        divisor_override: Option<i64>,
        one_d: bool,
    ) -> Result<Tensor> {
        let op = if one_d { "avg_pool1d" } else { "avg_pool2d" };
        if divisor_override == Some(0) {
            return Err(Error::invalid(op, "divisor must be not zero"));
        }
        let (x, lead) = as_planes(op, self, one_d)?;
        let (h, w) = (x.shape()[2], x.shape()[3]);
        for d in 0..2 {
            if !(one_d && d == 0) && 2 * a.padding[d] > a.kernel[d] {
                return Err(Error::invalid(
                    op,
                    format!(
                        "pad should be at most half of kernel size, but got pad={} and kernel_size={}",
                        a.padding[d], a.kernel[d]
                    ),
                ));
            }
        }
        let unit = divisor_override.is_some();
        let th = if one_d {
            identity_taps()
        } else {
            let oh = pooled_len(
                op,
                h,
                a.kernel[0],
                a.stride[0],
                a.padding[0],
                1,
                a.ceil_mode,
            )?;
            avg_taps(
                h,
                oh,
                a.kernel[0],
                a.stride[0],
                a.padding[0],
                count_include_pad,
                unit,
            )
        };
        let ow = pooled_len(
            op,
            w,
            a.kernel[1],
            a.stride[1],
            a.padding[1],
            1,
            a.ceil_mode,
        )?;
        let mut tw = avg_taps(
            w,
            ow,
            a.kernel[1],
            a.stride[1],
            a.padding[1],
            count_include_pad,
            unit,
        );
        if let Some(d) = divisor_override {
            tw.iter_mut().flatten().for_each(|t| t.1 /= d as f64);
        }
        restore(
            resample_planes(&x, th, tw, "AvgPool2DBackward")?,
            &lead,
            one_d,
        )
    }

    /// Adaptive average pooling to `output_size` (`None` keeps that dim's size).
    pub fn adaptive_avg_pool2d(&self, output_size: [Option<usize>; 2]) -> Result<Tensor> {
        const OP: &str = "adaptive_avg_pool2d";
        let (x, lead) = as_planes(OP, self, false)?;
        let (h, w) = (x.shape()[2], x.shape()[3]);
        let taps = |n: usize, out: usize| -> Taps {
            (0..out)
                .map(|i| {
                    let (s, e) = ((i * n) / out, ((i + 1) * n).div_ceil(out));
                    (s..e).map(|j| (j, 1.0 / (e - s) as f64)).collect()
                })
                .collect()
        };
        let (oh, ow) = (output_size[0].unwrap_or(h), output_size[1].unwrap_or(w));
        if oh == 0 || ow == 0 {
            return Err(Error::shape(
                OP,
                format!("output_size must be positive, got {output_size:?}"),
            ));
        }
        restore(
            resample_planes(&x, taps(h, oh), taps(w, ow), "AdaptiveAvgPool2DBackward")?,
            &lead,
            false,
        )
    }

    /// Resizes the spatial dims of `[N, C, W]` or `[N, C, H, W]` to `size`.
    pub fn interpolate(
        &self,
        size: &[usize],
        scale: &[Option<f64>],
        mode: InterpMode,
        align_corners: bool,
    ) -> Result<Tensor> {
        const OP: &str = "interpolate";
        if !self.dtype().is_float() {
            return Err(Error::dtype(
                OP,
                format!("expected a floating point input, got {}", self.dtype()),
            ));
        }
        let sp = self.ndim().saturating_sub(2);
        if !(1..=2).contains(&sp) || size.len() != sp || scale.len() != sp {
            return Err(Error::shape(
                OP,
                format!(
                    "expected a 3D or 4D input with one output size per spatial dim, got input {:?} and size {size:?}",
                    self.shape()
                ),
            ));
        }
        if size.contains(&0) || self.shape()[2..].contains(&0) {
            return Err(Error::shape(
                OP,
                format!(
                    "input and output sizes should be greater than 0, but got input {:?} and output {size:?}",
                    self.shape()
                ),
            ));
        }
        let one_d = sp == 1;
        let (x, lead) = as_planes(OP, self, one_d)?;
        let (h, w) = (x.shape()[2], x.shape()[3]);
        let th = if one_d {
            identity_taps()
        } else {
            interp_taps(mode, h, size[0], scale[0], align_corners)
        };
        let tw = interp_taps(mode, w, size[sp - 1], scale[sp - 1], align_corners);
        let node = if mode == InterpMode::Nearest {
            "UpsampleNearestBackward"
        } else {
            "UpsampleBilinearBackward"
        };
        restore(resample_planes(&x, th, tw, node)?, &lead, one_d)
    }
}
