//! Comparisons and logical ops (bool results, never differentiable), and the masked
//! selections built on them.

use super::binary::{result_type, scalar_operand};
use super::{grads, record};
use crate::dtype::{DType, Element, Scalar};
use crate::error::{Error, Result};
use crate::kernels::elementwise;
use crate::shape::broadcast_shapes;
use crate::tensor::Tensor;
use crate::with_dtype;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

fn zip_to_bool<T: Element>(
    a: &Tensor,
    b: &Tensor,
    shape: &[usize],
    f: impl Fn(T, T) -> bool + Sync + Send,
) -> Tensor {
    let (ba, bb) = (a.storage().read(), b.storage().read());
    let out = elementwise::zip(
        T::slice(&ba),
        a.layout(),
        T::slice(&bb),
        b.layout(),
        shape,
        f,
    );
    Tensor::from_buffer_vec(out, shape)
}

// One body for every dtype: for bool the order comparisons are the intended false < true.
#[allow(clippy::bool_comparison)]
pub fn compare(op: CmpOp, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let shape = broadcast_shapes("compare", a.shape(), b.shape())?;
    let dtype = result_type(a, b);
    let a = a.to_dtype(dtype)?;
    let b = b.to_dtype(dtype)?;
    Ok(with_dtype!(dtype, T => match op {
        CmpOp::Eq => zip_to_bool::<T>(&a, &b, &shape, |x, y| x == y),
        CmpOp::Ne => zip_to_bool::<T>(&a, &b, &shape, |x, y| x != y),
        CmpOp::Lt => zip_to_bool::<T>(&a, &b, &shape, |x, y| x < y),
        CmpOp::Le => zip_to_bool::<T>(&a, &b, &shape, |x, y| x <= y),
        CmpOp::Gt => zip_to_bool::<T>(&a, &b, &shape, |x, y| x > y),
        CmpOp::Ge => zip_to_bool::<T>(&a, &b, &shape, |x, y| x >= y),
    }))
}

fn logical(a: &Tensor, b: &Tensor, f: impl Fn(bool, bool) -> bool + Sync + Send) -> Result<Tensor> {
    let shape = broadcast_shapes("logical", a.shape(), b.shape())?;
    let a = a.to_dtype(DType::Bool)?;
    let b = b.to_dtype(DType::Bool)?;
    Ok(zip_to_bool::<bool>(&a, &b, &shape, f))
}

macro_rules! cmp_methods {
    ($($name:ident, $scalar:ident => $op:ident;)*) => {
        impl Tensor {$(
            pub fn $name(&self, other: &Tensor) -> Result<Tensor> {
                compare(CmpOp::$op, self, other)
            }
            pub fn $scalar(&self, s: impl Into<Scalar>) -> Result<Tensor> {
                compare(CmpOp::$op, self, &scalar_operand(self, s.into()))
            }
        )*}
    };
}

cmp_methods! {
    eq, eq_scalar => Eq;
    ne, ne_scalar => Ne;
    lt, lt_scalar => Lt;
    le, le_scalar => Le;
    gt, gt_scalar => Gt;
    ge, ge_scalar => Ge;
}

impl Tensor {
    pub fn logical_and(&self, other: &Tensor) -> Result<Tensor> {
        logical(self, other, |x, y| x & y)
    }

    pub fn logical_or(&self, other: &Tensor) -> Result<Tensor> {
        logical(self, other, |x, y| x | y)
    }

    pub fn logical_xor(&self, other: &Tensor) -> Result<Tensor> {
        logical(self, other, |x, y| x ^ y)
    }

    pub fn logical_not(&self) -> Result<Tensor> {
        let t = self.to_dtype(DType::Bool)?;
        Ok(super::unary::map::<bool, bool>(
            &t,
            crate::kernels::ELEMENTWISE_PAR_MIN,
            |x| !x,
        ))
    }

    /// `value` where `mask` is true, this tensor elsewhere (PyTorch's `masked_fill`).
    /// The gradient flows only through the positions that were kept.
    pub fn where_mask(&self, mask: &Tensor, value: impl Into<Scalar>) -> Result<Tensor> {
        if mask.dtype() != DType::Bool {
            return Err(Error::dtype(
                "masked_fill",
                format!("mask must be a bool tensor, got {}", mask.dtype()),
            ));
        }
        let shape = broadcast_shapes("masked_fill", self.shape(), mask.shape())?;
        if shape.as_slice() != self.shape() {
            return Err(Error::shape(
                "masked_fill",
                format!(
                    "mask of shape {:?} cannot be broadcast to the tensor's shape {:?}",
                    mask.shape(),
                    self.shape()
                ),
            ));
        }
        let v = value.into();
        let out = with_dtype!(self.dtype(), T => {
            let fill = T::from_f64(v.as_f64());
            let (bs, bm) = (self.storage().read(), mask.storage().read());
            let out = elementwise::zip(T::slice(&bs), self.layout(), bool::slice(&bm), mask.layout(), &shape, |x: T, m: bool| if m { fill } else { x });
            Tensor::from_buffer_vec(out, &shape)
        });
        let mask = mask.detach();
        record(out, "MaskedFillBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(g.where_mask(&mask, 0.0)?)])))
        })
    }

    /// `masked_fill` with a 0-d tensor `value`, which is differentiable: its gradient is the
    /// sum of the incoming gradient over the filled positions (as in PyTorch).
    pub fn masked_fill_tensor(&self, mask: &Tensor, value: &Tensor) -> Result<Tensor> {
        if value.ndim() != 0 {
            return Err(Error::invalid(
                "masked_fill",
                format!(
                    "masked_fill only supports a 0-dimensional value tensor, but got tensor with {} dimension(s)",
                    value.ndim()
                ),
            ));
        }
        let out = self.detach().where_mask(mask, value.item()?)?;
        let mask = mask.detach();
        let value_dtype = value.dtype();
        record(out, "MaskedFillBackward", &[self, value], move |_| {
            Ok(move |g: &Tensor, needs: &[bool]| {
                let gs = if needs[0] {
                    Some(g.where_mask(&mask, 0.0)?)
                } else {
                    None
                };
                let gv = if needs[1] {
                    let zero = Tensor::scalar_of(Scalar::Float(0.0), g.dtype());
                    let filled = Tensor::where_(&mask, g, &zero)?;
                    Some(filled.sum()?.to_dtype(value_dtype)?)
                } else {
                    None
                };
                Ok(grads([gs, gv]))
            })
        })
    }
}

