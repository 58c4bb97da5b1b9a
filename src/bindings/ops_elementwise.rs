//! Elementwise ops (unary, binary, comparisons, bitwise, rounding, activations, in-place
//! forms, type conversions) for Python: Tensor methods here, function forms in
//! python/ferrograd (method delegations) and `ferrograd.where` registered below.

use super::convert::{extract_dtype, extract_scalar};
use super::tensor::{Operand, PyTensor, compute, operand, tensor_arg};
use crate::dtype::{DType, Scalar};
use crate::error::Error;
use crate::ops::activation::GeluApprox;
use crate::ops::binary::{RoundingMode, scalar_operand};
use crate::ops::cmp::{BitOp, bitwise};
use crate::tensor::Tensor;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

/// Adds this family's module-level functions to `ferrograd._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(r#where, m)?)?;
    Ok(())
}

/// `other` as a tensor operand for `a` (a Python number takes the dtype the pair computes in).
fn other_arg(a: &Tensor, obj: &Bound<'_, PyAny>, op: &str) -> PyResult<Tensor> {
    match operand(obj)? {
        Some(Operand::Tensor(t)) => Ok(t),
        Some(Operand::Scalar(s)) => Ok(scalar_operand(a, s)),
        None => Err(PyTypeError::new_err(format!(
            "{op}(): argument 'other' must be a Tensor or a number, not {}",
            obj.get_type().name()?
        ))),
    }
}

/// A number argument (alpha, clamp bounds, fill values); a one-element tensor also works.
fn scalar_arg(obj: &Bound<'_, PyAny>, op: &str, what: &str) -> PyResult<Scalar> {
    if let Some(s) = extract_scalar(obj) {
        return Ok(s);
    }
    if let Ok(t) = obj.cast::<PyTensor>() {
        let t = &t.get().inner;
        if t.numel() == 1 {
            return Ok(t.item()?);
        }
    }
    Err(PyTypeError::new_err(format!(
        "{op}(): argument '{what}' must be a number, not {}",
        obj.get_type().name()?
    )))
}

fn some<'a, 'py>(o: &'a Option<Bound<'py, PyAny>>) -> Option<&'a Bound<'py, PyAny>> {
    o.as_ref().filter(|x| !x.is_none())
}

fn wrap(py: Python<'_>, t: crate::error::Result<Tensor>) -> PyResult<Py<PyAny>> {
    PyTensor::wrap(py, t?)
}

macro_rules! unary_methods {
    ($($name:ident),* $(,)?) => {
        #[pymethods]
        impl PyTensor {$(
            fn $name(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                let t = &self.inner;
                wrap(py, compute(py, t.numel(), || t.$name()))
            }
        )*}
    };
}

unary_methods!(
    exp2,
    expm1,
    log2,
    log10,
    log1p,
    rsqrt,
    square,
    reciprocal,
    sin,
    cos,
    tan,
    asin,
    acos,
    atan,
    sinh,
    cosh,
    logsigmoid,
    relu6,
    selu,
    silu,
    mish,
    softsign,
    hardsigmoid,
    hardswish,
    floor,
    ceil,
    trunc,
    frac,
    sign,
    isnan,
    isinf,
    isfinite,
    bitwise_not,
    logical_not,
);

/// The binary ops whose Python form is `op(self, other)`.
macro_rules! binary_methods {
    ($($name:ident => $method:ident),* $(,)?) => {
        #[pymethods]
        impl PyTensor {$(
            fn $name(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
                let a = &self.inner;
                let b = other_arg(a, other, stringify!($name))?;
                wrap(py, compute(py, a.numel().max(b.numel()), || a.$method(&b)))
            }
        )*}
    };
}

binary_methods!(
    floor_divide => floor_divide, remainder => remainder, fmod => fmod, atan2 => atan2, arctan2 => atan2,
    hypot => hypot, logaddexp => logaddexp, true_divide => div, multiply => mul,
    logical_and => logical_and, logical_or => logical_or, logical_xor => logical_xor,
);

