//! Python values to tensors and back: scalars, nested sequences and NumPy arrays in; NumPy
//! arrays, Python numbers and lists out. dtype objects and arguments.

use super::tensor::PyTensor;
use crate::dtype::{DType, Element, Scalar};
use crate::error::Error;
use crate::tensor::Tensor;
use numpy::{IntoPyArray, PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString};

/// `ferrograd.float32` and friends.
#[pyclass(
    name = "dtype",
    module = "ferrograd",
    frozen,
    eq,
    hash,
    skip_from_py_object
)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PyDType(pub DType);

#[pymethods]
impl PyDType {
    fn __repr__(&self) -> String {
        format!("ferrograd.{}", self.0.name())
    }

    #[getter]
    fn is_floating_point(&self) -> bool {
        self.0.is_float()
    }

    #[getter]
    fn itemsize(&self) -> usize {
        self.0.size_in_bytes()
    }

    /// The matching NumPy dtype name.
    #[getter]
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn __reduce__(&self) -> (String,) {
        (format!("ferrograd.{}", self.0.name()),)
    }
}

/// A dtype argument: a `ferrograd.dtype`, a name (`"float32"`), a NumPy dtype, or `float`/
/// `int`/`bool`.
pub fn extract_dtype(obj: &Bound<'_, PyAny>) -> PyResult<DType> {
    if let Ok(d) = obj.cast::<PyDType>() {
        return Ok(d.get().0);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        let s = s.to_str()?;
        return DType::parse(s.strip_prefix("ferrograd.").unwrap_or(s)).ok_or_else(|| {
            PyTypeError::new_err(format!(
                "unknown dtype {s:?}; expected float32, float64, int64 or bool"
            ))
        });
    }
    let py = obj.py();
    let builtins = py.import("builtins")?;
    if obj.is(&builtins.getattr("float")?) {
        return Ok(DType::F64);
    }
    if obj.is(&builtins.getattr("int")?) {
        return Ok(DType::I64);
    }
    if obj.is(&builtins.getattr("bool")?) {
        return Ok(DType::Bool);
    }
    if let Ok(np_dtype) = py.import("numpy")?.getattr("dtype")?.call1((obj,)) {
        let name: String = np_dtype.getattr("name")?.extract()?;
        if let Some(d) = DType::parse(&name) {
            return Ok(d);
        }
    }
    Err(PyTypeError::new_err(format!(
        "dtype must be a ferrograd dtype (ferrograd.float32, float64, int64 or bool), got {}",
        obj.repr()?
    )))
}

pub fn opt_dtype(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<DType>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => extract_dtype(o).map(Some),
    }
}

/// A Python bool, int or float (not a tensor, not a NumPy array).
pub fn extract_scalar(obj: &Bound<'_, PyAny>) -> Option<Scalar> {
    if obj.is_instance_of::<PyBool>() {
        return obj.extract::<bool>().ok().map(Scalar::Bool);
    }
    if obj.is_instance_of::<PyInt>() {
        return obj.extract::<i64>().ok().map(Scalar::Int);
    }
    if obj.is_instance_of::<PyFloat>() {
        return obj.extract::<f64>().ok().map(Scalar::Float);
    }
    // NumPy scalars (np.float32(1.0), np.int64(3)).
    let ty = obj.get_type();
    let module: String = ty
        .getattr("__module__")
        .and_then(|m| m.extract())
        .unwrap_or_default();
    if module == "numpy"
        && obj.hasattr("dtype").unwrap_or(false)
        && obj.getattr("ndim").and_then(|n| n.extract::<usize>()).ok() == Some(0)
    {
        let kind: String = obj
            .getattr("dtype")
            .and_then(|d| d.getattr("kind"))
            .and_then(|k| k.extract())
            .unwrap_or_default();
        return match kind.as_str() {
            "b" => obj.extract::<bool>().ok().map(Scalar::Bool),
            "i" | "u" => obj.extract::<i64>().ok().map(Scalar::Int),
            "f" => obj.extract::<f64>().ok().map(Scalar::Float),
            _ => None,
        };
    }
    None
}

fn array_to_tensor<T: Element + numpy::Element>(arr: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    let arr = arr.cast::<PyArrayDyn<T>>()?;
    let shape: Vec<usize> = arr.shape().to_vec();
    let ro = arr.readonly();
    let data = match ro.as_slice() {
        Ok(s) => s.to_vec(),
        Err(_) => ro.as_array().iter().copied().collect(),
    };
    Ok(Tensor::from_vec(data, &shape)?)
}

