//! Joins: cat/stack and their 2-D conveniences, and meshgrid. Results of cat own fresh
//! storage; each input's gradient is the matching slice of the output's.

use super::record;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::kernels::strided::{view, view_mut};
use crate::shape::normalize_dim;
use crate::tensor::Tensor;

impl Tensor {
    /// Concatenates along `dim`. Shapes must match except along `dim`; dtypes promote.
    /// 1-D empty tensors are skipped (PyTorch's legacy rule).
    pub fn cat(tensors: &[Tensor], dim: isize) -> Result<Tensor> {
        if tensors.is_empty() {
            return Err(Error::invalid(
                "cat",
                "expected a non-empty list of Tensors",
            ));
        }
        let dtype = tensors
            .iter()
            .skip(1)
            .fold(tensors[0].dtype(), |a, t| DType::promote(a, t.dtype()));
        let parts: Vec<&Tensor> = tensors
            .iter()
            .filter(|t| !(t.ndim() == 1 && t.numel() == 0))
            .collect();
        let Some(first) = parts.first() else {
            return Tensor::zeros(&[0], dtype);
        };
        let nd = first.ndim();
        if nd == 0 {
            return Err(Error::shape(
                "cat",
                "zero-dimensional tensor cannot be concatenated",
            ));
        }
        let d = normalize_dim("cat", dim, nd)?;
        let mut shape = first.shape().to_vec();
        shape[d] = 0;
        for (i, t) in parts.iter().enumerate() {
            let ok = t.ndim() == nd
                && t.shape()
                    .iter()
                    .enumerate()
                    .all(|(k, &n)| k == d || n == first.shape()[k]);
            if !ok {
                return Err(Error::shape(
                    "cat",
                    format!(
                        "Sizes of tensors must match except in dimension {d}. Expected {:?} (apart from dim {d}) but got {:?} for tensor number {i} in the list",
                        first.shape(),
                        t.shape()
                    ),
                ));
            }
            shape[d] += t.shape()[d];
        }
        // Cast once; the cast tensors are both copied from and recorded as the inputs.
        let inputs: Vec<Tensor> = parts
            .iter()
            .map(|t| t.to_dtype(dtype))
            .collect::<Result<_>>()?;
        let out = Tensor::zeros(&shape, dtype)?;
        let mut lens = Vec::with_capacity(parts.len());
        {
            let mut start = 0;
            for src in &inputs {
                let len = src.shape()[d];
                if src.numel() == 0 {
                    lens.push((start, len));
                    start += len;
                    continue;
                }
                let mut target = out.layout().clone();
                target.offset += start * target.strides[d];
                target.shape[d] = len;
                crate::with_dtype!(dtype, T => {
                    let s = src.storage().read();
                    let mut o = out.storage().write();
                    view_mut(T::slice_mut(&mut o), &target).assign(&view(T::slice(&s), src.layout()));
                });
                lens.push((start, len));
                start += len;
            }
        }
        let refs: Vec<&Tensor> = inputs.iter().collect();
        record(out, "CatBackward", &refs, move |_| {
            Ok(move |g: &Tensor, needs: &[bool]| {
                lens.iter()
                    .zip(needs)
                    .map(|(&(s, n), &need)| {
                        if need {
                            g.slice_view(d, s, n, 1).map(Some)
                        } else {
                            Ok(None)
                        }
                    })
                    .collect()
            })
        })
    }

    /// Joins same-shaped tensors along a new dim `dim`.
    pub fn stack(tensors: &[Tensor], dim: isize) -> Result<Tensor> {
        let Some(first) = tensors.first() else {
            return Err(Error::invalid(
                "stack",
                "stack expects a non-empty TensorList",
            ));
        };
        let d = normalize_dim("stack", dim, first.ndim() + 1)?;
        for (i, t) in tensors.iter().enumerate() {
            if t.shape() != first.shape() {
                return Err(Error::shape(
                    "stack",
                    format!(
                        "stack expects each tensor to be equal size, but got {:?} at entry 0 and {:?} at entry {i}",
                        first.shape(),
                        t.shape()
                    ),
                ));
            }
        }
        let parts: Vec<Tensor> = tensors
            .iter()
            .map(|t| t.unsqueeze(d as isize))
            .collect::<Result<_>>()?;
        Tensor::cat(&parts, d as isize)
    }

    /// Concatenates column-wise: along dim 0 for 1-D inputs, dim 1 otherwise.
    pub fn hstack(tensors: &[Tensor]) -> Result<Tensor> {
        let parts: Vec<Tensor> = tensors
            .iter()
            .map(|t| {
                if t.ndim() == 0 {
                    t.reshape(&[1])
                } else {
                    Ok(t.clone())
                }
            })
            .collect::<Result<_>>()?;
        let dim = if parts.first().is_some_and(|t| t.ndim() == 1) {
            0
        } else {
            1
        };
        Tensor::cat(&parts, dim)
    }

    /// Concatenates row-wise, treating 0-d and 1-D inputs as single rows.
    pub fn vstack(tensors: &[Tensor]) -> Result<Tensor> {
        let parts: Vec<Tensor> = tensors
            .iter()
            .map(|t| match t.ndim() {
                0 => t.reshape(&[1, 1]),
                1 => t.unsqueeze(0),
                _ => Ok(t.clone()),
            })
            .collect::<Result<_>>()?;
        Tensor::cat(&parts, 0)
    }

    /// Coordinate grids from 1-D tensors (`"ij"`: matrix indexing, `"xy"`: Cartesian), as
    /// broadcast views of the inputs.
    pub fn meshgrid(tensors: &[Tensor], indexing: &str) -> Result<Vec<Tensor>> {
        let xy = match indexing {
            "ij" => false,
            "xy" => true,
            other => {
                return Err(Error::invalid(
                    "meshgrid",
                    format!("indexing must be one of \"xy\" or \"ij\", but received: {other}"),
                ));
            }
        };
        let flat: Vec<Tensor> = tensors
            .iter()
            .map(|t| match t.ndim() {
                0 => t.reshape(&[1]),
                1 => Ok(t.clone()),
                n => Err(Error::shape(
                    "meshgrid",
                    format!("Expected 0D or 1D tensor in the tensor list but got a {n}D tensor"),
                )),
            })
            .collect::<Result<_>>()?;
        let mut shape: Vec<usize> = flat.iter().map(|t| t.numel()).collect();
        let swap = xy && flat.len() >= 2;
        if swap {
            shape.swap(0, 1);
        }
        flat.iter()
            .enumerate()
            .map(|(i, t)| {
                let pos = if swap && i < 2 { 1 - i } else { i };
                let mut s = vec![1isize; shape.len()];
                s[pos] = -1;
                t.reshape(&s)?.expand_to(&shape)
            })
            .collect()
    }
}
