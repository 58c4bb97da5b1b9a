//! Arithmetic between two tensors (or a tensor and a Python-style scalar) with NumPy
//! broadcasting and PyTorch's type promotion, and the derivatives of each.

use super::{grads, record, untracked, will_record};
use std::borrow::Cow;
use crate::autograd::saved::SavedTensor;
use crate::dtype::{DType, Element, Scalar};
use crate::error::{Error, Result};
use crate::kernels::elementwise;
use crate::shape::broadcast_shapes;
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Maximum,
    Minimum,
}

impl BinaryOp {
    fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Pow => "pow",
            BinaryOp::Maximum => "maximum",
            BinaryOp::Minimum => "minimum",
        }
    }
}

fn category(d: DType) -> u8 {
    match d {
        DType::Bool => 0,
        DType::I64 => 1,
        DType::F32 | DType::F64 => 2,
    }
}

/// PyTorch's result type: a 0-d tensor only decides the dtype when it is of a higher
/// category (bool < int < float) than the dimensioned operand.
pub fn result_type(a: &Tensor, b: &Tensor) -> DType {
    let (da, db) = (a.dtype(), b.dtype());
    match (a.ndim() == 0, b.ndim() == 0) {
        (true, false) if category(da) <= category(db) => db,
        (false, true) if category(db) <= category(da) => da,
        _ => DType::promote(da, db),
    }
}

/// A scalar as a 0-d operand for `t`: in the dtype the pair computes in.
pub(crate) fn scalar_operand(t: &Tensor, s: Scalar) -> Tensor {
    Tensor::scalar_of(s, s.promote_with(t.dtype()))
}

fn zip_op<T: Element, O: Element>(a: &Tensor, b: &Tensor, shape: &[usize], f: impl Fn(T, T) -> O + Sync + Send) -> Tensor {
    let (ba, bb) = (a.storage().read(), b.storage().read());
    let out = elementwise::zip(T::slice(&ba), a.layout(), T::slice(&bb), b.layout(), shape, f);
    Tensor::from_buffer_vec(out, shape)
}

/// Integer power by squaring; negative exponents are rejected before this runs.
fn ipow(mut base: i64, mut exp: i64) -> i64 {
    let mut acc: i64 = 1;
    while exp > 0 {
        if exp & 1 == 1 {
            acc = acc.wrapping_mul(base);
        }
        base = base.wrapping_mul(base);
        exp >>= 1;
    }
    acc
}

fn nan_max<T: num_traits::Float>(x: T, y: T) -> T {
    if x.is_nan() || y.is_nan() { T::nan() } else if x >= y { x } else { y }
}
fn nan_min<T: num_traits::Float>(x: T, y: T) -> T {
    if x.is_nan() || y.is_nan() { T::nan() } else if x <= y { x } else { y }
}

/// The forward value of `op` on two tensors already in `dtype`.
fn compute(op: BinaryOp, a: &Tensor, b: &Tensor, dtype: DType, shape: &[usize]) -> Result<Tensor> {
    use BinaryOp::*;
    macro_rules! float_ops {
        ($T:ty) => {
            match op {
                Add => zip_op::<$T, $T>(a, b, shape, |x, y| x + y),
                Sub => zip_op::<$T, $T>(a, b, shape, |x, y| x - y),
                Mul => zip_op::<$T, $T>(a, b, shape, |x, y| x * y),
                Div => zip_op::<$T, $T>(a, b, shape, |x, y| x / y),
                Pow => zip_op::<$T, $T>(a, b, shape, |x, y| if y == 2.0 { x * x } else { x.powf(y) }),
                Maximum => zip_op::<$T, $T>(a, b, shape, nan_max),
                Minimum => zip_op::<$T, $T>(a, b, shape, nan_min),
            }
        };
    }
    Ok(match dtype {
        DType::F32 => float_ops!(f32),
        DType::F64 => float_ops!(f64),
        DType::I64 => match op {
            Add => zip_op::<i64, i64>(a, b, shape, i64::wrapping_add),
            Sub => zip_op::<i64, i64>(a, b, shape, i64::wrapping_sub),
            Mul => zip_op::<i64, i64>(a, b, shape, i64::wrapping_mul),
            Pow => {
                let negative = b.to_vec::<i64>()?.iter().any(|&e| e < 0);
                if negative {
                    return Err(Error::invalid("pow", "Integers to negative integer powers are not allowed."));
                }
                zip_op::<i64, i64>(a, b, shape, ipow)
            }
            Maximum => zip_op::<i64, i64>(a, b, shape, |x, y| x.max(y)),
            Minimum => zip_op::<i64, i64>(a, b, shape, |x, y| x.min(y)),
            Div => unreachable!("true division computes in a float dtype"),
        },
        DType::Bool => match op {
            Add | Maximum => zip_op::<bool, bool>(a, b, shape, |x, y| x | y),
            Mul | Minimum => zip_op::<bool, bool>(a, b, shape, |x, y| x & y),
            Pow => zip_op::<bool, bool>(a, b, shape, |x, y| x | !y),
            Sub => {
                return Err(Error::dtype(
                    "sub",
                    "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.",
                ));
            }
            Div => unreachable!("true division computes in a float dtype"),
        },
    })
}