// ----- bitwise ops, closeness tests, equality -----

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
}

/// `a op b` on bool or int64 tensors (bool with bool stays bool).
pub fn bitwise(op: BitOp, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let name = match op {
        BitOp::And => "bitwise_and",
        BitOp::Or => "bitwise_or",
        BitOp::Xor => "bitwise_xor",
    };
    let shape = broadcast_shapes(name, a.shape(), b.shape())?;
    let dtype = result_type(a, b);
    if dtype.is_float() {
        return Err(Error::dtype(
            name,
            format!(
                "{name} is only defined for bool and integer tensors, got {} and {}",
                a.dtype(),
                b.dtype()
            ),
        ));
    }
    let a = a.to_dtype(dtype)?;
    let b = b.to_dtype(dtype)?;
    Ok(match dtype {
        DType::Bool => zip_to::<bool, bool>(
            &a,
            &b,
            &shape,
            match op {
                BitOp::And => |x, y| x & y,
                BitOp::Or => |x, y| x | y,
                BitOp::Xor => |x, y| x ^ y,
            },
        ),
        _ => zip_to::<i64, i64>(
            &a,
            &b,
            &shape,
            match op {
                BitOp::And => |x, y| x & y,
                BitOp::Or => |x, y| x | y,
                BitOp::Xor => |x, y| x ^ y,
            },
        ),
    })
}

fn zip_to<T: Element, O: Element>(
    a: &Tensor,
    b: &Tensor,
    shape: &[usize],
    f: fn(T, T) -> O,
) -> Tensor {
    let (ba, bb) = (a.storage().read(), b.storage().read());
    let out = elementwise::zip(
        T::slice(&ba),
        a.layout(),
        T::slice(&bb),
        b.layout(),
        shape,
        f,
    );
    Tensor::from_buffer_vec(out, shape)
}

impl Tensor {
    /// `~x`: logical not for bool, two's-complement not for int64.
    pub fn bitwise_not(&self) -> Result<Tensor> {
        match self.dtype() {
            DType::Bool => Ok(super::unary::map::<bool, bool>(
                self,
                crate::kernels::ELEMENTWISE_PAR_MIN,
                |x| !x,
            )),
            DType::I64 => Ok(super::unary::map::<i64, i64>(
                self,
                crate::kernels::ELEMENTWISE_PAR_MIN,
                |x| !x,
            )),
            d => Err(Error::dtype(
                "bitwise_not",
                format!("bitwise_not is only defined for bool and integer tensors, got {d}"),
            )),
        }
    }

    /// `|self - other| <= atol + rtol * |other|` elementwise (equal values, including equal
    /// infinities, are close; NaNs only with `equal_nan`). Both must have one dtype.
    pub fn isclose(&self, other: &Tensor, rtol: f64, atol: f64, equal_nan: bool) -> Result<Tensor> {
        if self.dtype() != other.dtype() {
            return Err(Error::dtype(
                "isclose",
                format!(
                    "isclose expected both inputs to have the same dtype, but got {} and {}",
                    self.dtype(),
                    other.dtype()
                ),
            ));
        }
        if rtol < 0.0 || atol < 0.0 {
            return Err(Error::invalid(
                "isclose",
                format!("rtol and atol must be non-negative, got rtol={rtol}, atol={atol}"),
            ));
        }
        let shape = broadcast_shapes("isclose", self.shape(), other.shape())?;
        let close = move |x: f64, y: f64| {
            if x == y {
                return true;
            }
            if x.is_nan() || y.is_nan() {
                return equal_nan && x.is_nan() && y.is_nan();
            }
            if x.is_infinite() || y.is_infinite() {
                return false;
            }
            (x - y).abs() <= atol + rtol * y.abs()
        };
        Ok(with_dtype!(self.dtype(), T => {
            let (ba, bb) = (self.storage().read(), other.storage().read());
            let out = elementwise::zip(T::slice(&ba), self.layout(), T::slice(&bb), other.layout(), &shape, move |x: T, y: T| close(x.to_f64(), y.to_f64()));
            Tensor::from_buffer_vec(out, &shape)
        }))
    }

    /// Whether every element is close (see [`Tensor::isclose`]).
    pub fn allclose(&self, other: &Tensor, rtol: f64, atol: f64, equal_nan: bool) -> Result<bool> {
        Ok(self
            .isclose(other, rtol, atol, equal_nan)?
            .to_vec::<bool>()?
            .iter()
            .all(|&b| b))
    }

    /// Same shape and the same values (after promotion); NaN is never equal.
    pub fn equal(&self, other: &Tensor) -> Result<bool> {
        if self.shape() != other.shape() {
            return Ok(false);
        }
        Ok(self.eq(other)?.to_vec::<bool>()?.iter().all(|&b| b))
    }
}