/// Bitwise ops on bool and int tensors.
macro_rules! bitwise_methods {
    ($($name:ident => $op:ident),* $(,)?) => {
        #[pymethods]
        impl PyTensor {$(
            fn $name(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
                let a = &self.inner;
                let b = other_arg(a, other, stringify!($name))?;
                wrap(py, bitwise(BitOp::$op, a, &b))
            }
        )*}
    };
}

bitwise_methods!(bitwise_and => And, bitwise_or => Or, bitwise_xor => Xor);

// The operators are spelled out (PyO3 cannot generate dunders from inside macro_rules
// without unsafe-call warnings).
#[pymethods]
impl PyTensor {
    fn __and__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.bit_dunder(py, o, BitOp::And, false)
    }
    fn __rand__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.bit_dunder(py, o, BitOp::And, true)
    }
    fn __or__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.bit_dunder(py, o, BitOp::Or, false)
    }
    fn __ror__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.bit_dunder(py, o, BitOp::Or, true)
    }
    fn __xor__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.bit_dunder(py, o, BitOp::Xor, false)
    }
    fn __rxor__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.bit_dunder(py, o, BitOp::Xor, true)
    }
}

impl PyTensor {
    fn bit_dunder(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        op: BitOp,
        reflected: bool,
    ) -> PyResult<Py<PyAny>> {
        let a = &self.inner;
        let b = match operand(other)? {
            Some(Operand::Tensor(b)) => b,
            Some(Operand::Scalar(s)) => scalar_operand(a, s),
            None => return Ok(py.NotImplemented()),
        };
        wrap(
            py,
            if reflected {
                bitwise(op, &b, a)
            } else {
                bitwise(op, a, &b)
            },
        )
    }
}

impl PyTensor {
    /// `self op other` or, reflected, `other op self`, for the Python operators.
    fn dunder(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        reflected: bool,
        f: fn(&Tensor, &Tensor) -> crate::error::Result<Tensor>,
    ) -> PyResult<Py<PyAny>> {
        let a = &self.inner;
        let b = match operand(other)? {
            Some(Operand::Tensor(b)) => b,
            Some(Operand::Scalar(s)) => scalar_operand(a, s),
            None => return Ok(py.NotImplemented()),
        };
        let work = a.numel().max(b.numel());
        wrap(
            py,
            compute(py, work, || if reflected { f(&b, a) } else { f(a, &b) }),
        )
    }

    fn clamp_impl(
        &self,
        min: &Option<Bound<'_, PyAny>>,
        max: &Option<Bound<'_, PyAny>>,
        inplace: bool,
    ) -> PyResult<Option<Tensor>> {
        let t = &self.inner;
        let (lo, hi) = (some(min), some(max));
        let is_t = |o: Option<&Bound<'_, PyAny>>| {
            o.is_some_and(|o| o.cast::<PyTensor>().is_ok() || extract_scalar(o).is_none())
        };
        if is_t(lo) || is_t(hi) {
            let conv =
                |o: Option<&Bound<'_, PyAny>>| o.map(|o| other_arg(t, o, "clamp")).transpose();
            let (lo, hi) = (conv(lo)?, conv(hi)?);
            if inplace {
                t.clamp_tensor_(lo.as_ref(), hi.as_ref())?;
                return Ok(None);
            }
            return Ok(Some(t.clamp_tensor(lo.as_ref(), hi.as_ref())?));
        }
        let conv = |o: Option<&Bound<'_, PyAny>>, w: &str| {
            o.map(|o| scalar_arg(o, "clamp", w)).transpose()
        };
        let (lo, hi) = (conv(lo, "min")?, conv(hi, "max")?);
        if inplace {
            t.clamp_(lo, hi)?;
            return Ok(None);
        }
        Ok(Some(t.clamp(lo, hi)?))
    }
}

fn alpha_arg(alpha: Option<&Bound<'_, PyAny>>, op: &str) -> PyResult<Scalar> {
    match alpha {
        None => Ok(Scalar::Int(1)),
        Some(a) if a.is_none() => Ok(Scalar::Int(1)),
        Some(a) => scalar_arg(a, op, "alpha"),
    }
}

#[pymethods]
impl PyTensor {
    // ----- arithmetic with options -----

