//! Graph nodes. A node is the backward step of one op: it owns what the op saved and points
//! to the nodes of the op's inputs (never to its output), so every graph is a DAG and freeing
//! the root frees everything nobody else holds.

use crate::error::Result;
use crate::tensor::{Tensor, TensorImpl};
use parking_lot::Mutex;
use smallvec::SmallVec;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

/// Gradients for an op's inputs, in input order; `None` where no gradient is needed.
pub type Grads = SmallVec<[Option<Tensor>; 2]>;

/// An op's backward rule: gets the gradient of the op's output and which inputs need one.
pub type BackwardFn = Box<dyn FnMut(&Tensor, &[bool]) -> Result<Grads> + Send>;

pub(crate) enum NodeKind {
    /// An op's rule; `None` once the graph has been freed by a backward without retain_graph.
    Op(Mutex<Option<BackwardFn>>),
    /// Writes into a leaf's `.grad`. Holds the leaf weakly: the graph never keeps data alive.
    AccumulateGrad(Weak<TensorImpl>),
}

pub struct Node {
    pub(crate) name: &'static str,
    /// Creation order; the engine runs later nodes first when several are ready.
    pub(crate) seq: u64,
    pub(crate) next: SmallVec<[Option<Arc<Node>>; 2]>,
    pub(crate) kind: NodeKind,
    /// Non-leaf tensors with `retain_grad()` whose grad_fn is this node.
    pub(crate) retained: Mutex<Vec<Weak<TensorImpl>>>,
}

static NEXT_SEQ: AtomicU64 = AtomicU64::new(0);

impl Node {
    pub(crate) fn op(
        name: &'static str,
        next: SmallVec<[Option<Arc<Node>>; 2]>,
        f: BackwardFn,
    ) -> Node {
        Node {
            name,
            seq: NEXT_SEQ.fetch_add(1, Ordering::Relaxed),
            next,
            kind: NodeKind::Op(Mutex::new(Some(f))),
            retained: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn accumulate(leaf: Weak<TensorImpl>) -> Node {
        Node {
            name: "AccumulateGrad",
            seq: NEXT_SEQ.fetch_add(1, Ordering::Relaxed),
            next: SmallVec::new(),
            kind: NodeKind::AccumulateGrad(leaf),
            retained: Mutex::new(Vec::new()),
        }
    }

    /// The name PyTorch users know, e.g. `MulBackward`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The nodes of this op's inputs (`None` for inputs that need no gradient).
    pub fn next_functions(&self) -> impl Iterator<Item = Option<&Arc<Node>>> {
        self.next.iter().map(|n| n.as_ref())
    }

    /// Whether the saved state was already freed by a backward without `retain_graph`.
    pub fn is_released(&self) -> bool {
        match &self.kind {
            NodeKind::Op(f) => f.lock().is_none(),
            NodeKind::AccumulateGrad(_) => false,
        }
    }
}

impl Drop for Node {
    /// Frees long chains with a loop instead of nested drops, which would overflow the stack
    /// on a graph a million ops deep.
    fn drop(&mut self) {
        let mut pending: Vec<Arc<Node>> = self.next.drain(..).flatten().collect();
        while let Some(node) = pending.pop() {
            if let Some(mut inner) = Arc::into_inner(node) {
                pending.extend(inner.next.drain(..).flatten());
            }
        }
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{}>", self.name)
    }
}
