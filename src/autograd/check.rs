//! Gradient checking: compares the Jacobian autograd computes with central finite
//! differences, in float64.

use super::engine;
use super::grad_mode::no_grad;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug)]
pub struct GradcheckOptions {
    pub eps: f64,
    pub atol: f64,
    pub rtol: f64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
        }
    }
}

/// Checks `f`'s gradients at `inputs` (float64 leaves that require grad). Returns an error
/// naming the first output element, input and position where the two Jacobians disagree.
pub fn gradcheck(
    f: impl Fn(&[Tensor]) -> Result<Tensor>,
    inputs: &[Tensor],
    opts: GradcheckOptions,
) -> Result<()> {
    for (i, t) in inputs.iter().enumerate() {
        if t.dtype() != DType::F64 || !t.requires_grad() {
            return Err(Error::invalid(
                "gradcheck",
                format!("input {i} must be a float64 tensor that requires grad"),
            ));
        }
    }
    let out = f(inputs)?;
    let n_out = out.numel();
    let values: Vec<Vec<f64>> = inputs.iter().map(|t| t.to_vec_f64()).collect();
    // Numerical Jacobian columns: d out / d input[i][k].
    let mut numeric: Vec<Vec<Vec<f64>>> = Vec::new();
    for (i, t) in inputs.iter().enumerate() {
        let mut cols = Vec::with_capacity(t.numel());
        for k in 0..t.numel() {
            let eval = |delta: f64| -> Result<Vec<f64>> {
                let _g = no_grad();
                let shifted: Vec<Tensor> = inputs
                    .iter()
                    .enumerate()
                    .map(|(j, x)| {
                        if j != i {
                            return Ok(x.detach());
                        }
                        let mut v = values[i].clone();
                        v[k] += delta;
                        Tensor::from_vec(v, x.shape())
                    })
                    .collect::<Result<_>>()?;
                Ok(f(&shifted)?.to_vec_f64())
            };
            let (plus, minus) = (eval(opts.eps)?, eval(-opts.eps)?);
            cols.push(
                plus.iter()
                    .zip(&minus)
                    .map(|(p, m)| (p - m) / (2.0 * opts.eps))
                    .collect::<Vec<_>>(),
            );
        }
        numeric.push(cols);
    }
    // Analytic rows: one backward per output element.
    for j in 0..n_out {
        let mut seed = vec![0.0; n_out];
        seed[j] = 1.0;
        let seed = Tensor::from_vec(seed, out.shape())?.to_dtype(out.dtype())?;
        let analytic = if out.requires_grad() {
            engine::grad(
                std::slice::from_ref(&out),
                inputs,
                &[Some(seed)],
                true,
                true,
            )?
        } else {
            vec![None; inputs.len()]
        };
        for (i, g) in analytic.iter().enumerate() {
            let row = match g {
                Some(g) => g.to_vec_f64(),
                None => vec![0.0; inputs[i].numel()],
            };
            for (k, &a) in row.iter().enumerate() {
                let n = numeric[i][k][j];
                if (a - n).abs() > opts.atol + opts.rtol * n.abs() {
                    return Err(Error::autograd(format!(
                        "gradcheck: Jacobian mismatch for output element {j} with respect to input {i}, element {k}: \
                         analytic {a:.8e}, numerical {n:.8e}"
                    )));
                }
            }
        }
    }
    Ok(())
}
