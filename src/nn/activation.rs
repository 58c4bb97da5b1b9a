//! Activations as layers, with PyTorch's names and defaults.

use super::Module;
use crate::error::Result;
use crate::ops::activation::GeluApprox;
use crate::tensor::Tensor;

macro_rules! activation {
    ($(#[$doc:meta] $name:ident => |$x:ident| $body:expr;)*) => {$(
        #[$doc]
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name;
        impl Module for $name {
            fn forward(&self, $x: &Tensor) -> Result<Tensor> {
                $body
            }
        }
    )*};
}

activation! {
    /// max(x, 0)
    ReLU => |x| x.relu();
    /// tanh(x)
    Tanh => |x| x.tanh();
    /// 1 / (1 + exp(-x))
    Sigmoid => |x| x.sigmoid();
    /// x * sigmoid(x)
    SiLU => |x| x.silu();
}

/// x * Phi(x), exact (`erf`) or with the tanh approximation.
#[allow(clippy::upper_case_acronyms)] // PyTorch's name
#[derive(Clone, Copy, Debug)]
pub struct GELU {
    pub approximate: GeluApprox,
}

impl Default for GELU {
    fn default() -> Self {
        GELU {
            approximate: GeluApprox::None,
        }
    }
}

impl Module for GELU {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.gelu(self.approximate)
    }
}

/// x for x >= 0, else `negative_slope * x` (default 0.01).
#[derive(Clone, Copy, Debug)]
pub struct LeakyReLU {
    pub negative_slope: f64,
}

impl Default for LeakyReLU {
    fn default() -> Self {
        LeakyReLU {
            negative_slope: 0.01,
        }
    }
}

impl Module for LeakyReLU {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.leaky_relu(self.negative_slope)
    }
}

/// x for x > 0, else `alpha * (exp(x) - 1)` (default alpha 1).
#[allow(clippy::upper_case_acronyms)] // PyTorch's name
#[derive(Clone, Copy, Debug)]
pub struct ELU {
    pub alpha: f64,
}

impl Default for ELU {
    fn default() -> Self {
        ELU { alpha: 1.0 }
    }
}

impl Module for ELU {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.elu(self.alpha)
    }
}

/// log(1 + exp(beta * x)) / beta, and x itself where `beta * x > threshold`
/// (defaults beta 1, threshold 20).
#[derive(Clone, Copy, Debug)]
pub struct Softplus {
    pub beta: f64,
    pub threshold: f64,
}

impl Default for Softplus {
    fn default() -> Self {
        Softplus {
            beta: 1.0,
            threshold: 20.0,
        }
    }
}

impl Module for Softplus {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.softplus(self.beta, self.threshold)
    }
}

/// Softmax along `dim`. There is no default: PyTorch's implicit-dim choice is deprecated.
#[derive(Clone, Copy, Debug)]
pub struct Softmax {
    pub dim: isize,
}

impl Softmax {
    pub fn new(dim: isize) -> Softmax {
        Softmax { dim }
    }
}

impl Module for Softmax {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.softmax(self.dim)
    }
}

/// log(softmax(x)) along `dim`, computed stably.
#[derive(Clone, Copy, Debug)]
pub struct LogSoftmax {
    pub dim: isize,
}

impl LogSoftmax {
    pub fn new(dim: isize) -> LogSoftmax {
        LogSoftmax { dim }
    }
}

impl Module for LogSoftmax {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.log_softmax(self.dim)
    }
}
