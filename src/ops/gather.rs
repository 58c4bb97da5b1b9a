//! Element gathers and scatters by row-major ("logical") position: the three primitives behind
//! advanced indexing, gather/scatter, index_select/index_add, take, masked_select, flip, roll,
//! repeat, tile, diag and padding. Positions are logical, so strided inputs are read in place
//! (never copied to contiguous first). Each primitive's backward is another primitive, so
//! gradients of gradients work too.

use super::{grads, record};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::strided::for_each_offset;
use crate::shape::Layout;
use crate::tensor::Tensor;
use std::sync::Arc;

/// Logical positions shared between a forward op and its backward rule.
pub(crate) type Idx = Arc<Vec<usize>>;

/// Work above which a gather runs on the thread pool.
const GATHER_PAR_MIN: usize = 1 << 15;

/// The storage offset of logical position `i` of `l`.
#[inline]
fn storage_offset_of(l: &Layout, mut i: usize) -> usize {
    let mut off = l.offset;
    for d in (0..l.ndim()).rev() {
        let n = l.shape[d];
        off += (i % n) * l.strides[d];
        i /= n;
    }
    off
}

/// Storage offsets of the given logical positions (a contiguous layout is just a shift).
fn offsets_of(l: &Layout, idx: &[usize]) -> Vec<usize> {
    if l.is_contiguous() {
        return idx.iter().map(|&i| l.offset + i).collect();
    }
    idx.iter().map(|&i| storage_offset_of(l, i)).collect()
}

impl Tensor {
    /// `out[i] = self.flat[idx[i]]`, shaped `shape` (`idx.len()` must equal its numel).
    /// Backward scatter-adds the gradient, so duplicate positions accumulate.
    pub(crate) fn take_linear(&self, idx: Idx, shape: &[usize]) -> Result<Tensor> {
        debug_assert_eq!(idx.len(), shape.iter().product::<usize>());
        let n = self.numel();
        if let Some(&bad) = idx.iter().find(|&&i| i >= n) {
            return Err(Error::Index {
                op: "take",
                msg: format!("position {bad} is out of bounds for {n} elements"),
            });
        }
        let offs = offsets_of(self.layout(), &idx);
        let out = crate::with_dtype!(self.dtype(), T => {
            let buf = self.storage().read();
            let data = T::slice(&buf);
            let v = crate::kernels::fill_new(offs.len(), GATHER_PAR_MIN, |chunk, start| {
                for (k, slot) in chunk.iter_mut().enumerate() {
                    slot.write(data[offs[start + k]]);
                }
            });
            Tensor::from_buffer_vec(v, shape)
        });
        let in_shape = self.shape().to_vec();
        record(out, "IndexBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                Ok(grads([Some(g.scatter_add_linear(idx.clone(), &in_shape)?)]))
            })
        })
    }

    /// Zeros of `shape` with `self`'s elements (row-major) added at positions `idx`
    /// (`idx.len() == self.numel()`; repeated positions accumulate).
    pub(crate) fn scatter_add_linear(&self, idx: Idx, shape: &[usize]) -> Result<Tensor> {
        let out = Tensor::zeros(shape, self.dtype())?;
        self.scatter_add_into(&out, &idx)?;
        let src_shape = self.shape().to_vec();
        record(out, "IndexAddBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                Ok(grads([Some(g.take_linear(idx.clone(), &src_shape)?)]))
            })
        })
    }

    /// Adds this tensor's elements into the fresh contiguous tensor `out` at positions `idx`.
    fn scatter_add_into(&self, out: &Tensor, idx: &[usize]) -> Result<()> {
        debug_assert!(out.is_contiguous() && !out.shares_storage_with(self));
        let n = out.numel();
        if let Some(&bad) = idx.iter().find(|&&i| i >= n) {
            return Err(Error::Index {
                op: "index_add",
                msg: format!("position {bad} is out of bounds for {n} elements"),
            });
        }
        let src = self.contiguous_values();
        crate::with_numeric!(self.dtype(), T => {
            let s = src.storage().read();
            let s = &T::slice(&s)[src.storage_offset()..];
            let mut o = out.storage().write();
            let o = T::slice_mut(&mut o);
            for (k, &i) in idx.iter().enumerate() {
                o[i] += s[k];
            }
        }, _ => {
            let s = src.storage().read();
            let s = &<bool as crate::dtype::Element>::slice(&s)[src.storage_offset()..];
            let mut o = out.storage().write();
            let o = <bool as crate::dtype::Element>::slice_mut(&mut o);
            for (k, &i) in idx.iter().enumerate() {
                o[i] |= s[k];
            }
        });
        Ok(())
    }

    /// A copy of `self` with `src`'s elements (row-major) written at positions `idx` (the last
    /// write wins on repeats). Backward: the gradient with those positions zeroed for `self`,
    /// and gathered from them for `src`.
    pub(crate) fn overwrite_linear(&self, src: &Tensor, idx: Idx) -> Result<Tensor> {
        if src.numel() != idx.len() {
            return Err(Error::shape(
                "index_put",
                format!(
                    "shape mismatch: value tensor of shape {:?} cannot be broadcast to indexing result with {} elements",
                    src.shape(),
                    idx.len()
                ),
            ));
        }
        let n = self.numel();
        if let Some(&bad) = idx.iter().find(|&&i| i >= n) {
            return Err(Error::Index {
                op: "index_put",
                msg: format!("position {bad} is out of bounds for {n} elements"),
            });
        }
        let src_c = src.to_dtype(self.dtype())?;
        let out = self.contiguous_copy()?;
        let src_v = src_c.contiguous_values();
        crate::with_dtype!(self.dtype(), T => {
            let s = src_v.storage().read();
            let s = &T::slice(&s)[src_v.storage_offset()..];
            let mut o = out.storage().write();
            let o = T::slice_mut(&mut o);
            for (k, &i) in idx.iter().enumerate() {
                o[i] = s[k];
            }
        });
        let src_shape = src.shape().to_vec();
        let src_dtype = src.dtype();
        record(out, "IndexPutBackward", &[self, &src_c], move |_| {
            Ok(move |g: &Tensor, needs: &[bool]| {
                let gs = if needs[0] {
                    Some(g.overwrite_linear(&Tensor::zeros(&src_shape, g.dtype())?, idx.clone())?)
                } else {
                    None
                };
                let gv = if needs[1] {
                    Some(
                        g.take_linear(idx.clone(), &src_shape)?
                            .to_dtype(src_dtype)?,
                    )
                } else {
                    None
                };
                Ok(grads([gs, gv]))
            })
        })
    }

    /// Row-major values with no history: itself when contiguous, else a copy.
    pub(crate) fn contiguous_values(&self) -> Tensor {
        if self.is_contiguous() {
            self.detach()
        } else {
            self.contiguous_copy().expect("a copy of a valid tensor")
        }
    }
}

