//! Rounding (floor, ceil, round, trunc, frac), sign, clamp, nan_to_num and the float-class
//! tests (isnan, isinf, isfinite). Rounding and sign are piecewise constant: PyTorch gives
//! them a zero gradient, and so do we (the output still requires grad).

use super::binary::{reduce_grad, result_type};
use super::unary::{map, zip_same};
use super::{grads, record, will_record};
use crate::autograd::saved::SavedTensor;
use crate::dtype::{DType, Scalar};
use crate::error::{Error, Result};
use crate::kernels::{ELEMENTWISE_PAR_MIN, ternary};
use crate::shape::broadcast_shapes;
use crate::tensor::Tensor;
use crate::{with_float, with_numeric};
use num_traits::Float;

/// Records a backward whose gradient is zero (for piecewise-constant ops).
fn zero_grad(out: Tensor, node: &'static str, x: &Tensor) -> Result<Tensor> {
    record(out, node, &[x], |_| {
        Ok(|g: &Tensor, _: &[bool]| Ok(grads([Some(g.zeros_like()?)])))
    })
}

/// `f` on float tensors; int and bool tensors are returned as a copy (rounding is the identity).
fn rounding(t: &Tensor, node: &'static str, f: fn(f64) -> f64) -> Result<Tensor> {
    let out = with_float!(t.dtype(), T => map::<T, T>(t, ELEMENTWISE_PAR_MIN, move |x: T| T::from_f64(f(x.to_f64()))),
        _ => return t.contiguous_copy());
    zero_grad(out, node, t)
}

impl Tensor {
    pub fn floor(&self) -> Result<Tensor> {
        rounding(self, "FloorBackward", f64::floor)
    }

    pub fn ceil(&self) -> Result<Tensor> {
        rounding(self, "CeilBackward", f64::ceil)
    }

    pub fn trunc(&self) -> Result<Tensor> {
        rounding(self, "TruncBackward", f64::trunc)
    }

    /// Rounds half to even (as PyTorch and NumPy); `decimals` may be negative.
    pub fn round(&self, decimals: i64) -> Result<Tensor> {
        if decimals == 0 {
            return rounding(self, "RoundBackward", f64::round_ties_even);
        }
        if !self.dtype().is_float() {
            return Err(Error::dtype(
                "round",
                format!(
                    "round(decimals={decimals}) is only defined for floating point tensors, got {}",
                    self.dtype()
                ),
            ));
        }
        let scale = 10f64.powi(decimals.unsigned_abs().min(400) as i32);
        let neg = decimals < 0;
        let out = with_float!(self.dtype(), T => map::<T, T>(self, ELEMENTWISE_PAR_MIN, move |x: T| {
            let x = x.to_f64();
            T::from_f64(if neg { (x / scale).round_ties_even() * scale } else { (x * scale).round_ties_even() / scale })
        }), _ => unreachable!());
        zero_grad(out, "RoundBackward", self)
    }

    /// x - trunc(x); its gradient is the incoming one.
    pub fn frac(&self) -> Result<Tensor> {
        let out = with_float!(self.dtype(), T => map::<T, T>(self, ELEMENTWISE_PAR_MIN, |x: T| T::from_f64(x.to_f64() - x.to_f64().trunc())),
            _ => return Err(Error::dtype("frac", format!("frac is only defined for floating point tensors, got {}", self.dtype()))));
        record(out, "FracBackward", &[self], |_| {
            Ok(|g: &Tensor, _: &[bool]| Ok(grads([Some(g.clone())])))
        })
    }

    /// -1, 0 or 1 by the sign of x (0 for NaN... as PyTorch: NaN stays NaN), keeping the dtype.
    pub fn sign(&self) -> Result<Tensor> {
        let out = match self.dtype() {
            DType::Bool => self.contiguous_copy()?,
            DType::I64 => map::<i64, i64>(self, ELEMENTWISE_PAR_MIN, i64::signum),
            _ => with_float!(self.dtype(), T => map::<T, T>(self, ELEMENTWISE_PAR_MIN, |x: T| {
                if x > T::ZERO { T::ONE } else if x < T::ZERO { T::from_f64(-1.0) } else { x }
            }), _ => unreachable!()),
        };
        zero_grad(out, "SignBackward", self)
    }

