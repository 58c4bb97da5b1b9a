//! Shape ops, joins, gathers/scatters and indexing (`t[...]`, `t[...] = v`) for Python.

use super::convert::{extract_scalar, extract_shape, tensor_from_py};
use super::tensor::{PyTensor, compute, dim_arg, tensor_arg, tensor_list};
use crate::dtype::DType;
use crate::error::Error;
use crate::ops::index::IndexItem;
use crate::tensor::Tensor;
use pyo3::exceptions::{PyIndexError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyEllipsis, PyList, PySlice, PyTuple};

/// Adds this family's module-level functions to `ferrograd._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cat, m)?)?;
    m.add_function(wrap_pyfunction!(stack, m)?)?;
    m.add_function(wrap_pyfunction!(hstack, m)?)?;
    m.add_function(wrap_pyfunction!(vstack, m)?)?;
    m.add_function(wrap_pyfunction!(meshgrid, m)?)?;
    m.add_function(wrap_pyfunction!(pad, m)?)?;
    Ok(())
}

fn wrap_all(py: Python<'_>, ts: Vec<Tensor>) -> PyResult<Py<PyTuple>> {
    let items: Vec<Py<PyAny>> = ts
        .into_iter()
        .map(|t| PyTensor::wrap(py, t))
        .collect::<PyResult<_>>()?;
    Ok(PyTuple::new(py, items)?.unbind())
}

/// A required `dim` given as `dim=` or `axis=` (with a default).
fn dim_or(
    dim: Option<Bound<'_, PyAny>>,
    axis: Option<Bound<'_, PyAny>>,
    default: isize,
) -> PyResult<isize> {
    match dim_arg(dim, axis)? {
        Some(d) => d
            .extract::<isize>()
            .map_err(|_| PyTypeError::new_err("dim must be an int")),
        None => Ok(default),
    }
}

/// `dim` given positionally, as `dim=` or as its alias `axis=` (required).
fn req_dim(op: &str, dim: Option<isize>, axis: Option<isize>) -> PyResult<isize> {
    match (dim, axis) {
        (Some(_), Some(_)) => Err(PyTypeError::new_err(format!(
            "{op}(): got both dim= and its alias axis="
        ))),
        (Some(d), None) | (None, Some(d)) => Ok(d),
        (None, None) => Err(PyTypeError::new_err(format!(
            "{op}() missing required argument 'dim'"
        ))),
    }
}

/// A required tensor argument that follows an optional one in the signature.
fn req_arg(op: &str, name: &str, t: Option<&Bound<'_, PyTensor>>) -> PyResult<Tensor> {
    t.map(|t| t.get().inner.clone())
        .ok_or_else(|| PyTypeError::new_err(format!("{op}() missing required argument '{name}'")))
}

/// An int or a sequence of ints.
fn int_or_seq<T: for<'a, 'py> FromPyObject<'a, 'py>>(
    obj: &Bound<'_, PyAny>,
    what: &str,
) -> PyResult<Vec<T>> {
    if let Ok(v) = obj.extract::<T>() {
        return Ok(vec![v]);
    }
    obj.extract::<Vec<T>>()
        .map_err(|_| PyTypeError::new_err(format!("{what} must be an int or a sequence of ints")))
}

/// Sizes from `f(*sizes)` or `f(sizes)`, all non-negative.
fn sizes_arg(op: &'static str, args: &Bound<'_, PyTuple>) -> PyResult<Vec<usize>> {
    extract_shape(args)?
        .into_iter()
        .map(|d| {
            if d < 0 {
                Err(Error::invalid(op, format!("sizes must be non-negative, got {d}")).into())
            } else {
                Ok(d as usize)
            }
        })
        .collect()
}

