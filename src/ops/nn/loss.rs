//! Losses. `cross_entropy` and `nll_loss` share one fused kernel over rows of class scores;
//! the elementwise losses (mse, l1, smooth_l1, huber, the BCEs, kl_div) go through
//! [`pointwise`](super::pointwise) with closed-form derivatives, computed in f64.

use super::{
    PointFn, PointGrad, Reduction, each_row_block, fill_rows, from_f64, pointwise, row_max,
    values_f64,
};
use crate::autograd::node::Grads;
use crate::autograd::saved::SavedTensor;
use crate::dtype::{DType, Element, FloatElement};
use crate::error::{Error, Result};
use crate::kernels::math::{FastExp, assume_init, exp_rows_shifted, wide_sum};
use crate::ops::{grads, record};
use crate::tensor::Tensor;
use crate::with_float;
use std::sync::Arc;

/// Options shared by `cross_entropy` and `nll_loss`.
#[derive(Clone)]
pub struct ClassLossOptions {
    pub weight: Option<Tensor>,
    pub ignore_index: i64,
    pub reduction: Reduction,
    pub label_smoothing: f64,
}

impl Default for ClassLossOptions {
    fn default() -> Self {
        ClassLossOptions {
            weight: None,
            ignore_index: -100,
            reduction: Reduction::Mean,
            label_smoothing: 0.0,
        }
    }
}

/// Input as `[rows, C]` plus the shape a `reduction='none'` result takes.
fn rows_view(op: &'static str, input: &Tensor) -> Result<(Tensor, Vec<usize>)> {
    match input.ndim() {
        0 => Err(Error::shape(
            op,
            "input must have at least 1 dimension (the class dimension)",
        )),
        1 => Ok((input.unsqueeze(0)?, vec![])),
        2 => Ok((input.clone(), vec![input.shape()[0]])),
        _ => {
            let c = input.shape()[1] as isize;
            let mut none_shape = vec![input.shape()[0]];
            none_shape.extend_from_slice(&input.shape()[2..]);
            Ok((input.movedim_last(1)?.reshape(&[-1, c])?, none_shape))
        }
    }
}

