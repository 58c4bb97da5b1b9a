//! Views: results that share their input's storage (and so its version counter) with a new
//! layout. Each op's backward maps the gradient back through the inverse layout change.

use super::{grads, record};
use crate::error::{Error, Result};
use crate::shape::{Dims, Layout, infer_shape, normalize_dim};
use crate::tensor::Tensor;

impl Tensor {
    /// A tensor over the same storage with another layout; remembers the storage's owner.
    pub(crate) fn view_with_layout(&self, layout: Layout) -> Tensor {
        let base = self.0.view_base.clone().unwrap_or_else(|| self.clone());
        let out =
            Tensor::from_parts_typed(self.storage().clone(), layout, self.dtype(), Some(base));
        if crate::autograd::grad_mode::GradMode::current().is_recording() {
            out.meta().view_version = Some(self.version());
        }
        out
    }

    /// A view with the same layout whose gradient passes straight through: what a layout op
    /// that changes nothing (transpose or permute of a 0-d tensor) returns, keeping history.
    pub(crate) fn alias(&self, node: &'static str) -> Result<Tensor> {
        let out = self.view_with_layout(self.layout().clone());
        record(out, node, &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(g.clone())])))
        })
    }

    /// A row-major copy with its own storage and no history.
    pub fn contiguous_copy(&self) -> Result<Tensor> {
        Ok(crate::with_dtype!(self.dtype(), T => {
            let buf = self.storage().read();
            let v = crate::kernels::strided::to_contiguous(T::slice(&buf), self.layout());
            Tensor::from_buffer_vec(v, self.shape())
        }))
    }

    /// Itself when row-major already, else a row-major copy (gradients pass through).
    pub fn contiguous(&self) -> Result<Tensor> {
        if self.is_contiguous() {
            Ok(self.clone())
        } else {
            self.clone_tensor()
        }
    }

    /// A view with `shape` (one entry may be -1); an error when the layout cannot be viewed
    /// that way without copying (use `reshape`).
    pub fn view(&self, shape: &[isize]) -> Result<Tensor> {
        let shape = infer_shape("view", self.numel(), shape, self.shape())?;
        let Some(strides) = self.layout().reshape_strides(&shape) else {
            return Err(Error::shape(
                "view",
                format!(
                    "view size {:?} is not compatible with input tensor's size {:?} and stride {:?} (at least one \
                     dimension spans across two contiguous subspaces). Use .reshape(...) instead.",
                    shape.as_slice(),
                    self.shape(),
                    self.strides()
                ),
            ));
        };
        self.reshaped_view(shape, strides, "ViewBackward")
    }

    /// `shape` with the same elements: a view when the layout allows, a copy otherwise.
    pub fn reshape(&self, shape: &[isize]) -> Result<Tensor> {
        let shape = infer_shape("reshape", self.numel(), shape, self.shape())?;
        match self.layout().reshape_strides(&shape) {
            Some(strides) => self.reshaped_view(shape, strides, "ReshapeAliasBackward"),
            None => self.clone_tensor()?.reshaped_view(
                shape.clone(),
                crate::shape::contiguous_strides(&shape),
                "ViewBackward",
            ),
        }
    }

    /// `reshape` with unsigned dims (for Rust callers with a known shape).
    pub fn reshape_to(&self, shape: &[usize]) -> Result<Tensor> {
        let s: Vec<isize> = shape.iter().map(|&d| d as isize).collect();
        self.reshape(&s)
    }

    fn reshaped_view(&self, shape: Dims, strides: Dims, node: &'static str) -> Result<Tensor> {
        let out = self.view_with_layout(Layout {
            shape,
            strides,
            offset: self.storage_offset(),
        });
        let in_shape = self.shape().to_vec();
        record(out, node, &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(g.reshape_to(&in_shape)?)])))
        })
    }

    /// Flattens dims `start..=end` into one.
    pub fn flatten(&self, start: isize, end: isize) -> Result<Tensor> {
        if self.ndim() == 0 {
            return self.reshape(&[1]);
        }
        let s = normalize_dim("flatten", start, self.ndim())?;
        let e = normalize_dim("flatten", end, self.ndim())?;
        if s > e {
            return Err(Error::invalid(
                "flatten",
                "start_dim cannot come after end_dim",
            ));
        }
        let mut shape: Vec<isize> = self.shape()[..s].iter().map(|&d| d as isize).collect();
        shape.push(self.shape()[s..=e].iter().product::<usize>() as isize);
        shape.extend(self.shape()[e + 1..].iter().map(|&d| d as isize));
        self.reshape(&shape)
    }

    /// Swaps two dims.
    pub fn transpose(&self, d0: isize, d1: isize) -> Result<Tensor> {
        let a = normalize_dim("transpose", d0, self.ndim())?;
        let b = normalize_dim("transpose", d1, self.ndim())?;
        if self.ndim() == 0 {
            return self.alias("TransposeBackward");
        }
        let out = self.view_with_layout(self.layout().transpose(a, b));
        record(out, "TransposeBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                Ok(grads([Some(g.transpose(a as isize, b as isize)?)]))
            })
        })
    }

    /// The transpose of a matrix (`.T` for 2-D; reverses all dims in general).
    pub fn t(&self) -> Result<Tensor> {
        let perm: Vec<isize> = (0..self.ndim() as isize).rev().collect();
        self.permute(&perm)
    }

    /// Reorders dims: output dim i is input dim `perm[i]`.
    pub fn permute(&self, perm: &[isize]) -> Result<Tensor> {
        let nd = self.ndim();
        if perm.len() != nd {
            return Err(Error::shape(
                "permute",
                format!(
                    "number of dims don't match in permute: the tensor has {nd} dims but {} were given",
                    perm.len()
                ),
            ));
        }
        let mut p = Vec::with_capacity(nd);
        for &d in perm {
            let d = normalize_dim("permute", d, nd)?;
            if p.contains(&d) {
                return Err(Error::invalid(
                    "permute",
                    format!("repeated dim {d} in permute"),
                ));
            }
            p.push(d);
        }
        if nd == 0 {
            return self.alias("PermuteBackward");
        }
        let out = self.view_with_layout(self.layout().permute(&p));
        let mut inverse = vec![0isize; nd];
        for (i, &d) in p.iter().enumerate() {
            inverse[d] = i as isize;
        }
        record(out, "PermuteBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(g.permute(&inverse)?)])))
        })
    }

    /// Inserts a size-1 dim at `dim` (which may be `ndim`).
    pub fn unsqueeze(&self, dim: isize) -> Result<Tensor> {
        let d = normalize_dim("unsqueeze", dim, self.ndim() + 1)?;
        let mut l = self.layout().clone();
        let stride = if d < l.ndim() {
            l.strides[d] * l.shape[d]
        } else {
            1
        };
        l.shape.insert(d, 1);
        l.strides.insert(d, stride);
        let out = self.view_with_layout(l);
        record(out, "UnsqueezeBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(g.squeeze_dims(&[d as isize])?)])))
        })
    }

    /// Removes every size-1 dim.
    pub fn squeeze(&self) -> Result<Tensor> {
        let dims: Vec<isize> = (0..self.ndim())
            .filter(|&d| self.shape()[d] == 1)
            .map(|d| d as isize)
            .collect();
        self.squeeze_dims(&dims)
    }

    /// Removes the listed dims that have size 1 (others are left alone, as in PyTorch).
    pub fn squeeze_dims(&self, dims: &[isize]) -> Result<Tensor> {
        let nd = self.ndim();
        let mut drop = vec![false; nd];
        for &d in dims {
            let d = normalize_dim("squeeze", d, nd)?;
            if nd > 0 && self.shape()[d] == 1 {
                drop[d] = true;
            }
        }
        let mut l = Layout {
            shape: Dims::new(),
            strides: Dims::new(),
            offset: self.storage_offset(),
        };
        for (d, &dropped) in drop.iter().enumerate() {
            if !dropped {
                l.shape.push(self.shape()[d]);
                l.strides.push(self.strides()[d]);
            }
        }
        let out = self.view_with_layout(l);
        let in_shape = self.shape().to_vec();
        record(out, "SqueezeBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(g.reshape_to(&in_shape)?)])))
        })
    }

    /// A broadcast view onto `shape` (-1 keeps a dim); no data is copied.
    pub fn expand(&self, shape: &[isize]) -> Result<Tensor> {
        let lead = shape.len().checked_sub(self.ndim()).ok_or_else(|| {
            Error::shape("expand", format!("the number of sizes provided ({}) must be greater or equal to the number of dimensions in the tensor ({})", shape.len(), self.ndim()))
        })?;
        let target: Vec<usize> = shape
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                if s == -1 && i >= lead {
                    self.shape()[i - lead]
                } else {
                    s.max(0) as usize
                }
            })
            .collect();
        self.expand_view(&target)
    }

    /// `expand_to` for user calls: always a new view with history, also when the shape is
    /// unchanged (`expand_to` then hands back the tensor itself, which internal callers want).
    pub fn expand_view(&self, shape: &[usize]) -> Result<Tensor> {
        if shape == self.shape() {
            return self.alias("ExpandBackward");
        }
        self.expand_to(shape)
    }

    pub fn expand_to(&self, shape: &[usize]) -> Result<Tensor> {
        if shape == self.shape() {
            return Ok(self.clone());
        }
        let Some(l) = self.layout().broadcast_to(shape) else {
            return Err(Error::shape(
                "expand",
                format!(
                    "the shape {:?} cannot be expanded to {shape:?} (only size-1 dims can grow)",
                    self.shape()
                ),
            ));
        };
        let out = self.view_with_layout(l);
        let in_shape = self.shape().to_vec();
        record(out, "ExpandBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(g.sum_to_shape(&in_shape)?)])))
        })
    }

    /// A view `narrow`ed to `len` elements of `dim` from `start`, taking every `step`-th.
    pub fn slice_view(&self, dim: usize, start: usize, len: usize, step: usize) -> Result<Tensor> {
        let mut acts: Vec<DimAction> = (0..self.ndim())
            .map(|d| DimAction::Keep {
                start: 0,
                len: self.shape()[d],
                step: 1,
            })
            .collect();
        acts[dim] = DimAction::Keep {
            start,
            len,
            step: step.max(1),
        };
        self.index_view(acts)
    }

    /// The view `acts` describe (one action per input dim, plus inserted dims).
    pub(crate) fn index_view(&self, acts: Vec<DimAction>) -> Result<Tensor> {
        let out = self.view_with_layout(apply_actions(self.layout(), &acts));
        let in_shape = self.shape().to_vec();
        let dtype = self.dtype();
        record(out, "SliceBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| {
                Ok(grads([Some(scatter_into_zeros(
                    g, &in_shape, &acts, dtype,
                )?)]))
            })
        })
    }
}

