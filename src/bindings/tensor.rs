//! `ferrograd.Tensor`: the Python face of [`Tensor`]. Thin: every method converts arguments,
//! calls the core (releasing the GIL for large work) and wraps the result.

use super::convert::{
    PyDType, extract_dtype, extract_scalar, extract_shape, opt_dtype, tensor_from_py,
    tensor_to_numpy,
};
use crate::dtype::{DType, Scalar};
use crate::ops::binary::{BinaryOp, binary, binary_scalar};
use crate::tensor::Tensor;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyTuple};
use std::sync::Arc;

/// Work (elements touched) above which a call releases the GIL while it computes.
const DETACH_MIN: usize = 1 << 15;

/// Runs `f` without the GIL when the work is large enough to be worth the switch.
pub fn compute<R: Send>(py: Python<'_>, work: usize, f: impl FnOnce() -> R + Send) -> R {
    if work >= DETACH_MIN {
        py.detach(f)
    } else {
        f()
    }
}

#[pyclass(
    name = "Tensor",
    module = "ferrograd",
    subclass,
    frozen,
    weakref,
    skip_from_py_object
)]
pub struct PyTensor {
    pub inner: Tensor,
}

impl PyTensor {
    pub fn wrap(py: Python<'_>, t: Tensor) -> PyResult<Py<PyAny>> {
        Ok(Py::new(py, PyTensor { inner: t })?.into_any())
    }
}

/// The node behind `tensor.grad_fn`.
#[pyclass(name = "GradFn", module = "ferrograd.autograd", frozen)]
pub struct PyGradFn {
    node: Arc<crate::autograd::node::Node>,
}

#[pymethods]
impl PyGradFn {
    fn name(&self) -> &'static str {
        self.node.name()
    }

    /// `((GradFn or None, 0), ...)` for each input of the op, as in PyTorch.
    #[getter]
    fn next_functions(&self, py: Python<'_>) -> PyResult<Py<PyTuple>> {
        let items: Vec<Py<PyAny>> = self
            .node
            .next_functions()
            .map(|n| -> PyResult<Py<PyAny>> {
                let f = match n {
                    Some(n) => Py::new(py, PyGradFn { node: n.clone() })?.into_any(),
                    None => py.None(),
                };
                Ok(
                    PyTuple::new(py, [f, 0i64.into_pyobject(py)?.into_any().unbind()])?
                        .into_any()
                        .unbind(),
                )
            })
            .collect::<PyResult<_>>()?;
        Ok(PyTuple::new(py, items)?.unbind())
    }

    fn __repr__(&self) -> String {
        format!("<{} object>", self.node.name())
    }
}

/// The right-hand side of an arithmetic op.
pub enum Operand {
    Tensor(Tensor),
    Scalar(Scalar),
}

pub fn operand(obj: &Bound<'_, PyAny>) -> PyResult<Option<Operand>> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(Some(Operand::Tensor(t.get().inner.clone())));
    }
    if let Some(s) = extract_scalar(obj) {
        return Ok(Some(Operand::Scalar(s)));
    }
    let np = obj.py().import("numpy")?;
    if obj.is_instance(&np.getattr("ndarray")?)? {
        return Ok(Some(Operand::Tensor(tensor_from_py(obj, None)?)));
    }
    Ok(None)
}

pub fn tensor_arg(obj: &Bound<'_, PyAny>, op: &str) -> PyResult<Tensor> {
    match operand(obj)? {
        Some(Operand::Tensor(t)) => Ok(t),
        Some(Operand::Scalar(s)) => Ok(Tensor::scalar_of(s, s.default_dtype())),
        None => Err(PyTypeError::new_err(format!(
            "{op}(): argument must be a Tensor or a number, not {}",
            obj.get_type().name()?
        ))),
    }
}

/// `dim` from either `dim=` or its alias `axis=`.
pub(crate) fn dim_arg<'py>(
    dim: Option<Bound<'py, PyAny>>,
    axis: Option<Bound<'py, PyAny>>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    match (dim, axis) {
        (Some(_), Some(_)) => Err(PyTypeError::new_err("got both dim= and its alias axis=")),
        (d, a) => Ok(d.or(a).filter(|o| !o.is_none())),
    }
}