/// The loss of row i is `-sum_c a[i, c] * s[i, c]`, where s is log_softmax(input) for
/// cross_entropy (`softmax = true`) and the input itself for nll_loss. The coefficients a
/// carry the target, the class weights and label smoothing; `denom` is the mean's divisor.
fn class_loss(
    op: &'static str,
    input: &Tensor,
    target: &Tensor,
    opts: &ClassLossOptions,
    softmax: bool,
) -> Result<Tensor> {
    if !input.dtype().is_float() {
        return Err(Error::dtype(
            op,
            format!("expected a floating point input, got {}", input.dtype()),
        ));
    }
    let eps = opts.label_smoothing;
    if !(0.0..=1.0).contains(&eps) {
        return Err(Error::invalid(
            op,
            format!("label_smoothing must be between 0.0 and 1.0. Got: {eps}"),
        ));
    }
    let (x, none_shape) = rows_view(op, input)?;
    let (rows, c) = (x.shape()[0], x.shape()[1]);
    let weight = match &opts.weight {
        Some(w) => {
            if w.ndim() != 1 || w.shape()[0] != c {
                return Err(Error::shape(
                    op,
                    format!(
                        "weight tensor should be defined either for all {c} classes or no classes but got weight tensor of shape: {:?}",
                        w.shape()
                    ),
                ));
            }
            values_f64(w)
        }
        None => vec![1.0; c],
    };
    let probs_target = target.dtype().is_float();
    let mut a = vec![0.0f64; rows * c];
    let mut denom = 0.0f64;
    if probs_target {
        if !softmax {
            return Err(Error::dtype(
                op,
                format!(
                    "expected target of dtype int64 (class indices), got {}",
                    target.dtype()
                ),
            ));
        }
        if target.shape() != input.shape() {
            return Err(Error::shape(
                op,
                format!(
                    "class-probability target must have the input's shape {:?}, got {:?}",
                    input.shape(),
                    target.shape()
                ),
            ));
        }
        let (t, _) = rows_view(op, target)?;
        let tv = values_f64(&t);
        for i in 0..rows {
            for k in 0..c {
                a[i * c + k] = weight[k] * ((1.0 - eps) * tv[i * c + k] + eps / c as f64);
            }
        }
        denom = rows as f64;
    } else {
        if target.dtype() != DType::I64 {
            return Err(Error::dtype(
                op,
                format!(
                    "expected target of dtype int64 (class indices) or a float tensor of class probabilities, got {}",
                    target.dtype()
                ),
            ));
        }
        if target.shape() != none_shape.as_slice() {
            return Err(Error::shape(
                op,
                format!(
                    "input of shape {:?} and target of shape {:?} do not match (expected target of shape {none_shape:?})",
                    input.shape(),
                    target.shape()
                ),
            ));
        }
        if eps == 0.0 {
            return indexed_class_loss(op, &x, target, &none_shape, &weight, opts, softmax);
        }
        let tv = target.to_vec::<i64>()?;
        for (i, &k) in tv.iter().enumerate() {
            let Some(k) = target_class(op, k, c, opts.ignore_index)? else {
                continue;
            };
            a[i * c + k] += (1.0 - eps) * weight[k];
            for j in 0..c {
                a[i * c + j] += eps / c as f64 * weight[j];
            }
            denom += weight[k];
        }
    }
    // From here on this is cross_entropy with class probabilities or label smoothing (nll_loss
    // rejects both, and plain class indices took `indexed_class_loss`): a dense `[rows, C]`
    // coefficient matrix `a` against the log-probabilities, computed row by row with the max
    // subtracted.
    debug_assert!(softmax, "nll_loss never reaches the dense path");
    let xv = values_f64(&x);
    let mut s = vec![0.0f64; rows * c];
    for i in 0..rows {
        let row = &xv[i * c..(i + 1) * c];
        let max = row
            .iter()
            .fold(f64::NEG_INFINITY, |m, &v| if v > m { v } else { m });
        let max = if max.is_finite() { max } else { 0.0 };
        let lse = row.iter().map(|&v| (v - max).exp()).sum::<f64>().ln();
        for (o, &v) in s[i * c..(i + 1) * c].iter_mut().zip(row) {
            *o = v - max - lse;
        }
    }
    let per_row: Vec<f64> = (0..rows)
        .map(|i| {
            let mut l = 0.0;
            for k in 0..c {
                let ak = a[i * c + k];
                if ak != 0.0 {
                    l -= ak * s[i * c + k];
                }
            }
            l
        })
        .collect();
    let dtype = input.dtype();
    let out = match opts.reduction {
        Reduction::None => from_f64(per_row, &none_shape, dtype),
        // fold from +0.0: f64's `Sum` starts at -0.0, which an empty batch would return.
        Reduction::Sum => from_f64(vec![per_row.iter().fold(0.0, |a, b| a + b)], &[], dtype),
        Reduction::Mean => from_f64(
            vec![per_row.iter().fold(0.0, |a, b| a + b) / denom],
            &[],
            dtype,
        ),
    };
    let inputs: Vec<&Tensor> = if probs_target {
        vec![&x, target]
    } else {
        vec![&x]
    };
    if !crate::ops::will_record(&inputs) {
        return Ok(out);
    }
    let reduction = opts.reduction;
    let tgt_shape = target.shape().to_vec();
    let in_ndim = input.ndim();
    record(out, "CrossEntropyLossBackward", &inputs, move |_| {
        Ok(move |g: &Tensor, needs: &[bool]| {
            // Per-row scale of the incoming gradient.
            let gv = values_f64(g);
            let scale = |i: usize| match reduction {
                Reduction::None => gv[i],
                Reduction::Sum => gv[0],
                Reduction::Mean => gv[0] / denom,
            };
            let mut gx = vec![0.0f64; rows * c];
            for i in 0..rows {
                let gi = scale(i);
                let ar = &a[i * c..(i + 1) * c];
                let gr = &mut gx[i * c..(i + 1) * c];
                // d/dx of -sum a*log_softmax(x) = sum(a) * softmax(x) - a
                let asum: f64 = ar.iter().sum();
                for k in 0..c {
                    gr[k] = gi * (asum * s[i * c + k].exp() - ar[k]);
                }
            }
            let mut out: Grads = Default::default();
            out.push(if needs[0] {
                Some(from_f64(gx, &[rows, c], g.dtype()))
            } else {
                None
            });
            if probs_target {
                out.push(if needs[1] {
                    // d/dp[i,k] = -(1 - eps) * w[k] * log_softmax(x)[i,k], laid out like the target.
                    let mut gt = vec![0.0f64; rows * c];
                    for i in 0..rows {
                        let gi = scale(i);
                        for k in 0..c {
                            gt[i * c + k] = -gi * (1.0 - eps) * weight[k] * s[i * c + k];
                        }
                    }
                    let t = from_f64(gt, &[rows, c], g.dtype());
                    Some(unrows(t, &tgt_shape, in_ndim)?)
                } else {
                    None
                });
            }
            Ok(out)
        })
    })
}

