//! Order statistics: sort, argsort, topk, median (each with indices, differentiable through
//! the values by scattering the gradient back to the chosen positions) and unique.
//! NaN sorts above every number, as in PyTorch.

use super::reduce::scatter_add_dim;
use super::{grads, record};
use crate::error::{Error, Result};
use crate::kernels::lanes::map_lanes_to;
use crate::kernels::reduce::map_lanes;
use crate::shape::{Dims, normalize_dim};
use crate::tensor::Tensor;
use crate::with_dtype;
use std::cmp::Ordering;

/// Total order with NaN (the only value unequal to itself) above everything.
#[inline]
#[allow(clippy::eq_op)]
fn nan_last<T: PartialOrd>(a: &T, b: &T) -> Ordering {
    match a.partial_cmp(b) {
        Some(o) => o,
        None => (a != a).cmp(&(b != b)),
    }
}

/// `values` with a backward that sends each gradient to `indices` along `dim` of `input`.
fn with_scatter_backward(
    input: &Tensor,
    values: Tensor,
    indices: &Tensor,
    dim: usize,
    node: &'static str,
) -> Result<Tensor> {
    if !input.dtype().is_float() {
        return Ok(values);
    }
    let idx = indices.clone();
    let shape = input.shape().to_vec();
    record(values, node, &[input], move |_| {
        Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(scatter_add_dim(g, &idx, &shape, dim)?)])))
    })
}

impl Tensor {
    /// Sorted values along `dim` and where they came from (stable: equal elements keep their
    /// order, also when `descending`).
    pub fn sort(&self, dim: isize, descending: bool) -> Result<(Tensor, Tensor)> {
        let d = normalize_dim("sort", dim, self.ndim())?;
        let n = self.shape().get(d).copied().unwrap_or(1);
        self.top_lanes("sort", d, n, descending, "SortBackward")
    }

    /// The indices that sort `dim` (see [`Tensor::sort`]).
    pub fn argsort(&self, dim: isize, descending: bool) -> Result<Tensor> {
        Ok(self.detach().sort(dim, descending)?.1)
    }

    /// The `k` largest (or smallest) elements along `dim`, in sorted order, with their indices.
    pub fn topk(&self, k: usize, dim: isize, largest: bool) -> Result<(Tensor, Tensor)> {
        let d = normalize_dim("topk", dim, self.ndim())?;
        let n = self.shape().get(d).copied().unwrap_or(1);
        if k > n {
            return Err(Error::Index {
                op: "topk",
                msg: format!(
                    "selected index k out of range: k = {k} but dim {d} has size {n} (shape {:?})",
                    self.shape()
                ),
            });
        }
        self.top_lanes("topk", d, k, largest, "TopkBackward")
    }

    /// The first `k` of each lane after a stable sort (descending when `desc`).
    fn top_lanes(
        &self,
        _op: &'static str,
        d: usize,
        k: usize,
        desc: bool,
        node: &'static str,
    ) -> Result<(Tensor, Tensor)> {
        let x = if self.ndim() == 0 {
            self.reshape(&[1])?
        } else {
            self.clone()
        };
        let n = x.shape()[d];
        let mut shape: Dims = x.shape().into();
        shape[d] = k;
        let (values, indices) = with_dtype!(x.dtype(), T => {
            let buf = x.storage().read();
            let pairs: Vec<(T, i64)> = map_lanes_to(T::slice(&buf), x.layout(), d, k, |lane, dst: &mut [(T, i64)]| {
                let mut ix: Vec<usize> = (0..n).collect();
                // Ties broken by position keep the result deterministic and stable.
                let cmp = |a: &usize, b: &usize| {
                    let o = nan_last(&lane.get(*a), &lane.get(*b));
                    (if desc { o.reverse() } else { o }).then(a.cmp(b))
                };
                if k < n && k > 0 {
                    ix.select_nth_unstable_by(k - 1, cmp);
                    ix.truncate(k);
                }
                ix.sort_unstable_by(cmp);
                for (dst, &i) in dst.iter_mut().zip(&ix) {
                    *dst = (lane.get(i), i as i64);
                }
            });
            let (v, i): (Vec<T>, Vec<i64>) = pairs.into_iter().unzip();
            (Tensor::from_buffer_vec(v, &shape), Tensor::from_buffer_vec(i, &shape))
        });
        let (values, indices) = if self.ndim() == 0 {
            (values.reshape_to(&[])?, indices.reshape_to(&[])?)
        } else {
            (values, indices)
        };
        let values = with_scatter_backward(self, values, &indices, d, node)?;
        Ok((values, indices))
    }