pub(crate) fn dims_list(obj: &Bound<'_, PyAny>) -> PyResult<Vec<isize>> {
    if let Ok(d) = obj.extract::<isize>() {
        return Ok(vec![d]);
    }
    obj.extract::<Vec<isize>>()
        .map_err(|_| PyTypeError::new_err("dim must be an int or a tuple of ints"))
}

pub(crate) fn return_types(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static CLS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    Ok(CLS
        .get_or_try_init(py, || -> PyResult<Py<PyAny>> {
            let nt = py.import("collections")?.getattr("namedtuple")?;
            Ok(nt.call1(("return_types", ("values", "indices")))?.unbind())
        })?
        .bind(py))
}

pub fn to_python_list(py: Python<'_>, t: &Tensor) -> PyResult<Py<PyAny>> {
    let arr = tensor_to_numpy(py, t)?;
    Ok(arr.call_method0("tolist")?.unbind())
}

macro_rules! unary_methods {
    ($($name:ident),*) => {
        #[pymethods]
        impl PyTensor {$(
            fn $name(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                let t = &self.inner;
                PyTensor::wrap(py, compute(py, t.numel(), || t.$name())?)
            }
        )*}
    };
}

unary_methods!(exp, log, sqrt, tanh, sigmoid, relu, neg, abs);

impl PyTensor {
    fn binop(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        op: BinaryOp,
        reversed: bool,
    ) -> PyResult<Py<PyAny>> {
        let a = &self.inner;
        let tensor_op = |b: &Tensor| {
            let work = a.numel().max(b.numel());
            compute(py, work, || {
                if reversed {
                    binary(op, b, a)
                } else {
                    binary(op, a, b)
                }
            })
        };
        // A Tensor operand is borrowed: the per-op path takes no reference on it.
        if let Ok(t) = other.cast::<PyTensor>() {
            return PyTensor::wrap(py, tensor_op(&t.get().inner)?);
        }
        let out = match operand(other)? {
            Some(Operand::Tensor(b)) => tensor_op(&b)?,
            Some(Operand::Scalar(s)) => {
                compute(py, a.numel(), || binary_scalar(op, a, s, reversed))?
            }
            None => return Ok(py.NotImplemented()),
        };
        PyTensor::wrap(py, out)
    }

    fn cmp(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        op: crate::ops::cmp::CmpOp,
    ) -> PyResult<Py<PyAny>> {
        let a = &self.inner;
        let b = match operand(other)? {
            Some(Operand::Tensor(b)) => b,
            Some(Operand::Scalar(s)) => crate::ops::binary::scalar_operand(a, s),
            None => return Ok(py.NotImplemented()),
        };
        PyTensor::wrap(
            py,
            compute(py, a.numel(), || crate::ops::cmp::compare(op, a, &b))?,
        )
    }

    fn inplace(
        slf: &Bound<'_, Self>,
        other: &Bound<'_, PyAny>,
        op: BinaryOp,
        name: &str,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let a = &slf.get().inner;
        let b = match operand(other)? {
            Some(Operand::Tensor(b)) => b,
            Some(Operand::Scalar(s)) => crate::ops::binary::scalar_operand(a, s),
            None => {
                return Err(PyTypeError::new_err(format!(
                    "{name}(): argument 'other' must be a Tensor or a number, not {}",
                    other.get_type().name()?
                )));
            }
        };
        compute(py, a.numel(), || match op {
            BinaryOp::Add => a.add_(&b).map(|_| ()),
            BinaryOp::Sub => a.sub_(&b).map(|_| ()),
            BinaryOp::Mul => a.mul_(&b).map(|_| ()),
            BinaryOp::Div => a.div_(&b).map(|_| ()),
            _ => unreachable!("no in-place form"),
        })?;
        Ok(slf.clone().into_any().unbind())
    }
}

