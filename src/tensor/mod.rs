//! The tensor handle: a cheap `Arc` to a layout over shared storage plus its autograd state.

mod create;
mod data;
mod fmt;

use crate::autograd::engine;
use crate::autograd::grad_mode::GradMode;
use crate::autograd::node::Node;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::shape::Layout;
use crate::storage::Storage;
use parking_lot::{Mutex, MutexGuard};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Weak};

/// An n-dimensional array with optional gradient tracking. Cloning is a reference-count bump;
/// both handles are the same tensor.
#[derive(Clone)]
pub struct Tensor(pub(crate) Arc<TensorImpl>);

pub struct TensorImpl {
    pub(crate) storage: Arc<Storage>,
    pub(crate) layout: Layout,
    pub(crate) dtype: DType,
    pub(crate) autograd: Mutex<AutogradMeta>,
    /// A copy of the autograd facts every op asks for (`MetaFlags`), rewritten whenever the
    /// meta is unlocked, so the per-op path reads one byte instead of taking the lock.
    pub(crate) flags: AtomicU8,
    /// For views: the tensor that owns the storage they look into (its own base if it is a
    /// view itself). In-place ops on a view check its base.
    pub(crate) view_base: Option<Tensor>,
}

#[derive(Default)]
pub(crate) struct AutogradMeta {
    /// The node that computes this tensor's gradient inputs; `None` for leaves.
    pub grad_fn: Option<Arc<Node>>,
    /// Set by the user on leaves; op results require grad exactly when they have a grad_fn.
    pub requires_grad: bool,
    pub grad: Option<Tensor>,
    /// The leaf's AccumulateGrad node, shared by every graph that uses the leaf.
    pub accumulator: Weak<Node>,
    pub retains_grad: bool,
    /// Computed while recording was off from inputs that required grad: backward explains.
    pub made_without_grad: bool,
    /// For views made while recording: the storage version their history describes. When an
    /// in-place op moves it, the history is regenerated as a view of the base's new history.
    pub view_version: Option<u64>,
}

/// Bits of `TensorImpl::flags`.
pub(crate) struct MetaFlags;
impl MetaFlags {
    /// `requires_grad || grad_fn.is_some()`.
    pub const REQUIRES_GRAD: u8 = 1;
    /// `made_without_grad`.
    pub const MADE_WITHOUT_GRAD: u8 = 2;

    fn of(m: &AutogradMeta) -> u8 {
        let mut f = 0;
        if m.requires_grad || m.grad_fn.is_some() {
            f |= Self::REQUIRES_GRAD;
        }
        if m.made_without_grad {
            f |= Self::MADE_WITHOUT_GRAD;
        }
        f
    }
}

/// The locked autograd meta; unlocking refreshes the tensor's `flags`.
pub(crate) struct MetaGuard<'a> {
    meta: MutexGuard<'a, AutogradMeta>,
    flags: &'a AtomicU8,
}

impl Deref for MetaGuard<'_> {
    type Target = AutogradMeta;
    fn deref(&self) -> &AutogradMeta {
        &self.meta
    }
}

impl DerefMut for MetaGuard<'_> {
    fn deref_mut(&mut self) -> &mut AutogradMeta {
        &mut self.meta
    }
}

impl Drop for MetaGuard<'_> {
    fn drop(&mut self) {
        // Still under the lock (fields drop after this), so writers store in lock order.
        self.flags
            .store(MetaFlags::of(&self.meta), Ordering::Release);
    }
}

impl Tensor {
    pub(crate) fn from_parts_typed(
        storage: Arc<Storage>,
        layout: Layout,
        dtype: DType,
        view_base: Option<Tensor>,
    ) -> Tensor {
        Tensor(Arc::new(TensorImpl {
            storage,
            layout,
            dtype,
            autograd: Mutex::new(AutogradMeta::default()),
            flags: AtomicU8::new(0),
            view_base,
        }))
    }

    /// A fresh contiguous tensor owning `data` (an inference tensor inside inference mode).
    pub(crate) fn from_buffer_vec<T: Element>(data: Vec<T>, shape: &[usize]) -> Tensor {
        debug_assert_eq!(data.len(), shape.iter().product::<usize>());
        let inference = GradMode::current().inference;
        Tensor::from_parts_typed(
            Arc::new(Storage::from_vec(data, inference)),
            Layout::contiguous(shape),
            T::DTYPE,
            None,
        )
    }