/// `class_loss` for class-index targets without label smoothing, the common case: row i's
/// loss involves one class, so it keeps a class and a coefficient per row instead of a dense
/// `[rows, C]` matrix (a 32K-class vocabulary over 16K tokens would need 4 GiB per f64
/// matrix), computes in the input's dtype with f64 row sums, splits rows across threads, and
/// saves only the logits and each row's maximum for the backward.
fn indexed_class_loss(
    op: &'static str,
    x: &Tensor,
    target: &Tensor,
    none_shape: &[usize],
    weight: &[f64],
    opts: &ClassLossOptions,
    softmax: bool,
) -> Result<Tensor> {
    let (rows, c) = (x.shape()[0], x.shape()[1]);
    // Per row: the class (IGNORED for ignore_index) and its weight; the mean divides by the
    // summed weights of the rows that count.
    let mut class = Vec::with_capacity(rows);
    let mut coef = Vec::with_capacity(rows);
    for k in target.to_vec::<i64>()? {
        let k = target_class(op, k, c, opts.ignore_index)?;
        class.push(k.unwrap_or(IGNORED));
        coef.push(k.map_or(0.0, |k| weight[k]));
    }
    let denom = coef.iter().fold(0.0, |a, b| a + b);
    let xc = x.contiguous_copy_if_needed()?;
    // [log-probability of the row's class, maximum of the row]
    let scores = with_float!(x.dtype(), T => row_scores::<T>(&xc, rows, c, &class, softmax), _ => unreachable!("checked float"));
    let per_row: Vec<f64> = scores
        .iter()
        .zip(&coef)
        .map(|(s, w)| if *w == 0.0 { 0.0 } else { -w * s[0] })
        .collect();
    let dtype = x.dtype();
    let out = match opts.reduction {
        Reduction::None => from_f64(per_row, none_shape, dtype),
        // fold from +0.0: f64's `Sum` starts at -0.0, which an empty batch would return.
        Reduction::Sum => from_f64(vec![per_row.iter().fold(0.0, |a, b| a + b)], &[], dtype),
        Reduction::Mean => from_f64(
            vec![per_row.iter().fold(0.0, |a, b| a + b) / denom],
            &[],
            dtype,
        ),
    };
    if !crate::ops::will_record(&[x]) {
        return Ok(out);
    }
    let saved = if softmax {
        Some(SavedTensor::new(&xc)?)
    } else {
        None
    };
    let max: Vec<f64> = scores.iter().map(|s| s[1]).collect();
    let reduction = opts.reduction;
    let node = if softmax {
        "CrossEntropyLossBackward"
    } else {
        "NllLossBackward"
    };
    record(out, node, &[x], move |_| {
        Ok(move |g: &Tensor, _: &[bool]| {
            let gv = values_f64(g);
            // d loss / d score of row i's class, times the incoming gradient.
            let scale: Vec<f64> = (0..rows)
                .map(|i| {
                    let gi = match reduction {
                        Reduction::None => gv[i],
                        Reduction::Sum => gv[0],
                        Reduction::Mean => gv[0] / denom,
                    };
                    gi * coef[i]
                })
                .collect();
            let logits = match &saved {
                Some(s) => Some(s.get()?),
                None => None,
            };
            let gx = with_float!(g.dtype(), T => class_grad::<T>(logits.as_ref(), rows, c, &class, &scale, &max), _ => unreachable!("float grads"));
            Ok(grads([Some(gx)]))
        })
    })
}