/// What basic indexing does to one dim.
#[derive(Clone, Copy, Debug)]
pub(crate) enum DimAction {
    /// Keep `len` elements from `start`, every `step`-th.
    Keep {
        start: usize,
        len: usize,
        step: usize,
    },
    /// Select one index and drop the dim.
    Drop { index: usize },
    /// A new size-1 dim (consumes no input dim).
    Insert,
}

pub(crate) fn apply_actions(l: &Layout, acts: &[DimAction]) -> Layout {
    let mut out = Layout {
        shape: Dims::new(),
        strides: Dims::new(),
        offset: l.offset,
    };
    let mut d = 0;
    for a in acts {
        match *a {
            DimAction::Keep { start, len, step } => {
                out.offset += start * l.strides[d];
                out.shape.push(len);
                out.strides.push(l.strides[d] * step);
                d += 1;
            }
            DimAction::Drop { index } => {
                out.offset += index * l.strides[d];
                d += 1;
            }
            DimAction::Insert => {
                out.shape.push(1);
                out.strides.push(1);
            }
        }
    }
    // An empty result touches no memory; keep the offset inside the storage so layout checks
    // (span within the buffer) hold.
    if out.numel() == 0 {
        out.offset = l.offset;
    }
    out
}

/// The gradient of a view: zeros of the input's shape with `g` written where the view looks.
fn scatter_into_zeros(
    g: &Tensor,
    in_shape: &[usize],
    acts: &[DimAction],
    dtype: crate::DType,
) -> Result<Tensor> {
    let zeros = Tensor::zeros(in_shape, dtype)?;
    let g = g.to_dtype(dtype)?;
    let target = apply_actions(zeros.layout(), acts);
    crate::with_dtype!(dtype, T => {
        let src = g.storage().read();
        let mut dst = zeros.storage().write();
        let mut v = crate::kernels::strided::view_mut(T::slice_mut(&mut dst), &target);
        v.assign(&crate::kernels::strided::view(T::slice(&src), g.layout()));
    });
    Ok(zeros)
}

