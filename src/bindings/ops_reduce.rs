//! Reductions and linear algebra for Python: Tensor methods (sum/mean/max/min/argmax/argmin
//! and matmul stay in tensor.rs) and the module functions var_mean, std_mean and einsum.

use super::convert::opt_dtype;
use super::tensor::{PyTensor, compute, dim_arg, dims_list, return_types, tensor_arg};
use crate::error::Error;
use crate::tensor::Tensor;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyString, PyTuple};

/// Dims from `dim=`/`axis=`; `None` (or an empty tuple, as for `amax`) means every dim.
fn opt_dims(
    dim: Option<Bound<'_, PyAny>>,
    axis: Option<Bound<'_, PyAny>>,
) -> PyResult<Option<Vec<isize>>> {
    Ok(dim_arg(dim, axis)?
        .map(|d| dims_list(&d))
        .transpose()?
        .filter(|d| !d.is_empty()))
}

/// A single required dim.
fn one_dim(
    op: &str,
    dim: Option<Bound<'_, PyAny>>,
    axis: Option<Bound<'_, PyAny>>,
) -> PyResult<isize> {
    let d = dim_arg(dim, axis)?
        .ok_or_else(|| PyTypeError::new_err(format!("{op}() missing required argument 'dim'")))?;
    d.extract::<isize>()
        .map_err(|_| PyTypeError::new_err(format!("{op}(): argument 'dim' must be an int")))
}

fn opt_one_dim(
    op: &str,
    dim: Option<Bound<'_, PyAny>>,
    axis: Option<Bound<'_, PyAny>>,
) -> PyResult<Option<isize>> {
    match dim_arg(dim, axis)? {
        None => Ok(None),
        Some(d) => Ok(Some(d.extract::<isize>().map_err(|_| {
            PyTypeError::new_err(format!("{op}(): argument 'dim' must be an int"))
        })?)),
    }
}

fn pair(py: Python<'_>, v: Tensor, i: Tensor) -> PyResult<Py<PyAny>> {
    Ok(return_types(py)?
        .call1((PyTensor::wrap(py, v)?, PyTensor::wrap(py, i)?))?
        .unbind())
}

/// `correction` from PyTorch's two spellings: `unbiased` (legacy bool) or `correction`.
fn correction_of(unbiased: Option<bool>, correction: Option<f64>) -> PyResult<f64> {
    match (unbiased, correction) {
        (Some(_), Some(_)) => Err(PyTypeError::new_err(
            "cannot pass both unbiased= and correction=",
        )),
        (Some(u), None) => Ok(if u { 1.0 } else { 0.0 }),
        (None, Some(c)) => Ok(c),
        (None, None) => Ok(1.0),
    }
}

/// `var(dim)` and the legacy `var(unbiased)` (a bool first argument).
fn var_args<'py>(
    dim: Option<Bound<'py, PyAny>>,
    unbiased: Option<bool>,
    axis: Option<Bound<'py, PyAny>>,
) -> PyResult<(Option<Vec<isize>>, Option<bool>)> {
    if let Some(d) = &dim
        && d.is_instance_of::<PyBool>()
    {
        if unbiased.is_some() {
            return Err(PyTypeError::new_err("got unbiased twice"));
        }
        return Ok((opt_dims(None, axis)?, Some(d.extract::<bool>()?)));
    }
    Ok((opt_dims(dim, axis)?, unbiased))
}

/// `p` of a norm: a number, inf, or "fro" (the 2-norm); "nuc" needs an SVD (not provided).
fn norm_p(p: Option<&Bound<'_, PyAny>>) -> PyResult<f64> {
    let Some(p) = p.filter(|p| !p.is_none()) else {
        return Ok(2.0);
    };
    if let Ok(s) = p.cast::<PyString>() {
        return match s.to_str()? {
            "fro" => Ok(2.0),
            other => Err(Error::invalid(
                "norm",
                format!("unknown norm type {other:?}; expected a number, inf, 'fro' or 'nuc'"),
            )
            .into()),
        };
    }
    p.extract::<f64>()
        .map_err(|_| PyTypeError::new_err("norm(): p must be a number or 'fro'"))
}

