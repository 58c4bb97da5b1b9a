//! Module-level functions: tensor creation, autograd.grad, memory, seeding and threads.

use super::convert::{extract_dtype, extract_shape, opt_dtype, tensor_from_py, usize_shape};
use super::tensor::{PyTensor, compute, opt_tensor_list, tensor_list};
use crate::dtype::{DType, Scalar};
use crate::tensor::Tensor;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

fn finish(py: Python<'_>, t: Tensor, requires_grad: bool) -> PyResult<Py<PyAny>> {
    if requires_grad {
        t.set_requires_grad(true)?;
    }
    PyTensor::wrap(py, t)
}

/// A new tensor from data (nested sequences, NumPy arrays, numbers).
#[pyfunction]
#[pyo3(signature = (data, *, dtype = None, requires_grad = false, device = None))]
pub fn tensor(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
    device: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    check_device(device)?;
    finish(py, tensor_from_py(data, opt_dtype(dtype)?)?, requires_grad)
}

/// `torch.as_tensor`: a tensor is returned as is (or converted when `dtype` differs);
/// anything else becomes a new tensor as with `tensor` (the data is always copied here, since
/// tensors own Rust-side storage).
#[pyfunction]
#[pyo3(signature = (data, dtype = None, device = None))]
pub fn as_tensor(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
    device: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    check_device(device)?;
    let dtype = opt_dtype(dtype)?;
    if let Ok(t) = data.cast::<PyTensor>() {
        let inner = &t.get().inner;
        return match dtype {
            Some(d) if d != inner.dtype() => PyTensor::wrap(py, inner.to_dtype(d)?),
            _ => Ok(data.clone().unbind()),
        };
    }
    PyTensor::wrap(py, tensor_from_py(data, dtype)?)
}

fn check_device(device: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    if let Some(d) = device
        && !d.is_none()
        && d.str()?.to_str()? != "cpu"
    {
        return Err(PyTypeError::new_err(format!(
            "ferrograd runs on the CPU only; got device={}",
            d.repr()?
        )));
    }
    Ok(())
}

