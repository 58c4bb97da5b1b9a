//! Normalisation layers. One fused kernel standardises the rows of a `[R, M]` matrix (mean
//! 0, variance 1, biased variance as PyTorch uses for normalising) with the closed-form
//! backward `(g - mean(g) - y * mean(g * y)) / std`; layer_norm, group_norm and batch_norm
//! arrange their input into such rows and apply the affine part with broadcast ops.

use super::{from_f64, values_f64};
use crate::autograd::grad_mode::no_grad;
use crate::error::{Error, Result};
use crate::ops::{grads, record};
use crate::tensor::Tensor;

/// Row statistics returned with a standardised matrix.
pub struct RowStats {
    pub mean: Vec<f64>,
    /// Biased variance (divided by M).
    pub var: Vec<f64>,
}

/// Standardises each row of `x` (`[R, M]`): `(x - mean) / sqrt(var + eps)`.
fn standardize_rows(x: &Tensor, eps: f64) -> Result<(Tensor, RowStats)> {
    let (r, m) = (x.shape()[0], x.shape()[1]);
    let xv = values_f64(x);
    let mut y = vec![0.0f64; r * m];
    let mut mean = vec![0.0; r];
    let mut var = vec![0.0; r];
    let mut rstd = vec![0.0; r];
    for i in 0..r {
        let row = &xv[i * m..(i + 1) * m];
        let mu = row.iter().sum::<f64>() / m as f64;
        let v = row.iter().map(|&a| (a - mu) * (a - mu)).sum::<f64>() / m as f64;
        let rs = 1.0 / (v + eps).sqrt();
        for (o, &a) in y[i * m..(i + 1) * m].iter_mut().zip(row) {
            *o = (a - mu) * rs;
        }
        mean[i] = mu;
        var[i] = v;
        rstd[i] = rs;
    }
    let out = from_f64(y.clone(), &[r, m], x.dtype());
    let out = if crate::ops::will_record(&[x]) {
        record(out, "NativeNormBackward", &[x], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                let gv = values_f64(g);
                let mut gx = vec![0.0f64; r * m];
                for i in 0..r {
                    let (gr, yr) = (&gv[i * m..(i + 1) * m], &y[i * m..(i + 1) * m]);
                    let mg = gr.iter().sum::<f64>() / m as f64;
                    let mgy = gr.iter().zip(yr).map(|(a, b)| a * b).sum::<f64>() / m as f64;
                    for k in 0..m {
                        gx[i * m + k] = (gr[k] - mg - yr[k] * mgy) * rstd[i];
                    }
                }
                Ok(grads([Some(from_f64(gx, &[r, m], g.dtype()))]))
            })
        })?
    } else {
        out
    };
    Ok((out, RowStats { mean, var }))
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
