//! Indexing. Basic indexing (ints, slices with steps, None, Ellipsis) is a view; advanced
//! indexing (int64 and bool tensors, mixed with the basic kinds) gathers a copy with NumPy's
//! result shapes: indices next to each other keep their place, separated ones go first.
//! Ints are applied as `select` before the advanced part, as PyTorch does, so `t[0, :, idx]`
//! keeps the slice dim first (NumPy would treat the int as an advanced index).

use super::gather::{Idx, checked_numel, cstrides};
use super::view::DimAction;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::shape::broadcast_shapes;
use crate::tensor::Tensor;
use std::sync::Arc;

/// One entry of an indexing expression `t[a, b:c:d, None, ..., idx]`.
#[derive(Clone)]
pub enum IndexItem {
    Int(i64),
    Slice {
        start: Option<i64>,
        stop: Option<i64>,
        step: i64,
    },
    NewAxis,
    Ellipsis,
    /// An int64 tensor (positions along one dim) or a bool mask (over as many dims as it has).
    Tensor(Tensor),
}

impl std::fmt::Debug for IndexItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IndexItem::Int(i) => write!(f, "Int({i})"),
            IndexItem::Slice { start, stop, step } => {
                write!(f, "Slice({start:?}, {stop:?}, {step})")
            }
            IndexItem::NewAxis => write!(f, "NewAxis"),
            IndexItem::Ellipsis => write!(f, "Ellipsis"),
            IndexItem::Tensor(t) => write!(f, "Tensor({:?}, {})", t.shape(), t.dtype()),
        }
    }
}

/// What an advanced index resolves to: the basic part as a view, and the logical positions
/// in that view the result reads (with the result's shape).
pub(crate) struct AdvancedPlan {
    pub view: Tensor,
    pub positions: Idx,
    pub shape: Vec<usize>,
}

/// Python's slice clamping for a dim of size `n` (step > 0).
fn slice_range(start: Option<i64>, stop: Option<i64>, step: i64, n: usize) -> (usize, usize) {
    let n = n as i64;
    let norm = |v: i64| if v < 0 { (v + n).max(0) } else { v.min(n) };
    let s = start.map(norm).unwrap_or(0);
    let e = stop.map(norm).unwrap_or(n);
    let len = if e > s { (e - s + step - 1) / step } else { 0 };
    (s as usize, len as usize)
}

impl Tensor {
    /// `t[items]`: a view for basic indexing, a gathered copy when tensors are involved.
    pub fn index(&self, items: &[IndexItem]) -> Result<Tensor> {
        match self.index_plan(items)? {
            Ok(view) => Ok(view),
            Err(plan) => plan.view.take_linear(plan.positions, &plan.shape),
        }
    }

    /// `t[items] = value` (value broadcast to the indexed shape and cast to t's dtype).
    pub fn index_put_(&self, items: &[IndexItem], value: &Tensor) -> Result<&Tensor> {
        match self.index_plan(items)? {
            Ok(view) => {
                view.copy_named("__setitem__", value)?;
            }
            Err(plan) => {
                let shape = plan.shape.clone();
                let pos = plan.positions.clone();
                plan.view.update_with("__setitem__", value, move |a, v| {
                    let v = v.to_dtype(a.dtype())?;
                    let v = v.expand_to(&shape).map_err(|_| {
                        Error::shape("__setitem__", format!("shape mismatch: value tensor of shape {:?} cannot be broadcast to indexing result of shape {:?}", v.shape(), shape))
                    })?;
                    a.overwrite_linear(&v, pos.clone())
                })?;
            }
        }
        Ok(self)
    }

