//! Reductions: sum, mean, prod, max/min (whole or along a dim, with indices), amax/amin,
//! argmax/argmin, all/any/count_nonzero, var/std, logsumexp, vector norms, and `sum_to_shape`,
//! which undoes broadcasting in backward rules.

use super::{grads, record, will_record};
use crate::autograd::saved::SavedTensor;
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
                    let v = reduce(
                        f32::slice(&buf),
                        self.layout(),
                        &red,
                        0f64,
                        |a, x| a + x as f64,
                        |a, b| a + b,
                    );
                    Tensor::from_buffer_vec(v.into_iter().map(|x| x as f32).collect(), &shape)
                }
                DType::F64 => Tensor::from_buffer_vec(
                    reduce(
                        f64::slice(&buf),
                        self.layout(),
                        &red,
                        0f64,
                        |a, x| a + x,
                        |a, b| a + b,
                    ),
                    &shape,
                ),
                DType::I64 => Tensor::from_buffer_vec(
                    reduce(
                        i64::slice(&buf),
                        self.layout(),
                        &red,
                        0i64,
                        |a, x| a.wrapping_add(x),
                        |a, b| a.wrapping_add(b),
                    ),
                    &shape,
                ),
                DType::Bool => Tensor::from_buffer_vec(
                    reduce(
                        bool::slice(&buf),
                        self.layout(),
                        &red,
                        0i64,
                        |a, x| a + x as i64,
                        |a, b| a + b,
                    ),
                    &shape,
                ),
            }
        };
        let in_shape = self.shape().to_vec();
        record(out, "SumBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                Ok(grads([Some(expand_back(g, &in_shape, &red, keepdim)?)]))
            })
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
                format!(
                    "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: {}",
                    self.dtype()
                ),
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
            return Err(Error::shape(
                "sum_to_size",
                format!("{:?} is not expandable to {:?}", shape, self.shape()),
            ));
        }
        let lead = nd - shape.len();
        let mut dims: Vec<isize> = (0..lead as isize).collect();
        for (i, &n) in shape.iter().enumerate() {
            let have = self.shape()[lead + i];
            if n == 1 && have != 1 {
                dims.push((lead + i) as isize);
            } else if n != have {
                return Err(Error::shape(
                    "sum_to_size",
                    format!("{:?} is not expandable to {:?}", shape, self.shape()),
                ));
            }
        }
        let s = self.sum_dims(Some(&dims), true)?;
        s.reshape_to(shape)
    }

    /// Largest (`largest = true`) or smallest element along `dim`, with its index (the first
    /// one on ties; NaN counts as the extreme, as in PyTorch).
    pub fn max_min_dim(
        &self,
        dim: isize,
        keepdim: bool,
        largest: bool,
    ) -> Result<(Tensor, Tensor)> {
        self.max_min_dim_op(if largest { "max" } else { "min" }, dim, keepdim, largest)
    }

    // One body for every dtype: `x != x` is the NaN test for floats (always false for the
    // others), and bool's order is false < true.
    #[allow(clippy::eq_op, clippy::bool_comparison)]
    fn max_min_dim_op(
        &self,
        op: &'static str,
        dim: isize,
        keepdim: bool,
        largest: bool,
    ) -> Result<(Tensor, Tensor)> {
        let d = normalize_dim(op, dim, self.ndim())?;
        let red = if self.ndim() == 0 { vec![] } else { vec![d] };
        // An empty reduced dim has no extreme; other empty tensors give empty results.
        check_nonempty(op, self.shape(), &red)?;
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
        let node = if largest {
            "MaxBackward"
        } else {
            "MinBackward"
        };
        let values = record(values, node, &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                Ok(grads([Some(scatter_along(
                    g, &idx, &in_shape, d, keepdim,
                )?)]))
            })
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
            return Err(Error::invalid(
                op,
                format!(
                    "{op}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument."
                ),
            ));
        }
        let flat = self.reshape(&[-1])?;
        let (v, _) = flat.detach().max_min_dim(0, false, largest)?;
        let saved = crate::autograd::saved::SavedTensor::new(self);
        let value = v.clone();
        record(
            v,
            if largest {
                "MaxBackward"
            } else {
                "MinBackward"
            },
            &[self],
            move |_| {
                let saved = saved?;
                Ok(move |g: &Tensor, _: &[bool]| {
                    let x = saved.get()?;
                    let hits = x.eq(&value)?.to_dtype(g.dtype())?;
                    let count = hits.sum()?;
                    Ok(grads([Some(hits.mul(&g.div(&count)?)?)]))
                })
            },
        )
    }

    /// Index of the largest element along `dim` (of the flattened tensor when `None`).
    pub fn argmax(&self, dim: Option<isize>, keepdim: bool) -> Result<Tensor> {
        self.arg_extreme(dim, keepdim, true)
    }

    pub fn argmin(&self, dim: Option<isize>, keepdim: bool) -> Result<Tensor> {
        self.arg_extreme(dim, keepdim, false)
    }

    fn arg_extreme(&self, dim: Option<isize>, keepdim: bool, largest: bool) -> Result<Tensor> {
        let op = if largest { "argmax" } else { "argmin" };
        let t = self.detach();
        match dim {
            Some(d) => Ok(t.max_min_dim_op(op, d, keepdim, largest)?.1),
            None => {
                if self.numel() == 0 {
                    return Err(Error::invalid(
                        op,
                        format!(
                            "{op}(): Expected reduction dim to be specified for input.numel() == 0."
                        ),
                    ));
                }
                let (_, i) = t.reshape(&[-1])?.max_min_dim_op(op, 0, false, largest)?;
                if keepdim {
                    i.reshape(&vec![1; self.ndim()])
                } else {
                    Ok(i)
                }
            }
        }
    }
}

