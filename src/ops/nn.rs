//! Neural-network functions that are compositions in math but fused here for speed and
//! stability: softmax, log_softmax and cross_entropy, computed row by row.

use super::{grads, record};
use crate::autograd::saved::SavedTensor;
use crate::dtype::{DType, FloatElement};
use crate::error::{Error, Result};
use crate::shape::normalize_dim;
use crate::tensor::Tensor;
use crate::with_float;

const ROWS_PAR_MIN: usize = 1 << 15;

/// Applies `f(row_in, row_out)` to every row of a [rows, n] tensor (rows split across
/// threads when large).
fn map_rows<T: FloatElement>(x: &Tensor, n: usize, f: impl Fn(&[T], &mut [std::mem::MaybeUninit<T>]) + Sync + Send) -> Result<Tensor> {
    let x = x.contiguous_copy_if_needed()?;
    let buf = x.storage().read();
    let total = x.numel();
    let data = &T::slice(&buf)[x.storage_offset()..x.storage_offset() + total];
    let mut out: Vec<T> = Vec::with_capacity(total);
    if n > 0 {
        let spare = &mut out.spare_capacity_mut()[..total];
        let rows_per_task = (ROWS_PAR_MIN / n).max(1);
        let run = |(i, o): (usize, &mut [std::mem::MaybeUninit<T>])| {
            let start = i * rows_per_task * n;
            for (r, row_out) in o.chunks_mut(n).enumerate() {
                f(&data[start + r * n..start + (r + 1) * n], row_out);
            }
        };
        if crate::kernels::parallel_for(total, ROWS_PAR_MIN * 2) {
            use rayon::prelude::*;
            crate::kernels::pool().install(|| spare.par_chunks_mut(rows_per_task * n).enumerate().for_each(run));
        } else {
            spare.chunks_mut(rows_per_task * n).enumerate().for_each(run);
        }
    }
    // SAFETY: every row of `out` was written by `f` above (rows tile 0..total exactly).
    unsafe { out.set_len(total) };
    Ok(Tensor::from_buffer_vec(out, x.shape()))
}

fn softmax_row<T: FloatElement>(row: &[T], out: &mut [std::mem::MaybeUninit<T>], log: bool) {
    let max = row.iter().fold(T::neg_infinity(), |m, &v| if v > m { v } else { m });
    let max = if max.is_finite() { max } else { T::ZERO };
    let mut sum = T::ZERO;
    for &v in row {
        sum = sum + (v - max).exp();
    }
    if log {
        let lse = sum.ln();
        for (o, &v) in out.iter_mut().zip(row) {
            o.write(v - max - lse);
        }
    } else {
        let inv = T::ONE / sum;
        for (o, &v) in out.iter_mut().zip(row) {
            o.write((v - max).exp() * inv);
        }
    }
}

impl Tensor {
    pub(crate) fn contiguous_copy_if_needed(&self) -> Result<Tensor> {
        if self.is_contiguous() { Ok(self.detach()) } else { self.contiguous_copy() }
    }

