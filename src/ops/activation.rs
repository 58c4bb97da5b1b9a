//! Activation functions (ReLU family, ELU/SELU, GELU, SiLU, Mish, softplus, hard* ...), each
//! forward kernel next to its derivative. All compute in floating point (int inputs are
//! promoted to float32) and are written to stay finite for large |x|.

use super::unary::{as_float, map, sigmoid_scalar, zip_same};
use super::{grads, record, will_record};
use crate::autograd::saved::SavedTensor;
use crate::dtype::FloatElement;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::with_float;

/// Per-element cost of these kernels makes threads pay off earlier than for plain arithmetic.
pub(crate) const ACT_PAR_MIN: usize = 1 << 14;

/// Forward `y = fwd(x)` over a float copy of `$self`; backward `g * d(x)` from the saved input.
/// Inside both expressions `T` is the float element type (use `T::from_f64` for constants).
macro_rules! float_op {
    ($self:expr, $node:literal, |$x:ident| $fwd:expr, |$g:ident, $xb:ident| $bwd:expr) => {{
        let x = as_float($self)?;
        let out = with_float!(x.dtype(), T => map::<T, T>(&x, ACT_PAR_MIN, move |$x: T| $fwd),
            _ => unreachable!("as_float returned a float tensor"));
        let saved = if will_record(&[&x]) { Some(SavedTensor::new(&x)?) } else { None };
        record(out, $node, &[&x], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                let xs = saved.as_ref().expect("saved when recording").get()?;
                let gx = with_float!(g.dtype(), T => {
                    zip_same::<T, T, T>(g, &xs, move |$g: T, $xb: T| $bwd)
                }, _ => return Err(Error::dtype("backward", "gradients must be floating point")));
                Ok(grads([Some(gx)]))
            })
        })
    }};
}

#[inline(always)]
fn c<T: FloatElement>(v: f64) -> T {
    T::from_f64(v)
}

/// log(1 + e^x) without overflow for large x or loss for very negative x.
#[inline(always)]
pub(crate) fn softplus_scalar<T: FloatElement>(x: T) -> T {
    x.max(T::ZERO) + (-x.abs()).exp().ln_1p()
}

/// The standard normal CDF via erfc, which keeps full relative precision in the far left
/// tail (1 + erf(x) would cancel to 0 there).
#[inline(always)]
fn normal_cdf<T: FloatElement>(x: T) -> T {
    T::from_f64(0.5 * libm::erfc(-x.to_f64() * INV_SQRT_2))
}

const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
const SELU_SCALE: f64 = 1.050_700_987_355_480_5;
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
const INV_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
const GELU_K: f64 = 0.044_715;

/// GELU's approximation choice, as PyTorch's `approximate=` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeluApprox {
    None,
    Tanh,
}

impl GeluApprox {
    pub fn parse(s: &str) -> Result<GeluApprox> {
        match s {
            "none" => Ok(GeluApprox::None),
            "tanh" => Ok(GeluApprox::Tanh),
            other => Err(Error::invalid(
                "gelu",
                format!("approximate argument must be either 'none' or 'tanh', got {other:?}"),
            )),
        }
    }
}

impl Tensor {
    /// log(sigmoid(x)) = -softplus(-x), finite for any x.
    pub fn logsigmoid(&self) -> Result<Tensor> {
        float_op!(
            self,
            "LogSigmoidBackward",
            |x| x.min(T::ZERO) - (-x.abs()).exp().ln_1p(),
            |g, x| g * sigmoid_scalar(-x)
        )
    }

    /// min(max(x, 0), 6).
    pub fn relu6(&self) -> Result<Tensor> {
        self.hardtanh(0.0, 6.0)
    }

    /// x for x > 0, else `negative_slope * x`.
    pub fn leaky_relu(&self, negative_slope: f64) -> Result<Tensor> {
        float_op!(
            self,
            "LeakyReluBackward",
            |x| if x > T::ZERO {
                x
            } else {
                x * c::<T>(negative_slope)
            },
            |g, x| if x > T::ZERO {
                g
            } else {
                g * c::<T>(negative_slope)
            }
        )
    }

    /// x for x > 0, else `alpha * (e^x - 1)`.
    pub fn elu(&self, alpha: f64) -> Result<Tensor> {
        float_op!(
            self,
            "EluBackward",
            |x| if x > T::ZERO {
                x
            } else {
                c::<T>(alpha) * x.exp_m1()
            },
            |g, x| if x > T::ZERO {
                g
            } else {
                g * c::<T>(alpha) * x.exp()
            }
        )
    }

    /// Scaled ELU with the self-normalising constants.
    pub fn selu(&self) -> Result<Tensor> {
        float_op!(
            self,
            "EluBackward",
            |x| c::<T>(SELU_SCALE)
                * if x > T::ZERO {
                    x
                } else {
                    c::<T>(SELU_ALPHA) * x.exp_m1()
                },
            |g, x| g
                * c::<T>(SELU_SCALE)
                * if x > T::ZERO {
                    T::ONE
                } else {
                    c::<T>(SELU_ALPHA) * x.exp()
                }
        )
    }