    #[pyo3(signature = (other, *, alpha = None))]
    fn add(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        alpha: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let a = &self.inner;
        let b = other_arg(a, other, "add")?;
        let alpha = alpha_arg(alpha, "add")?;
        wrap(
            py,
            compute(py, a.numel().max(b.numel()), || a.add_alpha(&b, alpha)),
        )
    }

    #[pyo3(signature = (other, *, alpha = None))]
    fn sub(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        alpha: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let a = &self.inner;
        let b = other_arg(a, other, "sub")?;
        let alpha = alpha_arg(alpha, "sub")?;
        wrap(
            py,
            compute(py, a.numel().max(b.numel()), || a.sub_alpha(&b, alpha)),
        )
    }

    #[pyo3(signature = (other, *, alpha = None))]
    fn subtract(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        alpha: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.sub(py, other, alpha)
    }

    #[pyo3(signature = (other, *, rounding_mode = None))]
    fn div(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        rounding_mode: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        let mode = RoundingMode::parse(rounding_mode.as_deref())?;
        let a = &self.inner;
        let b = other_arg(a, other, "div")?;
        wrap(
            py,
            compute(py, a.numel().max(b.numel()), || a.div_mode(&b, mode)),
        )
    }

    #[pyo3(signature = (other, *, rounding_mode = None))]
    fn divide(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        rounding_mode: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        self.div(py, other, rounding_mode)
    }