/// The layout of the `offset`-th diagonal of dims `d1`, `d2` (moved to the end).
fn diagonal_layout(l: &Layout, offset: i64, d1: usize, d2: usize) -> Layout {
    let (n1, n2) = (l.shape[d1] as i64, l.shape[d2] as i64);
    let len = if offset >= 0 {
        n1.min(n2 - offset)
    } else {
        (n1 + offset).min(n2)
    }
    .max(0) as usize;
    let mut out = Layout {
        shape: Dims::new(),
        strides: Dims::new(),
        offset: l.offset,
    };
    if len > 0 {
        out.offset += if offset >= 0 {
            offset as usize * l.strides[d2]
        } else {
            (-offset) as usize * l.strides[d1]
        };
    }
    for d in 0..l.ndim() {
        if d != d1 && d != d2 {
            out.shape.push(l.shape[d]);
            out.strides.push(l.strides[d]);
        }
    }
    out.shape.push(len);
    out.strides.push(l.strides[d1] + l.strides[d2]);
    out
}

impl Tensor {
    /// Moves dims `src` to positions `dst` (the others keep their order).
    pub fn movedim(&self, src: &[isize], dst: &[isize]) -> Result<Tensor> {
        if src.len() != dst.len() {
            return Err(Error::invalid(
                "movedim",
                format!(
                    "Invalid source or destination dims: source ({src:?} dims) should contain the same number of dims as destination ({dst:?} dims)"
                ),
            ));
        }
        let nd = self.ndim();
        // Rejects out-of-range and repeated dims.
        crate::shape::normalize_dims("movedim", Some(src), nd)?;
        crate::shape::normalize_dims("movedim", Some(dst), nd)?;
        let s: Vec<usize> = src
            .iter()
            .map(|&d| normalize_dim("movedim", d, nd))
            .collect::<Result<_>>()?;
        let t: Vec<usize> = dst
            .iter()
            .map(|&d| normalize_dim("movedim", d, nd))
            .collect::<Result<_>>()?;
        if nd == 0 {
            return self.alias("MovedimBackward");
        }
        let mut perm = vec![usize::MAX; nd];
        for (&a, &b) in s.iter().zip(&t) {
            perm[b] = a;
        }
        let mut rest = (0..nd).filter(|d| !s.contains(d));
        for p in perm.iter_mut().filter(|p| **p == usize::MAX) {
            *p = rest.next().expect("as many free slots as unmoved dims");
        }
        let perm: Vec<isize> = perm.into_iter().map(|d| d as isize).collect();
        self.permute(&perm)
    }