/// The class a target names, `None` for `ignore_index`, or an error naming the op when it is
/// outside `0..c`.
fn target_class(op: &'static str, k: i64, c: usize, ignore_index: i64) -> Result<Option<usize>> {
    if k == ignore_index {
        return Ok(None);
    }
    if k < 0 || k as usize >= c {
        return Err(Error::IndexOutOfRange {
            op,
            index: k,
            dim: 1,
            size: c,
        });
    }
    Ok(Some(k as usize))
}

/// Marks a row whose target is `ignore_index`.
const IGNORED: usize = usize::MAX;

/// Elements of logits one pass of [`row_scores`] sends through the exp: rows are grouped so
/// a group's exps stay in L1.
const EXP_GROUP: usize = 4096;

/// Per row of contiguous `[rows, c]` scores: `[score of the row's class, row maximum]`, where
/// the score is the log-softmax (`softmax`) or the input itself (nll_loss, maximum unused).
fn row_scores<T: FloatElement + FastExp>(
    x: &Tensor,
    rows: usize,
    c: usize,
    class: &[usize],
    softmax: bool,
) -> Vec<[f64; 2]> {
    let buf = x.storage().read();
    let data = &T::slice(&buf)[x.storage_offset()..x.storage_offset() + rows * c];
    let wide = |v: T| <T as Element>::to_f64(v);
    let mut out = vec![[0.0f64; 2]; rows];
    if c == 0 {
        // Only reachable when every row is ignored: their scores are 0.
        return out;
    }
    let body = |o: &mut [[f64; 2]], start: usize| {
        let group = (EXP_GROUP / c).max(1);
        let mut exps = Vec::with_capacity(if softmax { group.min(o.len()) * c } else { 0 });
        for (g, slots) in o.chunks_mut(group).enumerate() {
            let first = start + g * group;
            let block = &data[first * c..(first + slots.len()) * c];
            let max = if softmax {
                row_max(block, c)
            } else {
                Vec::new()
            };
            let exps: &[T] = if softmax {
                let e = &mut exps.spare_capacity_mut()[..block.len()];
                exp_rows_shifted(e, block, c, &max);
                // SAFETY: `exp_rows_shifted` wrote every element of `e`.
                unsafe { assume_init(e) }
            } else {
                &[]
            };
            for (i, slot) in slots.iter_mut().enumerate() {
                // log_softmax = x - max - ln(sum): two parts, so the small one is not rounded away.
                let (m, ln_sum) = if softmax {
                    (wide(max[i]), wide_sum(&exps[i * c..(i + 1) * c]).ln())
                } else {
                    (0.0, 0.0)
                };
                let k = class[first + i];
                let score = if k == IGNORED {
                    0.0
                } else {
                    wide(block[i * c + k]) - m - ln_sum
                };
                *slot = [score, m];
            }
        }
    };
    each_row_block(&mut out, if softmax { c } else { 1 }, body);
    out
}

