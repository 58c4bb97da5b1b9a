//! Reductions: sum, mean, max/min (whole or along a dim, with indices), argmax/argmin, and
//! `sum_to_shape`, which undoes broadcasting in backward rules.

use super::{grads, record};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::kernels::reduce::{map_lanes, reduce};
use crate::shape::{Dims, normalize_dim, normalize_dims};
use crate::tensor::Tensor;
use crate::{with_dtype, with_float};

fn reduced_shape(shape: &[usize], dims: &[usize], keepdim: bool) -> Dims {
    let mut out = Dims::new();
    for (d, &n) in shape.iter().enumerate() {
        if dims.contains(&d) {
            if keepdim {
                out.push(1);
            }
        } else {
            out.push(n);
        }
    }
    out
}

/// `g` (the gradient of a reduction) broadcast back to `shape`.
fn expand_back(g: &Tensor, shape: &[usize], dims: &[usize], keepdim: bool) -> Result<Tensor> {
    let mut g = g.clone();
    if !keepdim {
        for &d in dims {
            g = g.unsqueeze(d as isize)?;
        }
    }
    g.expand_to(shape)
}

impl Tensor {
    /// Sum over `dims` (all when `None`). Int and bool tensors sum to int64.
    pub fn sum_dims(&self, dims: Option<&[isize]>, keepdim: bool) -> Result<Tensor> {
        let red = normalize_dims("sum", dims, self.ndim())?;
        let shape = reduced_shape(self.shape(), &red, keepdim);
        let out = {
            let buf = self.storage().read();
            match self.dtype() {
                DType::F32 => {
                    // Accumulate float32 in f64: sums of millions of elements stay accurate.
                    let v = reduce(f32::slice(&buf), self.layout(), &red, 0f64, |a, x| a + x as f64, |a, b| a + b);
                    Tensor::from_buffer_vec(v.into_iter().map(|x| x as f32).collect(), &shape)
                }
                DType::F64 => Tensor::from_buffer_vec(reduce(f64::slice(&buf), self.layout(), &red, 0f64, |a, x| a + x, |a, b| a + b), &shape),
                DType::I64 => Tensor::from_buffer_vec(reduce(i64::slice(&buf), self.layout(), &red, 0i64, |a, x| a.wrapping_add(x), |a, b| a.wrapping_add(b)), &shape),
                DType::Bool => Tensor::from_buffer_vec(reduce(bool::slice(&buf), self.layout(), &red, 0i64, |a, x| a + x as i64, |a, b| a + b), &shape),
            }
        };
        let in_shape = self.shape().to_vec();
        record(out, "SumBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(expand_back(g, &in_shape, &red, keepdim)?)])))
        })
    }

    /// Sum of every element (a 0-d tensor).
    pub fn sum(&self) -> Result<Tensor> {
        self.sum_dims(None, false)
    }

    /// Mean over `dims` (all when `None`); float tensors only, as in PyTorch.
    pub fn mean_dims(&self, dims: Option<&[isize]>, keepdim: bool) -> Result<Tensor> {
        if !self.dtype().is_float() {
            return Err(Error::dtype(
                "mean",
                format!("mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: {}", self.dtype()),
            ));
        }
        let red = normalize_dims("mean", dims, self.ndim())?;
        let count: usize = red.iter().map(|&d| self.shape()[d]).product();
        self.sum_dims(dims, keepdim)?.div_scalar(count as f64)
    }

    pub fn mean(&self) -> Result<Tensor> {
        self.mean_dims(None, false)
    }

    /// Sums `self` (a broadcast result) down to `shape`, which must broadcast to self's shape.
    pub fn sum_to_shape(&self, shape: &[usize]) -> Result<Tensor> {
        if self.shape() == shape {
            return Ok(self.clone());
        }
        let nd = self.ndim();
        if shape.len() > nd {
            return Err(Error::shape("sum_to_size", format!("{:?} is not expandable to {:?}", shape, self.shape())));
        }
        let lead = nd - shape.len();
        let mut dims: Vec<isize> = (0..lead as isize).collect();
        for (i, &n) in shape.iter().enumerate() {
            let have = self.shape()[lead + i];
            if n == 1 && have != 1 {
                dims.push((lead + i) as isize);
            } else if n != have {
                return Err(Error::shape("sum_to_size", format!("{:?} is not expandable to {:?}", shape, self.shape())));
            }
        }
        let s = self.sum_dims(Some(&dims), true)?;
        s.reshape_to(shape)
    }

    /// Largest (`largest = true`) or smallest element along `dim`, with its index (the first
    /// one on ties; NaN counts as the extreme, as in PyTorch).
    pub fn max_min_dim(&self, dim: isize, keepdim: bool, largest: bool) -> Result<(Tensor, Tensor)> {
        let op = if largest { "max" } else { "min" };
        if self.numel() == 0 {
            return Err(Error::invalid(op, "cannot reduce an empty tensor along a dim"));
        }
        let d = normalize_dim(op, dim, self.ndim())?;
        let red = if self.ndim() == 0 { vec![] } else { vec![d] };
        let shape = reduced_shape(self.shape(), &red, keepdim);
        let (values, indices) = with_dtype!(self.dtype(), T => {
            let buf = self.storage().read();
            let data = T::slice(&buf);
            let layout = if self.ndim() == 0 { crate::shape::Layout { shape: smallvec::smallvec![1], strides: smallvec::smallvec![1], offset: self.storage_offset() } } else { self.layout().clone() };
            let pairs: Vec<(T, i64)> = map_lanes(data, &layout, if self.ndim() == 0 { 0 } else { d }, |lane| {
                let mut best = lane.get(0);
                let mut at = 0usize;
                for i in 1..lane.len {
                    let x = lane.get(i);
                    if best != best { break; } // NaN already wins
                    let better = if x != x { true } else if largest { x > best } else { x < best };
                    if better { best = x; at = i; }
                }
                (best, at as i64)
            });
            let (v, i): (Vec<T>, Vec<i64>) = pairs.into_iter().unzip();
            (Tensor::from_buffer_vec(v, &shape), Tensor::from_buffer_vec(i, &shape))
        });
        let in_shape = self.shape().to_vec();
        let idx = indices.clone();
        let node = if largest { "MaxBackward" } else { "MinBackward" };
        let values = record(values, node, &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(scatter_along(g, &idx, &in_shape, d, keepdim)?)])))
        })?;
        Ok((values, indices))
    }

    /// Largest element of the whole tensor; on ties the gradient is shared evenly.
    pub fn max_all(&self) -> Result<Tensor> {
        self.extreme_all(true)
    }

    pub fn min_all(&self) -> Result<Tensor> {
        self.extreme_all(false)
    }

    fn extreme_all(&self, largest: bool) -> Result<Tensor> {
        let op = if largest { "max" } else { "min" };
        if self.numel() == 0 {
            return Err(Error::invalid(op, format!("{op}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.")));
        }
        let flat = self.reshape(&[-1])?;
        let (v, _) = flat.detach().max_min_dim(0, false, largest)?;
        let saved = crate::autograd::saved::SavedTensor::new(self);
        let value = v.clone();
        record(v, if largest { "MaxBackward" } else { "MinBackward" }, &[self], move |_| {
            let saved = saved?;
            Ok(move |g: &Tensor, _: &[bool]| {
                let x = saved.get()?;
                let hits = x.eq(&value)?.to_dtype(g.dtype())?;
                let count = hits.sum()?;
                Ok(grads([Some(hits.mul(&g.div(&count)?)?)]))
            })
        })
    }

    /// Index of the largest element along `dim` (of the flattened tensor when `None`).
    pub fn argmax(&self, dim: Option<isize>, keepdim: bool) -> Result<Tensor> {
        self.arg_extreme(dim, keepdim, true)
    }

    pub fn argmin(&self, dim: Option<isize>, keepdim: bool) -> Result<Tensor> {
        self.arg_extreme(dim, keepdim, false)
    }

    fn arg_extreme(&self, dim: Option<isize>, keepdim: bool, largest: bool) -> Result<Tensor> {
        let t = self.detach();
        match dim {
            Some(d) => Ok(t.max_min_dim(d, keepdim, largest)?.1),
            None => {
                let (_, i) = t.reshape(&[-1])?.max_min_dim(0, false, largest)?;
                if keepdim { i.reshape(&vec![1; self.ndim()]) } else { Ok(i) }
            }
        }
    }
}