    /// Splits `dim` into `sizes` (one entry may be -1).
    pub fn unflatten(&self, dim: isize, sizes: &[isize]) -> Result<Tensor> {
        let d = normalize_dim("unflatten", dim, self.ndim())?;
        if sizes.is_empty() {
            return Err(Error::invalid("unflatten", "sizes must be non-empty"));
        }
        let n = if self.ndim() == 0 { 1 } else { self.shape()[d] };
        let inner = crate::shape::infer_shape("unflatten", n, sizes, &[n]).map_err(|_| {
            Error::shape("unflatten", format!("provided sizes {sizes:?} don't multiply up to the size of dim {dim} ({n}) in the input tensor"))
        })?;
        let mut shape: Vec<isize> = self.shape()[..d].iter().map(|&x| x as isize).collect();
        shape.extend(inner.iter().map(|&x| x as isize));
        if self.ndim() > 0 {
            shape.extend(self.shape()[d + 1..].iter().map(|&x| x as isize));
        }
        // A view whenever the layout allows (always for contiguous input), as in PyTorch.
        self.reshape(&shape)
    }

    /// Every slice along `dim` (that dim removed), as views.
    pub fn unbind(&self, dim: isize) -> Result<Vec<Tensor>> {
        let d = normalize_dim("unbind", dim, self.ndim())?;
        if self.ndim() == 0 {
            return Err(Error::invalid(
                "unbind",
                "dimension specified as 0 but tensor has no dimensions",
            ));
        }
        (0..self.shape()[d])
            .map(|i| self.select(d as isize, i as i64))
            .collect()
    }