/// The gradient wrt the scores, `[rows, c]`: `scale_i * (softmax(x)_ij - [j = class_i])` for
/// cross_entropy (`logits` given, with each row's maximum), `-scale_i * [j = class_i]` for
/// nll_loss; zero on ignored rows.
fn class_grad<T: FloatElement + FastExp>(
    logits: Option<&Tensor>,
    rows: usize,
    c: usize,
    class: &[usize],
    scale: &[f64],
    max: &[f64],
) -> Tensor {
    let buf = logits.map(|t| (t.storage().read(), t.storage_offset()));
    let data = buf
        .as_ref()
        .map(|(b, off)| &T::slice(b)[*off..*off + rows * c]);
    let body = |o: &mut [std::mem::MaybeUninit<T>], start: usize| {
        let first = start / c;
        if let Some(d) = data {
            // softmax(x) = exp(x - max) / sum, for all the task's rows in one pass of the exp.
            let shift: Vec<T> = max[first..first + o.len() / c]
                .iter()
                .map(|&m| T::from_f64(m))
                .collect();
            exp_rows_shifted(o, &d[start..start + o.len()], c, &shift);
        }
        for (i, row) in o.chunks_mut(c).enumerate() {
            let (k, s) = (class[first + i], scale[first + i]);
            if data.is_none() || k == IGNORED {
                for (j, v) in row.iter_mut().enumerate() {
                    v.write(if j == k { T::from_f64(-s) } else { T::ZERO });
                }
                continue;
            }
            // SAFETY: `exp_rows_shifted` wrote every element of the row.
            let to_p = T::from_f64(s / wide_sum(unsafe { assume_init(row) }));
            for v in row.iter_mut() {
                // SAFETY: as above.
                let e = unsafe { v.assume_init() };
                v.write(e * to_p);
            }
            // SAFETY: as above.
            let p = unsafe { row[k].assume_init() };
            row[k].write(p - T::from_f64(s));
        }
    };
    // SAFETY: `body` writes every element of each row it is given: the scaled softmax, or
    // zeros and the class's coefficient.
    unsafe { fill_rows(&[rows, c], c, body) }
}

/// Undoes `rows_view` for a `[rows, C]` gradient.
fn unrows(t: Tensor, shape: &[usize], ndim: usize) -> Result<Tensor> {
    match ndim {
        1 | 2 => t.reshape_to(shape),
        _ => {
            let mut moved: Vec<usize> = vec![shape[0]];
            moved.extend_from_slice(&shape[2..]);
            moved.push(shape[1]);
            let t = t.reshape_to(&moved)?;
            let n = ndim as isize;
            let mut perm: Vec<isize> = vec![0, n - 1];
            perm.extend(1..n - 1);
            t.permute(&perm)?.contiguous()
        }
    }
}

impl Tensor {
    /// Cross-entropy between logits (`[N, C]`, `[C]` or `[N, C, d...]`) and class indices
    /// (int64, with `ignore_index`) or class probabilities (float, the input's shape).
    pub fn cross_entropy_with(&self, target: &Tensor, opts: &ClassLossOptions) -> Result<Tensor> {
        class_loss("cross_entropy", self, target, opts, true)
    }

    /// Mean cross-entropy with default options.
    pub fn cross_entropy(&self, target: &Tensor) -> Result<Tensor> {
        self.cross_entropy_with(target, &ClassLossOptions::default())
    }

    /// Negative log-likelihood of log-probabilities against class indices.
    pub fn nll_loss(&self, target: &Tensor, opts: &ClassLossOptions) -> Result<Tensor> {
        if opts.label_smoothing != 0.0 {
            return Err(Error::invalid(
                "nll_loss",
                "nll_loss has no label_smoothing",
            ));
        }
        class_loss("nll_loss", self, target, opts, false)
    }
}

fn same_shape(op: &'static str, a: &Tensor, b: &Tensor) -> Result<()> {
    if a.shape() != b.shape() {
        return Err(Error::shape(
            op,
            format!(
                "Using a target size ({:?}) that is different to the input size ({:?}) is not supported. Please ensure they have the same size.",
                b.shape(),
                a.shape()
            ),
        ));
    }
    Ok(())
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

fn loss2(
    op: &'static str,
    node: &'static str,
    x: &Tensor,
    y: &Tensor,
    red: Reduction,
    f: PointFn,
    df: PointGrad,
) -> Result<Tensor> {
    check_float(op, x)?;
    red.apply(pointwise(op, node, &[x, y], f, df)?)
}

/// log(1 + e^-|x|) + max(-x, 0) = log(1 + e^-x), exact for large |x|.
fn softplus_neg(x: f64) -> f64 {
    (-x.abs()).exp().ln_1p() + (-x).max(0.0)
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        x.exp() / (1.0 + x.exp())
    }
}

