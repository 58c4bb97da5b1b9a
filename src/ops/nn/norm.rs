//! Normalisation layers. One fused kernel standardises the rows of a `[R, M]` matrix (mean
//! 0, variance 1, biased variance as PyTorch uses for normalising) with the closed-form
//! backward `(g - mean(g) - y * mean(g * y)) / std`; layer_norm, group_norm and batch_norm
//! arrange their input into such rows and apply the affine part with broadcast ops.

use super::{each_row_block, fill_rows, from_f64};
use crate::autograd::grad_mode::no_grad;
use crate::autograd::saved::SavedTensor;
use crate::dtype::{Element, FloatElement};
use crate::error::{Error, Result};
use crate::ops::{grads, record};
use crate::tensor::Tensor;
use crate::with_float;

/// Row statistics returned with a standardised matrix.
pub struct RowStats {
    pub mean: Vec<f64>,
    /// Biased variance (divided by M).
    pub var: Vec<f64>,
}

/// Standardises each row of `x` (`[R, M]`): `(x - mean) / sqrt(var + eps)`. Statistics are
/// accumulated in f64 whatever the dtype, so float32 rows of any length keep their precision.
fn standardize_rows(x: &Tensor, eps: f64) -> Result<(Tensor, RowStats)> {
    let (r, m) = (x.shape()[0], x.shape()[1]);
    let xc = x.contiguous_copy_if_needed()?;
    let (out, stats) = with_float!(x.dtype(), T => standardize_kernel::<T>(&xc, r, m, eps), _ => unreachable!("checked float"));
    let mean = stats.iter().map(|s| s[0]).collect();
    let var = stats.iter().map(|s| s[1]).collect();
    let out = if crate::ops::will_record(&[x]) {
        let saved = SavedTensor::new(&out)?;
        let rstd: Vec<f64> = stats.iter().map(|s| s[2]).collect();
        record(out, "NativeNormBackward", &[x], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                let y = saved.get()?;
                let g = g.contiguous_copy_if_needed()?;
                let gx = with_float!(g.dtype(), T => standardize_backward::<T>(&g, &y, &rstd, m), _ => unreachable!("float grads"));
                Ok(grads([Some(gx)]))
            })
        })?
    } else {
        out
    };
    Ok((out, RowStats { mean, var }))
}

/// An element as f64, for the statistics.
#[inline]
fn wide<T: FloatElement>(v: &T) -> f64 {
    <T as Element>::to_f64(*v)
}

/// The forward on contiguous rows: the standardised rows and each row's `[mean, var, rstd]`.
fn standardize_kernel<T: FloatElement>(
    x: &Tensor,
    r: usize,
    m: usize,
    eps: f64,
) -> (Tensor, Vec<[f64; 3]>) {
    let buf = x.storage().read();
    let data = &T::slice(&buf)[x.storage_offset()..x.storage_offset() + r * m];
    let mut stats = vec![[0.0f64; 3]; r];
    let row_stats = |s: &mut [[f64; 3]], start: usize| {
        for (i, st) in s.iter_mut().enumerate() {
            let row = &data[(start + i) * m..(start + i + 1) * m];
            let mu = row.iter().map(|v| wide(v)).sum::<f64>() / m as f64;
            let var = row
                .iter()
                .map(|v| {
                    let d = wide(v) - mu;
                    d * d
                })
                .sum::<f64>()
                / m as f64;
            *st = [mu, var, 1.0 / (var + eps).sqrt()];
        }
    };
    each_row_block(&mut stats, m, row_stats);
    let rows_out = |o: &mut [std::mem::MaybeUninit<T>], start: usize| {
        for (i, row_out) in o.chunks_mut(m).enumerate() {
            let row = start / m + i;
            let [mu, _, rs] = stats[row];
            for (o, v) in row_out.iter_mut().zip(&data[row * m..(row + 1) * m]) {
                o.write(<T as Element>::from_f64((wide(v) - mu) * rs));
            }
        }
    };
    // SAFETY: `rows_out` writes every element of each row it is given.
    (unsafe { fill_rows(&[r, m], m, rows_out) }, stats)
}