    /// Views of consecutive pieces of `dim` with the given lengths (which must add up).
    pub fn split_sizes(&self, sizes: &[usize], dim: isize) -> Result<Vec<Tensor>> {
        let d = normalize_dim("split", dim, self.ndim())?;
        let n = self.dim_size("split", d)?;
        if sizes.iter().sum::<usize>() != n {
            return Err(Error::shape(
                "split",
                format!(
                    "split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at dimension {d}), but got split_sizes={sizes:?}"
                ),
            ));
        }
        let mut start = 0;
        sizes
            .iter()
            .map(|&len| {
                let v = self.slice_view(d, start, len, 1);
                start += len;
                v
            })
            .collect()
    }

    /// Views of pieces of `dim` of length `size` (the last may be shorter).
    pub fn split(&self, size: usize, dim: isize) -> Result<Vec<Tensor>> {
        let d = normalize_dim("split", dim, self.ndim())?;
        let n = self.dim_size("split", d)?;
        if size == 0 && n > 0 {
            return Err(Error::invalid(
                "split",
                "split_size can only be 0 if dimension size is 0",
            ));
        }
        let pieces = if n == 0 { 1 } else { n.div_ceil(size) };
        let sizes: Vec<usize> = (0..pieces)
            .map(|i| size.min(n - (i * size).min(n)))
            .collect();
        self.split_sizes(&sizes, d as isize)
    }

    /// At most `chunks` views of equal length (ceil) along `dim`.
    pub fn chunk(&self, chunks: usize, dim: isize) -> Result<Vec<Tensor>> {
        if chunks == 0 {
            return Err(Error::invalid(
                "chunk",
                "chunk expects `chunks` to be greater than 0, got: 0",
            ));
        }
        let d = normalize_dim("chunk", dim, self.ndim())?;
        let n = self.dim_size("chunk", d)?;
        if n == 0 {
            // PyTorch keeps the count here: `chunks` empty pieces, not one.
            return self.split_sizes(&vec![0; chunks], d as isize);
        }
        self.split(n.div_ceil(chunks).max(1), d as isize)
    }

    /// `sections` views along `dim` whose lengths differ by at most one (longer first).
    pub fn tensor_split_sections(&self, sections: usize, dim: isize) -> Result<Vec<Tensor>> {
        if sections == 0 {
            return Err(Error::invalid(
                "tensor_split",
                "number of sections must be larger than 0, got 0",
            ));
        }
        let d = normalize_dim("tensor_split", dim, self.ndim())?;
        let n = self.dim_size("tensor_split", d)?;
        let sizes: Vec<usize> = (0..sections)
            .map(|i| n / sections + usize::from(i < n % sections))
            .collect();
        self.split_sizes(&sizes, d as isize)
    }

    /// Views split at the given indices along `dim` (clamped like Python slices).
    pub fn tensor_split_indices(&self, indices: &[i64], dim: isize) -> Result<Vec<Tensor>> {
        let d = normalize_dim("tensor_split", dim, self.ndim())?;
        let n = self.dim_size("tensor_split", d)? as i64;
        let clamp = |i: i64| if i < 0 { (i + n).max(0) } else { i.min(n) } as usize;
        let mut out = Vec::with_capacity(indices.len() + 1);
        let mut start = 0usize;
        for &i in indices.iter().chain(std::iter::once(&n)) {
            let end = clamp(i).max(start);
            out.push(self.slice_view(d, start, end - start, 1)?);
            start = end;
        }
        Ok(out)
    }

