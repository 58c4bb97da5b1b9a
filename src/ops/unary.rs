//! Elementwise functions of one tensor, each with its derivative.

use super::{grads, record};
use crate::autograd::saved::SavedTensor;
use crate::dtype::{DType, Element, FloatElement};
use crate::error::{Error, Result};
use crate::kernels::{ELEMENTWISE_PAR_MIN, elementwise};
use crate::tensor::Tensor;
use crate::{with_dtype, with_float, with_numeric};

/// Cheaper-per-element ops split across threads from this size; transcendental ones earlier.
const TRANSCENDENTAL_PAR_MIN: usize = 1 << 14;

/// `f` over every element into a new tensor of dtype `U`.
pub(crate) fn map<T: Element, U: Element>(
    t: &Tensor,
    par_min: usize,
    f: impl Fn(T) -> U + Sync + Send,
) -> Tensor {
    let buf = t.storage().read();
    let out = elementwise::map(T::slice(&buf), t.layout(), par_min, f);
    Tensor::from_buffer_vec(out, t.shape())
}

/// `f(a, b)` over two tensors of one shape (backward rules use this for fused gradients).
pub(crate) fn zip_same<A: Element, B: Element, O: Element>(
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(A, B) -> O + Sync + Send,
) -> Tensor {
    debug_assert_eq!(a.shape(), b.shape());
    let (ba, bb) = (a.storage().read(), b.storage().read());
    let out = elementwise::zip(
        A::slice(&ba),
        a.layout(),
        B::slice(&bb),
        b.layout(),
        a.shape(),
        f,
    );
    Tensor::from_buffer_vec(out, a.shape())
}

/// The tensor itself if it is float, else its float32 copy (PyTorch computes `exp` of an int
/// tensor in the default float dtype).
pub(crate) fn as_float(t: &Tensor) -> Result<Tensor> {
    if t.dtype().is_float() {
        Ok(t.clone())
    } else {
        t.to_dtype(DType::F32)
    }
}

/// e^x of a float tensor; contiguous data goes through the whole-slice kernel.
fn exp_forward(x: &Tensor) -> Tensor {
    use crate::kernels::math::FastExp;
    with_float!(x.dtype(), T => {
        let buf = x.storage().read();
        let out = elementwise::map_slices(
            T::slice(&buf), x.layout(), TRANSCENDENTAL_PAR_MIN, T::fast_exp, T::exp_slice,
        );
        Tensor::from_buffer_vec(out, x.shape())
    }, _ => unreachable!("as_float returned a float tensor"))
}