    pub(crate) fn meta(&self) -> MetaGuard<'_> {
        MetaGuard {
            meta: self.0.autograd.lock(),
            flags: &self.0.flags,
        }
    }

    /// `MetaFlags` bits as of the last unlock of the meta (a view's history may be stale; see
    /// `requires_grad`).
    #[inline]
    pub(crate) fn meta_flags(&self) -> u8 {
        self.0.flags.load(Ordering::Acquire)
    }

    // ----- shape and storage -----

    pub fn shape(&self) -> &[usize] {
        &self.0.layout.shape
    }

    pub fn dims(&self) -> &[usize] {
        self.shape()
    }

    pub fn strides(&self) -> &[usize] {
        &self.0.layout.strides
    }

    pub fn layout(&self) -> &Layout {
        &self.0.layout
    }

    pub fn storage_offset(&self) -> usize {
        self.0.layout.offset
    }

    pub fn ndim(&self) -> usize {
        self.0.layout.ndim()
    }

    pub fn numel(&self) -> usize {
        self.0.layout.numel()
    }

    pub fn dtype(&self) -> DType {
        self.0.dtype
    }

    pub fn is_contiguous(&self) -> bool {
        self.0.layout.is_contiguous()
    }

    pub(crate) fn storage(&self) -> &Arc<Storage> {
        &self.0.storage
    }

    /// The storage's version counter: moved by every in-place op on this tensor or its views.
    pub fn version(&self) -> u64 {
        self.0.storage.version()
    }

    pub fn is_inference(&self) -> bool {
        self.0.storage.is_inference()
    }

    /// Whether two handles share storage (views of each other or the same tensor).
    pub fn shares_storage_with(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0.storage, &other.0.storage)
    }

    pub fn is_view(&self) -> bool {
        self.0.view_base.is_some()
    }

    pub fn same_tensor(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// A weak handle, for tests and caches that must not keep the tensor alive.
    pub fn downgrade(&self) -> Weak<TensorImpl> {
        Arc::downgrade(&self.0)
    }

    // ----- autograd state -----

    pub fn requires_grad(&self) -> bool {
        if self.0.view_base.is_none() {
            return self.meta_flags() & MetaFlags::REQUIRES_GRAD != 0;
        }
        self.refresh_view_history();
        let m = self.meta();
        m.requires_grad || m.grad_fn.is_some()
    }

    pub fn is_leaf(&self) -> bool {
        self.refresh_view_history();
        self.meta().grad_fn.is_none()
    }

    /// The node that computed this tensor, `None` for leaves.
    pub fn grad_fn(&self) -> Option<Arc<Node>> {
        self.refresh_view_history();
        self.meta().grad_fn.clone()
    }

    /// The name of the grad_fn, e.g. `Some("MulBackward")`.
    pub fn grad_fn_name(&self) -> Option<&'static str> {
        self.refresh_view_history();
        self.meta().grad_fn.as_ref().map(|n| n.name)
    }

    /// Turns gradient tracking on or off for a leaf (PyTorch's `requires_grad_`).
    pub fn set_requires_grad(&self, requires_grad: bool) -> Result<&Tensor> {
        let mut m = self.meta();
        if m.grad_fn.is_some() {
            if requires_grad {
                return Ok(self);
            }
            return Err(Error::autograd(
                "you can only change requires_grad flags of leaf variables. If you want to use a \
                 computed variable in a subgraph that doesn't require differentiation use \
                 var_no_grad = var.detach().",
            ));
        }
        if requires_grad && !self.dtype().is_float() {
            return Err(Error::dtype(
                "requires_grad_",
                format!(
                    "only tensors of floating point dtype can require gradients, got {}",
                    self.dtype()
                ),
            ));
        }
        if requires_grad && self.is_inference() && !GradMode::current().inference {
            return Err(Error::autograd(
                "Setting requires_grad=True on inference tensor outside inference_mode is not \
                 allowed. Clone it first (`t.clone()` gives a normal tensor) or create it under \
                 no_grad instead of inference_mode.",
            ));
        }
        m.requires_grad = requires_grad;
        Ok(self)
    }

    /// Builder form of `set_requires_grad` for fresh leaves.
    pub fn requires_grad_(self, requires_grad: bool) -> Result<Tensor> {
        self.set_requires_grad(requires_grad)?;
        Ok(self)
    }

    /// The accumulated gradient (leaves, or tensors that called `retain_grad`).
    pub fn grad(&self) -> Option<Tensor> {
        self.meta().grad.clone()
    }

    /// Replaces `.grad` (None clears it). The new gradient must match shape and dtype.
    pub fn set_grad(&self, grad: Option<Tensor>) -> Result<()> {
        if let Some(g) = &grad {
            if g.shape() != self.shape() {
                return Err(Error::shape(
                    "grad",
                    format!(
                        "assigned grad has shape {:?} but the tensor has shape {:?}",
                        g.shape(),
                        self.shape()
                    ),
                ));
            }
            if g.dtype() != self.dtype() {
                return Err(Error::dtype(
                    "grad",
                    format!(
                        "assigned grad has dtype {} but the tensor has dtype {}",
                        g.dtype(),
                        self.dtype()
                    ),
                ));
            }
        }
        self.meta().grad = grad;
        Ok(())
    }

    /// Keeps the gradient of a non-leaf in `.grad` after backward.
    pub fn retain_grad(&self) -> Result<()> {
        let mut m = self.meta();
        let Some(node) = m.grad_fn.clone() else {
            if m.requires_grad {
                return Ok(()); // leaves keep their grad anyway
            }
            return Err(Error::autograd(
                "can't retain_grad on Tensor that has requires_grad=False",
            ));
        };
        if !m.retains_grad {
            m.retains_grad = true;
            node.retained.lock().push(Arc::downgrade(&self.0));
        }
        Ok(())
    }

    pub fn retains_grad(&self) -> bool {
        self.meta().retains_grad
    }

    /// The same data with no history (shares storage, so in-place changes show in both).
    pub fn detach(&self) -> Tensor {
        Tensor::from_parts_typed(
            self.0.storage.clone(),
            self.0.layout.clone(),
            self.dtype(),
            None,
        )
    }

    /// The edge an op result uses to reach this tensor in backward: its grad_fn, or for a
    /// leaf its (shared, lazily made) AccumulateGrad node.
    pub(crate) fn grad_edge(&self) -> Option<Arc<Node>> {
        self.refresh_view_history();
        let mut m = self.meta();
        if let Some(f) = &m.grad_fn {
            return Some(f.clone());
        }
        if !m.requires_grad {
            return None;
        }
        if let Some(acc) = m.accumulator.upgrade() {
            return Some(acc);
        }
        let acc = Arc::new(Node::accumulate(Arc::downgrade(&self.0)));
        m.accumulator = Arc::downgrade(&acc);
        Some(acc)
    }

    /// Backpropagates from this scalar (or with an explicit `gradient` of the same shape).
    pub fn backward(&self) -> Result<()> {
        engine::backward(std::slice::from_ref(self), &[None], false)
    }

    pub fn backward_with(&self, gradient: Option<&Tensor>, retain_graph: bool) -> Result<()> {
        engine::backward(
            std::slice::from_ref(self),
            &[gradient.cloned()],
            retain_graph,
        )
    }
}

