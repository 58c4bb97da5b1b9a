//! Neural-network functions (`ferrograd.nn.functional`). Most are fused: one Rust forward
//! and a hand-written backward, computed on contiguous buffers, rather than long chains of
//! small ops. One file per topic; softmax and the shared helpers live here.

pub mod conv;
pub mod distance;
pub mod dropout;
pub mod embedding;
pub mod linear;
pub mod loss;
pub mod norm;
pub mod pool;

use super::{grads, record};
use crate::autograd::saved::SavedTensor;
use crate::dtype::{DType, Element, FloatElement};
use crate::error::{Error, Result};
use crate::kernels::for_each_chunk;
use crate::kernels::math::{FastExp, assume_init, exp_rows_shifted, wide_sum};
use crate::shape::normalize_dim;
use crate::tensor::Tensor;
use crate::with_dtype;
use crate::with_float;
use std::mem::MaybeUninit;

const ROWS_PAR_MIN: usize = 1 << 15;

/// Applies `f(rows_in, rows_out)` to blocks of whole rows of a [rows, n] tensor (blocks split
/// across threads when large); `f` must write every element of `rows_out`.
pub(crate) fn map_rows<T: FloatElement>(
    x: &Tensor,
    n: usize,
    f: impl Fn(&[T], &mut [MaybeUninit<T>]) + Sync + Send,
) -> Result<Tensor> {
    let x = x.contiguous_copy_if_needed()?;
    let buf = x.storage().read();
    let data = &T::slice(&buf)[x.storage_offset()..x.storage_offset() + x.numel()];
    // SAFETY: `f` writes every element of the block it is given (its contract above).
    Ok(unsafe { fill_rows(x.shape(), n, |o, start| f(&data[start..start + o.len()], o)) })
}

/// Rows per task for a `[r, m]` row kernel, and whether to split the rows across threads at
/// all: tasks of about `ROWS_PAR_MIN` elements, from twice that in total.
fn row_split(r: usize, m: usize) -> (usize, bool) {
    let rows = (ROWS_PAR_MIN / m.max(1)).max(1);
    (
        rows,
        crate::kernels::parallel_for(r * m, 2 * ROWS_PAR_MIN) && r > rows,
    )
}

/// Runs `f(block, first_row)` over `per_row`, one slot for each row of `m` elements of a row
/// kernel, in blocks split across threads when the rows hold enough work.
pub(crate) fn each_row_block<S: Send>(
    per_row: &mut [S],
    m: usize,
    f: impl Fn(&mut [S], usize) + Sync + Send,
) {
    let (rows, split) = row_split(per_row.len(), m);
    if split {
        for_each_chunk(per_row, rows, f);
    } else {
        f(per_row, 0);
    }
}

/// A fresh contiguous tensor of `shape`, rows of its last `m` elements written by
/// `f(block, first_element)` one block of whole rows at a time, blocks split across threads
/// when large.
///
/// # Safety
/// `f` must write every element of each block it is given.
pub(crate) unsafe fn fill_rows<T: Element>(
    shape: &[usize],
    m: usize,
    f: impl Fn(&mut [MaybeUninit<T>], usize) + Sync + Send,
) -> Tensor {
    let total: usize = shape.iter().product();
    let mut out = crate::kernels::alloc::vec_with_capacity::<T>(total);
    // Rows of m > 0 elements (an empty row writes nothing).
    if let Some(r) = total.checked_div(m) {
        let spare = &mut out.spare_capacity_mut()[..total];
        let (rows, split) = row_split(r, m);
        if split {
            for_each_chunk(spare, rows * m, f);
        } else {
            f(spare, 0);
        }
    }
    // SAFETY: the blocks tile 0..total exactly and the caller vouches `f` wrote each one.
    unsafe { out.set_len(total) };
    Tensor::from_buffer_vec(out, shape)
}

/// The maximum of each row of `c` elements, as the shift that keeps exp from overflowing (0
/// for a row without a finite maximum, so infinities and NaN pass through as they should).
pub(crate) fn row_max<T: FloatElement>(rows: &[T], c: usize) -> Vec<T> {
    rows.chunks(c)
        .map(|row| {
            let m = lane_max(row);
            if m.is_finite() { m } else { T::ZERO }
        })
        .collect()
}