#[pymethods]
impl PyTensor {
    #[pyo3(signature = (dim = None, keepdim = false, *, dtype = None, axis = None))]
    fn prod(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        keepdim: bool,
        dtype: Option<&Bound<'_, PyAny>>,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let d = opt_one_dim("prod", dim, axis)?;
        let t = match opt_dtype(dtype)? {
            Some(dt) => self.inner.to_dtype(dt)?,
            None => self.inner.clone(),
        };
        PyTensor::wrap(py, compute(py, t.numel(), || t.prod_dim(d, keepdim))?)
    }

    #[pyo3(signature = (dim = None, keepdim = false, *, axis = None))]
    fn amax(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        keepdim: bool,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let dims = opt_dims(dim, axis)?;
        let t = &self.inner;
        PyTensor::wrap(
            py,
            compute(py, t.numel(), || t.amax(dims.as_deref(), keepdim))?,
        )
    }

    #[pyo3(signature = (dim = None, keepdim = false, *, axis = None))]
    fn amin(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        keepdim: bool,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let dims = opt_dims(dim, axis)?;
        let t = &self.inner;
        PyTensor::wrap(
            py,
            compute(py, t.numel(), || t.amin(dims.as_deref(), keepdim))?,
        )
    }

    #[pyo3(signature = (dim = None, keepdim = false, *, axis = None))]
    fn all(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        keepdim: bool,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let dims = opt_dims(dim, axis)?;
        let t = &self.inner;
        PyTensor::wrap(
            py,
            compute(py, t.numel(), || t.all_dims(dims.as_deref(), keepdim))?,
        )
    }

    #[pyo3(signature = (dim = None, keepdim = false, *, axis = None))]
    fn any(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        keepdim: bool,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let dims = opt_dims(dim, axis)?;
        let t = &self.inner;
        PyTensor::wrap(
            py,
            compute(py, t.numel(), || t.any_dims(dims.as_deref(), keepdim))?,
        )
    }

    #[pyo3(signature = (dim = None, *, axis = None))]
    fn count_nonzero(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let dims = opt_dims(dim, axis)?;
        let t = &self.inner;
        PyTensor::wrap(
            py,
            compute(py, t.numel(), || t.count_nonzero(dims.as_deref()))?,
        )
    }

    #[pyo3(signature = (dim = None, unbiased = None, keepdim = false, *, correction = None, axis = None))]
    fn var(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        unbiased: Option<bool>,
        keepdim: bool,
        correction: Option<f64>,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (dims, unbiased) = var_args(dim, unbiased, axis)?;
        let c = correction_of(unbiased, correction)?;
        let t = &self.inner;
        PyTensor::wrap(
            py,
            compute(py, t.numel(), || t.var_dims(dims.as_deref(), c, keepdim))?,
        )
    }

    #[pyo3(signature = (dim = None, unbiased = None, keepdim = false, *, correction = None, axis = None))]
    fn std(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        unbiased: Option<bool>,
        keepdim: bool,
        correction: Option<f64>,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (dims, unbiased) = var_args(dim, unbiased, axis)?;
        let c = correction_of(unbiased, correction)?;
        let t = &self.inner;
        PyTensor::wrap(
            py,
            compute(py, t.numel(), || t.std_dims(dims.as_deref(), c, keepdim))?,
        )
    }

    #[pyo3(signature = (dim = None, keepdim = false, *, axis = None))]
    fn logsumexp(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        keepdim: bool,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let dims = opt_dims(dim, axis)?;
        let t = &self.inner;
        PyTensor::wrap(
            py,
            compute(py, t.numel(), || t.logsumexp(dims.as_deref(), keepdim))?,
        )
    }

