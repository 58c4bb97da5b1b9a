//! Arithmetic between two tensors (or a tensor and a Python-style scalar) with NumPy
//! broadcasting and PyTorch's type promotion, and the derivatives of each.

use super::{grads, record, untracked, will_record};
use crate::autograd::saved::SavedTensor;
use crate::dtype::{DType, Element, Scalar};
use crate::error::{Error, Result};
use crate::kernels::elementwise;
use crate::shape::broadcast_shapes;
use crate::tensor::Tensor;
use std::borrow::Cow;

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

fn zip_op<T: Element, O: Element>(
    a: &Tensor,
    b: &Tensor,
    shape: &[usize],
    f: impl Fn(T, T) -> O + Sync + Send,
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
    if x.is_nan() || y.is_nan() {
        T::nan()
    } else if x >= y {
        x
    } else {
        y
    }
}
fn nan_min<T: num_traits::Float>(x: T, y: T) -> T {
    if x.is_nan() || y.is_nan() {
        T::nan()
    } else if x <= y {
        x
    } else {
        y
    }
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
                Pow => {
                    zip_op::<$T, $T>(a, b, shape, |x, y| if y == 2.0 { x * x } else { x.powf(y) })
                }
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
                    return Err(Error::invalid(
                        "pow",
                        "Integers to negative integer powers are not allowed.",
                    ));
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
    if g.dtype() == dtype {
        Ok(g)
    } else {
        g.to_dtype(dtype)
    }
}