/// For each element of `view` (row-major), the logical position in `base` of the storage
/// element it reads. Both look into one storage; `view` must lie inside `base`.
pub(crate) fn view_positions(base: &Layout, view: &Layout) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(view.numel());
    if base.is_contiguous() {
        let (lo, hi) = (base.offset, base.offset + base.numel());
        let mut bad = false;
        for_each_offset(view, |off| {
            bad |= off < lo || off >= hi;
            out.push(off.wrapping_sub(lo));
        });
        if bad {
            return Err(Error::invalid(
                "view",
                "the view reaches outside its base tensor",
            ));
        }
        return Ok(out);
    }
    let (lo, hi) = base.span();
    let mut inv = vec![usize::MAX; hi - lo];
    let mut i = 0;
    for_each_offset(base, |off| {
        inv[off - lo] = i;
        i += 1;
    });
    let mut bad = false;
    for_each_offset(view, |off| {
        let p = if off >= lo && off < hi {
            inv[off - lo]
        } else {
            usize::MAX
        };
        bad |= p == usize::MAX;
        out.push(p);
    });
    if bad {
        return Err(Error::invalid(
            "view",
            "the view reaches outside its base tensor",
        ));
    }
    Ok(out)
}

/// Checks an int64 index tensor and returns its values with negatives wrapped by `size`.
pub(crate) fn index_values(
    op: &'static str,
    index: &Tensor,
    dim: usize,
    size: usize,
) -> Result<Vec<usize>> {
    if index.dtype() != DType::I64 {
        return Err(Error::dtype(
            op,
            format!("index must be an int64 tensor, got {}", index.dtype()),
        ));
    }
    index
        .to_vec::<i64>()?
        .into_iter()
        .map(|i| {
            let j = if i < 0 { i + size as i64 } else { i };
            if j < 0 || j >= size as i64 {
                Err(Error::IndexOutOfRange {
                    op,
                    index: i,
                    dim,
                    size,
                })
            } else {
                Ok(j as usize)
            }
        })
        .collect()
}