#[pyfunction]
#[pyo3(signature = (tensors, dim = None, *, axis = None))]
fn cat(
    py: Python<'_>,
    tensors: &Bound<'_, PyAny>,
    dim: Option<Bound<'_, PyAny>>,
    axis: Option<Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let ts = tensor_list(tensors, "cat(): tensors")?;
    let d = dim_or(dim, axis, 0)?;
    let work = ts.iter().map(|t| t.numel()).sum();
    PyTensor::wrap(py, compute(py, work, || Tensor::cat(&ts, d))?)
}

#[pyfunction]
#[pyo3(signature = (tensors, dim = None, *, axis = None))]
fn stack(
    py: Python<'_>,
    tensors: &Bound<'_, PyAny>,
    dim: Option<Bound<'_, PyAny>>,
    axis: Option<Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let ts = tensor_list(tensors, "stack(): tensors")?;
    let d = dim_or(dim, axis, 0)?;
    let work = ts.iter().map(|t| t.numel()).sum();
    PyTensor::wrap(py, compute(py, work, || Tensor::stack(&ts, d))?)
}

#[pyfunction]
fn hstack(py: Python<'_>, tensors: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    PyTensor::wrap(
        py,
        Tensor::hstack(&tensor_list(tensors, "hstack(): tensors")?)?,
    )
}

#[pyfunction]
fn vstack(py: Python<'_>, tensors: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    PyTensor::wrap(
        py,
        Tensor::vstack(&tensor_list(tensors, "vstack(): tensors")?)?,
    )
}

#[pyfunction]
#[pyo3(signature = (*tensors, indexing = "ij"))]
fn meshgrid(py: Python<'_>, tensors: &Bound<'_, PyTuple>, indexing: &str) -> PyResult<Py<PyTuple>> {
    // meshgrid(a, b) and meshgrid([a, b]) both work, as in PyTorch.
    let ts = if tensors.len() == 1 && tensors.get_item(0)?.cast::<PyTensor>().is_err() {
        tensor_list(&tensors.get_item(0)?, "meshgrid(): tensors")?
    } else {
        tensor_list(tensors.as_any(), "meshgrid(): tensors")?
    };
    wrap_all(py, Tensor::meshgrid(&ts, indexing)?)
}

/// `ferrograd.nn.functional.pad`: `pad` lists (left, right) amounts from the last dim.
#[pyfunction]
#[pyo3(signature = (input, pad, mode = "constant", value = None))]
fn pad(
    py: Python<'_>,
    input: &Bound<'_, PyTensor>,
    pad: Vec<i64>,
    mode: &str,
    value: Option<f64>,
) -> PyResult<Py<PyAny>> {
    let t = &input.get().inner;
    let mode = match mode {
        "constant" => crate::ops::view::PadMode::Constant(value.unwrap_or(0.0)),
        "reflect" => crate::ops::view::PadMode::Reflect,
        "replicate" => crate::ops::view::PadMode::Replicate,
        other => {
            return Err(Error::invalid("pad", format!("unsupported padding mode {other:?} (expected 'constant', 'reflect' or 'replicate')")).into());
        }
    };
    if value.is_some() && !matches!(mode, crate::ops::view::PadMode::Constant(_)) {
        return Err(Error::invalid(
            "pad",
            "padding mode other than 'constant' doesn't take in a value argument",
        )
        .into());
    }
    PyTensor::wrap(py, compute(py, t.numel(), || t.pad(&pad, mode))?)
}

