//! Losses as functions and as values (`MseLoss::default().loss(&pred, &target)`), each a
//! thin wrapper over the fused loss ops in `crate::ops::nn::loss`. The structs carry
//! PyTorch's options and defaults; PyTorch-spelled aliases (`MSELoss`, `NLLLoss`, ...) let
//! ported code keep its names.

use crate::error::Result;
use crate::ops::nn::Reduction as OpReduction;
use crate::ops::nn::loss::ClassLossOptions;
use crate::tensor::Tensor;

/// How a loss combines per-element values (PyTorch's `reduction=`; mean by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Reduction {
    None,
    #[default]
    Mean,
    Sum,
}

impl From<Reduction> for OpReduction {
    fn from(r: Reduction) -> OpReduction {
        match r {
            Reduction::None => OpReduction::None,
            Reduction::Mean => OpReduction::Mean,
            Reduction::Sum => OpReduction::Sum,
        }
    }
}

/// Mean squared error.
pub fn mse_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    input.mse_loss(target, reduction.into())
}

/// Mean absolute error.
pub fn l1_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    input.l1_loss(target, reduction.into())
}

/// Cross-entropy between logits `[N, C]` and int64 class indices `[N]` (mean over N).
pub fn cross_entropy(logits: &Tensor, target: &Tensor) -> Result<Tensor> {
    logits.cross_entropy(target)
}

/// A loss as a value: `loss(input, target)` returns the (by default mean) loss.
pub trait Loss {
    fn loss(&self, input: &Tensor, target: &Tensor) -> Result<Tensor>;
}

/// Mean squared error, `(x - y)^2`.
#[derive(Clone, Copy, Debug, Default)]
pub struct MseLoss {
    pub reduction: Reduction,
}

impl Loss for MseLoss {
    fn loss(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        mse_loss(input, target, self.reduction)
    }
}

/// Mean absolute error, `|x - y|`.
#[derive(Clone, Copy, Debug, Default)]
pub struct L1Loss {
    pub reduction: Reduction,
}

impl Loss for L1Loss {
    fn loss(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        l1_loss(input, target, self.reduction)
    }
}

/// Quadratic below `beta` (default 1), linear above: `0.5 d^2 / beta` or `|d| - 0.5 beta`.
#[derive(Clone, Copy, Debug)]
pub struct SmoothL1Loss {
    pub reduction: Reduction,
    pub beta: f64,
}

impl Default for SmoothL1Loss {
    fn default() -> Self {
        SmoothL1Loss {
            reduction: Reduction::Mean,
            beta: 1.0,
        }
    }
}

impl Loss for SmoothL1Loss {
    fn loss(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        input.smooth_l1_loss(target, self.reduction.into(), self.beta)
    }
}

/// Cross-entropy of logits `[N, C]` (or `[C]`, `[N, C, d...]`) against int64 class indices
/// or float class probabilities, with optional per-class `weight`, `ignore_index` (-100)
/// and `label_smoothing`.
#[derive(Clone)]
pub struct CrossEntropyLoss {
    pub weight: Option<Tensor>,
    pub ignore_index: i64,
    pub reduction: Reduction,
    pub label_smoothing: f64,
}

impl Default for CrossEntropyLoss {
    fn default() -> Self {
        CrossEntropyLoss {
            weight: None,
            ignore_index: -100,
            reduction: Reduction::Mean,
            label_smoothing: 0.0,
        }
    }
}

impl Loss for CrossEntropyLoss {
    fn loss(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        input.cross_entropy_with(
            target,
            &ClassLossOptions {
                weight: self.weight.clone(),
                ignore_index: self.ignore_index,
                reduction: self.reduction.into(),
                label_smoothing: self.label_smoothing,
            },
        )
    }
}

/// Negative log-likelihood of log-probabilities (e.g. [`super::LogSoftmax`]'s output)
/// against int64 class indices.
#[derive(Clone)]
pub struct NllLoss {
    pub weight: Option<Tensor>,
    pub ignore_index: i64,
    pub reduction: Reduction,
}

impl Default for NllLoss {
    fn default() -> Self {
        NllLoss {
            weight: None,
            ignore_index: -100,
            reduction: Reduction::Mean,
        }
    }
}

impl Loss for NllLoss {
    fn loss(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        input.nll_loss(
            target,
            &ClassLossOptions {
                weight: self.weight.clone(),
                ignore_index: self.ignore_index,
                reduction: self.reduction.into(),
                label_smoothing: 0.0,
            },
        )
    }
}

/// Binary cross-entropy of probabilities in [0, 1], with an optional elementwise `weight`.
#[derive(Clone, Default)]
pub struct BceLoss {
    pub weight: Option<Tensor>,
    pub reduction: Reduction,
}

impl Loss for BceLoss {
    fn loss(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        input.binary_cross_entropy(target, self.weight.as_ref(), self.reduction.into())
    }
}

/// Binary cross-entropy of logits (a sigmoid fused in, stable for large logits), with
/// optional `weight` and `pos_weight` (the positive class's weight, broadcast over classes).
#[derive(Clone, Default)]
pub struct BceWithLogitsLoss {
    pub weight: Option<Tensor>,
    pub pos_weight: Option<Tensor>,
    pub reduction: Reduction,
}

impl Loss for BceWithLogitsLoss {
    fn loss(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        input.binary_cross_entropy_with_logits(
            target,
            self.weight.as_ref(),
            self.pos_weight.as_ref(),
            self.reduction.into(),
        )
    }
}

/// KL divergence with `input` holding log-probabilities (and `target` too when
/// `log_target`). `reduction` is "none", "mean" (PyTorch's default, averaging over every
/// element), "sum" or "batchmean" (the sum over the batch size, the true KL divergence).
#[derive(Clone, Copy, Debug)]
pub struct KlDivLoss {
    pub reduction: &'static str,
    pub log_target: bool,
}

impl Default for KlDivLoss {
    fn default() -> Self {
        KlDivLoss {
            reduction: "mean",
            log_target: false,
        }
    }
}

impl Loss for KlDivLoss {
    fn loss(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        input.kl_div(target, self.reduction, self.log_target)
    }
}

/// PyTorch's spelling of [`MseLoss`].
pub type MSELoss = MseLoss;
/// PyTorch's spelling of [`NllLoss`].
pub type NLLLoss = NllLoss;
/// PyTorch's spelling of [`BceLoss`].
pub type BCELoss = BceLoss;
/// PyTorch's spelling of [`BceWithLogitsLoss`].
pub type BCEWithLogitsLoss = BceWithLogitsLoss;
/// PyTorch's spelling of [`KlDivLoss`].
pub type KLDivLoss = KlDivLoss;
