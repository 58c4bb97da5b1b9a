//! Basic indexing (ints, slices with steps, None, Ellipsis): always a view.

use super::view::DimAction;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// One entry of an indexing expression `t[a, b:c:d, None, ...]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum IndexItem {
    Int(i64),
    Slice { start: Option<i64>, stop: Option<i64>, step: i64 },
    NewAxis,
    Ellipsis,
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
    /// `t[items]` as a view of this tensor.
    pub fn index(&self, items: &[IndexItem]) -> Result<Tensor> {
        let consumed = items.iter().filter(|i| matches!(i, IndexItem::Int(_) | IndexItem::Slice { .. })).count();
        let ellipses = items.iter().filter(|i| matches!(i, IndexItem::Ellipsis)).count();
        if ellipses > 1 {
            return Err(Error::invalid("index", "an index can only have a single ellipsis ('...')"));
        }
        let nd = self.ndim();
        if consumed > nd {
            return Err(Error::Index { op: "index", msg: format!("too many indices for tensor of dimension {nd} ({consumed} given)") });
        }
        let mut acts = Vec::with_capacity(nd + items.len());
        let mut d = 0;
        for item in items {
            match *item {
                IndexItem::Int(i) => {
                    let size = self.shape()[d];
                    let j = if i < 0 { i + size as i64 } else { i };
                    if j < 0 || j >= size as i64 {
                        return Err(Error::IndexOutOfRange { op: "index", index: i, dim: d, size });
                    }
                    acts.push(DimAction::Drop { index: j as usize });
                    d += 1;
                }
                IndexItem::Slice { start, stop, step } => {
                    if step <= 0 {
                        return Err(Error::invalid("index", "step must be greater than zero"));
                    }
                    let (s, len) = slice_range(start, stop, step, self.shape()[d]);
                    acts.push(DimAction::Keep { start: s, len, step: step as usize });
                    d += 1;
                }
                IndexItem::NewAxis => acts.push(DimAction::Insert),
                IndexItem::Ellipsis => {
                    for _ in 0..nd - consumed {
                        acts.push(DimAction::Keep { start: 0, len: self.shape()[d], step: 1 });
                        d += 1;
                    }
                }
            }
        }
        while d < nd {
            acts.push(DimAction::Keep { start: 0, len: self.shape()[d], step: 1 });
            d += 1;
        }
        self.index_view(acts)
    }

    /// The `index`-th slice along `dim` (that dim removed).
    pub fn select(&self, dim: isize, index: i64) -> Result<Tensor> {
        let d = crate::shape::normalize_dim("select", dim, self.ndim())?;
        let mut items = vec![IndexItem::Slice { start: None, stop: None, step: 1 }; d];
        items.push(IndexItem::Int(index));
        self.index(&items)
    }

    /// `len` elements of `dim` from `start`, as a view.
    pub fn narrow(&self, dim: isize, start: i64, len: usize) -> Result<Tensor> {
        let d = crate::shape::normalize_dim("narrow", dim, self.ndim())?;
        let size = self.shape()[d] as i64;
        let s = if start < 0 { start + size } else { start };
        if s < 0 || s + len as i64 > size {
            return Err(Error::IndexOutOfRange { op: "narrow", index: start, dim: d, size: size as usize });
        }
        self.slice_view(d, s as usize, len, 1)
    }
}
