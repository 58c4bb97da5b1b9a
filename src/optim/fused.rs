//! The fused per-parameter updates: one pass over the parameter, its gradient and its state
//! buffers, in place. The Python optimizers and the Rust ones both call these, so the two
//! APIs give identical results. The math follows torch.optim's single-tensor algorithms
//! (scalars in f64, elements in the parameter's dtype).

use crate::dtype::FloatElement;
use crate::error::{Error, Result};
use crate::kernels::SharedMut;
use crate::tensor::Tensor;
use crate::with_float;

/// Elements below which an update stays on the calling thread.
const PAR_MIN: usize = 1 << 16;

/// Runs the elementwise kernel `k` over matching chunks of all slices, in parallel for
/// large parameters. `k` sees chunk-local slices and must be purely elementwise.
fn chunked<T: FloatElement>(
    p: &mut [T],
    g: &[T],
    states: &mut [&mut [T]],
    k: impl Fn(&mut [T], &[T], &mut [&mut [T]]) + Sync + Send,
) {
    let n = p.len();
    if !crate::kernels::parallel_for(n, PAR_MIN) {
        k(p, g, states);
        return;
    }
    let chunk = n
        .div_ceil(crate::kernels::get_num_threads() * 4)
        .max(crate::kernels::CHUNK);
    assert!(
        states.iter().all(|s| s.len() == n),
        "optimizer state buffers match the parameter"
    );
    let p_at = SharedMut(p.as_mut_ptr());
    let states_at: Vec<SharedMut<T>> = states
        .iter_mut()
        .map(|s| SharedMut(s.as_mut_ptr()))
        .collect();
    crate::kernels::run_tasks(n.div_ceil(chunk), |i| {
        let start = i * chunk;
        let len = chunk.min(n - start);
        // SAFETY: task i alone touches elements [start, start + len) of the parameter and of
        // each state buffer (all n long, borrowed mutably for the whole call).
        let (pc, mut sc) = unsafe {
            (
                std::slice::from_raw_parts_mut(p_at.at(start), len),
                states_at
                    .iter()
                    .map(|s| std::slice::from_raw_parts_mut(s.at(start), len))
                    .collect::<Vec<_>>(),
            )
        };
        k(pc, &g[start..start + len], &mut sc)
    });
}

fn float_param(op: &'static str, p: &Tensor) -> Result<()> {
    if !p.dtype().is_float() {
        return Err(Error::dtype(
            op,
            format!("parameters must be floating point, got {}", p.dtype()),
        ));
    }
    Ok(())
}

/// SGD options (torch.optim.SGD's).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
    pub maximize: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
        }
    }
}

impl SgdConfig {
    pub fn validate(&self) -> Result<()> {
        check_nonneg("SGD", "lr", self.lr)?;
        check_nonneg("SGD", "momentum", self.momentum)?;
        check_nonneg("SGD", "weight_decay", self.weight_decay)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::invalid(
                "SGD",
                "Nesterov momentum requires a momentum and zero dampening",
            ));
        }
        Ok(())
    }
}

fn check_nonneg(op: &'static str, name: &str, v: f64) -> Result<()> {
    if v.is_nan() || v < 0.0 {
        return Err(Error::invalid(op, format!("Invalid {name} value: {v}")));
    }
    Ok(())
}

/// One SGD step for `param`. `momentum_buffer` is required when momentum is non-zero;
/// `first` says it is fresh (it is then set to the gradient, undampened, as in PyTorch).
pub fn sgd_update(
    param: &Tensor,
    grad: &Tensor,
    momentum_buffer: Option<&Tensor>,
    first: bool,
    c: &SgdConfig,
) -> Result<()> {
    float_param("sgd", param)?;
    let states: Vec<&Tensor> = momentum_buffer.into_iter().collect();
    if c.momentum != 0.0 && states.is_empty() {
        return Err(Error::invalid(
            "sgd",
            "a momentum buffer is required when momentum != 0",
        ));
    }
    let c = *c;
    with_float!(param.dtype(), T => param.fused_update::<T>("sgd", grad, &states, |p, g, s| {
        chunked(p, g, s, |p, g, s| {
            let (lr, mom, damp, wd) = (T::from_f64(c.lr), T::from_f64(c.momentum), T::from_f64(1.0 - c.dampening), T::from_f64(c.weight_decay));
            for i in 0..p.len() {
                let mut d = if c.maximize { -g[i] } else { g[i] };
                if c.weight_decay != 0.0 {
                    d += wd * p[i];
                }
                if c.momentum != 0.0 {
                    let b = &mut s[0][i];
                    *b = if first { d } else { mom * *b + damp * d };
                    d = if c.nesterov { d + mom * *b } else { *b };
                }
                p[i] -= lr * d;
            }
        })
    }), _ => unreachable!("checked float"))
}

