//! Layers for Rust users: a [`Module`] trait, [`Linear`], [`Conv2d`], pooling, activations,
//! [`Sequential`] and the common losses, with PyTorch's names, options and default
//! initialisation. Forward passes are ordinary differentiable ops, so `loss.backward()`
//! fills every parameter's `.grad`; train them with [`crate::optim`].
//!
//! ```
//! use ferrograd::nn::{Conv2d, Conv2dConfig, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential};
//! use ferrograd::{Tensor, DType};
//!
//! let net = Sequential::new()
//!     .add(Conv2d::new(1, 4, 3, Conv2dConfig::default().padding(1))?)
//!     .add(ReLU)
//!     .add(MaxPool2d::new(2))
//!     .add(Flatten::default())
//!     .add(Linear::new(4 * 4 * 4, 3, true)?);
//! let y = net.forward(&Tensor::randn(&[5, 1, 8, 8], DType::F32)?)?;
//! assert_eq!(y.shape(), &[5, 3]);
//! assert_eq!(net.parameters().len(), 4);
//! # Ok::<(), ferrograd::Error>(())
//! ```

pub mod activation;
pub mod container;
pub mod conv;
pub mod flatten;
pub mod init;
pub mod linear;
pub mod loss;
pub mod pool;

pub use activation::{
    ELU, GELU, LeakyReLU, LogSoftmax, ReLU, SiLU, Sigmoid, Softmax, Softplus, Tanh,
};
pub use container::Sequential;
pub use conv::{Conv2d, Conv2dConfig};
pub use flatten::Flatten;
pub use linear::Linear;
pub use loss::{
    BCELoss, BCEWithLogitsLoss, BceLoss, BceWithLogitsLoss, CrossEntropyLoss, KLDivLoss, KlDivLoss,
    L1Loss, Loss, MSELoss, MseLoss, NLLLoss, NllLoss, Reduction, SmoothL1Loss, cross_entropy,
    l1_loss, mse_loss,
};
pub use pool::{AvgPool2d, MaxPool2d};

pub use crate::ops::activation::GeluApprox;

use crate::error::Result;
use crate::tensor::Tensor;

/// A layer: a forward function plus the parameters it owns (in registration order).
pub trait Module: Send + Sync {
    fn forward(&self, input: &Tensor) -> Result<Tensor>;
    /// Named parameters, with PyTorch's dotted key names ("weight", "0.bias", ...).
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }
    fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters()
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }
    /// Switches training behaviour (dropout, batch statistics) on or off.
    fn train(&mut self, _mode: bool) {}
    /// Clears every parameter's gradient.
    fn zero_grad(&self) {
        for p in self.parameters() {
            let _ = p.set_grad(None);
        }
    }
}

/// A per-axis (height, width) size: one number for both axes, or a `[h, w]` / `(h, w)`
/// pair, as PyTorch's `kernel_size=3` or `kernel_size=(3, 5)`.
pub trait Pair {
    fn pair(self) -> [usize; 2];
}

impl Pair for usize {
    fn pair(self) -> [usize; 2] {
        [self, self]
    }
}

impl Pair for [usize; 2] {
    fn pair(self) -> [usize; 2] {
        self
    }
}

impl Pair for (usize, usize) {
    fn pair(self) -> [usize; 2] {
        [self.0, self.1]
    }
}