/// Any array-like (nested sequences, NumPy arrays, scalars) as a new tensor. Python floats
/// become float32 unless `dtype` says otherwise; a float64 NumPy array stays float64.
pub fn tensor_from_py(obj: &Bound<'_, PyAny>, dtype: Option<DType>) -> PyResult<Tensor> {
    let py = obj.py();
    if let Ok(t) = obj.cast::<PyTensor>() {
        let t = t.get().inner.detach().contiguous_copy()?;
        return Ok(match dtype {
            Some(d) => t.to_dtype(d)?,
            None => t,
        });
    }
    let np = py.import("numpy")?;
    // A NumPy scalar carries a dtype, like a 0-d array (np.float64(1) stays float64).
    let is_np_scalar = obj.is_instance(&np.getattr("generic")?)?;
    let is_array = obj.is_instance(&np.getattr("ndarray")?)?;
    if !is_np_scalar
        && !is_array
        && let Some(s) = extract_scalar(obj)
    {
        return Ok(Tensor::scalar_of(s, dtype.unwrap_or(s.default_dtype())));
    }
    let is_ndarray = is_np_scalar || is_array;
    let arr = if is_np_scalar {
        np.call_method1("asarray", (obj,))?
    } else if is_ndarray {
        obj.clone()
    } else {
        // Sequences may hold 0-d tensors: turn them into numbers first.
        let converted = unwrap_tensors(obj)?;
        np.call_method1("asarray", (converted,)).map_err(|e| {
            PyTypeError::new_err(format!(
                "could not convert {} to a tensor: {}",
                obj.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                e
            ))
        })?
    };
    let kind: String = arr.getattr("dtype")?.getattr("kind")?.extract()?;
    let itemsize: usize = arr.getattr("dtype")?.getattr("itemsize")?.extract()?;
    if kind == "u" && itemsize == 8 && dtype != Some(DType::Bool) {
        // uint64 values above int64's range would wrap silently in the cast below.
        let too_big: bool = arr
            .call_method1("__gt__", (i64::MAX,))?
            .call_method0("any")?
            .extract()?;
        if too_big {
            return Err(Error::invalid(
                "tensor",
                "a uint64 value does not fit in int64 (the widest integer dtype here)",
            )
            .into());
        }
    }
    // Sequences: each element's own type decides (NumPy scalars and tensors keep their
    // dtype, Python floats are float32), promoted across elements as PyTorch does.
    let from_elements = if is_ndarray {
        None
    } else {
        infer_sequence_dtype(obj)?
    };
    let natural = match kind.as_str() {
        _ if from_elements.is_some() => from_elements.expect("checked"),
        "f" if itemsize == 8 && is_ndarray => DType::F64,
        "f" => DType::F32,
        "i" | "u" => DType::I64,
        "b" => DType::Bool,
        _ => {
            return Err(PyTypeError::new_err(format!(
                "can't convert an array of dtype {} to a tensor; supported: float32, float64, integers and bool",
                arr.getattr("dtype")?.repr()?
            )));
        }
    };
    let target = dtype.unwrap_or(natural);
    let np_name = match target {
        DType::F32 => "float32",
        DType::F64 => "float64",
        DType::I64 => "int64",
        DType::Bool => "bool",
    };
    // Not ascontiguousarray: it turns 0-d arrays into 1-d ones.
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("dtype", np_name)?;
    kwargs.set_item("order", "C")?;
    let arr = np.call_method("asarray", (arr,), Some(&kwargs))?;
    match target {
        DType::F32 => array_to_tensor::<f32>(&arr),
        DType::F64 => array_to_tensor::<f64>(&arr),
        DType::I64 => array_to_tensor::<i64>(&arr),
        DType::Bool => array_to_tensor::<bool>(&arr),
    }
}

/// The dtype of a NumPy array or scalar (None for kinds a tensor cannot hold).
fn numpy_dtype(obj: &Bound<'_, PyAny>) -> PyResult<Option<DType>> {
    let d = obj.getattr("dtype")?;
    let kind: String = d.getattr("kind")?.extract()?;
    let itemsize: usize = d.getattr("itemsize")?.extract()?;
    Ok(match kind.as_str() {
        "f" if itemsize == 8 => Some(DType::F64),
        "f" => Some(DType::F32),
        "i" | "u" => Some(DType::I64),
        "b" => Some(DType::Bool),
        _ => None,
    })
}