/// The maximum of `v` (NaN skipped), over sixteen independent lanes: one running maximum
/// would wait on the one before at every element.
fn lane_max<T: FloatElement>(v: &[T]) -> T {
    let larger = |m: T, x: T| if x > m { x } else { m };
    let mut lanes = [T::neg_infinity(); 16];
    let chunks = v.chunks_exact(16);
    let tail = chunks
        .remainder()
        .iter()
        .fold(T::neg_infinity(), |m, &x| larger(m, x));
    for c in chunks {
        for (l, &x) in lanes.iter_mut().zip(c) {
            *l = larger(*l, x);
        }
    }
    lanes.into_iter().fold(tail, larger)
}

/// Softmax or log_softmax of whole rows of `c` elements: the exps with the vectorised exp,
/// each row's sum in f64.
pub(crate) fn softmax_rows<T: FloatElement + FastExp>(
    rows: &[T],
    out: &mut [MaybeUninit<T>],
    c: usize,
    log: bool,
) {
    let max = row_max(rows, c);
    // `out` holds exp(v - max) first; softmax scales it, log_softmax overwrites it.
    exp_rows_shifted(out, rows, c, &max);
    for ((o, row), &m) in out.chunks_mut(c).zip(rows.chunks(c)).zip(&max) {
        // SAFETY: `exp_rows_shifted` wrote every element of `out`.
        let sum = wide_sum(unsafe { assume_init(o) });
        if log {
            // Two subtractions: `max + ln(sum)` rounded first would lose the small term.
            let ln_sum = T::from_f64(sum.ln());
            for (o, &v) in o.iter_mut().zip(row) {
                o.write(v - m - ln_sum);
            }
        } else {
            let inv = T::from_f64(1.0 / sum);
            for o in o.iter_mut() {
                // SAFETY: as above.
                let e = unsafe { o.assume_init() };
                o.write(e * inv);
            }
        }
    }
}

impl Tensor {
    pub(crate) fn contiguous_copy_if_needed(&self) -> Result<Tensor> {
        if self.is_contiguous() {
            Ok(self.detach())
        } else {
            self.contiguous_copy()
        }
    }

    /// Runs a last-dim row kernel along `dim`: moves `dim` last, applies it, moves it back.
    fn along_dim(&self, op: &'static str, dim: isize, log: bool) -> Result<Tensor> {
        let x = super::unary::as_float(self)?;
        if x.ndim() == 0 {
            return x.reshape(&[1])?.along_dim(op, 0, log)?.reshape(&[]);
        }
        let d = normalize_dim(op, dim, x.ndim())?;
        let last = x.ndim() - 1;
        let moved = if d == last {
            x.detach()
        } else {
            x.detach().transpose(d as isize, last as isize)?
        };
        let n = moved.shape()[last];
        let y = with_float!(moved.dtype(), T => map_rows::<T>(&moved, n, |r, o| softmax_rows(r, o, n, log))?, _ => unreachable!());
        let y = if d == last {
            y
        } else {
            y.transpose(d as isize, last as isize)?.contiguous_copy()?
        };
        let saved = if super::will_record(&[&x]) {
            Some(SavedTensor::new(&y)?)
        } else {
            None
        };
        let node = if log {
            "LogSoftmaxBackward"
        } else {
            "SoftmaxBackward"
        };
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

    /// Moves `dim` to the last position (a permuted view).
    pub(crate) fn movedim_last(&self, dim: usize) -> Result<Tensor> {
        let mut perm: Vec<isize> = (0..self.ndim() as isize)
            .filter(|&d| d != dim as isize)
            .collect();
        perm.push(dim as isize);
        self.permute(&perm)
    }
}

/// How a loss reduces its per-element values (PyTorch's `reduction=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    None,
    Mean,
    Sum,
}

impl Reduction {
    pub fn parse(op: &'static str, s: &str) -> Result<Reduction> {
        match s {
            "none" => Ok(Reduction::None),
            "mean" => Ok(Reduction::Mean),
            "sum" => Ok(Reduction::Sum),
            _ => Err(Error::invalid(
                op,
                format!(
                    "{s} is not a valid value for reduction (expected 'none', 'mean' or 'sum')"
                ),
            )),
        }
    }

    /// Applies the reduction to per-element losses (differentiably).
    pub fn apply(self, loss: Tensor) -> Result<Tensor> {
        match self {
            Reduction::None => Ok(loss),
            Reduction::Sum => loss.sum(),
            Reduction::Mean => loss.mean(),
        }
    }
}

/// The elements of `t` (any dtype, any layout) as f64 in row-major order.
pub(crate) fn values_f64(t: &Tensor) -> Vec<f64> {
    t.to_vec_f64()
}