    /// NaN to `nan`, +inf to `posinf` and -inf to `neginf` (default: the dtype's extremes).
    /// The gradient passes where x was finite.
    pub fn nan_to_num(&self, nan: f64, posinf: Option<f64>, neginf: Option<f64>) -> Result<Tensor> {
        if !self.dtype().is_float() {
            return self.clone_tensor();
        }
        let out = with_float!(self.dtype(), T => {
            let (hi, lo) = (posinf.map(T::from_f64).unwrap_or(T::max_value()), neginf.map(T::from_f64).unwrap_or(T::min_value()));
            let nan_v = T::from_f64(nan);
            map::<T, T>(self, ELEMENTWISE_PAR_MIN, move |x: T| {
                if x.is_nan() { nan_v } else if x == T::infinity() { hi } else if x == T::neg_infinity() { lo } else { x }
            })
        }, _ => unreachable!());
        let saved = if will_record(&[self]) {
            Some(SavedTensor::new(self)?)
        } else {
            None
        };
        record(out, "NanToNumBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                let x = saved.as_ref().expect("saved when recording").get()?;
                let gx = with_float!(g.dtype(), T => zip_same::<T, T, T>(g, &x, |g: T, x: T| if x.is_finite() { g } else { T::ZERO }),
                    _ => return Err(Error::dtype("backward", "gradients must be floating point")));
                Ok(grads([Some(gx)]))
            })
        })
    }

    pub fn isnan(&self) -> Result<Tensor> {
        Ok(
            with_float!(self.dtype(), T => map::<T, bool>(self, ELEMENTWISE_PAR_MIN, |x: T| x.is_nan()),
            _ => Tensor::full(self.shape(), false, DType::Bool)?),
        )
    }

    pub fn isinf(&self) -> Result<Tensor> {
        Ok(
            with_float!(self.dtype(), T => map::<T, bool>(self, ELEMENTWISE_PAR_MIN, |x: T| x.is_infinite()),
            _ => Tensor::full(self.shape(), false, DType::Bool)?),
        )
    }

    pub fn isfinite(&self) -> Result<Tensor> {
        Ok(
            with_float!(self.dtype(), T => map::<T, bool>(self, ELEMENTWISE_PAR_MIN, |x: T| x.is_finite()),
            _ => Tensor::full(self.shape(), true, DType::Bool)?),
        )
    }

    /// Clamps to `[min, max]` (either may be absent). The result dtype promotes with the
    /// bounds (an int tensor clamped to 0.5 is float32). Gradient: where min <= x <= max.
    pub fn clamp(&self, min: Option<Scalar>, max: Option<Scalar>) -> Result<Tensor> {
        if min.is_none() && max.is_none() {
            return Err(Error::invalid(
                "clamp",
                "At least one of 'min' or 'max' must not be None",
            ));
        }
        if self.dtype() == DType::Bool {
            return Err(Error::dtype(
                "clamp",
                "clamp is not defined for bool tensors",
            ));
        }
        let mut dtype = self.dtype();
        for s in [min, max].into_iter().flatten() {
            dtype = s.promote_with(dtype);
        }
        let x = self.to_dtype(dtype)?;
        let (lo, hi) = (min.map(|s| s.as_f64()), max.map(|s| s.as_f64()));
        let out = with_numeric!(dtype, T => {
            let (lo, hi) = (lo.map(T::from_f64), hi.map(T::from_f64));
            map::<T, T>(&x, ELEMENTWISE_PAR_MIN, move |v: T| {
                let mut y = v;
                if let Some(l) = lo && y < l { y = l; }
                if let Some(h) = hi && y > h { y = h; }
                y
            })
        }, _ => unreachable!("bool rejected above"));
        let saved = if will_record(&[&x]) {
            Some(SavedTensor::new(&x)?)
        } else {
            None
        };
        record(out, "ClampBackward", &[&x], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                let x = saved.as_ref().expect("saved when recording").get()?;
                let (lo, hi) = (lo.unwrap_or(f64::NEG_INFINITY), hi.unwrap_or(f64::INFINITY));
                let gx = with_float!(g.dtype(), T => zip_same::<T, T, T>(g, &x, move |g: T, x: T| {
                    let x = x.to_f64();
                    if x >= lo && x <= hi { g } else { T::ZERO }
                }), _ => return Err(Error::dtype("backward", "gradients must be floating point")));
                Ok(grads([Some(gx)]))
            })
        })
    }

    /// Clamp with tensor bounds (broadcast together), differentiable in all three, with
    /// PyTorch's rules: x gets the gradient where min <= x <= max, min where x < min < max,
    /// max where x > max or max < min.
    pub fn clamp_tensor(&self, min: Option<&Tensor>, max: Option<&Tensor>) -> Result<Tensor> {
        if min.is_none() && max.is_none() {
            return Err(Error::invalid(
                "clamp",
                "At least one of 'min' or 'max' must not be None",
            ));
        }
        let mut dtype = self.dtype();
        let mut shape = self.shape().to_vec();
        for b in [min, max].into_iter().flatten() {
            dtype = DType::promote(dtype, result_type(self, b));
            shape = broadcast_shapes("clamp", &shape, b.shape())?.to_vec();
        }
        if dtype == DType::Bool {
            return Err(Error::dtype(
                "clamp",
                "clamp is not defined for bool tensors",
            ));
        }
        let cast = |t: &Tensor| {
            if t.dtype() == dtype {
                Ok(t.clone())
            } else {
                t.to_dtype(dtype)
            }
        };
        let x = cast(self)?;
        // An absent bound is the dtype's extreme, which never wins.
        let (lo_v, hi_v) = if dtype.is_float() {
            (f64::NEG_INFINITY, f64::INFINITY)
        } else {
            (i64::MIN as f64, i64::MAX as f64)
        };
        let extreme = |v: f64| {
            if dtype.is_float() {
                Tensor::scalar_of(Scalar::Float(v), dtype)
            } else {
                Tensor::scalar_of(Scalar::Int(v as i64), dtype)
            }
        };
        let lo = match min {
            Some(t) => cast(t)?,
            None => extreme(lo_v),
        };
        let hi = match max {
            Some(t) => cast(t)?,
            None => extreme(hi_v),
        };
        let out = with_numeric!(dtype, T => {
            let (bx, bl, bh) = (x.storage().read(), lo.storage().read(), hi.storage().read());
            let v = ternary::zip3(T::slice(&bx), x.layout(), T::slice(&bl), lo.layout(), T::slice(&bh), hi.layout(), &shape, ELEMENTWISE_PAR_MIN,
                |v: T, l: T, h: T| {
                    let mut y = v;
                    if y < l { y = l; }
                    if y > h { y = h; }
                    y
                });
            Tensor::from_buffer_vec(v, &shape)
        }, _ => unreachable!());
        let inputs: Vec<&Tensor> = [Some(&x), min.map(|_| &lo), max.map(|_| &hi)]
            .into_iter()
            .flatten()
            .collect();
        if !will_record(&inputs) {
            return Ok(out);
        }
        let (sx, sl, sh) = (
            SavedTensor::new(&x)?,
            SavedTensor::new(&lo)?,
            SavedTensor::new(&hi)?,
        );
        let (has_min, has_max) = (min.is_some(), max.is_some());
        let shapes: Vec<Vec<usize>> = inputs.iter().map(|t| t.shape().to_vec()).collect();
        let dtypes: Vec<DType> = inputs.iter().map(|t| t.dtype()).collect();
        let out = record(out, "ClampBackward", &inputs, move |_| {
            Ok(move |g: &Tensor, needs: &[bool]| {
                let (x, lo, hi) = (sx.get()?, sl.get()?, sh.get()?);
                let zero = Tensor::scalar_of(Scalar::Float(0.0), g.dtype());
                let mut out: Vec<Option<Tensor>> = Vec::new();
                if needs[0] {
                    let m = x.ge(&lo)?.logical_and(&x.le(&hi)?)?;
                    out.push(Some(reduce_grad(
                        &Tensor::where_(&m, g, &zero)?,
                        &shapes[0],
                        dtypes[0],
                    )?));
                } else {
                    out.push(None);
                }
                let mut k = 1;
                if has_min {
                    out.push(if needs[k] {
                        let m = x.lt(&lo)?.logical_and(&lo.lt(&hi)?)?;
                        Some(reduce_grad(
                            &Tensor::where_(&m, g, &zero)?,
                            &shapes[k],
                            dtypes[k],
                        )?)
                    } else {
                        None
                    });
                    k += 1;
                }
                if has_max {
                    out.push(if needs[k] {
                        let m = x.gt(&hi)?.logical_or(&hi.lt(&lo)?)?;
                        Some(reduce_grad(
                            &Tensor::where_(&m, g, &zero)?,
                            &shapes[k],
                            dtypes[k],
                        )?)
                    } else {
                        None
                    });
                }
                Ok(out.into_iter().collect())
            })
        })?;
        Ok(out)
    }
}