/// Adam / AdamW options. `decoupled` selects AdamW's weight decay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    pub lr: f64,
    pub betas: (f64, f64),
    pub eps: f64,
    pub weight_decay: f64,
    pub amsgrad: bool,
    pub maximize: bool,
    pub decoupled: bool,
}

impl AdamConfig {
    /// torch.optim.Adam's defaults.
    pub fn adam() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
            decoupled: false,
        }
    }
    /// torch.optim.AdamW's defaults (weight_decay 0.01, decoupled).
    pub fn adamw() -> Self {
        AdamConfig {
            weight_decay: 1e-2,
            decoupled: true,
            ..Self::adam()
        }
    }
    pub fn validate(&self) -> Result<()> {
        let op = if self.decoupled { "AdamW" } else { "Adam" };
        check_nonneg(op, "lr", self.lr)?;
        check_nonneg(op, "epsilon", self.eps)?;
        check_nonneg(op, "weight_decay", self.weight_decay)?;
        for (i, b) in [self.betas.0, self.betas.1].into_iter().enumerate() {
            if !(0.0..1.0).contains(&b) {
                return Err(Error::invalid(
                    op,
                    format!("Invalid beta parameter at index {i}: {b}"),
                ));
            }
        }
        Ok(())
    }
}

/// One Adam(W) step. `step` is the step number after incrementing (1 on the first step);
/// `max_exp_avg_sq` is required with amsgrad.
pub fn adam_update(
    param: &Tensor,
    grad: &Tensor,
    exp_avg: &Tensor,
    exp_avg_sq: &Tensor,
    max_exp_avg_sq: Option<&Tensor>,
    step: u64,
    c: &AdamConfig,
) -> Result<()> {
    float_param("adam", param)?;
    if step == 0 {
        return Err(Error::invalid("adam", "step must be at least 1"));
    }
    let mut states = vec![exp_avg, exp_avg_sq];
    match (c.amsgrad, max_exp_avg_sq) {
        (true, Some(m)) => states.push(m),
        (true, None) => {
            return Err(Error::invalid(
                "adam",
                "amsgrad needs a max_exp_avg_sq buffer",
            ));
        }
        _ => {}
    }
    let c = *c;
    let (b1, b2) = c.betas;
    let bc1 = 1.0 - b1.powi(step as i32);
    let bc2_sqrt = (1.0 - b2.powi(step as i32)).sqrt();
    let step_size = c.lr / bc1;
    with_float!(param.dtype(), T => param.fused_update::<T>("adam", grad, &states, |p, g, s| {
        chunked(p, g, s, |p, g, s| {
            let (wd, decay) = (T::from_f64(c.weight_decay), T::from_f64(1.0 - c.lr * c.weight_decay));
            let (w1, b2t, w2) = (T::from_f64(1.0 - b1), T::from_f64(b2), T::from_f64(1.0 - b2));
            let (bc2s, eps, ss) = (T::from_f64(bc2_sqrt), T::from_f64(c.eps), T::from_f64(step_size));
            for i in 0..p.len() {
                let mut d = if c.maximize { -g[i] } else { g[i] };
                if c.weight_decay != 0.0 {
                    if c.decoupled {
                        p[i] *= decay;
                    } else {
                        d += wd * p[i];
                    }
                }
                let m = s[0][i] + w1 * (d - s[0][i]);
                s[0][i] = m;
                let v = s[1][i] * b2t + w2 * d * d;
                s[1][i] = v;
                let v = if c.amsgrad {
                    let vm = if s[2][i] > v { s[2][i] } else { v };
                    s[2][i] = vm;
                    vm
                } else {
                    v
                };
                let denom = v.sqrt() / bc2s + eps;
                p[i] -= ss * (m / denom);
            }
        })
    }), _ => unreachable!("checked float"))
}

/// RMSprop options (torch.optim.RMSprop's).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmspropConfig {
    pub lr: f64,
    pub alpha: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub momentum: f64,
    pub centered: bool,
    pub maximize: bool,
}

impl Default for RmspropConfig {
    fn default() -> Self {
        RmspropConfig {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
        }
    }
}

