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

fn zip_to_bool<T: Element>(a: &Tensor, b: &Tensor, shape: &[usize], f: impl Fn(T, T) -> bool + Sync + Send) -> Tensor {
    let (ba, bb) = (a.storage().read(), b.storage().read());
    let out = elementwise::zip(T::slice(&ba), a.layout(), T::slice(&bb), b.layout(), shape, f);
    Tensor::from_buffer_vec(out, shape)
}

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
        Ok(super::unary::map::<bool, bool>(&t, crate::kernels::ELEMENTWISE_PAR_MIN, |x| !x))
    }

    /// `value` where `mask` is true, this tensor elsewhere (PyTorch's `masked_fill`).
    /// The gradient flows only through the positions that were kept.
    pub fn where_mask(&self, mask: &Tensor, value: impl Into<Scalar>) -> Result<Tensor> {
        if mask.dtype() != DType::Bool {
            return Err(Error::dtype("masked_fill", format!("mask must be a bool tensor, got {}", mask.dtype())));
        }
        let shape = broadcast_shapes("masked_fill", self.shape(), mask.shape())?;
        if shape.as_slice() != self.shape() {
            return Err(Error::shape(
                "masked_fill",
                format!("mask of shape {:?} cannot be broadcast to the tensor's shape {:?}", mask.shape(), self.shape()),
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
}