/// The gradient `g` (of the broadcast result) summed back to an input's shape and dtype.
pub(crate) fn reduce_grad(g: &Tensor, shape: &[usize], dtype: DType) -> Result<Tensor> {
    let g = g.sum_to_shape(shape)?;
    if g.dtype() == dtype { Ok(g) } else { g.to_dtype(dtype) }
}

/// `op(a, b)` with broadcasting, promotion and a recorded backward.
pub fn binary(op: BinaryOp, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let name = op.name();
    let shape = broadcast_shapes(name, a.shape(), b.shape())?;
    let mut dtype = result_type(a, b);
    if op == BinaryOp::Div {
        dtype = dtype.to_float();
    }
    // Borrowed when no cast is needed: the per-op path pays no reference-count traffic.
    let a_c = if a.dtype() == dtype { Cow::Borrowed(a) } else { Cow::Owned(a.to_dtype(dtype)?) };
    let b_c = if b.dtype() == dtype { Cow::Borrowed(b) } else { Cow::Owned(b.to_dtype(dtype)?) };
    let out = compute(op, &a_c, &b_c, dtype, &shape)?;
    if !will_record(&[a, b]) {
        return Ok(untracked(out, &[a, b]));
    }
    let (sa, sb) = (a.shape().to_vec(), b.shape().to_vec());
    let (da, db) = (a.dtype(), b.dtype());
    let needs_a = a.requires_grad();
    let needs_b = b.requires_grad();
    match op {
        BinaryOp::Add | BinaryOp::Sub => {
            let node = if op == BinaryOp::Add { "AddBackward" } else { "SubBackward" };
            record(out, node, &[a, b], move |_| {
                Ok(move |g: &Tensor, needs: &[bool]| {
                    let ga = if needs[0] { Some(reduce_grad(g, &sa, da)?) } else { None };
                    let gb = if needs[1] {
                        let gb = reduce_grad(g, &sb, db)?;
                        Some(if op == BinaryOp::Sub { gb.neg()? } else { gb })
                    } else {
                        None
                    };
                    Ok(grads([ga, gb]))
                })
            })
        }
        BinaryOp::Mul => {
            // Each input's gradient needs only the other input.
            let save_a = if needs_b { Some(SavedTensor::new(&a_c)?) } else { None };
            let save_b = if needs_a { Some(SavedTensor::new(&b_c)?) } else { None };
            record(out, "MulBackward", &[a, b], move |_| {
                Ok(move |g: &Tensor, needs: &[bool]| {
                    let ga = match (&save_b, needs[0]) {
                        (Some(b), true) => Some(reduce_grad(&g.mul(&b.get()?)?, &sa, da)?),
                        _ => None,
                    };
                    let gb = match (&save_a, needs[1]) {
                        (Some(a), true) => Some(reduce_grad(&g.mul(&a.get()?)?, &sb, db)?),
                        _ => None,
                    };
                    Ok(grads([ga, gb]))
                })
            })
        }
        BinaryOp::Div => {
            let save_b = SavedTensor::new(&b_c)?;
            let save_a = if needs_b { Some(SavedTensor::new(&a_c)?) } else { None };
            record(out, "DivBackward", &[a, b], move |_| {
                Ok(move |g: &Tensor, needs: &[bool]| {
                    let b = save_b.get()?;
                    let ga = if needs[0] { Some(reduce_grad(&g.div(&b)?, &sa, da)?) } else { None };
                    let gb = match (&save_a, needs[1]) {
                        // d(a/b)/db = -a / b^2
                        (Some(a), true) => {
                            let t = g.mul(&a.get()?)?.div(&b.mul(&b)?)?.neg()?;
                            Some(reduce_grad(&t, &sb, db)?)
                        }
                        _ => None,
                    };
                    Ok(grads([ga, gb]))
                })
            })
        }
        BinaryOp::Pow => {
            let save_a = SavedTensor::new(&a_c)?;
            let save_b = SavedTensor::new(&b_c)?;
            let save_out = if needs_b { Some(SavedTensor::new(&out)?) } else { None };
            record(out, "PowBackward", &[a, b], move |_| {
                Ok(move |g: &Tensor, needs: &[bool]| {
                    let (a, b) = (save_a.get()?, save_b.get()?);
                    let ga = if needs[0] {
                        // b * a^(b-1), with 0 where b == 0 (so 0^0 has derivative 0, as in PyTorch)
                        let d = b.mul(&a.pow(&b.sub_scalar(1.0)?)?)?;
                        let d = d.where_mask(&b.eq_scalar(0.0)?, 0.0)?;
                        Some(reduce_grad(&g.mul(&d)?, &sa, da)?)
                    } else {
                        None
                    };
                    let gb = match (&save_out, needs[1]) {
                        (Some(out), true) => {
                            // out * ln(a), with 0 where a == 0 and b >= 0
                            let d = out.get()?.mul(&a.log()?)?;
                            let zero_base = a.eq_scalar(0.0)?.logical_and(&b.ge_scalar(0.0)?)?;
                            let d = d.where_mask(&zero_base, 0.0)?;
                            Some(reduce_grad(&g.mul(&d)?, &sb, db)?)
                        }
                        _ => None,
                    };
                    Ok(grads([ga, gb]))
                })
            })
        }
        BinaryOp::Maximum | BinaryOp::Minimum => {
            let save_a = SavedTensor::new(&a_c)?;
            let save_b = SavedTensor::new(&b_c)?;
            let node = if op == BinaryOp::Maximum { "MaximumBackward" } else { "MinimumBackward" };
            record(out, node, &[a, b], move |_| {
                Ok(move |g: &Tensor, needs: &[bool]| {
                    let (a, b) = (save_a.get()?, save_b.get()?);
                    // Ties split the gradient evenly, as PyTorch does.
                    let a_wins = if op == BinaryOp::Maximum { a.gt(&b)? } else { a.lt(&b)? };
                    let tie = a.eq(&b)?;
                    let wa = a_wins.to_dtype(g.dtype())?.add(&tie.to_dtype(g.dtype())?.mul_scalar(0.5)?)?;
                    let ga = if needs[0] { Some(reduce_grad(&g.mul(&wa)?, &sa, da)?) } else { None };
                    let gb = if needs[1] { Some(reduce_grad(&g.mul(&wa.rsub_scalar(1.0)?)?, &sb, db)?) } else { None };
                    Ok(grads([ga, gb]))
                })
            })
        }
    }
}

