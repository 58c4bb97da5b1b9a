//! The Python exception hierarchy and the mapping from core errors to it.

use crate::error::Error;
use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyTypeError};
use pyo3::prelude::*;

pyo3::create_exception!(
    ferrograd,
    FerrogradError,
    PyRuntimeError,
    "Base class of every ferrograd error."
);
pyo3::create_exception!(
    ferrograd,
    ShapeError,
    FerrogradError,
    "Shapes that do not fit an op."
);
pyo3::create_exception!(
    ferrograd,
    DTypeError,
    FerrogradError,
    "A dtype an op does not accept."
);
pyo3::create_exception!(
    ferrograd,
    AutogradError,
    FerrogradError,
    "Misuse of autograd."
);

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        let msg = e.to_string();
        match e {
            Error::Shape { .. } => ShapeError::new_err(msg),
            Error::DType { .. } => DTypeError::new_err(msg),
            Error::DimOutOfRange { .. } | Error::IndexOutOfRange { .. } | Error::Index { .. } => {
                PyIndexError::new_err(msg)
            }
            Error::InplaceModified { .. } | Error::Autograd(_) => AutogradError::new_err(msg),
            Error::Invalid { .. } => FerrogradError::new_err(msg),
            Error::Type { .. } => PyTypeError::new_err(msg),
        }
    }
}