macro_rules! float_unary {
    ($(#[$doc:meta])* $name:ident, $node:literal, |$x:ident| $fwd:expr, $par:expr, $($rest:tt)*) => {
        float_unary!(@op $(#[$doc])* $name, $node,
            |x: &Tensor| with_float!(x.dtype(), T => map::<T, T>(x, $par, |$x: T| $fwd),
                _ => unreachable!("as_float returned a float tensor")),
            $($rest)*);
    };
    (@op $(#[$doc:meta])* $name:ident, $node:literal, $forward:expr,
     |$g:ident, $xs:ident, $ys:ident| $bwd:expr, saves_input = $si:expr, saves_output = $so:expr) => {
        $(#[$doc])*
        pub fn $name(&self) -> Result<Tensor> {
            let x = as_float(self)?;
            let out = ($forward)(&x);
            let saved_in = if $si && super::will_record(&[&x]) { Some(SavedTensor::new(&x)?) } else { None };
            let saved_out = if $so && super::will_record(&[&x]) { Some(SavedTensor::new(&out)?) } else { None };
            record(out, $node, &[&x], move |_| {
                Ok(move |$g: &Tensor, _: &[bool]| {
                    let $xs = saved_in.as_ref().map(SavedTensor::get).transpose()?;
                    let $ys = saved_out.as_ref().map(SavedTensor::get).transpose()?;
                    Ok(grads([Some($bwd?)]))
                })
            })
        }
    };
}

fn fused<F: Fn(f64, f64) -> f64 + Sync + Send>(g: &Tensor, s: &Tensor, f: F) -> Result<Tensor> {
    // g and s share one float dtype inside backward rules.
    let s = if s.dtype() == g.dtype() {
        s.clone()
    } else {
        s.to_dtype(g.dtype())?
    };
    Ok(
        with_float!(g.dtype(), T => zip_same::<T, T, T>(g, &s, |g: T, s: T| T::from_f64(f(g.to_f64(), s.to_f64()))),
        _ => return Err(Error::dtype("backward", "gradients must be floating point"))),
    )
}

/// Fused backward kernels generic over the float type (no f64 round trip on the hot ones).
macro_rules! fused_t {
    ($g:expr, $s:expr, |$gv:ident, $sv:ident| $e:expr) => {{
        let g: &Tensor = $g;
        let s: &Tensor = $s;
        with_float!(g.dtype(), T => {
            Ok::<Tensor, Error>(zip_same::<T, T, T>(g, s, |$gv: T, $sv: T| $e))
        }, _ => Err(Error::dtype("backward", "gradients must be floating point")))
    }};
}

impl Tensor {
    float_unary!(@op
        /// e^x.
        exp, "ExpBackward", exp_forward,
        |g, _x, y| fused_t!(g, y.as_ref().expect("output saved when recording"), |g, y| g * y),
        saves_input = false, saves_output = true
    );
    float_unary!(
        /// Natural logarithm.
        log, "LogBackward", |x| num_traits::Float::ln(x), TRANSCENDENTAL_PAR_MIN,
        |g, x, _y| fused_t!(g, x.as_ref().expect("input saved when recording"), |g, x| g / x),
        saves_input = true, saves_output = false
    );
    float_unary!(
        /// Square root.
        sqrt, "SqrtBackward", |x| num_traits::Float::sqrt(x), TRANSCENDENTAL_PAR_MIN,
        |g, _x, y| fused_t!(g, y.as_ref().expect("output saved when recording"), |g, y| g / (y + y)),
        saves_input = false, saves_output = true
    );
    float_unary!(
        /// Hyperbolic tangent.
        tanh, "TanhBackward", |x| num_traits::Float::tanh(x), TRANSCENDENTAL_PAR_MIN,
        |g, _x, y| fused_t!(g, y.as_ref().expect("output saved when recording"), |g, y| g * (T::ONE - y * y)),
        saves_input = false, saves_output = true
    );
    float_unary!(
        /// The logistic function 1 / (1 + e^-x), stable for large |x|.
        sigmoid, "SigmoidBackward", |x| sigmoid_scalar(x), TRANSCENDENTAL_PAR_MIN,
        |g, _x, y| fused_t!(g, y.as_ref().expect("output saved when recording"), |g, y| g * y * (T::ONE - y)),
        saves_input = false, saves_output = true
    );

    /// max(x, 0). Keeps the dtype of int tensors.
    pub fn relu(&self) -> Result<Tensor> {
        if !self.dtype().is_float() {
            return with_numeric!(self.dtype(), T => Ok(map::<T, T>(self, ELEMENTWISE_PAR_MIN, |x: T| if x < T::ZERO { T::ZERO } else { x })),
                _ => Err(Error::dtype("relu", "relu is not defined for bool tensors")));
        }
        let out = with_float!(self.dtype(), T => map::<T, T>(self, ELEMENTWISE_PAR_MIN, |x: T| if x < T::ZERO { T::ZERO } else { x }),
            _ => unreachable!());
        let saved = if super::will_record(&[self]) {
            Some(SavedTensor::new(&out)?)
        } else {
            None
        };
        record(out, "ReluBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                let y = saved.as_ref().expect("saved when recording").get()?;
                let gx = fused_t!(g, &y, |g, y| if y > T::ZERO { g } else { T::ZERO })?;
                Ok(grads([Some(gx)]))
            })
        })
    }

    /// -x (any numeric dtype).
    pub fn neg(&self) -> Result<Tensor> {
        let out = match self.dtype() {
            DType::F32 => map::<f32, f32>(self, ELEMENTWISE_PAR_MIN, |x| -x),
            DType::F64 => map::<f64, f64>(self, ELEMENTWISE_PAR_MIN, |x| -x),
            DType::I64 => map::<i64, i64>(self, ELEMENTWISE_PAR_MIN, |x| x.wrapping_neg()),
            DType::Bool => {
                return Err(Error::dtype(
                    "neg",
                    "negation is not defined for bool tensors; use logical_not",
                ));
            }
        };
        record(out, "NegBackward", &[self], |_| {
            Ok(|g: &Tensor, _: &[bool]| Ok(grads([Some(g.neg()?)])))
        })
    }

    /// |x|.
    pub fn abs(&self) -> Result<Tensor> {
        let out = match self.dtype() {
            DType::F32 => map::<f32, f32>(self, ELEMENTWISE_PAR_MIN, f32::abs),
            DType::F64 => map::<f64, f64>(self, ELEMENTWISE_PAR_MIN, f64::abs),
            DType::I64 => map::<i64, i64>(self, ELEMENTWISE_PAR_MIN, i64::wrapping_abs),
            DType::Bool => self.contiguous_copy()?,
        };
        let saved = if super::will_record(&[self]) {
            Some(SavedTensor::new(self)?)
        } else {
            None
        };
        record(out, "AbsBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                let x = saved.as_ref().expect("saved when recording").get()?;
                Ok(grads([Some(fused(g, &x, |g, x| {
                    if x > 0.0 {
                        g
                    } else if x < 0.0 {
                        -g
                    } else {
                        0.0
                    }
                })?)]))
            })
        })
    }

    /// A copy with its own storage; gradients flow back unchanged.
    pub fn clone_tensor(&self) -> Result<Tensor> {
        let out = self.contiguous_copy()?;
        record(out, "CloneBackward", &[self], |_| {
            Ok(|g: &Tensor, _: &[bool]| Ok(grads([Some(g.clone())])))
        })
    }

    /// This tensor converted to `dtype` (itself when it already has it). Casting a float
    /// tensor to another float dtype keeps the graph; casting to int or bool drops it.
    pub fn to_dtype(&self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        use crate::kernels::cast::cast;
        let out = with_dtype!(self.dtype(), S => with_dtype!(dtype, D => map::<S, D>(self, ELEMENTWISE_PAR_MIN, cast::<S, D>)));
        if !(dtype.is_float() && self.dtype().is_float()) {
            return Ok(out);
        }
        let from = self.dtype();
        record(out, "ToCopyBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(g.to_dtype(from)?)])))
        })
    }
}