    fn __floordiv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.dunder(py, o, false, Tensor::floor_divide)
    }
    fn __rfloordiv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.dunder(py, o, true, Tensor::floor_divide)
    }
    fn __mod__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.dunder(py, o, false, Tensor::remainder)
    }
    fn __rmod__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.dunder(py, o, true, Tensor::remainder)
    }
    fn __invert__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        wrap(py, self.inner.bitwise_not())
    }

    #[pyo3(signature = (ndigits = None))]
    fn __round__(&self, py: Python<'_>, ndigits: Option<i64>) -> PyResult<Py<PyAny>> {
        wrap(py, self.inner.round(ndigits.unwrap_or(0)))
    }

    #[pyo3(signature = (*, decimals = 0))]
    fn round(&self, py: Python<'_>, decimals: i64) -> PyResult<Py<PyAny>> {
        wrap(py, self.inner.round(decimals))
    }

    #[pyo3(signature = (end, weight))]
    fn lerp(
        &self,
        py: Python<'_>,
        end: &Bound<'_, PyAny>,
        weight: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let a = &self.inner;
        let e = tensor_arg(end, "lerp")?;
        let w = other_arg(a, weight, "lerp")?;
        wrap(py, a.lerp(&e, &w))
    }

    /// `Tensor.where(condition, other)` is `where(condition, self, other)`.
    #[pyo3(name = "where")]
    fn where_method(
        &self,
        py: Python<'_>,
        condition: &Bound<'_, PyAny>,
        other: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let c = tensor_arg(condition, "where")?;
        let a = &self.inner;
        let b = other_arg(a, other, "where")?;
        wrap(py, Tensor::where_(&c, a, &b))
    }

    #[pyo3(signature = (mask, value))]
    fn masked_fill(
        &self,
        py: Python<'_>,
        mask: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let m = tensor_arg(mask, "masked_fill")?;
        if let Ok(v) = value.cast::<PyTensor>() {
            return wrap(py, self.inner.masked_fill_tensor(&m, &v.get().inner));
        }
        let v = scalar_arg(value, "masked_fill", "value")?;
        wrap(py, self.inner.where_mask(&m, v))
    }

    // ----- comparisons that are not operators -----

    #[pyo3(signature = (other, rtol = 1e-5, atol = 1e-8, equal_nan = false))]
    fn isclose(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        rtol: f64,
        atol: f64,
        equal_nan: bool,
    ) -> PyResult<Py<PyAny>> {
        let a = &self.inner;
        let b = close_arg(a, other, "isclose")?;
        wrap(py, a.isclose(&b, rtol, atol, equal_nan))
    }

    #[pyo3(signature = (other, rtol = 1e-5, atol = 1e-8, equal_nan = false))]
    fn allclose(
        &self,
        other: &Bound<'_, PyAny>,
        rtol: f64,
        atol: f64,
        equal_nan: bool,
    ) -> PyResult<bool> {
        let a = &self.inner;
        let b = close_arg(a, other, "allclose")?;
        Ok(a.allclose(&b, rtol, atol, equal_nan)?)
    }

    fn equal(&self, other: &Bound<'_, PyTensor>) -> PyResult<bool> {
        Ok(self.inner.equal(&other.get().inner)?)
    }

    // ----- activations with parameters -----

    #[pyo3(signature = (negative_slope = 0.01))]
    fn leaky_relu(&self, py: Python<'_>, negative_slope: f64) -> PyResult<Py<PyAny>> {
        wrap(py, self.inner.leaky_relu(negative_slope))
    }

    #[pyo3(signature = (alpha = 1.0))]
    fn elu(&self, py: Python<'_>, alpha: f64) -> PyResult<Py<PyAny>> {
        wrap(py, self.inner.elu(alpha))
    }

    #[pyo3(signature = (approximate = "none"))]
    fn gelu(&self, py: Python<'_>, approximate: &str) -> PyResult<Py<PyAny>> {
        let a = GeluApprox::parse(approximate)?;
        wrap(py, self.inner.gelu(a))
    }

    #[pyo3(signature = (beta = 1.0, threshold = 20.0))]
    fn softplus(&self, py: Python<'_>, beta: f64, threshold: f64) -> PyResult<Py<PyAny>> {
        wrap(py, self.inner.softplus(beta, threshold))
    }

    #[pyo3(signature = (min_val = -1.0, max_val = 1.0))]
    fn hardtanh(&self, py: Python<'_>, min_val: f64, max_val: f64) -> PyResult<Py<PyAny>> {
        wrap(py, self.inner.hardtanh(min_val, max_val))
    }

    // ----- rounding and cleanup -----

    #[pyo3(signature = (min = None, max = None))]
    fn clamp(
        &self,
        py: Python<'_>,
        min: Option<Bound<'_, PyAny>>,
        max: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(
            py,
            self.clamp_impl(&min, &max, false)?.expect("out of place"),
        )
    }

    #[pyo3(signature = (min = None, max = None))]
    fn clip(
        &self,
        py: Python<'_>,
        min: Option<Bound<'_, PyAny>>,
        max: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.clamp(py, min, max)
    }

    #[pyo3(signature = (nan = 0.0, posinf = None, neginf = None))]
    fn nan_to_num(
        &self,
        py: Python<'_>,
        nan: f64,
        posinf: Option<f64>,
        neginf: Option<f64>,
    ) -> PyResult<Py<PyAny>> {
        wrap(py, self.inner.nan_to_num(nan, posinf, neginf))
    }

    // ----- in-place -----

    #[pyo3(signature = (min = None, max = None))]
    fn clamp_<'py>(
        slf: &Bound<'py, Self>,
        min: Option<Bound<'py, PyAny>>,
        max: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        slf.get().clamp_impl(&min, &max, true)?;
        Ok(slf.clone().into_any().unbind())
    }

    #[pyo3(signature = (min = None, max = None))]
    fn clip_<'py>(
        slf: &Bound<'py, Self>,
        min: Option<Bound<'py, PyAny>>,
        max: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        Self::clamp_(slf, min, max)
    }

    fn exp_(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        slf.get().inner.exp_()?;
        Ok(slf.clone().into_any().unbind())
    }

    fn neg_(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        slf.get().inner.neg_()?;
        Ok(slf.clone().into_any().unbind())
    }

    fn pow_(slf: &Bound<'_, Self>, exponent: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let t = &slf.get().inner;
        match operand(exponent)? {
            Some(Operand::Tensor(e)) => t.pow_(&e)?,
            Some(Operand::Scalar(s)) => t.pow_scalar_(s)?,
            None => {
                return Err(PyTypeError::new_err(format!(
                    "pow_(): argument 'exponent' must be a Tensor or a number, not {}",
                    exponent.get_type().name()?
                )));
            }
        };
        Ok(slf.clone().into_any().unbind())
    }

    fn masked_fill_(
        slf: &Bound<'_, Self>,
        mask: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let m = tensor_arg(mask, "masked_fill_")?;
        if let Ok(v) = value.cast::<PyTensor>() {
            slf.get().inner.masked_fill_tensor_(&m, &v.get().inner)?;
            return Ok(slf.clone().into_any().unbind());
        }
        let v = scalar_arg(value, "masked_fill_", "value")?;
        slf.get().inner.masked_fill_(&m, v)?;
        Ok(slf.clone().into_any().unbind())
    }

    #[pyo3(signature = (other, *, alpha = None))]
    fn sub_<'py>(
        slf: &Bound<'py, Self>,
        other: &Bound<'py, PyAny>,
        alpha: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let t = &slf.get().inner;
        let b = other_arg(t, other, "sub_")?;
        match alpha_arg(alpha, "sub_")? {
            Scalar::Int(1) => t.sub_(&b)?,
            a => t.sub_(&b.mul_scalar(a)?)?,
        };
        Ok(slf.clone().into_any().unbind())
    }

    // ----- type conversions -----

    fn type_as(&self, py: Python<'_>, other: &Bound<'_, PyTensor>) -> PyResult<Py<PyAny>> {
        wrap(py, self.inner.to_dtype(other.get().inner.dtype()))
    }

    /// `t.type(dtype)` converts; `t.type()` names the tensor type as PyTorch does.
    #[pyo3(signature = (dtype = None))]
    fn r#type(&self, py: Python<'_>, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        match dtype.filter(|d| !d.is_none()) {
            Some(d) => wrap(py, self.inner.to_dtype(extract_dtype(d)?)),
            None => {
                let name = match self.inner.dtype() {
                    DType::F32 => "ferrograd.FloatTensor",
                    DType::F64 => "ferrograd.DoubleTensor",
                    DType::I64 => "ferrograd.LongTensor",
                    DType::Bool => "ferrograd.BoolTensor",
                };
                Ok(name.into_pyobject(py)?.into_any().unbind())
            }
        }
    }
}