    /// `p` = "fro" (default), a number or inf; `dim` an int or tuple of ints.
    #[pyo3(signature = (p = None, dim = None, keepdim = false, dtype = None, *, axis = None))]
    fn norm(
        &self,
        py: Python<'_>,
        p: Option<&Bound<'_, PyAny>>,
        dim: Option<Bound<'_, PyAny>>,
        keepdim: bool,
        dtype: Option<&Bound<'_, PyAny>>,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        if let Some(nuc) = p.filter(|p| p.extract::<&str>().ok() == Some("nuc")) {
            // The nuclear norm is a matrix norm: of the 2-D input, or over two given dims.
            let given = opt_dims(dim, axis)?;
            let whole = given.is_none();
            let dims = given.unwrap_or_else(|| vec![-2, -1]);
            if dims.len() != 2 || (whole && self.inner.ndim() != 2) {
                return Err(Error::shape(
                    "norm",
                    format!(
                        "the nuclear norm needs a 2-D input or two dims, got shape {:?} and dims {dims:?}",
                        self.inner.shape()
                    ),
                )
                .into());
            }
            let x = match opt_dtype(dtype)? {
                Some(dt) => self.inner.to_dtype(dt)?,
                None => self.inner.clone(),
            };
            let linalg = py.import("ferrograd.linalg")?;
            let args = (
                PyTensor::wrap(py, x)?,
                nuc,
                PyTuple::new(py, &dims)?,
                keepdim,
            );
            return Ok(linalg.call_method1("matrix_norm", args)?.unbind());
        }
        let p = norm_p(p)?;
        let dims = opt_dims(dim, axis)?;
        let t = match opt_dtype(dtype)? {
            Some(dt) => self.inner.to_dtype(dt)?,
            None => self.inner.clone(),
        };
        PyTensor::wrap(
            py,
            compute(py, t.numel(), || t.norm(p, dims.as_deref(), keepdim))?,
        )
    }

    #[pyo3(signature = (dim = None, *, dtype = None, axis = None))]
    fn cumsum(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        dtype: Option<&Bound<'_, PyAny>>,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let d = one_dim("cumsum", dim, axis)?;
        let dt = opt_dtype(dtype)?;
        let t = &self.inner;
        PyTensor::wrap(py, compute(py, t.numel(), || t.cumsum(d, dt))?)
    }

    #[pyo3(signature = (dim = None, *, dtype = None, axis = None))]
    fn cumprod(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        dtype: Option<&Bound<'_, PyAny>>,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let d = one_dim("cumprod", dim, axis)?;
        let dt = opt_dtype(dtype)?;
        let t = &self.inner;
        PyTensor::wrap(py, compute(py, t.numel(), || t.cumprod(d, dt))?)
    }

    /// Without `dim`: the lower median of all elements. With `dim`: (values, indices).
    #[pyo3(signature = (dim = None, keepdim = false, *, axis = None))]
    fn median(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        keepdim: bool,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let t = &self.inner;
        match opt_one_dim("median", dim, axis)? {
            None => PyTensor::wrap(py, compute(py, t.numel(), || t.median_all())?),
            Some(d) => {
                let (v, i) = compute(py, t.numel(), || t.median_dim(d, keepdim))?;
                pair(py, v, i)
            }
        }
    }

    #[pyo3(signature = (k, dim = -1, largest = true, sorted = true))]
    fn topk(
        &self,
        py: Python<'_>,
        k: i64,
        dim: isize,
        largest: bool,
        sorted: bool,
    ) -> PyResult<Py<PyAny>> {
        // Results are always sorted; `sorted=False` only allows any order.
        let _ = sorted;
        if k < 0 {
            return Err(Error::Index {
                op: "topk",
                msg: format!("selected index k out of range: k = {k}"),
            }
            .into());
        }
        let t = &self.inner;
        let (v, i) = compute(py, t.numel(), || t.topk(k as usize, dim, largest))?;
        pair(py, v, i)
    }

    /// Always stable (equal elements keep their order), so `stable=` changes nothing.
    #[pyo3(signature = (dim = -1, descending = false, stable = false, *, axis = None))]
    fn sort(
        &self,
        py: Python<'_>,
        dim: isize,
        descending: bool,
        stable: bool,
        axis: Option<isize>,
    ) -> PyResult<Py<PyAny>> {
        let _ = stable;
        let d = axis.unwrap_or(dim);
        let t = &self.inner;
        let (v, i) = compute(py, t.numel(), || t.sort(d, descending))?;
        pair(py, v, i)
    }

    #[pyo3(signature = (dim = -1, descending = false, stable = false, *, axis = None))]
    fn argsort(
        &self,
        py: Python<'_>,
        dim: isize,
        descending: bool,
        stable: bool,
        axis: Option<isize>,
    ) -> PyResult<Py<PyAny>> {
        let _ = stable;
        let d = axis.unwrap_or(dim);
        let t = &self.inner;
        PyTensor::wrap(py, compute(py, t.numel(), || t.argsort(d, descending))?)
    }

    /// Sorted distinct values; `(values, inverse?, counts?)` when either flag is set.
    #[pyo3(signature = (sorted = true, return_inverse = false, return_counts = false, dim = None))]
    fn unique(
        &self,
        py: Python<'_>,
        sorted: bool,
        return_inverse: bool,
        return_counts: bool,
        dim: Option<isize>,
    ) -> PyResult<Py<PyAny>> {
        let _ = sorted;
        let t = &self.inner;
        let (v, inv, counts) = compute(py, t.numel(), || t.unique(dim))?;
        if !return_inverse && !return_counts {
            return PyTensor::wrap(py, v);
        }
        let mut items = vec![PyTensor::wrap(py, v)?];
        if return_inverse {
            items.push(PyTensor::wrap(py, inv)?);
        }
        if return_counts {
            items.push(PyTensor::wrap(py, counts)?);
        }
        Ok(PyTuple::new(py, items)?.into_any().unbind())
    }

    fn mm(&self, py: Python<'_>, mat2: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let (a, b) = (&self.inner, tensor_arg(mat2, "mm")?);
        PyTensor::wrap(
            py,
            compute(
                py,
                a.numel().max(b.numel()) * b.shape().last().copied().unwrap_or(1),
                || a.mm(&b),
            )?,
        )
    }

    fn bmm(&self, py: Python<'_>, mat2: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let (a, b) = (&self.inner, tensor_arg(mat2, "bmm")?);
        PyTensor::wrap(
            py,
            compute(
                py,
                a.numel().max(b.numel()) * b.shape().last().copied().unwrap_or(1),
                || a.bmm(&b),
            )?,
        )
    }

    fn mv(&self, py: Python<'_>, vec: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let (a, b) = (&self.inner, tensor_arg(vec, "mv")?);
        PyTensor::wrap(py, compute(py, a.numel(), || a.mv(&b))?)
    }

    fn dot(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let (a, b) = (&self.inner, tensor_arg(other, "dot")?);
        PyTensor::wrap(py, compute(py, a.numel(), || a.dot(&b))?)
    }

    /// Also spelled `ger` in older PyTorch.
    fn outer(&self, py: Python<'_>, vec2: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let (a, b) = (&self.inner, tensor_arg(vec2, "outer")?);
        PyTensor::wrap(py, compute(py, a.numel() * b.numel(), || a.outer(&b))?)
    }

    #[pyo3(signature = (mat1, mat2, *, beta = 1.0, alpha = 1.0))]
    fn addmm(
        &self,
        py: Python<'_>,
        mat1: &Bound<'_, PyAny>,
        mat2: &Bound<'_, PyAny>,
        beta: f64,
        alpha: f64,
    ) -> PyResult<Py<PyAny>> {
        let (a, b) = (tensor_arg(mat1, "addmm")?, tensor_arg(mat2, "addmm")?);
        let t = &self.inner;
        PyTensor::wrap(
            py,
            compute(
                py,
                a.numel().max(b.numel()) * b.shape().last().copied().unwrap_or(1),
                || t.addmm(&a, &b, beta, alpha),
            )?,
        )
    }

    #[pyo3(signature = (batch1, batch2, *, beta = 1.0, alpha = 1.0))]
    fn baddbmm(
        &self,
        py: Python<'_>,
        batch1: &Bound<'_, PyAny>,
        batch2: &Bound<'_, PyAny>,
        beta: f64,
        alpha: f64,
    ) -> PyResult<Py<PyAny>> {
        let (a, b) = (
            tensor_arg(batch1, "baddbmm")?,
            tensor_arg(batch2, "baddbmm")?,
        );
        let t = &self.inner;
        PyTensor::wrap(
            py,
            compute(
                py,
                a.numel().max(b.numel()) * b.shape().last().copied().unwrap_or(1),
                || t.baddbmm(&a, &b, beta, alpha),
            )?,
        )
    }
}

