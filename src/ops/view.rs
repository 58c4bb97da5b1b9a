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
        Tensor::from_parts_typed(self.storage().clone(), layout, self.dtype(), Some(base))
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
        if self.is_contiguous() { Ok(self.clone()) } else { self.clone_tensor() }
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
            None => self.clone_tensor()?.reshaped_view(shape.clone(), crate::shape::contiguous_strides(&shape), "ViewBackward"),
        }
    }

    /// `reshape` with unsigned dims (for Rust callers with a known shape).
    pub fn reshape_to(&self, shape: &[usize]) -> Result<Tensor> {
        let s: Vec<isize> = shape.iter().map(|&d| d as isize).collect();
        self.reshape(&s)
    }

    fn reshaped_view(&self, shape: Dims, strides: Dims, node: &'static str) -> Result<Tensor> {
        let out = self.view_with_layout(Layout { shape, strides, offset: self.storage_offset() });
        let in_shape = self.shape().to_vec();
        record(out, node, &[self], move |_| Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(g.reshape_to(&in_shape)?)]))))
    }

    /// Flattens dims `start..=end` into one.
    pub fn flatten(&self, start: isize, end: isize) -> Result<Tensor> {
        if self.ndim() == 0 {
            return self.reshape(&[1]);
        }
        let s = normalize_dim("flatten", start, self.ndim())?;
        let e = normalize_dim("flatten", end, self.ndim())?;
        if s > e {
            return Err(Error::invalid("flatten", "start_dim cannot come after end_dim"));
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
            return Ok(self.view_with_layout(self.layout().clone()));
        }
        let out = self.view_with_layout(self.layout().transpose(a, b));
        record(out, "TransposeBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(g.transpose(a as isize, b as isize)?)])))
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
                format!("number of dims don't match in permute: the tensor has {nd} dims but {} were given", perm.len()),
            ));
        }
        let mut p = Vec::with_capacity(nd);
        for &d in perm {
            let d = normalize_dim("permute", d, nd)?;
            if p.contains(&d) {
                return Err(Error::invalid("permute", format!("repeated dim {d} in permute")));
            }
            p.push(d);
        }
        if nd == 0 {
            return Ok(self.view_with_layout(self.layout().clone()));
        }
        let out = self.view_with_layout(self.layout().permute(&p));
        let mut inverse = vec![0isize; nd];
        for (i, &d) in p.iter().enumerate() {
            inverse[d] = i as isize;
        }
        record(out, "PermuteBackward", &[self], move |_| Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(g.permute(&inverse)?)]))))
    }

    /// Inserts a size-1 dim at `dim` (which may be `ndim`).
    pub fn unsqueeze(&self, dim: isize) -> Result<Tensor> {
        let d = normalize_dim("unsqueeze", dim, self.ndim() + 1)?;
        let mut l = self.layout().clone();
        let stride = if d < l.ndim() { l.strides[d] * l.shape[d] } else { 1 };
        l.shape.insert(d, 1);
        l.strides.insert(d, stride);
        let out = self.view_with_layout(l);
        record(out, "UnsqueezeBackward", &[self], move |_| Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(g.squeeze_dims(&[d as isize])?)]))))
    }

    /// Removes every size-1 dim.
    pub fn squeeze(&self) -> Result<Tensor> {
        let dims: Vec<isize> = (0..self.ndim()).filter(|&d| self.shape()[d] == 1).map(|d| d as isize).collect();
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
        let mut l = Layout { shape: Dims::new(), strides: Dims::new(), offset: self.storage_offset() };
        for d in 0..nd {
            if !drop[d] {
                l.shape.push(self.shape()[d]);
                l.strides.push(self.strides()[d]);
            }
        }
        let out = self.view_with_layout(l);
        let in_shape = self.shape().to_vec();
        record(out, "SqueezeBackward", &[self], move |_| Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(g.reshape_to(&in_shape)?)]))))
    }

    /// A broadcast view onto `shape` (-1 keeps a dim); no data is copied.
    pub fn expand(&self, shape: &[isize]) -> Result<Tensor> {
        let lead = shape.len().checked_sub(self.ndim()).ok_or_else(|| {
            Error::shape("expand", format!("the number of sizes provided ({}) must be greater or equal to the number of dimensions in the tensor ({})", shape.len(), self.ndim()))
        })?;
        let target: Vec<usize> = shape
            .iter()
            .enumerate()
            .map(|(i, &s)| if s == -1 && i >= lead { self.shape()[i - lead] } else { s.max(0) as usize })
            .collect();
        self.expand_to(&target)
    }

    pub fn expand_to(&self, shape: &[usize]) -> Result<Tensor> {
        if shape == self.shape() {
            return Ok(self.clone());
        }
        let Some(l) = self.layout().broadcast_to(shape) else {
            return Err(Error::shape(
                "expand",
                format!("the shape {:?} cannot be expanded to {shape:?} (only size-1 dims can grow)", self.shape()),
            ));
        };
        let out = self.view_with_layout(l);
        let in_shape = self.shape().to_vec();
        record(out, "ExpandBackward", &[self], move |_| Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(g.sum_to_shape(&in_shape)?)]))))
    }

    /// A view `narrow`ed to `len` elements of `dim` from `start`, taking every `step`-th.
    pub fn slice_view(&self, dim: usize, start: usize, len: usize, step: usize) -> Result<Tensor> {
        let mut acts: Vec<DimAction> = (0..self.ndim()).map(|d| DimAction::Keep { start: 0, len: self.shape()[d], step: 1 }).collect();
        acts[dim] = DimAction::Keep { start, len, step: step.max(1) };
        self.index_view(acts)
    }

    /// The view `acts` describe (one action per input dim, plus inserted dims).
    pub(crate) fn index_view(&self, acts: Vec<DimAction>) -> Result<Tensor> {
        let out = self.view_with_layout(apply_actions(self.layout(), &acts));
        let in_shape = self.shape().to_vec();
        let dtype = self.dtype();
        record(out, "SliceBackward", &[self], move |_| {
            Ok(move |g: &Tensor, _: &[bool]| Ok(grads([Some(scatter_into_zeros(g, &in_shape, &acts, dtype)?)])))
        })
    }
}

/// What basic indexing does to one dim.
#[derive(Clone, Copy, Debug)]
pub(crate) enum DimAction {
    /// Keep `len` elements from `start`, every `step`-th.
    Keep { start: usize, len: usize, step: usize },
    /// Select one index and drop the dim.
    Drop { index: usize },
    /// A new size-1 dim (consumes no input dim).
    Insert,
}

pub(crate) fn apply_actions(l: &Layout, acts: &[DimAction]) -> Layout {
    let mut out = Layout { shape: Dims::new(), strides: Dims::new(), offset: l.offset };
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
    out
}

/// The gradient of a view: zeros of the input's shape with `g` written where the view looks.
fn scatter_into_zeros(g: &Tensor, in_shape: &[usize], acts: &[DimAction], dtype: crate::DType) -> Result<Tensor> {
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