/// One entry of an index expression.
fn parse_item(it: &Bound<'_, PyAny>) -> PyResult<IndexItem> {
    if it.is_none() {
        return Ok(IndexItem::NewAxis);
    }
    if it.is_instance_of::<PyEllipsis>() {
        return Ok(IndexItem::Ellipsis);
    }
    if let Ok(s) = it.cast::<PySlice>() {
        let get = |name: &str| -> PyResult<Option<i64>> {
            let v = s.getattr(name)?;
            if v.is_none() {
                Ok(None)
            } else {
                v.extract::<i64>()
                    .map(Some)
                    .map_err(|_| PyTypeError::new_err("slice indices must be integers or None"))
            }
        };
        return Ok(IndexItem::Slice {
            start: get("start")?,
            stop: get("stop")?,
            step: get("step")?.unwrap_or(1),
        });
    }
    if it.is_instance_of::<PyBool>() {
        return Err(PyIndexError::new_err(
            "indexing with a Python bool is not supported; use a bool tensor mask",
        ));
    }
    if let Ok(t) = it.cast::<PyTensor>() {
        let t = &t.get().inner;
        // A 0-d integer tensor indexes like an int (it selects and drops the dim).
        if t.ndim() == 0 && t.dtype() == DType::I64 {
            return Ok(IndexItem::Int(t.item()?.as_f64() as i64));
        }
        return Ok(IndexItem::Tensor(t.detach()));
    }
    if let Ok(i) = it.extract::<i64>() {
        return Ok(IndexItem::Int(i));
    }
    let np = it.py().import("numpy")?;
    if it.is_instance_of::<PyList>()
        || it.is_instance_of::<PyTuple>()
        || it.is_instance(&np.getattr("ndarray")?)?
    {
        let t = tensor_from_py(it, None)
            .map_err(|_| PyIndexError::new_err("index lists must hold only ints or only bools"))?;
        if t.dtype().is_float() && t.numel() > 0 {
            return Err(PyIndexError::new_err(
                "tensors used as indices must be long (int64) or bool tensors, got float values",
            ));
        }
        let t = if t.numel() == 0 && t.dtype() != DType::Bool {
            t.to_dtype(DType::I64)?
        } else {
            t
        };
        return Ok(IndexItem::Tensor(t));
    }
    Err(PyIndexError::new_err(format!(
        "only integers, slices (`:`), ellipsis (`...`), None and long or bool tensors are valid indices (got {})",
        it.get_type().name()?
    )))
}

fn parse_index(key: &Bound<'_, PyAny>) -> PyResult<Vec<IndexItem>> {
    match key.cast::<PyTuple>() {
        Ok(t) => t.iter().map(|it| parse_item(&it)).collect(),
        Err(_) => Ok(vec![parse_item(key)?]),
    }
}

