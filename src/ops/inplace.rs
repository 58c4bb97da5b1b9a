//! In-place ops. Each computes its value out of place, writes it into the tensor's own
//! storage and moves the version counter. While recording, the tensor's history is rebased
//! onto the op (as PyTorch does); on a leaf that requires grad that is refused.
//!
//! On a view, the history that changes is the base's: the base gets a `CopySlices` node
//! (its gradient is the incoming one with the view's region replaced by the gradient of the
//! op's input there), and the view becomes a view of that new base. Other views of the base
//! notice the version change and regenerate their history the same way when next used.

use super::binary::{BinaryOp, binary, result_type};
use super::gather::{Idx, view_positions};
use super::{grads, record};
use crate::autograd::grad_mode::GradMode;
use crate::autograd::node::{BackwardFn, Node};
use crate::dtype::{DType, Scalar};
use crate::error::{Error, Result};
use crate::kernels::elementwise;
use crate::kernels::strided::{view, view_mut};
use crate::shape::broadcast_shapes;
use crate::tensor::Tensor;
use crate::{with_dtype, with_float};
use std::borrow::Cow;
use std::sync::Arc;

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
        if let Some(base) = &self.0.view_base
            && base.is_leaf()
            && base.requires_grad()
        {
            return Err(Error::autograd(format!(
                "{op}: a view of a leaf Variable that requires grad is being used in an in-place operation. \
                 Wrap the update in `with no_grad():` or work on a clone."
            )));
        }
        Ok(needs)
    }

    /// Refuses writes through a layout where several elements share one memory location.
    fn check_overlap(&self, op: &'static str) -> Result<()> {
        let l = self.layout();
        if l.shape
            .iter()
            .zip(&l.strides)
            .any(|(&n, &s)| n > 1 && s == 0)
        {
            return Err(Error::invalid(
                op,
                "unsupported operation: more than one element of the written-to tensor refers to a single memory location. \
                 Please clone() the tensor before performing the operation.",
            ));
        }
        Ok(())
    }

    /// Writes `value` (broadcast to this tensor's shape, cast to its dtype) into its storage.
    fn write_values(&self, op: &'static str, value: &Tensor) -> Result<()> {
        let value = value.to_dtype(self.dtype())?;
        let src = value.expand_to(self.shape()).map_err(|_| {
            Error::shape(
                op,
                format!(
                    "output with shape {:?} doesn't match the broadcast shape {:?}",
                    self.shape(),
                    value.shape()
                ),
            )
        })?;
        // A value that shares this storage is copied first: a read and a write guard on one
        // lock would deadlock, and overlapping reads and writes would be wrong.
        let src = if src.shares_storage_with(self) {
            src.contiguous_copy()?
        } else {
            src
        };
        with_dtype!(self.dtype(), T => {
            let from = src.storage().read();
            let mut to = self.storage().write();
            let (dl, sl) = (self.layout(), src.layout());
            if dl.is_contiguous() && sl.is_contiguous() {
                // The common case (an optimizer's `p -= lr * g`): one plain copy.
                let n = dl.numel();
                T::slice_mut(&mut to)[dl.offset..dl.offset + n]
                    .copy_from_slice(&T::slice(&from)[sl.offset..sl.offset + n]);
            } else {
                let mut dst = view_mut(T::slice_mut(&mut to), dl);
                dst.assign(&view(T::slice(&from), sl));
            }
        });
        self.storage().bump_version();
        Ok(())
    }

    /// The shared path of the in-place ops: `self = f(self, other)`.
    pub(crate) fn update_with(
        &self,
        op: &'static str,
        other: &Tensor,
        f: impl Fn(&Tensor, &Tensor) -> Result<Tensor>,
    ) -> Result<&Tensor> {
        self.check_overlap(op)?;
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
            return Err(Error::shape(
                op,
                format!(
                    "output with shape {:?} doesn't match the broadcast shape {:?}",
                    self.shape(),
                    value.shape()
                ),
            ));
        }
        self.write_values(op, &value)?;
        match &self.0.view_base {
            None => self.meta().grad_fn = value.grad_fn(),
            Some(base) => self.rebase_view(base, &value)?,
        }
        Ok(self)
    }

    /// After an in-place op on this view wrote `value`: gives the base a CopySlices history
    /// and makes this view's history a view of it.
    fn rebase_view(&self, base: &Tensor, value: &Tensor) -> Result<()> {
        let pos: Idx = Arc::new(view_positions(base.layout(), self.layout())?);
        let vshape = self.shape().to_vec();
        let p = pos.clone();
        record(base.clone(), "CopySlices", &[base, value], move |_| {
            Ok(move |g: &Tensor, needs: &[bool]| {
                let gb = if needs[0] {
                    Some(g.overwrite_linear(&Tensor::zeros(&vshape, g.dtype())?, p.clone())?)
                } else {
                    None
                };
                let gv = if needs[1] {
                    Some(g.take_linear(p.clone(), &vshape)?)
                } else {
                    None
                };
                Ok(grads([gb, gv]))
            })
        })?;
        self.set_view_history(base, pos);
        Ok(())
    }

    /// Makes this view's grad_fn a view of `base`'s current history (`pos`: where each of
    /// its elements sits in the base) and marks it current for the storage's version.
    fn set_view_history(&self, base: &Tensor, pos: Idx) {
        let base_shape = base.shape().to_vec();
        let node = base.grad_edge().map(|edge| {
            let rule: BackwardFn = Box::new(move |g: &Tensor, _: &[bool]| {
                Ok(grads([Some(
                    g.scatter_add_linear(pos.clone(), &base_shape)?,
                )]))
            });
            Arc::new(Node::op(
                "AsStridedBackward",
                smallvec::smallvec![Some(edge)],
                rule,
            ))
        });
        let mut m = self.meta();
        m.grad_fn = node;
        m.view_version = Some(self.version());
    }

    /// Brings a view's history up to date after in-place changes to its storage made through
    /// another handle (called before the history is read).
    pub(crate) fn refresh_view_history(&self) {
        let Some(base) = &self.0.view_base else {
            return;
        };
        let stale = matches!(self.meta().view_version, Some(v) if v != self.version());
        if !stale {
            return;
        }
        if !base.requires_grad() {
            let mut m = self.meta();
            m.view_version = Some(self.version());
            return;
        }
        match view_positions(base.layout(), self.layout()) {
            Ok(pos) => self.set_view_history(base, Arc::new(pos)),
            // Unreachable for views made by this crate; keep the old history rather than fail.
            Err(_) => self.meta().view_version = Some(self.version()),
        }
    }

    pub fn add_(&self, other: &Tensor) -> Result<&Tensor> {
        self.arith_("add_", BinaryOp::Add, other)
    }
    pub fn sub_(&self, other: &Tensor) -> Result<&Tensor> {
        self.arith_("sub_", BinaryOp::Sub, other)
    }
    pub fn mul_(&self, other: &Tensor) -> Result<&Tensor> {
        self.arith_("mul_", BinaryOp::Mul, other)
    }
    pub fn div_(&self, other: &Tensor) -> Result<&Tensor> {
        self.arith_("div_", BinaryOp::Div, other)
    }

    fn arith_(&self, op: &'static str, kind: BinaryOp, other: &Tensor) -> Result<&Tensor> {
        if self.arith_in_place(op, kind, other)? {
            return Ok(self);
        }
        self.update_with(op, other, |a, b| binary(kind, a, b))
    }

    /// `self op= other` computed straight into this tensor's storage: the path of an
    /// optimizer's `p -= lr * g` under no_grad, with no temporary and no copy back. Only for a
    /// contiguous float tensor that nothing records, an operand that broadcasts to it without
    /// changing its dtype, and no shared storage; returns false to take the general path.
    fn arith_in_place(&self, op: &'static str, kind: BinaryOp, other: &Tensor) -> Result<bool> {
        let dtype = self.dtype();
        let fits = dtype.is_float()
            && self.layout().is_contiguous()
            && result_type(self, other) == dtype
            && !other.shares_storage_with(self)
            && broadcast_shapes(op, self.shape(), other.shape())
                .ok()
                .as_deref()
                == Some(self.shape());
        if !fits || self.check_inplace(op, &[other])? {
            return Ok(false);
        }
        let other = if other.dtype() == dtype {
            Cow::Borrowed(other)
        } else {
            Cow::Owned(other.to_dtype(dtype)?)
        };
        with_float!(dtype, T => {
            let src = other.storage().read();
            let mut to = self.storage().write();
            let l = self.layout();
            let dst = &mut T::slice_mut(&mut to)[l.offset..l.offset + l.numel()];
            let (s, ls, shape) = (T::slice(&src), other.layout(), self.shape());
            match kind {
                BinaryOp::Add => elementwise::update(dst, shape, s, ls, |x: T, y: T| x + y),
                BinaryOp::Sub => elementwise::update(dst, shape, s, ls, |x: T, y: T| x - y),
                BinaryOp::Mul => elementwise::update(dst, shape, s, ls, |x: T, y: T| x * y),
                BinaryOp::Div => elementwise::update(dst, shape, s, ls, |x: T, y: T| x / y),
                _ => unreachable!("arith_ is only called with the four arithmetic ops"),
            }
        }, _ => unreachable!("checked to be a float dtype"));
        self.storage().bump_version();
        Ok(true)
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
        if self.is_view() && GradMode::current().is_recording() && self.requires_grad() {
            // Filling part of a graph tensor: the base's history must show the region as
            // constant, which the view path of `copy_` records.
            return self.copy_named("fill_", &Tensor::scalar_of(v, self.dtype()));
        }
        self.check_overlap("fill_")?;
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
        self.copy_named("copy_", src)
    }

    /// `copy_` reporting errors as `op` (e.g. `__setitem__`).
    pub(crate) fn copy_named(&self, op: &'static str, src: &Tensor) -> Result<&Tensor> {
        self.update_with(op, src, |a, b| {
            let shape = a.shape().to_vec();
            let b = b.to_dtype(a.dtype())?;
            b.expand_to(&shape)
                .map_err(|_| {
                    Error::shape(
                        op,
                        format!(
                            "source of shape {:?} cannot be broadcast to {:?}",
                            b.shape(),
                            shape
                        ),
                    )
                })?
                .clone_tensor()
        })
    }

    /// In-place `index_add`.
    pub fn index_add_(
        &self,
        dim: isize,
        index: &Tensor,
        source: &Tensor,
        alpha: f64,
    ) -> Result<&Tensor> {
        let index = index.clone();
        self.update_with("index_add_", source, move |a, s| {
            a.index_add(dim, &index, s, alpha)
        })
    }

    /// In-place `scatter`.
    pub fn scatter_(&self, dim: isize, index: &Tensor, src: &Tensor) -> Result<&Tensor> {
        let index = index.clone();
        self.update_with("scatter_", src, move |a, s| a.scatter(dim, &index, s))
    }

    /// In-place `scatter_add`.
    pub fn scatter_add_(&self, dim: isize, index: &Tensor, src: &Tensor) -> Result<&Tensor> {
        let index = index.clone();
        self.update_with("scatter_add_", src, move |a, s| {
            a.scatter_add(dim, &index, s)
        })
    }

    /// Adds `other` into this tensor with no autograd checks (gradient accumulation).
    pub(crate) fn add_inplace_unchecked(&self, other: &Tensor) -> Result<()> {
        let value = self.detach().add(other)?;
        self.write_values("add_", &value)
    }

    /// Runs a fused elementwise update `f(param, grad, states)` directly on this tensor's
    /// storage and on each `state`'s (optimizer buffers), then moves their version counters.
    /// It is an in-place op like any other: refused on inference tensors outside inference
    /// mode, and it always runs as if under no_grad (optimizer steps never record).
    pub(crate) fn fused_update<T: crate::dtype::FloatElement>(
        &self,
        op: &'static str,
        grad: &Tensor,
        states: &[&Tensor],
        f: impl FnOnce(&mut [T], &[T], &mut [&mut [T]]),
    ) -> Result<()> {
        let _off = crate::autograd::grad_mode::no_grad();
        self.check_inplace(op, &[])?;
        let n = self.numel();
        if self.dtype() != T::DTYPE || grad.dtype() != T::DTYPE {
            return Err(Error::dtype(
                op,
                format!(
                    "parameter is {} and its gradient {}; both must be {}",
                    self.dtype(),
                    grad.dtype(),
                    T::DTYPE
                ),
            ));
        }
        if grad.shape() != self.shape() {
            return Err(Error::shape(
                op,
                format!(
                    "gradient shape {:?} does not match parameter shape {:?}",
                    grad.shape(),
                    self.shape()
                ),
            ));
        }
        for (i, s) in states.iter().enumerate() {
            if s.dtype() != T::DTYPE || s.shape() != self.shape() || !s.is_contiguous() {
                return Err(Error::invalid(
                    op,
                    format!(
                        "state buffer {i} must be a contiguous {} tensor of shape {:?}, got {} {:?}",
                        T::DTYPE,
                        self.shape(),
                        s.dtype(),
                        s.shape()
                    ),
                ));
            }
            if s.shares_storage_with(self) || states[..i].iter().any(|o| o.shares_storage_with(s)) {
                return Err(Error::invalid(
                    op,
                    "state buffers must not share storage with the parameter or each other",
                ));
            }
        }
        // A non-contiguous parameter is updated through a contiguous copy written back below.
        let target = if self.is_contiguous() {
            self.detach()
        } else {
            self.contiguous_copy()?
        };
        // The gradient is only read: copy it when it is strided or aliases a written buffer
        // (a read and a write guard on one lock would deadlock).
        let aliased =
            grad.shares_storage_with(&target) || states.iter().any(|s| s.shares_storage_with(grad));
        let grad = if grad.is_contiguous() && !aliased {
            grad.detach()
        } else {
            grad.contiguous_copy()?
        };
        {
            let g_buf = grad.storage().read();
            let g = &T::slice(&g_buf)[grad.storage_offset()..grad.storage_offset() + n];
            let mut p_buf = target.storage().write();
            let p =
                &mut T::slice_mut(&mut p_buf)[target.storage_offset()..target.storage_offset() + n];
            let mut guards: Vec<_> = states.iter().map(|s| s.storage().write()).collect();
            let mut slices: Vec<&mut [T]> = guards
                .iter_mut()
                .zip(states)
                .map(|(b, s)| &mut T::slice_mut(b)[s.storage_offset()..s.storage_offset() + n])
                .collect();
            f(p, g, &mut slices);
        }
        for s in states {
            s.storage().bump_version();
        }
        if self.is_contiguous() {
            self.storage().bump_version();
        } else {
            self.write_values(op, &target)?;
        }
        Ok(())
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
        return Err(Error::dtype(
            op,
            format!("result type {from} can't be cast to the desired output type {to}"),
        ));
    }
    Ok(())
}