/// The backward on contiguous rows: `(g - mean(g) - y * mean(g * y)) * rstd` per row.
fn standardize_backward<T: FloatElement>(g: &Tensor, y: &Tensor, rstd: &[f64], m: usize) -> Tensor {
    let r = rstd.len();
    let (gb, yb) = (g.storage().read(), y.storage().read());
    let gv = &T::slice(&gb)[g.storage_offset()..g.storage_offset() + r * m];
    let yv = &T::slice(&yb)[y.storage_offset()..y.storage_offset() + r * m];
    let rows_out = |o: &mut [std::mem::MaybeUninit<T>], start: usize| {
        for (i, row_out) in o.chunks_mut(m).enumerate() {
            let row = start / m + i;
            let (gr, yr) = (&gv[row * m..(row + 1) * m], &yv[row * m..(row + 1) * m]);
            let mg = gr.iter().map(|v| wide(v)).sum::<f64>() / m as f64;
            let mgy = gr
                .iter()
                .zip(yr)
                .map(|(a, b)| wide(a) * wide(b))
                .sum::<f64>()
                / m as f64;
            let rs = rstd[row];
            for ((o, a), b) in row_out.iter_mut().zip(gr).zip(yr) {
                o.write(<T as Element>::from_f64(
                    (wide(a) - mg - wide(b) * mgy) * rs,
                ));
            }
        }
    };
    // SAFETY: `rows_out` writes every element of each row it is given.
    unsafe { fill_rows(&[r, m], m, rows_out) }
}

fn check_float(op: &'static str, t: &Tensor) -> Result<()> {
    if !t.dtype().is_float() {
        return Err(Error::dtype(
            op,
            format!("expected a floating point input, got {}", t.dtype()),
        ));
    }
    Ok(())
}

/// `y * weight + bias` with weight/bias reshaped to broadcast along `shape`.
fn affine(
    y: Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    shape: &[usize],
) -> Result<Tensor> {
    let y = match weight {
        Some(w) => y.mul(&w.reshape_to(shape)?)?,
        None => y,
    };
    match bias {
        Some(b) => y.add(&b.reshape_to(shape)?),
        None => Ok(y),
    }
}

fn check_param(
    op: &'static str,
    name: &str,
    p: Option<&Tensor>,
    numel: usize,
    shape: &[usize],
) -> Result<()> {
    if let Some(p) = p
        && (p.numel() != numel || (op == "layer_norm" && p.shape() != shape))
    {
        return Err(Error::shape(
            op,
            format!("expected {name} of shape {shape:?}, got {:?}", p.shape()),
        ));
    }
    Ok(())
}

impl Tensor {
    /// Normalises over the last `normalized_shape.len()` dims, which must equal
    /// `normalized_shape`; weight and bias have that shape.
    pub fn layer_norm(
        &self,
        normalized_shape: &[usize],
        weight: Option<&Tensor>,
        bias: Option<&Tensor>,
        eps: f64,
    ) -> Result<Tensor> {
        const OP: &str = "layer_norm";
        check_float(OP, self)?;
        let k = normalized_shape.len();
        if k == 0 || k > self.ndim() || self.shape()[self.ndim() - k..] != *normalized_shape {
            return Err(Error::shape(
                OP,
                format!(
                    "Given normalized_shape={normalized_shape:?}, expected input with shape [*, {}], but got input of size {:?}",
                    normalized_shape
                        .iter()
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                    self.shape()
                ),
            ));
        }
        let m: usize = normalized_shape.iter().product();
        check_param(OP, "weight", weight, m, normalized_shape)?;
        check_param(OP, "bias", bias, m, normalized_shape)?;
        // Explicit row count: `-1` is ambiguous when a dim is 0.
        let rows = self.numel() / m.max(1);
        let (y, _) = standardize_rows(&self.reshape_to(&[rows, m])?, eps)?;
        affine(y.reshape_to(self.shape())?, weight, bias, normalized_shape)
    }

    /// Normalises `[N, C, *]` over groups of `C / num_groups` channels (and all spatial
    /// positions); weight and bias have shape `[C]`.
    pub fn group_norm(
        &self,
        num_groups: usize,
        weight: Option<&Tensor>,
        bias: Option<&Tensor>,
        eps: f64,
    ) -> Result<Tensor> {
        const OP: &str = "group_norm";
        check_float(OP, self)?;
        if self.ndim() < 2 {
            return Err(Error::shape(
                OP,
                format!(
                    "Expected at least 2 dimensions for input tensor but received {}",
                    self.ndim()
                ),
            ));
        }
        let (n, c) = (self.shape()[0], self.shape()[1]);
        if num_groups == 0 || c % num_groups != 0 {
            return Err(Error::shape(
                OP,
                format!(
                    "Expected number of channels in input to be divisible by num_groups, but got input of shape {:?} and num_groups={num_groups}",
                    self.shape()
                ),
            ));
        }
        check_param(OP, "weight", weight, c, &[c])?;
        check_param(OP, "bias", bias, c, &[c])?;
        let per_group = self.numel() / (n * num_groups).max(1);
        let (y, _) = standardize_rows(&self.reshape_to(&[n * num_groups, per_group])?, eps)?;
        let mut pshape = vec![1usize; self.ndim()];
        pshape[1] = c;
        affine(y.reshape_to(self.shape())?, weight, bias, &pshape)
    }

