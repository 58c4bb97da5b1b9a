//! Cumulative sums and products along a dim, and their derivatives.

use super::{grads, record, will_record};
use crate::autograd::saved::SavedTensor;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::kernels::lanes::{map_lanes_to, zip_lanes_to};
use crate::shape::normalize_dim;
use crate::tensor::Tensor;
use crate::with_float;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scan {
    Sum,
    Prod,
}

/// The input in the dtype the scan computes in: `dtype` if given, else int64 for int and bool
/// inputs (as in PyTorch), else its own.
fn scan_input(t: &Tensor, dtype: Option<DType>) -> Result<Tensor> {
    match dtype {
        Some(d) => t.to_dtype(d),
        None if !t.dtype().is_float() => t.to_dtype(DType::I64),
        None => Ok(t.clone()),
    }
}

/// Running sums or products along `dim` (from the end when `reverse`). Floats accumulate in f64.
fn scan(x: &Tensor, dim: usize, kind: Scan, reverse: bool) -> Result<Tensor> {
    let n = x.shape()[dim];
    let buf = x.storage().read();
    let out = match x.dtype() {
        DType::I64 => {
            let v = map_lanes_to(
                i64::slice(&buf),
                x.layout(),
                dim,
                n,
                |lane, dst: &mut [i64]| {
                    let mut acc: i64 = if kind == Scan::Sum { 0 } else { 1 };
                    for j in 0..n {
                        let i = if reverse { n - 1 - j } else { j };
                        let v = lane.get(i);
                        acc = if kind == Scan::Sum {
                            acc.wrapping_add(v)
                        } else {
                            acc.wrapping_mul(v)
                        };
                        dst[i] = acc;
                    }
                },
            );
            Tensor::from_buffer_vec(v, x.shape())
        }
        DType::Bool => {
            return Err(Error::dtype(
                "cumsum",
                "cumulative ops on bool compute in int64",
            ));
        }
        d => with_float!(d, T => {
            let v = map_lanes_to(T::slice(&buf), x.layout(), dim, n, |lane, dst: &mut [T]| {
                let mut acc: f64 = if kind == Scan::Sum { 0.0 } else { 1.0 };
                for j in 0..n {
                    let i = if reverse { n - 1 - j } else { j };
                    let v = lane.get(i).to_f64();
                    acc = if kind == Scan::Sum { acc + v } else { acc * v };
                    dst[i] = T::from_f64(acc);
                }
            });
            Tensor::from_buffer_vec(v, x.shape())
        }, _ => unreachable!()),
    };
    Ok(out)
}

impl Tensor {
    /// Running sum along `dim`; int and bool inputs give int64 unless `dtype` says otherwise.
    pub fn cumsum(&self, dim: isize, dtype: Option<DType>) -> Result<Tensor> {
        let x = scan_input(self, dtype)?;
        let d = normalize_dim("cumsum", dim, x.ndim())?;
        if x.ndim() == 0 {
            return x.clone_tensor();
        }
        let out = scan(&x, d, Scan::Sum, false)?;
        if !x.dtype().is_float() {
            return Ok(out);
        }
        // Each input element feeds every later output: the gradient is a reversed running sum.
        record(out, "CumsumBackward", &[&x], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(scan(g, d, Scan::Sum, true)?)])))
        })
    }

    /// Running product along `dim`; int and bool inputs give int64 unless `dtype` says otherwise.
    pub fn cumprod(&self, dim: isize, dtype: Option<DType>) -> Result<Tensor> {
        let x = scan_input(self, dtype)?;
        let d = normalize_dim("cumprod", dim, x.ndim())?;
        if x.ndim() == 0 {
            return x.clone_tensor();
        }
        let out = scan(&x, d, Scan::Prod, false)?;
        if !x.dtype().is_float() || !will_record(&[&x]) {
            return Ok(out);
        }
        let saved = SavedTensor::new(&x)?;
        record(out, "CumprodBackward", &[&x], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                let x = saved.get()?;
                Ok(grads([Some(cumprod_grad(&x, g, d)?)]))
            })
        })
    }
}

/// d/dx_i of sum_k g_k * prod_{j<=k} x_j, exact with zeros in the lane: with z the first zero,
/// positions before z get (sum_{i<=k<z} g_k out_k) / x_i, position z gets
/// sum_{k>=z} g_k * prod_{j<=k, j!=z} x_j, and positions after z get 0.
fn cumprod_grad(x: &Tensor, g: &Tensor, dim: usize) -> Result<Tensor> {
    let g = if g.dtype() == x.dtype() {
        g.clone()
    } else {
        g.to_dtype(x.dtype())?
    };
    let n = x.shape()[dim];
    with_float!(x.dtype(), T => {
        let (bx, bg) = (x.storage().read(), g.storage().read());
        let v = zip_lanes_to(T::slice(&bx), x.layout(), T::slice(&bg), g.layout(), dim, n, |xl, gl, dst: &mut [T]| {
            let z = (0..n).find(|&i| xl.get(i).to_f64() == 0.0).unwrap_or(n);
            let mut out = vec![0f64; z];
            let mut acc = 1.0;
            for (i, o) in out.iter_mut().enumerate() {
                acc *= xl.get(i).to_f64();
                *o = acc;
            }
            let mut tail = 0.0;
            for i in (0..z).rev() {
                tail += gl.get(i).to_f64() * out[i];
                dst[i] = T::from_f64(tail / xl.get(i).to_f64());
            }
            if z < n {
                let before = if z == 0 { 1.0 } else { out[z - 1] };
                let (mut sum, mut run) = (0.0, before);
                for k in z..n {
                    if k > z {
                        run *= xl.get(k).to_f64();
                    }
                    sum += gl.get(k).to_f64() * run;
                }
                dst[z] = T::from_f64(sum);
                for d in dst[z + 1..].iter_mut() {
                    *d = T::ZERO;
                }
            }
        });
        Ok(Tensor::from_buffer_vec(v, x.shape()))
    }, _ => Err(Error::dtype("cumprod", "gradients need a floating point input")))
}