/// Zeros of `shape` with `g` placed at `indices` along `dim` (the backward of max/min(dim)).
fn scatter_along(
    g: &Tensor,
    indices: &Tensor,
    shape: &[usize],
    dim: usize,
    keepdim: bool,
) -> Result<Tensor> {
    let (g, idx) = if keepdim || shape.is_empty() {
        (g.contiguous()?, indices.contiguous()?)
    } else {
        (
            g.unsqueeze(dim as isize)?.contiguous()?,
            indices.unsqueeze(dim as isize)?.contiguous()?,
        )
    };
    let n = if shape.is_empty() { 1 } else { shape[dim] };
    let inner: usize = if shape.is_empty() {
        1
    } else {
        shape[dim + 1..].iter().product()
    };
    let outer: usize = if shape.is_empty() {
        1
    } else {
        shape[..dim].iter().product()
    };
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

/// Reduced dims of size zero have no extreme (PyTorch raises the same way).
fn check_nonempty(op: &'static str, shape: &[usize], red: &[usize]) -> Result<()> {
    for &d in red {
        if shape[d] == 0 {
            return Err(Error::Index {
                op,
                msg: format!(
                    "{op}(): Expected reduction dim {d} to have non-zero size (input shape {shape:?})"
                ),
            });
        }
    }
    Ok(())
}

fn as_isize(dims: &[usize]) -> Vec<isize> {
    dims.iter().map(|&d| d as isize).collect()
}

/// The better of `a` (so far) and `x`; a NaN wins and then stays, as in PyTorch.
#[inline(always)]
fn pick<T: PartialOrd + Copy>(a: Option<T>, x: T, largest: bool) -> Option<T> {
    #[allow(clippy::eq_op)]
    match a {
        None => Some(x),
        Some(a) if a != a => Some(a),
        Some(_) if x != x => Some(x),
        Some(a) => Some(if (largest && x > a) || (!largest && x < a) {
            x
        } else {
            a
        }),
    }
}

impl Tensor {
    /// Product over `dim` (of every element when `None`). Int and bool tensors give int64.
    pub fn prod_dim(&self, dim: Option<isize>, keepdim: bool) -> Result<Tensor> {
        let (x, d, keepdim) = match dim {
            None => (self.reshape(&[-1])?, 0, false),
            Some(d) => (
                self.clone(),
                normalize_dim("prod", d, self.ndim())?,
                keepdim,
            ),
        };
        let red = if x.ndim() == 0 { vec![] } else { vec![d] };
        let shape = reduced_shape(x.shape(), &red, keepdim);
        let out = {
            let buf = x.storage().read();
            let l = x.layout();
            match x.dtype() {
                DType::F32 => {
                    let v = reduce(
                        f32::slice(&buf),
                        l,
                        &red,
                        1f64,
                        |a, x| a * x as f64,
                        |a, b| a * b,
                    );
                    Tensor::from_buffer_vec(v.into_iter().map(|x| x as f32).collect(), &shape)
                }
                DType::F64 => Tensor::from_buffer_vec(
                    reduce(f64::slice(&buf), l, &red, 1f64, |a, x| a * x, |a, b| a * b),
                    &shape,
                ),
                DType::I64 => Tensor::from_buffer_vec(
                    reduce(
                        i64::slice(&buf),
                        l,
                        &red,
                        1i64,
                        |a, x| a.wrapping_mul(x),
                        |a, b| a.wrapping_mul(b),
                    ),
                    &shape,
                ),
                DType::Bool => Tensor::from_buffer_vec(
                    reduce(
                        bool::slice(&buf),
                        l,
                        &red,
                        1i64,
                        |a, x| a * x as i64,
                        |a, b| a * b,
                    ),
                    &shape,
                ),
            }
        };
        if !x.dtype().is_float() {
            return Ok(out);
        }
        let saved = if will_record(&[&x]) {
            Some(SavedTensor::new(&x)?)
        } else {
            None
        };
        record(out, "ProdBackward", &[&x], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                let x = saved.as_ref().expect("saved when recording").get()?;
                let g = expand_back(g, x.shape(), &red, keepdim)?;
                if x.ndim() == 0 {
                    return Ok(grads([Some(g)]));
                }
                // d prod / d x_i is the product of the other elements: prefix * suffix products,
                // exact when some x_j are zero (no division).
                Ok(grads([Some(exclusive_prod(&x, d)?.mul(&g)?)]))
            })
        })
    }

    /// Largest element over `dims` (all when `None`); ties share the gradient evenly.
    pub fn amax(&self, dims: Option<&[isize]>, keepdim: bool) -> Result<Tensor> {
        self.extreme_dims("amax", dims, keepdim, true)
    }

    /// Smallest element over `dims` (all when `None`); ties share the gradient evenly.
    pub fn amin(&self, dims: Option<&[isize]>, keepdim: bool) -> Result<Tensor> {
        self.extreme_dims("amin", dims, keepdim, false)
    }

    fn extreme_dims(
        &self,
        op: &'static str,
        dims: Option<&[isize]>,
        keepdim: bool,
        largest: bool,
    ) -> Result<Tensor> {
        let red = normalize_dims(op, dims, self.ndim())?;
        check_nonempty(op, self.shape(), &red)?;
        let shape = reduced_shape(self.shape(), &red, keepdim);
        let out = with_dtype!(self.dtype(), T => {
            let buf = self.storage().read();
            let v: Vec<Option<T>> = reduce(
                T::slice(&buf),
                self.layout(),
                &red,
                None,
                |a, x| pick(a, x, largest),
                |a, b| match b { None => a, Some(b) => pick(a, b, largest) },
            );
            Tensor::from_buffer_vec(v.into_iter().map(|o| o.unwrap_or_default()).collect::<Vec<T>>(), &shape)
        });
        if !self.dtype().is_float() || !will_record(&[self]) {
            return Ok(out);
        }
        let saved_x = SavedTensor::new(self)?;
        let saved_out = SavedTensor::new(&out)?;
        record(
            out,
            if largest {
                "AmaxBackward"
            } else {
                "AminBackward"
            },
            &[self],
            move |_| {
                Ok(move |g: &Tensor, _: &[bool]| {
                    let x = saved_x.get()?;
                    let y = expand_back(&saved_out.get()?, x.shape(), &red, keepdim)?;
                    let hits = x.eq(&y)?.to_dtype(g.dtype())?;
                    let count = hits.sum_dims(Some(&as_isize(&red)), true)?;
                    let mut gk = g.clone();
                    if !keepdim {
                        for &d in &red {
                            gk = gk.unsqueeze(d as isize)?;
                        }
                    }
                    Ok(grads([Some(hits.mul(&gk.div(&count)?)?)]))
                })
            },
        )
    }

    /// Whether every element over `dims` is non-zero (a bool tensor).
    pub fn all_dims(&self, dims: Option<&[isize]>, keepdim: bool) -> Result<Tensor> {
        let red = normalize_dims("all", dims, self.ndim())?;
        let shape = reduced_shape(self.shape(), &red, keepdim);
        Ok(with_dtype!(self.dtype(), T => {
            let buf = self.storage().read();
            Tensor::from_buffer_vec(reduce(T::slice(&buf), self.layout(), &red, true, |a, x| a && x != T::ZERO, |a, b| a && b), &shape)
        }))
    }

    /// Whether any element over `dims` is non-zero (a bool tensor).
    pub fn any_dims(&self, dims: Option<&[isize]>, keepdim: bool) -> Result<Tensor> {
        let red = normalize_dims("any", dims, self.ndim())?;
        let shape = reduced_shape(self.shape(), &red, keepdim);
        Ok(with_dtype!(self.dtype(), T => {
            let buf = self.storage().read();
            Tensor::from_buffer_vec(reduce(T::slice(&buf), self.layout(), &red, false, |a, x| a || x != T::ZERO, |a, b| a || b), &shape)
        }))
    }

    /// How many elements over `dims` are non-zero (int64).
    pub fn count_nonzero(&self, dims: Option<&[isize]>) -> Result<Tensor> {
        let red = normalize_dims("count_nonzero", dims, self.ndim())?;
        let shape = reduced_shape(self.shape(), &red, false);
        Ok(with_dtype!(self.dtype(), T => {
            let buf = self.storage().read();
            Tensor::from_buffer_vec(reduce(T::slice(&buf), self.layout(), &red, 0i64, |a, x| a + (x != T::ZERO) as i64, |a, b| a + b), &shape)
        }))
    }

    /// Variance and mean over `dims` with `correction` (1 = Bessel's, the default in PyTorch).
    /// With `n - correction <= 0` the variance is inf or NaN, as in PyTorch.
    pub fn var_mean(
        &self,
        dims: Option<&[isize]>,
        correction: f64,
        keepdim: bool,
    ) -> Result<(Tensor, Tensor)> {
        if !self.dtype().is_float() {
            return Err(Error::dtype(
                "var",
                format!(
                    "std and var only support floating point dtypes, got {}",
                    self.dtype()
                ),
            ));
        }
        let red = normalize_dims("var", dims, self.ndim())?;
        let n: usize = red.iter().map(|&d| self.shape()[d]).product();
        let mean = self.mean_dims(dims, true)?;
        // Two passes (mean, then squared deviations): no cancellation for data far from zero.
        let dev = self.sub(&mean)?;
        let var = dev
            .mul(&dev)?
            .sum_dims(dims, keepdim)?
            .div_scalar((n as f64 - correction).max(0.0))?;
        let mean = if keepdim {
            mean
        } else {
            mean.squeeze_dims(&as_isize(&red))?
        };
        Ok((var, mean))
    }

    pub fn var_dims(
        &self,
        dims: Option<&[isize]>,
        correction: f64,
        keepdim: bool,
    ) -> Result<Tensor> {
        Ok(self.var_mean(dims, correction, keepdim)?.0)
    }

    pub fn std_mean(
        &self,
        dims: Option<&[isize]>,
        correction: f64,
        keepdim: bool,
    ) -> Result<(Tensor, Tensor)> {
        let (v, m) = self.var_mean(dims, correction, keepdim)?;
        Ok((v.sqrt()?, m))
    }

    pub fn std_dims(
        &self,
        dims: Option<&[isize]>,
        correction: f64,
        keepdim: bool,
    ) -> Result<Tensor> {
        self.var_dims(dims, correction, keepdim)?.sqrt()
    }

    /// log(sum(exp(x))) over `dims`, computed as m + log(sum(exp(x - m))) with m the (detached)
    /// maximum, so it stays finite for large inputs in float32 and float64.
    pub fn logsumexp(&self, dims: Option<&[isize]>, keepdim: bool) -> Result<Tensor> {
        let x = super::unary::as_float(self)?;
        let red = normalize_dims("logsumexp", dims, x.ndim())?;
        if red.iter().any(|&d| x.shape()[d] == 0) {
            return x.exp()?.sum_dims(dims, keepdim)?.log();
        }
        let m = x.detach().amax(dims, true)?;
        // An infinite maximum would turn x - m into NaN (inf - inf); shift by 0 instead.
        let m = m.where_mask(&m.abs()?.eq_scalar(f64::INFINITY)?, 0.0)?;
        let s = x.sub(&m)?.exp()?.sum_dims(dims, keepdim)?.log()?;
        let m = if keepdim {
            m
        } else {
            m.squeeze_dims(&as_isize(&red))?
        };
        s.add(&m)
    }

    /// The vector p-norm over `dims` (all when `None`): p = 2 (also the Frobenius norm), 1,
    /// inf, -inf, 0 (count of non-zeros) or any other real p.
    pub fn norm(&self, p: f64, dims: Option<&[isize]>, keepdim: bool) -> Result<Tensor> {
        if !self.dtype().is_float() {
            return Err(Error::dtype(
                "norm",
                format!(
                    "norm(): input dtype should be floating point, but got {}",
                    self.dtype()
                ),
            ));
        }
        let red = normalize_dims("norm", dims, self.ndim())?;
        if p == 2.0 {
            return self.norm2(red, keepdim);
        }
        if p == 1.0 {
            return self.abs()?.sum_dims(dims, keepdim);
        }
        if p.is_infinite() && red.iter().any(|&d| self.shape()[d] == 0) {
            return Err(Error::Index {
                op: "norm",
                msg: format!(
                    "cannot compute the {p} norm over an empty dim (input shape {:?}): the operation has no identity",
                    self.shape()
                ),
            });
        }
        if p == f64::INFINITY {
            return self.abs()?.amax(dims, keepdim);
        }
        if p == f64::NEG_INFINITY {
            return self.abs()?.amin(dims, keepdim);
        }
        if p == 0.0 {
            // Piecewise constant: the gradient is zero everywhere, so keep the graph through x * 0.
            let count = self
                .detach()
                .ne_scalar(0.0)?
                .to_dtype(self.dtype())?
                .sum_dims(dims, keepdim)?;
            return count.add(&self.mul_scalar(0.0)?.sum_dims(dims, keepdim)?);
        }
        if p.is_nan() {
            return Err(Error::invalid("norm", "p must not be NaN"));
        }
        self.abs()?
            .pow_scalar(p)?
            .sum_dims(dims, keepdim)?
            .pow_scalar(1.0 / p)
    }

    /// sqrt(sum(x^2)) with the subgradient 0 at x = 0 (PyTorch's choice) instead of NaN.
    fn norm2(&self, red: Vec<usize>, keepdim: bool) -> Result<Tensor> {
        let x = self.detach();
        let dims = as_isize(&red);
        let out = x.mul(&x)?.sum_dims(Some(&dims), keepdim)?.sqrt()?;
        if !will_record(&[self]) {
            return Ok(out);
        }
        let saved_x = SavedTensor::new(self)?;
        let saved_out = SavedTensor::new(&out)?;
        record(out, "NormBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                let (x, n) = (saved_x.get()?, saved_out.get()?);
                let ratio = g.div(&n)?.where_mask(&n.eq_scalar(0.0)?, 0.0)?;
                Ok(grads([Some(x.mul(&expand_back(
                    &ratio,
                    x.shape(),
                    &red,
                    keepdim,
                )?)?)]))
            })
        })
    }
}