    /// x * Phi(x) (exact, with erf) or its tanh approximation.
    pub fn gelu(&self, approximate: GeluApprox) -> Result<Tensor> {
        match approximate {
            GeluApprox::None => float_op!(self, "GeluBackward", |x| x * normal_cdf(x), |g, x| {
                let cdf = normal_cdf(x);
                let pdf = c::<T>(INV_SQRT_2PI) * (c::<T>(-0.5) * x * x).exp();
                g * (cdf + x * pdf)
            }),
            GeluApprox::Tanh => float_op!(
                self,
                "GeluBackward",
                |x| {
                    let inner = c::<T>(SQRT_2_OVER_PI) * (x + c::<T>(GELU_K) * x * x * x);
                    c::<T>(0.5) * x * (T::ONE + inner.tanh())
                },
                |g, x| {
                    let inner = c::<T>(SQRT_2_OVER_PI) * (x + c::<T>(GELU_K) * x * x * x);
                    let t = inner.tanh();
                    let dinner = c::<T>(SQRT_2_OVER_PI) * (T::ONE + c::<T>(3.0 * GELU_K) * x * x);
                    g * (c::<T>(0.5) * (T::ONE + t) + c::<T>(0.5) * x * (T::ONE - t * t) * dinner)
                }
            ),
        }
    }

    /// x * sigmoid(x) (a.k.a. swish).
    pub fn silu(&self) -> Result<Tensor> {
        float_op!(self, "SiluBackward", |x| x * sigmoid_scalar(x), |g, x| {
            let s = sigmoid_scalar(x);
            g * s * (T::ONE + x * (T::ONE - s))
        })
    }

    /// x * tanh(softplus(x)).
    pub fn mish(&self) -> Result<Tensor> {
        float_op!(
            self,
            "MishBackward",
            |x| x * softplus_scalar(x).tanh(),
            |g, x| {
                let t = softplus_scalar(x).tanh();
                g * (t + x * sigmoid_scalar(x) * (T::ONE - t * t))
            }
        )
    }

    /// log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (as PyTorch).
    pub fn softplus(&self, beta: f64, threshold: f64) -> Result<Tensor> {
        if beta == 0.0 {
            return Err(Error::invalid("softplus", "beta must be non-zero"));
        }
        float_op!(
            self,
            "SoftplusBackward",
            |x| {
                let bx = x * c::<T>(beta);
                if bx > c::<T>(threshold) {
                    x
                } else {
                    softplus_scalar(bx) / c::<T>(beta)
                }
            },
            |g, x| {
                let bx = x * c::<T>(beta);
                if bx > c::<T>(threshold) {
                    g
                } else {
                    g * sigmoid_scalar(bx)
                }
            }
        )
    }

    /// x / (1 + |x|).
    pub fn softsign(&self) -> Result<Tensor> {
        float_op!(
            self,
            "SoftsignBackward",
            |x| x / (T::ONE + x.abs()),
            |g, x| {
                let d = T::ONE + x.abs();
                g / (d * d)
            }
        )
    }

    /// x clipped to [min_val, max_val]; the gradient is zero outside the open interval.
    pub fn hardtanh(&self, min_val: f64, max_val: f64) -> Result<Tensor> {
        if min_val > max_val {
            return Err(Error::invalid(
                "hardtanh",
                format!("min_val ({min_val}) cannot be greater than max_val ({max_val})"),
            ));
        }
        float_op!(
            self,
            "HardtanhBackward",
            |x| if x < c::<T>(min_val) {
                c::<T>(min_val)
            } else if x > c::<T>(max_val) {
                c::<T>(max_val)
            } else {
                x
            },
            |g, x| if x > c::<T>(min_val) && x < c::<T>(max_val) {
                g
            } else {
                T::ZERO
            }
        )
    }

    /// relu6(x + 3) / 6.
    pub fn hardsigmoid(&self) -> Result<Tensor> {
        float_op!(
            self,
            "HardsigmoidBackward",
            |x| if x <= c::<T>(-3.0) {
                T::ZERO
            } else if x >= c::<T>(3.0) {
                T::ONE
            } else {
                x / c::<T>(6.0) + c::<T>(0.5)
            },
            |g, x| if x > c::<T>(-3.0) && x < c::<T>(3.0) {
                g / c::<T>(6.0)
            } else {
                T::ZERO
            }
        )
    }

    /// x * relu6(x + 3) / 6.
    pub fn hardswish(&self) -> Result<Tensor> {
        float_op!(
            self,
            "HardswishBackward",
            |x| if x <= c::<T>(-3.0) {
                T::ZERO
            } else if x >= c::<T>(3.0) {
                x
            } else {
                x * (x + c::<T>(3.0)) / c::<T>(6.0)
            },
            |g, x| if x < c::<T>(-3.0) {
                T::ZERO
            } else if x <= c::<T>(3.0) {
                g * (x / c::<T>(3.0) + c::<T>(0.5))
            } else {
                g
            }
        )
    }
}
