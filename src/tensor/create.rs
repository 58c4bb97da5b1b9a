//! Making tensors: from data, filled, ranges and random.

use super::Tensor;
use crate::dtype::{DType, Element, Scalar};
use crate::error::{Error, Result};
use crate::random::with_rng;
use crate::{with_dtype, with_float};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

fn checked_numel(op: &'static str, shape: &[usize]) -> Result<usize> {
    let n = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n.checked_mul(8).is_some())
        .ok_or_else(|| Error::invalid(op, format!("shape {shape:?} has too many elements")))?;
    // Every dtype takes at most 8 bytes per element.
    crate::memory::check_can_allocate(op, n * 8)?;
    Ok(n)
}

impl Tensor {
    /// A tensor owning `data` with `shape` (row-major).
    pub fn from_vec<T: Element>(data: Vec<T>, shape: &[usize]) -> Result<Tensor> {
        let n = checked_numel("tensor", shape)?;
        if n != data.len() {
            return Err(Error::shape(
                "tensor",
                format!(
                    "{} elements cannot fill a tensor of shape {shape:?} ({n} elements)",
                    data.len()
                ),
            ));
        }
        Ok(Tensor::from_buffer_vec(data, shape))
    }

    /// A tensor from a slice of elements.
    pub fn from_slice<T: Element>(data: &[T], shape: &[usize]) -> Result<Tensor> {
        Tensor::from_vec(data.to_vec(), shape)
    }

    /// A 0-d tensor.
    pub fn scalar<T: Element>(v: T) -> Tensor {
        Tensor::from_buffer_vec(vec![v], &[])
    }

    /// A 0-d tensor holding `v` in `dtype`.
    pub fn scalar_of(v: Scalar, dtype: DType) -> Tensor {
        with_dtype!(dtype, T => Tensor::scalar(match v {
            Scalar::Bool(b) => T::from_f64(b as u8 as f64),
            Scalar::Int(i) => T::from_f64(i as f64),
            Scalar::Float(f) => T::from_f64(f),
        }))
    }

    pub fn full(shape: &[usize], value: impl Into<Scalar>, dtype: DType) -> Result<Tensor> {
        let n = checked_numel("full", shape)?;
        let v = value.into();
        Ok(with_dtype!(dtype, T => {
            let x: T = match v {
                Scalar::Bool(b) => T::from_f64(b as u8 as f64),
                Scalar::Int(i) => T::from_f64(i as f64),
                Scalar::Float(f) => T::from_f64(f),
            };
            Tensor::from_buffer_vec(vec![x; n], shape)
        }))
    }

    pub fn zeros(shape: &[usize], dtype: DType) -> Result<Tensor> {
        Tensor::full(shape, Scalar::Int(0), dtype)
    }

    pub fn ones(shape: &[usize], dtype: DType) -> Result<Tensor> {
        Tensor::full(shape, Scalar::Int(1), dtype)
    }

    pub fn zeros_like(&self) -> Result<Tensor> {
        Tensor::zeros(self.shape(), self.dtype())
    }

    pub fn ones_like(&self) -> Result<Tensor> {
        Tensor::ones(self.shape(), self.dtype())
    }

    pub fn full_like(&self, value: impl Into<Scalar>) -> Result<Tensor> {
        Tensor::full(self.shape(), value, self.dtype())
    }

    /// `start, start+step, ...` below `end` (above it for a negative step).
    pub fn arange(start: f64, end: f64, step: f64, dtype: DType) -> Result<Tensor> {
        if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
            return Err(Error::invalid(
                "arange",
                format!("invalid range: start={start}, end={end}, step={step}"),
            ));
        }
        if (end - start) * step < 0.0 {
            return Err(Error::invalid(
                "arange",
                format!(
                    "upper bound and larger bound inconsistent with step sign (start={start}, end={end}, step={step})"
                ),
            ));
        }
        let n = ((end - start) / step).ceil().max(0.0) as usize;
        checked_numel("arange", &[n])?;
        Ok(with_dtype!(dtype, T => {
            let v: Vec<T> = (0..n).map(|i| T::from_f64(start + i as f64 * step)).collect();
            Tensor::from_buffer_vec(v, &[n])
        }))
    }

    /// `steps` evenly spaced values from `start` to `end` inclusive.
    pub fn linspace(start: f64, end: f64, steps: usize, dtype: DType) -> Result<Tensor> {
        checked_numel("linspace", &[steps])?;
        let step = if steps > 1 {
            (end - start) / (steps - 1) as f64
        } else {
            0.0
        };
        let half = steps / 2;
        Ok(with_dtype!(dtype, T => {
            // Fill from both ends so the last value is exactly `end`, as PyTorch does.
            let v: Vec<T> = (0..steps)
                .map(|i| T::from_f64(if steps == 1 {
                    start
                } else if i < half { start + step * i as f64 } else { end - step * (steps - 1 - i) as f64 }))
                .collect();
            Tensor::from_buffer_vec(v, &[steps])
        }))
    }

    /// Uniform samples in `[0, 1)`.
    pub fn rand(shape: &[usize], dtype: DType) -> Result<Tensor> {
        let n = checked_numel("rand", shape)?;
        with_float!(dtype, T => {
            let v: Vec<T> = with_rng(|r| (0..n).map(|_| r.random::<T>()).collect());
            Ok(Tensor::from_buffer_vec(v, shape))
        }, _ => Err(Error::dtype("rand", format!("rand is only defined for floating point dtypes, got {dtype}"))))
    }

    /// Standard normal samples.
    pub fn randn(shape: &[usize], dtype: DType) -> Result<Tensor> {
        let n = checked_numel("randn", shape)?;
        with_float!(dtype, T => {
            let v: Vec<T> = with_rng(|r| (0..n).map(|_| StandardNormal.sample(r)).collect());
            Ok(Tensor::from_buffer_vec(v, shape))
        }, _ => Err(Error::dtype("randn", format!("randn is only defined for floating point dtypes, got {dtype}"))))
    }

    /// Integers uniform in `[low, high)`.
    pub fn randint(low: i64, high: i64, shape: &[usize], dtype: DType) -> Result<Tensor> {
        if high <= low {
            return Err(Error::invalid(
                "randint",
                format!(
                    "random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
                ),
            ));
        }
        let n = checked_numel("randint", shape)?;
        let v: Vec<i64> = with_rng(|r| (0..n).map(|_| r.random_range(low..high)).collect());
        Tensor::from_buffer_vec(v, shape).to_dtype(dtype)
    }

    /// The n x m identity matrix.
    pub fn eye(n: usize, m: usize, dtype: DType) -> Result<Tensor> {
        let total = checked_numel("eye", &[n, m])?;
        with_dtype!(dtype, T => {
            let mut v = vec![T::ZERO; total];
            for i in 0..n.min(m) {
                v[i * m + i] = T::ONE;
            }
            Ok(Tensor::from_buffer_vec(v, &[n, m]))
        })
    }
}