    fn dim_size(&self, op: &'static str, d: usize) -> Result<usize> {
        if self.ndim() == 0 {
            return Err(Error::invalid(
                op,
                "expected a tensor with at least one dimension",
            ));
        }
        Ok(self.shape()[d])
    }

    /// The `offset`-th diagonal of dims `dim1`, `dim2`, as a view (it becomes the last dim).
    pub fn diagonal(&self, offset: i64, dim1: isize, dim2: isize) -> Result<Tensor> {
        if self.ndim() < 2 {
            return Err(Error::shape(
                "diagonal",
                format!(
                    "diagonal requires at least 2 dimensions, got {}",
                    self.ndim()
                ),
            ));
        }
        let d1 = normalize_dim("diagonal", dim1, self.ndim())?;
        let d2 = normalize_dim("diagonal", dim2, self.ndim())?;
        if d1 == d2 {
            return Err(Error::invalid(
                "diagonal",
                format!("diagonal dimensions cannot be identical {dim1}, {dim2}"),
            ));
        }
        let out = self.view_with_layout(diagonal_layout(self.layout(), offset, d1, d2));
        let in_shape = self.shape().to_vec();
        record(out, "DiagonalBackward", &[self], move |_| {
            let base = Layout::contiguous(&in_shape);
            let pos = std::sync::Arc::new(super::gather::view_positions(
                &base,
                &diagonal_layout(&base, offset, d1, d2),
            )?);
            Ok(move |g: &Tensor, _: &[bool]| {
                Ok(grads([Some(g.scatter_add_linear(pos.clone(), &in_shape)?)]))
            })
        })
    }

    /// A 1-D input becomes a square matrix with it on the `offset`-th diagonal; a 2-D input
    /// gives a copy of that diagonal.
    pub fn diag(&self, offset: i64) -> Result<Tensor> {
        match self.ndim() {
            1 => {
                let n = self.shape()[0];
                let m = n.saturating_add(offset.unsigned_abs() as usize);
                super::gather::checked_numel("diag", &[m, m])?;
                let pos: Vec<usize> = (0..n)
                    .map(|k| {
                        if offset >= 0 {
                            k * m + k + offset as usize
                        } else {
                            (k + (-offset) as usize) * m + k
                        }
                    })
                    .collect();
                self.scatter_add_linear(std::sync::Arc::new(pos), &[m, m])
            }
            2 => self.diagonal(offset, 0, 1)?.clone_tensor(),
            n => Err(Error::shape(
                "diag",
                format!("diag(): Supports 1D or 2D tensors. Got {n}D"),
            )),
        }
    }

    /// The dims in `dims` reversed (a copy).
    pub fn flip(&self, dims: &[isize]) -> Result<Tensor> {
        let dims = crate::shape::normalize_dims("flip", Some(dims), self.ndim())?;
        let shape = self.shape().to_vec();
        let cs = super::gather::cstrides(&shape);
        let pos = super::gather::positions(&shape, |i| {
            i.iter().enumerate().map(|(d, &x)| if dims.contains(&d) { shape[d] - 1 - x } else { x } * cs[d]).sum()
        });
        self.take_linear(pos, &shape)
    }

    /// Rolls elements along `dims` by `shifts` (with no dims, over the flattened tensor).
    pub fn roll(&self, shifts: &[i64], dims: &[isize]) -> Result<Tensor> {
        if dims.is_empty() {
            if shifts.len() != 1 {
                return Err(Error::invalid(
                    "roll",
                    format!(
                        "`shifts` required to be of size 1 when no dims are given, got {shifts:?}"
                    ),
                ));
            }
            return self
                .reshape(&[-1])?
                .roll(shifts, &[0])?
                .reshape_to(self.shape());
        }
        if shifts.len() != dims.len() {
            return Err(Error::invalid(
                "roll",
                format!(
                    "shifts and dimensions must align. shifts: {}, dims: {}",
                    shifts.len(),
                    dims.len()
                ),
            ));
        }
        let shape = self.shape().to_vec();
        let mut shift = vec![0i64; shape.len().max(1)];
        if shape.contains(&0) {
            return self.clone_tensor();
        }
        for (&s, &d) in shifts.iter().zip(dims) {
            let d = normalize_dim("roll", d, self.ndim())?;
            // Reduced modulo the size so that huge shifts cannot overflow.
            let n = shape.get(d).copied().unwrap_or(1).max(1) as i64;
            shift[d] = (shift[d] + s.rem_euclid(n)) % n;
        }
        let cs = super::gather::cstrides(&shape);
        let pos = super::gather::positions(&shape, |i| {
            i.iter()
                .enumerate()
                .map(|(d, &x)| {
                    let n = shape[d] as i64;
                    ((x as i64 - shift[d]).rem_euclid(n)) as usize * cs[d]
                })
                .sum()
        });
        self.take_linear(pos, &shape)
    }

