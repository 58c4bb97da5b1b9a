//! Shapes, strides and the rules that relate them: layouts of views, broadcasting and
//! dimension arguments (negative dims count from the end, as in PyTorch).

use crate::error::{Error, Result};
use smallvec::SmallVec;

/// Dimensions of a tensor; four fit inline so small tensors never allocate for their shape.
pub type Dims = SmallVec<[usize; 4]>;

/// How a tensor's elements sit in its storage: element `idx` lives at
/// `offset + sum(idx[d] * strides[d])`. Strides are in elements and never negative; a zero
/// stride repeats an element (broadcast views).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub shape: Dims,
    pub strides: Dims,
    pub offset: usize,
}

impl Layout {
    pub fn contiguous(shape: &[usize]) -> Layout {
        Layout {
            shape: shape.into(),
            strides: contiguous_strides(shape),
            offset: 0,
        }
    }

    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// Row-major with no gaps (size-1 dims may have any stride).
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1;
        for (&n, &s) in self.shape.iter().zip(&self.strides).rev() {
            if n != 1 && s != expected {
                return false;
            }
            expected *= n;
        }
        true
    }

    /// The storage range `[start, end)` this layout can touch (empty tensors touch nothing).
    pub fn span(&self) -> (usize, usize) {
        if self.numel() == 0 {
            return (self.offset, self.offset);
        }
        let last: usize = self
            .shape
            .iter()
            .zip(&self.strides)
            .map(|(&n, &s)| (n - 1) * s)
            .sum();
        (self.offset, self.offset + last + 1)
    }

    pub fn transpose(&self, a: usize, b: usize) -> Layout {
        let mut l = self.clone();
        l.shape.swap(a, b);
        l.strides.swap(a, b);
        l
    }

    pub fn permute(&self, perm: &[usize]) -> Layout {
        Layout {
            shape: perm.iter().map(|&p| self.shape[p]).collect(),
            strides: perm.iter().map(|&p| self.strides[p]).collect(),
            offset: self.offset,
        }
    }

    /// A broadcast view onto `shape` (trailing dims aligned, size-1 dims get stride 0).
    pub fn broadcast_to(&self, shape: &[usize]) -> Option<Layout> {
        if shape.len() < self.ndim() {
            return None;
        }
        let lead = shape.len() - self.ndim();
        let mut strides = Dims::from_elem(0, shape.len());
        for d in 0..self.ndim() {
            let (n, target) = (self.shape[d], shape[lead + d]);
            if n == target {
                strides[lead + d] = self.strides[d];
            } else if n != 1 {
                return None;
            }
        }
        Some(Layout {
            shape: shape.into(),
            strides,
            offset: self.offset,
        })
    }

    /// The strides a reshape to `shape` can keep without copying, if any (PyTorch's
    /// `computeStride`): each run of merged or split dims must be contiguous within itself.
    pub fn reshape_strides(&self, shape: &[usize]) -> Option<Dims> {
        if self.is_contiguous() {
            return Some(contiguous_strides(shape));
        }
        let numel = self.numel();
        if numel == 0 {
            return Some(contiguous_strides(shape));
        }
        let mut new_strides = Dims::from_elem(0, shape.len());
        let mut view_d = shape.len() as isize - 1;
        let mut chunk_base_stride = *self.strides.last().unwrap_or(&1);
        let mut tensor_numel = 1usize;
        let mut view_numel = 1usize;
        for tensor_d in (0..self.ndim()).rev() {
            tensor_numel *= self.shape[tensor_d];
            let at_chunk_end = tensor_d == 0
                || (self.shape[tensor_d - 1] != 1
                    && self.strides[tensor_d - 1] != tensor_numel * chunk_base_stride);
            if at_chunk_end {
                while view_d >= 0 && (view_numel < tensor_numel || shape[view_d as usize] == 1) {
                    new_strides[view_d as usize] = view_numel * chunk_base_stride;
                    view_numel *= shape[view_d as usize];
                    view_d -= 1;
                }
                if view_numel != tensor_numel {
                    return None;
                }
                if tensor_d > 0 {
                    chunk_base_stride = self.strides[tensor_d - 1];
                    tensor_numel = 1;
                    view_numel = 1;
                }
            }
        }
        if view_d != -1 {
            return None;
        }
        Some(new_strides)
    }
}