/// Zeros of `shape` with `g` placed at `indices` along `dim` (the backward of max/min(dim)).
fn scatter_along(g: &Tensor, indices: &Tensor, shape: &[usize], dim: usize, keepdim: bool) -> Result<Tensor> {
    let (g, idx) = if keepdim || shape.is_empty() {
        (g.contiguous()?, indices.contiguous()?)
    } else {
        (g.unsqueeze(dim as isize)?.contiguous()?, indices.unsqueeze(dim as isize)?.contiguous()?)
    };
    let n = if shape.is_empty() { 1 } else { shape[dim] };
    let inner: usize = if shape.is_empty() { 1 } else { shape[dim + 1..].iter().product() };
    let outer: usize = if shape.is_empty() { 1 } else { shape[..dim].iter().product() };
    with_float!(g.dtype(), T => {
        let gv = g.to_vec::<T>()?;
        let iv = idx.to_vec::<i64>()?;
        let mut out = vec![T::ZERO; outer * n * inner];
        for o in 0..outer {
            for i in 0..inner {
                let k = o * inner + i;
                out[(o * n + iv[k] as usize) * inner + i] = gv[k];
            }
        }
        Tensor::from_vec(out, shape)
    }, _ => Err(Error::dtype("backward", "gradients must be floating point")))
}