    /// Tiles the tensor `sizes[d]` times along each dim (`sizes` may add leading dims).
    pub fn repeat(&self, sizes: &[usize]) -> Result<Tensor> {
        if sizes.len() < self.ndim() {
            return Err(Error::shape(
                "repeat",
                format!(
                    "Number of dimensions of repeat dims ({}) can not be smaller than number of dimensions of tensor ({})",
                    sizes.len(),
                    self.ndim()
                ),
            ));
        }
        let lead = sizes.len() - self.ndim();
        let in_shape: Vec<usize> = std::iter::repeat_n(1, lead)
            .chain(self.shape().iter().copied())
            .collect();
        let shape: Vec<usize> = in_shape
            .iter()
            .zip(sizes)
            .map(|(a, b)| a.saturating_mul(*b))
            .collect();
        super::gather::checked_numel("repeat", &shape)?;
        let cs = super::gather::cstrides(&in_shape);
        let pos = super::gather::positions(&shape, |i| {
            i.iter()
                .enumerate()
                .map(|(d, &x)| (x % in_shape[d]) * cs[d])
                .sum()
        });
        self.reshape_to(&in_shape)?.take_linear(pos, &shape)
    }

    /// `repeat`, with `sizes` padded by leading ones when shorter than the tensor's rank.
    pub fn tile(&self, sizes: &[usize]) -> Result<Tensor> {
        let mut s = vec![1; self.ndim().saturating_sub(sizes.len())];
        s.extend_from_slice(sizes);
        self.repeat(&s)
    }

    /// The lower triangle (`j - i <= k`) of the last two dims; the rest zero.
    pub fn tril(&self, k: i64) -> Result<Tensor> {
        self.triangle("tril", k, true)
    }

    /// The upper triangle (`j - i >= k`) of the last two dims; the rest zero.
    pub fn triu(&self, k: i64) -> Result<Tensor> {
        self.triangle("triu", k, false)
    }

    fn triangle(&self, op: &'static str, k: i64, lower: bool) -> Result<Tensor> {
        let nd = self.ndim();
        if nd < 2 {
            return Err(Error::shape(
                op,
                format!("{op}: input tensor must have at least 2 dimensions, got {nd}"),
            ));
        }
        let (rows, cols) = (self.shape()[nd - 2], self.shape()[nd - 1]);
        let out = self.contiguous_copy()?;
        crate::with_dtype!(self.dtype(), T => {
            let mut buf = out.storage().write();
            let data = T::slice_mut(&mut buf);
            for (p, x) in data.iter_mut().enumerate() {
                let (i, j) = (((p / cols.max(1)) % rows.max(1)) as i64, (p % cols.max(1)) as i64);
                let keep = if lower { j - i <= k } else { j - i >= k };
                if !keep {
                    *x = T::ZERO;
                }
            }
        });
        record(
            out,
            if lower {
                "TrilBackward"
            } else {
                "TriuBackward"
            },
            &[self],
            move |_| Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(g.triangle(op, k, lower)?)]))),
        )
    }
}

/// How `pad` fills the new border.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PadMode {
    Constant(f64),
    /// Mirror without repeating the edge element.
    Reflect,
    /// Repeat the edge element.
    Replicate,
}