    /// Batch normalisation of `[N, C, *]` over all dims but C. In training the batch
    /// statistics are used and the running buffers (if given) are updated in place without
    /// recording: `running = (1 - momentum) * running + momentum * batch_stat`, with the
    /// unbiased variance. In eval the running statistics are used.
    #[allow(clippy::too_many_arguments)]
    pub fn batch_norm(
        &self,
        running_mean: Option<&Tensor>,
        running_var: Option<&Tensor>,
        weight: Option<&Tensor>,
        bias: Option<&Tensor>,
        training: bool,
        momentum: f64,
        eps: f64,
    ) -> Result<Tensor> {
        const OP: &str = "batch_norm";
        check_float(OP, self)?;
        if self.ndim() < 2 {
            return Err(Error::shape(
                OP,
                format!(
                    "expected 2D or more input (got {}D input of shape {:?})",
                    self.ndim(),
                    self.shape()
                ),
            ));
        }
        let c = self.shape()[1];
        for (name, p) in [
            ("running_mean", running_mean),
            ("running_var", running_var),
            ("weight", weight),
            ("bias", bias),
        ] {
            check_param(OP, name, p, c, &[c])?;
        }
        let mut pshape = vec![1usize; self.ndim()];
        pshape[1] = c;
        if !training {
            let (Some(rm), Some(rv)) = (running_mean, running_var) else {
                return Err(Error::invalid(
                    OP,
                    "running_mean and running_var must be defined in evaluation mode",
                ));
            };
            let rm = rm.detach().to_dtype(self.dtype())?.reshape_to(&pshape)?;
            let rstd = rv
                .detach()
                .to_dtype(self.dtype())?
                .add_scalar(eps)?
                .sqrt()?
                .reshape_to(&pshape)?;
            return affine(self.sub(&rm)?.div(&rstd)?, weight, bias, &pshape);
        }
        let per_channel = self.numel() / c.max(1);
        if self.numel() == 0 {
            // PyTorch's empty-batch rule: an empty result (still connected to the graph), the
            // running statistics untouched.
            return affine(self.mul_scalar(1.0)?, weight, bias, &pshape);
        }
        if per_channel == 1 {
            return Err(Error::invalid(
                OP,
                format!(
                    "Expected more than 1 value per channel when training, got input size {:?}",
                    self.shape()
                ),
            ));
        }
        // Channels first, then one row per channel.
        let nd = self.ndim() as isize;
        let mut perm: Vec<isize> = vec![1, 0];
        perm.extend(2..nd);
        let moved = self.permute(&perm)?;
        let moved_shape = moved.shape().to_vec();
        let (y, stats) = standardize_rows(&moved.reshape_to(&[c, per_channel])?, eps)?;
        let y = y.reshape_to(&moved_shape)?.permute(&perm)?;
        if let (Some(rm), Some(rv)) = (running_mean, running_var) {
            let _g = no_grad();
            let unbiased: Vec<f64> = stats
                .var
                .iter()
                .map(|v| v * per_channel as f64 / (per_channel - 1) as f64)
                .collect();
            let new_mean = rm
                .mul_scalar(1.0 - momentum)?
                .add(&from_f64(stats.mean, &[c], rm.dtype()).mul_scalar(momentum)?)?;
            let new_var = rv
                .mul_scalar(1.0 - momentum)?
                .add(&from_f64(unbiased, &[c], rv.dtype()).mul_scalar(momentum)?)?;
            rm.copy_(&new_mean)?;
            rv.copy_(&new_var)?;
        } else if running_mean.is_some() != running_var.is_some() {
            return Err(Error::invalid(
                OP,
                "running_mean and running_var must both be given or both be None",
            ));
        }
        affine(y, weight, bias, &pshape)
    }
}
