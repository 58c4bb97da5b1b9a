//! Index-based layers: `embedding` (row lookup, scatter-add backward) and `one_hot`.

use super::{from_f64, values_f64};
use crate::autograd::grad_mode::no_grad;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::ops::{grads, record};
use crate::tensor::Tensor;

/// Options of `F.embedding`.
#[derive(Clone, Copy, Debug, Default)]
pub struct EmbeddingOptions {
    pub padding_idx: Option<i64>,
    pub max_norm: Option<f64>,
    pub norm_type: f64,
    pub scale_grad_by_freq: bool,
}

impl Tensor {
    /// Rows of `weight` (`[V, D]`) picked by the int64 indices in `self`: result
    /// `[*self.shape, D]`. The padding row gets no gradient; with `max_norm`, the looked-up
    /// rows of `weight` are renormalised in place first (as in PyTorch).
    pub fn embedding(&self, weight: &Tensor, opts: &EmbeddingOptions) -> Result<Tensor> {
        const OP: &str = "embedding";
        if self.dtype() != DType::I64 {
            return Err(Error::dtype(
                OP,
                format!(
                    "Expected tensor for argument #1 'indices' to have scalar type Long; but got {} instead",
                    self.dtype()
                ),
            ));
        }
        if weight.ndim() != 2 {
            return Err(Error::shape(
                OP,
                format!("'weight' must be 2-D, got shape {:?}", weight.shape()),
            ));
        }
        let (v, d) = (weight.shape()[0], weight.shape()[1]);
        let idx = self.to_vec::<i64>()?;
        for &i in &idx {
            if i < 0 || i as usize >= v {
                return Err(Error::IndexOutOfRange {
                    op: OP,
                    index: i,
                    dim: 0,
                    size: v,
                });
            }
        }
        let pad = match opts.padding_idx {
            Some(p) if p < -(v as i64) || p >= v as i64 => {
                return Err(Error::invalid(
                    OP,
                    format!("padding_idx must be within num_embeddings ({v}), got {p}"),
                ));
            }
            Some(p) => Some(if p < 0 {
                (p + v as i64) as usize
            } else {
                p as usize
            }),
            None => None,
        };
        if let Some(max_norm) = opts.max_norm {
            renorm_rows(weight, &idx, max_norm, opts.norm_type)?;
        }
        let wv = values_f64(weight);
        let mut out = Vec::with_capacity(idx.len() * d);
        for &i in &idx {
            out.extend_from_slice(&wv[i as usize * d..(i as usize + 1) * d]);
        }
        let mut shape = self.shape().to_vec();
        shape.push(d);
        let y = from_f64(out, &shape, weight.dtype());
        let scale_by_freq = opts.scale_grad_by_freq;
        record(y, "EmbeddingBackward", &[weight], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                let gv = values_f64(g);
                let mut counts = vec![0usize; v];
                if scale_by_freq {
                    idx.iter().for_each(|&i| counts[i as usize] += 1);
                }
                let mut gw = vec![0.0f64; v * d];
                for (q, &i) in idx.iter().enumerate() {
                    let i = i as usize;
                    if Some(i) == pad {
                        continue;
                    }
                    let s = if scale_by_freq {
                        1.0 / counts[i] as f64
                    } else {
                        1.0
                    };
                    for k in 0..d {
                        gw[i * d + k] += s * gv[q * d + k];
                    }
                }
                Ok(grads([Some(from_f64(gw, &[v, d], g.dtype()))]))
            })
        })
    }

    /// `[*, num_classes]` int64 with a 1 at each index; `num_classes = None` uses max + 1.
    pub fn one_hot(&self, num_classes: Option<usize>) -> Result<Tensor> {
        const OP: &str = "one_hot";
        if self.dtype() != DType::I64 {
            return Err(Error::dtype(
                OP,
                format!(
                    "one_hot is only applicable to index tensor of dtype int64, got {}",
                    self.dtype()
                ),
            ));
        }
        let idx = self.to_vec::<i64>()?;
        if idx.iter().any(|&i| i < 0) {
            return Err(Error::invalid(OP, "Class values must be non-negative."));
        }
        let c = match num_classes {
            Some(c) => c,
            None if idx.is_empty() => {
                return Err(Error::invalid(
                    OP,
                    "Can not infer total number of classes from empty tensor.",
                ));
            }
            None => *idx.iter().max().unwrap() as usize + 1,
        };
        if let Some(&bad) = idx.iter().find(|&&i| i as usize >= c) {
            return Err(Error::invalid(
                OP,
                format!(
                    "Class values must be smaller than num_classes (got class {bad} with num_classes={c})"
                ),
            ));
        }
        let mut out = vec![0i64; idx.len() * c];
        for (q, &i) in idx.iter().enumerate() {
            out[q * c + i as usize] = 1;
        }
        let mut shape = self.shape().to_vec();
        shape.push(c);
        Tensor::from_vec(out, &shape)
    }
}

/// Scales each referenced row of `weight` whose `norm_type`-norm exceeds `max_norm` down to
/// `max_norm` (PyTorch's `embedding_renorm_`), without recording.
fn renorm_rows(weight: &Tensor, idx: &[i64], max_norm: f64, p: f64) -> Result<()> {
    let _g = no_grad();
    let d = weight.shape()[1];
    let mut wv = values_f64(weight);
    let mut rows: Vec<usize> = idx.iter().map(|&i| i as usize).collect();
    rows.sort_unstable();
    rows.dedup();
    let mut changed = false;
    for r in rows {
        let row = &mut wv[r * d..(r + 1) * d];
        let norm = if p.is_infinite() {
            row.iter().fold(0.0f64, |m, x| m.max(x.abs()))
        } else {
            row.iter()
                .map(|x| x.abs().powf(p))
                .sum::<f64>()
                .powf(1.0 / p)
        };
        if norm > max_norm {
            let s = max_norm / (norm + 1e-7);
            row.iter_mut().for_each(|x| *x *= s);
            changed = true;
        }
    }
    if changed {
        weight.copy_(&from_f64(wv, weight.shape(), weight.dtype()))?;
    }
    Ok(())
}