    /// Runs a last-dim row kernel along `dim`: moves `dim` last, applies it, moves it back.
    fn along_dim(&self, op: &'static str, dim: isize, log: bool) -> Result<Tensor> {
        let x = super::unary::as_float(self)?;
        if x.ndim() == 0 {
            return x.reshape(&[1])?.along_dim(op, 0, log)?.reshape(&[]);
        }
        let d = normalize_dim(op, dim, x.ndim())?;
        let last = x.ndim() - 1;
        let moved = if d == last { x.detach() } else { x.detach().transpose(d as isize, last as isize)? };
        let n = moved.shape()[last];
        let y = with_float!(moved.dtype(), T => map_rows::<T>(&moved, n, |r, o| softmax_row(r, o, log))?, _ => unreachable!());
        let y = if d == last { y } else { y.transpose(d as isize, last as isize)?.contiguous_copy()? };
        let saved = if super::will_record(&[&x]) { Some(SavedTensor::new(&y)?) } else { None };
        let node = if log { "LogSoftmaxBackward" } else { "SoftmaxBackward" };
        record(y, node, &[&x], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                let y = saved.as_ref().expect("saved when recording").get()?;
                let dims = [d as isize];
                let gx = if log {
                    // g - softmax * sum(g)
                    g.sub(&y.exp()?.mul(&g.sum_dims(Some(&dims), true)?)?)?
                } else {
                    // y * (g - sum(g * y))
                    y.mul(&g.sub(&g.mul(&y)?.sum_dims(Some(&dims), true)?)?)?
                };
                Ok(grads([Some(gx)]))
            })
        })
    }

    /// exp(x) / sum(exp(x)) along `dim`, computed with the row maximum subtracted.
    pub fn softmax(&self, dim: isize) -> Result<Tensor> {
        self.along_dim("softmax", dim, false)
    }

    /// log(softmax(x)) along `dim`, exact for large logits (x - max - log(sum(exp(x - max)))).
    pub fn log_softmax(&self, dim: isize) -> Result<Tensor> {
        self.along_dim("log_softmax", dim, true)
    }

    /// Mean cross-entropy between logits `[N, C]` (or `[C]`, or `[N, C, d...]`) and int64
    /// class indices `[N]` (or `[]`, or `[N, d...]`).
    pub fn cross_entropy(&self, target: &Tensor) -> Result<Tensor> {
        const OP: &str = "cross_entropy";
        if !self.dtype().is_float() {
            return Err(Error::dtype(OP, format!("input must be a floating point tensor of logits, got {}", self.dtype())));
        }
        if target.dtype() != DType::I64 {
            return Err(Error::dtype(
                OP,
                format!("expected target of dtype int64 (class indices), got {}; class probabilities are not supported yet", target.dtype()),
            ));
        }
        // Bring logits to [rows, C] and targets to [rows].
        let (logits, tgt) = match self.ndim() {
            1 if target.ndim() == 0 => (self.unsqueeze(0)?, target.reshape(&[1])?),
            2 if target.ndim() == 1 && target.shape()[0] == self.shape()[0] => (self.clone(), target.clone()),
            n if n > 2 && target.ndim() == n - 1 && target.shape()[0] == self.shape()[0] && target.shape()[1..] == self.shape()[2..] => {
                let c = self.shape()[1] as isize;
                (self.movedim_last(1)?.reshape(&[-1, c])?, target.reshape(&[-1])?)
            }
            _ => {
                return Err(Error::shape(
                    OP,
                    format!("input of shape {:?} and target of shape {:?} do not match (expected input [N, C] with target [N])", self.shape(), target.shape()),
                ));
            }
        };
        let (rows, c) = (logits.shape()[0], logits.shape()[1]);
        let t = target_vec(&tgt, c)?;
        let logits_c = logits.contiguous_copy_if_needed()?;
        let logp = with_float!(logits_c.dtype(), T => map_rows::<T>(&logits_c, c, |r, o| softmax_row(r, o, true))?, _ => unreachable!());
        let loss = with_float!(logp.dtype(), T => {
            let lp = logp.to_vec::<T>()?;
            let total: f64 = t.iter().enumerate().map(|(i, &k)| -lp[i * c + k].to_f64()).sum();
            Tensor::scalar(T::from_f64(if rows == 0 { f64::NAN } else { total / rows as f64 }))
        }, _ => unreachable!());
        let saved = if super::will_record(&[&logits]) { Some(SavedTensor::new(&logp)?) } else { None };
        let in_shape = logits.shape().to_vec();
        let grad_logits = record(loss, "NllLossBackward", &[&logits], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                let lp = saved.as_ref().expect("saved when recording").get()?;
                // (softmax - onehot) * g / rows
                let gx = with_float!(lp.dtype(), T => {
                    let scale = g.item_f64()? / rows as f64;
                    let mut v: Vec<T> = lp.to_vec::<T>()?.into_iter().map(|x| T::from_f64(x.to_f64().exp() * scale)).collect();
                    for (i, &k) in t.iter().enumerate() {
                        v[i * c + k] = v[i * c + k] - T::from_f64(scale);
                    }
                    Tensor::from_vec(v, &in_shape)?
                }, _ => unreachable!());
                Ok(grads([Some(gx)]))
            })
        })?;
        Ok(grad_logits)
    }

    /// Moves `dim` to the last position (a permuted view).
    pub(crate) fn movedim_last(&self, dim: usize) -> Result<Tensor> {
        let mut perm: Vec<isize> = (0..self.ndim() as isize).filter(|&d| d != dim as isize).collect();
        perm.push(dim as isize);
        self.permute(&perm)
    }
}

fn target_vec(t: &Tensor, classes: usize) -> Result<Vec<usize>> {
    t.to_vec::<i64>()?
        .into_iter()
        .map(|k| {
            if k < 0 || k as usize >= classes {
                Err(Error::IndexOutOfRange { op: "cross_entropy", index: k, dim: 1, size: classes })
            } else {
                Ok(k as usize)
            }
        })
        .collect()
}