/// A new tensor of `dtype` holding `v` (computed in f64).
pub(crate) fn from_f64(v: Vec<f64>, shape: &[usize], dtype: DType) -> Tensor {
    with_dtype!(dtype, T => Tensor::from_buffer_vec(v.into_iter().map(T::from_f64).collect::<Vec<T>>(), shape))
}

/// The float dtype several float-or-int operands compute in.
pub(crate) fn float_result(ts: &[&Tensor]) -> DType {
    let mut d = ts[0].dtype();
    for t in &ts[1..] {
        d = DType::promote(d, t.dtype());
    }
    d.to_float()
}

pub(crate) type PointFn = std::sync::Arc<dyn Fn(&[f64]) -> f64 + Send + Sync>;
pub(crate) type PointGrad = std::sync::Arc<dyn Fn(&[f64], &mut [f64]) + Send + Sync>;

/// `f(x0, x1, ...)` elementwise over broadcast operands, computed in f64 (so float32 losses
/// keep their accuracy) and returned in the operands' float dtype. Backward multiplies the
/// incoming gradient by `df` (which fills one partial derivative per operand) and sums each
/// back to its operand's shape.
pub(crate) fn pointwise(
    op: &'static str,
    node: &'static str,
    inputs: &[&Tensor],
    f: PointFn,
    df: PointGrad,
) -> Result<Tensor> {
    let mut shape: Vec<usize> = inputs[0].shape().to_vec();
    for t in &inputs[1..] {
        shape = crate::shape::broadcast_shapes(op, &shape, t.shape())?.to_vec();
    }
    let dtype = float_result(inputs);
    let cols: Vec<Vec<f64>> = inputs
        .iter()
        .map(|t| Ok(values_f64(&t.detach().expand_to(&shape)?)))
        .collect::<Result<_>>()?;
    let n: usize = shape.iter().product();
    let k = inputs.len();
    let mut args = vec![0.0; k];
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        for (a, c) in args.iter_mut().zip(&cols) {
            *a = c[i];
        }
        out.push(f(&args));
    }
    let out = from_f64(out, &shape, dtype);
    if !super::will_record(inputs) {
        return Ok(out);
    }
    let in_shapes: Vec<Vec<usize>> = inputs.iter().map(|t| t.shape().to_vec()).collect();
    let in_dtypes: Vec<DType> = inputs.iter().map(|t| t.dtype()).collect();
    // The operands' values are kept (not the tensors): they are copies, so later in-place
    // changes to the inputs cannot corrupt this backward.
    record(out, node, inputs, move |_| {
        Ok(move |g: &Tensor, needs: &[bool]| {
            let gv = values_f64(&g.expand_to(&shape)?);
            let mut parts: Vec<Vec<f64>> = (0..k)
                .map(|j| {
                    if needs[j] {
                        Vec::with_capacity(n)
                    } else {
                        Vec::new()
                    }
                })
                .collect();
            let mut args = vec![0.0; k];
            let mut d = vec![0.0; k];
            for i in 0..n {
                for (a, c) in args.iter_mut().zip(&cols) {
                    *a = c[i];
                }
                d.iter_mut().for_each(|x| *x = 0.0);
                df(&args, &mut d);
                for j in 0..k {
                    if needs[j] {
                        parts[j].push(gv[i] * d[j]);
                    }
                }
            }
            let mut out: crate::autograd::node::Grads = Default::default();
            for (j, p) in parts.into_iter().enumerate() {
                if needs[j] && in_dtypes[j].is_float() {
                    let t = from_f64(p, &shape, g.dtype());
                    out.push(Some(super::binary::reduce_grad(
                        &t,
                        &in_shapes[j],
                        in_dtypes[j],
                    )?));
                } else {
                    out.push(None);
                }
            }
            Ok(out)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_max_skips_nan_and_falls_back_to_zero_without_a_finite_maximum() {
        // 37 elements: two full sets of lanes and a tail; the maximum sits in the tail.
        let mut row: Vec<f32> = (0..37).map(|i| i as f32 - 40.0).collect();
        row[5] = f32::NAN;
        row[36] = 3.5;
        let inf = vec![f32::NEG_INFINITY, f32::INFINITY];
        let mut all = row.clone();
        all.extend([f32::NEG_INFINITY; 37]);
        assert_eq!(row_max(&all, 37), vec![3.5, 0.0]);
        assert_eq!(row_max(&inf, 2), vec![0.0]);
        assert_eq!(lane_max(&row[..36]), -5.0);
    }
}