#[inline(always)]
pub(crate) fn sigmoid_scalar<T: FloatElement>(x: T) -> T {
    let one = T::ONE;
    if x >= T::ZERO {
        one / (one + (-x).exp())
    } else {
        let e = x.exp();
        e / (one + e)
    }
}

// ----- more elementwise math (int inputs compute in float32, as in PyTorch) -----

impl Tensor {
    float_unary!(
        /// 2^x.
        exp2, "Exp2Backward", |x| num_traits::Float::exp2(x), TRANSCENDENTAL_PAR_MIN,
        |g, _x, y| fused_t!(g, y.as_ref().expect("output saved when recording"), |g, y| g * y * T::from_f64(std::f64::consts::LN_2)),
        saves_input = false, saves_output = true
    );
    float_unary!(
        /// e^x - 1, accurate near 0.
        expm1, "Expm1Backward", |x| num_traits::Float::exp_m1(x), TRANSCENDENTAL_PAR_MIN,
        |g, _x, y| fused_t!(g, y.as_ref().expect("output saved when recording"), |g, y| g * (y + T::ONE)),
        saves_input = false, saves_output = true
    );
    float_unary!(
        /// Base-2 logarithm.
        log2, "Log2Backward", |x| num_traits::Float::log2(x), TRANSCENDENTAL_PAR_MIN,
        |g, x, _y| fused_t!(g, x.as_ref().expect("input saved when recording"), |g, x| g / (x * T::from_f64(std::f64::consts::LN_2))),
        saves_input = true, saves_output = false
    );
    float_unary!(
        /// Base-10 logarithm.
        log10, "Log10Backward", |x| num_traits::Float::log10(x), TRANSCENDENTAL_PAR_MIN,
        |g, x, _y| fused_t!(g, x.as_ref().expect("input saved when recording"), |g, x| g / (x * T::from_f64(std::f64::consts::LN_10))),
        saves_input = true, saves_output = false
    );
    float_unary!(
        /// ln(1 + x), accurate near 0.
        log1p, "Log1pBackward", |x| num_traits::Float::ln_1p(x), TRANSCENDENTAL_PAR_MIN,
        |g, x, _y| fused_t!(g, x.as_ref().expect("input saved when recording"), |g, x| g / (x + T::ONE)),
        saves_input = true, saves_output = false
    );
    float_unary!(
        /// 1 / sqrt(x).
        rsqrt, "RsqrtBackward", |x| T::ONE / num_traits::Float::sqrt(x), TRANSCENDENTAL_PAR_MIN,
        |g, _x, y| fused_t!(g, y.as_ref().expect("output saved when recording"), |g, y| g * T::from_f64(-0.5) * y * y * y),
        saves_input = false, saves_output = true
    );
    float_unary!(
        /// 1 / x.
        reciprocal, "ReciprocalBackward", |x| T::ONE / x, ELEMENTWISE_PAR_MIN,
        |g, _x, y| fused_t!(g, y.as_ref().expect("output saved when recording"), |g, y| -(g * y * y)),
        saves_input = false, saves_output = true
    );
    float_unary!(
        /// Sine.
        sin, "SinBackward", |x| num_traits::Float::sin(x), TRANSCENDENTAL_PAR_MIN,
        |g, x, _y| fused_t!(g, x.as_ref().expect("input saved when recording"), |g, x| g * x.cos()),
        saves_input = true, saves_output = false
    );
    float_unary!(
        /// Cosine.
        cos, "CosBackward", |x| num_traits::Float::cos(x), TRANSCENDENTAL_PAR_MIN,
        |g, x, _y| fused_t!(g, x.as_ref().expect("input saved when recording"), |g, x| -(g * x.sin())),
        saves_input = true, saves_output = false
    );
    float_unary!(
        /// Tangent.
        tan, "TanBackward", |x| num_traits::Float::tan(x), TRANSCENDENTAL_PAR_MIN,
        |g, _x, y| fused_t!(g, y.as_ref().expect("output saved when recording"), |g, y| g * (T::ONE + y * y)),
        saves_input = false, saves_output = true
    );
    float_unary!(
        /// Arcsine.
        asin, "AsinBackward", |x| num_traits::Float::asin(x), TRANSCENDENTAL_PAR_MIN,
        |g, x, _y| fused_t!(g, x.as_ref().expect("input saved when recording"), |g, x| g / (T::ONE - x * x).sqrt()),
        saves_input = true, saves_output = false
    );
    float_unary!(
        /// Arccosine.
        acos, "AcosBackward", |x| num_traits::Float::acos(x), TRANSCENDENTAL_PAR_MIN,
        |g, x, _y| fused_t!(g, x.as_ref().expect("input saved when recording"), |g, x| -(g / (T::ONE - x * x).sqrt())),
        saves_input = true, saves_output = false
    );
    float_unary!(
        /// Arctangent.
        atan, "AtanBackward", |x| num_traits::Float::atan(x), TRANSCENDENTAL_PAR_MIN,
        |g, x, _y| fused_t!(g, x.as_ref().expect("input saved when recording"), |g, x| g / (T::ONE + x * x)),
        saves_input = true, saves_output = false
    );
    float_unary!(
        /// Hyperbolic sine.
        sinh, "SinhBackward", |x| num_traits::Float::sinh(x), TRANSCENDENTAL_PAR_MIN,
        |g, x, _y| fused_t!(g, x.as_ref().expect("input saved when recording"), |g, x| g * x.cosh()),
        saves_input = true, saves_output = false
    );
    float_unary!(
        /// Hyperbolic cosine.
        cosh, "CoshBackward", |x| num_traits::Float::cosh(x), TRANSCENDENTAL_PAR_MIN,
        |g, x, _y| fused_t!(g, x.as_ref().expect("input saved when recording"), |g, x| g * x.sinh()),
        saves_input = true, saves_output = false
    );

    /// x * x, keeping int dtypes (as PyTorch's `square`).
    pub fn square(&self) -> Result<Tensor> {
        if self.dtype() == DType::Bool {
            return self.to_dtype(DType::I64)?.square();
        }
        self.pow_scalar(2i64)
    }
}