impl RmspropConfig {
    /// PyTorch's argument checks.
    pub fn validate(&self) -> Result<()> {
        check_nonneg("RMSprop", "lr", self.lr)?;
        check_nonneg("RMSprop", "epsilon", self.eps)?;
        check_nonneg("RMSprop", "momentum", self.momentum)?;
        check_nonneg("RMSprop", "weight_decay", self.weight_decay)?;
        check_nonneg("RMSprop", "alpha", self.alpha)
    }
}

/// One RMSprop step. `momentum_buffer` is required when momentum > 0 and `grad_avg` when
/// centered.
pub fn rmsprop_update(
    param: &Tensor,
    grad: &Tensor,
    square_avg: &Tensor,
    momentum_buffer: Option<&Tensor>,
    grad_avg: Option<&Tensor>,
    c: &RmspropConfig,
) -> Result<()> {
    float_param("rmsprop", param)?;
    let mut states = vec![square_avg];
    let mi = if c.momentum > 0.0 {
        states
            .push(momentum_buffer.ok_or_else(|| {
                Error::invalid("rmsprop", "momentum > 0 needs a momentum buffer")
            })?);
        states.len() - 1
    } else {
        0
    };
    let gi = if c.centered {
        states.push(
            grad_avg
                .ok_or_else(|| Error::invalid("rmsprop", "centered needs a grad_avg buffer"))?,
        );
        states.len() - 1
    } else {
        0
    };
    let c = *c;
    with_float!(param.dtype(), T => param.fused_update::<T>("rmsprop", grad, &states, |p, g, s| {
        chunked(p, g, s, |p, g, s| {
            let (lr, alpha, w, eps, wd, mom) = (T::from_f64(c.lr), T::from_f64(c.alpha), T::from_f64(1.0 - c.alpha), T::from_f64(c.eps), T::from_f64(c.weight_decay), T::from_f64(c.momentum));
            for i in 0..p.len() {
                let mut d = if c.maximize { -g[i] } else { g[i] };
                if c.weight_decay != 0.0 {
                    d += wd * p[i];
                }
                let sq = s[0][i] * alpha + w * d * d;
                s[0][i] = sq;
                let avg = if c.centered {
                    let ga = s[gi][i] + w * (d - s[gi][i]);
                    s[gi][i] = ga;
                    (sq - ga * ga).sqrt() + eps
                } else {
                    sq.sqrt() + eps
                };
                if c.momentum > 0.0 {
                    let b = s[mi][i] * mom + d / avg;
                    s[mi][i] = b;
                    p[i] -= lr * b;
                } else {
                    p[i] -= lr * (d / avg);
                }
            }
        })
    }), _ => unreachable!("checked float"))
}

/// Adagrad options (torch.optim.Adagrad's).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdagradConfig {
    pub lr: f64,
    pub lr_decay: f64,
    pub weight_decay: f64,
    pub initial_accumulator_value: f64,
    pub eps: f64,
    pub maximize: bool,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false,
        }
    }
}

impl AdagradConfig {
    /// PyTorch's argument checks.
    pub fn validate(&self) -> Result<()> {
        check_nonneg("Adagrad", "lr", self.lr)?;
        check_nonneg("Adagrad", "lr_decay", self.lr_decay)?;
        check_nonneg("Adagrad", "weight_decay", self.weight_decay)?;
        check_nonneg(
            "Adagrad",
            "initial_accumulator_value",
            self.initial_accumulator_value,
        )?;
        check_nonneg("Adagrad", "epsilon", self.eps)
    }
}

/// One Adagrad step; `step` is the step number after incrementing.
pub fn adagrad_update(
    param: &Tensor,
    grad: &Tensor,
    state_sum: &Tensor,
    step: u64,
    c: &AdagradConfig,
) -> Result<()> {
    float_param("adagrad", param)?;
    let c = *c;
    let clr = c.lr / (1.0 + (step.max(1) - 1) as f64 * c.lr_decay);
    with_float!(param.dtype(), T => param.fused_update::<T>("adagrad", grad, &[state_sum], |p, g, s| {
        chunked(p, g, s, |p, g, s| {
            let (clr, eps, wd) = (T::from_f64(clr), T::from_f64(c.eps), T::from_f64(c.weight_decay));
            for i in 0..p.len() {
                let mut d = if c.maximize { -g[i] } else { g[i] };
                if c.weight_decay != 0.0 {
                    d += wd * p[i];
                }
                let acc = s[0][i] + d * d;
                s[0][i] = acc;
                p[i] -= clr * (d / (acc.sqrt() + eps));
            }
        })
    }), _ => unreachable!("checked float"))
}
