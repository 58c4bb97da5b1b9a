//! The backward engine. It counts, for every node reachable from the roots, how many edges
//! lead into it, then runs nodes from a ready queue as their counts reach zero, summing the
//! gradients that arrive along several edges. No recursion anywhere, so graph depth is bounded
//! by memory only.

use super::grad_mode::GradMode;
use super::node::{Node, NodeKind};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

type Key = *const Node;

fn key(n: &Arc<Node>) -> Key {
    Arc::as_ptr(n)
}

/// Ready nodes, latest-created first (a valid order, and it frees memory depth-first).
struct Ready(Arc<Node>);
impl PartialEq for Ready {
    fn eq(&self, o: &Self) -> bool {
        self.0.seq == o.0.seq
    }
}
impl Eq for Ready {}
impl PartialOrd for Ready {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ready {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.seq.cmp(&o.0.seq)
    }
}

fn no_graph_error(t: &Tensor, op: &str) -> Error {
    if t.meta().made_without_grad {
        Error::autograd(format!(
            "{op}: this tensor has no graph because it was computed while gradient recording was \
             off (inside no_grad, set_grad_enabled(False) or inference_mode). Compute it outside \
             that block to differentiate it; setting requires_grad on the result would not train \
             anything."
        ))
    } else {
        Error::autograd(format!(
            "{op}: element 0 of tensors does not require grad and does not have a grad_fn \
             (no input of the computation had requires_grad=True)"
        ))
    }
}

/// The root gradient: the given one (checked) or ones for a one-element root.
fn root_grad(t: &Tensor, given: Option<&Tensor>, op: &str) -> Result<Tensor> {
    match given {
        Some(g) => {
            if g.shape() != t.shape() {
                return Err(Error::shape(
                    "backward",
                    format!(
                        "{op}: gradient has shape {:?} but the output has shape {:?}",
                        g.shape(),
                        t.shape()
                    ),
                ));
            }
            Ok(if g.dtype() == t.dtype() {
                g.detach()
            } else {
                g.to_dtype(t.dtype())?
            })
        }
        None => {
            if t.numel() != 1 {
                return Err(Error::autograd(format!(
                    "{op}: grad can be implicitly created only for scalar outputs; pass a gradient \
                     of shape {:?} for this output",
                    t.shape()
                )));
            }
            Tensor::ones(t.shape(), t.dtype())
        }
    }
}

/// `tensor.backward(gradient)` for several roots at once: gradients accumulate into the
/// `.grad` of every leaf reached (and of non-leaves that called `retain_grad`).
pub fn backward(roots: &[Tensor], grads: &[Option<Tensor>], retain_graph: bool) -> Result<()> {
    let mut seeds = Vec::with_capacity(roots.len());
    for (i, t) in roots.iter().enumerate() {
        let edge = t.grad_edge().ok_or_else(|| no_graph_error(t, "backward"))?;
        let g = root_grad(t, grads.get(i).and_then(|g| g.as_ref()), "backward")?;
        seeds.push((edge, g));
    }
    run(seeds, retain_graph, None).map(|_| ())
}

/// `autograd.grad`: the gradients of `outputs` with respect to `inputs`, returned instead of
/// accumulated; `.grad` fields are left alone. `None` where an input is not reached (only
/// with `allow_unused`; otherwise that is an error).
pub fn grad(
    outputs: &[Tensor],
    inputs: &[Tensor],
    grad_outputs: &[Option<Tensor>],
    retain_graph: bool,
    allow_unused: bool,
) -> Result<Vec<Option<Tensor>>> {
    let mut seeds = Vec::with_capacity(outputs.len());
    for (i, t) in outputs.iter().enumerate() {
        let edge = t.grad_edge().ok_or_else(|| no_graph_error(t, "grad"))?;
        let g = root_grad(t, grad_outputs.get(i).and_then(|g| g.as_ref()), "grad")?;
        seeds.push((edge, g));
    }
    let mut targets = Vec::with_capacity(inputs.len());
    for (i, t) in inputs.iter().enumerate() {
        let edge = t.grad_edge().ok_or_else(|| {
            Error::autograd(format!(
                "grad: input {i} does not require grad and so has no gradient"
            ))
        })?;
        targets.push(edge);
    }
    let found = run(seeds, retain_graph, Some(&targets))?;
    found
        .into_iter()
        .enumerate()
        .map(|(i, g)| match g {
            Some(g) => Ok(Some(g)),
            None if allow_unused => Ok(None),
            None => Err(Error::autograd(format!(
                "grad: input {i} was not used in the graph of the outputs; pass allow_unused=True \
                 if this is expected"
            ))),
        })
        .collect()
}