    /// The lower median along `dim` and its index; a lane holding NaN has median NaN (at the
    /// first NaN), as in PyTorch.
    pub fn median_dim(&self, dim: isize, keepdim: bool) -> Result<(Tensor, Tensor)> {
        let d = normalize_dim("median", dim, self.ndim())?;
        let x = if self.ndim() == 0 {
            self.reshape(&[1])?
        } else {
            self.clone()
        };
        let n = x.shape()[d];
        if n == 0 {
            return Err(Error::Index {
                op: "median",
                msg: format!(
                    "median(): Expected reduction dim {d} to have non-zero size (shape {:?})",
                    self.shape()
                ),
            });
        }
        let mut shape: Dims = x.shape().into();
        shape[d] = 1;
        let (values, indices) = with_dtype!(x.dtype(), T => {
            let buf = x.storage().read();
            let pairs: Vec<(T, i64)> = map_lanes(T::slice(&buf), x.layout(), d, |lane| {
                #[allow(clippy::eq_op)]
                if let Some(i) = (0..n).find(|&i| lane.get(i) != lane.get(i)) {
                    return (lane.get(i), i as i64);
                }
                let mut ix: Vec<usize> = (0..n).collect();
                ix.sort_by(|a, b| nan_last(&lane.get(*a), &lane.get(*b)));
                let i = ix[(n - 1) / 2];
                (lane.get(i), i as i64)
            });
            let (v, i): (Vec<T>, Vec<i64>) = pairs.into_iter().unzip();
            (Tensor::from_buffer_vec(v, &shape), Tensor::from_buffer_vec(i, &shape))
        });
        let values = with_scatter_backward(&x, values, &indices, d, "MedianBackward")?;
        let squeeze = |t: Tensor| {
            if keepdim && self.ndim() > 0 {
                Ok(t)
            } else if self.ndim() == 0 {
                t.reshape_to(&[])
            } else {
                t.squeeze_dims(&[d as isize])
            }
        };
        Ok((squeeze(values)?, squeeze(indices)?))
    }

    /// The lower median of all elements (a 0-d tensor).
    pub fn median_all(&self) -> Result<Tensor> {
        if self.numel() == 0 {
            // PyTorch returns NaN here; an integer tensor has no NaN to return.
            // (Through sum, so the result keeps its history as PyTorch's does.)
            if self.dtype().is_float() {
                return self.sum()?.add_scalar(f64::NAN);
            }
            return Err(Error::Index {
                op: "median",
                msg: format!(
                    "median() of an empty {} tensor has no value (a float tensor gives NaN)",
                    self.dtype()
                ),
            });
        }
        Ok(self.reshape(&[-1])?.median_dim(0, false)?.0)
    }

    /// The distinct elements (or, with `dim`, distinct slices along `dim`) in ascending order,
    /// with the inverse map (where each input element/slice went) and the counts.
    pub fn unique(&self, dim: Option<isize>) -> Result<(Tensor, Tensor, Tensor)> {
        let (x, d) = match dim {
            None => (self.detach().reshape(&[-1])?, 0),
            Some(dim) => {
                let d = normalize_dim("unique", dim, self.ndim())?;
                if self.ndim() == 0 {
                    return Err(Error::Index {
                        op: "unique",
                        msg: "unique(dim=...) needs a tensor with at least one dim".into(),
                    });
                }
                // PyTorch's rule for empty inputs: only the selected dim may be empty.
                if self.numel() == 0 {
                    let zeros = self.shape().iter().filter(|&&n| n == 0).count();
                    if zeros > 1 || self.shape()[d] != 0 {
                        return Err(Error::invalid(
                            "unique",
                            format!(
                                "unique(dim={dim}) of a tensor of shape {:?}: only the selected dim may have size 0",
                                self.shape()
                            ),
                        ));
                    }
                }
                (self.detach().movedim_first(d)?, d)
            }
        };
        let rows = x.shape()[0];
        let width: usize = x.shape()[1..].iter().product();
        let (values, inverse, counts) = with_dtype!(x.dtype(), T => {
            let v = x.contiguous()?.to_vec::<T>()?;
            let row = |r: usize| &v[r * width..(r + 1) * width];
            let cmp_rows = |a: &usize, b: &usize| {
                row(*a).iter().zip(row(*b)).map(|(p, q)| nan_last(p, q)).find(|o| *o != Ordering::Equal).unwrap_or(Ordering::Equal)
            };
            let mut order: Vec<usize> = (0..rows).collect();
            order.sort_by(cmp_rows);
            // NaN never equals itself, so every NaN stays its own entry (as in PyTorch).
            #[allow(clippy::eq_op)]
            let same = |a: usize, b: usize| row(a).iter().zip(row(b)).all(|(p, q)| p == q);
            let mut out: Vec<T> = Vec::new();
            let mut inverse = vec![0i64; rows];
            let mut counts: Vec<i64> = Vec::new();
            let mut last: Option<usize> = None;
            for &r in &order {
                if last.is_none_or(|l| !same(l, r)) {
                    out.extend_from_slice(row(r));
                    counts.push(0);
                    last = Some(r);
                }
                *counts.last_mut().expect("pushed above") += 1;
                inverse[r] = counts.len() as i64 - 1;
            }
            let mut shape: Dims = x.shape().into();
            shape[0] = counts.len();
            let n = counts.len();
            (Tensor::from_vec(out, &shape)?, Tensor::from_vec(inverse, &[rows])?, Tensor::from_vec(counts, &[n])?)
        });
        let values = match dim {
            Some(_) => values.movedim_from_first(d)?.contiguous()?,
            None => values,
        };
        let inverse = if dim.is_none() {
            inverse.reshape_to(self.shape())?
        } else {
            inverse
        };
        Ok((values, inverse, counts))
    }

    /// `dim` moved to the front (a permuted view).
    fn movedim_first(&self, dim: usize) -> Result<Tensor> {
        let mut perm: Vec<isize> = vec![dim as isize];
        perm.extend((0..self.ndim() as isize).filter(|&d| d != dim as isize));
        self.permute(&perm)
    }

    /// The inverse of [`Tensor::movedim_first`].
    fn movedim_from_first(&self, dim: usize) -> Result<Tensor> {
        let nd = self.ndim();
        let mut perm: Vec<isize> = (1..nd as isize).collect();
        perm.insert(dim, 0);
        self.permute(&perm)
    }
}
