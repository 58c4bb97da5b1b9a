//! Optimizers for Rust users. Each keeps its per-parameter state as tensors and calls the
//! fused in-place updates in [`fused`], which the Python `ferrograd.optim` classes share.
//!
//! ```
//! use ferrograd::{Tensor, DType};
//! use ferrograd::optim::{Optimizer, Sgd, SgdConfig};
//!
//! let w = Tensor::from_vec(vec![1.0f32, -2.0], &[2])?.requires_grad_(true)?;
//! let mut opt = Sgd::new(vec![w.clone()], SgdConfig { lr: 0.1, ..Default::default() })?;
//! w.mul(&w)?.sum()?.backward()?;   // grad = 2w
//! opt.step()?;
//! assert_eq!(w.to_vec::<f32>()?, vec![0.8, -1.6]);
//! # Ok::<(), ferrograd::Error>(())
//! ```

pub mod fused;

pub use fused::{
    AdagradConfig, AdamConfig, RmspropConfig, SgdConfig, adagrad_update, adam_update,
    rmsprop_update, sgd_update,
};

use crate::error::Result;
use crate::tensor::Tensor;

/// What every optimizer does: update its parameters from their `.grad`, and clear them.
pub trait Optimizer {
    fn params(&self) -> &[Tensor];
    /// Updates every parameter that has a gradient (parameters without one are skipped).
    fn step(&mut self) -> Result<()>;
    fn lr(&self) -> f64;
    fn set_lr(&mut self, lr: f64);
    /// Clears gradients (sets them to None, PyTorch's default `set_to_none=True`).
    fn zero_grad(&self) {
        for p in self.params() {
            let _ = p.set_grad(None);
        }
    }
}

fn zeros_like(p: &Tensor) -> Result<Tensor> {
    Tensor::zeros(p.shape(), p.dtype())
}

/// Stochastic gradient descent with optional momentum, Nesterov and weight decay.
pub struct Sgd {
    params: Vec<Tensor>,
    pub config: SgdConfig,
    buffers: Vec<Option<Tensor>>,
}

impl Sgd {
    pub fn new(params: Vec<Tensor>, config: SgdConfig) -> Result<Sgd> {
        config.validate()?;
        let buffers = vec![None; params.len()];
        Ok(Sgd {
            params,
            config,
            buffers,
        })
    }
}

impl Optimizer for Sgd {
    fn params(&self) -> &[Tensor] {
        &self.params
    }
    fn step(&mut self) -> Result<()> {
        for (p, buf) in self.params.iter().zip(self.buffers.iter_mut()) {
            let Some(g) = p.grad() else { continue };
            let first = self.config.momentum != 0.0 && buf.is_none();
            if first {
                *buf = Some(zeros_like(p)?);
            }
            sgd_update(
                p,
                &g,
                buf.as_ref().filter(|_| self.config.momentum != 0.0),
                first,
                &self.config,
            )?;
        }
        Ok(())
    }
    fn lr(&self) -> f64 {
        self.config.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}

struct AdamState {
    step: u64,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    max_exp_avg_sq: Option<Tensor>,
}

/// Adam, or AdamW with `AdamConfig::adamw()`.
pub struct Adam {
    params: Vec<Tensor>,
    pub config: AdamConfig,
    state: Vec<Option<AdamState>>,
}

impl Adam {
    pub fn new(params: Vec<Tensor>, config: AdamConfig) -> Result<Adam> {
        config.validate()?;
        let state = params.iter().map(|_| None).collect();
        Ok(Adam {
            params,
            config,
            state,
        })
    }
}

impl Optimizer for Adam {
    fn params(&self) -> &[Tensor] {
        &self.params
    }
    fn step(&mut self) -> Result<()> {
        for (p, st) in self.params.iter().zip(self.state.iter_mut()) {
            let Some(g) = p.grad() else { continue };
            if st.is_none() {
                let max = if self.config.amsgrad {
                    Some(zeros_like(p)?)
                } else {
                    None
                };
                *st = Some(AdamState {
                    step: 0,
                    exp_avg: zeros_like(p)?,
                    exp_avg_sq: zeros_like(p)?,
                    max_exp_avg_sq: max,
                });
            }
            let s = st.as_mut().expect("set above");
            s.step += 1;
            adam_update(
                p,
                &g,
                &s.exp_avg,
                &s.exp_avg_sq,
                s.max_exp_avg_sq.as_ref(),
                s.step,
                &self.config,
            )?;
        }
        Ok(())
    }
    fn lr(&self) -> f64 {
        self.config.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}

/// RMSprop.
pub struct Rmsprop {
    params: Vec<Tensor>,
    pub config: RmspropConfig,
    state: Vec<Option<[Option<Tensor>; 3]>>,
}

impl Rmsprop {
    pub fn new(params: Vec<Tensor>, config: RmspropConfig) -> Result<Rmsprop> {
        config.validate()?;
        let state = params.iter().map(|_| None).collect();
        Ok(Rmsprop {
            params,
            config,
            state,
        })
    }
}

impl Optimizer for Rmsprop {
    fn params(&self) -> &[Tensor] {
        &self.params
    }
    fn step(&mut self) -> Result<()> {
        let c = self.config;
        for (p, st) in self.params.iter().zip(self.state.iter_mut()) {
            let Some(g) = p.grad() else { continue };
            if st.is_none() {
                let mom = if c.momentum > 0.0 {
                    Some(zeros_like(p)?)
                } else {
                    None
                };
                let avg = if c.centered {
                    Some(zeros_like(p)?)
                } else {
                    None
                };
                *st = Some([Some(zeros_like(p)?), mom, avg]);
            }
            let [sq, mom, avg] = st.as_ref().expect("set above");
            rmsprop_update(
                p,
                &g,
                sq.as_ref().expect("always set"),
                mom.as_ref(),
                avg.as_ref(),
                &c,
            )?;
        }
        Ok(())
    }
    fn lr(&self) -> f64 {
        self.config.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}

/// Adagrad.
pub struct Adagrad {
    params: Vec<Tensor>,
    pub config: AdagradConfig,
    state: Vec<(u64, Tensor)>,
}

impl Adagrad {
    pub fn new(params: Vec<Tensor>, config: AdagradConfig) -> Result<Adagrad> {
        config.validate()?;
        let state = params
            .iter()
            .map(|p| {
                Ok((
                    0,
                    Tensor::full(p.shape(), config.initial_accumulator_value, p.dtype())?,
                ))
            })
            .collect::<Result<_>>()?;
        Ok(Adagrad {
            params,
            config,
            state,
        })
    }
}

impl Optimizer for Adagrad {
    fn params(&self) -> &[Tensor] {
        &self.params
    }
    fn step(&mut self) -> Result<()> {
        for (p, (step, sum)) in self.params.iter().zip(self.state.iter_mut()) {
            let Some(g) = p.grad() else { continue };
            *step += 1;
            adagrad_update(p, &g, sum, *step, &self.config)?;
        }
        Ok(())
    }
    fn lr(&self) -> f64 {
        self.config.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}