    /// Resolves an index: `Ok(view)` when it is basic, else the plan of the gather.
    pub(crate) fn index_plan(
        &self,
        items: &[IndexItem],
    ) -> Result<std::result::Result<Tensor, AdvancedPlan>> {
        let consumes = |i: &IndexItem| match i {
            IndexItem::Int(_) | IndexItem::Slice { .. } => 1,
            IndexItem::Tensor(t) if t.dtype() == DType::Bool => t.ndim(),
            IndexItem::Tensor(_) => 1,
            _ => 0,
        };
        let consumed: usize = items.iter().map(consumes).sum();
        let ellipses = items
            .iter()
            .filter(|i| matches!(i, IndexItem::Ellipsis))
            .count();
        if ellipses > 1 {
            return Err(Error::Index {
                op: "index",
                msg: "an index can only have a single ellipsis ('...')".into(),
            });
        }
        let nd = self.ndim();
        if consumed > nd {
            return Err(Error::Index {
                op: "index",
                msg: format!("too many indices for tensor of dimension {nd} ({consumed} given)"),
            });
        }
        let mut acts = Vec::with_capacity(nd + items.len());
        // (dim of the view, index values) for each advanced index, in order.
        let mut adv: Vec<(usize, Tensor)> = Vec::new();
        let mut d = 0;
        let mut out_d = 0;
        let full = |d: usize| DimAction::Keep {
            start: 0,
            len: self.shape()[d],
            step: 1,
        };
        for item in items {
            match item {
                IndexItem::Int(i) => {
                    let size = self.shape()[d];
                    let j = if *i < 0 { i + size as i64 } else { *i };
                    if j < 0 || j >= size as i64 {
                        return Err(Error::IndexOutOfRange {
                            op: "index",
                            index: *i,
                            dim: d,
                            size,
                        });
                    }
                    acts.push(DimAction::Drop { index: j as usize });
                    d += 1;
                }
                IndexItem::Slice { start, stop, step } => {
                    if *step <= 0 {
                        return Err(Error::invalid("index", "step must be greater than zero"));
                    }
                    let (s, len) = slice_range(*start, *stop, *step, self.shape()[d]);
                    acts.push(DimAction::Keep {
                        start: s,
                        len,
                        step: *step as usize,
                    });
                    d += 1;
                    out_d += 1;
                }
                IndexItem::NewAxis => {
                    acts.push(DimAction::Insert);
                    out_d += 1;
                }
                IndexItem::Ellipsis => {
                    for _ in 0..nd - consumed {
                        acts.push(full(d));
                        d += 1;
                        out_d += 1;
                    }
                }
                IndexItem::Tensor(t) if t.dtype() == DType::Bool => {
                    if t.ndim() == 0 {
                        return Err(Error::Index {
                            op: "index",
                            msg: "indexing with a 0-d bool tensor is not supported".into(),
                        });
                    }
                    let k = t.ndim();
                    if t.shape() != &self.shape()[d..d + k] {
                        return Err(Error::Index {
                            op: "index",
                            msg: format!(
                                "the shape of the mask {:?} at index {d} does not match the shape of the indexed tensor {:?}",
                                t.shape(),
                                self.shape()
                            ),
                        });
                    }
                    // One int64 index per masked dim: the coordinates of the true entries.
                    let nz = t.nonzero()?;
                    let n = nz.shape()[0];
                    let coords = nz.to_vec::<i64>()?;
                    for c in 0..k {
                        let col: Vec<i64> = (0..n).map(|r| coords[r * k + c]).collect();
                        acts.push(full(d));
                        adv.push((out_d, Tensor::from_buffer_vec(col, &[n])));
                        d += 1;
                        out_d += 1;
                    }
                }
                IndexItem::Tensor(t) => {
                    if t.dtype() != DType::I64 {
                        return Err(Error::Index {
                            op: "index",
                            msg: format!(
                                "tensors used as indices must be long (int64) or bool tensors, got {}",
                                t.dtype()
                            ),
                        });
                    }
                    acts.push(full(d));
                    adv.push((out_d, t.clone()));
                    d += 1;
                    out_d += 1;
                }
            }
        }
        while d < nd {
            acts.push(full(d));
            d += 1;
        }
        let view = self.index_view(acts)?;
        if adv.is_empty() {
            return Ok(Ok(view));
        }
        let plan = advanced_plan(view, &adv)?;
        Ok(Err(plan))
    }