#[pymethods]
impl PyTensor {
    #[new]
    #[pyo3(signature = (data = None, *, dtype = None, requires_grad = false))]
    fn py_new(
        data: Option<&Bound<'_, PyAny>>,
        dtype: Option<&Bound<'_, PyAny>>,
        requires_grad: bool,
    ) -> PyResult<Self> {
        let dtype = opt_dtype(dtype)?;
        let t = match data {
            None => Tensor::zeros(&[0], dtype.unwrap_or(DType::F32))?,
            // Tensor(t) (and so Parameter(t)) shares t's storage, as in PyTorch.
            Some(d) => match d.cast::<PyTensor>() {
                Ok(t) => {
                    let t = t.get().inner.detach();
                    match dtype {
                        Some(dt) => t.to_dtype(dt)?,
                        None => t,
                    }
                }
                Err(_) => tensor_from_py(d, dtype)?,
            },
        };
        if requires_grad {
            t.set_requires_grad(true)?;
        }
        Ok(PyTensor { inner: t })
    }

    // ----- metadata -----

    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.shape())
    }

    #[pyo3(signature = (dim = None))]
    fn size<'py>(&self, py: Python<'py>, dim: Option<isize>) -> PyResult<Bound<'py, PyAny>> {
        match dim {
            None => Ok(PyTuple::new(py, self.inner.shape())?.into_any()),
            Some(d) => {
                let d = crate::shape::normalize_dim("size", d, self.inner.ndim())?;
                Ok(self.inner.shape()[d].into_pyobject(py)?.into_any())
            }
        }
    }

    fn stride<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.inner.strides())
    }

    fn storage_offset(&self) -> usize {
        self.inner.storage_offset()
    }

    #[getter]
    fn dtype(&self) -> PyDType {
        PyDType(self.inner.dtype())
    }

    #[getter]
    fn ndim(&self) -> usize {
        self.inner.ndim()
    }

    fn dim(&self) -> usize {
        self.inner.ndim()
    }

    fn numel(&self) -> usize {
        self.inner.numel()
    }

    fn element_size(&self) -> usize {
        self.inner.dtype().size_in_bytes()
    }

    fn is_floating_point(&self) -> bool {
        self.inner.dtype().is_float()
    }

    fn is_contiguous(&self) -> bool {
        self.inner.is_contiguous()
    }

    fn is_inference(&self) -> bool {
        self.inner.is_inference()
    }

    #[getter]
    fn _version(&self) -> PyResult<u64> {
        if self.inner.is_inference() {
            return Err(super::errors::AutogradError::new_err(
                "Inference tensors do not track version counter.",
            ));
        }
        Ok(self.inner.version())
    }

    #[getter]
    fn device(&self) -> &'static str {
        "cpu"
    }

    fn __len__(&self) -> PyResult<usize> {
        self.inner
            .shape()
            .first()
            .copied()
            .ok_or_else(|| PyTypeError::new_err("len() of a 0-d tensor"))
    }

    fn __repr__(&self) -> String {
        self.inner.to_pytorch_string()
    }

    fn __hash__(slf: &Bound<'_, Self>) -> isize {
        slf.as_ptr() as isize
    }

    fn __bool__(&self) -> PyResult<bool> {
        if self.inner.numel() != 1 {
            return Err(PyValueError::new_err(format!(
                "Boolean value of Tensor with more than one value is ambiguous (shape {:?})",
                self.inner.shape()
            )));
        }
        Ok(self.inner.item()?.as_f64() != 0.0)
    }

    fn __float__(&self) -> PyResult<f64> {
        Ok(self.inner.item()?.as_f64())
    }

    fn __int__(&self) -> PyResult<i64> {
        Ok(match self.inner.item()? {
            Scalar::Int(i) => i,
            Scalar::Bool(b) => b as i64,
            Scalar::Float(f) => f.trunc() as i64,
        })
    }

    fn __index__(&self) -> PyResult<i64> {
        match (self.inner.dtype(), self.inner.numel()) {
            (DType::I64 | DType::Bool, 1) => self.__int__(),
            _ => Err(PyTypeError::new_err(
                "only integer tensors of a single element can be converted to an index",
            )),
        }
    }

    // ----- data out -----

    fn item(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(match self.inner.item()? {
            Scalar::Bool(b) => b.into_pyobject(py)?.to_owned().into_any().unbind(),
            Scalar::Int(i) => i.into_pyobject(py)?.into_any().unbind(),
            Scalar::Float(f) => f.into_pyobject(py)?.into_any().unbind(),
        })
    }

    fn tolist(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_python_list(py, &self.inner)
    }

    /// A NumPy copy of the data. Refused for tensors that require grad while grad mode is on.
    fn numpy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if self.inner.requires_grad() && crate::is_grad_enabled() {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.",
            ));
        }
        tensor_to_numpy(py, &self.inner)
    }

    #[pyo3(signature = (dtype = None, copy = None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<&Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = copy;
        let arr = self.numpy(py)?;
        match dtype {
            Some(d) if !d.is_none() => arr.call_method1("astype", (d,)),
            _ => Ok(arr),
        }
    }

    // ----- autograd state -----

    #[getter]
    fn get_requires_grad(&self) -> bool {
        self.inner.requires_grad()
    }

    #[setter]
    fn set_requires_grad(&self, value: bool) -> PyResult<()> {
        self.inner.set_requires_grad(value)?;
        Ok(())
    }

    #[pyo3(signature = (requires_grad = true))]
    fn requires_grad_(slf: &Bound<'_, Self>, requires_grad: bool) -> PyResult<Py<PyAny>> {
        slf.get().inner.set_requires_grad(requires_grad)?;
        Ok(slf.clone().into_any().unbind())
    }

    #[getter]
    fn is_leaf(&self) -> bool {
        self.inner.is_leaf()
    }

    #[getter]
    fn grad_fn(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.inner.grad_fn() {
            Some(node) => Ok(Py::new(py, PyGradFn { node })?.into_any()),
            None => Ok(py.None()),
        }
    }

    #[getter(grad)]
    fn get_grad(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.inner.grad() {
            Some(g) => PyTensor::wrap(py, g),
            None => Ok(py.None()),
        }
    }

    #[setter(grad)]
    fn set_grad(&self, value: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let g = match value {
            None => None,
            Some(v) if v.is_none() => None,
            Some(v) => Some(
                v.cast::<PyTensor>()
                    .map_err(|_| PyTypeError::new_err("assigned grad must be a Tensor or None"))?
                    .get()
                    .inner
                    .detach(),
            ),
        };
        self.inner.set_grad(g)?;
        Ok(())
    }

    fn retain_grad(&self) -> PyResult<()> {
        Ok(self.inner.retain_grad()?)
    }

    #[getter]
    fn retains_grad(&self) -> bool {
        self.inner.retains_grad()
    }

    fn detach(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.detach())
    }

    /// The data without history (shares storage).
    #[getter]
    fn data(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.detach())
    }

    #[pyo3(signature = (gradient = None, retain_graph = None, create_graph = false, inputs = None))]
    fn backward(
        &self,
        py: Python<'_>,
        gradient: Option<&Bound<'_, PyAny>>,
        retain_graph: Option<bool>,
        create_graph: bool,
        inputs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        if create_graph {
            return Err(pyo3::exceptions::PyNotImplementedError::new_err(
                "create_graph=True (higher-order gradients) is not supported yet",
            ));
        }
        if inputs.is_some_and(|i| !i.is_none()) {
            return Err(pyo3::exceptions::PyNotImplementedError::new_err(
                "backward(inputs=...) is not supported yet; use ferrograd.autograd.grad",
            ));
        }
        let g = match gradient {
            Some(g) if !g.is_none() => Some(tensor_arg(g, "backward")?),
            _ => None,
        };
        let t = self.inner.clone();
        let retain = retain_graph.unwrap_or(false);
        let mode = crate::GradMode::current();
        py.detach(move || mode.scope(|| crate::autograd::engine::backward(&[t], &[g], retain)))?;
        Ok(())
    }

    // ----- conversion -----

    #[pyo3(signature = (*args, dtype = None))]
    fn to(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        dtype: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let mut target = opt_dtype(dtype)?;
        for a in args.iter() {
            if let Ok(s) = a.extract::<String>()
                && s == "cpu"
            {
                continue;
            }
            if a.is_none() {
                continue;
            }
            target = Some(extract_dtype(&a)?);
        }
        match target {
            Some(d) => PyTensor::wrap(py, self.inner.to_dtype(d)?),
            None => PyTensor::wrap(py, self.inner.clone()),
        }
    }

    fn float(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.to_dtype(DType::F32)?)
    }
    fn double(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.to_dtype(DType::F64)?)
    }
    fn long(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.to_dtype(DType::I64)?)
    }
    fn int(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.to_dtype(DType::I64)?)
    }
    fn bool(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.to_dtype(DType::Bool)?)
    }

    fn clone(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let t = &self.inner;
        PyTensor::wrap(py, compute(py, t.numel(), || t.clone_tensor())?)
    }

    fn contiguous(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.contiguous()?)
    }

    // ----- arithmetic -----

    fn __add__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binop(py, o, BinaryOp::Add, false)
    }
    fn __radd__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binop(py, o, BinaryOp::Add, true)
    }
    fn __sub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binop(py, o, BinaryOp::Sub, false)
    }
    fn __rsub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binop(py, o, BinaryOp::Sub, true)
    }
    fn __mul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binop(py, o, BinaryOp::Mul, false)
    }
    fn __rmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binop(py, o, BinaryOp::Mul, true)
    }
    fn __truediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binop(py, o, BinaryOp::Div, false)
    }
    fn __rtruediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binop(py, o, BinaryOp::Div, true)
    }
    fn __pow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        _modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.binop(py, o, BinaryOp::Pow, false)
    }
    fn __rpow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        _modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.binop(py, o, BinaryOp::Pow, true)
    }
    fn __matmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let Some(Operand::Tensor(b)) = operand(o)? else {
            return Ok(py.NotImplemented());
        };
        let a = &self.inner;
        let work = a.numel().max(b.numel()) * a.shape().last().copied().unwrap_or(1);
        PyTensor::wrap(py, compute(py, work, || a.matmul(&b))?)
    }
    fn __rmatmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let Some(Operand::Tensor(a)) = operand(o)? else {
            return Ok(py.NotImplemented());
        };
        let b = &self.inner;
        PyTensor::wrap(py, compute(py, a.numel().max(b.numel()), || a.matmul(b))?)
    }
    fn __neg__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.neg(py)
    }
    fn __pos__(slf: &Bound<'_, Self>) -> Py<PyAny> {
        slf.clone().into_any().unbind()
    }
    fn __abs__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.abs(py)
    }

    fn __iadd__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<()> {
        PyTensor::inplace(slf, o, BinaryOp::Add, "add_").map(|_| ())
    }
    fn __isub__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<()> {
        PyTensor::inplace(slf, o, BinaryOp::Sub, "sub_").map(|_| ())
    }
    fn __imul__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<()> {
        PyTensor::inplace(slf, o, BinaryOp::Mul, "mul_").map(|_| ())
    }
    fn __itruediv__(slf: &Bound<'_, Self>, o: &Bound<'_, PyAny>) -> PyResult<()> {
        PyTensor::inplace(slf, o, BinaryOp::Div, "div_").map(|_| ())
    }

    fn mul(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binop_required(py, other, BinaryOp::Mul, "mul")
    }
    fn pow(&self, py: Python<'_>, exponent: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binop_required(py, exponent, BinaryOp::Pow, "pow")
    }
    fn maximum(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binop_required(py, other, BinaryOp::Maximum, "maximum")
    }
    fn minimum(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.binop_required(py, other, BinaryOp::Minimum, "minimum")
    }
    fn matmul(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let b = tensor_arg(other, "matmul")?;
        let a = &self.inner;
        PyTensor::wrap(py, compute(py, a.numel().max(b.numel()), || a.matmul(&b))?)
    }

    // ----- comparisons -----

    fn __eq__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.cmp(py, o, crate::ops::cmp::CmpOp::Eq)
    }
    fn __ne__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.cmp(py, o, crate::ops::cmp::CmpOp::Ne)
    }
    fn __lt__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.cmp(py, o, crate::ops::cmp::CmpOp::Lt)
    }
    fn __le__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.cmp(py, o, crate::ops::cmp::CmpOp::Le)
    }
    fn __gt__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.cmp(py, o, crate::ops::cmp::CmpOp::Gt)
    }
    fn __ge__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.cmp(py, o, crate::ops::cmp::CmpOp::Ge)
    }
    fn eq(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.cmp(py, o, crate::ops::cmp::CmpOp::Eq)
    }
    fn ne(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.cmp(py, o, crate::ops::cmp::CmpOp::Ne)
    }
    fn lt(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.cmp(py, o, crate::ops::cmp::CmpOp::Lt)
    }
    fn le(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.cmp(py, o, crate::ops::cmp::CmpOp::Le)
    }
    fn gt(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.cmp(py, o, crate::ops::cmp::CmpOp::Gt)
    }
    fn ge(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.cmp(py, o, crate::ops::cmp::CmpOp::Ge)
    }

    // ----- in-place -----

    #[pyo3(signature = (other, *, alpha = None))]
    fn add_<'py>(
        slf: &Bound<'py, Self>,
        other: &Bound<'py, PyAny>,
        alpha: Option<f64>,
    ) -> PyResult<Py<PyAny>> {
        match alpha {
            None => PyTensor::inplace(slf, other, BinaryOp::Add, "add_"),
            Some(a) => {
                let b = tensor_arg(other, "add_")?.mul_scalar(a)?;
                slf.get().inner.add_(&b)?;
                Ok(slf.clone().into_any().unbind())
            }
        }
    }
    fn mul_(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        PyTensor::inplace(slf, other, BinaryOp::Mul, "mul_")
    }
    fn div_(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        PyTensor::inplace(slf, other, BinaryOp::Div, "div_")
    }
    fn zero_(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        slf.get().inner.zero_()?;
        Ok(slf.clone().into_any().unbind())
    }
    fn fill_(slf: &Bound<'_, Self>, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let v = match extract_scalar(value) {
            Some(s) => s,
            None => match value.cast::<PyTensor>() {
                Ok(t) => t.get().inner.item()?,
                Err(_) => {
                    return Err(PyTypeError::new_err(
                        "fill_(): value must be a number or a one-element tensor",
                    ));
                }
            },
        };
        slf.get().inner.fill_(v)?;
        Ok(slf.clone().into_any().unbind())
    }
    fn copy_(slf: &Bound<'_, Self>, src: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let s = tensor_arg(src, "copy_")?;
        slf.get().inner.copy_(&s)?;
        Ok(slf.clone().into_any().unbind())
    }
    fn detach_(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let t = &slf.get().inner;
        let mut m = t.meta();
        m.grad_fn = None;
        m.requires_grad = false;
        drop(m);
        Ok(slf.clone().into_any().unbind())
    }

    // ----- reductions -----

    #[pyo3(signature = (dim = None, keepdim = false, *, axis = None, dtype = None))]
    fn sum(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        keepdim: bool,
        axis: Option<Bound<'_, PyAny>>,
        dtype: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let dims = dim_arg(dim, axis)?.map(|d| dims_list(&d)).transpose()?;
        let t = match opt_dtype(dtype)? {
            Some(d) => self.inner.to_dtype(d)?,
            None => self.inner.clone(),
        };
        PyTensor::wrap(
            py,
            compute(py, t.numel(), || t.sum_dims(dims.as_deref(), keepdim))?,
        )
    }

    #[pyo3(signature = (dim = None, keepdim = false, *, axis = None, dtype = None))]
    fn mean(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        keepdim: bool,
        axis: Option<Bound<'_, PyAny>>,
        dtype: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let dims = dim_arg(dim, axis)?.map(|d| dims_list(&d)).transpose()?;
        let t = match opt_dtype(dtype)? {
            Some(d) => self.inner.to_dtype(d)?,
            None => self.inner.clone(),
        };
        PyTensor::wrap(
            py,
            compute(py, t.numel(), || t.mean_dims(dims.as_deref(), keepdim))?,
        )
    }

    #[pyo3(signature = (dim = None, keepdim = false, *, axis = None))]
    fn max(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        keepdim: bool,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.extreme(py, dim_arg(dim, axis)?, keepdim, true)
    }

    #[pyo3(signature = (dim = None, keepdim = false, *, axis = None))]
    fn min(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        keepdim: bool,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.extreme(py, dim_arg(dim, axis)?, keepdim, false)
    }

    #[pyo3(signature = (dim = None, keepdim = false, *, axis = None))]
    fn argmax(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        keepdim: bool,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let d = dim_arg(dim, axis)?
            .map(|d| d.extract::<isize>())
            .transpose()?;
        PyTensor::wrap(py, self.inner.argmax(d, keepdim)?)
    }

    #[pyo3(signature = (dim = None, keepdim = false, *, axis = None))]
    fn argmin(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        keepdim: bool,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let d = dim_arg(dim, axis)?
            .map(|d| d.extract::<isize>())
            .transpose()?;
        PyTensor::wrap(py, self.inner.argmin(d, keepdim)?)
    }

    // ----- shape -----

    #[pyo3(signature = (*shape))]
    fn reshape(&self, py: Python<'_>, shape: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.reshape(&extract_shape(shape)?)?)
    }

    #[pyo3(signature = (*shape))]
    fn view(&self, py: Python<'_>, shape: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        if shape.len() == 1
            && let Ok(d) = extract_dtype(&shape.get_item(0)?)
            && !shape.get_item(0)?.is_instance_of::<pyo3::types::PyInt>()
        {
            return Err(PyTypeError::new_err(format!(
                "view(dtype) is not supported (asked for {d})"
            )));
        }
        PyTensor::wrap(py, self.inner.view(&extract_shape(shape)?)?)
    }

    fn view_as(&self, py: Python<'_>, other: &Bound<'_, PyTensor>) -> PyResult<Py<PyAny>> {
        let s: Vec<isize> = other
            .get()
            .inner
            .shape()
            .iter()
            .map(|&d| d as isize)
            .collect();
        PyTensor::wrap(py, self.inner.view(&s)?)
    }

    fn reshape_as(&self, py: Python<'_>, other: &Bound<'_, PyTensor>) -> PyResult<Py<PyAny>> {
        let s: Vec<isize> = other
            .get()
            .inner
            .shape()
            .iter()
            .map(|&d| d as isize)
            .collect();
        PyTensor::wrap(py, self.inner.reshape(&s)?)
    }

    #[pyo3(signature = (start_dim = 0, end_dim = -1))]
    fn flatten(&self, py: Python<'_>, start_dim: isize, end_dim: isize) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.flatten(start_dim, end_dim)?)
    }

    #[pyo3(signature = (dim0, dim1))]
    fn transpose(&self, py: Python<'_>, dim0: isize, dim1: isize) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.transpose(dim0, dim1)?)
    }

    fn t(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        if self.inner.ndim() > 2 {
            return Err(crate::error::Error::shape(
                "t",
                format!(
                    "t() expects a tensor with <= 2 dimensions, but self is {}D",
                    self.inner.ndim()
                ),
            )
            .into());
        }
        PyTensor::wrap(py, self.inner.t()?)
    }

    #[getter(T)]
    fn big_t(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.t()?)
    }

    #[getter(mT)]
    fn m_t(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.transpose(-1, -2)?)
    }

    #[pyo3(signature = (*dims))]
    fn permute(&self, py: Python<'_>, dims: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.permute(&extract_shape(dims)?)?)
    }

    #[pyo3(signature = (dim = None, *, axis = None))]
    fn unsqueeze(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let d = dim_arg(dim, axis)?
            .ok_or_else(|| PyTypeError::new_err("unsqueeze() missing required argument 'dim'"))?;
        PyTensor::wrap(py, self.inner.unsqueeze(d.extract::<isize>()?)?)
    }

    #[pyo3(signature = (dim = None, *, axis = None))]
    fn squeeze(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        axis: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        match dim_arg(dim, axis)? {
            None => PyTensor::wrap(py, self.inner.squeeze()?),
            Some(d) => PyTensor::wrap(py, self.inner.squeeze_dims(&dims_list(&d)?)?),
        }
    }

    #[pyo3(signature = (*shape))]
    fn expand(&self, py: Python<'_>, shape: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.expand(&extract_shape(shape)?)?)
    }

    fn expand_as(&self, py: Python<'_>, other: &Bound<'_, PyTensor>) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.expand_view(other.get().inner.shape())?)
    }

    #[pyo3(signature = (dim, start, length))]
    fn narrow(&self, py: Python<'_>, dim: isize, start: i64, length: usize) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.narrow(dim, start, length)?)
    }

    #[pyo3(signature = (dim, index))]
    fn select(&self, py: Python<'_>, dim: isize, index: i64) -> PyResult<Py<PyAny>> {
        PyTensor::wrap(py, self.inner.select(dim, index)?)
    }

    // ----- nn -----

    #[pyo3(signature = (dim = None, *, axis = None, dtype = None))]
    fn softmax(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        axis: Option<Bound<'_, PyAny>>,
        dtype: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let d = dim_arg(dim, axis)?
            .ok_or_else(|| PyTypeError::new_err("softmax() missing required argument 'dim'"))?
            .extract::<isize>()?;
        let t = match opt_dtype(dtype)? {
            Some(dt) => self.inner.to_dtype(dt)?,
            None => self.inner.clone(),
        };
        PyTensor::wrap(py, compute(py, t.numel(), || t.softmax(d))?)
    }

    #[pyo3(signature = (dim = None, *, axis = None, dtype = None))]
    fn log_softmax(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        axis: Option<Bound<'_, PyAny>>,
        dtype: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let d = dim_arg(dim, axis)?
            .ok_or_else(|| PyTypeError::new_err("log_softmax() missing required argument 'dim'"))?
            .extract::<isize>()?;
        let t = match opt_dtype(dtype)? {
            Some(dt) => self.inner.to_dtype(dt)?,
            None => self.inner.clone(),
        };
        PyTensor::wrap(py, compute(py, t.numel(), || t.log_softmax(d))?)
    }
}