#[pymethods]
impl PyTensor {
    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let items = parse_index(key)?;
        let t = &self.inner;
        PyTensor::wrap(py, compute(py, t.numel(), || t.index(&items))?)
    }

    fn __setitem__(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let items = parse_index(key)?;
        let v = match extract_scalar(value) {
            Some(s) => Tensor::scalar_of(s, self.inner.dtype()),
            None => tensor_arg(value, "__setitem__")?,
        };
        let t = &self.inner;
        compute(py, t.numel(), || t.index_put_(&items, &v).map(|_| ()))?;
        Ok(())
    }

    #[pyo3(signature = (axis0, axis1))]
    fn swapaxes(&self, py: Python<'_>, axis0: isize, axis1: isize) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.transpose(axis0, axis1)?)
    }

    #[pyo3(signature = (dim0, dim1))]
    fn swapdims(&self, py: Python<'_>, dim0: isize, dim1: isize) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.transpose(dim0, dim1)?)
    }

    fn movedim(
        &self,
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        destination: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (s, d) = (
            int_or_seq::<isize>(source, "source")?,
            int_or_seq::<isize>(destination, "destination")?,
        );
        PyTensor::wrap(py, self.inner.movedim(&s, &d)?)
    }

    fn moveaxis(
        &self,
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        destination: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        self.movedim(py, source, destination)
    }

    #[pyo3(signature = (dim, sizes))]
    fn unflatten(&self, py: Python<'_>, dim: isize, sizes: Vec<isize>) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.unflatten(dim, &sizes)?)
    }

    #[pyo3(signature = (dim = None, *, axis = None))]
    fn unbind(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTuple>> {
        wrap_all(py, self.inner.unbind(dim_or(dim, axis, 0)?)?)
    }

    #[pyo3(signature = (chunks, dim = None, *, axis = None))]
    fn chunk(
        &self,
        py: Python<'_>,
        chunks: i64,
        dim: Option<Bound<'_, PyAny>>,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTuple>> {
        if chunks <= 0 {
            return Err(Error::invalid(
                "chunk",
                format!("chunk expects `chunks` to be greater than 0, got: {chunks}"),
            )
            .into());
        }
        wrap_all(
            py,
            self.inner.chunk(chunks as usize, dim_or(dim, axis, 0)?)?,
        )
    }

    #[pyo3(signature = (split_size_or_sections, dim = None, *, axis = None))]
    fn split(
        &self,
        py: Python<'_>,
        split_size_or_sections: &Bound<'_, PyAny>,
        dim: Option<Bound<'_, PyAny>>,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTuple>> {
        let d = dim_or(dim, axis, 0)?;
        let parts = if let Ok(n) = split_size_or_sections.extract::<i64>() {
            if n < 0 {
                return Err(Error::invalid(
                    "split",
                    format!("split expects split_size be non-negative, but got split_size={n}"),
                )
                .into());
            }
            self.inner.split(n as usize, d)?
        } else {
            let sizes: Vec<i64> = split_size_or_sections.extract().map_err(|_| {
                PyTypeError::new_err("split_size_or_sections must be an int or a sequence of ints")
            })?;
            if let Some(&neg) = sizes.iter().find(|&&s| s < 0) {
                return Err(Error::invalid(
                    "split",
                    format!("split_with_sizes expects non-negative sizes, got {neg}"),
                )
                .into());
            }
            self.inner
                .split_sizes(&sizes.iter().map(|&s| s as usize).collect::<Vec<_>>(), d)?
        };
        wrap_all(py, parts)
    }

    #[pyo3(signature = (indices_or_sections, dim = None, *, axis = None))]
    fn tensor_split(
        &self,
        py: Python<'_>,
        indices_or_sections: &Bound<'_, PyAny>,
        dim: Option<Bound<'_, PyAny>>,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTuple>> {
        let d = dim_or(dim, axis, 0)?;
        let arg = match indices_or_sections.cast::<PyTensor>() {
            Ok(t) => {
                let t = &t.get().inner;
                if t.dtype() != DType::I64 || t.ndim() > 1 {
                    return Err(Error::dtype(
                        "tensor_split",
                        "indices_or_sections must be a 0-d or 1-d int64 tensor",
                    )
                    .into());
                }
                let v = t.to_vec::<i64>()?;
                if t.ndim() == 0 { Err(v[0]) } else { Ok(v) }
            }
            Err(_) => match indices_or_sections.extract::<i64>() {
                Ok(n) => Err(n),
                Err(_) => Ok(indices_or_sections.extract::<Vec<i64>>().map_err(|_| {
                    PyTypeError::new_err("indices_or_sections must be an int or a sequence of ints")
                })?),
            },
        };
        let parts = match arg {
            Err(n) if n <= 0 => {
                return Err(Error::invalid(
                    "tensor_split",
                    format!("number of sections must be larger than 0, got {n}"),
                )
                .into());
            }
            Err(n) => self.inner.tensor_split_sections(n as usize, d)?,
            Ok(idx) => self.inner.tensor_split_indices(&idx, d)?,
        };
        wrap_all(py, parts)
    }

    #[pyo3(signature = (*dims))]
    fn flip(&self, py: Python<'_>, dims: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        let t = &self.inner;
        let dims = extract_shape(dims)?;
        PyTensor::wrap(py, compute(py, t.numel(), || t.flip(&dims))?)
    }

    fn fliplr(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        if self.inner.ndim() < 2 {
            return Err(Error::shape("fliplr", "Input must be >= 2-d.").into());
        }
        PyTensor::wrap(py, self.inner.flip(&[1])?)
    }

    fn flipud(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        if self.inner.ndim() < 1 {
            return Err(Error::shape("flipud", "Input must be >= 1-d.").into());
        }
        PyTensor::wrap(py, self.inner.flip(&[0])?)
    }

    #[pyo3(signature = (shifts, dims = None))]
    fn roll(
        &self,
        py: Python<'_>,
        shifts: &Bound<'_, PyAny>,
        dims: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let shifts = int_or_seq::<i64>(shifts, "shifts")?;
        let dims = match dims {
            Some(d) if !d.is_none() => int_or_seq::<isize>(d, "dims")?,
            _ => vec![],
        };
        let t = &self.inner;
        PyTensor::wrap(py, compute(py, t.numel(), || t.roll(&shifts, &dims))?)
    }

    #[pyo3(signature = (*sizes))]
    fn repeat(&self, py: Python<'_>, sizes: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        let sizes = sizes_arg("repeat", sizes)?;
        let t = &self.inner;
        PyTensor::wrap(
            py,
            compute(py, t.numel() * sizes.iter().product::<usize>(), || {
                t.repeat(&sizes)
            })?,
        )
    }

    #[pyo3(signature = (*dims))]
    fn tile(&self, py: Python<'_>, dims: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        let sizes = sizes_arg("tile", dims)?;
        let t = &self.inner;
        PyTensor::wrap(
            py,
            compute(py, t.numel() * sizes.iter().product::<usize>(), || {
                t.tile(&sizes)
            })?,
        )
    }

    #[pyo3(signature = (repeats, dim = None, *, axis = None, output_size = None))]
    fn repeat_interleave(
        &self,
        py: Python<'_>,
        repeats: &Bound<'_, PyAny>,
        dim: Option<Bound<'_, PyAny>>,
        axis: Option<Bound<'_, PyAny>>,
        output_size: Option<usize>,
    ) -> PyResult<Py<PyAny>> {
        let r =
            match repeats.cast::<PyTensor>() {
                Ok(t) => t.get().inner.clone(),
                Err(_) => Tensor::scalar(repeats.extract::<i64>().map_err(|_| {
                    PyTypeError::new_err("repeats must be an int or an int64 tensor")
                })?),
            };
        let d = dim_arg(dim, axis)?
            .map(|d| d.extract::<isize>())
            .transpose()?;
        let out = self.inner.repeat_interleave(&r, d)?;
        if let Some(n) = output_size {
            let got = out.shape()[d
                .map(|d| crate::shape::normalize_dim("repeat_interleave", d, out.ndim()))
                .transpose()?
                .unwrap_or(0)];
            if got != n {
                return Err(Error::shape(
                    "repeat_interleave",
                    format!("output_size {n} does not match the repeated size {got}"),
                )
                .into());
            }
        }
        PyTensor::wrap(py, out)
    }

    #[pyo3(signature = (diagonal = 0))]
    fn diag(&self, py: Python<'_>, diagonal: i64) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.diag(diagonal)?)
    }

    #[pyo3(signature = (offset = 0, dim1 = 0, dim2 = 1))]
    fn diagonal(
        &self,
        py: Python<'_>,
        offset: i64,
        dim1: isize,
        dim2: isize,
    ) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.diagonal(offset, dim1, dim2)?)
    }

    #[pyo3(signature = (diagonal = 0))]
    fn tril(&self, py: Python<'_>, diagonal: i64) -> PyResult<Py<PyAny>> {
        let t = &self.inner;
        PyTensor::wrap(py, compute(py, t.numel(), || t.tril(diagonal))?)
    }

    #[pyo3(signature = (diagonal = 0))]
    fn triu(&self, py: Python<'_>, diagonal: i64) -> PyResult<Py<PyAny>> {
        let t = &self.inner;
        PyTensor::wrap(py, compute(py, t.numel(), || t.triu(diagonal))?)
    }

    #[pyo3(signature = (*size))]
    fn broadcast_to(&self, py: Python<'_>, size: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.expand(&extract_shape(size)?)?)
    }

    #[pyo3(signature = (dim = None, index = None, *, axis = None))]
    fn gather(
        &self,
        py: Python<'_>,
        dim: Option<isize>,
        index: Option<&Bound<'_, PyTensor>>,
        axis: Option<isize>,
    ) -> PyResult<Py<PyAny>> {
        let (d, i) = (
            req_dim("gather", dim, axis)?,
            req_arg("gather", "index", index)?,
        );
        let t = &self.inner;
        PyTensor::wrap(py, compute(py, i.numel(), || t.gather(d, &i))?)
    }

    #[pyo3(signature = (dim = None, index = None, src = None, *, axis = None, value = None))]
    fn scatter(
        &self,
        py: Python<'_>,
        dim: Option<isize>,
        index: Option<&Bound<'_, PyTensor>>,
        src: Option<&Bound<'_, PyAny>>,
        axis: Option<isize>,
        value: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (d, i) = (
            req_dim("scatter", dim, axis)?,
            req_arg("scatter", "index", index)?,
        );
        let s = self.scatter_src(src, value)?;
        let t = &self.inner;
        PyTensor::wrap(py, compute(py, t.numel(), || t.scatter(d, &i, &s))?)
    }

    #[pyo3(signature = (dim = None, index = None, src = None, *, axis = None, value = None))]
    fn scatter_(
        slf: &Bound<'_, Self>,
        dim: Option<isize>,
        index: Option<&Bound<'_, PyTensor>>,
        src: Option<&Bound<'_, PyAny>>,
        axis: Option<isize>,
        value: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (d, i) = (
            req_dim("scatter_", dim, axis)?,
            req_arg("scatter_", "index", index)?,
        );
        let me = slf.get();
        let s = me.scatter_src(src, value)?;
        me.inner.scatter_(d, &i, &s)?;
        Ok(slf.clone().into_any().unbind())
    }

    #[pyo3(signature = (dim = None, index = None, src = None, *, axis = None))]
    fn scatter_add(
        &self,
        py: Python<'_>,
        dim: Option<isize>,
        index: Option<&Bound<'_, PyTensor>>,
        src: Option<&Bound<'_, PyTensor>>,
        axis: Option<isize>,
    ) -> PyResult<Py<PyAny>> {
        let (d, i, s) = (
            req_dim("scatter_add", dim, axis)?,
            req_arg("scatter_add", "index", index)?,
            req_arg("scatter_add", "src", src)?,
        );
        let t = &self.inner;
        PyTensor::wrap(py, compute(py, t.numel(), || t.scatter_add(d, &i, &s))?)
    }

    #[pyo3(signature = (dim = None, index = None, src = None, *, axis = None))]
    fn scatter_add_(
        slf: &Bound<'_, Self>,
        dim: Option<isize>,
        index: Option<&Bound<'_, PyTensor>>,
        src: Option<&Bound<'_, PyTensor>>,
        axis: Option<isize>,
    ) -> PyResult<Py<PyAny>> {
        let (d, i, s) = (
            req_dim("scatter_add_", dim, axis)?,
            req_arg("scatter_add_", "index", index)?,
            req_arg("scatter_add_", "src", src)?,
        );
        slf.get().inner.scatter_add_(d, &i, &s)?;
        Ok(slf.clone().into_any().unbind())
    }

    #[pyo3(signature = (dim = None, index = None, *, axis = None))]
    fn index_select(
        &self,
        py: Python<'_>,
        dim: Option<isize>,
        index: Option<&Bound<'_, PyTensor>>,
        axis: Option<isize>,
    ) -> PyResult<Py<PyAny>> {
        let (d, i) = (
            req_dim("index_select", dim, axis)?,
            req_arg("index_select", "index", index)?,
        );
        let t = &self.inner;
        PyTensor::wrap(py, compute(py, t.numel(), || t.index_select(d, &i))?)
    }

    #[pyo3(signature = (dim = None, index = None, source = None, *, axis = None, alpha = 1.0))]
    fn index_add(
        &self,
        py: Python<'_>,
        dim: Option<isize>,
        index: Option<&Bound<'_, PyTensor>>,
        source: Option<&Bound<'_, PyTensor>>,
        axis: Option<isize>,
        alpha: f64,
    ) -> PyResult<Py<PyAny>> {
        let (d, i, s) = (
            req_dim("index_add", dim, axis)?,
            req_arg("index_add", "index", index)?,
            req_arg("index_add", "source", source)?,
        );
        let t = &self.inner;
        PyTensor::wrap(
            py,
            compute(py, t.numel(), || t.index_add(d, &i, &s, alpha))?,
        )
    }

    #[pyo3(signature = (dim = None, index = None, source = None, *, axis = None, alpha = 1.0))]
    fn index_add_(
        slf: &Bound<'_, Self>,
        dim: Option<isize>,
        index: Option<&Bound<'_, PyTensor>>,
        source: Option<&Bound<'_, PyTensor>>,
        axis: Option<isize>,
        alpha: f64,
    ) -> PyResult<Py<PyAny>> {
        let (d, i, s) = (
            req_dim("index_add_", dim, axis)?,
            req_arg("index_add_", "index", index)?,
            req_arg("index_add_", "source", source)?,
        );
        slf.get().inner.index_add_(d, &i, &s, alpha)?;
        Ok(slf.clone().into_any().unbind())
    }

    fn take(&self, py: Python<'_>, index: &Bound<'_, PyTensor>) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.take(&index.get().inner)?)
    }

    fn masked_select(&self, py: Python<'_>, mask: &Bound<'_, PyTensor>) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.masked_select(&mask.get().inner)?)
    }

    #[pyo3(signature = (*, as_tuple = false))]
    fn nonzero(&self, py: Python<'_>, as_tuple: bool) -> PyResult<Py<PyAny>> {
        let nz = self.inner.nonzero()?;
        if !as_tuple {
            return PyTensor::wrap(py, nz);
        }
        // One 1-D index tensor per dim (a 0-d input counts as 1-D).
        let cols = if self.inner.ndim() == 0 {
            1
        } else {
            self.inner.ndim()
        };
        let nz = if self.inner.ndim() == 0 {
            nz.reshape(&[-1, 1])?
        } else {
            nz
        };
        let parts: Vec<Tensor> = (0..cols)
            .map(|c| nz.select(1, c as i64)?.contiguous_copy())
            .collect::<Result<_, _>>()?;
        Ok(wrap_all(py, parts)?.into_any())
    }
}

impl PyTensor {
    /// The `src` of scatter: a tensor, or a number given positionally or as `value=`.
    fn scatter_src(
        &self,
        src: Option<&Bound<'_, PyAny>>,
        value: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Tensor> {
        match (src, value) {
            (Some(s), None) => match s.cast::<PyTensor>() {
                Ok(t) => Ok(t.get().inner.clone()),
                Err(_) => match extract_scalar(s) {
                    Some(v) => Ok(Tensor::scalar_of(v, self.inner.dtype())),
                    None => Err(PyTypeError::new_err(
                        "scatter(): src must be a Tensor or a number",
                    )),
                },
            },
            (None, Some(v)) => match extract_scalar(v) {
                Some(v) => Ok(Tensor::scalar_of(v, self.inner.dtype())),
                None => Err(PyTypeError::new_err("scatter(): value must be a number")),
            },
            _ => Err(PyTypeError::new_err(
                "scatter() expects exactly one of src or value",
            )),
        }
    }
}