impl Tensor {
    /// Squared error (x - y)^2, reduced.
    pub fn mse_loss(&self, target: &Tensor, red: Reduction) -> Result<Tensor> {
        loss2(
            "mse_loss",
            "MseLossBackward",
            self,
            target,
            red,
            Arc::new(|a| (a[0] - a[1]).powi(2)),
            Arc::new(|a, d| {
                d[0] = 2.0 * (a[0] - a[1]);
                d[1] = -d[0];
            }),
        )
    }

    /// Absolute error |x - y|, reduced.
    pub fn l1_loss(&self, target: &Tensor, red: Reduction) -> Result<Tensor> {
        loss2(
            "l1_loss",
            "L1LossBackward",
            self,
            target,
            red,
            Arc::new(|a| (a[0] - a[1]).abs()),
            Arc::new(|a, d| {
                let s = sign(a[0] - a[1]);
                d[0] = s;
                d[1] = -s;
            }),
        )
    }

    /// Squared below `beta`, absolute above (a smooth L1).
    pub fn smooth_l1_loss(&self, target: &Tensor, red: Reduction, beta: f64) -> Result<Tensor> {
        if beta < 0.0 {
            return Err(Error::invalid(
                "smooth_l1_loss",
                "smooth_l1_loss does not support negative values for beta.",
            ));
        }
        loss2(
            "smooth_l1_loss",
            "SmoothL1LossBackward",
            self,
            target,
            red,
            Arc::new(move |a| {
                let z = (a[0] - a[1]).abs();
                if z < beta {
                    0.5 * z * z / beta
                } else {
                    z - 0.5 * beta
                }
            }),
            Arc::new(move |a, d| {
                let z = a[0] - a[1];
                let g = if z.abs() < beta { z / beta } else { sign(z) };
                d[0] = g;
                d[1] = -g;
            }),
        )
    }

    /// Squared below `delta`, `delta`-scaled absolute above.
    pub fn huber_loss(&self, target: &Tensor, red: Reduction, delta: f64) -> Result<Tensor> {
        if delta <= 0.0 {
            return Err(Error::invalid(
                "huber_loss",
                "huber_loss does not support non-positive values for delta.",
            ));
        }
        loss2(
            "huber_loss",
            "HuberLossBackward",
            self,
            target,
            red,
            Arc::new(move |a| {
                let z = (a[0] - a[1]).abs();
                if z < delta {
                    0.5 * z * z
                } else {
                    delta * (z - 0.5 * delta)
                }
            }),
            Arc::new(move |a, d| {
                let z = a[0] - a[1];
                let g = if z.abs() < delta { z } else { delta * sign(z) };
                d[0] = g;
                d[1] = -g;
            }),
        )
    }

    /// Binary cross-entropy of probabilities; the logs are clamped at -100 as in PyTorch.
    pub fn binary_cross_entropy(
        &self,
        target: &Tensor,
        weight: Option<&Tensor>,
        red: Reduction,
    ) -> Result<Tensor> {
        const OP: &str = "binary_cross_entropy";
        check_float(OP, self)?;
        same_shape(OP, self, target)?;
        if values_f64(self).iter().any(|&p| !(0.0..=1.0).contains(&p)) {
            return Err(Error::invalid(
                OP,
                "all elements of input should be between 0 and 1",
            ));
        }
        let one = Tensor::scalar_of(1.0.into(), self.dtype());
        let w = weight.unwrap_or(&one);
        let f: PointFn = Arc::new(|a| {
            let (p, y, w) = (a[0], a[1], a[2]);
            -w * (y * p.ln().max(-100.0) + (1.0 - y) * (1.0 - p).ln().max(-100.0))
        });
        let df: PointGrad = Arc::new(|a, d| {
            let (p, y, w) = (a[0], a[1], a[2]);
            d[0] = w * (p - y) / ((1.0 - p) * p).max(1e-12);
            d[1] = -w * (p.ln().max(-100.0) - (1.0 - p).ln().max(-100.0));
            d[2] = -(y * p.ln().max(-100.0) + (1.0 - y) * (1.0 - p).ln().max(-100.0));
        });
        red.apply(pointwise(
            OP,
            "BinaryCrossEntropyBackward",
            &[self, target, w],
            f,
            df,
        )?)
    }