impl PyTensor {
    fn binop_required(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        op: BinaryOp,
        name: &str,
    ) -> PyResult<Py<PyAny>> {
        let r = self.binop(py, other, op, false)?;
        if r.is(py.NotImplemented()) {
            return Err(PyTypeError::new_err(format!(
                "{name}(): argument 'other' must be a Tensor or a number, not {}",
                other.get_type().name()?
            )));
        }
        Ok(r)
    }

    fn extreme(
        &self,
        py: Python<'_>,
        dim: Option<Bound<'_, PyAny>>,
        keepdim: bool,
        largest: bool,
    ) -> PyResult<Py<PyAny>> {
        let t = &self.inner;
        match dim {
            None => PyTensor::wrap(py, if largest { t.max_all()? } else { t.min_all()? }),
            Some(d) => {
                if let Ok(other) = d.cast::<PyTensor>() {
                    // max(other) is the elementwise maximum, as in PyTorch.
                    let o = other.get().inner.clone();
                    return PyTensor::wrap(
                        py,
                        if largest {
                            t.maximum(&o)?
                        } else {
                            t.minimum(&o)?
                        },
                    );
                }
                let (v, i) = t.max_min_dim(d.extract::<isize>()?, keepdim, largest)?;
                let cls = return_types(py)?;
                Ok(cls
                    .call1((PyTensor::wrap(py, v)?, PyTensor::wrap(py, i)?))?
                    .unbind())
            }
        }
    }
}

