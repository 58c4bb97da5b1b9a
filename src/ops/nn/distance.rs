//! Vector norms along a dim (fused, with a zero-safe backward) and the functions built on
//! them: `normalize`, `cosine_similarity`, `pairwise_distance`.

use super::{from_f64, values_f64};
use crate::error::{Error, Result};
use crate::ops::{grads, record};
use crate::shape::normalize_dim;
use crate::tensor::Tensor;

impl Tensor {
    /// The `p`-norm along `dim` (p > 0, or infinity). Its gradient is 0 where the norm is 0
    /// (instead of NaN), as in PyTorch.
    pub fn vector_norm_dim(&self, p: f64, dim: isize, keepdim: bool) -> Result<Tensor> {
        const OP: &str = "norm";
        if !self.dtype().is_float() {
            return Err(Error::dtype(
                OP,
                format!("expected a floating point input, got {}", self.dtype()),
            ));
        }
        if p.is_nan() || p <= 0.0 {
            return Err(Error::invalid(
                OP,
                format!("only p > 0 (or inf) is supported, got p={p}"),
            ));
        }
        let d = normalize_dim(OP, dim, self.ndim())?;
        let x = if self.ndim() == 0 {
            self.reshape(&[1])?
        } else {
            self.clone()
        };
        let moved = x.movedim_last(d)?;
        let m = *moved.shape().last().unwrap();
        // An empty last dim leaves every lane empty: one (zero-length) row per element.
        let rows = moved.numel().checked_div(m).unwrap_or(moved.numel());
        let rows = if m == 0 {
            moved.shape()[..moved.ndim() - 1].iter().product()
        } else {
            rows
        };
        let xv = values_f64(&moved);
        let norms: Vec<f64> = (0..rows)
            .map(|i| {
                let r = &xv[i * m..(i + 1) * m];
                if p.is_infinite() {
                    r.iter().fold(0.0f64, |a, v| {
                        if v.is_nan() || a.is_nan() {
                            f64::NAN
                        } else {
                            a.max(v.abs())
                        }
                    })
                } else if p == 2.0 {
                    // Scaled to avoid overflow of the squares.
                    let s = r.iter().fold(0.0f64, |a, v| a.max(v.abs()));
                    if s == 0.0 || !s.is_finite() {
                        s
                    } else {
                        s * r.iter().map(|v| (v / s) * (v / s)).sum::<f64>().sqrt()
                    }
                } else if p == 1.0 {
                    r.iter().map(|v| v.abs()).sum()
                } else {
                    r.iter().map(|v| v.abs().powf(p)).sum::<f64>().powf(1.0 / p)
                }
            })
            .collect();
        let mut shape: Vec<usize> = moved.shape()[..moved.ndim() - 1].to_vec();
        if keepdim && self.ndim() > 0 {
            shape.insert(d, 1);
        }
        let out = from_f64(norms.clone(), &shape, self.dtype());
        let in_shape = self.shape().to_vec();
        let moved_shape = moved.shape().to_vec();
        let ndim = x.ndim();
        record(out, "NormBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                let gv = values_f64(g);
                let mut gx = vec![0.0f64; rows * m];
                for i in 0..rows {
                    let nrm = norms[i];
                    if nrm == 0.0 {
                        continue;
                    }
                    let r = &xv[i * m..(i + 1) * m];
                    for k in 0..m {
                        let v = r[k];
                        gx[i * m + k] = gv[i]
                            * if p.is_infinite() {
                                // Split evenly among the elements that reach the max.
                                let ties = r.iter().filter(|a| a.abs() == nrm).count() as f64;
                                if v.abs() == nrm {
                                    v.signum() / ties
                                } else {
                                    0.0
                                }
                            } else if p == 1.0 {
                                if v > 0.0 {
                                    1.0
                                } else if v < 0.0 {
                                    -1.0
                                } else {
                                    0.0
                                }
                            } else {
                                v * v.abs().powf(p - 2.0) / nrm.powf(p - 1.0)
                            };
                    }
                }
                // Back from [..., m] (dim moved last) to the input layout.
                let t = from_f64(gx, &moved_shape, g.dtype());
                let n = ndim as isize;
                let mut perm: Vec<isize> = (0..n - 1).collect();
                perm.insert(d, n - 1);
                let t = t.permute(&perm)?.contiguous()?;
                Ok(grads([Some(t.reshape_to(&in_shape)?)]))
            })
        })
    }

    /// `x / max(||x||_p, eps)` along `dim`.
    pub fn normalize(&self, p: f64, dim: isize, eps: f64) -> Result<Tensor> {
        let n = self.vector_norm_dim(p, dim, true)?.maximum_scalar(eps)?;
        self.div(&n)
    }

    /// Cosine of the angle between `x1` and `x2` along `dim` (broadcasting), each norm
    /// clamped below at `eps`.
    pub fn cosine_similarity(&self, x2: &Tensor, dim: isize, eps: f64) -> Result<Tensor> {
        let shape = crate::shape::broadcast_shapes("cosine_similarity", self.shape(), x2.shape())?;
        let (a, b) = (self.expand_to(&shape)?, x2.expand_to(&shape)?);
        let na = a.vector_norm_dim(2.0, dim, true)?.maximum_scalar(eps)?;
        let nb = b.vector_norm_dim(2.0, dim, true)?.maximum_scalar(eps)?;
        a.div(&na)?.mul(&b.div(&nb)?)?.sum_dims(Some(&[dim]), false)
    }

    /// `||x1 - x2 + eps||_p` along the last dim.
    pub fn pairwise_distance(
        &self,
        x2: &Tensor,
        p: f64,
        eps: f64,
        keepdim: bool,
    ) -> Result<Tensor> {
        let diff = self.sub(x2)?.add_scalar(eps)?;
        if diff.ndim() == 0 {
            return Err(Error::shape(
                "pairwise_distance",
                "inputs must have at least 1 dimension",
            ));
        }
        diff.vector_norm_dim(p, -1, keepdim)
    }
}