/// The promoted dtype of the leaves of a nested list/tuple, or None when some leaf has no
/// dtype of its own (then NumPy's conversion reports the problem).
fn infer_sequence_dtype(obj: &Bound<'_, PyAny>) -> PyResult<Option<DType>> {
    fn walk(
        obj: &Bound<'_, PyAny>,
        np: &Bound<'_, PyModule>,
        acc: &mut Option<DType>,
    ) -> PyResult<bool> {
        let leaf = if let Ok(t) = obj.cast::<PyTensor>() {
            Some(t.get().inner.dtype())
        } else if obj.is_instance(&np.getattr("ndarray")?)?
            || obj.is_instance(&np.getattr("generic")?)?
        {
            match numpy_dtype(obj)? {
                Some(d) => Some(d),
                None => return Ok(false),
            }
        } else if obj.is_instance_of::<pyo3::types::PyList>()
            || obj.is_instance_of::<pyo3::types::PyTuple>()
        {
            for item in obj.try_iter()? {
                if !walk(&item?, np, acc)? {
                    return Ok(false);
                }
            }
            None
        } else if let Some(s) = extract_scalar(obj) {
            Some(s.default_dtype())
        } else {
            return Ok(false);
        };
        if let Some(d) = leaf {
            *acc = Some(acc.map_or(d, |a| DType::promote(a, d)));
        }
        Ok(true)
    }
    let np = obj.py().import("numpy")?;
    let mut acc = None;
    Ok(if walk(obj, &np, &mut acc)? { acc } else { None })
}

fn unwrap_tensors(obj: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let py = obj.py();
    if let Ok(t) = obj.cast::<PyTensor>() {
        return super::tensor::to_python_list(py, &t.get().inner);
    }
    if let Ok(list) = obj.cast::<pyo3::types::PyList>() {
        let items: PyResult<Vec<Py<PyAny>>> = list.iter().map(|x| unwrap_tensors(&x)).collect();
        return Ok(pyo3::types::PyList::new(py, items?)?.into_any().unbind());
    }
    if let Ok(tuple) = obj.cast::<pyo3::types::PyTuple>() {
        let items: PyResult<Vec<Py<PyAny>>> = tuple.iter().map(|x| unwrap_tensors(&x)).collect();
        return Ok(pyo3::types::PyList::new(py, items?)?.into_any().unbind());
    }
    Ok(obj.clone().unbind())
}

/// The tensor's elements as a new NumPy array.
pub fn tensor_to_numpy<'py>(py: Python<'py>, t: &Tensor) -> PyResult<Bound<'py, PyAny>> {
    fn build<'py, T: Element + numpy::Element>(
        py: Python<'py>,
        t: &Tensor,
    ) -> PyResult<Bound<'py, PyAny>> {
        let v = t.to_vec::<T>()?;
        let arr = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(t.shape()), v)
            .map_err(|e| Error::invalid("numpy", e.to_string()))?;
        Ok(arr.into_pyarray(py).into_any())
    }
    match t.dtype() {
        DType::F32 => build::<f32>(py, t),
        DType::F64 => build::<f64>(py, t),
        DType::I64 => build::<i64>(py, t),
        DType::Bool => build::<bool>(py, t),
    }
}

/// A shape given as `(2, 3)`, `[2, 3]`, or as separate ints `f(2, 3)`.
pub fn extract_shape(args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<Vec<isize>> {
    if args.len() == 1 {
        let first = args.get_item(0)?;
        if !first.is_instance_of::<PyInt>() {
            return first.extract::<Vec<isize>>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "shape must be a sequence of ints, got {}",
                    first.repr().map(|r| r.to_string()).unwrap_or_default()
                ))
            });
        }
    }
    args.iter()
        .map(|a| {
            a.extract::<isize>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "shape entries must be ints, got {}",
                    a.repr().map(|r| r.to_string()).unwrap_or_default()
                ))
            })
        })
        .collect()
}

pub fn usize_shape(op: &'static str, shape: &[isize]) -> PyResult<Vec<usize>> {
    shape
        .iter()
        .map(|&d| {
            if d < 0 {
                Err(Error::invalid(op, format!("negative dimension {d} in shape {shape:?}")).into())
            } else {
                Ok(d as usize)
            }
        })
        .collect()
}