/// `(var, mean)` over `dim` in one pass over the mean.
#[pyfunction]
#[pyo3(signature = (input, dim = None, unbiased = None, keepdim = false, *, correction = None, axis = None))]
fn var_mean(
    py: Python<'_>,
    input: &Bound<'_, PyTensor>,
    dim: Option<Bound<'_, PyAny>>,
    unbiased: Option<bool>,
    keepdim: bool,
    correction: Option<f64>,
    axis: Option<Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let (dims, unbiased) = var_args(dim, unbiased, axis)?;
    let c = correction_of(unbiased, correction)?;
    let t = &input.get().inner;
    let (v, m) = compute(py, t.numel(), || t.var_mean(dims.as_deref(), c, keepdim))?;
    Ok(
        PyTuple::new(py, [PyTensor::wrap(py, v)?, PyTensor::wrap(py, m)?])?
            .into_any()
            .unbind(),
    )
}

/// `(std, mean)` over `dim`.
#[pyfunction]
#[pyo3(signature = (input, dim = None, unbiased = None, keepdim = false, *, correction = None, axis = None))]
fn std_mean(
    py: Python<'_>,
    input: &Bound<'_, PyTensor>,
    dim: Option<Bound<'_, PyAny>>,
    unbiased: Option<bool>,
    keepdim: bool,
    correction: Option<f64>,
    axis: Option<Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let (dims, unbiased) = var_args(dim, unbiased, axis)?;
    let c = correction_of(unbiased, correction)?;
    let t = &input.get().inner;
    let (s, m) = compute(py, t.numel(), || t.std_mean(dims.as_deref(), c, keepdim))?;
    Ok(
        PyTuple::new(py, [PyTensor::wrap(py, s)?, PyTensor::wrap(py, m)?])?
            .into_any()
            .unbind(),
    )
}