    /// Binary cross-entropy on logits: `(1 - y) x + (1 + (pw - 1) y) log(1 + e^-x)`, scaled
    /// by `weight`; stable for any magnitude of x.
    pub fn binary_cross_entropy_with_logits(
        &self,
        target: &Tensor,
        weight: Option<&Tensor>,
        pos_weight: Option<&Tensor>,
        red: Reduction,
    ) -> Result<Tensor> {
        const OP: &str = "binary_cross_entropy_with_logits";
        check_float(OP, self)?;
        same_shape(OP, self, target)?;
        let one = Tensor::scalar_of(1.0.into(), self.dtype());
        let w = weight.unwrap_or(&one);
        let pw = pos_weight.unwrap_or(&one);
        let f: PointFn = Arc::new(|a| {
            let (x, y, w, pw) = (a[0], a[1], a[2], a[3]);
            w * ((1.0 - y) * x + (1.0 + (pw - 1.0) * y) * softplus_neg(x))
        });
        let df: PointGrad = Arc::new(|a, d| {
            let (x, y, w, pw) = (a[0], a[1], a[2], a[3]);
            let lw = 1.0 + (pw - 1.0) * y;
            d[0] = w * ((1.0 - y) - lw * sigmoid(-x));
            d[1] = w * (-x + (pw - 1.0) * softplus_neg(x));
            d[2] = (1.0 - y) * x + lw * softplus_neg(x);
            d[3] = w * y * softplus_neg(x);
        });
        red.apply(pointwise(
            OP,
            "BinaryCrossEntropyWithLogitsBackward",
            &[self, target, w, pw],
            f,
            df,
        )?)
    }

    /// Pointwise KL divergence `target * (log(target) - input)` (input holds log-probabilities;
    /// with `log_target` so does target). `batchmean` divides the sum by the batch size.
    pub fn kl_div(&self, target: &Tensor, reduction: &str, log_target: bool) -> Result<Tensor> {
        const OP: &str = "kl_div";
        check_float(OP, self)?;
        let (f, df): (PointFn, PointGrad) = if log_target {
            (
                Arc::new(|a| a[1].exp() * (a[1] - a[0])),
                Arc::new(|a, d| {
                    let e = a[1].exp();
                    d[0] = -e;
                    d[1] = e * (a[1] - a[0] + 1.0);
                }),
            )
        } else {
            (
                // xlogy semantics: a zero target contributes 0.
                Arc::new(|a| {
                    if a[1] == 0.0 {
                        0.0
                    } else {
                        a[1] * (a[1].ln() - a[0])
                    }
                }),
                Arc::new(|a, d| {
                    d[0] = -a[1];
                    d[1] = if a[1] == 0.0 {
                        0.0
                    } else {
                        a[1].ln() + 1.0 - a[0]
                    };
                }),
            )
        };
        let loss = pointwise(OP, "KlDivBackward", &[self, target], f, df)?;
        if reduction == "batchmean" {
            let n = if self.ndim() == 0 { 1 } else { self.shape()[0] };
            return loss.sum()?.div_scalar(n as f64);
        }
        Reduction::parse(OP, reduction)?.apply(loss)
    }
}

fn sign(z: f64) -> f64 {
    if z > 0.0 {
        1.0
    } else if z < 0.0 {
        -1.0
    } else {
        0.0
    }
}