/// For every element, the product of the other elements of its lane along `dim`.
fn exclusive_prod(x: &Tensor, dim: usize) -> Result<Tensor> {
    let n = x.shape()[dim];
    with_float!(x.dtype(), T => {
        let buf = x.storage().read();
        let v = crate::kernels::lanes::map_lanes_to(T::slice(&buf), x.layout(), dim, n, |lane, dst: &mut [T]| {
            let mut acc = T::ONE;
            for (i, d) in dst.iter_mut().enumerate() {
                *d = acc;
                acc *= lane.get(i);
            }
            acc = T::ONE;
            for i in (0..n).rev() {
                dst[i] *= acc;
                acc *= lane.get(i);
            }
        });
        Ok(Tensor::from_buffer_vec(v, x.shape()))
    }, _ => Err(Error::dtype("prod", "gradients need a floating point input")))
}

/// Zeros of `shape` plus `g` added at `indices` along `dim` (`g` and `indices` have `shape`
/// with `dim` resized): the backward of sort, topk, median and max/min along a dim.
pub(crate) fn scatter_add_dim(
    g: &Tensor,
    indices: &Tensor,
    shape: &[usize],
    dim: usize,
) -> Result<Tensor> {
    if shape.is_empty() {
        return g.reshape_to(&[]);
    }
    let (g, idx) = (g.contiguous()?, indices.contiguous()?);
    let n = shape[dim];
    let k = g.shape()[dim];
    let inner: usize = shape[dim + 1..].iter().product();
    let outer: usize = shape[..dim].iter().product();
    with_float!(g.dtype(), T => {
        let gv = g.to_vec::<T>()?;
        let iv = idx.to_vec::<i64>()?;
        let mut out = vec![T::ZERO; outer * n * inner];
        for o in 0..outer {
            for j in 0..k {
                for i in 0..inner {
                    let src = (o * k + j) * inner + i;
                    let at = (o * n + iv[src] as usize) * inner + i;
                    out[at] += gv[src];
                }
            }
        }
        Tensor::from_vec(out, shape)
    }, _ => Err(Error::dtype("backward", "gradients must be floating point")))
}
