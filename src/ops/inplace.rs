//! In-place ops. Each computes its value out of place, writes it into the tensor's own
//! storage and moves the version counter. While recording, the tensor's history is rebased
//! onto the op (as PyTorch does); on a leaf that requires grad that is refused.

use crate::autograd::grad_mode::GradMode;
use crate::dtype::{DType, Scalar};
use crate::error::{Error, Result};
use crate::kernels::strided::{view, view_mut};
use crate::tensor::Tensor;
use crate::with_dtype;

impl Tensor {
    /// Refuses in-place updates autograd cannot follow; returns whether the update must be
    /// recorded.
    fn check_inplace(&self, op: &'static str, others: &[&Tensor]) -> Result<bool> {
        let mode = GradMode::current();
        if self.is_inference() && !mode.inference {
            return Err(Error::autograd(format!(
                "{op}: in-place update to an inference tensor outside inference_mode is not allowed. \
                 Make a normal tensor with `t.clone()` first, or create it under no_grad instead of inference_mode."
            )));
        }
        if !mode.is_recording() {
            return Ok(false);
        }
        if self.is_leaf() && self.requires_grad() {
            return Err(Error::autograd(format!(
                "{op}: a leaf Variable that requires grad is being used in an in-place operation. \
                 Wrap the update in `with no_grad():` (as optimizers do) or use the out-of-place form."
            )));
        }
        let needs = self.requires_grad() || others.iter().any(|t| t.requires_grad());
        if let Some(base) = &self.0.view_base {
            if base.is_leaf() && base.requires_grad() {
                return Err(Error::autograd(format!(
                    "{op}: a view of a leaf Variable that requires grad is being used in an in-place operation. \
                     Wrap the update in `with no_grad():` or work on a clone."
                )));
            }
            if needs {
                return Err(Error::autograd(format!(
                    "{op}: in-place update of a view of a tensor that is part of a graph is not supported; \
                     compute the result out of place (e.g. with torch.where-style masking) or clone the view first"
                )));
            }
        }
        Ok(needs)
    }

    /// Writes `value` (broadcast to this tensor's shape, cast to its dtype) into its storage.
    fn write_values(&self, op: &'static str, value: &Tensor) -> Result<()> {
        let value = value.to_dtype(self.dtype())?;
        let src = value.expand_to(self.shape()).map_err(|_| {
            Error::shape(op, format!("output with shape {:?} doesn't match the broadcast shape {:?}", self.shape(), value.shape()))
        })?;
        // A value that shares this storage is copied first: a read and a write guard on one
        // lock would deadlock, and overlapping reads and writes would be wrong.
        let src = if src.shares_storage_with(self) { src.contiguous_copy()? } else { src };
        with_dtype!(self.dtype(), T => {
            let from = src.storage().read();
            let mut to = self.storage().write();
            let mut dst = view_mut(T::slice_mut(&mut to), self.layout());
            dst.assign(&view(T::slice(&from), src.layout()));
        });
        self.storage().bump_version();
        Ok(())
    }

    /// The shared path of the binary in-place ops: `self = f(self, other)`.
    fn update_with(&self, op: &'static str, other: &Tensor, f: impl Fn(&Tensor, &Tensor) -> Result<Tensor>) -> Result<&Tensor> {
        let record = self.check_inplace(op, &[other])?;
        if !record {
            let value = {
                let _off = crate::autograd::grad_mode::no_grad();
                f(&self.detach(), other)?
            };
            check_castable(op, value.dtype(), self.dtype())?;
            self.write_values(op, &value)?;
            return Ok(self);
        }
        // Recording: compute on a copy of the old value (ops may save it), then take over the
        // result's history.
        let old = self.clone_tensor()?;
        let value = f(&old, other)?;
        check_castable(op, value.dtype(), self.dtype())?;
        let value = value.to_dtype(self.dtype())?;
        if value.shape() != self.shape() {
            return Err(Error::shape(op, format!("output with shape {:?} doesn't match the broadcast shape {:?}", self.shape(), value.shape())));
        }
        self.write_values(op, &value)?;
        let mut m = self.meta();
        m.grad_fn = value.grad_fn();
        Ok(self)
    }

    pub fn add_(&self, other: &Tensor) -> Result<&Tensor> {
        self.update_with("add_", other, |a, b| a.add(b))
    }
    pub fn sub_(&self, other: &Tensor) -> Result<&Tensor> {
        self.update_with("sub_", other, |a, b| a.sub(b))
    }
    pub fn mul_(&self, other: &Tensor) -> Result<&Tensor> {
        self.update_with("mul_", other, |a, b| a.mul(b))
    }
    pub fn div_(&self, other: &Tensor) -> Result<&Tensor> {
        self.update_with("div_", other, |a, b| a.div(b))
    }

    pub fn add_scalar_(&self, s: impl Into<Scalar>) -> Result<&Tensor> {
        self.add_(&super::binary::scalar_operand(self, s.into()))
    }
    pub fn sub_scalar_(&self, s: impl Into<Scalar>) -> Result<&Tensor> {
        self.sub_(&super::binary::scalar_operand(self, s.into()))
    }
    pub fn mul_scalar_(&self, s: impl Into<Scalar>) -> Result<&Tensor> {
        self.mul_(&super::binary::scalar_operand(self, s.into()))
    }
    pub fn div_scalar_(&self, s: impl Into<Scalar>) -> Result<&Tensor> {
        self.div_(&super::binary::scalar_operand(self, s.into()))
    }

    /// Sets every element to `value`.
    pub fn fill_(&self, value: impl Into<Scalar>) -> Result<&Tensor> {
        let v = value.into();
        self.check_inplace("fill_", &[])?;
        let filled = Tensor::scalar_of(v, self.dtype());
        self.write_values("fill_", &filled)?;
        self.detach_history_after_fill();
        Ok(self)
    }

    pub fn zero_(&self) -> Result<&Tensor> {
        self.fill_(Scalar::Int(0))
    }

    /// Copies `src` (broadcast and cast) into this tensor.
    pub fn copy_(&self, src: &Tensor) -> Result<&Tensor> {
        self.update_with("copy_", src, |a, b| {
            let shape = a.shape().to_vec();
            let b = b.to_dtype(a.dtype())?;
            b.expand_to(&shape).map_err(|_| {
                Error::shape("copy_", format!("source of shape {:?} cannot be broadcast to {:?}", b.shape(), shape))
            })?.clone_tensor()
        })
    }

    /// Adds `other` into this tensor with no autograd checks (gradient accumulation).
    pub(crate) fn add_inplace_unchecked(&self, other: &Tensor) -> Result<()> {
        let value = self.detach().add(other)?;
        self.write_values("add_", &value)
    }

    /// After `fill_`, a non-leaf's values no longer depend on its history.
    fn detach_history_after_fill(&self) {
        if GradMode::current().is_recording() {
            let mut m = self.meta();
            if m.grad_fn.is_some() {
                // PyTorch records FillBackward, whose gradient is zero: equivalent to cutting
                // the history while keeping requires_grad (the tensor stays differentiable).
                m.grad_fn = None;
                m.requires_grad = false;
            }
        }
    }
}

/// In-place results keep the tensor's dtype; a float result cannot go into an int tensor.
fn check_castable(op: &'static str, from: DType, to: DType) -> Result<()> {
    let rank = |d: DType| match d {
        DType::Bool => 0,
        DType::I64 => 1,
        _ => 2,
    };
    if rank(from) > rank(to) {
        return Err(Error::dtype(op, format!("result type {from} can't be cast to the desired output type {to}")));
    }
    Ok(())
}
