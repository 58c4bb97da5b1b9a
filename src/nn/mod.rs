//! Layers for Rust users: a [`Module`] trait, [`Linear`], activations, [`Sequential`] and the
//! common losses. Forward passes are ordinary differentiable ops, so `loss.backward()` fills
//! every parameter's `.grad`; train them with [`crate::optim`].
//!
//! ```
//! use ferrograd::nn::{Linear, Module, ReLU, Sequential};
//! use ferrograd::{Tensor, DType};
//!
//! let net = Sequential::new()
//!     .add(Linear::new(4, 8, true)?)
//!     .add(ReLU)
//!     .add(Linear::new(8, 3, true)?);
//! let y = net.forward(&Tensor::randn(&[5, 4], DType::F32)?)?;
//! assert_eq!(y.shape(), &[5, 3]);
//! assert_eq!(net.parameters().len(), 4);
//! # Ok::<(), ferrograd::Error>(())
//! ```

use crate::dtype::DType;
use crate::error::{Error, Result};
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

/// Uniform values in `[-bound, bound)`, a fresh leaf that requires grad.
fn uniform_param(shape: &[usize], bound: f64, dtype: DType) -> Result<Tensor> {
    let t = {
        let _off = crate::no_grad();
        Tensor::rand(shape, dtype)?
            .mul_scalar(2.0 * bound)?
            .sub_scalar(bound)?
    };
    t.requires_grad_(true)
}

/// `y = x W^T + b`, initialised like torch.nn.Linear (kaiming-uniform with a = sqrt(5), so
/// weights and bias are uniform in +-1/sqrt(in_features)).
pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
}

impl Linear {
    pub fn new(in_features: usize, out_features: usize, bias: bool) -> Result<Linear> {
        let bound = if in_features > 0 {
            1.0 / (in_features as f64).sqrt()
        } else {
            0.0
        };
        let weight = uniform_param(&[out_features, in_features], bound, DType::F32)?;
        let bias = if bias {
            Some(uniform_param(&[out_features], bound, DType::F32)?)
        } else {
            None
        };
        Ok(Linear { weight, bias })
    }
}

impl Module for Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let in_f = self.weight.shape()[1];
        if x.ndim() == 0 || x.shape()[x.ndim() - 1] != in_f {
            return Err(Error::shape(
                "Linear",
                format!(
                    "input shape {:?} does not end in in_features={in_f}",
                    x.shape()
                ),
            ));
        }
        let y = x.matmul(&self.weight.t()?)?;
        match &self.bias {
            Some(b) => y.add(b),
            None => Ok(y),
        }
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut v = vec![("weight".to_string(), self.weight.clone())];
        if let Some(b) = &self.bias {
            v.push(("bias".to_string(), b.clone()));
        }
        v
    }
}

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
}

/// Flattens all dimensions after the first (torch.nn.Flatten's default).
#[derive(Clone, Copy, Debug, Default)]
pub struct Flatten;

impl Module for Flatten {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.ndim() <= 1 {
            Ok(x.clone())
        } else {
            x.flatten(1, -1)
        }
    }
}

/// Layers applied in order; parameter names are prefixed with the layer's index.
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
}

impl Sequential {
    pub fn new() -> Sequential {
        Sequential { layers: Vec::new() }
    }
    /// Appends a layer (builder style).
    pub fn add(mut self, layer: impl Module + 'static) -> Sequential {
        self.layers.push(Box::new(layer));
        self
    }
    pub fn push(&mut self, layer: Box<dyn Module>) {
        self.layers.push(layer);
    }
    pub fn len(&self) -> usize {
        self.layers.len()
    }
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl Module for Sequential {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        for l in &self.layers {
            h = l.forward(&h)?;
        }
        Ok(h)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| {
                l.named_parameters()
                    .into_iter()
                    .map(move |(n, p)| (format!("{i}.{n}"), p))
            })
            .collect()
    }
    fn train(&mut self, mode: bool) {
        for l in &mut self.layers {
            l.train(mode);
        }
    }
}

/// How a loss combines per-element values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Reduction {
    None,
    #[default]
    Mean,
    Sum,
}

fn reduce(x: Tensor, r: Reduction) -> Result<Tensor> {
    match r {
        Reduction::None => Ok(x),
        Reduction::Mean => x.mean(),
        Reduction::Sum => x.sum(),
    }
}

fn same_shape(op: &'static str, a: &Tensor, b: &Tensor) -> Result<()> {
    if a.shape() != b.shape() {
        return Err(Error::shape(
            op,
            format!(
                "input shape {:?} and target shape {:?} differ",
                a.shape(),
                b.shape()
            ),
        ));
    }
    Ok(())
}

/// Mean squared error.
pub fn mse_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    same_shape("mse_loss", input, target)?;
    let d = input.sub(target)?;
    reduce(d.mul(&d)?, reduction)
}

/// Mean absolute error.
pub fn l1_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    same_shape("l1_loss", input, target)?;
    reduce(input.sub(target)?.abs()?, reduction)
}

/// Cross-entropy between logits `[N, C]` and int64 class indices `[N]` (mean over N).
pub fn cross_entropy(logits: &Tensor, target: &Tensor) -> Result<Tensor> {
    logits.cross_entropy(target)
}

/// A loss as a value: `MseLoss::default().forward2(&pred, &target)`.
pub trait Loss {
    fn loss(&self, input: &Tensor, target: &Tensor) -> Result<Tensor>;
}

#[derive(Clone, Copy, Debug, Default)]
pub struct MseLoss {
    pub reduction: Reduction,
}

impl Loss for MseLoss {
    fn loss(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        mse_loss(input, target, self.reduction)
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct L1Loss {
    pub reduction: Reduction,
}

impl Loss for L1Loss {
    fn loss(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        l1_loss(input, target, self.reduction)
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct CrossEntropyLoss;

impl Loss for CrossEntropyLoss {
    fn loss(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        cross_entropy(input, target)
    }
}