pub fn contiguous_strides(shape: &[usize]) -> Dims {
    let mut strides = Dims::from_elem(1, shape.len());
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * shape[d + 1].max(1);
    }
    strides
}

/// NumPy broadcasting of two shapes.
pub fn broadcast_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<Dims> {
    if a == b {
        return Ok(a.into());
    }
    let n = a.len().max(b.len());
    let mut out = Dims::from_elem(0, n);
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(Error::shape(
                op,
                format!(
                    "shapes {a:?} and {b:?} cannot be broadcast together (dimension {i}: {da} vs {db})"
                ),
            ));
        };
    }
    Ok(out)
}

/// Turns a possibly negative dim into an index in `[0, ndim)`; a 0-d tensor accepts 0 and -1.
pub fn normalize_dim(op: &'static str, dim: isize, ndim: usize) -> Result<usize> {
    let n = ndim.max(1) as isize;
    let d = if dim < 0 { dim + n } else { dim };
    if d < 0 || d >= n {
        return Err(Error::DimOutOfRange { op, dim, ndim });
    }
    Ok(d as usize)
}

/// Normalises a list of dims; `None` means every dim. Duplicates are an error.
pub fn normalize_dims(op: &'static str, dims: Option<&[isize]>, ndim: usize) -> Result<Vec<usize>> {
    let Some(dims) = dims else {
        return Ok((0..ndim).collect());
    };
    let mut out = Vec::with_capacity(dims.len());
    for &d in dims {
        let d = normalize_dim(op, d, ndim)?;
        if out.contains(&d) {
            return Err(Error::invalid(
                op,
                format!("dim {d} appears multiple times in the list of dims"),
            ));
        }
        out.push(d.min(ndim.saturating_sub(1)));
    }
    if ndim == 0 {
        out.clear();
    }
    out.sort_unstable();
    Ok(out)
}

/// Resolves a `-1` in a requested shape and checks the element count.
pub fn infer_shape(
    op: &'static str,
    numel: usize,
    shape: &[isize],
    from: &[usize],
) -> Result<Dims> {
    let mut infer = None;
    let mut known = 1usize;
    for (i, &s) in shape.iter().enumerate() {
        if s == -1 {
            if infer.replace(i).is_some() {
                return Err(Error::shape(op, "only one dimension can be inferred"));
            }
        } else if s < 0 {
            return Err(Error::shape(op, format!("invalid shape dimension {s}")));
        } else {
            known *= s as usize;
        }
    }
    let mut out: Dims = shape.iter().map(|&s| s.max(0) as usize).collect();
    if let Some(i) = infer {
        if known == 0 || !numel.is_multiple_of(known) {
            return Err(Error::shape(
                op,
                format!("shape {shape:?} is invalid for input of size {numel} (shape {from:?})"),
            ));
        }
        out[i] = numel / known;
    } else if known != numel {
        return Err(Error::shape(
            op,
            format!("shape {shape:?} is invalid for input of size {numel} (shape {from:?})"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(
            broadcast_shapes("t", &[3, 1], &[4]).unwrap().as_slice(),
            &[3, 4]
        );
        assert_eq!(
            broadcast_shapes("t", &[], &[2, 2]).unwrap().as_slice(),
            &[2, 2]
        );
        assert!(broadcast_shapes("t", &[3], &[4]).is_err());
    }

    #[test]
    fn reshape_of_transposed_needs_a_copy() {
        let l = Layout::contiguous(&[2, 3]).transpose(0, 1);
        assert!(l.reshape_strides(&[6]).is_none());
        // A size-1 dim's stride is arbitrary; PyTorch's computeStride also gives 3 here.
        assert_eq!(
            l.reshape_strides(&[3, 2, 1]).unwrap().as_slice(),
            &[1, 3, 3]
        );
    }

    #[test]
    fn negative_dims_count_from_the_end() {
        assert_eq!(normalize_dim("t", -1, 3).unwrap(), 2);
        assert!(normalize_dim("t", 3, 3).is_err());
        assert_eq!(normalize_dim("t", -1, 0).unwrap(), 0);
    }
}