/// isclose's other: a tensor as is, a number in this tensor's dtype.
fn close_arg(a: &Tensor, obj: &Bound<'_, PyAny>, op: &str) -> PyResult<Tensor> {
    match operand(obj)? {
        Some(Operand::Tensor(t)) => Ok(t),
        Some(Operand::Scalar(s)) => Ok(Tensor::scalar_of(s, a.dtype())),
        None => Err(PyTypeError::new_err(format!(
            "{op}(): argument 'other' must be a Tensor or a number, not {}",
            obj.get_type().name()?
        ))),
    }
}

/// `where(condition, input, other)`: `input` where the condition holds, else `other`.
/// Either value may be a Python number.
#[pyfunction]
#[pyo3(signature = (condition, input = None, other = None))]
fn r#where(
    py: Python<'_>,
    condition: &Bound<'_, PyAny>,
    input: Option<&Bound<'_, PyAny>>,
    other: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let (Some(input), Some(other)) = (input, other) else {
        return Err(PyTypeError::new_err(
            "where(condition) (the nonzero form) is not supported; pass where(condition, input, other)",
        ));
    };
    let c = tensor_arg(condition, "where")?;
    let (a, b) = match (operand(input)?, operand(other)?) {
        (Some(Operand::Tensor(a)), Some(Operand::Tensor(b))) => (a, b),
        (Some(Operand::Tensor(a)), Some(Operand::Scalar(s))) => {
            let b = scalar_operand(&a, s);
            (a, b)
        }
        (Some(Operand::Scalar(s)), Some(Operand::Tensor(b))) => (scalar_operand(&b, s), b),
        (Some(Operand::Scalar(x)), Some(Operand::Scalar(y))) => {
            // Two numbers: the dtype they promote to on their own (float32 for floats).
            let d = DType::promote(x.default_dtype(), y.default_dtype());
            (Tensor::scalar_of(x, d), Tensor::scalar_of(y, d))
        }
        _ => {
            return Err(PyTypeError::new_err(
                "where(): input and other must be Tensors or numbers",
            ));
        }
    };
    let work = c.numel().max(a.numel()).max(b.numel());
    wrap(py, compute(py, work, || Tensor::where_(&c, &a, &b)))
}

#[allow(dead_code)]
fn _unused(_: Error) {}