impl std::fmt::Debug for TensorImpl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TensorImpl({:?}, {})", self.layout.shape, self.dtype)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::grad_mode::no_grad;

    /// The lock-free flags every op reads must follow each way the meta changes.
    #[test]
    fn meta_flags_follow_the_meta() {
        let has = |t: &Tensor, bit: u8| t.meta_flags() & bit != 0;
        let x = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
        assert!(!has(&x, MetaFlags::REQUIRES_GRAD));
        x.set_requires_grad(true).unwrap();
        assert!(has(&x, MetaFlags::REQUIRES_GRAD) && x.requires_grad());
        let y = x.mul(&x).unwrap();
        assert!(
            has(&y, MetaFlags::REQUIRES_GRAD),
            "a recorded result has a grad_fn"
        );
        let z = {
            let _g = no_grad();
            x.mul(&x).unwrap()
        };
        assert!(!has(&z, MetaFlags::REQUIRES_GRAD));
        assert!(has(&z, MetaFlags::MADE_WITHOUT_GRAD));
        assert!(
            has(&z.add(&z).unwrap(), MetaFlags::MADE_WITHOUT_GRAD),
            "passed on"
        );
        x.set_requires_grad(false).unwrap();
        assert!(!has(&x, MetaFlags::REQUIRES_GRAD) && !x.requires_grad());
        assert!(!x.mul(&x).unwrap().requires_grad());
    }
}