/// Runs the graph below `seeds`. With `capture`, collects the gradient arriving at each of
/// those nodes (and writes no `.grad`); otherwise accumulates into leaves.
fn run(
    seeds: Vec<(Arc<Node>, Tensor)>,
    retain_graph: bool,
    capture: Option<&[Arc<Node>]>,
) -> Result<Vec<Option<Tensor>>> {
    // Backward rules never record, and their results are normal tensors even when backward
    // is called inside inference_mode.
    let _mode = super::grad_mode::GradModeGuard::enter(GradMode {
        grad_enabled: false,
        inference: false,
    });

    // 1. Count incoming edges of every reachable node.
    let mut deps: HashMap<Key, usize> = HashMap::new();
    let mut seen: HashSet<Key> = HashSet::new();
    let mut stack: Vec<Arc<Node>> = Vec::new();
    for (n, _) in &seeds {
        if seen.insert(key(n)) {
            stack.push(n.clone());
        }
    }
    while let Some(n) = stack.pop() {
        for next in n.next.iter().flatten() {
            *deps.entry(key(next)).or_insert(0) += 1;
            if seen.insert(key(next)) {
                stack.push(next.clone());
            }
        }
    }
    drop(seen);

    // 2. Seed the input buffers.
    let mut buffers: HashMap<Key, Tensor> = HashMap::new();
    let mut ready = BinaryHeap::new();
    let mut queued: HashSet<Key> = HashSet::new();
    for (n, g) in seeds {
        add_into(&mut buffers, key(&n), g)?;
        if deps.get(&key(&n)).copied().unwrap_or(0) == 0 && queued.insert(key(&n)) {
            ready.push(Ready(n));
        }
    }
    let capture_keys: Vec<Key> = capture
        .map(|c| c.iter().map(key).collect())
        .unwrap_or_default();
    let mut captured: Vec<Option<Tensor>> = vec![None; capture_keys.len()];

    // 3. Run nodes as they become ready.
    while let Some(Ready(node)) = ready.pop() {
        let k = key(&node);
        let grad = buffers.remove(&k);
        let mut outputs: super::node::Grads = Default::default();
        if let Some(grad) = grad {
            if capture.is_some() {
                for (slot, &ck) in captured.iter_mut().zip(&capture_keys) {
                    if ck == k {
                        *slot = Some(grad.clone());
                    }
                }
            }
            match &node.kind {
                NodeKind::AccumulateGrad(leaf) => {
                    if capture.is_none()
                        && let Some(leaf) = leaf.upgrade()
                    {
                        accumulate(&Tensor(leaf), grad)?;
                    }
                }
                NodeKind::Op(f) => {
                    if capture.is_none() {
                        retain(&node, &grad)?;
                    }
                    let needs: smallvec::SmallVec<[bool; 4]> =
                        node.next.iter().map(|e| e.is_some()).collect();
                    let mut slot = f.lock();
                    let Some(rule) = slot.as_mut() else {
                        return Err(Error::autograd(format!(
                            "Trying to backward through the graph a second time (or directly access \
                             saved tensors after they have already been freed): {} was freed by an \
                             earlier backward. Specify retain_graph=True on the first backward if you \
                             need to backward through the graph again.",
                            node.name
                        )));
                    };
                    outputs = rule(&grad, &needs).map_err(|e| name_error(e, node.name))?;
                    if !retain_graph {
                        *slot = None;
                    }
                }
            }
        }
        // 4. Route gradients to the inputs' nodes and release the ones that are now ready.
        for (i, next) in node.next.iter().enumerate() {
            let Some(next) = next else { continue };
            let nk = key(next);
            if let Some(Some(g)) = outputs.get_mut(i).map(Option::take) {
                add_into(&mut buffers, nk, g)?;
            }
            let count = deps.get_mut(&nk).expect("every edge was counted");
            *count -= 1;
            if *count == 0 && queued.insert(nk) {
                ready.push(Ready(next.clone()));
            }
        }
    }
    Ok(captured)
}

fn name_error(e: Error, node: &'static str) -> Error {
    match e {
        Error::InplaceModified {
            node: "",
            dtype,
            shape,
            expected,
            found,
        } => Error::InplaceModified {
            node,
            dtype,
            shape,
            expected,
            found,
        },
        other => other,
    }
}

fn add_into(buffers: &mut HashMap<Key, Tensor>, k: Key, g: Tensor) -> Result<()> {
    match buffers.remove(&k) {
        None => {
            buffers.insert(k, g);
        }
        Some(prev) => {
            buffers.insert(k, prev.add(&g)?);
        }
    }
    Ok(())
}

/// A gradient to keep in `.grad`: contiguous and owned by nobody else, so later in-place
/// updates of `.grad` never write through to another tensor.
fn owned_grad(g: Tensor) -> Result<Tensor> {
    if g.is_contiguous()
        && g.numel() == g.storage().read().len()
        && Arc::strong_count(g.storage()) == 1
    {
        Ok(g)
    } else {
        g.contiguous_copy()
    }
}

fn accumulate(t: &Tensor, g: Tensor) -> Result<()> {
    let g = if g.dtype() == t.dtype() {
        g
    } else {
        g.to_dtype(t.dtype())?
    };
    // Held for the whole update: backward passes on several threads that reach one leaf
    // must add up, not overwrite each other's gradient. (Nothing below locks `t` again.)
    let mut meta = t.meta();
    match meta.grad.clone() {
        None => meta.grad = Some(owned_grad(g)?),
        Some(prev) if prev.is_inference() => meta.grad = Some(prev.add(&g)?),
        Some(prev) => prev.add_inplace_unchecked(&g)?,
    }
    Ok(())
}

fn retain(node: &Node, grad: &Tensor) -> Result<()> {
    let tensors: Vec<_> = node
        .retained
        .lock()
        .iter()
        .filter_map(|w| w.upgrade())
        .collect();
    for t in tensors {
        accumulate(&Tensor(t), grad.clone())?;
    }
    Ok(())
}