/// `einsum("ij,jk->ik", a, b)` or `einsum("ij,jk->ik", [a, b])`.
#[pyfunction]
#[pyo3(signature = (equation, *operands))]
fn einsum(py: Python<'_>, equation: &str, operands: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
    let items: Vec<Bound<'_, PyAny>> =
        if operands.len() == 1 && !operands.get_item(0)?.is_instance_of::<PyTensor>() {
            operands.get_item(0)?.try_iter()?.collect::<PyResult<_>>()?
        } else {
            operands.iter().collect()
        };
    let ts: Vec<Tensor> = items
        .iter()
        .map(|o| {
            o.cast::<PyTensor>()
                .map(|t| t.get().inner.clone())
                .map_err(|_| {
                    PyTypeError::new_err(format!(
                        "einsum(): operands must be Tensors, got {}",
                        o.get_type()
                            .name()
                            .map(|n| n.to_string())
                            .unwrap_or_default()
                    ))
                })
        })
        .collect::<PyResult<_>>()?;
    let work = ts.iter().map(Tensor::numel).sum::<usize>();
    PyTensor::wrap(
        py,
        compute(py, work, || crate::ops::einsum::einsum(equation, &ts))?,
    )
}

/// `(U, S, Vh)` of `linalg.svd` (the Python side wraps them in a named tuple).
#[pyfunction]
#[pyo3(signature = (a, full_matrices = true))]
fn _linalg_svd(
    py: Python<'_>,
    a: &Bound<'_, PyTensor>,
    full_matrices: bool,
) -> PyResult<Py<PyAny>> {
    let t = &a.get().inner;
    let (u, s, vh) = compute(py, t.numel(), || t.svd(full_matrices))?;
    Ok(PyTuple::new(
        py,
        [
            PyTensor::wrap(py, u)?,
            PyTensor::wrap(py, s)?,
            PyTensor::wrap(py, vh)?,
        ],
    )?
    .into_any()
    .unbind())
}

#[pyfunction]
fn _linalg_svdvals(py: Python<'_>, a: &Bound<'_, PyTensor>) -> PyResult<Py<PyAny>> {
    let t = &a.get().inner;
    PyTensor::wrap(py, compute(py, t.numel(), || t.svdvals())?)
}

/// Adds this family's module-level functions to `ferrograd._core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_linalg_svd, m)?)?;
    m.add_function(wrap_pyfunction!(_linalg_svdvals, m)?)?;
    m.add_function(wrap_pyfunction!(var_mean, m)?)?;
    m.add_function(wrap_pyfunction!(std_mean, m)?)?;
    m.add_function(wrap_pyfunction!(einsum, m)?)?;
    Ok(())
}