macro_rules! filled {
    ($name:ident, $value:expr) => {
        #[pyfunction]
        #[pyo3(signature = (*size, dtype = None, requires_grad = false, device = None))]
        pub fn $name(
            py: Python<'_>,
            size: &Bound<'_, PyTuple>,
            dtype: Option<&Bound<'_, PyAny>>,
            requires_grad: bool,
            device: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<Py<PyAny>> {
            check_device(device)?;
            let shape = usize_shape(stringify!($name), &extract_shape(size)?)?;
            let dt = opt_dtype(dtype)?.unwrap_or(DType::F32);
            let t = compute(py, shape.iter().product(), || {
                Tensor::full(&shape, $value, dt)
            })?;
            finish(py, t, requires_grad)
        }
    };
}

filled!(zeros, Scalar::Int(0));
filled!(ones, Scalar::Int(1));
// Uninitialised memory is never handed out: `empty` is zero-filled.
filled!(empty, Scalar::Int(0));

#[pyfunction]
#[pyo3(signature = (size, fill_value, *, dtype = None, requires_grad = false, device = None))]
pub fn full(
    py: Python<'_>,
    size: &Bound<'_, PyAny>,
    fill_value: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
    device: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    check_device(device)?;
    let shape = usize_shape(
        "full",
        &size
            .extract::<Vec<isize>>()
            .or_else(|_| size.extract::<isize>().map(|d| vec![d]))?,
    )?;
    let v = super::convert::extract_scalar(fill_value)
        .ok_or_else(|| PyTypeError::new_err("full(): fill_value must be a number"))?;
    let dt = opt_dtype(dtype)?.unwrap_or(v.default_dtype());
    finish(py, Tensor::full(&shape, v, dt)?, requires_grad)
}

macro_rules! random {
    ($name:ident, $f:expr) => {
        #[pyfunction]
        #[pyo3(signature = (*size, dtype = None, requires_grad = false, device = None))]
        pub fn $name(
            py: Python<'_>,
            size: &Bound<'_, PyTuple>,
            dtype: Option<&Bound<'_, PyAny>>,
            requires_grad: bool,
            device: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<Py<PyAny>> {
            check_device(device)?;
            let shape = usize_shape(stringify!($name), &extract_shape(size)?)?;
            let dt = opt_dtype(dtype)?.unwrap_or(DType::F32);
            let t = compute(py, shape.iter().product(), || $f(&shape, dt))?;
            finish(py, t, requires_grad)
        }
    };
}

random!(rand, Tensor::rand);
random!(randn, Tensor::randn);

#[pyfunction]
#[pyo3(signature = (low, high = None, size = None, *, dtype = None, requires_grad = false, device = None))]
pub fn randint(
    py: Python<'_>,
    low: i64,
    high: Option<&Bound<'_, PyAny>>,
    size: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
    device: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    check_device(device)?;
    // randint(high, size) or randint(low, high, size), as in PyTorch.
    let (lo, hi, size) = match (high, size) {
        (Some(h), Some(s)) => (low, h.extract::<i64>()?, s),
        (Some(s), None) if !s.is_instance_of::<pyo3::types::PyInt>() => (0, low, s),
        (None, Some(s)) => (0, low, s),
        _ => {
            return Err(PyTypeError::new_err(
                "randint() missing required argument 'size' (a tuple of ints)",
            ));
        }
    };
    let shape = usize_shape(
        "randint",
        &size
            .extract::<Vec<isize>>()
            .map_err(|_| PyTypeError::new_err("randint(): size must be a tuple of ints"))?,
    )?;
    let dt = opt_dtype(dtype)?.unwrap_or(DType::I64);
    let t = compute(py, shape.iter().product(), || {
        Tensor::randint(lo, hi, &shape, dt)
    })?;
    finish(py, t, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (start, end = None, step = None, *, dtype = None, requires_grad = false, device = None))]
pub fn arange(
    py: Python<'_>,
    start: &Bound<'_, PyAny>,
    end: Option<&Bound<'_, PyAny>>,
    step: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
    device: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    check_device(device)?;
    let num = |o: &Bound<'_, PyAny>| {
        super::convert::extract_scalar(o)
            .ok_or_else(|| PyTypeError::new_err("arange(): arguments must be numbers"))
    };
    let (s, e) = match end {
        Some(e) if !e.is_none() => (num(start)?, num(e)?),
        _ => (Scalar::Int(0), num(start)?),
    };
    let st = match step {
        Some(x) if !x.is_none() => num(x)?,
        _ => Scalar::Int(1),
    };
    let any_float = [s, e, st].iter().any(|v| matches!(v, Scalar::Float(_)));
    let dt = opt_dtype(dtype)?.unwrap_or(if any_float { DType::F32 } else { DType::I64 });
    finish(
        py,
        Tensor::arange(s.as_f64(), e.as_f64(), st.as_f64(), dt)?,
        requires_grad,
    )
}

#[pyfunction]
#[pyo3(signature = (start, end, steps, *, dtype = None, requires_grad = false))]
pub fn linspace(
    py: Python<'_>,
    start: f64,
    end: f64,
    steps: usize,
    dtype: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Py<PyAny>> {
    let dt = opt_dtype(dtype)?.unwrap_or(DType::F32);
    finish(py, Tensor::linspace(start, end, steps, dt)?, requires_grad)
}

#[pyfunction]
#[pyo3(signature = (n, m = None, *, dtype = None, requires_grad = false))]
pub fn eye(
    py: Python<'_>,
    n: usize,
    m: Option<usize>,
    dtype: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Py<PyAny>> {
    let dt = opt_dtype(dtype)?.unwrap_or(DType::F32);
    finish(py, Tensor::eye(n, m.unwrap_or(n), dt)?, requires_grad)
}

fn like(t: &Bound<'_, PyAny>, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<(Vec<usize>, DType)> {
    let t = t
        .cast::<PyTensor>()
        .map_err(|_| PyTypeError::new_err("expected a Tensor"))?;
    let t = &t.get().inner;
    Ok((t.shape().to_vec(), opt_dtype(dtype)?.unwrap_or(t.dtype())))
}

macro_rules! like_fn {
    ($name:ident, |$shape:ident, $dt:ident| $make:expr) => {
        #[pyfunction]
        #[pyo3(signature = (input, *, dtype = None, requires_grad = false))]
        pub fn $name(
            py: Python<'_>,
            input: &Bound<'_, PyAny>,
            dtype: Option<&Bound<'_, PyAny>>,
            requires_grad: bool,
        ) -> PyResult<Py<PyAny>> {
            let ($shape, $dt) = like(input, dtype)?;
            finish(py, $make?, requires_grad)
        }
    };
}

like_fn!(zeros_like, |s, d| Tensor::zeros(&s, d));
like_fn!(ones_like, |s, d| Tensor::ones(&s, d));
like_fn!(empty_like, |s, d| Tensor::zeros(&s, d));
like_fn!(rand_like, |s, d| Tensor::rand(&s, d));
like_fn!(randn_like, |s, d| Tensor::randn(&s, d));

#[pyfunction]
#[pyo3(signature = (input, fill_value, *, dtype = None, requires_grad = false))]
pub fn full_like(
    py: Python<'_>,
    input: &Bound<'_, PyAny>,
    fill_value: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
    requires_grad: bool,
) -> PyResult<Py<PyAny>> {
    let (s, d) = like(input, dtype)?;
    let v = super::convert::extract_scalar(fill_value)
        .ok_or_else(|| PyTypeError::new_err("full_like(): fill_value must be a number"))?;
    finish(py, Tensor::full(&s, v, d)?, requires_grad)
}

/// A tensor with the array's data (copied) and dtype.
#[pyfunction]
pub fn from_numpy(py: Python<'_>, array: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let np = py.import("numpy")?;
    if !array.is_instance(&np.getattr("ndarray")?)? {
        return Err(PyTypeError::new_err(format!(
            "from_numpy() expects a numpy.ndarray, got {}",
            array.get_type().name()?
        )));
    }
    PyTensor::wrap(py, tensor_from_py(array, None)?)
}

#[pyfunction]
pub fn manual_seed(seed: &Bound<'_, PyAny>) -> PyResult<()> {
    let s: i128 = seed
        .extract()
        .map_err(|_| PyTypeError::new_err("manual_seed expects an int"))?;
    crate::random::manual_seed(s as u64);
    Ok(())
}

#[pyfunction]
pub fn initial_seed() -> u64 {
    crate::random::initial_seed()
}

#[pyfunction]
pub fn set_num_threads(n: usize) -> PyResult<()> {
    if n == 0 {
        return Err(crate::error::Error::invalid(
            "set_num_threads",
            "Number of threads must be positive",
        )
        .into());
    }
    crate::set_num_threads(n);
    Ok(())
}

#[pyfunction]
pub fn get_num_threads() -> usize {
    crate::get_num_threads()
}

#[pyfunction]
pub fn memory_allocated() -> usize {
    crate::memory::allocated()
}

#[pyfunction]
pub fn memory_peak_allocated() -> usize {
    crate::memory::peak_allocated()
}

#[pyfunction]
pub fn memory_reset_peak() {
    crate::memory::reset_peak()
}

/// `autograd.grad(outputs, inputs, grad_outputs=None, retain_graph=None, allow_unused=False)`.
#[pyfunction]
#[pyo3(signature = (outputs, inputs, grad_outputs = None, retain_graph = None, create_graph = false, allow_unused = false))]
pub fn grad(
    py: Python<'_>,
    outputs: &Bound<'_, PyAny>,
    inputs: &Bound<'_, PyAny>,
    grad_outputs: Option<&Bound<'_, PyAny>>,
    retain_graph: Option<bool>,
    create_graph: bool,
    allow_unused: bool,
) -> PyResult<Py<PyTuple>> {
    if create_graph {
        return Err(pyo3::exceptions::PyNotImplementedError::new_err(
            "create_graph=True (higher-order gradients) is not supported yet",
        ));
    }
    let outs = tensor_list(outputs, "outputs")?;
    let ins = tensor_list(inputs, "inputs")?;
    let gos = opt_tensor_list(grad_outputs, outs.len(), "grad_outputs")?;
    if gos.len() != outs.len() {
        return Err(crate::error::Error::invalid(
            "grad",
            format!(
                "grad_outputs has {} entries but there are {} outputs",
                gos.len(),
                outs.len()
            ),
        )
        .into());
    }
    let mode = crate::GradMode::current();
    let res = py.detach(move || {
        mode.scope(|| {
            crate::autograd::engine::grad(
                &outs,
                &ins,
                &gos,
                retain_graph.unwrap_or(false),
                allow_unused,
            )
        })
    })?;
    let items: Vec<Py<PyAny>> = res
        .into_iter()
        .map(|g| match g {
            Some(g) => PyTensor::wrap(py, g),
            None => Ok(py.None()),
        })
        .collect::<PyResult<_>>()?;
    Ok(PyTuple::new(py, items)?.unbind())
}

/// `torch.autograd.backward(tensors, grad_tensors=None, retain_graph=None)`.
#[pyfunction]
#[pyo3(signature = (tensors, grad_tensors = None, retain_graph = None))]
pub fn backward(
    py: Python<'_>,
    tensors: &Bound<'_, PyAny>,
    grad_tensors: Option<&Bound<'_, PyAny>>,
    retain_graph: Option<bool>,
) -> PyResult<()> {
    let outs = tensor_list(tensors, "tensors")?;
    let gs = opt_tensor_list(grad_tensors, outs.len(), "grad_tensors")?;
    let mode = crate::GradMode::current();
    py.detach(move || {
        mode.scope(|| crate::autograd::engine::backward(&outs, &gs, retain_graph.unwrap_or(false)))
    })?;
    Ok(())
}

/// Mean cross-entropy of logits against int64 class indices.
#[pyfunction]
pub fn cross_entropy(
    py: Python<'_>,
    input: &Bound<'_, PyTensor>,
    target: &Bound<'_, PyAny>,
) -> PyResult<Py<PyAny>> {
    let target = match target.cast::<PyTensor>() {
        Ok(t) => t.get().inner.clone(),
        Err(_) => tensor_from_py(target, None)?,
    };
    let x = &input.get().inner;
    PyTensor::wrap(py, compute(py, x.numel(), || x.cross_entropy(&target))?)
}

#[pyfunction]
pub fn dtype_of(obj: &Bound<'_, PyAny>) -> PyResult<super::convert::PyDType> {
    Ok(super::convert::PyDType(extract_dtype(obj)?))
}