    /// The `index`-th slice along `dim` (that dim removed).
    pub fn select(&self, dim: isize, index: i64) -> Result<Tensor> {
        let d = crate::shape::normalize_dim("select", dim, self.ndim())?;
        let mut items = vec![
            IndexItem::Slice {
                start: None,
                stop: None,
                step: 1
            };
            d
        ];
        items.push(IndexItem::Int(index));
        self.index_plan(&items)?
            .map_err(|_| Error::invalid("select", "unexpected advanced index"))
    }

    /// `len` elements of `dim` from `start`, as a view.
    pub fn narrow(&self, dim: isize, start: i64, len: usize) -> Result<Tensor> {
        let d = crate::shape::normalize_dim("narrow", dim, self.ndim())?;
        let size = self.shape()[d] as i64;
        let s = if start < 0 { start + size } else { start };
        if s < 0 || s + len as i64 > size {
            return Err(Error::IndexOutOfRange {
                op: "narrow",
                index: start,
                dim: d,
                size: size as usize,
            });
        }
        self.slice_view(d, s as usize, len, 1)
    }
}

/// Gathers positions for advanced indices `adv` (view dim, int64 values) applied to `view`.
fn advanced_plan(view: Tensor, adv: &[(usize, Tensor)]) -> Result<AdvancedPlan> {
    let mut b: crate::shape::Dims = adv[0].1.shape().into();
    for (_, t) in &adv[1..] {
        b = broadcast_shapes("index", &b, t.shape()).map_err(|_| Error::Index {
            op: "index",
            msg: format!(
                "shape mismatch: indexing tensors could not be broadcast together with shapes {:?}",
                adv.iter()
                    .map(|(_, t)| t.shape().to_vec())
                    .collect::<Vec<_>>()
            ),
        })?;
    }
    let vshape = view.shape().to_vec();
    let cs = cstrides(&vshape);
    let nb: usize = b.iter().product();
    // Offset each broadcast index position contributes.
    let mut base = vec![0usize; nb];
    for (dim, t) in adv {
        let vals = super::gather::index_values("index", &t.expand_to(&b)?, *dim, vshape[*dim])?;
        for (o, v) in base.iter_mut().zip(vals) {
            *o += v * cs[*dim];
        }
    }
    let adv_dims: Vec<usize> = adv.iter().map(|(d, _)| *d).collect();
    let adjacent = adv_dims.windows(2).all(|w| w[1] == w[0] + 1);
    let rest: Vec<usize> = (0..vshape.len())
        .filter(|d| !adv_dims.contains(d))
        .collect();
    // Adjacent indices keep their place: dims before them come first; otherwise all go after.
    let split = if adjacent {
        rest.iter().take_while(|&&d| d < adv_dims[0]).count()
    } else {
        0
    };
    let (pre, post) = rest.split_at(split);
    let offs = |dims: &[usize]| -> Vec<usize> {
        let shape: Vec<usize> = dims.iter().map(|&d| vshape[d]).collect();
        let mut v = Vec::new();
        super::gather::for_each_index(&shape, |i| {
            v.push(i.iter().zip(dims).map(|(&x, &d)| x * cs[d]).sum())
        });
        v
    };
    let (pre_offs, post_offs) = (offs(pre), offs(post));
    checked_numel("index", &[pre_offs.len(), nb, post_offs.len()])?;
    let mut positions = Vec::with_capacity(pre_offs.len() * nb * post_offs.len());
    for &p in &pre_offs {
        for &q in &base {
            for &r in &post_offs {
                positions.push(p + q + r);
            }
        }
    }
    let mut shape: Vec<usize> = pre.iter().map(|&d| vshape[d]).collect();
    shape.extend(b.iter().copied());
    shape.extend(post.iter().map(|&d| vshape[d]));
    Ok(AdvancedPlan {
        view,
        positions: Arc::new(positions),
        shape,
    })
}
