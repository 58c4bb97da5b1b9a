//! Differentiable ops. Each file holds a family; each op's forward computes the result with
//! the kernels, then [`record`] attaches its backward rule (written right next to it) only
//! when grad mode is recording and some input requires grad.

pub mod activation;
pub mod binary;
pub mod cmp;
pub mod einsum;
pub mod gather;
pub mod index;
pub mod inplace;
pub mod inplace_elementwise;
pub mod join;
pub mod linalg;
pub mod matmul;
pub mod nn;
pub mod reduce;
pub mod rounding;
pub mod scan;
pub mod sort;
pub mod svd;
pub mod unary;
pub mod view;

use crate::autograd::grad_mode::GradMode;
use crate::autograd::node::{BackwardFn, Grads, Node};
use crate::error::Result;
use crate::tensor::{MetaFlags, Tensor};
use smallvec::SmallVec;
use std::sync::Arc;

/// Gives `out` a grad_fn named `name` over `inputs` when recording. `make` runs only then: it
/// receives which inputs need a gradient and returns the backward rule, saving just what
/// that rule reads (so the no-grad path saves and allocates nothing).
pub(crate) fn record<F>(
    out: Tensor,
    name: &'static str,
    inputs: &[&Tensor],
    make: impl FnOnce(&[bool]) -> Result<F>,
) -> Result<Tensor>
where
    F: FnMut(&Tensor, &[bool]) -> Result<Grads> + Send + 'static,
{
    let mode = GradMode::current();
    let needs: SmallVec<[bool; 4]> = if mode.is_recording() {
        inputs.iter().map(|t| t.requires_grad()).collect()
    } else {
        SmallVec::new()
    };
    if !needs.iter().any(|&b| b) {
        return Ok(untracked(out, inputs));
    }
    let rule: BackwardFn = Box::new(make(&needs)?);
    let next = inputs
        .iter()
        .zip(&needs)
        .map(|(t, &n)| if n { t.grad_edge() } else { None })
        .collect();
    out.meta().grad_fn = Some(Arc::new(Node::op(name, next, rule)));
    Ok(out)
}

/// What `record` does when nothing is recorded: remembers why there is no graph, so backward
/// can say so — for results made with recording off from inputs that require grad, and for
/// values that flow on from such results (a loss computed from features made under no_grad).
pub(crate) fn untracked(out: Tensor, inputs: &[&Tensor]) -> Tensor {
    let recording = GradMode::current().is_recording();
    let explain = inputs.iter().any(|t| {
        let f = t.meta_flags();
        f & MetaFlags::MADE_WITHOUT_GRAD != 0 || (!recording && f & MetaFlags::REQUIRES_GRAD != 0)
    });
    if explain {
        out.meta().made_without_grad = true;
    }
    out
}

/// Whether an op on `inputs` would record right now (lets ops skip work only backward needs).
pub(crate) fn will_record(inputs: &[&Tensor]) -> bool {
    GradMode::current().is_recording() && inputs.iter().any(|t| t.requires_grad())
}

/// A gradient list with one entry per input.
pub(crate) fn grads<const N: usize>(g: [Option<Tensor>; N]) -> Grads {
    g.into_iter().collect()
}