/// `op(a, scalar)` or, with `reversed`, `op(scalar, a)`.
pub fn binary_scalar(op: BinaryOp, a: &Tensor, s: Scalar, reversed: bool) -> Result<Tensor> {
    let st = scalar_operand(a, s);
    if reversed { binary(op, &st, a) } else { binary(op, a, &st) }
}

macro_rules! tensor_binops {
    ($($name:ident, $scalar:ident, $rscalar:ident => $op:ident;)*) => {
        impl Tensor {$(
            pub fn $name(&self, other: &Tensor) -> Result<Tensor> {
                binary(BinaryOp::$op, self, other)
            }
            pub fn $scalar(&self, s: impl Into<Scalar>) -> Result<Tensor> {
                binary_scalar(BinaryOp::$op, self, s.into(), false)
            }
            pub fn $rscalar(&self, s: impl Into<Scalar>) -> Result<Tensor> {
                binary_scalar(BinaryOp::$op, self, s.into(), true)
            }
        )*}
    };
}

tensor_binops! {
    add, add_scalar, radd_scalar => Add;
    sub, sub_scalar, rsub_scalar => Sub;
    mul, mul_scalar, rmul_scalar => Mul;
    div, div_scalar, rdiv_scalar => Div;
    pow, pow_scalar, rpow_scalar => Pow;
    maximum, maximum_scalar, rmaximum_scalar => Maximum;
    minimum, minimum_scalar, rminimum_scalar => Minimum;
}