/// A list of tensors from a Python sequence (for functions taking several).
pub fn tensor_list(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<Tensor>> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(vec![t.get().inner.clone()]);
    }
    let list: Vec<Bound<'_, PyAny>> = obj
        .try_iter()
        .map_err(|_| {
            PyTypeError::new_err(format!("{what} must be a Tensor or a sequence of Tensors"))
        })?
        .collect::<PyResult<_>>()?;
    list.iter()
        .map(|x| {
            x.cast::<PyTensor>()
                .map(|t| t.get().inner.clone())
                .map_err(|_| {
                    PyTypeError::new_err(format!(
                        "{what} must contain only Tensors, got {}",
                        x.get_type()
                            .name()
                            .map(|n| n.to_string())
                            .unwrap_or_default()
                    ))
                })
        })
        .collect()
}

pub fn opt_tensor_list(
    obj: Option<&Bound<'_, PyAny>>,
    n: usize,
    what: &str,
) -> PyResult<Vec<Option<Tensor>>> {
    match obj {
        None => Ok(vec![None; n]),
        Some(o) if o.is_none() => Ok(vec![None; n]),
        Some(o) => {
            if let Ok(t) = o.cast::<PyTensor>() {
                return Ok(vec![Some(t.get().inner.clone())]);
            }
            let items: Vec<Bound<'_, PyAny>> = o.try_iter()?.collect::<PyResult<_>>()?;
            items
                .iter()
                .map(|x| {
                    if x.is_none() {
                        Ok(None)
                    } else {
                        tensor_arg(x, what).map(Some)
                    }
                })
                .collect()
        }
    }
}

#[allow(dead_code)]
fn list_of(py: Python<'_>, v: Vec<Py<PyAny>>) -> PyResult<Py<PyList>> {
    Ok(PyList::new(py, v)?.unbind())
}
