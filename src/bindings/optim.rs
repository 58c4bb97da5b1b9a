//! Optimizer update kernels for Python: `ferrograd.optim` calls these once per parameter
//! group with lists of parameters, gradients and state buffers; each parameter is updated in
//! place by the fused kernels in `crate::optim::fused` (the GIL is released while they run).

use super::tensor::{PyTensor, compute};
use crate::optim::fused::{self, AdagradConfig, AdamConfig, RmspropConfig, SgdConfig};
use crate::tensor::Tensor;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

fn tensors(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<Tensor>> {
    super::tensor::tensor_list(obj, what)
}

/// A list whose entries are Tensors or None.
fn opt_tensors(obj: &Bound<'_, PyAny>, n: usize, what: &str) -> PyResult<Vec<Option<Tensor>>> {
    if obj.is_none() {
        return Ok(vec![None; n]);
    }
    let items: Vec<Bound<'_, PyAny>> = obj.try_iter()?.collect::<PyResult<_>>()?;
    if items.len() != n {
        return Err(PyTypeError::new_err(format!(
            "{what}: expected {n} entries, got {}",
            items.len()
        )));
    }
    items
        .iter()
        .map(|x| {
            if x.is_none() {
                return Ok(None);
            }
            x.cast::<PyTensor>()
                .map(|t| Some(t.get().inner.clone()))
                .map_err(|_| PyTypeError::new_err(format!("{what} must hold Tensors or None")))
        })
        .collect()
}

fn check_len(what: &str, a: usize, b: usize) -> PyResult<()> {
    if a != b {
        return Err(PyTypeError::new_err(format!(
            "{what}: {a} parameters but {b} entries"
        )));
    }
    Ok(())
}

fn work(ps: &[Tensor]) -> usize {
    ps.iter().map(|p| p.numel()).sum()
}

#[pyfunction]
#[pyo3(signature = (params, grads, momentum_buffers, first, *, lr, momentum, dampening, weight_decay, nesterov, maximize))]
#[allow(clippy::too_many_arguments)]
fn _sgd_step(
    py: Python<'_>,
    params: &Bound<'_, PyAny>,
    grads: &Bound<'_, PyAny>,
    momentum_buffers: &Bound<'_, PyAny>,
    first: Vec<bool>,
    lr: f64,
    momentum: f64,
    dampening: f64,
    weight_decay: f64,
    nesterov: bool,
    maximize: bool,
) -> PyResult<()> {
    let ps = tensors(params, "params")?;
    let gs = tensors(grads, "grads")?;
    let bufs = opt_tensors(momentum_buffers, ps.len(), "momentum_buffers")?;
    check_len("grads", ps.len(), gs.len())?;
    check_len("first", ps.len(), first.len())?;
    let c = SgdConfig {
        lr,
        momentum,
        dampening,
        weight_decay,
        nesterov,
        maximize,
    };
    compute(py, work(&ps), || -> crate::Result<()> {
        for i in 0..ps.len() {
            fused::sgd_update(&ps[i], &gs[i], bufs[i].as_ref(), first[i], &c)?;
        }
        Ok(())
    })?;
    Ok(())
}

#[pyfunction]
#[pyo3(signature = (params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled))]
#[allow(clippy::too_many_arguments)]
fn _adam_step(
    py: Python<'_>,
    params: &Bound<'_, PyAny>,
    grads: &Bound<'_, PyAny>,
    exp_avgs: &Bound<'_, PyAny>,
    exp_avg_sqs: &Bound<'_, PyAny>,
    max_exp_avg_sqs: &Bound<'_, PyAny>,
    steps: Vec<u64>,
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    amsgrad: bool,
    maximize: bool,
    decoupled: bool,
) -> PyResult<()> {
    let ps = tensors(params, "params")?;
    let gs = tensors(grads, "grads")?;
    let m = tensors(exp_avgs, "exp_avgs")?;
    let v = tensors(exp_avg_sqs, "exp_avg_sqs")?;
    let vmax = opt_tensors(max_exp_avg_sqs, ps.len(), "max_exp_avg_sqs")?;
    for (w, n) in [
        ("grads", gs.len()),
        ("exp_avgs", m.len()),
        ("exp_avg_sqs", v.len()),
        ("steps", steps.len()),
    ] {
        check_len(w, ps.len(), n)?;
    }
    let c = AdamConfig {
        lr,
        betas: (beta1, beta2),
        eps,
        weight_decay,
        amsgrad,
        maximize,
        decoupled,
    };
    compute(py, work(&ps), || -> crate::Result<()> {
        for i in 0..ps.len() {
            fused::adam_update(&ps[i], &gs[i], &m[i], &v[i], vmax[i].as_ref(), steps[i], &c)?;
        }
        Ok(())
    })?;
    Ok(())
}

#[pyfunction]
#[pyo3(signature = (params, grads, square_avgs, momentum_buffers, grad_avgs, *, lr, alpha, eps, weight_decay, momentum, centered, maximize))]
#[allow(clippy::too_many_arguments)]
fn _rmsprop_step(
    py: Python<'_>,
    params: &Bound<'_, PyAny>,
    grads: &Bound<'_, PyAny>,
    square_avgs: &Bound<'_, PyAny>,
    momentum_buffers: &Bound<'_, PyAny>,
    grad_avgs: &Bound<'_, PyAny>,
    lr: f64,
    alpha: f64,
    eps: f64,
    weight_decay: f64,
    momentum: f64,
    centered: bool,
    maximize: bool,
) -> PyResult<()> {
    let ps = tensors(params, "params")?;
    let gs = tensors(grads, "grads")?;
    let sq = tensors(square_avgs, "square_avgs")?;
    let mb = opt_tensors(momentum_buffers, ps.len(), "momentum_buffers")?;
    let ga = opt_tensors(grad_avgs, ps.len(), "grad_avgs")?;
    check_len("grads", ps.len(), gs.len())?;
    check_len("square_avgs", ps.len(), sq.len())?;
    let c = RmspropConfig {
        lr,
        alpha,
        eps,
        weight_decay,
        momentum,
        centered,
        maximize,
    };
    compute(py, work(&ps), || -> crate::Result<()> {
        for i in 0..ps.len() {
            fused::rmsprop_update(&ps[i], &gs[i], &sq[i], mb[i].as_ref(), ga[i].as_ref(), &c)?;
        }
        Ok(())
    })?;
    Ok(())
}

#[pyfunction]
#[pyo3(signature = (params, grads, state_sums, steps, *, lr, lr_decay, weight_decay, eps, maximize))]
#[allow(clippy::too_many_arguments)]
fn _adagrad_step(
    py: Python<'_>,
    params: &Bound<'_, PyAny>,
    grads: &Bound<'_, PyAny>,
    state_sums: &Bound<'_, PyAny>,
    steps: Vec<u64>,
    lr: f64,
    lr_decay: f64,
    weight_decay: f64,
    eps: f64,
    maximize: bool,
) -> PyResult<()> {
    let ps = tensors(params, "params")?;
    let gs = tensors(grads, "grads")?;
    let ss = tensors(state_sums, "state_sums")?;
    check_len("grads", ps.len(), gs.len())?;
    check_len("state_sums", ps.len(), ss.len())?;
    check_len("steps", ps.len(), steps.len())?;
    let c = AdagradConfig {
        lr,
        lr_decay,
        weight_decay,
        initial_accumulator_value: 0.0,
        eps,
        maximize,
    };
    compute(py, work(&ps), || -> crate::Result<()> {
        for i in 0..ps.len() {
            fused::adagrad_update(&ps[i], &gs[i], &ss[i], steps[i], &c)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Adds this family's module-level functions to `ferrograd._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_sgd_step, m)?)?;
    m.add_function(wrap_pyfunction!(_adam_step, m)?)?;
    m.add_function(wrap_pyfunction!(_rmsprop_step, m)?)?;
    m.add_function(wrap_pyfunction!(_adagrad_step, m)?)?;
    Ok(())
}