/// `op(a, b)` with broadcasting, promotion and a recorded backward.
pub fn binary(op: BinaryOp, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let name = op.name();
    let shape = broadcast_shapes(name, a.shape(), b.shape())?;
    let mut dtype = result_type(a, b);
    if op == BinaryOp::Div {
        dtype = dtype.to_float();
    }
    // Broadcasting can ask for far more than either input holds.
    let numel = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .unwrap_or(usize::MAX);
    crate::memory::check_can_allocate(name, numel.saturating_mul(dtype.size_in_bytes()))?;
    // Borrowed when no cast is needed: the per-op path pays no reference-count traffic.
    let a_c = if a.dtype() == dtype {
        Cow::Borrowed(a)
    } else {
        Cow::Owned(a.to_dtype(dtype)?)
    };
    let b_c = if b.dtype() == dtype {
        Cow::Borrowed(b)
    } else {
        Cow::Owned(b.to_dtype(dtype)?)
    };
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
            let node = if op == BinaryOp::Add {
                "AddBackward"
            } else {
                "SubBackward"
            };
            record(out, node, &[a, b], move |_| {
                Ok(move |g: &Tensor, needs: &[bool]| {
                    let ga = if needs[0] {
                        Some(reduce_grad(g, &sa, da)?)
                    } else {
                        None
                    };
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
            let save_a = if needs_b {
                Some(SavedTensor::new(&a_c)?)
            } else {
                None
            };
            let save_b = if needs_a {
                Some(SavedTensor::new(&b_c)?)
            } else {
                None
            };
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
            let save_a = if needs_b {
                Some(SavedTensor::new(&a_c)?)
            } else {
                None
            };
            record(out, "DivBackward", &[a, b], move |_| {
                Ok(move |g: &Tensor, needs: &[bool]| {
                    let b = save_b.get()?;
                    let ga = if needs[0] {
                        Some(reduce_grad(&g.div(&b)?, &sa, da)?)
                    } else {
                        None
                    };
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
            let save_out = if needs_b {
                Some(SavedTensor::new(&out)?)
            } else {
                None
            };
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
            let node = if op == BinaryOp::Maximum {
                "MaximumBackward"
            } else {
                "MinimumBackward"
            };
            record(out, node, &[a, b], move |_| {
                Ok(move |g: &Tensor, needs: &[bool]| {
                    let (a, b) = (save_a.get()?, save_b.get()?);
                    // Ties split the gradient evenly, as PyTorch does.
                    let a_wins = if op == BinaryOp::Maximum {
                        a.gt(&b)?
                    } else {
                        a.lt(&b)?
                    };
                    let tie = a.eq(&b)?;
                    let wa = a_wins
                        .to_dtype(g.dtype())?
                        .add(&tie.to_dtype(g.dtype())?.mul_scalar(0.5)?)?;
                    let ga = if needs[0] {
                        Some(reduce_grad(&g.mul(&wa)?, &sa, da)?)
                    } else {
                        None
                    };
                    let gb = if needs[1] {
                        Some(reduce_grad(&g.mul(&wa.rsub_scalar(1.0)?)?, &sb, db)?)
                    } else {
                        None
                    };
                    Ok(grads([ga, gb]))
                })
            })
        }
    }
}

/// `op(a, scalar)` or, with `reversed`, `op(scalar, a)`.
pub fn binary_scalar(op: BinaryOp, a: &Tensor, s: Scalar, reversed: bool) -> Result<Tensor> {
    let st = scalar_operand(a, s);
    // `t op c` for a float tensor and a Python number that keeps its dtype: the constant's
    // derivative rules need only its value, so nothing is saved and the node holds one
    // closure (the per-node cost of long chains like `y = y * 1.0001`).
    let constant_rhs = !reversed
        && matches!(
            op,
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div
        )
        && a.dtype().is_float()
        && st.dtype() == a.dtype();
    if constant_rhs && will_record(&[a]) {
        let out = compute(op, a, &st, a.dtype(), a.shape())?;
        let c = s.as_f64();
        let name = match op {
            BinaryOp::Add => "AddBackward",
            BinaryOp::Sub => "SubBackward",
            BinaryOp::Mul => "MulBackward",
            _ => "DivBackward",
        };
        return record(out, name, &[a], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                let ga = match op {
                    BinaryOp::Mul => g.mul(&Tensor::scalar_of(Scalar::Float(c), g.dtype()))?,
                    BinaryOp::Div => g.div(&Tensor::scalar_of(Scalar::Float(c), g.dtype()))?,
                    _ => g.clone(),
                };
                Ok(grads([Some(ga)]))
            })
        });
    }
    if reversed {
        binary(op, &st, a)
    } else {
        binary(op, a, &st)
    }
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

// ----- where, rounding divisions, remainders and float-only binary functions -----

use crate::kernels::{ELEMENTWISE_PAR_MIN, ternary};
use crate::with_float;

fn cast(t: &Tensor, dtype: DType) -> Result<Tensor> {
    if t.dtype() == dtype {
        Ok(t.clone())
    } else {
        t.to_dtype(dtype)
    }
}

/// `f(g, x, y)` over g's shape, with x and y broadcast to it (fused backward kernels).
fn zip3_t<T: Element>(
    g: &Tensor,
    x: &Tensor,
    y: &Tensor,
    f: impl Fn(T, T, T) -> T + Sync + Send,
) -> Tensor {
    let (bg, bx, by) = (g.storage().read(), x.storage().read(), y.storage().read());
    let v = ternary::zip3(
        T::slice(&bg),
        g.layout(),
        T::slice(&bx),
        x.layout(),
        T::slice(&by),
        y.layout(),
        g.shape(),
        ELEMENTWISE_PAR_MIN,
        f,
    );
    Tensor::from_buffer_vec(v, g.shape())
}

/// A binary op that computes in floating point, with a fused backward for each input.
/// In the expressions, `T` is the float type; the forward sees `(x, y)`, each gradient
/// rule `(g, x, y)`.
macro_rules! float_binary {
    ($a:expr, $b:expr, $name:literal, $node:literal, |$x:ident, $y:ident| $fwd:expr,
     |$g1:ident, $x1:ident, $y1:ident| $bwa:expr, |$g2:ident, $x2:ident, $y2:ident| $bwb:expr) => {{
        let (a, b): (&Tensor, &Tensor) = ($a, $b);
        let shape = broadcast_shapes($name, a.shape(), b.shape())?;
        let dtype = result_type(a, b).to_float();
        let (a_c, b_c) = (cast(a, dtype)?, cast(b, dtype)?);
        let out = with_float!(dtype, T => zip_op::<T, T>(&a_c, &b_c, &shape, |$x: T, $y: T| $fwd), _ => unreachable!());
        if !will_record(&[a, b]) {
            return Ok(out);
        }
        let (sa, sb) = (SavedTensor::new(&a_c)?, SavedTensor::new(&b_c)?);
        let (sha, shb, da, db) = (a.shape().to_vec(), b.shape().to_vec(), a.dtype(), b.dtype());
        record(out, $node, &[a, b], move |_| {
            Ok(move |g: &Tensor, needs: &[bool]| {
                let (x, y) = (sa.get()?, sb.get()?);
                let g = &cast(g, x.dtype())?;
                let ga = if needs[0] {
                    let t = with_float!(g.dtype(), T => zip3_t::<T>(g, &x, &y, |$g1: T, $x1: T, $y1: T| $bwa), _ => unreachable!());
                    Some(reduce_grad(&t, &sha, da)?)
                } else {
                    None
                };
                let gb = if needs[1] {
                    let t = with_float!(g.dtype(), T => zip3_t::<T>(g, &x, &y, |$g2: T, $x2: T, $y2: T| $bwb), _ => unreachable!());
                    Some(reduce_grad(&t, &shb, db)?)
                } else {
                    None
                };
                Ok(grads([ga, gb]))
            })
        })
    }};
}

/// How `div` rounds its quotient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoundingMode {
    Trunc,
    Floor,
}

impl RoundingMode {
    pub fn parse(s: Option<&str>) -> Result<Option<RoundingMode>> {
        match s {
            None => Ok(None),
            Some("trunc") => Ok(Some(RoundingMode::Trunc)),
            Some("floor") => Ok(Some(RoundingMode::Floor)),
            Some(other) => Err(Error::invalid(
                "div",
                format!(
                    "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{other}'"
                ),
            )),
        }
    }
}

/// Python's float floor division (the quotient PyTorch's floor rounding gives).
fn floordiv_f64(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        return a / b;
    }
    let m = a % b;
    let mut div = (a - m) / b;
    if m != 0.0 && ((b < 0.0) != (m < 0.0)) {
        div -= 1.0;
    }
    if div != 0.0 {
        let fl = div.floor();
        if div - fl > 0.5 { fl + 1.0 } else { fl }
    } else {
        0.0f64.copysign(a / b)
    }
}

fn floordiv_i64(a: i64, b: i64) -> i64 {
    let q = a.wrapping_div(b);
    if a.wrapping_rem(b) != 0 && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

fn remainder_f64(a: f64, b: f64) -> f64 {
    let mut m = a % b;
    if m != 0.0 && ((b < 0.0) != (m < 0.0)) {
        m += b;
    }
    m
}

fn remainder_i64(a: i64, b: i64) -> i64 {
    let r = a.wrapping_rem(b);
    if r != 0 && ((r < 0) != (b < 0)) {
        r + b
    } else {
        r
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum IntDivOp {
    Trunc,
    Floor,
    Remainder,
    Fmod,
}

/// The integer-style division ops: dtype from promotion (ints stay ints), zero gradient
/// for the rounded quotients, and for the remainders d/da = 1, d/db = -quotient.
fn int_div_op(op: IntDivOp, name: &'static str, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let shape = broadcast_shapes(name, a.shape(), b.shape())?;
    let dtype = result_type(a, b);
    if dtype == DType::Bool {
        return Err(Error::dtype(
            name,
            format!("{name} is not defined for two bool tensors"),
        ));
    }
    let (a_c, b_c) = (cast(a, dtype)?, cast(b, dtype)?);
    let out = match dtype {
        DType::I64 => {
            // Integer division by zero has no value; Rust would panic, PyTorch raises.
            if b_c.to_vec::<i64>()?.contains(&0) {
                return Err(Error::invalid(
                    name,
                    "ZeroDivisionError: integer division or modulo by zero",
                ));
            }
            let f: fn(i64, i64) -> i64 = match op {
                IntDivOp::Trunc => i64::wrapping_div,
                IntDivOp::Floor => floordiv_i64,
                IntDivOp::Remainder => remainder_i64,
                IntDivOp::Fmod => i64::wrapping_rem,
            };
            zip_op::<i64, i64>(&a_c, &b_c, &shape, f)
        }
        _ => {
            let f: fn(f64, f64) -> f64 = match op {
                IntDivOp::Trunc => |x, y| (x / y).trunc(),
                IntDivOp::Floor => floordiv_f64,
                IntDivOp::Remainder => remainder_f64,
                IntDivOp::Fmod => |x, y| x % y,
            };
            with_float!(dtype, T => zip_op::<T, T>(&a_c, &b_c, &shape, move |x: T, y: T| T::from_f64(f(x.to_f64(), y.to_f64()))), _ => unreachable!())
        }
    };
    if !will_record(&[a, b]) {
        return Ok(out);
    }
    let (sha, shb, da, db) = (a.shape().to_vec(), b.shape().to_vec(), a.dtype(), b.dtype());
    match op {
        IntDivOp::Trunc | IntDivOp::Floor => record(out, "DivBackward", &[a, b], move |_| {
            Ok(move |_: &Tensor, needs: &[bool]| {
                let ga = if needs[0] {
                    Some(Tensor::zeros(&sha, da)?)
                } else {
                    None
                };
                let gb = if needs[1] {
                    Some(Tensor::zeros(&shb, db)?)
                } else {
                    None
                };
                Ok(grads([ga, gb]))
            })
        }),
        IntDivOp::Remainder | IntDivOp::Fmod => {
            let (sa, sb) = (SavedTensor::new(&a_c)?, SavedTensor::new(&b_c)?);
            let node = if op == IntDivOp::Remainder {
                "RemainderBackward"
            } else {
                "FmodBackward"
            };
            let qop = if op == IntDivOp::Remainder {
                IntDivOp::Floor
            } else {
                IntDivOp::Trunc
            };
            record(out, node, &[a, b], move |_| {
                Ok(move |g: &Tensor, needs: &[bool]| {
                    let ga = if needs[0] {
                        Some(reduce_grad(g, &sha, da)?)
                    } else {
                        None
                    };
                    let gb = if needs[1] {
                        let q = int_div_op(qop, "div", &sa.get()?, &sb.get()?)?;
                        Some(reduce_grad(&g.mul(&q)?.neg()?, &shb, db)?)
                    } else {
                        None
                    };
                    Ok(grads([ga, gb]))
                })
            })
        }
    }
}

#[inline(always)]
fn sigmoid_t<T: crate::dtype::FloatElement>(x: T) -> T {
    super::unary::sigmoid_scalar(x)
}

impl Tensor {
    /// `a` where `cond` is true, else `b` (all three broadcast; `a` and `b` promote).
    pub fn where_(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        if cond.dtype() != DType::Bool {
            return Err(Error::dtype(
                "where",
                format!(
                    "where expected condition to be a boolean tensor, but got a tensor with dtype {}",
                    cond.dtype()
                ),
            ));
        }
        let shape = broadcast_shapes("where", a.shape(), b.shape())?;
        let shape = broadcast_shapes("where", cond.shape(), &shape)?;
        let dtype = result_type(a, b);
        let (a_c, b_c) = (cast(a, dtype)?, cast(b, dtype)?);
        let out = crate::with_dtype!(dtype, T => {
            let (bc, ba, bb) = (cond.storage().read(), a_c.storage().read(), b_c.storage().read());
            let v = ternary::zip3(bool::slice(&bc), cond.layout(), T::slice(&ba), a_c.layout(), T::slice(&bb), b_c.layout(), &shape, ELEMENTWISE_PAR_MIN,
                |c: bool, x: T, y: T| if c { x } else { y });
            Tensor::from_buffer_vec(v, &shape)
        });
        if !will_record(&[a, b]) {
            return Ok(out);
        }
        let cond = cond.detach();
        let (sha, shb, da, db) = (a.shape().to_vec(), b.shape().to_vec(), a.dtype(), b.dtype());
        record(out, "WhereBackward", &[a, b], move |_| {
            Ok(move |g: &Tensor, needs: &[bool]| {
                let zero = Tensor::scalar_of(Scalar::Float(0.0), g.dtype());
                let ga = if needs[0] {
                    Some(reduce_grad(&Tensor::where_(&cond, g, &zero)?, &sha, da)?)
                } else {
                    None
                };
                let gb = if needs[1] {
                    Some(reduce_grad(&Tensor::where_(&cond, &zero, g)?, &shb, db)?)
                } else {
                    None
                };
                Ok(grads([ga, gb]))
            })
        })
    }

    /// `self + alpha * other`. A float alpha is refused for int results (as PyTorch).
    pub fn add_alpha(&self, other: &Tensor, alpha: Scalar) -> Result<Tensor> {
        if alpha == Scalar::Int(1) {
            return self.add(other);
        }
        check_alpha("add", self, other, alpha)?;
        self.add(&other.mul_scalar(alpha)?)
    }

    /// `self - alpha * other`.
    pub fn sub_alpha(&self, other: &Tensor, alpha: Scalar) -> Result<Tensor> {
        if alpha == Scalar::Int(1) {
            return self.sub(other);
        }
        check_alpha("sub", self, other, alpha)?;
        self.sub(&other.mul_scalar(alpha)?)
    }

    /// Division with an optional rounding of the quotient (`None` is true division).
    pub fn div_mode(&self, other: &Tensor, mode: Option<RoundingMode>) -> Result<Tensor> {
        match mode {
            None => self.div(other),
            Some(RoundingMode::Trunc) => int_div_op(IntDivOp::Trunc, "div", self, other),
            Some(RoundingMode::Floor) => int_div_op(IntDivOp::Floor, "div", self, other),
        }
    }

    /// `floor(self / other)`, keeping int dtypes (`//`).
    pub fn floor_divide(&self, other: &Tensor) -> Result<Tensor> {
        int_div_op(IntDivOp::Floor, "floor_divide", self, other)
    }

    /// Python's modulus: the result has the sign of the divisor (`%`).
    pub fn remainder(&self, other: &Tensor) -> Result<Tensor> {
        int_div_op(IntDivOp::Remainder, "remainder", self, other)
    }

    /// C's fmod: the result has the sign of the dividend.
    pub fn fmod(&self, other: &Tensor) -> Result<Tensor> {
        int_div_op(IntDivOp::Fmod, "fmod", self, other)
    }

    /// atan(self / other) in the correct quadrant.
    pub fn atan2(&self, other: &Tensor) -> Result<Tensor> {
        float_binary!(
            self,
            other,
            "atan2",
            "Atan2Backward",
            |x, y| x.atan2(y),
            |g, x, y| g * y / (x * x + y * y),
            |g, x, y| -(g * x) / (x * x + y * y)
        )
    }

    /// sqrt(self^2 + other^2) without overflow.
    pub fn hypot(&self, other: &Tensor) -> Result<Tensor> {
        float_binary!(
            self,
            other,
            "hypot",
            "HypotBackward",
            |x, y| x.hypot(y),
            |g, x, y| g * x / x.hypot(y),
            |g, x, y| g * y / x.hypot(y)
        )
    }

    /// log(e^self + e^other), stable for large magnitudes.
    pub fn logaddexp(&self, other: &Tensor) -> Result<Tensor> {
        float_binary!(
            self,
            other,
            "logaddexp",
            "LogaddexpBackward",
            |x, y| if x == y {
                x + T::from_f64(std::f64::consts::LN_2)
            } else {
                x.max(y) + (-(x - y).abs()).exp().ln_1p()
            },
            |g, x, y| if x == y {
                g * T::from_f64(0.5)
            } else {
                g * sigmoid_t(x - y)
            },
            |g, x, y| if x == y {
                g * T::from_f64(0.5)
            } else {
                g * sigmoid_t(y - x)
            }
        )
    }

    /// `self + weight * (end - self)`.
    pub fn lerp(&self, end: &Tensor, weight: &Tensor) -> Result<Tensor> {
        if !(self.dtype().is_float() && end.dtype().is_float() && weight.dtype().is_float()) {
            return Err(Error::dtype(
                "lerp",
                format!(
                    "lerp expects floating point tensors, got {}, {} and {}",
                    self.dtype(),
                    end.dtype(),
                    weight.dtype()
                ),
            ));
        }
        broadcast_shapes(
            "lerp",
            &broadcast_shapes("lerp", self.shape(), end.shape())?,
            weight.shape(),
        )?;
        self.add(&end.sub(self)?.mul(weight)?)
    }
}

fn check_alpha(op: &'static str, a: &Tensor, b: &Tensor, alpha: Scalar) -> Result<()> {
    let dtype = result_type(a, b);
    match alpha {
        Scalar::Float(_) if !dtype.is_float() => Err(Error::dtype(
            op,
            format!(
                "For integral input tensors, argument alpha must not be a floating point number (got {dtype} inputs)"
            ),
        )),
        Scalar::Int(_) if dtype == DType::Bool => Err(Error::dtype(
            op,
            "Boolean alpha only supported for Boolean results.",
        )),
        _ => Ok(()),
    }
}