/// The element count of `shape`, or an error when it cannot be addressed (overflow).
pub(crate) fn checked_numel(op: &'static str, shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n.checked_mul(8).is_some())
        .ok_or_else(|| {
            Error::invalid(
                op,
                format!("the result shape {shape:?} has too many elements"),
            )
        })
}

/// Row-major strides (in elements) of `shape`.
pub(crate) fn cstrides(shape: &[usize]) -> Vec<usize> {
    crate::shape::contiguous_strides(shape).to_vec()
}

/// Calls `f` with each multi-index of `shape` in row-major order.
pub(crate) fn for_each_index(shape: &[usize], mut f: impl FnMut(&[usize])) {
    if shape.contains(&0) {
        return;
    }
    let mut idx = vec![0usize; shape.len()];
    loop {
        f(&idx);
        let mut d = shape.len();
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

/// Builds positions for an output of `shape`: `pos(multi_index)` gives the input position.
pub(crate) fn positions(shape: &[usize], mut pos: impl FnMut(&[usize]) -> usize) -> Idx {
    let mut out = Vec::with_capacity(shape.iter().product());
    for_each_index(shape, |i| out.push(pos(i)));
    Arc::new(out)
}

/// `shape` with dim `dim` replaced by `n`.
fn with_dim(shape: &[usize], dim: usize, n: usize) -> Vec<usize> {
    let mut s = shape.to_vec();
    s[dim] = n;
    s
}

impl Tensor {
    /// Checks the shapes of gather/scatter: `index` has `self`'s rank and fits inside `self`
    /// (except along `dim`) and inside `src` (every dim).
    fn check_scatter_shapes(
        &self,
        op: &'static str,
        dim: usize,
        index: &Tensor,
        src: Option<&Tensor>,
    ) -> Result<()> {
        let nd = self.ndim().max(1);
        if index.ndim().max(1) != nd {
            return Err(Error::shape(
                op,
                format!(
                    "index tensor must have the same number of dimensions as input tensor ({} vs {})",
                    index.ndim(),
                    self.ndim()
                ),
            ));
        }
        let fits = |a: &[usize], b: &[usize], skip: Option<usize>| {
            a.iter()
                .zip(b)
                .enumerate()
                .all(|(d, (x, y))| Some(d) == skip || x <= y)
        };
        if self.ndim() > 0 && !fits(index.shape(), self.shape(), Some(dim)) {
            return Err(Error::shape(
                op,
                format!(
                    "size of index {:?} must not exceed the input's {:?} apart from dimension {dim}",
                    index.shape(),
                    self.shape()
                ),
            ));
        }
        if let Some(src) = src
            && (src.ndim().max(1) != nd
                || (src.ndim() > 0 && !fits(index.shape(), src.shape(), None)))
        {
            return Err(Error::shape(
                op,
                format!(
                    "size of index {:?} must not exceed the source's {:?}",
                    index.shape(),
                    src.shape()
                ),
            ));
        }
        Ok(())
    }

    /// Positions in a tensor of `shape` that `index` (of the same rank) addresses along `dim`.
    fn scatter_positions(
        op: &'static str,
        shape: &[usize],
        dim: usize,
        index: &Tensor,
    ) -> Result<Idx> {
        if shape.is_empty() {
            index_values(op, index, 0, 1)?;
            return Ok(Arc::new(vec![0; index.numel()]));
        }
        let vals = index_values(op, index, dim, shape[dim])?;
        let cs = cstrides(shape);
        let mut k = 0;
        Ok(positions(index.shape(), |i| {
            let p: usize = i
                .iter()
                .enumerate()
                .map(|(d, &x)| if d == dim { vals[k] } else { x } * cs[d])
                .sum();
            k += 1;
            p
        }))
    }

    /// `src` cut down to `index`'s shape (its leading corner), keeping history.
    fn corner(src: &Tensor, shape: &[usize]) -> Result<Tensor> {
        if src.shape() == shape {
            return Ok(src.clone());
        }
        let mut t = src.clone();
        for (d, &n) in shape.iter().enumerate() {
            t = t.narrow(d as isize, 0, n)?;
        }
        Ok(t)
    }

    /// `out[i][j] = self[i][index[i][j]]` along `dim` (PyTorch's `gather`).
    pub fn gather(&self, dim: isize, index: &Tensor) -> Result<Tensor> {
        let d = crate::shape::normalize_dim("gather", dim, self.ndim())?;
        self.check_scatter_shapes("gather", d, index, None)?;
        let pos = Tensor::scatter_positions("gather", self.shape(), d, index)?;
        // Positions are in self's shape; index's other coordinates address self directly.
        self.take_linear(pos, index.shape())
    }

    /// `self` plus `src`'s values added at the positions `index` names along `dim`.
    pub fn scatter_add(&self, dim: isize, index: &Tensor, src: &Tensor) -> Result<Tensor> {
        let d = crate::shape::normalize_dim("scatter_add", dim, self.ndim())?;
        self.check_scatter_shapes("scatter_add", d, index, Some(src))?;
        let pos = Tensor::scatter_positions("scatter_add", self.shape(), d, index)?;
        let src = Tensor::corner(&src.to_dtype(self.dtype())?, index.shape())?;
        self.add(&src.scatter_add_linear(pos, self.shape())?)
    }

    /// `self` with `src`'s values written at the positions `index` names along `dim`.
    pub fn scatter(&self, dim: isize, index: &Tensor, src: &Tensor) -> Result<Tensor> {
        let d = crate::shape::normalize_dim("scatter", dim, self.ndim())?;
        let src = if src.ndim() == 0 && self.ndim() > 0 {
            src.expand_to(index.shape())?
        } else {
            src.clone()
        };
        self.check_scatter_shapes("scatter", d, index, Some(&src))?;
        let pos = Tensor::scatter_positions("scatter", self.shape(), d, index)?;
        let src = Tensor::corner(&src, index.shape())?;
        self.overwrite_linear(&src, pos)
    }

    /// The slices `index` (1-D int64) picks along `dim`, in that order.
    pub fn index_select(&self, dim: isize, index: &Tensor) -> Result<Tensor> {
        let d = crate::shape::normalize_dim("index_select", dim, self.ndim())?;
        if index.ndim() > 1 {
            return Err(Error::Index {
                op: "index_select",
                msg: "index_select(): Index is supposed to be a vector".into(),
            });
        }
        if self.ndim() == 0 {
            let vals = index_values("index_select", index, 0, 1)?;
            return self.reshape(&[1])?.take_linear(
                Arc::new(vals.iter().map(|_| 0).collect()),
                &[vals.len()][..index.ndim()],
            );
        }
        let vals = index_values("index_select", index, d, self.shape()[d])?;
        let shape = with_dim(self.shape(), d, vals.len());
        let cs = cstrides(self.shape());
        let pos = positions(&shape, |i| {
            i.iter()
                .enumerate()
                .map(|(k, &x)| if k == d { vals[x] } else { x } * cs[k])
                .sum()
        });
        self.take_linear(pos, &shape)
    }

    /// `self` plus `alpha * source`, whose slices along `dim` are added at `index`.
    pub fn index_add(
        &self,
        dim: isize,
        index: &Tensor,
        source: &Tensor,
        alpha: f64,
    ) -> Result<Tensor> {
        let d = crate::shape::normalize_dim("index_add", dim, self.ndim())?;
        if index.ndim() > 1 {
            return Err(Error::Index {
                op: "index_add",
                msg: "index_add(): Index is supposed to be a vector".into(),
            });
        }
        let size = if self.ndim() == 0 { 1 } else { self.shape()[d] };
        let vals = index_values("index_add", index, d, size)?;
        let want = if self.ndim() == 0 {
            vec![]
        } else {
            with_dim(self.shape(), d, vals.len())
        };
        if source.shape() != want.as_slice() {
            return Err(Error::shape(
                "index_add",
                format!(
                    "source should have shape {want:?} (input {:?} with dim {d} of size {}), got {:?}",
                    self.shape(),
                    vals.len(),
                    source.shape()
                ),
            ));
        }
        let cs = cstrides(self.shape());
        let pos = positions(&want, |i| {
            i.iter()
                .enumerate()
                .map(|(k, &x)| if k == d { vals[x] } else { x } * cs[k])
                .sum()
        });
        let src = source.to_dtype(self.dtype())?;
        let src = if alpha != 1.0 {
            src.mul_scalar(alpha)?.to_dtype(self.dtype())?
        } else {
            src
        };
        self.add(&src.scatter_add_linear(pos, self.shape())?)
    }

    /// Elements at the flat (row-major) positions in `index`, shaped like `index`.
    pub fn take(&self, index: &Tensor) -> Result<Tensor> {
        let vals = index_values("take", index, 0, self.numel())?;
        self.take_linear(Arc::new(vals), index.shape())
    }

    /// The elements where `mask` (broadcast with self) is true, as a 1-D tensor.
    pub fn masked_select(&self, mask: &Tensor) -> Result<Tensor> {
        if mask.dtype() != DType::Bool {
            return Err(Error::dtype(
                "masked_select",
                format!("mask must be a bool tensor, got {}", mask.dtype()),
            ));
        }
        let shape = crate::shape::broadcast_shapes("masked_select", self.shape(), mask.shape())?;
        let m = mask.expand_to(&shape)?.to_vec::<bool>()?;
        let pos: Vec<usize> = m
            .iter()
            .enumerate()
            .filter(|(_, b)| **b)
            .map(|(i, _)| i)
            .collect();
        let n = pos.len();
        self.expand_to(&shape)?.take_linear(Arc::new(pos), &[n])
    }

    /// Indices of the non-zero elements: `[n, ndim]` int64, row-major order.
    pub fn nonzero(&self) -> Result<Tensor> {
        let nz = self.nonzero_positions()?;
        let nd = self.ndim();
        let cs = cstrides(self.shape());
        let mut v = Vec::with_capacity(nz.len() * nd);
        for &p in &nz {
            for (&c, &s) in cs.iter().zip(self.shape()) {
                v.push(((p / c) % s) as i64);
            }
        }
        Ok(Tensor::from_buffer_vec(v, &[nz.len(), nd]))
    }

    /// Row-major positions of the non-zero elements.
    pub(crate) fn nonzero_positions(&self) -> Result<Vec<usize>> {
        Ok(crate::with_dtype!(self.dtype(), T => {
            self.with_contiguous(|s: &[T]| s.iter().enumerate().filter(|(_, x)| **x != T::ZERO).map(|(i, _)| i).collect())?
        }))
    }

    /// Repeats each element (or each slice along `dim`) `repeats` times; with no `dim` the
    /// input is flattened first.
    pub fn repeat_interleave(&self, repeats: &Tensor, dim: Option<isize>) -> Result<Tensor> {
        let (t, d) = match dim {
            None => (self.reshape(&[-1])?, 0),
            Some(d) => (
                self.clone(),
                crate::shape::normalize_dim("repeat_interleave", d, self.ndim())?,
            ),
        };
        if t.ndim() == 0 {
            return t.reshape(&[1])?.repeat_interleave(repeats, Some(0));
        }
        if repeats.dtype() != DType::I64 || repeats.ndim() > 1 {
            return Err(Error::dtype(
                "repeat_interleave",
                "repeats must be an int or a 1-D int64 tensor",
            ));
        }
        let n = t.shape()[d];
        let r = repeats.to_vec::<i64>()?;
        let r: Vec<i64> = if r.len() == 1 && (repeats.ndim() == 0 || n != 1) {
            vec![r[0]; n]
        } else {
            r
        };
        if r.len() != n {
            return Err(Error::shape(
                "repeat_interleave",
                format!(
                    "repeats must have the same size as input along dim {d}: {} vs {n}",
                    r.len()
                ),
            ));
        }
        if let Some(&neg) = r.iter().find(|&&k| k < 0) {
            return Err(Error::invalid(
                "repeat_interleave",
                format!("repeats can not be negative, got {neg}"),
            ));
        }
        let total = r
            .iter()
            .try_fold(0usize, |acc, &k| acc.checked_add(k as usize));
        let mut shape = t.shape().to_vec();
        shape[d] = total.unwrap_or(usize::MAX);
        checked_numel("repeat_interleave", &shape)?;
        let idx: Vec<i64> = r
            .iter()
            .enumerate()
            .flat_map(|(i, &k)| std::iter::repeat_n(i as i64, k as usize))
            .collect();
        let len = idx.len();
        t.index_select(d as isize, &Tensor::from_buffer_vec(idx, &[len]))
    }
}