impl Tensor {
    /// Pads (or, with negative constant amounts, crops) the trailing dims: `pad` holds
    /// `(before, after)` pairs starting from the last dim, as `torch.nn.functional.pad`.
    pub fn pad(&self, pad: &[i64], mode: PadMode) -> Result<Tensor> {
        if !pad.len().is_multiple_of(2) {
            return Err(Error::invalid(
                "pad",
                format!("Padding length must be divisible by 2, got {}", pad.len()),
            ));
        }
        let nd = self.ndim();
        if pad.len() / 2 > nd {
            return Err(Error::shape(
                "pad",
                format!(
                    "Padding length {} is too large for a {nd}-D input (at most {})",
                    pad.len(),
                    2 * nd
                ),
            ));
        }
        let mut before = vec![0i64; nd];
        let mut after = vec![0i64; nd];
        for (k, p) in pad.chunks(2).enumerate() {
            before[nd - 1 - k] = p[0];
            after[nd - 1 - k] = p[1];
        }
        let in_shape = self.shape().to_vec();
        let mut out_shape = Vec::with_capacity(nd);
        for d in 0..nd {
            let n = (in_shape[d] as i64)
                .checked_add(before[d])
                .and_then(|n| n.checked_add(after[d]))
                .ok_or_else(|| Error::invalid("pad", format!("padding {pad:?} is too large")))?;
            if n < 0 {
                return Err(Error::shape(
                    "pad",
                    format!(
                        "the padded size of dim {d} would be negative ({n}) for input shape {in_shape:?}"
                    ),
                ));
            }
            out_shape.push(n as usize);
        }
        super::gather::checked_numel("pad", &out_shape)?;
        match mode {
            PadMode::Constant(value) => {
                // Crop first (negative amounts), then place the rest inside a filled tensor.
                let mut src = self.clone();
                for d in 0..nd {
                    let (b, a) = (
                        before[d].min(0).unsigned_abs() as usize,
                        after[d].min(0).unsigned_abs() as usize,
                    );
                    if b + a > 0 {
                        let len = in_shape[d].saturating_sub(b + a);
                        src = src.slice_view(d, b.min(in_shape[d]), len, 1)?;
                    }
                }
                let cs = super::gather::cstrides(&out_shape);
                let shift: Vec<usize> = before.iter().map(|&b| b.max(0) as usize).collect();
                let pos = super::gather::positions(src.shape(), |i| {
                    i.iter()
                        .enumerate()
                        .map(|(d, &x)| (x + shift[d]) * cs[d])
                        .sum()
                });
                let filled = Tensor::full(&out_shape, value, self.dtype())?;
                filled.overwrite_linear(&src, pos)
            }
            PadMode::Reflect | PadMode::Replicate => {
                let reflect = mode == PadMode::Reflect;
                for d in 0..nd {
                    let (b, a, n) = (before[d], after[d], in_shape[d] as i64);
                    if b < 0 || a < 0 {
                        return Err(Error::invalid(
                            "pad",
                            "negative padding is only supported in 'constant' mode",
                        ));
                    }
                    if (b > 0 || a > 0) && n == 0 {
                        return Err(Error::shape(
                            "pad",
                            format!("cannot pad dim {d} of size 0 in non-constant mode"),
                        ));
                    }
                    if reflect && (b >= n || a >= n) && (b > 0 || a > 0) {
                        return Err(Error::shape(
                            "pad",
                            format!(
                                "Padding size should be less than the corresponding input dimension, but got: padding ({b}, {a}) at dimension {d} of input {in_shape:?}"
                            ),
                        ));
                    }
                }
                let cs = super::gather::cstrides(&in_shape);
                let pos = super::gather::positions(&out_shape, |j| {
                    j.iter()
                        .enumerate()
                        .map(|(d, &x)| {
                            let n = in_shape[d] as i64;
                            let i = x as i64 - before[d];
                            let i = if reflect {
                                if i < 0 {
                                    -i
                                } else if i >= n {
                                    2 * (n - 1) - i
                                } else {
                                    i
                                }
                            } else {
                                i.clamp(0, n - 1)
                            };
                            i as usize * cs[d]
                        })
                        .sum()
                });
                self.take_linear(pos, &out_shape)
            }
        }
    }
}
